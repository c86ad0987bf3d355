import { z } from 'zod'
import { writeTransaction, type Db } from '../../db/connection.js'
import { BORROWER_TYPES, type LoanRow, type Role } from '../../db/schema.js'
import * as loans from '../repositories/loan.repository.js'
import { versionedMemo } from '../repositories/data-version.repository.js'
import * as assets from '../repositories/asset.repository.js'
import * as users from '../repositories/user.repository.js'
import * as departments from '../repositories/department.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import type { StockLineView } from '../repositories/stock.repository.js'
import { availabilityFrom } from './stock.service.js'
import type { Conflict, LoanItemView, UserBrief } from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { addDays, bangkokDate, fiscalYearOf, parseIsoDate } from '../i18n/calendar.js'
import { normalizeCode, parseBahtToSatang } from '../i18n/format.js'
import { append, SYSTEM_ACTOR, type Actor } from './audit.service.js'
import { actorOf, hasRole, normalizeUsername, parseOrThrow, type CurrentUser } from './user.service.js'
import { getSettings, type AgencySettings } from './settings.service.js'
import {
  checkApprover,
  checkExtension,
  checkHandler,
  checkLoanDates,
  COMPENSATION_METHODS,
  FOLLOW_UP_METHODS,
  followUpDeadline,
  hasExpired,
  isOverdue,
  ITEM_CONDITIONS,
  LOAN_KINDS,
  maxLoanDaysFor,
  nextApprovalStep,
  proposedCompensation,
  roleForStep,
  type LoanKind,
  type LoanStatus,
} from './loan-rules.js'

export function loanNumber(loan: Pick<LoanRow, 'seq' | 'fiscal_year'>): string {
  return `${loan.seq}/${loan.fiscal_year}`
}

function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

function nowIso(ctx: AppContext): string {
  return ctx.clock.now().toISOString()
}

// ---------------------------------------------------------------- input schemas

const calendarDate = z.string({ error: 'validation.required' }).transform((s, c) => {
  const r = parseIsoDate(s.trim())
  if (!r.ok) {
    c.addIssue({ code: 'custom', message: r.reason === 'buddhist_year' ? 'loan.buddhistYear' : 'loan.badDate' })
    return z.NEVER
  }
  return r.value
})

const text = (min: number, max: number, requiredKey = 'validation.required') =>
  z.string({ error: requiredKey }).trim().min(min, { error: requiredKey }).max(max, { error: 'validation.tooLong' })

const externalBorrowerSchema = z.object({
  type: z.enum(BORROWER_TYPES, { error: 'loan.unknownBorrowerType' }).default('public'),
  name: text(1, 200),
  organisation: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  phone: z.string().trim().max(50, { error: 'validation.tooLong' }).default(''),
  address: z.string().trim().max(500, { error: 'validation.tooLong' }).default(''),
  // หมู่ที่ is a small whole number (the form's number field); "-1" or "1e12" is not a village.
  villageNo: z
    .string()
    .trim()
    .regex(/^(?:[1-9][0-9]{0,2})?$/, { error: 'input.villageNo' })
    .default(''),
  // A Thai national ID: 13 digits, dashes allowed between them.
  idNumber: z
    .string()
    .trim()
    .max(20, { error: 'validation.tooLong' })
    .regex(/^[0-9-]*$/, { error: 'loan.badIdNumber' })
    .refine((s) => s === '' || /^[0-9](?:-?[0-9]){12}$/.test(s), { error: 'input.idNumber13' })
    .default(''),
  letterNumber: z.string().trim().max(100, { error: 'validation.tooLong' }).default(''),
  letterDate: calendarDate.nullable().optional(),
})

const paperApprovalSchema = z.object({
  approverName: text(1, 200),
  date: calendarDate,
  note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
})

export const createLoanSchema = z
  .object({
    assetCodes: z
      .array(z.string({ error: 'loan.badAssetCode' }).transform(normalizeCode), { error: 'loan.noItems' })
      .max(100, { error: 'loan.tooManyItems' })
      .default([]),
    /** Counted items by quantity (chairs, tent sets). */
    stock: z
      .array(
        z.object({
          code: z.string({ error: 'loan.badAssetCode' }).transform(normalizeCode),
          quantity: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(1, { error: 'validation.min1' }).max(100_000),
        }),
        { error: 'validation.invalid' },
      )
      .max(50, { error: 'loan.tooManyItems' })
      .default([]),
    purpose: text(3, 500, 'loan.purposeRequired'),
    place: text(2, 300, 'loan.placeRequired'),
    kind: z.enum(LOAN_KINDS, { error: 'loan.unknownKind' }),
    startDate: calendarDate,
    dueDate: calendarDate,
    borrower: z.string().transform(normalizeUsername).optional(),
    externalBorrower: externalBorrowerSchema.optional(),
    /** An external borrower already on record (a returning borrower at the counter): no new row. */
    externalBorrowerId: z.number({ error: 'loan.unknownBorrower' }).int({ error: 'loan.unknownBorrower' }).positive({ error: 'loan.unknownBorrower' }).optional(),
    /** Another agency's letter for this loan, when the borrower is one on record (a new one carries it in externalBorrower). */
    letterNumber: z.string().trim().max(100, { error: 'validation.tooLong' }).optional(),
    letterDate: calendarDate.nullable().optional(),
    afterTheFact: z.boolean().default(false),
    paperApproval: paperApprovalSchema.optional(),
    handedOverOn: calendarDate.optional(),
  })
  // `when`: say that items are missing even while other fields are wrong, so one round shows every mistake.
  .refine((d) => (Array.isArray(d.assetCodes) && d.assetCodes.length > 0) || (Array.isArray(d.stock) && d.stock.length > 0), {
    path: ['assetCodes'],
    error: 'loan.noItems',
    when: () => true,
  })
  .refine((d) => !(d.borrower && d.externalBorrower), { path: ['borrower'], error: 'loan.twoBorrowers' })
  .refine((d) => d.externalBorrowerId === undefined || (!d.borrower && !d.externalBorrower), { path: ['externalBorrowerId'], error: 'loan.twoBorrowers' })

function fieldError(field: string, message: string, params?: Record<string, string | number>): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field, message, params }])
}

function conflictError(c: Conflict): AppError {
  return new AppError('conflict', 'loan.overlap', { number: `${c.seq}/${c.fiscal_year}`, code: c.asset_code, from: c.start_on, to: c.due_on })
}

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
  people: Map<number, UserBrief>
  overdue: boolean
  followUpDeadline: string
  nextStep: ReturnType<typeof nextApprovalStep>
  competing: Conflict[]
  /** Counted items lent by quantity, with what went out and what came back in each condition. */
  stock: StockLineView[]
}

