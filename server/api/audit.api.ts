import { Router } from 'express'
import type { AppContext } from '../context.js'
import { verifyAudit } from '../services/audit.service.js'
import { requireRole } from '../http/middleware/auth.js'

export function auditApi(ctx: AppContext): Router {
  const router = Router()
  router.get('/audit/verify', requireRole('committee', 'admin'), async (_req, res) => {
    const r = await verifyAudit(ctx.db, ctx.anchor)
    res.json(
      r.ok
        ? { ok: true, entries: r.entries }
        : {
            ok: false,
            entries: r.entries,
            ...(r.brokenAt !== undefined ? { brokenAt: r.brokenAt, reason: r.reason } : {}),
            ...(r.problems.length ? { problems: r.problems } : {}),
          },
    )
  })
  return router
}
