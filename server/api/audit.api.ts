import { Router } from 'express'
import type { AppContext } from '../context.js'
import { verifyChain } from '../services/audit.service.js'
import { requireRole } from '../web/middleware/auth.js'

export function auditApi(ctx: AppContext): Router {
  const router = Router()
  router.get('/audit/verify', requireRole('committee', 'admin'), async (_req, res) => {
    const r = await verifyChain(ctx.db)
    res.json(r.ok ? { ok: true, entries: r.entries } : { ok: false, entries: r.entries, brokenAt: r.brokenAt, reason: r.reason })
  })
  return router
}
