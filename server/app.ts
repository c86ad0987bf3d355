import { randomUUID } from 'node:crypto'
import ejs from 'ejs'
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'
import helmet from 'helmet'
import { csrfSync } from 'csrf-sync'
import './web/types.js'
import type { AppContext } from './context.js'
import { FONTS_DIR, JSQR_FILE, PUBLIC_DIR, VIEWS_DIR } from './paths.js'
import { pickLocale, translator } from './i18n/index.js'
import { loadSessionUser } from './http/middleware/auth.js'
import { errorHandler, notFound } from './http/middleware/errors.js'
import { pageLocals } from './web/middleware/locals.js'
import { refuseUntypeableInput } from './http/middleware/input.js'
import { SqliteSessionStore } from './web/middleware/session-store.js'
import { signInLimiters, type SignInLimits } from './http/middleware/rate-limit.js'
import { healthRoutes } from './web/routes/health.routes.js'
import { authRoutes } from './web/routes/auth.routes.js'
import { homeRoutes } from './web/routes/home.routes.js'
import { accountRoutes } from './web/routes/account.routes.js'
import { adminRoutes } from './web/routes/admin.routes.js'
import { auditRoutes } from './web/routes/audit.routes.js'
import { assetRoutes } from './web/routes/assets.routes.js'
import { assetImportRoutes, assetImportUpload } from './web/routes/asset-import.routes.js'
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
import { attachmentRoutes, attachmentUpload } from './web/routes/attachments.routes.js'
import { registerRoutes } from './web/routes/register.routes.js'
import { reportRoutes } from './web/routes/reports.routes.js'
import { publicationRoutes } from './web/routes/publication.routes.js'
import { transparencyRoutes } from './web/routes/transparency.routes.js'
import { apiRouter } from './api/index.js'

export interface AppOptions {
  /** The session-signing key: from SESSION_SECRET, or the key file beside the data (secret.service); never the database. */
  sessionSecret: string
  signInLimits?: SignInLimits
  /** main.ts prunes expired sessions on a timer; tests do not. */
  pruneSessions?: boolean
}

export interface App extends express.Express {
  shutdown(): void
}

