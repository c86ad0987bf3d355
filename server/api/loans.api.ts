import { Router, type Request } from 'express'
import type { FollowUpRow } from '../../db/schema.js'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import {
  addFollowUp,
  approveLoan,
  cancelLoan,
  createLoan,
  decideExtension,
  getLoan,
  handOver,
  listLoans,
  receiveReturn,
  rejectLoan,
  requestExtension,
  type LoanView,
} from '../services/loan.service.js'
import { confirmPaperApproval, disputePaperApproval, voidPaperApproval } from '../services/loan-paper.service.js'
import { handoverBodyWithKits, returnBodyWithKits } from '../services/kit-parts.service.js'
import type { NewAttachment } from '../services/attachment.service.js'
import { hasRole } from '../services/user.service.js'
import { LOAN_STATUSES, type LoanStatus } from '../services/loan-rules.js'
import { requireRole, requireSignIn } from '../http/middleware/auth.js'
import { bodyObject } from './json.js'
import { listParams } from './list-params.js'

/*
 * The loans of the JSON API v1 (SPEC §5). The routes are thin: the service layer owns every rule
 * (lifecycle, segregation of duties, overlap, numbering); here we check the role, read the path
 * and query, hand the body to the service and shape the answer.
 *
 * Representations chosen where SPEC §5 leaves them open:
 * - people (`requestedBy`, `items[].receivedBy`, `approvals[].by`, extension and follow-up actors)
 *   are usernames; a paper approval's `by` is the name written on the paper (it has no account);
 * - `department` is the stable code of the borrower's department at request time, or null
 *   (external borrowers and users without a department);
 * - timestamps are ISO-8601 UTC with `Z`; dates are `YYYY-MM-DD` (Common Era, Asia/Bangkok);
 * - text that was left empty (notes, a letter number) is null, never "";
 * - `borrower.username` is present only for a user borrower, `borrower.organisation` only for an
 *   external borrower who gave one;
 * - `stock` lists the loan's counted-item lines: `quantity` is what was asked for, `good`,
 *   `damaged` and `lost` what has come back so far (partial returns add up).
 * Keys added to the spec's Loan (never renaming one): `enteredAfterFact` (บันทึกย้อนหลัง),
 * `dueDateOriginal` (before extensions), `handedOverOn` (the Bangkok hand-over date — for a paper
 * loan brought in after the fact it is the real date, while `handedOverAt` is when it was
 * recorded), `extensions` (history, with the ids the decision route takes), `followUps`;
 * `items[].returnedBy` (ผู้ส่งคืน, who brought it back), `stock[].handedOver` (the count handed over)
 * and `approvals[].paperDate`.
 *
 * Roles per route (a wrong role is 403 whatever the id; staff asking for another person's loan
 * get 404, as if it did not exist):
 *   POST /loans                              staff, finance
 *   GET  /loans, /loans/:id                  everyone signed in (staff: their own only)
 *   POST /loans/:id/approve, /reject         finance, executive (the service decides the step)
 *   POST /loans/:id/cancel, /extensions      staff (their own), finance
 *   POST /loans/:id/handover, /return        finance
 *   POST /loans/:id/extensions/:extId/decision   finance, executive (at the loan's level)
 *   POST /loans/:id/follow-ups               finance
 */

export interface ApiLoanItem {
  assetCode: string
  assetName: string
  handedOverAt: string | null
  returnedAt: string | null
  condition: 'good' | 'damaged' | 'lost' | null
  note: string | null
  receivedBy: string | null
  returnedBy: string | null
}

/** A counted-item line of a loan: SPEC §5's keys, then ours (`handedOver`). */
export interface ApiStockLine {
  code: string
  name: string
  quantity: number
  good: number
  damaged: number
  lost: number
  handedOver: number
}

/** The scan of the signed slip behind a paper approval: the attachment and its hash (also in the audit log). */
export interface ApiEvidence {
  attachmentId: number
  fileName: string
  sha256: string
  uploadedAt: string
}

