import express, { Router, type Request, type RequestHandler } from 'express'
import type { AppContext } from './context.js'
import { FONTS_DIR, JSQR_FILE, PUBLIC_DIR } from './paths.js'
import { healthRoutes } from './web/routes/health.routes.js'
import { authRoutes } from './web/routes/auth.routes.js'
import { homeRoutes } from './web/routes/home.routes.js'
import { accountRoutes } from './web/routes/account.routes.js'
import { adminRoutes } from './web/routes/admin.routes.js'
import { auditRoutes } from './web/routes/audit.routes.js'
import { assetRoutes } from './web/routes/assets.routes.js'
import { assetImportRoutes } from './web/routes/asset-import.routes.js'
import { qrPage } from './web/routes/qr.routes.js'
import { stockRoutes } from './web/routes/stock.routes.js'
import { cartRoutes } from './web/routes/cart.routes.js'
import { loanEntryRoutes } from './web/routes/loan-entry.routes.js'
import { documentRoutes } from './web/routes/documents.routes.js'
import { labelRoutes } from './web/routes/labels.routes.js'
import { categoryRoutes } from './web/routes/categories.routes.js'
import { loanRoutes } from './web/routes/loans.routes.js'
import { loanHandoverRoutes } from './web/routes/loan-handover.routes.js'
import { paperApprovalRoutes } from './web/routes/paper-approvals.routes.js'
import { counterRoutes } from './web/routes/counter.routes.js'
import { borrowerRoutes } from './web/routes/borrowers.routes.js'
import { attachmentRoutes } from './web/routes/attachments.routes.js'
import { registerRoutes } from './web/routes/register.routes.js'
import { reportRoutes } from './web/routes/reports.routes.js'
import { publicationRoutes } from './web/routes/publication.routes.js'
import { transparencyRoutes } from './web/routes/transparency.routes.js'
import { notificationRoutes } from './web/routes/notifications.routes.js'
import { apiRouter } from './api/index.js'

/** What app.ts hands the routers that need more than the context. */
export interface RouterDeps {
  signInLimiters: RequestHandler[]
  regenerateCsrf: (req: Request) => string
}

/**
 * Where a router sits in the request's path through the app:
 * - `first`: the label resolver, with the page chain but before everything else (SPEC §5: what every
 *   printed QR code opens on a phone, bench/ "QR resolver page"); a GET, so no body parsers.
 * - `public`: before the session — no sign-in, no cookie, cacheable.
 * - `api`: under /api/v1, bearer tokens only (no cookie, so no CSRF).
 * - `page`: after the session, the body parsers, CSRF, the signed-in user and the page locals.
 */
export type RouterStage = 'first' | 'public' | 'api' | 'page'

export interface RouterEntry {
  name: string
  stage: RouterStage
  /** The API's prefix; for `first`, the GET route it answers; none for the others. */
  at?: string
  make: (ctx: AppContext, deps: RouterDeps) => RequestHandler | RequestHandler[]
  /**
   * Requests ('GET /loans/new') this router must answer although a router later in the list has a
   * route that matches them too, and why. test/unit/routers.test.ts holds both halves: this router
   * is the first to match, and the later one would take it otherwise.
   */
  wins?: { requests: string[]; because: string }
}

/** The app's own files (styles, scripts, fonts): the same for every agency, so a server of many serves them before it knows the host. */
export function staticFiles(ctx: Pick<AppContext, 'config'>): Router {
  const router = Router()
  const opts = { maxAge: ctx.config.env === 'production' ? '7d' : 0, index: false as const }
  router.use('/css', express.static(`${PUBLIC_DIR}/css`, opts))
  router.use('/js', express.static(`${PUBLIC_DIR}/js`, opts))
  router.use('/img', express.static(`${PUBLIC_DIR}/img`, opts))
  router.use('/fonts', express.static(FONTS_DIR, { ...opts, maxAge: '30d' }))
  router.get('/vendor/jsqr.js', (_req, res) => res.sendFile(JSQR_FILE, { maxAge: opts.maxAge }))
  // Browsers ask for /favicon.ico on every page whatever the page links; answer with the app's icon, not a 404.
  router.get('/favicon.ico', (_req, res) =>
    res.type('image/x-icon').sendFile(`${PUBLIC_DIR}/img/favicon.ico`, { maxAge: ctx.config.env === 'production' ? '30d' : 0 }),
  )
  return router
}

