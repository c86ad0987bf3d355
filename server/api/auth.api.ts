import { Router, type RequestHandler } from 'express'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import { issueToken, parseTokenInput } from '../services/token.service.js'
import { recordSignIn, verifyCredentials } from '../services/user.service.js'
import { requireSignIn } from '../http/middleware/auth.js'
import { bodyObject } from './json.js'

export function authApi(ctx: AppContext, opts: { signInLimiters: RequestHandler[] }): Router {
  const router = Router()

  router.post('/tokens', ...opts.signInLimiters, async (req, res) => {
    const body = bodyObject(req)
    // The token's own fields first: a malformed expiry is refused before any password is hashed or sign-in recorded.
    const name = typeof body.name === 'string' && body.name.trim() ? body.name.trim().slice(0, 100) : 'API'
    const input = parseTokenInput({ name, expiresInDays: body.expiresInDays })
    const user = await verifyCredentials(ctx, body.username, body.password)
    if (!user) {
      ctx.logger.warn(
        { username: typeof body.username === 'string' ? body.username.slice(0, 64) : null, ip: req.ip, requestId: req.requestId },
        'token sign-in failed',
      )
      throw new AppError('unauthenticated', 'auth.invalid')
    }
    // Only past the password check, so that the answer tells nothing to someone without it.
    if (user.mustChangePassword) {
      ctx.logger.info({ username: user.username, ip: req.ip, requestId: req.requestId }, 'token refused: password change required')
      throw new AppError('password_change_required', 'token.passwordChangeRequired')
    }
    await recordSignIn(ctx, user, 'api', req.ip)
    const { token } = await issueToken(ctx, user, input)
    res.status(201).json({ token })
  })

  router.get('/me', requireSignIn, (req, res) => {
    const u = req.user!
    res.json({ username: u.username, name: u.name, roles: u.roles })
  })

  return router
}
