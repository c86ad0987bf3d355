import { Router, type Request, type RequestHandler, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { recordSignIn, setOwnLocale, verifyCredentials } from '../../services/user.service.js'
import { bodyOf, str } from '../forms/common.form.js'
import { flash } from '../middleware/locals.js'

/**
 * `?next=` may only bring a person back to a path on this site (no open redirect). After sign-in
 * /login and /logout would loop; the language switch on the sign-in page may go back to /login
 * (with its own next, which GET /login checks again).
 */
export function safeNextPath(raw: unknown, opts: { allowLogin?: boolean } = {}): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2000) return '/'
  // The same rules hold for every decoding of it: `/%2F%2Fevil.example` or `/%5Cevil.example` is
  // harmless to a browser today, but a proxy or a later redirect that decodes once more is not.
  let s = raw
  for (let i = 0; i < 3; i++) {
    if (!isSafePath(s, opts)) return '/'
    let decoded: string
    try {
      decoded = decodeURIComponent(s)
    } catch {
      return '/'
    }
    if (decoded === s) return raw
    s = decoded
  }
  return '/'
}

function isSafePath(s: string, opts: { allowLogin?: boolean }): boolean {
  if (!s.startsWith('/') || s.startsWith('//')) return false
  if (/[\u0000-\u001f\u007f\\]/.test(s)) return false
  if (s.startsWith('/logout') || (!opts.allowLogin && s.startsWith('/login'))) return false
  return true
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())))
}

function destroy(req: Request): Promise<void> {
  return new Promise((resolve) => req.session.destroy(() => resolve()))
}

export function authRoutes(ctx: AppContext, opts: { signInLimiters: RequestHandler[]; regenerateCsrf: (req: Request) => string }): Router {
  const router = Router()

  function renderLogin(req: Request, res: Response, status: number, values: { username?: string; next: string; error?: string }) {
    res.status(status).render('auth/login', {
      title: req.t('auth.title'),
      username: values.username ?? '',
      next: values.next,
      error: values.error,
      idleMinutes: ctx.config.sessionIdleMinutes,
    })
  }

  router.get('/login', (req, res) => {
    const next = safeNextPath(req.query.next)
    if (req.user) {
      res.redirect(303, next)
      return
    }
    renderLogin(req, res, 200, { next })
  })

  router.post('/login', ...opts.signInLimiters, async (req, res) => {
    const b = bodyOf(req)
    const next = safeNextPath(str(b.next))
    const username = str(b.username) ?? ''
    const user = await verifyCredentials(ctx, username, str(b.password))
    if (!user) {
      ctx.logger.warn({ username: username.slice(0, 64), ip: req.ip, requestId: req.requestId }, 'sign-in failed')
      renderLogin(req, res, 401, { username, next, error: req.t('auth.invalid') })
      return
    }
    // A new session id at sign-in: a planted (fixated) id is worth nothing.
    await regenerate(req)
    req.session.userId = user.id
    opts.regenerateCsrf(req)
    await recordSignIn(ctx, user, 'page', req.ip)
    res.redirect(303, user.mustChangePassword ? '/account/password' : next)
  })

  router.post('/logout', async (req, res) => {
    await destroy(req)
    res.clearCookie('yk.sid')
    res.redirect(303, '/login?signedOut=1')
  })

  /** Language for the anonymous (a cookie) and for the signed-in (their profile). */
  router.post('/language', async (req, res) => {
    const b = bodyOf(req)
    const locale = str(b.locale) === 'en' ? 'en' : 'th'
    res.cookie('lang', locale, { httpOnly: true, sameSite: 'lax', secure: req.secure, maxAge: 365 * 24 * 3600_000 })
    if (req.user) {
      await setOwnLocale(ctx, req.user, locale)
      flash(req, 'success', 'account.languageSaved')
    }
    res.redirect(303, safeNextPath(str(b.next), { allowLogin: true }))
  })

  return router
}
