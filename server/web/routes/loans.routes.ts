import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import {
  addFollowUp,
  approveLoan,
  cancelLoan,
  compensationUpdates,
  DUE_SOON_DAYS,
  decideExtension,
  expireLoansIfDue,
  getLoan,
  handOver,
  listLoans,
  loanQueues,
  receiveReturn,
  rejectLoan,
  requestExtension,
  updateCompensation,
  type LoanView,
  type QueueSection,
} from '../../services/loan.service.js'
import {
  checkApprover,
  checkHandler,
  COMPENSATION_METHODS,
  FOLLOW_UP_METHODS,
  ITEM_CONDITIONS,
  LOAN_STATUSES,
  roleForStep,
  type LoanKind,
  type LoanStatus,
} from '../../services/loan-rules.js'
import { getSettings, type AgencySettings } from '../../services/settings.service.js'
import { resolveScan } from '../../services/label.service.js'
import { stockReturnEvents, type StockReturnEvent } from '../../services/loan-stock-events.service.js'
import { hasRole, type CurrentUser } from '../../services/user.service.js'
import { addDays, bangkokDate, daysBetween, fiscalYearOf, loanDays } from '../../i18n/calendar.js'
import { formatDate, formatSatang, normalizeCode } from '../../i18n/format.js'
import type { Translate } from '../../i18n/index.js'
import { requireRole, requireSignIn } from '../middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { loanPageExtras } from '../loan-extras.js'
import { bodyOf, fieldErrors, idParam, list, pageParam, str, type FormBody } from '../forms/common.form.js'
import { parseCount } from '../forms/stock-lines.form.js'

const PAGE_SIZE = 50
const THAI_DIGIT = /[\u0E50-\u0E59]/g

/** The state of one form after a refused POST: which form, its values, its errors and the message. */
interface FormState {
  form: string
  message: string
  errors: Record<string, string>
  values: Record<string, string>
}

const NO_FORM: FormState = { form: '', message: '', errors: {}, values: {} }

function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

function loanId(req: Request): number {
  const id = idParam(req.params.id)
  if (id === undefined) throw new AppError('not_found', 'loan.notFound')
  return id
}

/** A refused action as form state; "not found" and unexpected errors go on to the error handler. */
function refusal(e: unknown, t: Translate, form: string, values: Record<string, string>): FormState {
  if (!isAppError(e) || e.status >= 500 || e.code === 'not_found' || e.code === 'unauthenticated') throw e
  // Nested service fields (onPaper.approverName, items.0.condition) are one field of the page's form.
  const errors = fieldErrors(e.details?.map((d) => ({ ...d, field: d.field.split('.').filter((p) => !/^\d+$/.test(p)).pop() ?? d.field })), t)
  const message = e.details && e.details.length > 0 ? Object.values(errors).join(' · ') : t(e.messageKey, e.params)
  return { form, message, errors, values }
}

function text(b: FormBody, name: string): string {
  return (str(b[name]) ?? '').trim()
}

// ---------------------------------------------------------------- list filters

export interface LoanListFilter {
  status: LoanStatus | ''
  overdue: boolean
  fiscalYear: number | undefined
  q: string
  mine: boolean
  page: number
}

function listFilter(query: Request['query']): LoanListFilter {
  const s = (k: string) => (typeof query[k] === 'string' ? (query[k] as string).trim().slice(0, 50) : '')
  const status = s('status')
  const fy = s('fy')
  return {
    status: (LOAN_STATUSES as readonly string[]).includes(status) ? (status as LoanStatus) : '',
    overdue: s('overdue') === '1',
    fiscalYear: /^\d{4}$/.test(fy) ? Number(fy) : undefined,
    q: s('q'),
    mine: s('mine') === '1',
    page: pageParam(query.page),
  }
}

/** «12/2568», «12» or Thai digits «๑๒/๒๕๖๘» → the running number and perhaps its fiscal year. */
function parseNumber(q: string): { seq: number; fiscalYear?: number } | null | undefined {
  if (q === '') return undefined
  const ascii = q.replace(THAI_DIGIT, (d) => String(d.charCodeAt(0) - 0x0e50))
  const m = /^(\d{1,7})\s*(?:\/\s*(\d{4}))?$/.exec(ascii)
  if (!m) return null
  return { seq: Number(m[1]), fiscalYear: m[2] ? Number(m[2]) : undefined }
}

// ---------------------------------------------------------------- view models

export interface LoanRowModel {
  id: number
  number: string
  status: string
  kind: string
  borrower: string
  organisation: string
  items: string
  itemCount: number
  startOn: string
  dueOn: string
  overdue: boolean
  daysOverdue: number
  dueSoon: boolean
  pastDeadline: boolean
  followUpDeadline: string
  pendingExtension: boolean
}