/** Builds the full view of many loans with a fixed number of queries (no N+1). */
async function viewsOf(ctx: AppContext, rows: LoanRow[], opts: { competing?: boolean } = {}): Promise<LoanView[]> {
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
  const externals = new Map((await loans.externalBorrowersByIds(ctx.db, rows.flatMap((r) => (r.external_borrower_id ? [r.external_borrower_id] : [])))).map((b) => [b.id, b]))
  const peopleIds = rows.flatMap((r) => [r.borrower_user_id, r.requested_by, r.checked_by, r.approved_by, r.handed_over_by, r.rejected_by, r.cancelled_by].filter((x): x is number => x !== null))
  peopleIds.push(...items.flatMap((i) => (i.received_by ? [i.received_by] : [])), ...approvals.flatMap((a) => [a.recorded_by, ...(a.by_user_id ? [a.by_user_id] : [])]))
  peopleIds.push(...stockLines.flatMap((l) => (l.received_by ? [l.received_by] : [])))
  peopleIds.push(...followUps.map((f) => f.created_by), ...extensions.flatMap((e) => [e.requested_by, ...(e.decided_by ? [e.decided_by] : [])]))
  const people = new Map((await loans.usersByIds(ctx.db, peopleIds)).map((u) => [u.id, u]))
  const allDeps = await departments.listAll(ctx.db)
  const deps = new Map(allDeps.map((d) => [d.id, d.name]))
  const depCodes = new Map(allDeps.map((d) => [d.id, d.code]))
  const t = today(ctx)
  const out: LoanView[] = []
  for (const loan of rows) {
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
      extensions: extensions.filter((e) => e.loan_id === loan.id),
      followUps: followUps.filter((f) => f.loan_id === loan.id),
      compensations: compensations.filter((c) => c.loan_id === loan.id),
      people,
      overdue: isOverdue(loan, t),
      followUpDeadline: followUpDeadline(loan.due_on, settings.followUpDays),
      nextStep: nextApprovalStep(loan),
      competing:
        opts.competing && loan.status === 'pending'
          ? await loans.pendingCompeting(ctx.db, loanItems.map((i) => i.asset_id), loan.start_on, loan.due_on, loan.id)
          : [],
    })
  }
  return out
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

export async function listLoans(ctx: AppContext, viewer: CurrentUser, q: LoanListQuery): Promise<{ items: LoanView[]; total: number }> {
  const ownOnly = q.mine || !hasRole(viewer, 'finance', 'executive', 'committee', 'admin')
  const { rows, total } = await loans.list(ctx.db, {
    status: q.status,
    overdueOn: q.overdue ? today(ctx) : undefined,
    fiscalYear: q.fiscalYear,
    seq: q.seq,
    statuses: q.open ? ['pending', 'approved', 'on_loan'] : undefined,
    borrowerUserId: ownOnly ? viewer.id : undefined,
    limit: q.pageSize,
    offset: (q.page - 1) * q.pageSize,
  })
  return { items: await viewsOf(ctx, rows), total }
}

// ---------------------------------------------------------------- request

async function resolveAssets(db: Db, codes: string[]) {
  const unique = [...new Set(codes)]
  if (unique.length !== codes.length) throw fieldError('assetCodes', 'loan.duplicateItem')
  const rows = []
  for (const code of unique) {
    const a = await assets.findByCode(db, code)
    if (!a) throw fieldError('assetCodes', 'loan.unknownAsset', { code })
    rows.push(a)
  }
  return rows
}

/**
 * A request (staff for themselves; finance for anyone: a user or an external borrower). Finance may
 * bring in a paper loan after the fact with its real past dates, its paper approval and the date
 * it was handed over; such a loan is flagged and starts on loan.
 */
export async function createLoan(ctx: AppContext, actor: CurrentUser, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(createLoanSchema, input)
  const isFinance = hasRole(actor, 'finance')
  if (!isFinance && (data.borrower || data.externalBorrower || data.externalBorrowerId !== undefined || data.afterTheFact || data.paperApproval || data.handedOverOn)) {
    throw new AppError('forbidden', 'loan.onlyFinanceForOthers')
  }
  if ((data.paperApproval || data.handedOverOn) && !data.afterTheFact) throw fieldError('afterTheFact', 'loan.paperNeedsAfterTheFact')
  if (data.handedOverOn && !data.paperApproval) throw fieldError('paperApproval', 'loan.handoverNeedsApproval')
  const settings = await getSettings(ctx)
  const t = today(ctx)

  let borrowerUser: { id: number; borrower_type: (typeof BORROWER_TYPES)[number]; department_id: number | null } | undefined
  const onRecord = data.externalBorrowerId === undefined ? undefined : (await loans.externalBorrowersByIds(ctx.db, [data.externalBorrowerId]))[0]
  if (data.externalBorrowerId !== undefined && !onRecord) throw fieldError('externalBorrowerId', 'loan.unknownBorrower')
  if (data.externalBorrower === undefined && onRecord === undefined) {
    const u = data.borrower ? await users.findByUsername(ctx.db, data.borrower) : await users.findById(ctx.db, actor.id)
    if (!u || u.active !== 1) throw fieldError('borrower', 'loan.unknownBorrower')
    borrowerUser = u
  }
  if (data.kind === 'inter_agency' && data.externalBorrower && !data.externalBorrower.organisation) {
    throw fieldError('externalBorrower.organisation', 'loan.agencyNameRequired')
  }
  if (data.kind === 'inter_agency' && onRecord && !onRecord.organisation) throw fieldError('externalBorrowerId', 'loan.agencyNameRequired')

  const found = await resolveAssets(ctx.db, data.assetCodes)
  for (const a of found) {
    if (a.loanable !== 1) throw fieldError('assetCodes', 'loan.notLoanable', { code: a.code })
    if (a.status !== 'available' && a.status !== 'on_loan') throw new AppError('conflict', 'loan.assetUnavailable', { code: a.code, status: a.status })
  }
  const stockItems = await resolveStock(ctx.db, data.stock)
  const maxDays = maxLoanDaysFor(settings.maxLoanDays, found.map((a) => a.max_loan_days))
  const dates = checkLoanDates(data.startDate, data.dueDate, { today: t, maxDays, afterTheFact: data.afterTheFact })
  if (!dates.ok) throw fieldError(dates.reason === 'due_before_start' || dates.reason === 'too_long' ? 'dueDate' : 'startDate', `loan.dates.${dates.reason}`, { max: maxDays })
  if (data.handedOverOn && (data.handedOverOn < data.startDate || data.handedOverOn > t)) throw fieldError('handedOverOn', 'loan.badHandoverDate')

  const id = await writeTransaction(ctx.db, async (trx) => {
    const conflicts = await loans.openConflicts(trx, found.map((a) => a.id), data.startDate, data.dueDate, t)
    if (conflicts.length > 0) throw conflictError(conflicts[0]!)
    await assertStockFits(trx, stockItems, data.startDate, data.dueDate, t)
    let externalId: number | null = onRecord?.id ?? null
    if (data.externalBorrower) {
      const e = data.externalBorrower
      const at = nowIso(ctx)
      externalId = (
        await loans.insertExternalBorrower(trx, {
          type: e.type,
          name: e.name,
          organisation: e.organisation,
          phone: e.phone,
          address: e.address,
          village_no: e.villageNo,
          id_number: e.idNumber,
          created_at: at,
          updated_at: at,
        })
      ).id
    }
    const requestedAt = nowIso(ctx)
    // A paper loan keyed in later keeps the number series of the day it was really asked for.
    const requestedOn = data.afterTheFact ? [data.startDate, data.paperApproval?.date ?? data.startDate].sort()[0]! : t
    const fiscalYear = fiscalYearOf(requestedOn)
    const seq = await loans.nextNumber(trx, fiscalYear)
    const loan = await loans.insert(trx, {
      fiscal_year: fiscalYear,
      seq,
      status: 'pending',
      kind: data.kind,
      borrower_user_id: borrowerUser?.id ?? null,
      external_borrower_id: externalId,
      borrower_type: borrowerUser?.borrower_type ?? onRecord?.type ?? data.externalBorrower!.type,
      department_id: borrowerUser?.department_id ?? null,
      letter_number: data.externalBorrower?.letterNumber ?? data.letterNumber ?? '',
      letter_date: data.externalBorrower?.letterDate ?? data.letterDate ?? null,
      requested_by: actor.id,
      requested_at: requestedAt,
      requested_on: requestedOn,
      purpose: data.purpose,
      place: data.place,
      start_on: data.startDate,
      due_on: data.dueDate,
      original_due_on: data.dueDate,
      entered_after_fact: data.afterTheFact ? 1 : 0,
      updated_at: requestedAt,
    })
    await loans.insertItems(trx, loan.id, found.map((a) => a.id))
    await stockRepo.insertLines(trx, loan.id, stockItems.map((l) => ({ stock_id: l.item.id, quantity: l.quantity })))
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'loan.requested',
      entity: 'loan',
      entityId: loan.id,
      data: {
        number: loanNumber(loan),
        kind: loan.kind,
        assets: found.map((a) => a.code),
        stock: stockItems.map((l) => ({ code: l.item.code, quantity: l.quantity })),
        startOn: loan.start_on,
        dueOn: loan.due_on,
        borrowerUserId: loan.borrower_user_id,
        externalBorrowerId: externalId,
        enteredAfterFact: data.afterTheFact,
      },
    })
    if (data.paperApproval) await recordPaperApproval(ctx, trx, actor, loan, data.paperApproval)
    if (data.handedOverOn) await handOverIn(ctx, trx, actor, loan.id, { on: data.handedOverOn, paper: true })
    return loan.id
  })
  return (await viewsOf(ctx, [(await loans.findById(ctx.db, id))!]))[0]!
}

