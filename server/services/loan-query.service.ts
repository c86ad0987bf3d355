import type { LoanAttachmentRow, LoanRow } from '../../db/schema.js'
import * as loans from '../repositories/loan.repository.js'
import * as attachmentRepo from '../repositories/attachment.repository.js'
import { decide, pendingStep, type Decision, type LoanAction, type PolicyFacts } from './loan-policy.js'
import { cached } from '../lib/cache.js'
import * as assets from '../repositories/asset.repository.js'
import * as departments from '../repositories/department.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import type { StockLineView } from '../repositories/stock.repository.js'
import type { Conflict, LoanItemView, UserBrief } from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { addDays } from '../i18n/calendar.js'
import { normalizeCode } from '../i18n/format.js'
import { hasRole, type CurrentUser } from './user.service.js'
import { getSettings, sharedSettings, type AgencySettings } from './settings.service.js'
import { asOfToday, followUpDeadline, isOverdue, type LoanStatus } from './loan-rules.js'
import { loanNumber, today } from './loan-common.js'

// ---------------------------------------------------------------- reading

export interface BorrowerView {
  kind: 'user' | 'external'
  type: string
  username: string | null
  name: string
  position: string
  organisation: string
  phone: string
  address: string
  villageNo: string
  idNumber: string
  departmentName: string
}

export interface LoanView {
  loan: LoanRow
  number: string
  borrower: BorrowerView
  requestedBy: UserBrief | undefined
  departmentName: string
  /** The borrower's department's stable code (the API's `department`), or null. */
  departmentCode: string | null
  items: LoanItemView[]
  approvals: Awaited<ReturnType<typeof loans.approvalsOf>>
  extensions: Awaited<ReturnType<typeof loans.extensionsOf>>
  followUps: Awaited<ReturnType<typeof loans.followUpsOf>>
  compensations: Awaited<ReturnType<typeof loans.compensationsOf>>
  /** The scans behind its paper approvals (evidence), with their hashes. */
  attachments: LoanAttachmentRow[]
  people: Map<number, UserBrief>
  overdue: boolean
  followUpDeadline: string
  nextStep: ReturnType<typeof pendingStep>
  competing: Conflict[]
  /** Counted items lent by quantity, with what went out and what came back in each condition. */
  stock: StockLineView[]
}

