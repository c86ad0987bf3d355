import fs from 'node:fs'
import express, { type NextFunction, type Request, type Response } from 'express'
import type { Logger } from 'pino'
import type { PgDb } from '../db/connection.js'
import { type App, createApp } from './app.js'
import type { Clock } from './clock.js'
import type { Config } from './config.js'
import type { AppContext } from './context.js'
import { translate } from './i18n/index.js'
import { staticFiles } from './routers.js'
import type { SignInLimits } from './http/middleware/rate-limit.js'
import { anchorFromConfig, dataFolder, startAnchoring } from './services/audit-anchor.service.js'
import { startMailSender } from './services/mail-sender.service.js'
import { type Scheduler, startScheduler } from './services/scheduler.service.js'
import { secretFromKeyFile } from './services/secret.service.js'
import {
  type Agency,
  agencyConfig,
  ensureRegistry,
  findAgencyByHost,
  listAgencies,
  migrateAgency,
  normalizeHost,
  openRegistry,
  type Registry,
} from './tenancy.js'

/**
 * The server of many agencies (TENANCY=host, issue 20): one front app that finds the agency by the
 * request's host name and hands the request to that agency's own app — its own database handle
 * (schema), settings, sessions and session key, sign-in throttles, caches, scheduler and files under
 * `DATA_DIR/<slug>/`. Cookies are host-only (no Domain attribute), so a browser never sends one
 * agency's cookie to another; and each agency's sessions and tokens live in its own schema, so one
 * sent anyway finds nothing.
 */
export interface AgencyRuntime {
  agency: Agency
  handle: PgDb
  ctx: AppContext
  app: App
  scheduler?: Scheduler
  stopMail?: () => Promise<void>
}

export interface Hosting {
  /** The front app: /healthz for any host, an agency's app for its host, a plain 404 page for any other. */
  app: express.Express
  /** Opens every registered agency (migrated, anchored, its scheduler started). */
  start(): Promise<void>
  runtime(host: string): Promise<AgencyRuntime | undefined>
  runtimes(): AgencyRuntime[]
  close(): Promise<void>
}

export interface HostingOptions {
  env: NodeJS.ProcessEnv
  config: Config
  clock: Clock
  logger: Logger
  /** Start each agency's scheduler and mail sender (the server does; tests may not). */
  background?: boolean
  signInLimits?: SignInLimits
}

/** The plain page of a host that is no agency's (Thai, from the catalogue; no cookie, no layout). */
const UNKNOWN_AGENCY_PAGE = `<!doctype html><html lang="th"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/css/app.css"><link rel="stylesheet" href="/css/print.css" media="print"><title>${escapeHtml(translate('th', 'error.unknownAgency'))}</title><body><main><h1>${escapeHtml(translate('th', 'error.unknownAgency'))}</h1><p>${escapeHtml(translate('th', 'error.unknownAgencyHint'))} (404)</p></main></body></html>`

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
}

/** How long an unknown host is remembered as unknown before the registry is asked again. */
const UNKNOWN_HOST_MS = 2_000

export function createHosting(opts: HostingOptions): Hosting {
  const { env, config, clock, logger } = opts
  const url = config.databaseUrl!
  const registry = openRegistry(url)
  let ready: Promise<void> | undefined
  // A failure (the server not up yet) is not kept: the next request tries again.
  const ensure = () =>
    (ready ??= ensureRegistry(registry.db).catch((e: unknown) => {
      ready = undefined
      throw e
    }))
  const byHost = new Map<string, Promise<AgencyRuntime>>()
  const unknown = new Map<string, number>()
  const open: AgencyRuntime[] = []
  let closed = false

  async function openAgency(agency: Agency): Promise<AgencyRuntime> {
    const handle = await migrateAgency(registry.db, url, agency.slug)
    const cfg = agencyConfig(env, agency)
    fs.mkdirSync(dataFolder(cfg), { recursive: true, mode: 0o700 })
    const agencyLogger = logger.child({ agency: agency.slug })
    const ctx: AppContext = { db: handle.db, clock, config: cfg, logger: agencyLogger, anchor: anchorFromConfig(cfg, agencyLogger) }
    if (ctx.anchor) await startAnchoring(ctx.db, ctx.anchor, ctx.clock, agencyLogger)
    const sessionSecret = secretFromKeyFile(dataFolder(cfg), 'session').value
    const app = createApp(ctx, { sessionSecret, pruneSessions: opts.background === true, signInLimits: opts.signInLimits })
    const rt: AgencyRuntime = { agency, handle, ctx, app }
    if (opts.background) {
      rt.scheduler = startScheduler(ctx)
      const mail = startMailSender(ctx)
      if (mail) rt.stopMail = () => mail.stop()
    }
    open.push(rt)
    agencyLogger.info({ host: agency.host, schema: `agency_${agency.slug}` }, 'agency open')
    return rt
  }

  function remember(agency: Agency): Promise<AgencyRuntime> {
    let rt = byHost.get(agency.host)
    if (!rt) {
      rt = openAgency(agency)
      byHost.set(agency.host, rt)
      rt.catch(() => byHost.delete(agency.host))
    }
    return rt
  }

  async function runtime(rawHost: string): Promise<AgencyRuntime | undefined> {
    const host = normalizeHost(rawHost)
    const known = byHost.get(host)
    if (known) return known
    const since = unknown.get(host)
    if (since !== undefined && Date.now() - since < UNKNOWN_HOST_MS) return undefined
    await ensure()
    const agency = await findAgencyByHost(registry.db, host)
    if (!agency) {
      if (unknown.size > 10_000) unknown.clear()
      unknown.set(host, Date.now())
      return undefined
    }
    unknown.delete(host)
    return remember(agency)
  }

  const app = express()
  app.disable('x-powered-by')
  if (config.trustProxy !== undefined) app.set('trust proxy', config.trustProxy)
  // Styles and fonts are every agency's alike: the unknown-host page uses them too.
  app.use(staticFiles({ config }))
  app.get('/healthz', async (_req, res) => {
    await ensure()
    await registry.db.selectFrom('yuemkhuen.agency').select('slug').limit(1).execute()
    res.set('Cache-Control', 'no-store').json({ status: 'ok' })
  })
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const rt = await runtime(req.hostname ?? '')
    if (!rt) {
      res.status(404).type('html').set('Cache-Control', 'no-store').send(UNKNOWN_AGENCY_PAGE)
      return
    }
    rt.app(req, res, next)
  })

  return {
    app,
    runtime,
    runtimes: () => [...open],
    async start() {
      await ensure()
      for (const agency of await listAgencies(registry.db)) await remember(agency)
    },
    async close() {
      if (closed) return
      closed = true
      const all = await Promise.allSettled([...byHost.values()])
      for (const r of all) {
        if (r.status !== 'fulfilled') continue
        const rt = r.value
        rt.app.shutdown()
        await Promise.all([rt.scheduler?.stop(), rt.stopMail?.()])
        await rt.handle.close()
      }
      await registry.close()
    },
  }
}

export type { Registry }