/** Builds the Express app; never listens (main.ts does). */
export function createApp(ctx: AppContext, opts: AppOptions): App {
  const app = express() as App
  app.disable('x-powered-by')
  app.set('trust proxy', ctx.config.trustProxy)
  app.set('view engine', 'ejs')
  app.set('views', VIEWS_DIR)
  if (ctx.config.env === 'production') app.set('view cache', true)
  // As Express's own EJS hook, plus `root`: an include named from the views root ('/partials/head')
  // then resolves without the file-system check EJS makes for a relative one on every render. In
  // production the templates drop EJS's line tracking (an assignment per line, looked up through
  // `with`); an error in a template is still logged with its stack, without the template excerpt.
  const compileDebug = ctx.config.env !== 'production'
  app.engine('ejs', (file: string, data: object, cb: (e: Error | null, html?: string) => void) => {
    ejs.renderFile(file, data as ejs.Data, { root: VIEWS_DIR, views: app.get('views') as never, cache: app.enabled('view cache'), compileDebug }, cb as never)
  })

  app.use((req: Request, res: Response, next: NextFunction) => {
    req.requestId = randomUUID()
    req.isApi = req.path.startsWith('/api/')
    // Pages are Thai unless the person chose English (a cookie, or their profile once signed in);
    // an anonymous API caller may ask for English with Accept-Language.
    req.locale = req.isApi ? pickLocale(req.get('accept-language')) : 'th'
    if (!req.isApi && typeof req.headers.cookie === 'string') {
      const m = /(?:^|;\s*)lang=(th|en)(?:;|$)/.exec(req.headers.cookie)
      if (m) req.locale = m[1] as 'th' | 'en'
    }
    req.t = translator(req.locale)
    res.set('X-Request-Id', req.requestId)
    next()
  })

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          // Plain HTTP on an office LAN must keep working: no upgrade-insecure-requests.
          upgradeInsecureRequests: null,
          scriptSrc: ["'self'"],
          imgSrc: ["'self'", 'data:', 'blob:'],
          formAction: ["'self'"],
        },
      },
      // HSTS only makes sense behind HTTPS; set below per request.
      strictTransportSecurity: false,
    }),
  )
  app.use((req, res, next) => {
    if (req.secure) res.set('Strict-Transport-Security', 'max-age=15552000')
    next()
  })

  const store = new SqliteSessionStore(ctx, ctx.config.sessionIdleMinutes * 60_000)
  if (opts.pruneSessions) store.startPruning()
  app.shutdown = () => store.close()
  const csrf = csrfSync({
    getTokenFromRequest: (req) => {
      const body = req.body as Record<string, unknown> | undefined
      const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined
      return fromBody ?? req.get('x-csrf-token')
    },
  })
  const sessions = [
    session({
      name: 'yk.sid',
      secret: opts.sessionSecret,
      store,
      resave: false,
      saveUninitialized: false,
      rolling: false, // the idle timeout restarts with activity: store.rollActivity() below
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: 'auto', // Secure when the request is HTTPS (TRUST_PROXY behind a TLS proxy)
        maxAge: ctx.config.sessionIdleMinutes * 60_000,
      },
    }),
    store.rollActivity(),
  ]
  const bodyParsers = [
    express.urlencoded({ extended: false, limit: '200kb', parameterLimit: 2000 }),
    // The register upload is multipart: parsed here so that the CSRF check below can read its token.
    assetImportUpload(ctx),
    attachmentUpload(ctx), // the same for a loan's attachments
  ]
  const afterBody = [
    csrf.csrfSynchronisedProtection,
    loadSessionUser(ctx),
    (req: Request, res: Response, next: NextFunction) => {
      // Signed-in pages must not stay in a shared office PC's cache or back button.
      res.set('Cache-Control', 'no-store')
      if (req.user?.mustChangePassword && !['/account/password', '/logout'].includes(req.path)) {
        res.redirect(303, '/account/password')
        return
      }
      next()
    },
    pageLocals(ctx, (req) => csrf.generateToken(req)),
    refuseUntypeableInput(), // NUL, text-direction overrides: 422 before any route stores them
  ]
  // The label resolver first (SPEC §5: what every printed QR code opens on a phone, bench/ "QR
  // resolver page"): the same chain as every other page, without walking the public, API and other
  // areas' routers before it. A GET reads no body, so the body parsers are left out.
  app.get('/q/*code', sessions, afterBody, qrPage(ctx))

  app.use(healthRoutes(ctx))
  const staticOpts = { maxAge: ctx.config.env === 'production' ? '7d' : 0, index: false as const }
  app.use('/css', express.static(`${PUBLIC_DIR}/css`, staticOpts))
  app.use('/js', express.static(`${PUBLIC_DIR}/js`, staticOpts))
  app.use('/img', express.static(`${PUBLIC_DIR}/img`, staticOpts))
  app.use('/fonts', express.static(FONTS_DIR, { ...staticOpts, maxAge: '30d' }))
  app.get('/vendor/jsqr.js', (_req, res) => res.sendFile(JSQR_FILE, { maxAge: staticOpts.maxAge }))
  // Public, before the session: no sign-in, no cookie, cacheable (SPEC §5 stable pages).
  app.use(transparencyRoutes(ctx))

  const limiters = signInLimiters(opts.signInLimits)
  app.use('/api/v1', apiRouter(ctx, { signInLimiters: limiters }))

  app.use(sessions, bodyParsers, afterBody)

  app.use(authRoutes(ctx, { signInLimiters: limiters, regenerateCsrf: (req) => csrf.generateToken(req, true) }))
  app.use(homeRoutes(ctx))
  app.use(accountRoutes(ctx))
  app.use(adminRoutes(ctx))
  app.use(auditRoutes(ctx))
  app.use(assetImportRoutes(ctx)) // before assetRoutes: /assets/import and /assets/export.* are not asset ids
  app.use(assetRoutes(ctx))
  app.use(stockRoutes(ctx))
  app.use(cartRoutes(ctx))
  app.use(loanEntryRoutes(ctx)) // before the loan routes: /loans/new is not a loan id
  app.use(documentRoutes(ctx)) // before the loan routes: /loans/:id/slip and /loans/:id/follow-up-letter are documents
  app.use(labelRoutes(ctx))
  app.use(categoryRoutes(ctx))
  app.use(counterRoutes(ctx))
  app.use(borrowerRoutes(ctx))
  app.use(attachmentRoutes(ctx))
  app.use(registerRoutes(ctx))
  app.use(reportRoutes(ctx))
  app.use(publicationRoutes(ctx))
  app.use(loanRoutes(ctx)) // after loan-entry and documents: /loans/new and /loans/:id/slip are theirs
  app.use(paperApprovalRoutes(ctx)) // the committee's list of paper approvals
  app.use(loanHandoverRoutes(ctx)) // /loans/:id/handover and /loans/:id/return: after loan-entry and documents, as the loan routes

  app.use(notFound())
  app.use(errorHandler(ctx))
  return app
}
