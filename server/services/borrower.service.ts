import type { BorrowerType, ExternalBorrowerRow, LoanRow, LoanStatusCol } from '../../db/schema.js'
import * as borrowers from '../repositories/borrower.repository.js'
import type { BorrowerKey, OpenCompensation } from '../repositories/borrower.repository.js'
import * as loans from '../repositories/loan.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import * as users from '../repositories/user.repository.js'
import * as departments from '../repositories/department.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { bangkokDate, daysBetween } from '../i18n/calendar.js'
import { hasRole, type CurrentUser } from './user.service.js'

/**
 * Borrowers as people: finding a returning borrower again at the counter (by name, organisation or
 * phone), their standing (what is overdue or out now, how often they came back late, what is
 * unsettled) and their history. External borrowers recorded more than once — the same name and
 * phone, or the same ID number — count as one person.
 */

function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

function loanNumber(l: Pick<LoanRow, 'seq' | 'fiscal_year'>): string {
  return `${l.seq}/${l.fiscal_year}`
}

/** Who may look people up and read their history: everyone who sees all loans. */
export function canSeeBorrowers(viewer: CurrentUser): boolean {
  return hasRole(viewer, 'finance', 'executive', 'committee', 'admin')
}

const THAI_DIGITS = /[\u0E50-\u0E59]/g

/** Digits of a phone number as stored or typed («๐๘๙-111 2222» → «0891112222»). */
export function phoneDigitsOf(s: string): string {
  return s.replace(THAI_DIGITS, (d) => String(d.charCodeAt(0) - 0x0e50)).replace(/\D/g, '')
}

/** The separators the repository's SQL takes out of stored phones: the stored twin key. */
function storedPhoneKey(phone: string): string {
  return phone.replace(/[- .()+]/g, '')
}

/**
 * What a search box holds: the text for names, and — when it looks like a phone number — its
 * digits without the leading 0 or +66, so that 089…, +66 89… and 89… find one another.
 */
export function searchTerms(raw: string): { text: string; digits: string } {
  const text = raw.normalize('NFC').trim().slice(0, 100)
  if (!/^[\d\u0E50-\u0E59\s\-+().]+$/.test(text)) return { text, digits: '' }
  let digits = phoneDigitsOf(text)
  if (digits.length >= 9) digits = digits.replace(/^(?:66|0)/, '')
  return { text: digits.length >= 3 ? '' : text, digits }
}

// ---------------------------------------------------------------- standing

export interface OverdueLoan {
  id: number
  number: string
  dueOn: string
  daysOverdue: number
}

export interface Standing {
  /** On loan past the due date now: the warning when this borrower asks again. */
  overdueLoans: OverdueLoan[]
  /** Assets handed over and not back. */
  outstandingItems: number
  /** Counted units (chairs, plates) handed over and not accounted for. */
  outstandingUnits: number
  /** Loans that came back after their due date. */
  lateReturns: number
  /** Compensation records not settled. */
  openCompensations: number
}

async function keyOf(
  ctx: AppContext,
  ref: { userId?: number; externalBorrowerId?: number },
): Promise<{ key: BorrowerKey; external?: ExternalBorrowerRow; twins: ExternalBorrowerRow[] }> {
  if (ref.userId !== undefined) return { key: { userId: ref.userId }, twins: [] }
  if (ref.externalBorrowerId === undefined) throw new AppError('not_found', 'borrower.notFound')
  const row = await borrowers.findExternal(ctx.db, ref.externalBorrowerId)
  if (!row) throw new AppError('not_found', 'borrower.notFound')
  const twins = await borrowers.twinsOf(ctx.db, row, storedPhoneKey(row.phone))
  return { key: { externalIds: twins.map((r) => r.id) }, external: row, twins }
}

