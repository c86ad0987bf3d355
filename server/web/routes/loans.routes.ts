import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError } from '../../errors.js'
import {
  addFollowUp,
  approveLoan,
  cancelLoan,
  decideExtension,
  listLoans,
  loanQueues,
  rejectLoan,
  requestExtension,
  updateCompensation,
} from '../../services/loan.service.js'
import { LOAN_STATUSES } from '../../services/loan-rules.js'
import { getSettings } from '../../services/settings.service.js'
import { hasRole } from '../../services/user.service.js'
import { bangkokDate, fiscalYearOf } from '../../i18n/calendar.js'
import { requireRole, requireSignIn } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { loanId, refusal, renderLoanPage } from '../loan-page.js'
import { listFilter, loanRow, parseNumber, queueModel } from '../loan-page-views.js'
import { bodyOf, idParam, str, type FormBody } from '../forms/common.form.js'
import { scanOf } from '../forms/scan.form.js'
import { confirmPaperApproval, disputePaperApproval, voidPaperApproval } from '../../services/loan-paper.service.js'

/*
 * The loan list, the queues, the loan page and its actions (approve, reject, cancel, extensions,
 * follow-ups, compensation). The view-models are in loan-page-views.ts, the page itself in
 * loan-page.ts; the hand-over and return screens are loan-handover.routes.ts.
 */

const PAGE_SIZE = 50

function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

function text(b: FormBody, name: string): string {
  return (str(b[name]) ?? '').trim()
}

// ---------------------------------------------------------------- the router