// ---------------------------------------------------------------- approval

const approveSchema = z.object({
  note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
  onPaper: paperApprovalSchema.optional(),
})

function segregationError(rule: string): AppError {
  return new AppError('forbidden', `loan.sod.${rule}`)
}

async function recordPaperApproval(ctx: AppContext, trx: Db, actor: CurrentUser, loan: LoanRow, paper: z.output<typeof paperApprovalSchema>) {
  const at = nowIso(ctx)
  // A paper loan brought in after the fact, or one outside the premises: the check is part of the record.
  if (loan.kind !== 'in_premises' && loan.checked_at === null) {
    await loans.update(trx, loan.id, { checked_at: at, checked_by: actor.id })
    await loans.insertApproval(trx, { loan_id: loan.id, step: 'check', by_user_id: actor.id, by_name: actor.name, recorded_by: actor.id, at, note: '', on_paper: 0, paper_date: null })
  }
  const ok = await loans.updateIfStatus(trx, loan.id, 'pending', { status: 'approved', approved_at: at, approved_by: null, approved_on_paper: 1, updated_at: at })
  if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
  await loans.insertApproval(trx, {
    loan_id: loan.id,
    step: 'approve',
    by_user_id: null,
    by_name: paper.approverName,
    recorded_by: actor.id,
    at,
    note: paper.note,
    on_paper: 1,
    paper_date: paper.date,
  })
  await append(trx, ctx.clock, actorOf(actor), {
    action: 'loan.approved_on_paper',
    entity: 'loan',
    entityId: loan.id,
    data: { number: loanNumber(loan), approverName: paper.approverName, paperDate: paper.date },
  })
}

/**
 * The next approval step of a pending loan, by the role it needs: finance checks (and approves an
 * in-premises loan); the executive approves after the check. Finance may instead record the
 * executive's approval given on paper.
 */
export async function approveLoan(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(approveSchema, input ?? {})
  const t = today(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    const step = nextApprovalStep(loan)
    if (step === null) throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
    const sod = checkApprover(actor.id, loan)
    if (data.onPaper) {
      if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'loan.paperOnlyFinance')
      if (loan.kind !== 'in_premises' && step === 'check') throw new AppError('invalid_state', 'loan.checkFirst')
      if (!sod.ok) throw segregationError(sod.reason)
      await assertNoConflict(trx, loan, t)
      await recordPaperApproval(ctx, trx, actor, loan, data.onPaper)
      return
    }
    const needed: Role = roleForStep(loan.kind as LoanKind, step)
    if (!hasRole(actor, needed)) {
      // The executive acting before finance's check is a matter of order (409), not of rights.
      if (step === 'check' && hasRole(actor, 'executive')) throw new AppError('invalid_state', 'loan.checkFirst')
      throw new AppError('forbidden', step === 'check' ? 'loan.needsFinance' : needed === 'executive' ? 'loan.needsExecutive' : 'loan.needsFinance')
    }
    if (!sod.ok) throw segregationError(sod.reason)
    const at = nowIso(ctx)
    if (step === 'check') {
      const ok = await loans.updateIfStatus(trx, id, 'pending', { checked_at: at, checked_by: actor.id, updated_at: at })
      if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
      await loans.insertApproval(trx, { loan_id: id, step: 'check', by_user_id: actor.id, by_name: actor.name, recorded_by: actor.id, at, note: data.note, on_paper: 0, paper_date: null })
      await append(trx, ctx.clock, actorOf(actor), { action: 'loan.checked', entity: 'loan', entityId: id, data: { number: loanNumber(loan), note: data.note } })
      return
    }
    await assertNoConflict(trx, loan, t)
    const ok = await loans.updateIfStatus(trx, id, 'pending', { status: 'approved', approved_at: at, approved_by: actor.id, updated_at: at })
    if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
    await loans.insertApproval(trx, { loan_id: id, step: 'approve', by_user_id: actor.id, by_name: actor.name, recorded_by: actor.id, at, note: data.note, on_paper: 0, paper_date: null })
    await append(trx, ctx.clock, actorOf(actor), { action: 'loan.approved', entity: 'loan', entityId: id, data: { number: loanNumber(loan), note: data.note } })
  })
  return getLoan(ctx, actor, id)
}

