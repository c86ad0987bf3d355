import type { App } from '../../server/app.js'

export type RouteMethod = 'get' | 'post' | 'put' | 'patch' | 'delete'

export interface AppRoute {
  method: RouteMethod
  /** The full path pattern as registered, e.g. `/api/v1/loans/:id/approve` or `/q/*code`. */
  path: string
  /** `api` for everything under /api/, `page` for the rest. */
  kind: 'api' | 'page'
}

interface RouterLayer {
  rawPath?: unknown
  route?: { path: unknown; methods: Record<string, boolean> }
  handle?: { stack?: RouterLayer[] }
}

const METHODS: RouteMethod[] = ['get', 'post', 'put', 'patch', 'delete']

function joinPath(prefix: string, path: string): string {
  const p = `${prefix.replace(/\/$/, '')}/${path.replace(/^\//, '')}`
  return p.length > 1 ? p.replace(/\/$/, '') : p
}

function walk(stack: RouterLayer[], prefix: string, out: AppRoute[]): void {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]
      for (const raw of paths) {
        if (typeof raw !== 'string') continue // a RegExp route cannot be turned into a request path
        const path = joinPath(prefix, raw)
        for (const method of METHODS) {
          if (layer.route.methods[method]) out.push({ method, path, kind: path.startsWith('/api/') ? 'api' : 'page' })
        }
      }
    } else if (layer.handle?.stack) {
      const raw = typeof layer.rawPath === 'string' ? layer.rawPath : '/'
      walk(layer.handle.stack, joinPath(prefix, raw), out)
    }
  }
}

/**
 * Every route of the app, read from the Express 5 router stack (sub-routers included), so that a
 * route added later is covered by table-driven tests without editing them. Duplicates (the same
 * method and path registered twice) appear once.
 */
export function listRoutes(app: App): AppRoute[] {
  const router = (app as unknown as { router: { stack: RouterLayer[] } }).router
  const out: AppRoute[] = []
  walk(router.stack, '', out)
  const seen = new Set<string>()
  return out.filter((r) => {
    const key = `${r.method} ${r.path}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** Routes that change state: POST, PUT, PATCH, DELETE. */
export function listWriteRoutes(app: App): AppRoute[] {
  return listRoutes(app).filter((r) => r.method !== 'get')
}

/** Fills `:name` and `*name` parameters from `params` (or `1`); the result is a request path. */
export function fillPath(path: string, params: Record<string, string | number> = {}): string {
  return path.replace(/[:*](\w+)/g, (_m, name: string) => encodeURIComponent(String(params[name] ?? 1)))
}
