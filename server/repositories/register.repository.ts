import { sql, type ExpressionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely'
import { greaterOfSql } from '../../db/dialect.js'
import type { BorrowerType, Database, LoanKindCol, LoanStatusCol } from '../../db/schema.js'

type Db = Kysely<Database>

/**
 * The loan-return register's queries. A loan belongs to a period by its request date
 * (`loan.requested_on`, index loan_requested_on_idx): the register is the book of slips numbered
 * in that period. Lines are read with the same loan filter as a subquery, so that a year's
 * register is three indexed range reads, never every loan of every year.
 */
export interface RegisterFilter {
  from: string
  to: string
  status?: LoanStatusCol
  kind?: LoanKindCol
  borrowerType?: BorrowerType
  departmentId?: number
  /** Loans late at `today`: still out past due, or returned after the due date. */
  overdueOn?: string
}

function filtered(db: Db, f: RegisterFilter): SelectQueryBuilder<Database, 'loan', object> {
  let q = db.selectFrom('loan').where('loan.requested_on', '>=', f.from).where('loan.requested_on', '<=', f.to)
  if (f.status) q = q.where('loan.status', '=', f.status)
  if (f.kind) q = q.where('loan.kind', '=', f.kind)
  if (f.borrowerType) q = q.where('loan.borrower_type', '=', f.borrowerType)
  if (f.departmentId !== undefined) q = q.where('loan.department_id', '=', f.departmentId)
  if (f.overdueOn) {
    const today = f.overdueOn
    q = q.where((eb: ExpressionBuilder<Database, 'loan'>) =>
      eb.or([
        eb.and([eb('loan.status', '=', 'on_loan'), eb('loan.due_on', '<', today)]),
        eb.and([eb('loan.returned_on', 'is not', null), eb('loan.returned_on', '>', eb.ref('loan.due_on'))]),
      ]),
    )
  }
  return q
}

/** Which loans' lines to read: every loan of a filter (print, files) or the given loans of one screen page (a non-empty list). */
export type LoanSet = RegisterFilter | { loanIds: readonly number[] }

function loanIds(db: Db, set: LoanSet) {
  return 'loanIds' in set ? [...set.loanIds] : filtered(db, set).select('loan.id')
}

/** How many loans a filter holds, and their register lines (one per item or stock line, at least one per loan). */
export async function counts(db: Db, f: RegisterFilter): Promise<{ loans: number; lines: number }> {
  const r = await filtered(db, f)
    .select((eb) => {
      const items = eb.selectFrom('loan_item as li').select(eb.fn.countAll().as('n')).whereRef('li.loan_id', '=', 'loan.id')
      const stock = eb.selectFrom('loan_stock_line as s').select(eb.fn.countAll().as('n')).whereRef('s.loan_id', '=', 'loan.id')
      const lines = greaterOfSql<number>(db, sql`1`, sql`(${items}) + (${stock})`)
      return [eb.fn.countAll<number>().as('loans'), sql<number>`coalesce(sum(${lines}), 0)`.as('lines')]
    })
    .executeTakeFirstOrThrow()
  return { loans: Number(r.loans), lines: Number(r.lines) }
}

/** How many loans of a filter carry a number 1 … last of the fiscal year (the year's register is complete when all do). */
export async function numberedCount(db: Db, f: RegisterFilter, fiscalYear: number, last: number): Promise<number> {
  const r = await filtered(db, f)
    .select((eb) => eb.fn.count<number>('loan.seq').distinct().as('n'))
    .where('loan.fiscal_year', '=', fiscalYear)
    .where('loan.seq', '>=', 1)
    .where('loan.seq', '<=', last)
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

/** The numbers of a fiscal year's loans in a filter (only read when some number is missing). */
export async function numbersOf(db: Db, f: RegisterFilter, fiscalYear: number): Promise<number[]> {
  const rows = await filtered(db, f).select('loan.seq').where('loan.fiscal_year', '=', fiscalYear).execute()
  return rows.map((r) => r.seq)
}

export interface RegisterLoanRow {
  id: number
  fiscal_year: number
  seq: number
  status: LoanStatusCol
  kind: LoanKindCol
  borrower_type: BorrowerType
  requested_on: string
  purpose: string
  start_on: string
  due_on: string
  original_due_on: string
  handed_over_on: string | null
  returned_on: string | null
  entered_after_fact: number
  borrower_name: string | null
  department_name: string | null
  external_name: string | null
  organisation: string | null
}

/** The loans of the period in number order (fiscal year, then running number); `page` reads a slice of them. */
export async function loans(db: Db, f: RegisterFilter, page?: { limit: number; offset: number }): Promise<RegisterLoanRow[]> {
  const q = filtered(db, f)
    .leftJoin('app_user as u', 'u.id', 'loan.borrower_user_id')
    .leftJoin('department as d', 'd.id', 'loan.department_id')
    .leftJoin('external_borrower as e', 'e.id', 'loan.external_borrower_id')
    .select([
      'loan.id',
      'loan.fiscal_year',
      'loan.seq',
      'loan.status',
      'loan.kind',
      'loan.borrower_type',
      'loan.requested_on',
      'loan.purpose',
      'loan.start_on',
      'loan.due_on',
      'loan.original_due_on',
      'loan.handed_over_on',
      'loan.returned_on',
      'loan.entered_after_fact',
      'u.name as borrower_name',
      'd.name as department_name',
      'e.name as external_name',
      'e.organisation as organisation',
    ])
    .orderBy('loan.fiscal_year')
    .orderBy('loan.seq')
  return page ? q.limit(page.limit).offset(page.offset).execute() : q.execute()
}

export interface RegisterItemRow {
  loan_id: number
  asset_code: string
  asset_name: string
  handed_over_at: string | null
  returned_on: string | null
  received_by_name: string | null
  returned_by_name: string | null
  condition: 'good' | 'damaged' | 'lost' | null
}

export async function itemLines(db: Db, f: LoanSet): Promise<RegisterItemRow[]> {
  return db
    .selectFrom('loan_item as li')
    .innerJoin('asset as a', 'a.id', 'li.asset_id')
    .leftJoin('app_user as r', 'r.id', 'li.received_by')
    .select([
      'li.loan_id',
      'a.code as asset_code',
      'a.name as asset_name',
      'li.handed_over_at',
      'li.returned_on',
      'r.name as received_by_name',
      'li.returned_by_name',
      'li.condition',
    ])
    .where('li.loan_id', 'in', loanIds(db, f))
    .orderBy('li.loan_id')
    .orderBy('li.id')
    .execute()
}

export interface RegisterStockRow {
  loan_id: number
  code: string
  name: string
  unit: string
  quantity: number
  handed_over_qty: number
  handed_over_at: string | null
  returned_good: number
  returned_damaged: number
  returned_lost: number
  last_returned_on: string | null
  received_by_name: string | null
  returned_by_name: string | null
}

export async function stockLines(db: Db, f: LoanSet): Promise<RegisterStockRow[]> {
  return db
    .selectFrom('loan_stock_line as s')
    .innerJoin('stock_item as i', 'i.id', 's.stock_id')
    .leftJoin('app_user as r', 'r.id', 's.received_by')
    .select([
      's.loan_id',
      'i.code',
      'i.name',
      'i.unit',
      's.quantity',
      's.handed_over_qty',
      's.handed_over_at',
      's.returned_good',
      's.returned_damaged',
      's.returned_lost',
      's.last_returned_on',
      'r.name as received_by_name',
      's.returned_by_name',
    ])
    .where('s.loan_id', 'in', loanIds(db, f))
    .orderBy('s.loan_id')
    .orderBy('s.id')
    .execute()
}

/** Follow-up dates of the period's loans (index follow_up(loan_id, on_date)). */
export async function followUpDates(db: Db, f: LoanSet): Promise<Array<{ loan_id: number; on_date: string }>> {
  return db
    .selectFrom('follow_up')
    .select(['loan_id', 'on_date'])
    .where('loan_id', 'in', loanIds(db, f))
    .orderBy('loan_id')
    .orderBy('on_date')
    .orderBy('id')
    .execute()
}

/** The last number given in a fiscal year (the counter), to show that the year's list is complete. */
export async function lastNumber(db: Db, fiscalYear: number): Promise<number> {
  const r = await db.selectFrom('loan_number').select('last_seq').where('fiscal_year', '=', fiscalYear).executeTakeFirst()
  return r?.last_seq ?? 0
}