async function assertNoConflict(trx: Db, loan: LoanRow, t: string): Promise<void> {
  const items = await loans.itemsOf(trx, [loan.id])
  const conflicts = await loans.openConflicts(trx, items.map((i) => i.asset_id), loan.start_on, loan.due_on, t, loan.id)
  if (conflicts.length > 0) throw conflictError(conflicts[0]!)
  const lines = await stockRepo.linesOf(trx, [loan.id])
  const stockItems = await stockRepo.byIds(trx, lines.map((l) => l.stock_id))
  await assertStockFits(
    trx,
    lines.map((l) => ({ item: stockItems.find((i) => i.id === l.stock_id)!, quantity: l.quantity })),
    loan.start_on,
    loan.due_on,
    t,
    loan.id,
  )
}

type StockRequest = { item: Awaited<ReturnType<typeof stockRepo.byIds>>[number]; quantity: number }

async function resolveStock(db: Db, lines: Array<{ code: string; quantity: number }>): Promise<StockRequest[]> {
  const out: StockRequest[] = []
  const seen = new Set<string>()
  for (const l of lines) {
    if (seen.has(l.code)) throw fieldError('stock', 'loan.duplicateItem')
    seen.add(l.code)
    const item = await stockRepo.findByCode(db, l.code)
    if (!item) throw fieldError('stock', 'loan.unknownStock', { code: l.code })
    if (item.loanable !== 1) throw fieldError('stock', 'loan.notLoanable', { code: item.code })
    out.push({ item, quantity: l.quantity })
  }
  return out
}

/**
 * A request or approval that would lend more of a counted item than is free on some day of its
 * dates is refused (409), naming the loan that holds the most on the busiest day.
 */
async function assertStockFits(trx: Db, lines: StockRequest[], from: string, to: string, t: string, excludeLoanId?: number): Promise<void> {
  if (lines.length === 0) return
  const held = await stockRepo.heldLines(trx, lines.map((l) => l.item.id), from, to, t, excludeLoanId)
  for (const l of lines) {
    const a = availabilityFrom(l.item, held.filter((h) => h.stock_id === l.item.id), from, to, t)
    if (l.quantity > a.available) {
      throw new AppError(
        'conflict',
        a.busiest ? 'loan.stockNotEnough' : 'loan.stockNotEnoughOwned',
        { code: l.item.code, name: l.item.name, asked: l.quantity, available: a.available, number: a.busiest?.number ?? '', from: a.busiest?.from ?? '', to: a.busiest?.to ?? '' },
      )
    }
  }
}

const reasonSchema = z.object({ reason: text(3, 1000, 'loan.reasonRequired') })

export async function rejectLoan(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const { reason } = parseOrThrow(reasonSchema, input ?? {})
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    const step = nextApprovalStep(loan)
    if (step === null) throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
    if (!hasRole(actor, 'finance', 'executive')) throw new AppError('forbidden', 'loan.needsFinance')
    const sod = checkApprover(actor.id, loan)
    if (!sod.ok) throw segregationError(sod.reason)
    const at = nowIso(ctx)
    const ok = await loans.updateIfStatus(trx, id, 'pending', { status: 'rejected', rejected_at: at, rejected_by: actor.id, rejection_reason: reason, updated_at: at })
    if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
    await append(trx, ctx.clock, actorOf(actor), { action: 'loan.rejected', entity: 'loan', entityId: id, data: { number: loanNumber(loan), reason } })
  })
  return getLoan(ctx, actor, id)
}

const cancelSchema = z.object({ reason: z.string().trim().max(1000, { error: 'validation.tooLong' }).default('') })

/** The borrower cancels before hand-over; finance cancels an uncollected loan, with a reason. */
export async function cancelLoan(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const { reason } = parseOrThrow(cancelSchema, input ?? {})
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    if (loan.status !== 'pending' && loan.status !== 'approved') throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
    const own = loan.borrower_user_id === actor.id || loan.requested_by === actor.id
    if (!own && !hasRole(actor, 'finance')) throw new AppError('forbidden', 'loan.cancelNotYours')
    if (!own && reason.length < 3) throw fieldError('reason', 'loan.reasonRequired')
    const at = nowIso(ctx)
    const ok = await loans.updateIfStatus(trx, id, loan.status, { status: 'cancelled', cancelled_at: at, cancelled_by: actor.id, cancel_reason: reason || null, updated_at: at })
    if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
    await append(trx, ctx.clock, actorOf(actor), { action: 'loan.cancelled', entity: 'loan', entityId: id, data: { number: loanNumber(loan), reason, from: loan.status } })
  })
  return getLoan(ctx, actor, id)
}

/** Approved loans not collected within the setting's days after their start expire. */
export async function expireLoans(ctx: AppContext): Promise<number> {
  const settings = await getSettings(ctx)
  const t = today(ctx)
  return writeTransaction(ctx.db, async (trx) => {
    let n = 0
    // start_on + expiryDays < today  ⟺  start_on < today − expiryDays
    for (const loan of await loans.expirable(trx, bangkokDate(new Date(Date.parse(`${t}T00:00:00Z`) - settings.expiryDays * 86_400_000)))) {
      if (!hasExpired(loan, t, settings.expiryDays)) continue
      const at = nowIso(ctx)
      if (await loans.updateIfStatus(trx, loan.id, 'approved', { status: 'expired', expired_at: at, updated_at: at })) {
        n++
        await append(trx, ctx.clock, SYSTEM_ACTOR, { action: 'loan.expired', entity: 'loan', entityId: loan.id, data: { number: loanNumber(loan), startOn: loan.start_on } })
      }
    }
    return n
  })
}

// ---------------------------------------------------------------- hand-over and return

const handoverSchema = z.object({
  confirmedCodes: z.array(z.string().transform(normalizeCode)).max(100).optional(),
})

/**
 * Hands over every item, all or nothing. Guarded in the database: each asset moves to on_loan
 * only from available (a conditional update inside BEGIN IMMEDIATE), and a partial unique index
 * refuses a second outstanding hand-over of the same asset — so of concurrent hand-overs of one
 * asset exactly one succeeds.
 */