/**
 * Every router of the app, in the order app.ts mounts them. The order of the stages is fixed
 * (first, public, api, page); inside a stage, an entry with `wins` must stay before the router it
 * takes requests from — the rest may go anywhere in their stage.
 */
export const ROUTERS: readonly RouterEntry[] = [
  // The same chain as every other page, without walking the public, API and other areas' routers before it.
  { name: 'qr', stage: 'first', at: '/q/*code', make: (ctx) => qrPage(ctx) },

  { name: 'health', stage: 'public', make: (ctx) => healthRoutes(ctx) },
  { name: 'static', stage: 'public', make: (ctx) => staticFiles(ctx) },
  // SPEC §5 stable pages: no sign-in, no cookie, cacheable.
  { name: 'transparency', stage: 'public', make: (ctx) => transparencyRoutes(ctx) },

  { name: 'api', stage: 'api', at: '/api/v1', make: (ctx, deps) => apiRouter(ctx, { signInLimiters: deps.signInLimiters }) },

  { name: 'auth', stage: 'page', make: (ctx, deps) => authRoutes(ctx, deps) },
  { name: 'home', stage: 'page', make: (ctx) => homeRoutes(ctx) },
  { name: 'account', stage: 'page', make: (ctx) => accountRoutes(ctx) },
  // /notifications (issue 18): no other router has a route under it.
  { name: 'notifications', stage: 'page', make: (ctx) => notificationRoutes(ctx) },
  { name: 'admin', stage: 'page', make: (ctx) => adminRoutes(ctx) },
  { name: 'audit', stage: 'page', make: (ctx) => auditRoutes(ctx) },
  {
    name: 'asset-import',
    stage: 'page',
    make: (ctx) => assetImportRoutes(ctx),
    wins: {
      requests: ['GET /assets/import', 'POST /assets/import', 'GET /assets/export.csv', 'GET /assets/export.xlsx'],
      because: '/assets/import and /assets/export.* are the import and export, not assets whose code is "import" or "export.csv"',
    },
  },
  { name: 'assets', stage: 'page', make: (ctx) => assetRoutes(ctx) },
  { name: 'stock', stage: 'page', make: (ctx) => stockRoutes(ctx) },
  { name: 'cart', stage: 'page', make: (ctx) => cartRoutes(ctx) },
  {
    name: 'loan-entry',
    stage: 'page',
    make: (ctx) => loanEntryRoutes(ctx),
    wins: { requests: ['GET /loans/new'], because: '/loans/new is the entry form, not the loan whose id is "new"' },
  },
  // /loans/:id/slip and /loans/:id/follow-up-letter: no loan route matches them (Express 5's /loans/:id
  // ends at the id), so they may sit anywhere in the stage; a wildcard loan route would need a `wins` here.
  { name: 'documents', stage: 'page', make: (ctx) => documentRoutes(ctx) },
  { name: 'labels', stage: 'page', make: (ctx) => labelRoutes(ctx) },
  { name: 'categories', stage: 'page', make: (ctx) => categoryRoutes(ctx) },
  { name: 'counter', stage: 'page', make: (ctx) => counterRoutes(ctx) },
  { name: 'borrowers', stage: 'page', make: (ctx) => borrowerRoutes(ctx) },
  { name: 'attachments', stage: 'page', make: (ctx) => attachmentRoutes(ctx) },
  { name: 'register', stage: 'page', make: (ctx) => registerRoutes(ctx) },
  { name: 'reports', stage: 'page', make: (ctx) => reportRoutes(ctx) },
  { name: 'publication', stage: 'page', make: (ctx) => publicationRoutes(ctx) },
  { name: 'loans', stage: 'page', make: (ctx) => loanRoutes(ctx) },
  // The committee's list of paper approvals.
  { name: 'paper-approvals', stage: 'page', make: (ctx) => paperApprovalRoutes(ctx) },
  // /loans/:id/handover and /loans/:id/return.
  { name: 'loan-handover', stage: 'page', make: (ctx) => loanHandoverRoutes(ctx) },
]