export function loanRoutes(ctx: AppContext): Router {
  const router = Router()

  router.get('/loans', requireSignIn, async (req, res) => {
    const user = req.user!
    const filter = listFilter(req.query)
    const seeAll = hasRole(user, 'finance', 'executive', 'committee', 'admin')
    const number = parseNumber(filter.q)
    const t = today(ctx)
    const result =
      number === null
        ? { items: [], total: 0 }
        : await listLoans(ctx, user, {
            status: filter.status || undefined,
            overdue: filter.overdue,
            fiscalYear: number?.fiscalYear ?? filter.fiscalYear,
            seq: number?.seq,
            mine: filter.mine,
            page: filter.page,
            pageSize: PAGE_SIZE,
          })
    const currentFy = fiscalYearOf(t)
    res.render('loans/index', {
      title: req.t('loanPages.list.title'),
      filter,
      seeAll,
      statuses: LOAN_STATUSES,
      fiscalYears: Array.from({ length: 6 }, (_, i) => currentFy - i),
      numberError: number === null ? req.t('loanPages.list.badNumber') : '',
      rows: result.items.map((v) => loanRow(v, t)),
      total: result.total,
      page: filter.page,
      pages: Math.max(1, Math.ceil(result.total / PAGE_SIZE)),
      showQueueLink: hasRole(user, 'finance', 'executive'),
      pagerQuery: Object.fromEntries(
        Object.entries({
          status: filter.status,
          overdue: filter.overdue ? '1' : '',
          fy: filter.fiscalYear ? String(filter.fiscalYear) : '',
          q: filter.q,
          mine: filter.mine ? '1' : '',
        }).filter(([, v]) => v),
      ),
    })
  })

  router.get('/loans/queue', requireRole('finance', 'executive'), async (req, res) => {
    const settings = await getSettings(ctx)
    const t = today(ctx)
    res.render('loans/queue', {
      title: req.t('loanPages.queue.title'),
      sections: queueModel(await loanQueues(ctx, req.user!), t),
      followUpDays: settings.followUpDays,
    })
  })

  router.get('/loans/:id', requireSignIn, async (req, res) => {
    await renderLoanPage(ctx, req, res, 200, loanId(req))
  })

  /** A POST on the loan page: run the action, then PRG with a flash; a refusal re-renders the page with its status. */
  function action(
    form: string,
    run: (req: Request, id: number, b: FormBody, res: Response) => Promise<string | { key: string; params?: Record<string, string | number> }>,
  ) {
    return async (req: Request, res: Response) => {
      const id = loanId(req)
      const b = bodyOf(req)
      try {
        const done = await run(req, id, b, res)
        const msg = typeof done === 'string' ? { key: done } : done
        flash(req, 'success', msg.key, msg.params)
        res.redirect(303, `/loans/${id}`)
      } catch (e) {
        const values = Object.fromEntries(
          Object.entries(b)
            .filter(([k]) => k !== '_csrf')
            .map(([k, v]) => [k, str(v) ?? '']),
        )
        await renderLoanPage(ctx, req, res, (e as AppError).status ?? 500, id, refusal(e, req.t, form, values))
      }
    }
  }

  // Each action names its roles as the API does (docs/PERMISSIONS.md), so that a person without them
  // gets 403 before the form is read — not a validation message about a form they may not send.
  router.post(
    '/loans/:id/approve',
    requireRole('finance', 'executive'),
    action('approve', async (req, id, b) => {
      const v = await approveLoan(ctx, req.user!, id, { note: text(b, 'note') })
      return v.loan.status === 'approved' ? 'loanPages.done.approved' : 'loanPages.done.checked'
    }),
  )

  router.post(
    '/loans/:id/approve-paper',
    requireRole('finance'),
    action('paper', async (req, id, b, res) => {
      await approveLoan(
        ctx,
        req.user!,
        id,
        { onPaper: { approverName: text(b, 'approverName'), date: text(b, 'date'), note: text(b, 'note') } },
        { scan: scanOf(req, res, 'onPaper') },
      )
      return 'loanPages.done.paperApproved'
    }),
  )

  // The named approver answers a paper approval recorded in their name; finance voids a disputed one.
  const paperAnswers = [
    ['confirm', 'paperConfirm', ['finance', 'executive'], confirmPaperApproval],
    ['dispute', 'paperDispute', ['finance', 'executive'], disputePaperApproval],
    ['void', 'paperVoid', ['finance'], voidPaperApproval],
  ] as const
  for (const [answer, form, roles, run] of paperAnswers) {
    router.post(
      `/loans/:id/paper/${answer}`,
      requireRole(...roles),
      action(form, async (req, id, b) => {
        await run(ctx, req.user!, id, { note: text(b, 'note'), reason: text(b, 'reason') })
        return `paperPage.done.${answer}`
      }),
    )
  }

  router.post(
    '/loans/:id/reject',
    requireRole('finance', 'executive'),
    action('reject', async (req, id, b) => {
      await rejectLoan(ctx, req.user!, id, { reason: text(b, 'reason') })
      return 'loanPages.done.rejected'
    }),
  )

  router.post(
    '/loans/:id/cancel',
    requireRole('staff', 'finance'),
    action('cancel', async (req, id, b) => {
      await cancelLoan(ctx, req.user!, id, { reason: text(b, 'reason') })
      return 'loanPages.done.cancelled'
    }),
  )

  router.post(
    '/loans/:id/extensions',
    requireRole('staff', 'finance'),
    action('extension', async (req, id, b) => {
      await requestExtension(ctx, req.user!, id, { dueDate: text(b, 'dueDate'), reason: text(b, 'reason') })
      return 'loanPages.done.extensionAsked'
    }),
  )

  router.post(
    '/loans/:id/extensions/:extId',
    requireRole('finance', 'executive'),
    action('decideExtension', async (req, id, b) => {
      const extId = idParam(req.params.extId)
      if (extId === undefined) throw new AppError('not_found', 'loan.extension.notFound')
      const decision = text(b, 'decision')
      // Only the form's two buttons decide: anything else (a body without them) is not a refusal.
      if (decision !== 'approve' && decision !== 'reject')
        throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'decision', message: 'input.decisionRequired' }])
      const approve = decision === 'approve'
      await decideExtension(ctx, req.user!, id, extId, { approve, note: text(b, 'note'), onPaper: text(b, 'onPaper') === '1' })
      return approve ? 'loanPages.done.extensionApproved' : 'loanPages.done.extensionRejected'
    }),
  )

  router.post(
    '/loans/:id/follow-ups',
    requireRole('finance'),
    action('followUp', async (req, id, b) => {
      await addFollowUp(ctx, req.user!, id, {
        method: text(b, 'method'),
        onDate: text(b, 'onDate') || undefined,
        letterNumber: text(b, 'letterNumber'),
        letterDate: text(b, 'letterDate') || null,
        note: text(b, 'note'),
      })
      return 'loanPages.done.followedUp'
    }),
  )

  router.post(
    '/loans/:id/compensations/:compId',
    requireRole('finance'),
    action('compensation', async (req, id, b) => {
      const compId = idParam(req.params.compId)
      if (compId === undefined) throw new AppError('not_found', 'loan.compensation.notFound')
      await updateCompensation(ctx, req.user!, id, compId, {
        method: text(b, 'method'),
        currentPrice: text(b, 'currentPrice') || null,
        decidedAmount: text(b, 'decidedAmount') || null,
        orderRef: text(b, 'orderRef'),
        policeRef: text(b, 'policeRef'),
        receiptRef: text(b, 'receiptRef'),
        settledOn: text(b, 'settledOn') || null,
        note: text(b, 'note'),
      })
      return 'loanPages.done.compensationSaved'
    }),
  )

  return router
}
