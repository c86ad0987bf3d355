import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { checkWitness, listEntries, verifyAudit } from '../../services/audit.service.js'
import { requireRole } from '../../http/middleware/auth.js'
import { pageParam } from '../forms/common.form.js'

const PAGE_SIZE = 50

export function auditRoutes(ctx: AppContext): Router {
  const router = Router()
  router.get('/audit', requireRole('admin', 'committee'), async (req, res) => {
    const entity = typeof req.query.entity === 'string' ? req.query.entity.slice(0, 50) : ''
    const action = typeof req.query.action === 'string' ? req.query.action.slice(0, 80) : ''
    const page = pageParam(req.query.page)
    const verification = await verifyAudit(ctx.db, ctx.anchor)
    const list = await listEntries(ctx.db, { entity: entity || undefined, action: action || undefined, page, pageSize: PAGE_SIZE })
    // A chain head read off a printed document or the public page (SPEC §5): paper as a witness.
    const witnessSeq = typeof req.query.seq === 'string' ? req.query.seq.trim().slice(0, 12) : ''
    const witnessHash = typeof req.query.hash === 'string' ? req.query.hash.slice(0, 100) : ''
    let witness: Awaited<ReturnType<typeof checkWitness>> | 'invalid' | undefined
    if (witnessSeq !== '' || witnessHash !== '') {
      // As printed: Thai digits and thousands separators are fine.
      const digits = witnessSeq.replace(/[\u0E50-\u0E59]/g, (d) => String(d.charCodeAt(0) - 0x0e50)).replace(/[,\s]/g, '')
      const seq = /^\d{1,12}$/.test(digits) ? Number(digits) : NaN
      witness = (await checkWitness(ctx.db, seq, witnessHash)) ?? 'invalid'
    }
    res.render('audit/index', {
      title: req.t('audit.title'),
      verification,
      witness,
      witnessSeq,
      witnessHash,
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