async function handOverIn(ctx: AppContext, trx: Db, actor: CurrentUser, id: number, opts: { on?: string; paper?: boolean }): Promise<LoanRow> {
  const loan = await loans.findById(trx, id)
  if (!loan) throw new AppError('not_found', 'loan.notFound')
  if (loan.status !== 'approved') throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
  const items = await loans.itemsOf(trx, [id])
  const t = today(ctx)
  await assertNoConflict(trx, loan, t)
  const at = nowIso(ctx)
  for (const item of items) {
    if (!(await assets.setStatus(trx, item.asset_id, 'available', 'on_loan', at, t))) {
      throw new AppError('conflict', 'loan.assetUnavailable', { code: item.asset_code, status: item.asset_status })
    }
  }
  try {
    await loans.markItemsHandedOver(trx, id, at, actor.id)
  } catch (e) {
    if (String(e).includes('UNIQUE')) throw new AppError('conflict', 'loan.alreadyOut')
    throw e
  }
  const lines = await stockRepo.linesOf(trx, [id])
  for (const line of lines) {
    // The table's CHECK refuses more out (plus in repair) than is owned: never more lent than exists.
    if (!(await stockRepo.adjust(trx, line.stock_id, { out: line.quantity }, at))) {
      throw new AppError('conflict', 'loan.stockNotOnHand', { code: line.code, name: line.name, asked: line.quantity })
    }
    if (!(await stockRepo.markLineHandedOver(trx, line.id, line.quantity, at))) throw new AppError('invalid_state', 'loan.invalidState')
  }
  const on = opts.on ?? t
  if (!(await loans.updateIfStatus(trx, id, 'approved', { status: 'on_loan', handed_over_at: at, handed_over_by: actor.id, handed_over_on: on, updated_at: at }))) {
    throw new AppError('invalid_state', 'loan.invalidState')
  }
  await append(trx, ctx.clock, actorOf(actor), {
    action: 'loan.handed_over',
    entity: 'loan',
    entityId: id,
    data: { number: loanNumber(loan), assets: items.map((i) => i.asset_code), stock: lines.map((l) => ({ code: l.code, quantity: l.quantity })), on, recordedFromPaper: opts.paper === true },
  })
  return loan
}

export async function handOver(ctx: AppContext, actor: CurrentUser, id: number, input: unknown = {}): Promise<LoanView> {
  const data = parseOrThrow(handoverSchema, input ?? {})
  if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'loan.needsFinance')
  // An approved loan past its collection deadline is expired first, whichever way the hand-over comes.
  await expireLoansIfDue(ctx)
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan) throw new AppError('not_found', 'loan.notFound')
    if (loan.status !== 'approved') throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
    const sod = checkHandler(actor.id, loan, 'handover', settings.separateApproverAndHandover)
    if (!sod.ok) throw segregationError(sod.reason)
    if (today(ctx) < loan.start_on) throw new AppError('invalid_state', 'loan.notStarted', { date: loan.start_on })
    if (data.confirmedCodes) {
      const expected = new Set((await loans.itemsOf(trx, [id])).map((i) => i.asset_code))
      const got = new Set(data.confirmedCodes)
      const missing = [...expected].filter((c) => !got.has(c))
      const extra = [...got].filter((c) => !expected.has(c))
      if (extra.length > 0) throw fieldError('confirmedCodes', 'loan.notInLoan', { code: extra[0]! })
      if (missing.length > 0) throw fieldError('confirmedCodes', 'loan.notScanned', { code: missing[0]! })
    }
    await handOverIn(ctx, trx, actor, id, {})
  })
  return getLoan(ctx, actor, id)
}

const returnSchema = z.object({
  stock: z
    .array(
      z.object({
        code: z.string({ error: 'validation.required' }).transform(normalizeCode),
        good: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(0).default(0),
        damaged: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(0).default(0),
        lost: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(0).default(0),
        note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
        returnedBy: z.string().trim().max(200, { error: 'validation.tooLong' }).optional(),
      }),
    )
    .max(50)
    .default([]),
  items: z
    .array(
      z.object({
        assetCode: z.string({ error: 'validation.required' }).transform(normalizeCode),
        condition: z.enum(ITEM_CONDITIONS, { error: 'loan.unknownCondition' }),
        note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
        returnedBy: z.string().trim().max(200, { error: 'validation.tooLong' }).optional(),
      }),
      { error: 'loan.noItems' },
    )
    .max(100)
    .default([]),
}).refine((d) => d.items.length > 0 || d.stock.length > 0, { path: ['items'], error: 'loan.noItems' })

/**
 * Receives items back, one or many: good → available; damaged → in repair and lost → lost, each
 * with a compensation record whose proposal starts from the register's price. When every item is
 * back the loan is returned; late means the Bangkok return date is after the due date.
 */
