import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { paperApprovalReview, UNCONFIRMED_DAYS } from '../../services/loan-paper.service.js'
import { getSettings } from '../../services/settings.service.js'
import { bangkokDate } from '../../i18n/calendar.js'
import { requireRole } from '../../http/middleware/auth.js'

/**
 * The committee's list of paper approvals to look at (SPEC §1): unconfirmed after 7 Bangkok days,
 * disputed, without a scan, and loans one user entered, recorded and handed over. A page that prints
 * on A4; finance sees it too, to mend what it can.
 */
export function paperApprovalRoutes(ctx: AppContext): Router {
  const router = Router()
  router.get('/paper-approvals', requireRole('committee', 'admin', 'finance', 'executive'), async (req, res) => {
    const entries = await paperApprovalReview(ctx)
    const settings = await getSettings(ctx)
    const count = (r: string) => entries.filter((e) => (e.reasons as string[]).includes(r)).length
    res.render('loans/paper-review', {
      title: req.t('paperReview.title'),
      agencyName: settings.agencyName,
      twoPersonRule: settings.twoPersonRule,
      asOf: bangkokDate(ctx.clock.now()),
      days: UNCONFIRMED_DAYS,
      entries,
      counts: { unconfirmed: count('unconfirmed'), disputed: count('disputed'), noScan: count('noScan'), oneHand: count('oneHand') },
    })
  })
  return router
}