/** One line of a loan list or queue: what a person needs to pick the loan out at a glance. */
export function loanRow(v: LoanView, todayDate: string): LoanRowModel {
  const pastDeadline = v.overdue && v.followUpDeadline < todayDate && !v.followUps.some((f) => f.on_date > v.loan.due_on)
  return {
    id: v.loan.id,
    number: v.number,
    status: v.loan.status,
    kind: v.loan.kind,
    borrower: v.borrower.name,
    organisation: v.borrower.organisation,
    items: [...v.items.map((i) => i.asset_code), ...v.stock.map((l) => `${l.code} ×${l.quantity}`)].join(', '),
    itemCount: v.items.length + v.stock.length,
    startOn: v.loan.start_on,
    dueOn: v.loan.due_on,
    overdue: v.overdue,
    daysOverdue: v.overdue ? daysBetween(v.loan.due_on, todayDate) : 0,
    dueSoon: v.loan.status === 'on_loan' && !v.overdue && v.loan.due_on <= addDays(todayDate, DUE_SOON_DAYS),
    pastDeadline,
    followUpDeadline: v.followUpDeadline,
    pendingExtension: v.extensions.some((e) => e.status === 'pending'),
  }
}

export function queueModel(sections: QueueSection[], todayDate: string) {
  return sections.map((s) => ({ key: s.key, total: s.total, rows: s.loans.map((v) => loanRow(v, todayDate)) }))
}

interface TimelineEntry {
  at: string
  what: string
  actor: string
  detail: string
  tone: '' | 'ok' | 'warn' | 'danger'
}

function fmtDate(req: Request, d: string): string {
  return formatDate(d, { locale: req.locale })
}

