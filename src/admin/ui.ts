// Serves the admin web UI: one HTML shell for /admin and every client-side route under it,
// and its browser modules, stylesheet and Chart.js, all embedded in the binary (no CDN, no build).
import { Elysia } from 'elysia'
import chartJs from '../../node_modules/chart.js/dist/chart.umd.js' with { type: 'file' }
import api from './ui/api.js' with { type: 'file' }
import app from './ui/app.js' with { type: 'file' }
import budgets from './ui/budgets.js' with { type: 'file' }
import audit from './ui/audit.js' with { type: 'file' }
import charts from './ui/charts.js' with { type: 'file' }
import dom from './ui/dom.js' with { type: 'file' }
import feedback from './ui/feedback.js' with { type: 'file' }
import shell from './ui/index.html' with { type: 'file' }
import keys from './ui/keys.js' with { type: 'file' }
import list from './ui/list.js' with { type: 'file' }
import logs from './ui/logs.js' with { type: 'file' }
import overview from './ui/overview.js' with { type: 'file' }
import signIn from './ui/sign-in.js' with { type: 'file' }
import style from './ui/style.css' with { type: 'file' }
import threats from './ui/threats.js' with { type: 'file' }
import users from './ui/users.js' with { type: 'file' }
import userKeys from './ui/user-keys.js' with { type: 'file' }

const js = (path: string) => ({ path, type: 'text/javascript; charset=utf-8' })
const assets: Record<string, { path: string; type: string }> = {
  'style.css': { path: style, type: 'text/css; charset=utf-8' },
  'chart.umd.js': js(chartJs),
  'api.js': js(api),
  'app.js': js(app),
  'budgets.js': js(budgets),
  'audit.js': js(audit),
  'charts.js': js(charts),
  'dom.js': js(dom),
  'feedback.js': js(feedback),
  'keys.js': js(keys),
  'list.js': js(list),
  'logs.js': js(logs),
  'overview.js': js(overview),
  'sign-in.js': js(signIn),
  'threats.js': js(threats),
  'users.js': js(users),
  'user-keys.js': js(userKeys),
}

/** Revalidated on every load (no-cache) but answered 304 while unchanged, so upgrades show at once. */
const etags = new Map<string, Promise<string>>()
const etagOf = (path: string) => {
  let etag = etags.get(path)
  if (!etag) etags.set(path, (etag = Bun.file(path).bytes().then((bytes) => `"${Bun.hash(bytes).toString(36)}"`)))
  return etag
}

async function serveFile(request: Request, path: string, type: string) {
  const etag = await etagOf(path)
  const headers = { 'content-type': type, 'cache-control': 'no-cache', etag }
  if (request.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers })
  return new Response(Bun.file(path), { headers })
}

const page = ({ request }: { request: Request }) => serveFile(request, shell, 'text/html; charset=utf-8')

export const adminUi = new Elysia({ name: 'admin-ui' })
  .get('/admin', page, { detail: { hide: true } })
  .get('/admin/*', page, { detail: { hide: true } })
  .get(
    '/admin/assets/:name',
    ({ params, request, status }) => {
      const asset = Object.hasOwn(assets, params.name) ? assets[params.name] : undefined
      return asset ? serveFile(request, asset.path, asset.type) : status(404, 'No such asset')
    },
    { detail: { hide: true } },
  )