export async function receiveReturn(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(returnSchema, input ?? {})
  if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'loan.needsFinance')
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan) throw new AppError('not_found', 'loan.notFound')
    if (loan.status !== 'on_loan') throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
    const sod = checkHandler(actor.id, loan, 'return', settings.separateApproverAndHandover)
    if (!sod.ok) throw segregationError(sod.reason)
    const items = await loans.itemsOf(trx, [id])
    const byCode = new Map(items.map((i) => [i.asset_code, i]))
    const seen = new Set<string>()
    const borrowerName = loan.borrower_user_id
      ? ((await users.findById(trx, loan.borrower_user_id))?.name ?? '')
      : ((await loans.externalBorrowersByIds(trx, [loan.external_borrower_id!]))[0]?.name ?? '')
    const at = nowIso(ctx)
    const on = today(ctx)
    for (const r of data.items) {
      const item = byCode.get(r.assetCode)
      if (!item) throw fieldError('items', 'loan.notInLoan', { code: r.assetCode })
      if (seen.has(r.assetCode)) throw fieldError('items', 'loan.duplicateItem')
      seen.add(r.assetCode)
      if (item.returned_at !== null) throw new AppError('invalid_state', 'loan.alreadyReturned', { code: item.asset_code })
      const returnedBy = r.returnedBy || borrowerName
      if (!(await loans.markItemReturned(trx, item.id, { at, on, by: actor.id, returnedByName: returnedBy, condition: r.condition, note: r.note }))) {
        throw new AppError('invalid_state', 'loan.alreadyReturned', { code: item.asset_code })
      }
      const next = r.condition === 'good' ? 'available' : r.condition === 'damaged' ? 'in_repair' : 'lost'
      if (!(await assets.setStatus(trx, item.asset_id, 'on_loan', next, at, on))) throw new AppError('conflict', 'asset.changedMeanwhile')
      await append(trx, ctx.clock, actorOf(actor), {
        action: 'loan.item_returned',
        entity: 'loan',
        entityId: id,
        data: { number: loanNumber(loan), asset: item.asset_code, condition: r.condition, note: r.note, returnedBy, late: on > loan.due_on },
      })
      if (r.condition !== 'good') {
        const life = item.useful_life_years ?? item.category_life
        const proposal =
          item.price_satang === null
            ? null
            : proposedCompensation({ currentPriceSatang: item.price_satang, acquiredOn: item.acquired_on, lossOn: on, lifeYears: life, rates: settings.salvageRates })
        await openCompensation(ctx, trx, actor, {
          loanId: id,
          loanItemId: item.id,
          stockLineId: null,
          incident: r.condition,
          on,
          quantity: 1,
          method: r.condition === 'lost' ? 'pay' : 'repair',
          currentPrice: item.price_satang,
          proposed: proposal?.amountSatang ?? null,
          note: r.note,
          what: { asset: item.asset_code },
        })
      }
    }
    const lines = await stockRepo.linesOf(trx, [id])
    for (const r of data.stock) {
      const line = lines.find((l) => l.code === r.code)
      if (!line) throw fieldError('stock', 'loan.notInLoan', { code: r.code })
      const n = r.good + r.damaged + r.lost
      const outstanding = line.handed_over_qty - line.returned_good - line.returned_damaged - line.returned_lost
      if (n === 0) throw fieldError('stock', 'loan.stockCountRequired', { code: r.code })
      if (n > outstanding) throw fieldError('stock', 'loan.stockTooMany', { code: r.code, outstanding })
      const returnedBy = r.returnedBy || borrowerName
      if (!(await stockRepo.addReturn(trx, line.id, { good: r.good, damaged: r.damaged, lost: r.lost, at, on, by: actor.id, returnedByName: returnedBy, note: r.note }))) {
        throw new AppError('invalid_state', 'loan.alreadyReturned', { code: r.code })
      }
      // Good units go back to the pool, damaged ones into repair, lost ones are written off.
      if (!(await stockRepo.adjust(trx, line.stock_id, { out: -n, inRepair: r.damaged, quantity: -r.lost }, at))) throw new AppError('conflict', 'asset.changedMeanwhile')
      if (r.damaged > 0) await stockRepo.insertMovement(trx, { stock_id: line.stock_id, kind: 'damaged_on_loan', quantity: r.damaged, reason: r.note, loan_id: id, at, by_user_id: actor.id })
      if (r.lost > 0) await stockRepo.insertMovement(trx, { stock_id: line.stock_id, kind: 'lost_on_loan', quantity: r.lost, reason: r.note, loan_id: id, at, by_user_id: actor.id })
      await append(trx, ctx.clock, actorOf(actor), {
        action: 'loan.stock_returned',
        entity: 'loan',
        entityId: id,
        data: { number: loanNumber(loan), code: r.code, good: r.good, damaged: r.damaged, lost: r.lost, note: r.note, returnedBy, late: on > loan.due_on },
      })
      for (const [incident, qty] of [['damaged', r.damaged], ['lost', r.lost]] as const) {
        if (qty === 0) continue
        await openCompensation(ctx, trx, actor, {
          loanId: id,
          loanItemId: null,
          stockLineId: line.id,
          incident,
          on,
          quantity: qty,
          method: incident === 'lost' ? 'replace' : 'repair',
          currentPrice: null,
          proposed: null,
          note: r.note,
          what: { stock: r.code },
        })
      }
    }
    if ((await loans.countOutstandingItems(trx, id)) === 0 && (await stockRepo.countOutstandingLines(trx, id)) === 0) {
      if (!(await loans.updateIfStatus(trx, id, 'on_loan', { status: 'returned', returned_at: at, returned_on: on, updated_at: at }))) {
        throw new AppError('invalid_state', 'loan.invalidState')
      }
      await append(trx, ctx.clock, actorOf(actor), { action: 'loan.returned', entity: 'loan', entityId: id, data: { number: loanNumber(loan), late: on > loan.due_on } })
    }
  })
  return getLoan(ctx, actor, id)
}

/** A damaged or lost item or count opens its compensation record (ข้อ 209), audited with the return. */
async function openCompensation(
  ctx: AppContext,
  trx: Db,
  actor: CurrentUser,
  c: {
    loanId: number
    loanItemId: number | null
    stockLineId: number | null
    incident: 'damaged' | 'lost'
    on: string
    quantity: number
    method: 'repair' | 'replace' | 'pay'
    currentPrice: number | null
    proposed: number | null
    note: string
    what: Record<string, string>
  },
): Promise<void> {
  const at = nowIso(ctx)
  const comp = await loans.insertCompensation(trx, {
    loan_id: c.loanId,
    loan_item_id: c.loanItemId,
    loan_stock_line_id: c.stockLineId,
    incident: c.incident,
    incident_on: c.on,
    quantity: c.quantity,
    method: c.method,
    current_price_satang: c.currentPrice,
    proposed_satang: c.proposed,
    decided_satang: null,
    order_ref: '',
    police_ref: '',
    receipt_ref: '',
    settled_on: null,
    note: c.note,
    created_at: at,
    updated_at: at,
  })
  await append(trx, ctx.clock, actorOf(actor), {
    action: 'compensation.opened',
    entity: 'compensation',
    entityId: comp.id,
    data: { loanId: c.loanId, ...c.what, incident: c.incident, quantity: c.quantity, proposedSatang: c.proposed },
  })
}

// ---------------------------------------------------------------- extensions

const extensionSchema = z.object({ dueDate: calendarDate, reason: text(3, 1000, 'loan.reasonRequired') })

export async function requestExtension(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(extensionSchema, input ?? {})
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    const own = loan.borrower_user_id === actor.id || loan.requested_by === actor.id
    if (!own && !hasRole(actor, 'finance')) throw new AppError('forbidden', 'loan.cancelNotYours')
    const items = await loans.itemsOf(trx, [id])
    const maxDays = maxLoanDaysFor(settings.maxLoanDays, await assetMaxes(trx, items))
    const check = checkExtension(loan, data.dueDate, today(ctx), maxDays)
    if (!check.ok) {
      if (check.reason === 'not_on_loan' || check.reason === 'past_due') throw new AppError('invalid_state', `loan.extension.${check.reason}`)
      throw fieldError('dueDate', `loan.extension.${check.reason}`, { max: maxDays })
    }
    if ((await loans.extensionsOf(trx, [id])).some((e) => e.status === 'pending')) throw new AppError('conflict', 'loan.extension.pending')
    const conflicts = await loans.openConflicts(trx, items.filter((i) => i.returned_at === null).map((i) => i.asset_id), nextDay(loan.due_on), data.dueDate, today(ctx), id)
    if (conflicts.length > 0) throw conflictError(conflicts[0]!)
    const at = nowIso(ctx)
    const ext = await loans.insertExtension(trx, {
      loan_id: id,
      requested_by: actor.id,
      requested_at: at,
      from_due_on: loan.due_on,
      to_due_on: data.dueDate,
      reason: data.reason,
      status: 'pending',
      checked_at: null,
      checked_by: null,
      decided_at: null,
      decided_by: null,
      decision_note: '',
      on_paper: 0,
    })
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'loan.extension_requested',
      entity: 'loan',
      entityId: id,
      data: { number: loanNumber(loan), extensionId: ext.id, from: loan.due_on, to: data.dueDate, reason: data.reason },
    })
  })
  return getLoan(ctx, actor, id)
}

function nextDay(date: string): string {
  return bangkokDate(new Date(Date.parse(`${date}T12:00:00+07:00`) + 86_400_000))
}

async function assetMaxes(trx: Db, items: LoanItemView[]): Promise<Array<number | null>> {
  const out: Array<number | null> = []
  for (const i of items) out.push((await assets.findById(trx, i.asset_id))?.max_loan_days ?? null)
  return out
}

