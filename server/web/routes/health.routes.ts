import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { checkDatabase } from '../../services/health.service.js'

export function healthRoutes(ctx: AppContext): Router {
  const router = Router()
  router.get('/healthz', async (_req, res) => {
    await checkDatabase(ctx)
    res.set('Cache-Control', 'no-store').json({ status: 'ok' })
  })
  return router
}