async function standingOf(ctx: AppContext, key: BorrowerKey): Promise<Standing> {
  const t = today(ctx)
  const overdue = await borrowers.overdueLoansOf(ctx.db, key, t)
  const counts = await borrowers.standingCounts(ctx.db, key)
  return {
    overdueLoans: overdue.map((l) => ({ id: l.id, number: loanNumber(l), dueOn: l.due_on, daysOverdue: daysBetween(l.due_on, t) })),
    ...counts,
  }
}

/** A borrower's standing now (a user, or an external borrower with the rows that record the same person). */
export async function borrowerStanding(ctx: AppContext, ref: { userId?: number; externalBorrowerId?: number }): Promise<Standing> {
  return standingOf(ctx, (await keyOf(ctx, ref)).key)
}

/** The standing of a loan's borrower, for the people who decide on it. */
export async function standingForLoan(ctx: AppContext, loan: Pick<LoanRow, 'borrower_user_id' | 'external_borrower_id'>): Promise<Standing> {
  if (loan.borrower_user_id !== null) return borrowerStanding(ctx, { userId: loan.borrower_user_id })
  return borrowerStanding(ctx, { externalBorrowerId: loan.external_borrower_id ?? undefined })
}

/** The standing of a user typed by username on the loan entry page; none for an unknown name. */
export async function standingOfUsername(ctx: AppContext, username: string): Promise<{ userId: number; name: string; standing: Standing } | null> {
  const u = username.trim() ? await users.findByUsername(ctx.db, username.trim().toLowerCase()) : undefined
  if (!u) return null
  return { userId: u.id, name: u.name, standing: await standingOf(ctx, { userId: u.id }) }
}

// ---------------------------------------------------------------- search

export interface ExternalBorrowerBrief {
  id: number
  type: BorrowerType
  name: string
  organisation: string
  phone: string
  address: string
  villageNo: string
  /** Loans over every row of this person; overdue now; the latest request. */
  loans: number
  overdue: number
  lastOn: string | null
  /** How many rows record this person (1 when recorded once). */
  records: number
}

export interface UserBorrowerBrief {
  id: number
  username: string
  name: string
  position: string
  phone: string
  active: boolean
}

function twinKey(r: ExternalBorrowerRow): string {
  const phone = storedPhoneKey(r.phone)
  if (phone.length >= 6) return `p:${r.name}\u0000${phone}`
  const id = r.id_number.replace(/\D/g, '')
  if (id.length >= 6) return `i:${r.id_number}`
  return `r:${r.id}`
}

/** External borrowers by name, organisation or phone; one entry per person, their latest details first. */
export async function searchExternalBorrowers(ctx: AppContext, viewer: CurrentUser, raw: string, limit = 20): Promise<ExternalBorrowerBrief[]> {
  if (!canSeeBorrowers(viewer)) throw new AppError('forbidden', 'error.forbidden')
  const terms = searchTerms(raw)
  if (!terms.text && terms.digits.length < 3) return []
  const rows = await borrowers.searchExternal(ctx.db, { ...terms, limit: limit * 3 })
  const groups = new Map<string, ExternalBorrowerRow[]>()
  for (const r of rows) {
    const k = twinKey(r)
    groups.set(k, [...(groups.get(k) ?? []), r])
  }
  const picked = [...groups.values()].slice(0, limit)
  // Twins the search itself did not reach (another organisation spelled differently) still count.
  const members = new Map<number, number[]>()
  for (const g of picked) {
    const head = g[0]!
    const twins = await borrowers.twinsOf(ctx.db, head, storedPhoneKey(head.phone))
    members.set(head.id, [...new Set([...g.map((r) => r.id), ...twins.map((r) => r.id)])])
  }
  const counts = new Map((await borrowers.loanCountsByExternal(ctx.db, [...members.values()].flat(), today(ctx))).map((c) => [c.id, c]))
  return picked.map((g) => {
    const head = g[0]!
    const ids = members.get(head.id)!
    const cs = ids.map((id) => counts.get(id)).filter((c) => c !== undefined)
    return {
      id: head.id,
      type: head.type,
      name: head.name,
      organisation: head.organisation,
      phone: head.phone,
      address: head.address,
      villageNo: head.village_no,
      loans: cs.reduce((n, c) => n + c.loans, 0),
      overdue: cs.reduce((n, c) => n + c.overdue, 0),
      lastOn: cs.reduce<string | null>((m, c) => (c.lastOn && (!m || c.lastOn > m) ? c.lastOn : m), null),
      records: ids.length,
    }
  })
}