/** Every step of the loan with its actor and time, oldest first. */
function timeline(req: Request, v: LoanView, compUpdates: Array<{ compensationId: number; at: string; actorName: string }>, stockEvents: StockReturnEvent[] = []): TimelineEntry[] {
  const t = req.t
  const who = (id: number | null | undefined) => (id ? (v.people.get(id)?.name ?? '') : '')
  const l = v.loan
  const out: TimelineEntry[] = []
  out.push({
    at: l.requested_at,
    what: t(l.entered_after_fact ? 'loanPages.tl.enteredAfterFact' : 'loanPages.tl.requested'),
    actor: who(l.requested_by),
    detail: t('loanPages.tl.requestedDetail', { kind: t(`loan.kind.${l.kind}`), from: fmtDate(req, l.start_on), to: fmtDate(req, l.original_due_on) }),
    tone: '',
  })
  for (const a of v.approvals) {
    if (a.step === 'check') {
      out.push({ at: a.at, what: t('loanPages.tl.checked'), actor: a.by_user_id ? who(a.by_user_id) || a.by_name : a.by_name, detail: a.note, tone: 'ok' })
    } else if (a.on_paper) {
      out.push({
        at: a.at,
        what: t('loanPages.tl.approvedOnPaper'),
        actor: who(a.recorded_by),
        detail: [t('loanPages.tl.paperDetail', { name: a.by_name, date: a.paper_date ? fmtDate(req, a.paper_date) : '' }), a.note].filter(Boolean).join(' — '),
        tone: 'ok',
      })
    } else {
      out.push({ at: a.at, what: t('loanPages.tl.approved'), actor: who(a.by_user_id) || a.by_name, detail: a.note, tone: 'ok' })
    }
  }
  if (l.rejected_at) out.push({ at: l.rejected_at, what: t('loanPages.tl.rejected'), actor: who(l.rejected_by), detail: l.rejection_reason ?? '', tone: 'danger' })
  if (l.cancelled_at) out.push({ at: l.cancelled_at, what: t('loanPages.tl.cancelled'), actor: who(l.cancelled_by), detail: l.cancel_reason ?? '', tone: 'danger' })
  if (l.expired_at) out.push({ at: l.expired_at, what: t('loanPages.tl.expired'), actor: t('loanPages.system'), detail: '', tone: 'warn' })
  if (l.handed_over_at) {
    const onDate = l.handed_over_on && l.handed_over_on !== bangkokDate(new Date(l.handed_over_at)) ? t('loanPages.tl.handedOverOn', { date: fmtDate(req, l.handed_over_on) }) : ''
    const lines = [
      ...v.items.map((i) => i.asset_code),
      ...v.stock.map((s) => t('loanStock.tl.handedOverLine', { code: s.code, quantity: s.handed_over_at ? s.handed_over_qty : s.quantity, unit: s.unit })),
    ]
    out.push({ at: l.handed_over_at, what: t('loanPages.tl.handedOver'), actor: who(l.handed_over_by), detail: [lines.join(', '), onDate].filter(Boolean).join(' — '), tone: 'ok' })
  }
  for (const e of v.extensions) {
    out.push({
      at: e.requested_at,
      what: t('loanPages.tl.extensionAsked'),
      actor: who(e.requested_by),
      detail: `${t('loanPages.tl.extensionDates', { from: fmtDate(req, e.from_due_on), to: fmtDate(req, e.to_due_on) })} — ${e.reason}`,
      tone: '',
    })
    if (e.decided_at) {
      out.push({
        at: e.decided_at,
        what: t(e.status === 'approved' ? 'loanPages.tl.extensionApproved' : 'loanPages.tl.extensionRejected'),
        actor: who(e.decided_by),
        detail: [e.on_paper ? t('loanPages.flag.onPaper') : '', e.decision_note].filter(Boolean).join(' — '),
        tone: e.status === 'approved' ? 'ok' : 'danger',
      })
    }
  }
  for (const f of v.followUps) {
    out.push({
      at: f.created_at,
      what: t('loanPages.tl.followedUp', { method: t(`loan.followUp.${f.method}`) }),
      actor: who(f.created_by),
      detail: [
        t('loanPages.tl.followUpOn', { date: fmtDate(req, f.on_date) }),
        f.letter_number ? t('loanPages.tl.letter', { number: f.letter_number, date: f.letter_date ? fmtDate(req, f.letter_date) : '' }) : '',
        f.note,
      ]
        .filter(Boolean)
        .join(' — '),
      tone: '',
    })
  }
  for (const i of v.items) {
    if (!i.returned_at) continue
    out.push({
      at: i.returned_at,
      what: t('loanPages.tl.itemReturned', { code: i.asset_code, condition: i.condition ? t(`loan.condition.${i.condition}`) : '' }),
      actor: i.received_by_name ?? '',
      detail: [i.returned_by_name ? t('loanPages.tl.broughtBy', { name: i.returned_by_name }) : '', i.returned_on && i.returned_on > l.due_on ? t('loanPages.late', { days: daysBetween(l.due_on, i.returned_on) }) : '', i.note]
        .filter(Boolean)
        .join(' — '),
      tone: i.condition === 'good' ? 'ok' : 'danger',
    })
  }
  for (const e of stockEvents) {
    const line = v.stock.find((s) => s.code === e.code)
    const on = bangkokDate(new Date(e.at))
    out.push({
      at: e.at,
      what: t('loanStock.tl.returned', { code: e.code, good: e.good, damaged: e.damaged, lost: e.lost, unit: line?.unit ?? '' }),
      actor: e.actorName,
      detail: [e.returnedBy ? t('loanPages.tl.broughtBy', { name: e.returnedBy }) : '', on > l.due_on ? t('loanPages.late', { days: daysBetween(l.due_on, on) }) : '', e.note].filter(Boolean).join(' — '),
      tone: e.damaged + e.lost > 0 ? 'danger' : 'ok',
    })
  }
  if (l.returned_at) out.push({ at: l.returned_at, what: t('loanPages.tl.returned'), actor: '', detail: '', tone: 'ok' })
  for (const c of v.compensations) {
    const item = v.items.find((i) => i.id === c.loan_item_id)
    const line = c.loan_stock_line_id !== null ? v.stock.find((s) => s.id === c.loan_stock_line_id) : undefined
    out.push({
      at: c.created_at,
      what: t('loanPages.tl.compensationOpened', { code: compensationSubject(t, v, c) }),
      actor: item?.received_by_name ?? (line?.received_by ? (v.people.get(line.received_by)?.name ?? '') : ''),
      detail: c.proposed_satang !== null ? t('loanPages.comp.proposedBaht', { amount: formatSatang(c.proposed_satang) }) : '',
      tone: 'warn',
    })
  }
  for (const u of compUpdates) {
    const c = v.compensations.find((x) => x.id === u.compensationId)
    out.push({ at: u.at, what: t('loanPages.tl.compensationUpdated', { code: c ? compensationSubject(t, v, c) : '' }), actor: u.actorName, detail: '', tone: '' })
  }
  // Stable: steps recorded at the same instant keep the order in which they happen.
  return out.map((e, i) => ({ e, i })).sort((a, b) => a.e.at.localeCompare(b.e.at) || a.i - b.i).map((x) => x.e)
}