/** Builds the full view of many loans with a fixed number of queries (no N+1). */
export async function viewsOf(ctx: AppContext, rows: LoanRow[], opts: { competing?: boolean } = {}): Promise<LoanView[]> {
  if (rows.length === 0) return []
  const ids = rows.map((r) => r.id)
  const settings = await getSettings(ctx)
  const [items, stockLines, approvals, extensions, followUps, compensations] = [
    await loans.itemsOf(ctx.db, ids),
    await stockRepo.linesOf(ctx.db, ids),
    await loans.approvalsOf(ctx.db, ids),
    await loans.extensionsOf(ctx.db, ids),
    await loans.followUpsOf(ctx.db, ids),
    await loans.compensationsOf(ctx.db, ids),
  ]
  const externals = new Map(
    (
      await loans.externalBorrowersByIds(
        ctx.db,
        rows.flatMap((r) => (r.external_borrower_id ? [r.external_borrower_id] : [])),
      )
    ).map((b) => [b.id, b]),
  )
  const peopleIds = rows.flatMap((r) =>
    [r.borrower_user_id, r.requested_by, r.checked_by, r.approved_by, r.handed_over_by, r.rejected_by, r.cancelled_by].filter((x): x is number => x !== null),
  )
  const evidence = await attachmentRepo.byIds(
    ctx.db,
    approvals.flatMap((a) => (a.evidence_id ? [a.evidence_id] : [])),
  )
  peopleIds.push(
    ...items.flatMap((i) => (i.received_by ? [i.received_by] : [])),
    ...approvals.flatMap((a) => [a.recorded_by, ...(a.by_user_id ? [a.by_user_id] : []), ...(a.voided_by ? [a.voided_by] : [])]),
  )
  peopleIds.push(...stockLines.flatMap((l) => (l.received_by ? [l.received_by] : [])))
  peopleIds.push(...followUps.map((f) => f.created_by), ...extensions.flatMap((e) => [e.requested_by, ...(e.decided_by ? [e.decided_by] : [])]))
  const people = new Map((await loans.usersByIds(ctx.db, peopleIds)).map((u) => [u.id, u]))
  const allDeps = await departments.listAll(ctx.db)
  const deps = new Map(allDeps.map((d) => [d.id, d.name]))
  const depCodes = new Map(allDeps.map((d) => [d.id, d.code]))
  const t = today(ctx)
  const out: LoanView[] = []
  for (const row of rows) {
    const loan = asOfToday(row, t, settings.expiryDays)
    let borrower: BorrowerView
    if (loan.borrower_user_id !== null) {
      const u = people.get(loan.borrower_user_id)
      borrower = {
        kind: 'user',
        type: loan.borrower_type,
        username: u?.username ?? null,
        name: u?.name ?? '',
        position: u?.position ?? '',
        organisation: '',
        phone: u?.phone ?? '',
        address: '',
        villageNo: '',
        idNumber: '',
        departmentName: u?.department_id ? (deps.get(u.department_id) ?? '') : '',
      }
    } else {
      const b = externals.get(loan.external_borrower_id!)
      borrower = {
        kind: 'external',
        type: loan.borrower_type,
        username: null,
        name: b?.name ?? '',
        position: '',
        organisation: b?.organisation ?? '',
        phone: b?.phone ?? '',
        address: b?.address ?? '',
        villageNo: b?.village_no ?? '',
        idNumber: b?.id_number ?? '',
        departmentName: '',
      }
    }
    const loanItems = items.filter((i) => i.loan_id === loan.id)
    out.push({
      loan,
      number: loanNumber(loan),
      borrower,
      requestedBy: people.get(loan.requested_by),
      departmentName: loan.department_id ? (deps.get(loan.department_id) ?? '') : '',
      departmentCode: loan.department_id ? (depCodes.get(loan.department_id) ?? null) : null,
      items: loanItems,
      stock: stockLines.filter((l) => l.loan_id === loan.id),
      approvals: approvals.filter((a) => a.loan_id === loan.id),
      attachments: evidence.filter((a) => a.loan_id === loan.id),
      extensions: extensions.filter((e) => e.loan_id === loan.id),
      followUps: followUps.filter((f) => f.loan_id === loan.id),
      compensations: compensations.filter((c) => c.loan_id === loan.id),
      people,
      overdue: isOverdue(loan, t),
      followUpDeadline: followUpDeadline(loan.due_on, settings.followUpDays),
      nextStep: pendingStep(loan),
      competing:
        opts.competing && loan.status === 'pending'
          ? await loans.pendingCompeting(
              ctx.db,
              loanItems.map((i) => i.asset_id),
              loan.start_on,
              loan.due_on,
              loan.id,
            )
          : [],
    })
  }
  return out
}

/** The loan's standing paper approval: the latest approval on paper not voided (as the repository's standingPaperApproval). */
export function standingPaperOf(v: Pick<LoanView, 'approvals'>): LoanView['approvals'][number] | undefined {
  return [...v.approvals].reverse().find((a) => a.step === 'approve' && a.on_paper === 1 && a.voided_at === null)
}

/** The loan policy's facts from a loan's view (its standing paper approval, its waiting extension). */
export function policyFactsOfView(v: LoanView): PolicyFacts {
  return {
    loan: v.loan as PolicyFacts['loan'],
    paper: standingPaperOf(v) ?? null,
    pendingExtension: v.extensions.find((e) => e.status === 'pending') ?? null,
    externalBorrowerName: v.borrower.kind === 'external' ? v.borrower.name : null,
  }
}

/** The loan policy's answer for one action of this person on a loan they are looking at (a screen that offers it). */
export async function loanDecision(ctx: AppContext, user: CurrentUser, v: LoanView, action: LoanAction): Promise<Decision> {
  return decide(action, user, policyFactsOfView(v), await sharedSettings(ctx), today(ctx))
}

/** Whether the person may see this loan: staff only their own (as borrower or requester); others all. */
export function canSeeLoan(viewer: CurrentUser, loan: LoanRow): boolean {
  if (hasRole(viewer, 'finance', 'executive', 'committee', 'admin')) return true
  return loan.borrower_user_id === viewer.id || loan.requested_by === viewer.id
}

export async function getLoan(ctx: AppContext, viewer: CurrentUser, id: number): Promise<LoanView> {
  const row = await loans.findById(ctx.db, id)
  // Another person's loan is "not found" for staff, not "forbidden": it does not leak that it exists.
  if (!row || !canSeeLoan(viewer, row)) throw new AppError('not_found', 'loan.notFound')
  return (await viewsOf(ctx, [row], { competing: true }))[0]!
}

