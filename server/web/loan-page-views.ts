import type { Request } from 'express'
import { DUE_SOON_DAYS, type LoanView, type QueueSection } from '../services/loan.service.js'
import { COMPENSATION_METHODS, FOLLOW_UP_METHODS, LOAN_STATUSES, type LoanStatus } from '../services/loan-rules.js'
import { collectableFrom, explainedRefusals, loanPolicy, RULE_MESSAGE, type LoanAction } from '../services/loan-policy.js'
import { policyFactsOfView, standingPaperOf } from '../services/loan-query.service.js'
import type { AgencySettings } from '../services/settings.service.js'
import type { StockReturnEvent } from '../services/loan-stock-events.service.js'
import { hasRole, type CurrentUser } from '../services/user.service.js'
import { addDays, bangkokDate, daysBetween, loanDays } from '../i18n/calendar.js'
import { formatDate, formatSatang, type Locale } from '../i18n/format.js'
import type { Translate } from '../i18n/index.js'
import { pageParam } from './forms/common.form.js'
import { stillMissing, type loanPageExtras } from './loan-extras.js'
import type { ApproverOption } from './paper-views.js'

/*
 * The view-models of the loan pages: the list's filter, one line of a list or queue (also on the
 * dashboard), and the loan page itself (its facts, timeline, compensation records and what this
 * person may do now). The services decide; these only shape what the views show.
 */

const THAI_DIGIT = /[\u0E50-\u0E59]/g

/** The state of one form after a refused POST: which form, its values, its errors and the message. */
export interface FormState {
  form: string
  message: string
  errors: Record<string, string>
  values: Record<string, string>
}

export const NO_FORM: FormState = { form: '', message: '', errors: {}, values: {} }

// ---------------------------------------------------------------- list filters

export interface LoanListFilter {
  status: LoanStatus | ''
  overdue: boolean
  fiscalYear: number | undefined
  q: string
  mine: boolean
  page: number
}