/** What this person may do with this loan now: decisions for the view, from roles, state and the rules. */
function decisions(user: CurrentUser, v: LoanView, settings: AgencySettings, todayDate: string) {
  const l = v.loan
  const finance = hasRole(user, 'finance')
  const own = l.borrower_user_id === user.id || l.requested_by === user.id
  const approverCheck = checkApprover(user.id, l)
  const stepRole = v.nextStep ? roleForStep(l.kind as LoanKind, v.nextStep) : null
  const hasStepRole = stepRole !== null && hasRole(user, stepRole)
  const handler = checkHandler(user.id, l, 'handover', settings.separateApproverAndHandover)
  const receiver = checkHandler(user.id, l, 'return', settings.separateApproverAndHandover)
  const pendingExt = v.extensions.find((e) => e.status === 'pending')
  const open = l.status === 'approved' || l.status === 'on_loan'
  const notes: string[] = []
  if (v.nextStep && hasStepRole && !approverCheck.ok) notes.push(`loan.sod.${approverCheck.reason}`)
  if (l.status === 'approved' && finance && !handler.ok) notes.push(`loan.sod.${handler.reason}`)
  if (l.status === 'on_loan' && finance && !receiver.ok) notes.push(`loan.sod.${receiver.reason}`)

  const extDecider = (ext: { requested_by: number }) => {
    if (!approverCheck.ok || ext.requested_by === user.id) return { approve: false, paper: false }
    const approve = l.kind === 'in_premises' ? finance : hasRole(user, 'executive')
    return { approve, paper: finance && l.kind !== 'in_premises' }
  }
  return {
    canCheck: v.nextStep === 'check' && hasStepRole && approverCheck.ok,
    canApprove: v.nextStep === 'approve' && hasStepRole && approverCheck.ok,
    canReject: l.status === 'pending' && hasRole(user, 'finance', 'executive') && approverCheck.ok,
    // Finance records the executive's signature on the paper slip once it has checked (or, in the premises, at once).
    canPaperApprove: l.status === 'pending' && finance && approverCheck.ok && (l.kind === 'in_premises' || l.checked_at !== null),
    executiveFirstNote: v.nextStep === 'check' && hasRole(user, 'executive') && !finance,
    canCancel: (l.status === 'pending' || l.status === 'approved') && (own || finance),
    cancelNeedsReason: !own,
    canHandOver: l.status === 'approved' && finance && handler.ok && l.start_on <= todayDate,
    notStartedYet: l.status === 'approved' && finance && l.start_on > todayDate,
    canReceive: l.status === 'on_loan' && finance && receiver.ok,
    canAskExtension: open && (own || finance) && todayDate <= l.due_on && !pendingExt,
    extensionDecider: pendingExt ? extDecider(pendingExt) : { approve: false, paper: false },
    canFollowUp: finance && l.status === 'on_loan' && v.overdue,
    canCompensate: finance,
    seesCompeting: l.status === 'pending' && hasRole(user, 'finance', 'executive'),
    segregationNotes: notes,
  }
}

/** What a compensation record is about: the asset's code, or a counted line's code with its number of units. */
function compensationSubject(t: Translate, v: LoanView, c: LoanView['compensations'][number]): string {
  if (c.loan_stock_line_id !== null) {
    const line = v.stock.find((s) => s.id === c.loan_stock_line_id)
    return `${line?.code ?? ''} (${t(`loan.condition.${c.incident}`)} ${t('loanStock.comp.units', { quantity: c.quantity, unit: line?.unit ?? '' })})`
  }
  return v.items.find((i) => i.id === c.loan_item_id)?.asset_code ?? ''
}

