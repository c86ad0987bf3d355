import type { NextFunction, Request, RequestHandler, Response } from 'express'
import session from 'express-session'
import type { AppContext } from '../../context.js'
import { destroySession, pruneSessions, readSession, touchSession, writeSession } from '../../services/session.service.js'

type Callback = (err?: unknown, data?: session.SessionData | null) => void

/**
 * express-session's Store on our own SQLite table. It goes through Kysely (see
 * ARCHITECTURE.md: the npm store is GPL-only, writes on the raw handle and keeps a timer).
 * Expired rows are pruned by an unref'd timer that close() stops.
 */
export class SqliteSessionStore extends session.Store {
  private timer: NodeJS.Timeout | undefined
  /** The idle deadline last written for each session, so that a touch writes only when it moved enough. */
  private readonly written = new Map<string, number>()
  /**
   * Rolling sessions touch on every request: a write per page view (bench/, issue 7). A touch that
   * would move the stored deadline by less than this is skipped, so a session may end this much
   * before the full idle time — one minute of thirty, never later than configured.
   */
  private readonly touchEveryMs: number

  constructor(
    private readonly ctx: AppContext,
    private readonly ttlMs: number,
  ) {
    super()
    this.touchEveryMs = Math.min(60_000, Math.floor(ttlMs / 10))
  }

  private remember(sid: string, expiry: number): void {
    if (this.written.size >= 10_000) this.written.clear()
    this.written.set(sid, expiry)
  }

  startPruning(everyMs = 15 * 60_000): void {
    this.timer = setInterval(() => {
      pruneSessions(this.ctx).catch((e: unknown) => this.ctx.logger.warn({ err: e }, 'session prune failed'))
    }, everyMs)
    this.timer.unref()
  }

  close(): void {
    if (this.timer) clearInterval(this.timer)
  }

  /**
   * The idle timeout restarts with activity. express-session's `rolling` re-signs and re-sends the
   * cookie on every response (an HMAC each: a tenth of the QR page's CPU, bench/, issue 7). Instead
   * a signed-in session notes the step of the touch interval it was last active in: when the step
   * moves, express-session saves the session with a new deadline and re-sends its cookie; between
   * steps, touch() keeps the stored deadline. Mounted right after the session middleware.
   */
  rollActivity(): RequestHandler {
    return (req: Request, _res: Response, next: NextFunction) => {
      const s = req.session as (session.Session & session.SessionData) | undefined
      if (s?.userId !== undefined) {
        const step = Math.floor(this.ctx.clock.now().getTime() / this.touchEveryMs)
        if (s.activeStep !== step) s.activeStep = step
      }
      next()
    }
  }

  /**
   * express-session saves a changed session when the response ends, but sends the status and headers
   * before that save is done (it holds back only the body's last byte). A browser follows a redirect
   * on its headers: on PostgreSQL, where the save is a round trip, its next request could come before
   * the session it carries is stored — just signed in, and sent back to the sign-in page; a flash or the
   * cart a step behind. So a redirect waits for the save of a session that changed in this request
   * (as express-session tells a change: its content without the cookie, or a new id with content);
   * express-session then finds it saved and does not save it again. Mounted right after the session
   * middleware, before anything changes the session.
   */
  saveBeforeRedirect(): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (!req.session) return next()
      const loadedId = req.sessionID
      const loaded = contentOf(req.session)
      const redirect = res.redirect.bind(res) as (...args: unknown[]) => void
      res.redirect = ((...args: unknown[]) => {
        const s = req.session as session.Session | undefined
        const content = s ? contentOf(s) : loaded
        const changed = s !== undefined && (req.sessionID !== loadedId ? content !== '{}' : content !== loaded)
        if (!changed) return redirect(...args)
        s.save((err) => (err ? next(err) : redirect(...args)))
      }) as Response['redirect']
      next()
    }
  }

  /**
   * The idle deadline on the app's clock — the one get() checks it against. (The cookie's own
   * expiry comes from Date.now(); both restart with activity, so on the system clock they agree
   * to within the touch interval, and an injected clock in tests moves the row's deadline too.)
   */
  private expiry(): number {
    return this.ctx.clock.now().getTime() + this.ttlMs
  }

  override get(sid: string, cb: Callback): void {
    readSession(this.ctx, sid).then(
      (data) => {
        if (!data) return cb(null, null)
        let sess: session.SessionData
        try {
          sess = JSON.parse(data) as session.SessionData
        } catch {
          return cb(null, null)
        }
        cb(null, sess)
      },
      (e: unknown) => cb(e),
    )
  }

  override set(sid: string, sess: session.SessionData, cb?: (err?: unknown) => void): void {
    const expiry = this.expiry()
    writeSession(this.ctx, sid, sess.userId ?? null, JSON.stringify(sess), expiry).then(
      () => {
        this.remember(sid, expiry)
        cb?.()
      },
      (e: unknown) => cb?.(e),
    )
  }

  override touch(sid: string, _sess: session.SessionData, cb?: (err?: unknown) => void): void {
    const expiry = this.expiry()
    const last = this.written.get(sid)
    if (last !== undefined && expiry >= last && expiry - last < this.touchEveryMs) {
      cb?.()
      return
    }
    touchSession(this.ctx, sid, expiry).then(
      () => {
        this.remember(sid, expiry)
        cb?.()
      },
      (e: unknown) => cb?.(e),
    )
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.written.delete(sid)
    destroySession(this.ctx, sid).then(
      () => cb?.(),
      (e: unknown) => cb?.(e),
    )
  }
}

/** A session's content as express-session compares it for changes: everything but its cookie. */
function contentOf(sess: session.Session): string {
  return JSON.stringify(sess, function (this: unknown, key, value: unknown) {
    return this === sess && key === 'cookie' ? undefined : value
  })
}
