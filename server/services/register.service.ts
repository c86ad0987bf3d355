import type { Writable } from 'node:stream'
import { z } from 'zod'
import { loadExcelJS } from './exceljs-lazy.js'
import { BORROWER_TYPES, type BorrowerType, type LoanKindCol, type LoanStatusCol } from '../../db/schema.js'
import * as repo from '../repositories/register.repository.js'
import * as departments from '../repositories/department.repository.js'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import { translate } from '../i18n/index.js'
import {
  bangkokDate,
  daysBetween,
  fiscalHalfRange,
  fiscalQuarterRange,
  fiscalYearOf,
  fiscalYearRange,
  dateMessageKey,
  parseIsoDate,
  type DateRange,
} from '../i18n/calendar.js'
import { formatDate } from '../i18n/format.js'
import { excelCsv } from '../lib/csv.js'
import { LOAN_KINDS, LOAN_STATUSES } from './loan-rules.js'
import { parseOrThrow } from '../lib/validation.js'

/**
 * The loan-return register (ทะเบียนคุมการยืม-คืน) of a period: every loan number given in it, in
 * order, and one line per asset and per counted stock line of each loan.
 *
 * Which loans: those whose request date (`requested_on`) lies in the period — the register is the
 * book of slips numbered in that period. A fiscal year's number series follows the request date
 * (loan.fiscal_year = fiscalYearOf(requested_on)), so a whole year's register holds 1 … the last
 * number with none missing: rejected, cancelled and expired requests keep their number and are
 * listed. A number that was never used cannot happen: the counter (loan_number) only moves forward,
 * in the same transaction as the insert of the loan that takes it, so a failed request rolls the
 * number back too. (A paper loan keyed in after the fact takes the next number of the fiscal year
 * of its real request date, so a quarter's or a range's register may show numbers out of date
 * order or skip numbers that belong to another part of the year; the year as a whole is complete.)
 */

export const REGISTER_PERIODS = ['year', 'h1', 'q1', 'q2', 'q3', 'q4', 'range'] as const
export type RegisterPeriod = (typeof REGISTER_PERIODS)[number]

export interface RegisterQuery {
  fiscalYear: number
  period: RegisterPeriod
  from: string
  to: string
  status?: LoanStatusCol
  kind?: LoanKindCol
  borrowerType?: BorrowerType
  department?: string
  overdue: boolean
}

const isoDate = z
  .string()
  .trim()
  .transform((s, c) => {
    const r = parseIsoDate(s)
    if (!r.ok) {
      c.addIssue({ code: 'custom', message: dateMessageKey(r.reason) })
      return z.NEVER
    }
    return r.value
  })

const blankToUndefined = (v: unknown) => (v === '' || v === null || Array.isArray(v) ? undefined : v)

const querySchema = z.object({
  fy: z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'register.badYear' })
      .int({ error: 'register.badYear' })
      .min(2400, { error: 'register.badYear' })
      .max(2800, { error: 'register.badYear' })
      .optional(),
  ),
  period: z.preprocess(blankToUndefined, z.enum(REGISTER_PERIODS, { error: 'register.badPeriod' }).default('year')),
  from: z.preprocess(blankToUndefined, isoDate.optional()),
  to: z.preprocess(blankToUndefined, isoDate.optional()),
  status: z.preprocess(blankToUndefined, z.enum(LOAN_STATUSES, { error: 'validation.invalid' }).optional()),
  kind: z.preprocess(blankToUndefined, z.enum(LOAN_KINDS, { error: 'validation.invalid' }).optional()),
  borrowerType: z.preprocess(blankToUndefined, z.enum(BORROWER_TYPES, { error: 'validation.invalid' }).optional()),
  department: z.preprocess(blankToUndefined, z.string().trim().max(50).optional()),
  overdue: z.preprocess(blankToUndefined, z.enum(['1', 'true', '0', 'false']).optional()),
})

function fieldError(field: string, message: string): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field, message }])
}

/** Reads the page's query string (fy, period, from, to and the filters) into a period and filters. */
export function parseRegisterQuery(ctx: AppContext, input: Record<string, unknown>): RegisterQuery {
  const q = parseOrThrow(querySchema, input)
  const fiscalYear = q.fy ?? fiscalYearOf(bangkokDate(ctx.clock.now()))
  let range: DateRange
  if (q.period === 'range') {
    if (!q.from) throw fieldError('from', 'validation.required')
    if (!q.to) throw fieldError('to', 'validation.required')
    if (q.to < q.from) throw fieldError('to', 'register.toBeforeFrom')
    if (daysBetween(q.from, q.to) > 3 * 366) throw fieldError('to', 'register.rangeTooLong')
    range = { from: q.from, to: q.to }
  } else if (q.period === 'year') range = fiscalYearRange(fiscalYear)
  else if (q.period === 'h1') range = fiscalHalfRange(fiscalYear)
  else range = fiscalQuarterRange(fiscalYear, Number(q.period.slice(1)) as 1 | 2 | 3 | 4)
  return {
    fiscalYear: q.period === 'range' ? fiscalYearOf(range.from) : fiscalYear,
    period: q.period,
    ...range,
    status: q.status,
    kind: q.kind,
    borrowerType: q.borrowerType,
    department: q.department,
    overdue: q.overdue === '1' || q.overdue === 'true',
  }
}