export interface ApiApproval {
  step: 'check' | 'approve'
  by: string
  at: string
  note: string | null
  onPaper: boolean
  recordedBy: string | null
  paperDate: string | null
  confirmedAt: string | null
  disputedAt: string | null
  evidence: ApiEvidence | null
  approverUsername: string | null
  disputeReason: string | null
  voidedAt: string | null
  voidReason: string | null
}

export interface ApiExtension {
  id: number
  fromDueDate: string
  toDueDate: string
  reason: string
  status: 'pending' | 'approved' | 'rejected'
  requestedBy: string | null
  requestedAt: string
  decidedBy: string | null
  decidedAt: string | null
  note: string | null
  onPaper: boolean
}

export interface ApiFollowUp {
  id: number
  loanId: number
  date: string
  method: 'phone' | 'letter' | 'in_person'
  letterNumber: string | null
  letterDate: string | null
  note: string | null
  by: string | null
}

export interface ApiBorrower {
  type: string
  username?: string
  name: string
  organisation?: string
}

/** The Loan object of SPEC §5, its keys in the spec's order, then ours. */
export interface ApiLoan {
  id: number
  number: string
  fiscalYear: number
  status: LoanStatus
  kind: string
  purpose: string
  place: string
  startDate: string
  dueDate: string
  borrower: ApiBorrower
  requestedBy: string | null
  department: string | null
  requestedAt: string
  approvedAt: string | null
  handedOverAt: string | null
  returnedAt: string | null
  rejectionReason: string | null
  overdue: boolean
  items: ApiLoanItem[]
  stock: ApiStockLine[]
  approvals: ApiApproval[]
  enteredAfterFact: boolean
  dueDateOriginal: string
  handedOverOn: string | null
  extensions: ApiExtension[]
  followUps: ApiFollowUp[]
}

/** Stored timestamps are already UTC ISO strings; this keeps the promise of a trailing `Z` whatever wrote them. */
function timestamp(at: string): string
function timestamp(at: string | null): string | null
function timestamp(at: string | null): string | null {
  if (at === null) return null
  const ms = Date.parse(at)
  return Number.isNaN(ms) ? at : new Date(ms).toISOString()
}

function textOrNull(s: string | null | undefined): string | null {
  return s === null || s === undefined || s === '' ? null : s
}

/** A follow-up as the API shows it; `by` is the username of whoever recorded it. */
export function toApiFollowUp(f: FollowUpRow, by: string | null): ApiFollowUp {
  return {
    id: f.id,
    loanId: f.loan_id,
    date: f.on_date,
    method: f.method,
    letterNumber: textOrNull(f.letter_number),
    letterDate: f.letter_date,
    note: textOrNull(f.note),
    by,
  }
}