function compensationModel(v: LoanView) {
  return v.compensations.map((c) => {
    const item = v.items.find((i) => i.id === c.loan_item_id)
    const line = c.loan_stock_line_id !== null ? v.stock.find((s) => s.id === c.loan_stock_line_id) : undefined
    return {
      id: c.id,
      code: item?.asset_code ?? line?.code ?? '',
      name: item?.asset_name ?? line?.name ?? '',
      /** A counted line's record covers this many units; the price entered is per unit. */
      stock: line ? { quantity: c.quantity, unit: line.unit } : null,
      incident: c.incident,
      incidentOn: c.incident_on,
      method: c.method ?? '',
      currentPrice: c.current_price_satang === null ? '' : formatSatang(c.current_price_satang),
      proposed: c.proposed_satang === null ? '' : formatSatang(c.proposed_satang),
      proposedSatang: c.proposed_satang,
      decided: c.decided_satang === null ? '' : formatSatang(c.decided_satang),
      decidedSatang: c.decided_satang,
      orderRef: c.order_ref,
      policeRef: c.police_ref,
      receiptRef: c.receipt_ref,
      settledOn: c.settled_on ?? '',
      note: c.note,
    }
  })
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
        Object.entries({ status: filter.status, overdue: filter.overdue ? '1' : '', fy: filter.fiscalYear ? String(filter.fiscalYear) : '', q: filter.q, mine: filter.mine ? '1' : '' }).filter(
          ([, v]) => v,
        ),
      ),
    })
  })

  router.get('/loans/queue', requireRole('finance', 'executive'), async (req, res) => {
    await expireLoansIfDue(ctx)
    const settings = await getSettings(ctx)
    const t = today(ctx)
    res.render('loans/queue', {
      title: req.t('loanPages.queue.title'),
      sections: queueModel(await loanQueues(ctx, req.user!), t),
      followUpDays: settings.followUpDays,
    })
  })

  async function renderShow(req: Request, res: Response, status: number, id: number, state: FormState = NO_FORM) {
    await expireLoansIfDue(ctx)
    const user = req.user!
    const v = await getLoan(ctx, user, id)
    const settings = await getSettings(ctx)
    const t = today(ctx)
    const l = v.loan
    const followedUp = v.followUps.some((f) => f.on_date > l.due_on)
    res.status(status).render('loans/show', {
      title: `${req.t('loan.title')} ${v.number}`,
      loan: {
        id: l.id,
        number: v.number,
        status: l.status,
        kind: l.kind,
        purpose: l.purpose,
        place: l.place,
        startOn: l.start_on,
        dueOn: l.due_on,
        originalDueOn: l.original_due_on !== l.due_on ? l.original_due_on : '',
        days: loanDays(l.start_on, l.due_on),
        requestedOn: l.requested_on,
        enteredAfterFact: l.entered_after_fact === 1,
        approvedOnPaper: l.approved_on_paper === 1,
        letterNumber: l.letter_number,
        letterDate: l.letter_date ?? '',
        rejectionReason: l.rejection_reason ?? '',
        cancelReason: l.cancel_reason ?? '',
        departmentName: v.departmentName || v.borrower.departmentName,
        requestedBy: v.requestedBy?.name ?? '',
        overdue: v.overdue,
        daysOverdue: v.overdue ? daysBetween(l.due_on, t) : 0,
        followUpDeadline: v.followUpDeadline,
        followedUp,
        pastDeadline: v.overdue && v.followUpDeadline < t && !followedUp,
        nextStep: v.nextStep,
      },
      borrower: { ...v.borrower, typeLabel: req.t(`borrowerType.${v.borrower.type}`) },
      items: v.items.map((i) => ({
        code: i.asset_code,
        name: i.asset_name,
        state: i.returned_at ? 'back' : i.handed_over_at ? 'out' : 'waiting',
        condition: i.condition ?? '',
        note: i.note,
        receivedBy: i.received_by_name ?? '',
        returnedBy: i.returned_by_name ?? '',
        returnedAt: i.returned_at ?? '',
        late: i.returned_on !== null && i.returned_on > l.due_on,
      })),
      extensions: v.extensions.map((e) => ({
        id: e.id,
        from: e.from_due_on,
        to: e.to_due_on,
        reason: e.reason,
        status: e.status,
        requestedBy: v.people.get(e.requested_by)?.name ?? '',
      })),
      competing: v.competing.map((c) => ({ id: c.loan_id, number: `${c.seq}/${c.fiscal_year}`, code: c.asset_code, from: c.start_on, to: c.due_on })),
      stockLines: v.stock.map((s) => {
        const back = s.returned_good + s.returned_damaged + s.returned_lost
        return {
          code: s.code,
          name: s.name,
          unit: s.unit,
          asked: s.quantity,
          handedOver: s.handed_over_at ? s.handed_over_qty : null,
          good: s.returned_good,
          damaged: s.returned_damaged,
          lost: s.returned_lost,
          outstanding: s.handed_over_at ? s.handed_over_qty - back : null,
          lastReturnedAt: s.last_returned_at ?? '',
          returnedBy: s.returned_by_name ?? '',
          receivedBy: s.received_by ? (v.people.get(s.received_by)?.name ?? '') : '',
          late: s.last_returned_on !== null && s.last_returned_on > l.due_on,
          note: s.note,
        }
      }),
      compensations: compensationModel(v),
      timeline: timeline(req, v, await compensationUpdates(ctx, v), await stockReturnEvents(ctx, v)),
      can: decisions(user, v, settings, t),
      followUpMethods: FOLLOW_UP_METHODS,
      compensationMethods: COMPENSATION_METHODS,
      todayDate: t,
      state,
      extras: await loanPageExtras(ctx, req, res, v), // borrower warning, attachments, print prompt (counter work)
    })
  }

  router.get('/loans/:id', requireSignIn, async (req, res) => {
    await renderShow(req, res, 200, loanId(req))
  })

  /** A POST on the loan page: run the action, then PRG with a flash; a refusal re-renders the page with its status. */
  function action(form: string, run: (req: Request, id: number, b: FormBody) => Promise<string | { key: string; params?: Record<string, string | number> }>) {
    return async (req: Request, res: Response) => {
      const id = loanId(req)
      const b = bodyOf(req)
      try {
        const done = await run(req, id, b)
        const msg = typeof done === 'string' ? { key: done } : done
        flash(req, 'success', msg.key, msg.params)
        res.redirect(303, `/loans/${id}`)
      } catch (e) {
        const values = Object.fromEntries(Object.entries(b).filter(([k]) => k !== '_csrf').map(([k, v]) => [k, str(v) ?? '']))
        await renderShow(req, res, (e as AppError).status ?? 500, id, refusal(e, req.t, form, values))
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
    action('paper', async (req, id, b) => {
      await approveLoan(ctx, req.user!, id, { onPaper: { approverName: text(b, 'approverName'), date: text(b, 'date'), note: text(b, 'note') } })
      return 'loanPages.done.paperApproved'
    }),
  )

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
      if (decision !== 'approve' && decision !== 'reject') throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'decision', message: 'input.decisionRequired' }])
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

  // ---------------------------------------------------------------- hand-over and return screens

  /** A scan (a label's URL, a typed code, a USB scanner's keystrokes) to the asset code it names. */
  async function scannedCode(req: Request, raw: string): Promise<string | null> {
    const origins = [`${req.protocol}://${req.get('host') ?? ''}`]
    const r = await resolveScan(ctx, raw.slice(0, 2000), origins)
    if (!r.ok) return null
    try {
      return normalizeCode(decodeURIComponent(r.path.slice('/q/'.length)))
    } catch {
      return null
    }
  }

  interface HandoverState {
    checked: string[]
    counts: Record<string, string>
    message?: string
    errors?: Record<string, string>
    /** A counted line whose pool label was just scanned: its count field takes the focus. */
    focus?: string
  }

  async function renderHandover(req: Request, res: Response, status: number, id: number, state: HandoverState) {
    const v = await getLoan(ctx, req.user!, id)
    if (v.loan.status !== 'approved') {
      res.redirect(303, `/loans/${id}`)
      return
    }
    res.status(status).render('loans/handover', {
      title: `${req.t('loanPages.handover.title')} ${v.number}`,
      loan: { id, number: v.number, borrower: v.borrower.name, organisation: v.borrower.organisation, startOn: v.loan.start_on, dueOn: v.loan.due_on, kind: v.loan.kind },
      items: v.items.map((i) => ({ code: i.asset_code, name: i.asset_name, checked: state.checked.includes(i.asset_code) })),
      stockLines: v.stock.map((l) => ({ id: l.id, code: l.code, name: l.name, unit: l.unit, asked: l.quantity, count: state.counts[`count_${l.id}`] ?? '', focus: state.focus === l.code })),
      message: state.message ?? '',
      errors: state.errors ?? {},
      focus: state.focus ?? '',
    })
  }

  router.get('/loans/:id/handover', requireRole('finance'), async (req, res) => {
    await expireLoansIfDue(ctx)
    await renderHandover(req, res, 200, loanId(req), { checked: [], counts: {} })
  })

  router.post('/loans/:id/handover', requireRole('finance'), async (req, res) => {
    const id = loanId(req)
    const b = bodyOf(req)
    const confirmed = list(b.confirmedCodes).map(normalizeCode)
    const counts = Object.fromEntries(Object.entries(b).filter(([k]) => /^count_\d+$/.test(k)).map(([k, v]) => [k, (str(v) ?? '').trim()]))
    if (text(b, 'op') === 'scan') {
      // Without JavaScript, Enter in the scan field sends the form here: tick the scanned item (or
      // put the cursor in the scanned pool's count field) and show the screen again.
      // Enter in another field of the screen sends it with an empty scan: show it again as it was.
      if (!text(b, 'scan')) {
        await renderHandover(req, res, 200, id, { checked: confirmed, counts })
        return
      }
      const code = await scannedCode(req, text(b, 'scan'))
      const v = await getLoan(ctx, req.user!, id)
      if (code && v.items.some((i) => i.asset_code === code)) {
        await renderHandover(req, res, 200, id, { checked: [...new Set([...confirmed, code])], counts })
      } else if (code && v.stock.some((l) => l.code === code)) {
        await renderHandover(req, res, 200, id, { checked: confirmed, counts, focus: code })
      } else {
        await renderHandover(req, res, 422, id, { checked: confirmed, counts, message: req.t('loan.notInLoan', { code: code ?? text(b, 'scan') }) })
      }
      return
    }
    // Counted lines are confirmed by count. The service hands over what the loan asks; a different
    // count is refused here with what to do, rather than lending a number nobody approved.
    const v = await getLoan(ctx, req.user!, id)
    const countErrors: Record<string, string> = {}
    for (const l of v.stock) {
      const field = `count_${l.id}`
      const n = parseCount(counts[field])
      const p = { code: l.code, name: l.name, unit: l.unit, asked: l.quantity, counted: typeof n === 'number' ? n : '' }
      if (n === undefined) countErrors[field] = req.t('loanStock.handover.countRequired', p)
      else if (n === null) countErrors[field] = req.t('loanStock.handover.countBad', p)
      else if (n !== l.quantity) countErrors[field] = req.t('loanStock.handover.countDiffers', p)
    }
    if (v.loan.status === 'approved' && Object.keys(countErrors).length > 0) {
      await renderHandover(req, res, 422, id, { checked: confirmed, counts, message: Object.values(countErrors).join(' · '), errors: countErrors })
      return
    }
    try {
      await expireLoansIfDue(ctx)
      const done = await handOver(ctx, req.user!, id, { confirmedCodes: confirmed })
      flash(req, 'success', 'loanPages.done.handedOver', { number: done.number })
      res.redirect(303, `/loans/${id}`)
    } catch (e) {
      const state = refusal(e, req.t, 'handover', {})
      // A screen's own mistake (an item not scanned) stays on the screen; a refused state goes back to the loan.
      if ((e as AppError).code === 'validation_failed') await renderHandover(req, res, 422, id, { checked: confirmed, counts, message: state.message })
      else await renderShow(req, res, (e as AppError).status, id, state)
    }
  })

  /** What of a counted line is still out: handed over less everything received back. */
  const outstandingOf = (l: LoanView['stock'][number]) => l.handed_over_qty - l.returned_good - l.returned_damaged - l.returned_lost

  async function renderReturn(
    req: Request,
    res: Response,
    status: number,
    id: number,
    form: { picked: string[]; values: Record<string, string>; message?: string; errors?: Record<string, string>; focus?: string },
  ) {
    const v = await getLoan(ctx, req.user!, id)
    if (v.loan.status !== 'on_loan') {
      res.redirect(303, `/loans/${id}`)
      return
    }
    const t = today(ctx)
    const items = v.items
      .filter((i) => i.returned_at === null)
      .map((i) => ({
        id: i.id,
        code: i.asset_code,
        name: i.asset_name,
        picked: form.picked.includes(i.asset_code),
        condition: form.values[`condition_${i.id}`] || 'good',
        note: form.values[`note_${i.id}`] ?? '',
        returnedBy: form.values[`returnedBy_${i.id}`] ?? v.borrower.name,
      }))
    const stockLines = v.stock
      .filter((l) => outstandingOf(l) > 0)
      .map((l) => ({
        id: l.id,
        code: l.code,
        name: l.name,
        unit: l.unit,
        handedOver: l.handed_over_qty,
        back: l.returned_good + l.returned_damaged + l.returned_lost,
        soFar: { good: l.returned_good, damaged: l.returned_damaged, lost: l.returned_lost },
        outstanding: outstandingOf(l),
        good: form.values[`good_${l.id}`] ?? '',
        damaged: form.values[`damaged_${l.id}`] ?? '',
        lost: form.values[`lost_${l.id}`] ?? '',
        note: form.values[`snote_${l.id}`] ?? '',
        returnedBy: form.values[`sby_${l.id}`] ?? v.borrower.name,
        focus: form.focus === l.code,
      }))
    res.status(status).render('loans/return', {
      title: `${req.t('loanPages.return.title')} ${v.number}`,
      loan: { id, number: v.number, borrower: v.borrower.name, organisation: v.borrower.organisation, dueOn: v.loan.due_on, overdue: v.overdue, daysLate: v.overdue ? daysBetween(v.loan.due_on, t) : 0 },
      items,
      stockLines,
      lineCount: items.length + stockLines.length,
      back: v.items.filter((i) => i.returned_at !== null).map((i) => ({ code: i.asset_code, name: i.asset_name, condition: i.condition ?? '', returnedBy: i.returned_by_name ?? '' })),
      stockBack: v.stock
        .filter((l) => l.returned_good + l.returned_damaged + l.returned_lost > 0)
        .map((l) => ({ code: l.code, name: l.name, unit: l.unit, good: l.returned_good, damaged: l.returned_damaged, lost: l.returned_lost, outstanding: outstandingOf(l), returnedBy: l.returned_by_name ?? '' })),
      conditions: ITEM_CONDITIONS,
      message: form.message ?? '',
      errors: form.errors ?? {},
      focus: form.focus ?? '',
    })
  }

  router.get('/loans/:id/return', requireRole('finance'), async (req, res) => {
    await renderReturn(req, res, 200, loanId(req), { picked: [], values: {} })
  })

  router.post('/loans/:id/return', requireRole('finance'), async (req, res) => {
    const id = loanId(req)
    const b = bodyOf(req)
    const op = text(b, 'op')
    const values = Object.fromEntries(
      Object.entries(b)
        .filter(([k]) => /^(condition|note|returnedBy|good|damaged|lost|snote|sby)_\d+$/.test(k))
        .map(([k, v]) => [k, str(v) ?? '']),
    )
    let picked = list(b.pick).map(normalizeCode)
    const v = await getLoan(ctx, req.user!, id)
    const outstanding = v.items.filter((i) => i.returned_at === null)
    const outstandingStock = v.stock.filter((l) => outstandingOf(l) > 0)
    if (op === 'scan') {
      if (!text(b, 'scan')) {
        await renderReturn(req, res, 200, id, { picked, values })
        return
      }
      const code = await scannedCode(req, text(b, 'scan'))
      if (code && outstanding.some((i) => i.asset_code === code)) {
        await renderReturn(req, res, 200, id, { picked: [...new Set([...picked, code])], values })
      } else if (code && outstandingStock.some((l) => l.code === code)) {
        await renderReturn(req, res, 200, id, { picked, values, focus: code })
      } else {
        await renderReturn(req, res, 422, id, { picked, values, message: req.t('loanPages.return.notOut', { code: code ?? text(b, 'scan') }) })
      }
      return
    }
    if (op === 'all') picked = outstanding.map((i) => i.asset_code)
    const byCode = new Map(v.items.map((i) => [i.asset_code, i]))
    const items = picked.map((code) => {
      const item = byCode.get(code)
      const key = (k: string) => (item ? (values[`${k}_${item.id}`] ?? '').trim() : '')
      return { assetCode: code, condition: key('condition') || 'good', note: key('note'), returnedBy: key('returnedBy') || undefined }
    })
    // Counted lines: what came back by condition; a shortfall is entered as lost. «Receive all»
    // takes a line left blank as all back in good condition, and wants every filled line complete.
    const errors: Record<string, string> = {}
    const stock: Array<{ code: string; good: number; damaged: number; lost: number; note: string; returnedBy?: string }> = []
    for (const l of outstandingStock) {
      const n: Record<'good' | 'damaged' | 'lost', number> = { good: 0, damaged: 0, lost: 0 }
      for (const k of ['good', 'damaged', 'lost'] as const) {
        const c = parseCount(values[`${k}_${l.id}`])
        if (c === null) errors[`${k}_${l.id}`] = req.t('loanStock.return.countBad', { code: l.code })
        else n[k] = c ?? 0
      }
      const sum = n.good + n.damaged + n.lost
      const rest = outstandingOf(l)
      if (op === 'all' && sum === 0) n.good = rest
      else if (op === 'all' && sum !== rest) errors[`good_${l.id}`] = req.t('loanStock.return.allNeedsFull', { code: l.code, name: l.name, unit: l.unit, outstanding: rest, sum })
      else if (sum === 0) continue
      stock.push({ code: l.code, ...n, note: (values[`snote_${l.id}`] ?? '').trim(), returnedBy: (values[`sby_${l.id}`] ?? '').trim() || undefined })
    }
    if (Object.keys(errors).length > 0) {
      await renderReturn(req, res, 422, id, { picked, values, message: [...new Set(Object.values(errors))].join(' · '), errors })
      return
    }
    try {
      const after = await receiveReturn(ctx, req.user!, id, { items, stock })
      flash(req, 'success', after.loan.status === 'returned' ? 'loanPages.done.returnedAll' : 'loanPages.done.returnedSome', { count: items.length + stock.length, number: after.number })
      res.redirect(303, `/loans/${id}`)
    } catch (e) {
      const state = refusal(e, req.t, 'return', values)
      if ((e as AppError).code === 'validation_failed') await renderReturn(req, res, 422, id, { picked, values, message: state.message, errors: state.errors })
      else await renderShow(req, res, (e as AppError).status, id, state)
    }
  })

  return router
}