export interface RegisterLine {
  type: 'asset' | 'stock'
  code: string
  name: string
  /** Counted stock: how many were asked for (handed over once it went out); assets: null. */
  quantity: number | null
  unit: string
  handedOverOn: string | null
  returnedOn: string | null
  receivedBy: string
  returnedBy: string
  condition: 'good' | 'damaged' | 'lost' | null
  good: number | null
  damaged: number | null
  lost: number | null
  /** Handed over and not (all) back. */
  out: boolean
  /** Returned: returned − due if positive; still out: today − due if positive; else 0; never lent: null. */
  daysLate: number | null
}

export interface RegisterLoan {
  id: number
  number: string
  fiscalYear: number
  seq: number
  status: LoanStatusCol
  kind: LoanKindCol
  borrowerType: BorrowerType
  borrowerName: string
  /** The borrower's department, or the organisation of an outside borrower. */
  unit: string
  requestedOn: string
  purpose: string
  startOn: string
  dueOn: string
  /** The first due date when an extension moved it; null otherwise. */
  originalDueOn: string | null
  handedOverOn: string | null
  enteredAfterFact: boolean
  followUps: string[]
  lines: RegisterLine[]
}

export interface LoanRegister {
  query: RegisterQuery
  today: string
  loans: RegisterLoan[]
  lineCount: number
  /** For a whole fiscal year without filters: the last number given, which equals the loans listed. */
  lastNumber: number | null
  /** Numbers 1 … lastNumber not listed: always empty (see the note at the top); shown if it ever is not. */
  missingNumbers: number[]
  departments: Array<{ code: string; name: string }>
}

function late(due: string, on: string): number {
  return Math.max(0, daysBetween(due, on))
}

/** One screen page of the register: its loans only; the counts, the completeness check and the departments are the whole period's. */
export interface LoanRegisterPage extends Omit<LoanRegister, 'loans'> {
  /** The loans of this page. */
  loans: RegisterLoan[]
  /** Loans in the whole period. */
  loanCount: number
  page: number
  pages: number
}

/** The period's filter, today and the department list (checking a department code). */
async function prepare(ctx: AppContext, query: RegisterQuery) {
  const today = bangkokDate(ctx.clock.now())
  const allDeps = await departments.listAll(ctx.db)
  let departmentId: number | undefined
  if (query.department) {
    const d = allDeps.find((x) => x.code === query.department)
    if (!d) throw fieldError('department', 'register.unknownDepartment')
    departmentId = d.id
  }
  const f: repo.RegisterFilter = {
    from: query.from,
    to: query.to,
    status: query.status,
    kind: query.kind,
    borrowerType: query.borrowerType,
    departmentId,
    overdueOn: query.overdue ? today : undefined,
  }
  const deps = allDeps.filter((d) => d.active === 1 || d.code === query.department).map((d) => ({ code: d.code, name: d.name }))
  return { today, f, departments: deps }
}

/** A whole fiscal year without filters: the register shows whether it holds every number given. */
function isWholeYear(query: RegisterQuery): boolean {
  return query.period === 'year' && !query.status && !query.kind && !query.borrowerType && !query.department && !query.overdue
}

export async function loanRegister(ctx: AppContext, query: RegisterQuery): Promise<LoanRegister> {
  const { today, f, departments: deps } = await prepare(ctx, query)
  const out = await registerLoans(ctx, await repo.loans(ctx.db, f), f, today)
  const lastNumber = isWholeYear(query) ? await repo.lastNumber(ctx.db, query.fiscalYear) : null
  const listed = new Set(out.filter((l) => l.fiscalYear === query.fiscalYear).map((l) => l.seq))
  const missingNumbers: number[] = []
  for (let n = 1; n <= (lastNumber ?? 0); n++) if (!listed.has(n)) missingNumbers.push(n)
  return {
    query,
    today,
    loans: out,
    lineCount: out.reduce((n, l) => n + Math.max(1, l.lines.length), 0),
    lastNumber,
    missingNumbers,
    departments: deps,
  }
}

