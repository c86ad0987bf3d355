import { randomUUID } from 'node:crypto'
import ejs from 'ejs'
import express, { type NextFunction, type Request, type Response } from 'express'
import session from 'express-session'
import helmet from 'helmet'
import { csrfSync } from 'csrf-sync'
import './web/types.js'
import type { AppContext } from './context.js'
import { VIEWS_DIR } from './paths.js'
import { pickLocale, translator } from './i18n/index.js'
import { contextOf, loadSessionUser } from './http/middleware/auth.js'
import { inRequestScope } from './lib/cache.js'
import { errorHandler, notFound } from './http/middleware/errors.js'
import { pageLocals } from './web/middleware/locals.js'
import { refuseUntypeableInput } from './http/middleware/input.js'
import { SqliteSessionStore } from './web/middleware/session-store.js'
import { signInLimiters, type SignInLimits } from './http/middleware/rate-limit.js'
import { assetImportUpload } from './web/routes/asset-import.routes.js'
import { attachmentUpload } from './web/routes/attachments.routes.js'
import { typedDates } from './web/typed-date.js'
import { ROUTERS, type RouterDeps } from './routers.js'

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
  // Every kept read of this request, the session store's included, shares one look at the change counter (server/lib/cache.ts).
  app.use((req, _res, next) => inRequestScope(contextOf(ctx, req), next))

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
    store.saveBeforeRedirect(),
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
    typedDates(), // «15/10/2568» in a date box → ISO Common Era before any route reads it
  ]
  const deps: RouterDeps = {
    signInLimiters: signInLimiters(opts.signInLimits),
    regenerateCsrf: (req) => csrf.generateToken(req, true),
  }
  // One ordered list (server/routers.ts says why each constraint holds; test/unit/routers.test.ts
  // keeps it so). The page chain is mounted once, just before the first page router.
  let pageChainMounted = false
  for (const entry of ROUTERS) {
    const handler = entry.make(ctx, deps)
    if (entry.stage === 'first') {
      // A GET reads no body, so the body parsers are left out.
      app.get(entry.at ?? '/', sessions, afterBody, handler)
    } else if (entry.stage === 'page') {
      if (!pageChainMounted) app.use(sessions, bodyParsers, afterBody)
      pageChainMounted = true
      app.use(handler)
    } else if (entry.at) {
      app.use(entry.at, handler)
    } else {
      app.use(handler)
    }
  }

  app.use(notFound())
  app.use(errorHandler(ctx))
  return app
}