/** Users by name, username or phone (their borrower history is on their own page). */
export async function searchUserBorrowers(ctx: AppContext, viewer: CurrentUser, raw: string, limit = 20): Promise<UserBorrowerBrief[]> {
  if (!canSeeBorrowers(viewer)) throw new AppError('forbidden', 'error.forbidden')
  const terms = searchTerms(raw)
  if (!terms.text && terms.digits.length < 3) return []
  const rows = await borrowers.searchUsers(ctx.db, { ...terms, limit })
  return rows.map((u) => ({ id: u.id, username: u.username, name: u.name, position: u.position, phone: u.phone, active: u.active === 1 }))
}

/** One external borrower on record, for the counter: their details to show and to lend to again. */
export async function getExternalBorrower(ctx: AppContext, viewer: CurrentUser, id: number): Promise<ExternalBorrowerRow> {
  if (!canSeeBorrowers(viewer)) throw new AppError('forbidden', 'error.forbidden')
  const row = await borrowers.findExternal(ctx.db, id)
  if (!row) throw new AppError('not_found', 'borrower.notFound')
  return row
}

// ---------------------------------------------------------------- history

export interface HistoryLoan {
  id: number
  number: string
  status: LoanStatusCol
  kind: string
  purpose: string
  place: string
  startOn: string
  dueOn: string
  requestedOn: string
  handedOverOn: string | null
  returnedOn: string | null
  overdue: boolean
  daysOverdue: number
  /** Days after the due date that a returned loan came back (0: on time). */
  daysLate: number
  assets: Array<{ code: string; name: string; out: boolean; condition: string | null }>
  stock: Array<{
    code: string
    name: string
    unit: string
    quantity: number
    handedOver: number
    good: number
    damaged: number
    lost: number
    outstanding: number
  }>
  outstandingItems: number
  outstandingUnits: number
}

export interface BorrowerProfile {
  kind: 'external' | 'user'
  id: number
  type: BorrowerType
  name: string
  organisation: string
  position: string
  departmentName: string
  username: string | null
  phone: string
  address: string
  villageNo: string
  /** Shown in full to finance only; others see the last four digits. */
  idNumber: string
  active: boolean
}

export interface BorrowerHistory {
  profile: BorrowerProfile
  /** Other rows that record the same external borrower. */
  otherRecords: Array<{ id: number; name: string; organisation: string; phone: string }>
  standing: Standing
  loans: HistoryLoan[]
  total: number
  openCompensations: Array<OpenCompensation & { number: string }>
}

function maskId(id: string): string {
  return id.replace(/\d(?=(?:\D*\d){4})/g, '•')
}