export function listFilter(query: Request['query']): LoanListFilter {
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
export function parseNumber(q: string): { seq: number; fiscalYear?: number } | null | undefined {
  if (q === '') return undefined
  const ascii = q.replace(THAI_DIGIT, (d) => String(d.charCodeAt(0) - 0x0e50))
  const m = /^(\d{1,7})\s*(?:\/\s*(\d{4}))?$/.exec(ascii)
  if (!m) return null
  return { seq: Number(m[1]), fiscalYear: m[2] ? Number(m[2]) : undefined }
}

// ---------------------------------------------------------------- lists and queues

export interface LoanRowModel {
  id: number
  number: string
  status: string
  kind: string
  borrower: string
  organisation: string
  items: string
  itemCodes: string
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
    // Names, not codes (issue 17): people pick a loan out by what was lent; the code is the title.
    items: [...v.items.map((i) => i.asset_name || i.asset_code), ...v.stock.map((l) => `${l.name || l.code} ×${l.quantity}`)].join(', '),
    itemCodes: [...v.items.map((i) => i.asset_code), ...v.stock.map((l) => l.code)].join(', '),
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
  return sections.map((s) => ({ key: s.key, total: s.total, leftOut: s.leftOut, rows: s.loans.map((v) => loanRow(v, todayDate)) }))
}

// ---------------------------------------------------------------- the loan page

interface TimelineEntry {
  at: string
  what: string
  actor: string
  detail: string
  tone: '' | 'ok' | 'warn' | 'danger'
}

/** Every step of the loan with its actor and time, oldest first. */
function timeline(
  t: Translate,
  locale: Locale,
  v: LoanView,
  compUpdates: Array<{ compensationId: number; at: string; actorName: string }>,
  stockEvents: StockReturnEvent[] = [],
): TimelineEntry[] {
  const fmtDate = (d: string) => formatDate(d, { locale })
  const who = (id: number | null | undefined) => (id ? (v.people.get(id)?.name ?? '') : '')
  const l = v.loan
  const out: TimelineEntry[] = []
  out.push({
    at: l.requested_at,
    what: t(l.entered_after_fact ? 'loanPages.tl.enteredAfterFact' : 'loanPages.tl.requested'),
    actor: who(l.requested_by),
    detail: t('loanPages.tl.requestedDetail', { kind: t(`loan.kind.${l.kind}`), from: fmtDate(l.start_on), to: fmtDate(l.original_due_on) }),
    tone: '',
  })
  for (const a of v.approvals) {
    if (a.step === 'check') {
      out.push({ at: a.at, what: t('loanPages.tl.checked'), actor: a.by_user_id ? who(a.by_user_id) || a.by_name : a.by_name, detail: a.note, tone: 'ok' })
      if (a.voided_at) out.push({ at: a.voided_at, what: t('paperPage.tl.checkVoided'), actor: who(a.voided_by), detail: a.void_reason, tone: 'warn' })
    } else if (a.on_paper) {
      out.push({
        at: a.at,
        what: t('loanPages.tl.approvedOnPaper'),
        actor: who(a.recorded_by),
        detail: [t('loanPages.tl.paperDetail', { name: a.by_name, date: a.paper_date ? fmtDate(a.paper_date) : '' }), a.note].filter(Boolean).join(' — '),
        tone: 'ok',
      })
      if (a.confirmed_at) out.push({ at: a.confirmed_at, what: t('paperPage.tl.confirmed'), actor: a.by_name, detail: '', tone: 'ok' })
      if (a.disputed_at) out.push({ at: a.disputed_at, what: t('paperPage.tl.disputed'), actor: a.by_name, detail: a.dispute_reason, tone: 'danger' })
      if (a.voided_at) out.push({ at: a.voided_at, what: t('paperPage.tl.voided'), actor: who(a.voided_by), detail: a.void_reason, tone: 'warn' })
    } else {
      out.push({ at: a.at, what: t('loanPages.tl.approved'), actor: who(a.by_user_id) || a.by_name, detail: a.note, tone: 'ok' })
    }
  }
  if (l.rejected_at)
    out.push({ at: l.rejected_at, what: t('loanPages.tl.rejected'), actor: who(l.rejected_by), detail: l.rejection_reason ?? '', tone: 'danger' })
  if (l.cancelled_at)
    out.push({ at: l.cancelled_at, what: t('loanPages.tl.cancelled'), actor: who(l.cancelled_by), detail: l.cancel_reason ?? '', tone: 'danger' })
  if (l.expired_at) out.push({ at: l.expired_at, what: t('loanPages.tl.expired'), actor: t('loanPages.system'), detail: '', tone: 'warn' })
  if (l.handed_over_at) {
    const onDate =
      l.handed_over_on && l.handed_over_on !== bangkokDate(new Date(l.handed_over_at))
        ? t('loanPages.tl.handedOverOn', { date: fmtDate(l.handed_over_on) })
        : ''
    const lines = [
      ...v.items.map((i) => i.asset_code),
      ...v.stock.map((s) => t('loanStock.tl.handedOverLine', { code: s.code, quantity: s.handed_over_at ? s.handed_over_qty : s.quantity, unit: s.unit })),
    ]
    out.push({
      at: l.handed_over_at,
      what: t('loanPages.tl.handedOver'),
      actor: who(l.handed_over_by),
      detail: [lines.join(', '), onDate].filter(Boolean).join(' — '),
      tone: 'ok',
    })
  }
  for (const e of v.extensions) {
    out.push({
      at: e.requested_at,
      what: t('loanPages.tl.extensionAsked'),
      actor: who(e.requested_by),
      detail: `${t('loanPages.tl.extensionDates', { from: fmtDate(e.from_due_on), to: fmtDate(e.to_due_on) })} — ${e.reason}`,
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
        t('loanPages.tl.followUpOn', { date: fmtDate(f.on_date) }),
        f.letter_number ? t('loanPages.tl.letter', { number: f.letter_number, date: f.letter_date ? fmtDate(f.letter_date) : '' }) : '',
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
      detail: [
        i.returned_by_name ? t('loanPages.tl.broughtBy', { name: i.returned_by_name }) : '',
        i.returned_on && i.returned_on > l.due_on ? t('loanPages.late', { days: daysBetween(l.due_on, i.returned_on) }) : '',
        i.note,
      ]
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
      detail: [
        e.returnedBy ? t('loanPages.tl.broughtBy', { name: e.returnedBy }) : '',
        on > l.due_on ? t('loanPages.late', { days: daysBetween(l.due_on, on) }) : '',
        e.note,
      ]
        .filter(Boolean)
        .join(' — '),
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
    out.push({
      at: u.at,
      what: t('loanPages.tl.compensationUpdated', { code: c ? compensationSubject(t, v, c) : '' }),
      actor: u.actorName,
      detail: '',
      tone: '',
    })
  }
  // Stable: steps recorded at the same instant keep the order in which they happen.
  return out
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at.localeCompare(b.e.at) || a.i - b.i)
    .map((x) => x.e)
}

/** What this person may do with this loan now: decisions for the view, from roles, state and the rules. */
export function loanDecisions(user: CurrentUser, v: LoanView, settings: AgencySettings, todayDate: string) {
  const l = v.loan
  // Every button and note comes from the loan policy's answers: the same ones the services enforce.
  const can = loanPolicy(user, policyFactsOfView(v), settings, todayDate)
  const ok = (a: LoanAction) => can[a].ok
  const own = l.borrower_user_id === user.id || l.requested_by === user.id
  return {
    canCheck: ok('check'),
    canApprove: ok('approve'),
    canReject: ok('reject'),
    canPaperApprove: ok('recordPaper'),
    canConfirmPaper: ok('confirmPaper'),
    canDisputePaper: ok('disputePaper'),
    canVoidPaper: ok('voidPaper'),
    executiveFirstNote: !can.approve.ok && can.approve.rule === 'check_first',
    canCancel: ok('cancel'),
    cancelNeedsReason: !own,
    canHandOver: ok('handOver'),
    notStartedYet: !can.handOver.ok && can.handOver.rule === 'not_started',
    /** The first day it may be collected (SPEC §3: up to handOverEarlyDays before the start). */
    collectableFrom: collectableFrom(l.start_on, settings.handOverEarlyDays),
    canReceive: ok('receive'),
    canAskExtension: ok('askExtension'),
    extensionDecider: { approve: ok('decideExtension'), paper: ok('decideExtensionOnPaper') && !ok('decideExtension') },
    canFollowUp: ok('followUp') && v.overdue,
    canCompensate: ok('compensate'),
    seesCompeting: l.status === 'pending' && hasRole(user, 'finance', 'executive'),
    segregationNotes: explainedRefusals(user, can).map((r) => RULE_MESSAGE[r]),
  }
}

export type LoanDecisions = ReturnType<typeof loanDecisions>

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

/** What the loan page is made from: the loan as its reader may see it, and what the services said about it. */
export interface LoanPageInputs {
  t: Translate
  locale: Locale
  user: CurrentUser
  view: LoanView
  settings: AgencySettings
  /** Today in Bangkok, 'YYYY-MM-DD'. */
  today: string
  /** Changes to the compensation records after they were opened (compensationUpdates). */
  compensationUpdates: Array<{ compensationId: number; at: string; actorName: string }>
  /** Each return of counted items (stockReturnEvents). */
  stockEvents: StockReturnEvent[]
  /** The form refused by the last POST, if any: its values, errors and message. */
  state: FormState
  extras: Awaited<ReturnType<typeof loanPageExtras>>
  /** The approvers the paper-approval form offers (only drawn when this person may record one). */
  approvers: ApproverOption[]
}

/** The loan's standing paper approval as the page shows it: who signed, what became of it, its scan, what is missing. */
function paperModel(v: LoanView) {
  const a = standingPaperOf(v)
  if (!a) return null
  const scan = a.evidence_id === null ? undefined : v.attachments.find((x) => x.id === a.evidence_id)
  return {
    approverName: a.by_name,
    hasAccount: a.by_user_id !== null,
    paperDate: a.paper_date,
    recordedBy: v.people.get(a.recorded_by)?.name ?? '',
    recordedAt: a.at,
    confirmedAt: a.confirmed_at,
    disputedAt: a.disputed_at,
    disputeReason: a.dispute_reason,
    scan: scan ? { href: `/loans/${v.loan.id}/attachments/${scan.id}`, name: scan.file_name, sha256: scan.sha256 } : null,
  }
}

/** The model of views/loans/show.ejs. */
export function loanPageModel(input: LoanPageInputs) {
  const { t, view: v, today: todayDate } = input
  const l = v.loan
  const followedUp = v.followUps.some((f) => f.on_date > l.due_on)
  return {
    title: `${t('loan.title')} ${v.number}`,
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
      daysOverdue: v.overdue ? daysBetween(l.due_on, todayDate) : 0,
      followUpDeadline: v.followUpDeadline,
      followedUp,
      pastDeadline: v.overdue && v.followUpDeadline < todayDate && !followedUp,
      nextStep: v.nextStep,
    },
    borrower: { ...v.borrower, typeLabel: t(`borrowerType.${v.borrower.type}`) },
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
    timeline: timeline(t, input.locale, v, input.compensationUpdates, input.stockEvents),
    can: loanDecisions(input.user, v, input.settings, todayDate),
    paper: paperModel(v),
    // What the officer still has to do or collect (SPEC §1: "หลักฐานยังไม่ครบ"), for finance on an open loan.
    missing: hasRole(input.user, 'finance') && ['pending', 'approved', 'on_loan'].includes(l.status) ? stillMissing(v) : [],
    approvers: input.approvers,
    twoPersonRule: input.settings.twoPersonRule,
    followUpMethods: FOLLOW_UP_METHODS,
    compensationMethods: COMPENSATION_METHODS,
    todayDate,
    state: input.state,
    extras: input.extras, // borrower warning, attachments, print prompt (counter work)
  }
}
