import type { NextFunction, Request, Response } from 'express'
import type { Role } from '../../../db/schema.js'
import type { AppContext } from '../../context.js'
import { AppError } from '../../errors.js'
import { translator } from '../../i18n/index.js'
import { authenticateToken } from '../../services/token.service.js'
import { getCurrentUser, hasRole } from '../../services/user.service.js'
import { requestScope } from '../../lib/cache.js'

/** This request's context (req.context): the app's, its kept reads pinned at the request's start (server/lib/cache.ts). */
export function contextOf(ctx: AppContext, req: Request): AppContext {
  return (req.context ??= requestScope(ctx))
}

/** Pages: the user of the session cookie; an account deactivated meanwhile is signed out. */
export function loadSessionUser(ctx: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const id = req.session?.userId
    if (id !== undefined) {
      const user = await getCurrentUser(contextOf(ctx, req), id)
      if (user) {
        req.user = user
        req.locale = user.locale
        req.t = translator(user.locale)
      } else {
        delete req.session.userId
      }
    }
    next()
  }
}

/** API: `Authorization: Bearer <token>` only — no cookies, so no CSRF. */
export function loadTokenUser(ctx: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization')
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
    if (match) {
      const check = await authenticateToken(ctx, match[1]!)
      if (!check) throw new AppError('unauthenticated', 'error.unauthenticated')
      const user = check.user
      req.locale = user.locale
      req.t = translator(user.locale)
      // A temporary password must be replaced on the sign-in page before the API does anything.
      if (!check.ok) throw new AppError(check.code, 'token.passwordChangeRequired')
      req.user = user
    }
    next()
  }
}

/**
 * The one role check for pages and API alike. Anonymous → `unauthenticated` (the API answers
 * 401, pages redirect to sign-in); a signed-in user without any of the roles → `forbidden`.
 * With no roles listed, any signed-in user passes.
 */
export function requireRole(...roles: Role[]) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!req.user) throw new AppError('unauthenticated', 'error.unauthenticated')
    if (roles.length > 0 && !hasRole(req.user, ...roles)) {
      throw new AppError('forbidden', 'error.forbidden', { roles: roles.join(',') })
    }
    next()
  }
}

export const requireSignIn = requireRole()
