import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { requireSignIn } from '../../http/middleware/auth.js'
import { ROLES } from '../../../db/schema.js'
import { listLoans, loanActionCounts, loanQueues } from '../../services/loan.service.js'
import { hasRole } from '../../services/user.service.js'
import { bangkokDate } from '../../i18n/calendar.js'
import { loanRow, queueModel } from '../loan-page-views.js'
import { getSettings } from '../../services/settings.service.js'
import { paperApprovalReview } from '../../services/loan-paper.service.js'

/** How many lines each dashboard list shows; the queue page has the rest. */
const DASHBOARD_LIMIT = 5

export function homeRoutes(ctx: AppContext): Router {
  const router = Router()
  router.get('/', requireSignIn, async (req, res) => {
    const user = req.user!
    const today = bangkokDate(ctx.clock.now())
    const finance = hasRole(user, 'finance')
    const executive = hasRole(user, 'executive')
    const counts = await loanActionCounts(ctx, user)
    const settings = await getSettings(ctx)
    // SPEC §1: the executive and the committee see that the two-person rule is off, and what to review.
    const overseer = executive || hasRole(user, 'committee')
    const review = overseer ? await paperApprovalReview(ctx) : []
    const mine =
      hasRole(user, 'staff') || counts.myOpen > 0 ? await listLoans(ctx, user, { mine: true, open: true, page: 1, pageSize: 20 }) : { items: [], total: 0 }
    const sections = finance || executive || counts.toConfirm > 0 ? queueModel(await loanQueues(ctx, user, { limit: DASHBOARD_LIMIT }), today) : []
    const section = (key: string) => sections.find((s) => s.key === key)
    res.render('home/index', {
      title: req.t('nav.home'),
      roleCards: ROLES.filter((r) => user.roles.includes(r)).map((r) => ({ role: r, name: req.t(`role.${r}`), can: req.t(`role.${r}.can`) })),
      counts,
      finance,
      executive,
      twoPersonOff: overseer && !settings.twoPersonRule,
      paperReviewCount: overseer ? review.length : null,
      showMine: mine.total > 0 || hasRole(user, 'staff'),
      myLoans: mine.items.map((v) => loanRow(v, today)),
      myTotal: mine.total,
      // Awaiting my action: what the person's roles must do next, in the order the work flows.
      awaiting: [
        ...(finance ? ['toCheck', 'toApprove'] : []),
        ...(executive ? ['awaitingExecutive'] : []),
        ...(finance || executive ? ['extensions'] : []),
        'toConfirm',
      ].flatMap((k) => (section(k) ? [section(k)!] : [])),
      handOverToday: section('toHandOver'),
      // One list for "overdue and past the follow-up deadline": the past-deadline ones carry their own mark.
      overdue: section('overdue'),
      dueSoon: section('dueSoon'),
    })
  })
  return router
}