/** The one mapping from the service's LoanView to the Loan object of SPEC §5 (pages and reports may reuse it). */
export function toApiLoan(v: LoanView): ApiLoan {
  const l = v.loan
  const username = (id: number | null | undefined): string | null => (id === null || id === undefined ? null : (v.people.get(id)?.username ?? null))
  const evidenceOf = (id: number | null): ApiEvidence | null => {
    const att = id === null ? undefined : v.attachments.find((x) => x.id === id)
    return att ? { attachmentId: att.id, fileName: att.file_name, sha256: att.sha256, uploadedAt: timestamp(att.uploaded_at) } : null
  }
  const borrower: ApiBorrower = {
    type: v.borrower.type,
    ...(v.borrower.kind === 'user' && v.borrower.username ? { username: v.borrower.username } : {}),
    name: v.borrower.name,
    ...(v.borrower.kind === 'external' && v.borrower.organisation ? { organisation: v.borrower.organisation } : {}),
  }
  return {
    id: l.id,
    number: v.number,
    fiscalYear: l.fiscal_year,
    status: l.status as LoanStatus,
    kind: l.kind,
    purpose: l.purpose,
    place: l.place,
    startDate: l.start_on,
    dueDate: l.due_on,
    borrower,
    requestedBy: v.requestedBy?.username ?? username(l.requested_by),
    department: v.departmentCode,
    requestedAt: timestamp(l.requested_at),
    approvedAt: timestamp(l.approved_at),
    handedOverAt: timestamp(l.handed_over_at),
    returnedAt: timestamp(l.returned_at),
    rejectionReason: textOrNull(l.rejection_reason),
    overdue: v.overdue,
    items: v.items.map((i) => ({
      assetCode: i.asset_code,
      assetName: i.asset_name,
      handedOverAt: timestamp(i.handed_over_at),
      returnedAt: timestamp(i.returned_at),
      condition: i.condition,
      note: textOrNull(i.note),
      receivedBy: username(i.received_by),
      returnedBy: textOrNull(i.returned_by_name),
    })),
    stock: v.stock.map((l) => ({
      code: l.code,
      name: l.name,
      quantity: l.quantity,
      good: l.returned_good,
      damaged: l.returned_damaged,
      lost: l.returned_lost,
      handedOver: l.handed_over_qty,
    })),
    approvals: v.approvals.map((a) => ({
      step: a.step,
      // A paper approval's `by` is the name written on the paper; a check (even one recorded with it) is the officer's username.
      by: (a.on_paper === 1 && a.step === 'approve') || a.by_user_id === null ? a.by_name : (username(a.by_user_id) ?? a.by_name),
      at: timestamp(a.at),
      note: textOrNull(a.note),
      onPaper: a.on_paper === 1,
      recordedBy: username(a.recorded_by),
      paperDate: a.paper_date,
      confirmedAt: timestamp(a.confirmed_at),
      disputedAt: timestamp(a.disputed_at),
      evidence: evidenceOf(a.evidence_id),
      // Ours: a voided paper approval stays in the history with when and why.
      approverUsername: a.on_paper === 1 && a.step === 'approve' ? username(a.by_user_id) : null,
      disputeReason: textOrNull(a.dispute_reason),
      voidedAt: timestamp(a.voided_at),
      voidReason: textOrNull(a.void_reason),
    })),
    enteredAfterFact: l.entered_after_fact === 1,
    dueDateOriginal: l.original_due_on,
    handedOverOn: l.handed_over_on,
    extensions: v.extensions.map((e) => ({
      id: e.id,
      fromDueDate: e.from_due_on,
      toDueDate: e.to_due_on,
      reason: e.reason,
      status: e.status,
      requestedBy: username(e.requested_by),
      requestedAt: timestamp(e.requested_at),
      decidedBy: username(e.decided_by),
      decidedAt: timestamp(e.decided_at),
      note: textOrNull(e.decision_note),
      onPaper: e.on_paper === 1,
    })),
    followUps: v.followUps.map((f) => toApiFollowUp(f, username(f.created_by))),
  }
}

