import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { listEntries, verifyAudit } from '../../services/audit.service.js'
import { requireRole } from '../middleware/auth.js'
import { pageParam } from '../forms/common.form.js'

const PAGE_SIZE = 50

export function auditRoutes(ctx: AppContext): Router {
  const router = Router()
  router.get('/audit', requireRole('admin', 'committee'), async (req, res) => {
    const entity = typeof req.query.entity === 'string' ? req.query.entity.slice(0, 50) : ''
    const action = typeof req.query.action === 'string' ? req.query.action.slice(0, 80) : ''
    const page = pageParam(req.query.page)
    const [verification, list] = [await verifyAudit(ctx.db), await listEntries(ctx.db, { entity: entity || undefined, action: action || undefined, page, pageSize: PAGE_SIZE })]
    res.render('audit/index', {
      title: req.t('audit.title'),
      verification,
      entries: list.items.map((e) => ({ ...e, dataText: JSON.stringify(e.data) })),
      total: list.total,
      page,
      pages: Math.max(1, Math.ceil(list.total / PAGE_SIZE)),
      entity,
      action,
    })
  })
  return router
}