export interface LoanListQuery {
  status?: LoanStatus
  overdue?: boolean
  fiscalYear?: number
  mine?: boolean
  /** The running number of «12/2568» (with fiscalYear for the whole number). */
  seq?: number
  /** Pending, approved or on loan. */
  open?: boolean
  page: number
  pageSize: number
}

/** Approved loans starting before this day were not collected in time: expired as of today (loan-rules.hasExpired). */
async function expiredBefore(ctx: AppContext, known?: Pick<AgencySettings, 'expiryDays'>): Promise<string> {
  return addDays(today(ctx), -(known ?? (await getSettings(ctx))).expiryDays)
}

export async function listLoans(ctx: AppContext, viewer: CurrentUser, q: LoanListQuery): Promise<{ items: LoanView[]; total: number }> {
  const ownOnly = q.mine || !hasRole(viewer, 'finance', 'executive', 'committee', 'admin')
  const { rows, total } = await loans.list(ctx.db, {
    status: q.status,
    overdueOn: q.overdue ? today(ctx) : undefined,
    fiscalYear: q.fiscalYear,
    seq: q.seq,
    statuses: q.open ? ['pending', 'approved', 'on_loan'] : undefined,
    expiredBefore: await expiredBefore(ctx),
    borrowerUserId: ownOnly ? viewer.id : undefined,
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  })
  return { items: await viewsOf(ctx, rows), total }
}

// ---------------------------------------------------------------- where assets are

export interface AssetLoanState {
  holder: { loanId: number; number: string; name: string; dueDate: string; overdue: boolean } | null
  reservations: Array<{ loanId: number; number: string; from: string; to: string; status: LoanStatus }>
}

/** Who holds an asset now and its next reservations (for the asset page, the QR page and the API). */
export async function assetLoanState(ctx: AppContext, assetId: number): Promise<AssetLoanState> {
  const t = today(ctx)
  const views = await viewsOf(ctx, await loans.openLoansOfAsset(ctx.db, assetId))
  let holder: AssetLoanState['holder'] = null
  const reservations: AssetLoanState['reservations'] = []
  for (const v of views) {
    const item = v.items.find((i) => i.asset_id === assetId)
    // An approved loan nobody collected in time holds nothing (expired as of today).
    if (!item || item.returned_at !== null || v.loan.status === 'expired') continue
    if (v.loan.status === 'on_loan' && item.handed_over_at !== null) {
      holder = {
        loanId: v.loan.id,
        number: v.number,
        name: v.borrower.organisation ? `${v.borrower.name} (${v.borrower.organisation})` : v.borrower.name,
        dueDate: v.loan.due_on,
        overdue: v.loan.due_on < t,
      }
    } else if (v.loan.due_on >= t) {
      reservations.push({ loanId: v.loan.id, number: v.number, from: v.loan.start_on, to: v.loan.due_on, status: v.loan.status as LoanStatus })
    }
  }
  reservations.sort((a, b) => a.from.localeCompare(b.from))
  return { holder, reservations }
}

/**
 * The asset with this label code and its loan state, for the QR page; `undefined` when no asset has
 * the code. A label is opened again and again between two writes (server/lib/cache.ts); nothing of
 * the viewer is kept. What it returns is shared with the next callers: read it, never change it.
 */
export async function findAssetWithLoanState(ctx: AppContext, rawCode: string): Promise<{ asset: assets.AssetListRow; state: AssetLoanState } | undefined> {
  const code = normalizeCode(rawCode)
  if (!code) return undefined
  const found = await cached(ctx, `asset-by-code:${code}`, async () => {
    const asset = await assets.findByCode(ctx.db, code)
    return asset ? { asset, state: await assetLoanState(ctx, asset.id) } : null
  })
  return found ?? undefined
}

/** The loan holding each asset now, for many assets at once (register lists and the API). */
export async function currentLoansOf(ctx: AppContext, assetIds: number[]): Promise<Map<number, { id: number; number: string; dueDate: string }>> {
  const out = new Map<number, { id: number; number: string; dueDate: string }>()
  for (const r of await loans.outstandingByAssets(ctx.db, assetIds))
    out.set(r.asset_id, { id: r.loan_id, number: `${r.seq}/${r.fiscal_year}`, dueDate: r.due_on })
  return out
}

// ---------------------------------------------------------------- queues and dashboards

export type ActionCounts = loans.ActionCounts & {
  /** What waits for this person's own action (the navigation badge). */
  awaiting: number
}

