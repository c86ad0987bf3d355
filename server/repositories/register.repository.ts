import type { ExpressionBuilder, Kysely, SelectQueryBuilder } from 'kysely'
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

/** The loans of the period in number order (fiscal year, then running number). */
export async function loans(db: Db, f: RegisterFilter): Promise<RegisterLoanRow[]> {
  return filtered(db, f)
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
    .execute()
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

export async function itemLines(db: Db, f: RegisterFilter): Promise<RegisterItemRow[]> {
  return db
    .selectFrom('loan_item as li')
    .innerJoin('asset as a', 'a.id', 'li.asset_id')
    .leftJoin('app_user as r', 'r.id', 'li.received_by')
    .select(['li.loan_id', 'a.code as asset_code', 'a.name as asset_name', 'li.handed_over_at', 'li.returned_on', 'r.name as received_by_name', 'li.returned_by_name', 'li.condition'])
    .where('li.loan_id', 'in', filtered(db, f).select('loan.id'))
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

export async function stockLines(db: Db, f: RegisterFilter): Promise<RegisterStockRow[]> {
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
    .where('s.loan_id', 'in', filtered(db, f).select('loan.id'))
    .orderBy('s.loan_id')
    .orderBy('s.id')
    .execute()
}

/** Follow-up dates of the period's loans (index follow_up(loan_id, on_date)). */
export async function followUpDates(db: Db, f: RegisterFilter): Promise<Array<{ loan_id: number; on_date: string }>> {
  return db
    .selectFrom('follow_up')
    .select(['loan_id', 'on_date'])
    .where('loan_id', 'in', filtered(db, f).select('loan.id'))
    .orderBy('loan_id')
    .orderBy('on_date')
    .execute()
}

/** The last number given in a fiscal year (the counter), to show that the year's list is complete. */
export async function lastNumber(db: Db, fiscalYear: number): Promise<number> {
  const r = await db.selectFrom('loan_number').select('last_seq').where('fiscal_year', '=', fiscalYear).executeTakeFirst()
  return r?.last_seq ?? 0
}