async function historyOf(
  ctx: AppContext,
  key: BorrowerKey,
  page: { page: number; pageSize: number },
): Promise<Omit<BorrowerHistory, 'profile' | 'otherRecords'>> {
  const t = today(ctx)
  const { rows, total } = await borrowers.loansOf(ctx.db, key, { limit: page.pageSize, offset: (page.page - 1) * page.pageSize })
  const ids = rows.map((r) => r.id)
  const items = await loans.itemsOf(ctx.db, ids)
  const lines = await stockRepo.linesOf(ctx.db, ids)
  const history = rows.map((l): HistoryLoan => {
    const assets = items.filter((i) => i.loan_id === l.id)
    const stock = lines
      .filter((s) => s.loan_id === l.id)
      .map((s) => ({
        code: s.code,
        name: s.name,
        unit: s.unit,
        quantity: s.quantity,
        handedOver: s.handed_over_qty,
        good: s.returned_good,
        damaged: s.returned_damaged,
        lost: s.returned_lost,
        outstanding: s.handed_over_qty - s.returned_good - s.returned_damaged - s.returned_lost,
      }))
    const overdue = l.status === 'on_loan' && l.due_on < t
    return {
      id: l.id,
      number: loanNumber(l),
      status: l.status,
      kind: l.kind,
      purpose: l.purpose,
      place: l.place,
      startOn: l.start_on,
      dueOn: l.due_on,
      requestedOn: l.requested_on,
      handedOverOn: l.handed_over_on,
      returnedOn: l.returned_on,
      overdue,
      daysOverdue: overdue ? daysBetween(l.due_on, t) : 0,
      daysLate: l.returned_on && l.returned_on > l.due_on ? daysBetween(l.due_on, l.returned_on) : 0,
      assets: assets.map((i) => ({ code: i.asset_code, name: i.asset_name, out: i.handed_over_at !== null && i.returned_at === null, condition: i.condition })),
      stock,
      outstandingItems: assets.filter((i) => i.handed_over_at !== null && i.returned_at === null).length,
      outstandingUnits: stock.reduce((n, s) => n + s.outstanding, 0),
    }
  })
  const comps = await borrowers.openCompensationsOf(ctx.db, key)
  return {
    standing: await standingOf(ctx, key),
    loans: history,
    total,
    openCompensations: comps.map((c) => ({ ...c, number: `${c.seq}/${c.fiscal_year}` })),
  }
}

/** An external borrower's page: their details, standing, loans (every status) and open compensation. */
export async function externalBorrowerHistory(
  ctx: AppContext,
  viewer: CurrentUser,
  id: number,
  page: { page: number; pageSize: number },
): Promise<BorrowerHistory> {
  if (!canSeeBorrowers(viewer)) throw new AppError('not_found', 'borrower.notFound')
  const { key, external, twins } = await keyOf(ctx, { externalBorrowerId: id })
  const b = external!
  const finance = hasRole(viewer, 'finance')
  return {
    profile: {
      kind: 'external',
      id: b.id,
      type: b.type,
      name: b.name,
      organisation: b.organisation,
      position: '',
      departmentName: '',
      username: null,
      phone: b.phone,
      address: b.address,
      villageNo: b.village_no,
      idNumber: finance ? b.id_number : maskId(b.id_number),
      active: true,
    },
    otherRecords: twins.filter((r) => r.id !== b.id).map((r) => ({ id: r.id, name: r.name, organisation: r.organisation, phone: r.phone })),
    ...(await historyOf(ctx, key, page)),
  }
}

/** A user's borrowing history: for those who see all loans, and for the user themself. */
export async function userBorrowerHistory(
  ctx: AppContext,
  viewer: CurrentUser,
  userId: number,
  page: { page: number; pageSize: number },
): Promise<BorrowerHistory> {
  // Another person's history is "not found" for staff, as their loans are.
  if (!canSeeBorrowers(viewer) && viewer.id !== userId) throw new AppError('not_found', 'borrower.notFound')
  const u = await users.findById(ctx.db, userId)
  if (!u) throw new AppError('not_found', 'borrower.notFound')
  const dep = u.department_id !== null ? await departments.findById(ctx.db, u.department_id) : undefined
  return {
    profile: {
      kind: 'user',
      id: u.id,
      type: u.borrower_type,
      name: u.name,
      organisation: '',
      position: u.position,
      departmentName: dep?.name ?? '',
      username: u.username,
      phone: u.phone,
      address: '',
      villageNo: '',
      idNumber: '',
      active: u.active === 1,
    },
    otherRecords: [],
    ...(await historyOf(ctx, { userId }, page)),
  }
}