/** Ids in paths are positive integers; anything else names no loan (404), never a 400 or a 500. */
function pathId(req: Request, name: string, notFoundKey: string): number {
  const raw = req.params[name]
  if (typeof raw !== 'string' || !/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new AppError('not_found', notFoundKey)
  return Number(raw)
}

const loanId = (req: Request) => pathId(req, 'id', 'loan.notFound')

/**
 * The path's loan id, once the caller may see that loan: a loan that does not exist (or is
 * another person's, for staff) is 404 before the body is looked at, so a bad body never tells
 * whether a loan exists and answers come in the order a client expects (auth, 404, 422, 409).
 */
async function visibleLoanId(ctx: AppContext, req: Request): Promise<number> {
  const id = loanId(req)
  await getLoan(ctx, req.user!, id)
  return id
}

function badFilter(param: string, message: string, params?: Record<string, string | number>): AppError {
  return new AppError('validation_failed', 'validation.unknownFilter', { param }, [{ field: param, message, params }])
}

/** One query parameter as a string; a repeated one (an array) or a nested one is a 422 naming it. */
function queryValue(req: Request, name: string): string | undefined {
  const v = req.query[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw badFilter(name, 'validation.invalid')
  return v.trim()
}

function listFilters(req: Request): { status?: LoanStatus; overdue?: boolean; fiscalYear?: number } {
  const out: { status?: LoanStatus; overdue?: boolean; fiscalYear?: number } = {}
  const status = queryValue(req, 'status')
  if (status) {
    if (!(LOAN_STATUSES as readonly string[]).includes(status)) throw badFilter('status', 'loanApi.unknownStatus', { values: LOAN_STATUSES.join(', ') })
    out.status = status as LoanStatus
  }
  const overdue = queryValue(req, 'overdue')
  if (overdue) {
    // `overdue=true` keeps only overdue loans; `false` is accepted for clients that toggle a flag and means "no such filter".
    if (overdue !== 'true' && overdue !== 'false') throw badFilter('overdue', 'loanApi.overdueFlag')
    out.overdue = overdue === 'true'
  }
  const fy = queryValue(req, 'fiscalYear')
  if (fy) {
    // Fiscal years are Buddhist era (2568); a Common-Era year (2025) is refused rather than matching nothing.
    if (!/^\d{4}$/.test(fy) || Number(fy) < 2400) throw badFilter('fiscalYear', 'loanApi.fiscalYear')
    out.fiscalYear = Number(fy)
  }
  return out
}

/**
 * The scan of the signed slip sent with a paper approval: `scan {fileName?, data}` with the file as
 * base64 (the JSON body's limit applies). A scan that is not base64 is the field's mistake.
 */
function scanOf(paper: unknown, field: string): NewAttachment | undefined {
  if (!paper || typeof paper !== 'object') return undefined
  const scan = (paper as Record<string, unknown>).scan
  if (scan === undefined || scan === null) return undefined
  const s = scan as Record<string, unknown>
  if (typeof s !== 'object' || typeof s.data !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(s.data.replace(/\s/g, ''))) {
    throw new AppError('validation_failed', 'validation.failed', {}, [{ field: `${field}.scan`, message: 'loan.paper.badScan' }])
  }
  const data = Buffer.from(s.data, 'base64')
  if (data.length === 0) throw new AppError('validation_failed', 'validation.failed', {}, [{ field: `${field}.scan`, message: 'loan.paper.badScan' }])
  return { kind: 'signed_slip', fileName: typeof s.fileName === 'string' ? s.fileName : 'scan', data }
}

export function loansApi(ctx: AppContext): Router {
  const router = Router()

  /*
   * Body (SPEC §5): {assetCodes?, stock?: [{code, quantity}], purpose, place, kind, startDate,
   * dueDate} (at least one asset or stock line); finance may add
   * `borrower` (a username) or `externalBorrower {type, name, organisation?, phone?, address?,
   * villageNo?, idNumber?, letterNumber?, letterDate?}`. Finance may also bring in a paper loan
   * that is already running (บันทึกย้อนหลัง): `afterTheFact: true` allows past dates,
   * `paperApproval {approverName, date, note?}` records the approval given on paper (the loan
   * becomes approved, flagged), and `handedOverOn` (a date, needs paperApproval) records the
   * hand-over that already happened (the loan starts on loan). Unknown fields are ignored.
   */
  router.post('/loans', requireRole('staff', 'finance'), async (req, res) => {
    const body = bodyObject(req)
    // Only finance records paper approvals: anyone else is refused for that (403) before the scan is looked at.
    const view = await createLoan(ctx, req.user!, body, { scan: hasRole(req.user, 'finance') ? scanOf(body.paperApproval, 'paperApproval') : undefined })
    res.status(201).json(toApiLoan(view))
  })

  router.get('/loans', requireSignIn, async (req, res) => {
    const { page, pageSize } = listParams(req)
    const filters = listFilters(req)
    const { items, total } = await listLoans(ctx, req.user!, { ...filters, page, pageSize })
    res.json({ items: items.map(toApiLoan), total, page, pageSize })
  })

  router.get('/loans/:id', requireSignIn, async (req, res) => {
    res.json(toApiLoan(await getLoan(ctx, req.user!, loanId(req))))
  })

  // {note?}; finance: the check, or the in-premises approval, or `onPaper {approverName, date, note?}`
  // to record the executive's approval given on paper; executive: the final approval after the check.
  router.post('/loans/:id/approve', requireRole('finance', 'executive'), async (req, res) => {
    const id = await visibleLoanId(ctx, req)
    const body = bodyObject(req)
    res.json(toApiLoan(await approveLoan(ctx, req.user!, id, body, { scan: hasRole(req.user, 'finance') ? scanOf(body.onPaper, 'onPaper') : undefined })))
  })

  // The approver named on a paper approval answers it: {note?} to confirm, {reason} to dispute.
  // Finance voids a disputed or unconfirmed one before hand-over ({reason}); the loan waits for an approval again.
  const paperAnswers = [
    ['confirm', ['finance', 'executive'], confirmPaperApproval],
    ['dispute', ['finance', 'executive'], disputePaperApproval],
    ['void', ['finance'], voidPaperApproval],
  ] as const
  for (const [answer, roles, run] of paperAnswers) {
    router.post(`/loans/:id/paper-approval/${answer}`, requireRole(...roles), async (req, res) => {
      const id = await visibleLoanId(ctx, req)
      res.json(toApiLoan(await run(ctx, req.user!, id, bodyObject(req))))
    })
  }

  // {reason}
  router.post('/loans/:id/reject', requireRole('finance', 'executive'), async (req, res) => {
    const id = await visibleLoanId(ctx, req)
    res.json(toApiLoan(await rejectLoan(ctx, req.user!, id, bodyObject(req))))
  })

  // {reason?} — required from finance cancelling someone else's loan.
  router.post('/loans/:id/cancel', requireRole('staff', 'finance'), async (req, res) => {
    const id = await visibleLoanId(ctx, req)
    res.json(toApiLoan(await cancelLoan(ctx, req.user!, id, bodyObject(req))))
  })

  // {confirmedCodes?: []} — when given, every item's code must be scanned and nothing else; a kit's
  // code stands for its items on the loan (issue 14).
  router.post('/loans/:id/handover', requireRole('finance'), async (req, res) => {
    const id = await visibleLoanId(ctx, req)
    res.json(toApiLoan(await handOver(ctx, req.user!, id, await handoverBodyWithKits(ctx, req.user!, id, bodyObject(req)))))
  })

  // {items?: [{assetCode, condition, note?, returnedBy?}], stock?: [{code, good, damaged, lost, note?, returnedBy?}]}
  // — at least one line; counts of a stock line add up over partial returns; an item line naming a
  // kit stands for each of its items still out, in that line's condition (issue 14).
  router.post('/loans/:id/return', requireRole('finance'), async (req, res) => {
    const id = await visibleLoanId(ctx, req)
    res.json(toApiLoan(await receiveReturn(ctx, req.user!, id, await returnBodyWithKits(ctx, req.user!, id, bodyObject(req)))))
  })

  // {dueDate, reason} → the Loan with the pending extension in `extensions`.
  router.post('/loans/:id/extensions', requireRole('staff', 'finance'), async (req, res) => {
    const id = await visibleLoanId(ctx, req)
    res.json(toApiLoan(await requestExtension(ctx, req.user!, id, bodyObject(req))))
  })

  // Our addition: {approve: boolean, note?, onPaper?} — approved at the loan's level (finance in the
  // premises, the executive outside; finance may record the executive's decision given on paper).
  router.post('/loans/:id/extensions/:extId/decision', requireRole('finance', 'executive'), async (req, res) => {
    const id = await visibleLoanId(ctx, req)
    const extId = pathId(req, 'extId', 'loan.extension.notFound')
    res.json(toApiLoan(await decideExtension(ctx, req.user!, id, extId, bodyObject(req))))
  })

  // {method: phone|letter|in_person, note?, letterNumber? (required for a letter), letterDate?, onDate?}
  router.post('/loans/:id/follow-ups', requireRole('finance'), async (req, res) => {
    const id = await visibleLoanId(ctx, req)
    const f = await addFollowUp(ctx, req.user!, id, bodyObject(req))
    res.status(201).json(toApiFollowUp(f, req.user!.username))
  })

  return router
}