const decideExtensionSchema = z.object({
  approve: z.boolean({ error: 'validation.required' }),
  note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
  onPaper: z.boolean().default(false),
})

/** An extension is approved at the loan's level: finance in the premises, the executive outside (or finance recording it on paper). */
export async function decideExtension(ctx: AppContext, actor: CurrentUser, id: number, extensionId: number, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(decideExtensionSchema, input ?? {})
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    const ext = (await loans.extensionsOf(trx, [id])).find((e) => e.id === extensionId)
    if (!ext) throw new AppError('not_found', 'loan.extension.notFound')
    if (ext.status !== 'pending') throw new AppError('invalid_state', 'loan.invalidState', { status: ext.status })
    const needed: Role = loan.kind === 'in_premises' || data.onPaper ? 'finance' : 'executive'
    if (!hasRole(actor, needed)) throw new AppError('forbidden', needed === 'executive' ? 'loan.needsExecutive' : 'loan.needsFinance')
    const sod = checkApprover(actor.id, loan)
    if (!sod.ok) throw segregationError(sod.reason)
    if (ext.requested_by === actor.id) throw segregationError('requester_approves')
    const at = nowIso(ctx)
    if (data.approve) {
      if (loan.status !== 'on_loan' && loan.status !== 'approved') throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
      if (loan.due_on !== ext.from_due_on) throw new AppError('conflict', 'loan.extension.stale')
      const items = await loans.itemsOf(trx, [id])
      const conflicts = await loans.openConflicts(trx, items.filter((i) => i.returned_at === null).map((i) => i.asset_id), nextDay(loan.due_on), ext.to_due_on, today(ctx), id)
      if (conflicts.length > 0) throw conflictError(conflicts[0]!)
      await loans.update(trx, id, { due_on: ext.to_due_on, updated_at: at })
    }
    if (!(await loans.updateExtensionIfPending(trx, extensionId, { status: data.approve ? 'approved' : 'rejected', decided_at: at, decided_by: actor.id, decision_note: data.note, on_paper: data.onPaper ? 1 : 0 }))) {
      throw new AppError('invalid_state', 'loan.invalidState')
    }
    await append(trx, ctx.clock, actorOf(actor), {
      action: data.approve ? 'loan.extension_approved' : 'loan.extension_rejected',
      entity: 'loan',
      entityId: id,
      data: { number: loanNumber(loan), extensionId, from: ext.from_due_on, to: ext.to_due_on, note: data.note, onPaper: data.onPaper },
    })
  })
  return getLoan(ctx, actor, id)
}

// ---------------------------------------------------------------- follow-up and compensation

const followUpSchema = z.object({
  method: z.enum(FOLLOW_UP_METHODS, { error: 'loan.unknownFollowUpMethod' }),
  note: z.string().trim().max(2000, { error: 'validation.tooLong' }).default(''),
  letterNumber: z.string().trim().max(100, { error: 'validation.tooLong' }).default(''),
  letterDate: calendarDate.nullable().optional(),
  onDate: calendarDate.optional(),
})

/** ข้อ 211: finance records each follow-up of an item that has not come back. */
export async function addFollowUp(ctx: AppContext, actor: CurrentUser, id: number, input: unknown) {
  const data = parseOrThrow(followUpSchema, input ?? {})
  if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'loan.needsFinance')
  const t = today(ctx)
  if (data.onDate && data.onDate > t) throw fieldError('onDate', 'loan.futureDate')
  if (data.method === 'letter' && !data.letterNumber) throw fieldError('letterNumber', 'loan.letterNumberRequired')
  return writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan) throw new AppError('not_found', 'loan.notFound')
    if (loan.status !== 'on_loan') throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
    const f = await loans.insertFollowUp(trx, {
      loan_id: id,
      on_date: data.onDate ?? t,
      method: data.method,
      letter_number: data.letterNumber,
      letter_date: data.letterDate ?? null,
      note: data.note,
      created_by: actor.id,
      created_at: nowIso(ctx),
    })
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'loan.followed_up',
      entity: 'loan',
      entityId: id,
      data: { number: loanNumber(loan), followUpId: f.id, method: f.method, onDate: f.on_date, letterNumber: f.letter_number },
    })
    return f
  })
}

const money = z
  .union([z.string(), z.number()])
  .nullable()
  .optional()
  .transform((v, c) => {
    if (v === null || v === undefined || v === '') return null
    const r = parseBahtToSatang(v)
    if (!r.ok) {
      c.addIssue({ code: 'custom', message: 'asset.badPrice' })
      return z.NEVER
    }
    return r.value
  })

const compensationSchema = z.object({
  method: z.enum(COMPENSATION_METHODS, { error: 'loan.unknownCompensationMethod' }),
  currentPrice: money,
  decidedAmount: money,
  orderRef: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  policeRef: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  receiptRef: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  settledOn: calendarDate.nullable().optional(),
  note: z.string().trim().max(2000, { error: 'validation.tooLong' }).default(''),
})

/** Finance records the current price (the proposal follows), the decided amount, references and settlement. */
export async function updateCompensation(ctx: AppContext, actor: CurrentUser, loanId: number, compensationId: number, input: unknown) {
  const data = parseOrThrow(compensationSchema, input ?? {})
  if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'loan.needsFinance')
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const comp = await loans.findCompensation(trx, compensationId)
    if (!comp || comp.loan_id !== loanId) throw new AppError('not_found', 'loan.compensation.notFound')
    if (data.settledOn && data.decidedAmount === null && data.method === 'pay') throw fieldError('decidedAmount', 'loan.compensation.amountRequired')
    // No current price, no proposal: a stale one must not outlive the price it came from.
    let proposed: number | null = data.currentPrice === null ? null : comp.proposed_satang
    if (data.currentPrice !== null && comp.loan_stock_line_id !== null) {
      // Counted items carry no acquisition date: the proposal is the current price per unit × units.
      proposed = data.currentPrice * comp.quantity
    } else if (data.currentPrice !== null && comp.loan_item_id !== null) {
      const item = (await loans.itemsOf(trx, [loanId])).find((i) => i.id === comp.loan_item_id)
      if (item) {
        proposed = proposedCompensation({
          currentPriceSatang: data.currentPrice,
          acquiredOn: item.acquired_on,
          lossOn: comp.incident_on,
          lifeYears: item.useful_life_years ?? item.category_life,
          rates: settings.salvageRates,
        }).amountSatang * comp.quantity
      }
    }
    const changes = {
      method: data.method,
      current_price_satang: data.currentPrice,
      proposed_satang: proposed,
      decided_satang: data.decidedAmount,
      order_ref: data.orderRef,
      police_ref: data.policeRef,
      receipt_ref: data.receiptRef,
      settled_on: data.settledOn ?? null,
      note: data.note,
      updated_at: nowIso(ctx),
    }
    await loans.updateCompensation(trx, compensationId, changes)
    await append(trx, ctx.clock, actorOf(actor), { action: 'compensation.updated', entity: 'compensation', entityId: compensationId, data: { loanId, ...changes } })
  })
  return getLoan(ctx, actor, loanId)
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
    if (!item || item.returned_at !== null) continue
    if (v.loan.status === 'on_loan' && item.handed_over_at !== null) {
      holder = { loanId: v.loan.id, number: v.number, name: v.borrower.organisation ? `${v.borrower.name} (${v.borrower.organisation})` : v.borrower.name, dueDate: v.loan.due_on, overdue: v.loan.due_on < t }
    } else if (v.loan.due_on >= t) {
      reservations.push({ loanId: v.loan.id, number: v.number, from: v.loan.start_on, to: v.loan.due_on, status: v.loan.status as LoanStatus })
    }
  }
  reservations.sort((a, b) => a.from.localeCompare(b.from))
  return { holder, reservations }
}

