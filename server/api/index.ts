import express, { Router, type RequestHandler } from 'express'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import { loadTokenUser } from '../http/middleware/auth.js'
import { refuseUntypeableInput } from '../http/middleware/input.js'
import { authApi } from './auth.api.js'
import { usersApi } from './users.api.js'
import { auditApi } from './audit.api.js'
import { assetsApi } from './assets.api.js'
import { loansApi } from './loans.api.js'
import { stockApi } from './stock.api.js'
import { reportsApi } from './reports.api.js'
import { notificationsApi } from './notifications.api.js'

/** JSON API v1: bearer tokens only (no cookies, so no CSRF); errors in the shape of SPEC §5. */
export function apiRouter(ctx: AppContext, opts: { signInLimiters: RequestHandler[] }): Router {
  const router = Router()
  router.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store')
    next()
  })
  router.use(express.json({ limit: '1mb' }))
  router.use(loadTokenUser(ctx))
  router.use(refuseUntypeableInput())
  router.use(authApi(ctx, opts))
  router.use(usersApi(ctx))
  router.use(auditApi(ctx))
  router.use(assetsApi(ctx))
  router.use(loansApi(ctx))
  router.use(stockApi(ctx))
  router.use(reportsApi(ctx))
  router.use(notificationsApi(ctx))
  router.use(() => {
    throw new AppError('not_found', 'error.notFound')
  })
  return router
}