/**
 * One screen page of the register (`page` from 1, past the end shows the last): only that page's
 * loans and lines are read; the summary's counts and the year's completeness come from SQL
 * aggregates, so that a long period costs the screen no more memory than a short one.
 */
export async function loanRegisterPage(ctx: AppContext, query: RegisterQuery, page: number, pageSize: number): Promise<LoanRegisterPage> {
  const { today, f, departments: deps } = await prepare(ctx, query)
  const count = await repo.counts(ctx.db, f)
  const pages = Math.max(1, Math.ceil(count.loans / pageSize))
  const at = Math.min(Math.max(1, page), pages)
  const rows = await repo.loans(ctx.db, f, { limit: pageSize, offset: (at - 1) * pageSize })
  const loans = rows.length > 0 ? await registerLoans(ctx, rows, { loanIds: rows.map((r) => r.id) }, today) : []
  const lastNumber = isWholeYear(query) ? await repo.lastNumber(ctx.db, query.fiscalYear) : null
  const missingNumbers: number[] = []
  // Never expected (see the note at the top): the numbers are only read when the count falls short.
  if (lastNumber !== null && lastNumber > 0 && (await repo.numberedCount(ctx.db, f, query.fiscalYear, lastNumber)) < lastNumber) {
    const listed = new Set(await repo.numbersOf(ctx.db, f, query.fiscalYear))
    for (let n = 1; n <= lastNumber; n++) if (!listed.has(n)) missingNumbers.push(n)
  }
  return { query, today, loans, loanCount: count.loans, lineCount: count.lines, lastNumber, missingNumbers, departments: deps, page: at, pages }
}

/** The register's loans from their rows, with the lines and follow-ups of `set` (the same loans). */
async function registerLoans(ctx: AppContext, rows: repo.RegisterLoanRow[], set: repo.LoanSet, today: string): Promise<RegisterLoan[]> {
  const [items, stock, follows] = [await repo.itemLines(ctx.db, set), await repo.stockLines(ctx.db, set), await repo.followUpDates(ctx.db, set)]
  const byLoan = new Map<number, RegisterLoan>()
  const out: RegisterLoan[] = rows.map((r) => {
    const loan: RegisterLoan = {
      id: r.id,
      number: `${r.seq}/${r.fiscal_year}`,
      fiscalYear: r.fiscal_year,
      seq: r.seq,
      status: r.status,
      kind: r.kind,
      borrowerType: r.borrower_type,
      borrowerName: r.borrower_name ?? r.external_name ?? '',
      unit: r.department_name ?? r.organisation ?? '',
      requestedOn: r.requested_on,
      purpose: r.purpose,
      startOn: r.start_on,
      dueOn: r.due_on,
      originalDueOn: r.original_due_on !== r.due_on ? r.original_due_on : null,
      handedOverOn: r.handed_over_on,
      enteredAfterFact: r.entered_after_fact === 1,
      followUps: [],
      lines: [],
    }
    byLoan.set(r.id, loan)
    return loan
  })
  for (const fu of follows) byLoan.get(fu.loan_id)?.followUps.push(fu.on_date)
  for (const i of items) {
    const loan = byLoan.get(i.loan_id)
    if (!loan) continue
    const lent = i.handed_over_at !== null
    const out = lent && i.returned_on === null
    loan.lines.push({
      type: 'asset',
      code: i.asset_code,
      name: i.asset_name,
      quantity: null,
      unit: '',
      handedOverOn: lent ? (loan.handedOverOn ?? bangkokDate(new Date(i.handed_over_at!))) : null,
      returnedOn: i.returned_on,
      receivedBy: i.received_by_name ?? '',
      returnedBy: i.returned_by_name ?? '',
      condition: i.condition,
      good: null,
      damaged: null,
      lost: null,
      out,
      daysLate: !lent ? null : i.returned_on ? late(loan.dueOn, i.returned_on) : late(loan.dueOn, today),
    })
  }
  for (const s of stock) {
    const loan = byLoan.get(s.loan_id)
    if (!loan) continue
    const lent = s.handed_over_at !== null
    const back = s.returned_good + s.returned_damaged + s.returned_lost
    const out = lent && back < s.handed_over_qty
    loan.lines.push({
      type: 'stock',
      code: s.code,
      name: s.name,
      quantity: lent ? s.handed_over_qty : s.quantity,
      unit: s.unit,
      handedOverOn: lent ? (loan.handedOverOn ?? bangkokDate(new Date(s.handed_over_at!))) : null,
      returnedOn: s.last_returned_on,
      receivedBy: s.received_by_name ?? '',
      returnedBy: s.returned_by_name ?? '',
      condition: null,
      good: lent ? s.returned_good : null,
      damaged: lent ? s.returned_damaged : null,
      lost: lent ? s.returned_lost : null,
      out,
      daysLate: !lent ? null : out ? late(loan.dueOn, today) : s.last_returned_on ? late(loan.dueOn, s.last_returned_on) : 0,
    })
  }
  return out
}

