// OpenAPI document at /swagger/json and Swagger UI at /swagger, with the UI's own
// JavaScript and CSS embedded in the binary and served from /swagger/assets (no CDN).
import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import bundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import css from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import pkg from '../../package.json'

const assets: Record<string, { path: string; type: string }> = {
  'swagger-ui-bundle.js': { path: bundle, type: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { path: css, type: 'text/css; charset=utf-8' },
}

export const docs = new Elysia({ name: 'docs' })
  .use(
    openapi({
      path: '/swagger',
      specPath: '/swagger/json',
      provider: 'swagger-ui',
      swagger: {
        // Absolute, so that /swagger/ (trailing slash) finds the document too.
        ...({ url: '/swagger/json' } as object),
        cdn: '/swagger/assets/swagger-ui-bundle.js',
        theme: '/swagger/assets/swagger-ui.css',
        autoDarkMode: false,
      },
      exclude: { paths: [/^\/swagger/, /^\/admin/] },
      documentation: {
        info: {
          title: 'AI Studio backend',
          version: pkg.version,
          description: 'An OpenAI-compatible gateway in front of Ollama, with accounts, request analytics and protection.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer', description: 'A JWT access token or an API key (sk-studio-…)' },
          },
        },
        security: [{ bearer: [] }],
      },
    }),
  )
  .get(
    '/swagger/assets/:name',
    ({ params, status }) => {
      const asset = assets[params.name]
      if (!asset) return status(404, 'No such asset')
      return new Response(Bun.file(asset.path), {
        headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' },
      })
    },
    { detail: { hide: true } },
  )
