// OpenAPI document at /swagger/json and Swagger UI at /swagger, with the UI's own
// JavaScript and CSS embedded in the binary and served from /swagger/assets (no CDN).
// The page is ours rather than the plugin's: the plugin's cached page Response breaks once
// global hooks add headers, and its inline script would need 'unsafe-inline' in the CSP.
import { Elysia } from 'elysia'
import bundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import css from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }
import pkg from '../../package.json'
import { openApiDocument } from './document'
import { swaggerInit, swaggerPage } from './page'

const assets: Record<string, { body: () => Blob | string; type: string }> = {
  'swagger-ui-bundle.js': { body: () => Bun.file(bundle), type: 'text/javascript; charset=utf-8' },
  'swagger-ui.css': { body: () => Bun.file(css), type: 'text/css; charset=utf-8' },
  'init.js': { body: () => swaggerInit, type: 'text/javascript; charset=utf-8' },
}

const documentation = {
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
}

const plugin = new Elysia({ name: 'docs' })
const openApi = openApiDocument(plugin, documentation, { paths: [/^\/swagger/, /^\/admin/] })

export const docs = plugin
  .get('/swagger/json', () => openApi(), { detail: { hide: true } })
  .get('/swagger', () => new Response(swaggerPage, { headers: { 'content-type': 'text/html; charset=utf-8' } }), {
    detail: { hide: true },
  })
  .get(
    '/swagger/assets/:name',
    ({ params, status }) => {
      const asset = Object.hasOwn(assets, params.name) ? assets[params.name] : undefined
      if (!asset) return status(404, 'No such asset')
      return new Response(asset.body(), {
        headers: { 'content-type': asset.type, 'cache-control': 'public, max-age=86400' },
      })
    },
    { detail: { hide: true } },
  )
