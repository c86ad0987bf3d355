import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { requireSignIn } from '../../http/middleware/auth.js'
import { ROLES } from '../../../db/schema.js'
import { listLoans, loanActionCounts, loanQueues } from '../../services/loan.service.js'
import { myLoanLists } from '../../services/loan-query.service.js'
import { hasRole } from '../../services/user.service.js'
import { bangkokDate } from '../../i18n/calendar.js'
import { loanRow, queueModel } from '../loan-page-views.js'
import { getSettings } from '../../services/settings.service.js'
import { paperApprovalReview } from '../../services/loan-paper.service.js'
import { publicationList } from '../publication-view.js'
import { setupChecklist } from '../../services/setup.service.js'

/** How many lines each dashboard list shows; the queue page has the rest. */
const DASHBOARD_LIMIT = 5

/** The segregation reason shown beside a count that leaves loans out (issue 17). */
const LEFT_OUT_REASON: Record<string, string> = {
  toCheck: 'home.leftOut.decide',
  toApprove: 'home.leftOut.decide',
  awaitingExecutive: 'home.leftOut.decide',
  toHandOver: 'home.leftOut.handOver',
  extensions: 'home.leftOut.extension',
  toConfirm: 'home.leftOut.confirm',
}

export function homeRoutes(ctx: AppContext): Router {
  const router = Router()
  router.get('/', requireSignIn, async (req, res) => {
    const user = req.user!
    const today = bangkokDate(ctx.clock.now())
    const finance = hasRole(user, 'finance')
    const executive = hasRole(user, 'executive')
    const committee = hasRole(user, 'committee')
    const counts = await loanActionCounts(ctx, user)
    const settings = await getSettings(ctx)
    // SPEC §1: the executive and the committee see that the two-person rule is off, and what to review.
    const overseer = executive || committee
    const review = overseer ? await paperApprovalReview(ctx) : []
    const borrower = hasRole(user, 'staff') || counts.myOpen > 0
    const mine = borrower ? await listLoans(ctx, user, { mine: true, open: true, page: 1, pageSize: 20 }) : { items: [], total: 0 }
    const sections = finance || executive || counts.toConfirm > 0 ? queueModel(await loanQueues(ctx, user, { limit: DASHBOARD_LIMIT }), today) : []
    const section = (key: string) => sections.find((s) => s.key === key)
    const myLists = borrower ? await myLoanLists(ctx, user, { limit: DASHBOARD_LIMIT }) : []
    // Reports waiting for this person: the committee's review, the executive's approval, finance's resubmission.
    const reports = finance || overseer ? (await publicationList(ctx, user)).filter((i) => i.awaitsYou).map((i) => i.pub) : []
    /**
     * What waits for this person, in the order the work flows; each list's count is its own total,
     * from the same query as its lines, so a count always equals the list beneath it (issue 17).
     */
    type Waiting = { key: string; title: string; total: number; rows: ReturnType<typeof loanRow>[]; more: string; leftOut: number; leftOutKey: string | null }
    const waiting: Waiting[] = []
    const fromQueue = (key: string) => {
      const s = section(key)
      if (!s) return
      waiting.push({
        key,
        title: `loanPages.queue.${key}`,
        total: s.total,
        rows: s.rows,
        more: `/loans/queue#q-${key}`,
        leftOut: s.leftOut,
        leftOutKey: LEFT_OUT_REASON[key] ?? null,
      })
    }
    const fromMine = (key: string) => {
      const s = myLists.find((l) => l.key === key)
      if (!s) return
      const href = key === 'myToCollect' ? '/loans?mine=1&status=approved' : key === 'myOverdue' ? '/loans?mine=1&overdue=1' : '/loans?mine=1&status=on_loan'
      waiting.push({ key, title: `home.list.${key}`, total: s.total, rows: s.loans.map((v) => loanRow(v, today)), more: href, leftOut: 0, leftOutKey: null })
    }
    if (finance) for (const k of ['toCheck', 'toApprove', 'toHandOver', 'dueToday']) fromQueue(k)
    if (executive) fromQueue('awaitingExecutive')
    fromQueue('toConfirm')
    if (finance) fromQueue('paperDisputed')
    if (finance || executive) fromQueue('extensions')
    if (borrower) for (const k of ['myToCollect', 'myOverdue', 'myDueSoon']) fromMine(k)
    // Lists to watch rather than act on (SPEC §4: overdue and past the follow-up deadline; due within 3 days).
    const watching: Waiting[] = []
    const before = waiting.length
    if (finance || executive) fromQueue('overdue')
    if (finance) fromQueue('dueSoon')
    watching.push(...waiting.splice(before))
    // A list the person has nothing in is left out of the lead (except their own first lists), but its card says 0.
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
      waiting,
      watching,
      pastDeadline: section('pastDeadline')?.total ?? 0,
      reports,
      setup: hasRole(user, 'admin') ? await setupChecklist(ctx) : null,
    })
  })
  return router
}