// ---------------------------------------------------------------- files (CSV, XLSX)

export const REGISTER_COLUMNS = [
  'number',
  'requestedOn',
  'status',
  'borrower',
  'borrowerType',
  'unit',
  'kind',
  'purpose',
  'code',
  'name',
  'quantity',
  'startOn',
  'dueOn',
  'originalDueOn',
  'handedOverOn',
  'returnedOn',
  'receivedBy',
  'returnedBy',
  'condition',
  'good',
  'damaged',
  'lost',
  'followUps',
  'daysLate',
] as const
type Column = (typeof REGISTER_COLUMNS)[number]
type Cell = string | number | null

const beDate = (d: string | null): string => (d ? formatDate(d, { locale: 'th', style: 'numeric' }) : '')

/** The register as rows of cells (Thai words, Buddhist-era dates as text): one per line of each loan. */
export function registerRows(reg: LoanRegister): Cell[][] {
  const th = (key: string) => translate('th', key)
  const rows: Cell[][] = []
  for (const l of reg.loans) {
    const lines: Array<RegisterLine | null> = l.lines.length > 0 ? l.lines : [null]
    for (const line of lines) {
      const cells: Record<Column, Cell> = {
        number: l.number,
        requestedOn: beDate(l.requestedOn),
        status: th(`loan.status.${l.status}`),
        borrower: l.borrowerName,
        borrowerType: th(`borrowerType.${l.borrowerType}`),
        unit: l.unit,
        kind: th(`loan.kind.${l.kind}`),
        purpose: l.purpose,
        code: line?.code ?? '',
        name: line?.name ?? '',
        quantity: line?.quantity ?? (line ? 1 : null),
        startOn: beDate(l.startOn),
        dueOn: beDate(l.dueOn),
        originalDueOn: beDate(l.originalDueOn),
        handedOverOn: beDate(line?.handedOverOn ?? null),
        returnedOn: beDate(line?.returnedOn ?? null),
        receivedBy: line?.receivedBy ?? '',
        returnedBy: line?.returnedBy ?? '',
        condition: line?.condition ? th(`loan.condition.${line.condition}`) : line?.out ? th('register.stillOut') : '',
        good: line?.good ?? null,
        damaged: line?.damaged ?? null,
        lost: line?.lost ?? null,
        followUps: l.followUps.map(beDate).join(' '),
        daysLate: line?.daysLate ?? null,
      }
      rows.push(REGISTER_COLUMNS.map((c) => cells[c]))
    }
  }
  return rows
}

export function registerHeaders(): string[] {
  return REGISTER_COLUMNS.map((c) => translate('th', `register.col.${c}`))
}

/** UTF-8 with a BOM (Excel opens the Thai intact), CRLF, Thai headers; formula-like text neutralised (see excelCsv). */
export function loanRegisterCsv(reg: LoanRegister): string {
  return excelCsv([registerHeaders(), ...registerRows(reg)])
}

const WIDTHS: Partial<Record<Column, number>> = {
  number: 10,
  borrower: 24,
  unit: 22,
  purpose: 30,
  code: 16,
  name: 28,
  receivedBy: 20,
  returnedBy: 20,
  followUps: 16,
}

/** The same rows as an XLSX sheet (text cells are never formulas in XLSX, so they stay as typed). */
export async function writeLoanRegisterXlsx(reg: LoanRegister, out: Writable): Promise<void> {
  const Excel = await loadExcelJS()
  const wb = new Excel.Workbook()
  const ws = wb.addWorksheet(translate('th', 'register.sheet'), {
    views: [{ state: 'frozen', ySplit: 1 }],
    pageSetup: { paperSize: 9, orientation: 'landscape' },
  })
  ws.columns = REGISTER_COLUMNS.map((c) => ({ key: c, width: WIDTHS[c] ?? 12 }))
  ws.addRow(registerHeaders()).font = { bold: true }
  for (const r of registerRows(reg)) ws.addRow(r)
  await wb.xlsx.write(out)
}

/** The download's name: ascii for old browsers, Thai for those that read filename*. */
export function registerFileName(reg: LoanRegister, ext: 'csv' | 'xlsx'): { ascii: string; utf8: string } {
  const q = reg.query
  const span = q.period === 'range' ? `${q.from}_${q.to}` : `${q.fiscalYear}-${q.period}`
  return { ascii: `loan-register-${span}.${ext}`, utf8: `${translate('th', 'register.title')}-${span}.${ext}` }
}