/** The counts of the dashboards and the navigation, in one query. */
export async function loanActionCounts(
  ctx: AppContext,
  user: CurrentUser,
  known?: Pick<AgencySettings, 'followUpDays' | 'twoPersonRule' | 'handOverEarlyDays' | 'expiryDays'>,
): Promise<ActionCounts> {
  const settings = known ?? (await getSettings(ctx))
  const t = today(ctx)
  const input: loans.ActionCountsInput = {
    userId: user.id,
    today: t,
    deadlineDueBefore: addDays(t, -settings.followUpDays),
    dueSoonTo: addDays(t, DUE_SOON_DAYS),
    twoPersonRule: settings.twoPersonRule,
    // Ready to collect from the first day the hand-over is allowed (SPEC §3), until the loan expires.
    collectBy: addDays(t, settings.handOverEarlyDays),
    expiredBefore: await expiredBefore(ctx, settings),
  }
  // Every signed-in page shows the badge (server/lib/cache.ts); a copy, since a caller may add to it.
  const c = { ...(await cached(ctx, `loan-action-counts:${JSON.stringify(input)}`, () => loans.actionCounts(ctx.db, input))) }
  let awaiting = c.myToCollect + c.myOverdue + c.toConfirm
  if (hasRole(user, 'finance')) awaiting += c.toCheck + c.toApproveIn + c.toHandOver + c.needFollowUp + c.extensionsFinance
  if (hasRole(user, 'executive')) awaiting += c.toApproveOut + c.extensionsExecutive
  return { ...c, awaiting }
}

/** "Due within 3 days" on the dashboards. */
export const DUE_SOON_DAYS = 3

export const QUEUE_KEYS = [
  'toConfirm',
  'paperDisputed',
  'toCheck',
  'toApprove',
  'awaitingExecutive',
  'toHandOver',
  'dueToday',
  'toReceive',
  'overdue',
  'pastDeadline',
  'dueSoon',
  'extensions',
] as const
export type QueueKey = (typeof QUEUE_KEYS)[number]

export interface QueueSection {
  key: QueueKey
  /** How many this person may act on: the length of `loans` when not cut by the limit, and the dashboard's count. */
  total: number
  loans: LoanView[]
  /**
   * How many more of this kind wait but are not this person's to do (SPEC §1: they borrow it, entered it
   * or approved it themselves); shown beside the count with the reason, never silently dropped.
   */
  leftOut: number
}

/** The segregation step each work list asks of its reader; lists without one are for reading (overdue, due soon). */
const QUEUE_STEP: Partial<Record<QueueKey, loans.ActionStep>> = {
  toConfirm: 'confirm',
  toCheck: 'decide',
  toApprove: 'decide',
  awaitingExecutive: 'decide',
  toHandOver: 'handOver',
  extensions: 'extension',
}

/**
 * The work lists of a person's roles. Finance: to check, to approve in the premises, waiting for
 * the executive (a paper approval can be recorded), to hand over today, to receive, overdue, past
 * the follow-up deadline without a follow-up, due soon, extensions. Executive: checked and waiting
 * for approval, overdue, past the deadline, extensions outside the premises. One batch of views for all.
 */