// A label is opened again and again between two writes: the asset and where it is are kept until
// the next write to the database (any loan, asset or user change moves the data version) or the
// next day (overdue and past reservations follow the calendar). Nothing of the viewer is kept here.
const assetByCodeMemo = versionedMemo<{ asset: assets.AssetListRow; state: AssetLoanState } | null>(256)

/**
 * The asset with this label code and its loan state, for the QR page; `undefined` when no asset has
 * the code. What it returns is shared with the next callers: read it, never change it.
 */
export async function findAssetWithLoanState(ctx: AppContext, rawCode: string, asOf?: string): Promise<{ asset: assets.AssetListRow; state: AssetLoanState } | undefined> {
  const code = normalizeCode(rawCode)
  if (!code) return undefined
  const found = await assetByCodeMemo(
    ctx.db,
    `${today(ctx)} ${code}`,
    async () => {
      const asset = await assets.findByCode(ctx.db, code)
      return asset ? { asset, state: await assetLoanState(ctx, asset.id) } : null
    },
    asOf,
  )
  return found ?? undefined
}

/** The loan holding each asset now, for many assets at once (register lists and the API). */
export async function currentLoansOf(ctx: AppContext, assetIds: number[]): Promise<Map<number, { id: number; number: string; dueDate: string }>> {
  const out = new Map<number, { id: number; number: string; dueDate: string }>()
  for (const r of await loans.outstandingByAssets(ctx.db, assetIds)) out.set(r.asset_id, { id: r.loan_id, number: `${r.seq}/${r.fiscal_year}`, dueDate: r.due_on })
  return out
}

// ---------------------------------------------------------------- queues and dashboards

/** Runs the expiry only when some approved loan is past it: a cheap read on every dashboard. */
export async function expireLoansIfDue(ctx: AppContext): Promise<number> {
  const settings = await getSettings(ctx)
  if ((await loans.expirable(ctx.db, addDays(today(ctx), -settings.expiryDays))).length === 0) return 0
  return expireLoans(ctx)
}

export type ActionCounts = loans.ActionCounts & {
  /** What waits for this person's own action (the navigation badge). */
  awaiting: number
}

/** The counts of the dashboards and the navigation, in one query. */
export async function loanActionCounts(
  ctx: AppContext,
  user: CurrentUser,
  known?: Pick<AgencySettings, 'followUpDays' | 'separateApproverAndHandover'>,
  asOf?: string,
): Promise<ActionCounts> {
  const settings = known ?? (await getSettings(ctx))
  const t = today(ctx)
  const c = await loans.actionCounts(
    ctx.db,
    {
      userId: user.id,
      today: t,
      deadlineDueBefore: addDays(t, -settings.followUpDays),
      dueSoonTo: addDays(t, DUE_SOON_DAYS),
      separateApproverAndHandover: settings.separateApproverAndHandover,
    },
    asOf,
  )
  let awaiting = c.myToCollect + c.myOverdue
  if (hasRole(user, 'finance')) awaiting += c.toCheck + c.toApproveIn + c.toHandOver + c.needFollowUp + c.extensionsFinance
  if (hasRole(user, 'executive')) awaiting += c.toApproveOut + c.extensionsExecutive
  return { ...c, awaiting }
}

/** "Due within 3 days" on the dashboards. */
export const DUE_SOON_DAYS = 3

export const QUEUE_KEYS = ['toCheck', 'toApprove', 'awaitingExecutive', 'toHandOver', 'toReceive', 'overdue', 'pastDeadline', 'dueSoon', 'extensions'] as const
export type QueueKey = (typeof QUEUE_KEYS)[number]

export interface QueueSection {
  key: QueueKey
  total: number
  loans: LoanView[]
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
  // Requests read longest-waiting first; loans out read by due date, the most overdue first.
  if (finance) {
    filters.push(['toCheck', { pendingStep: 'check', order: 'oldest' }], ['toApprove', { pendingStep: 'approve_in', order: 'oldest' }])
  }
  if (finance || executive) filters.push(['awaitingExecutive', { pendingStep: 'approve_out', order: 'oldest' }])
  if (finance) {
    filters.push(['toHandOver', { status: 'approved', startOnOrBefore: t, order: 'oldest' }], ['toReceive', { status: 'on_loan', order: 'due' }])
  }
  if (finance || executive) {
    filters.push(['overdue', { overdueOn: t, order: 'due' }], ['pastDeadline', { noFollowUpDueBefore: addDays(t, -settings.followUpDays), order: 'due' }])
  }
  if (finance) filters.push(['dueSoon', { dueBetween: { from: t, to: addDays(t, DUE_SOON_DAYS) }, order: 'due' }])
  if (finance || executive) filters.push(['extensions', { pendingExtension: finance ? 'any' : 'executive', order: 'oldest' }])
  const found: Array<{ key: QueueKey; rows: LoanRow[]; total: number }> = []
  for (const [key, f] of filters) {
    const { rows, total } = await loans.list(ctx.db, { ...f, limit, offset: 0 })
    found.push({ key, rows, total })
  }
  const unique = new Map<number, LoanRow>()
  for (const f of found) for (const r of f.rows) unique.set(r.id, r)
  const views = new Map((await viewsOf(ctx, [...unique.values()])).map((v) => [v.loan.id, v]))
  return found.map((f) => ({ key: f.key, total: f.total, loans: f.rows.map((r) => views.get(r.id)!) }))
}

/** Who updated each compensation record and when, for the loan's timeline (from the audit log). */
export async function compensationUpdates(ctx: AppContext, view: LoanView): Promise<Array<{ compensationId: number; at: string; actorName: string }>> {
  const rows = await loans.compensationChanges(ctx.db, view.compensations.map((c) => c.id))
  const names = new Map((await loans.usersByIds(ctx.db, rows.flatMap((r) => (r.actor_id ? [r.actor_id] : [])))).map((u) => [u.id, u.name]))
  return rows.map((r) => ({ compensationId: Number(r.entity_id), at: r.at, actorName: (r.actor_id ? names.get(r.actor_id) : undefined) ?? r.actor_label }))
}