export async function loanQueues(ctx: AppContext, user: CurrentUser, opts: { limit?: number } = {}): Promise<QueueSection[]> {
  const limit = opts.limit ?? 100
  const settings = await getSettings(ctx)
  const t = today(ctx)
  const finance = hasRole(user, 'finance')
  const executive = hasRole(user, 'executive')
  const filters: Array<[QueueKey, Omit<loans.LoanListFilter, 'limit' | 'offset'>]> = []
  // Paper approvals recorded in this person's name wait for them to confirm or dispute (SPEC §1).
  filters.push(['toConfirm', { paperToConfirmBy: user.id, order: 'oldest' }])
  if (finance) filters.push(['paperDisputed', { paperDisputed: true, statuses: ['approved'], order: 'oldest' }])
  // Requests read longest-waiting first; loans out read by due date, the most overdue first.
  if (finance) {
    filters.push(['toCheck', { pendingStep: 'check', order: 'oldest' }], ['toApprove', { pendingStep: 'approve_in', order: 'oldest' }])
  }
  if (finance || executive) filters.push(['awaitingExecutive', { pendingStep: 'approve_out', order: 'oldest' }])
  if (finance) {
    // A disputed paper approval blocks the hand-over (SPEC §1): such a loan is on the disputed list instead.
    filters.push(
      ['toHandOver', { status: 'approved', startOnOrBefore: addDays(t, settings.handOverEarlyDays), paperDisputed: false, order: 'oldest' }],
      // Returns today (issue 17): what should come back across the counter today.
      ['dueToday', { dueBetween: { from: t, to: t }, order: 'oldest' }],
      ['toReceive', { status: 'on_loan', order: 'due' }],
    )
  }
  if (finance || executive) {
    filters.push(['overdue', { overdueOn: t, order: 'due' }], ['pastDeadline', { noFollowUpDueBefore: addDays(t, -settings.followUpDays), order: 'due' }])
  }
  if (finance) filters.push(['dueSoon', { dueBetween: { from: t, to: addDays(t, DUE_SOON_DAYS) }, order: 'due' }])
  if (finance || executive) filters.push(['extensions', { pendingExtension: finance ? 'any' : 'executive', order: 'oldest' }])
  const found: Array<{ key: QueueKey; rows: LoanRow[]; total: number; leftOut: number }> = []
  const cutoff = await expiredBefore(ctx, settings)
  for (const [key, f] of filters) {
    const step = QUEUE_STEP[key]
    const actionableBy = step ? { userId: user.id, twoPersonRule: settings.twoPersonRule, step } : undefined
    const { rows, total } = await loans.list(ctx.db, { ...f, actionableBy, expiredBefore: cutoff, limit, offset: 0 })
    const all = step ? (await loans.list(ctx.db, { ...f, expiredBefore: cutoff, limit: 0, offset: 0 })).total : total
    found.push({ key, rows, total, leftOut: all - total })
  }
  const unique = new Map<number, LoanRow>()
  for (const f of found) for (const r of f.rows) unique.set(r.id, r)
  const views = new Map((await viewsOf(ctx, [...unique.values()])).map((v) => [v.loan.id, v]))
  return (
    found
      // A finance officer who never approves on paper is not shown an always-empty list of their own.
      .filter((f) => f.key !== 'toConfirm' || f.total > 0 || executive)
      .map((f) => ({ key: f.key, total: f.total, leftOut: f.leftOut, loans: f.rows.map((r) => views.get(r.id)!) }))
  )
}

export type MyListKey = 'myToCollect' | 'myOverdue' | 'myDueSoon'

/**
 * The borrower's own lists on their home (issue 17): ready to collect, overdue, due within 3 days —
 * the filters of the counts myToCollect, myOverdue and myDueSoon in loan-list.repository's actionCounts.
 */
export async function myLoanLists(
  ctx: AppContext,
  user: CurrentUser,
  opts: { limit?: number } = {},
): Promise<Array<{ key: MyListKey; total: number; loans: LoanView[] }>> {
  const limit = opts.limit ?? 100
  const settings = await getSettings(ctx)
  const t = today(ctx)
  const cutoff = await expiredBefore(ctx, settings)
  const filters: Array<[MyListKey, Omit<loans.LoanListFilter, 'limit' | 'offset'>]> = [
    ['myToCollect', { status: 'approved', startOnOrBefore: addDays(t, settings.handOverEarlyDays), order: 'oldest' }],
    ['myOverdue', { overdueOn: t, order: 'due' }],
    ['myDueSoon', { dueBetween: { from: t, to: addDays(t, DUE_SOON_DAYS) }, order: 'due' }],
  ]
  const out: Array<{ key: MyListKey; total: number; loans: LoanView[] }> = []
  for (const [key, f] of filters) {
    const { rows, total } = await loans.list(ctx.db, { ...f, borrowerUserId: user.id, expiredBefore: cutoff, limit, offset: 0 })
    out.push({ key, total, loans: await viewsOf(ctx, rows) })
  }
  return out
}

/** Who updated each compensation record and when, for the loan's timeline (from the audit log). */
export async function compensationUpdates(ctx: AppContext, view: LoanView): Promise<Array<{ compensationId: number; at: string; actorName: string }>> {
  const rows = await loans.compensationChanges(
    ctx.db,
    view.compensations.map((c) => c.id),
  )
  const names = new Map(
    (
      await loans.usersByIds(
        ctx.db,
        rows.flatMap((r) => (r.actor_id ? [r.actor_id] : [])),
      )
    ).map((u) => [u.id, u.name]),
  )
  return rows.map((r) => ({ compensationId: Number(r.entity_id), at: r.at, actorName: (r.actor_id ? names.get(r.actor_id) : undefined) ?? r.actor_label }))
}
