import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely'
import type { Database, ExternalBorrowerRow, LoanRow, UserRow } from '../../db/schema.js'
import { containsText } from './sql-helpers.js'

type Db = Kysely<Database>

/** Whose loans: a user's, or those of one or more external borrower rows (the same person recorded twice). */
export type BorrowerKey = { userId: number } | { externalIds: number[] }

/**
 * The phone column with its usual separators taken out, so that «089-111 2222» and «0891112222»
 * compare equal. replace() is the same on SQLite and PostgreSQL.
 */
function phoneDigits(column: string): Expression<string> {
  let e = sql<string>`${sql.ref(column)}`
  for (const sep of ['-', ' ', '.', '(', ')', '+']) e = sql<string>`replace(${e}, ${sep}, '')`
  return e
}

function byBorrower(key: BorrowerKey) {
  return (eb: ExpressionBuilder<Database, 'loan'>) =>
    'userId' in key
      ? eb('loan.borrower_user_id', '=', key.userId)
      : key.externalIds.length === 0
        ? eb.val(false)
        : eb('loan.external_borrower_id', 'in', key.externalIds)
}

export async function findExternal(db: Db, id: number): Promise<ExternalBorrowerRow | undefined> {
  return db.selectFrom('external_borrower').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function externalsByIds(db: Db, ids: number[]): Promise<ExternalBorrowerRow[]> {
  if (ids.length === 0) return []
  return db.selectFrom('external_borrower').selectAll().where('id', 'in', ids).orderBy('id', 'desc').execute()
}

/**
 * External borrowers whose name or organisation contains the text, or whose phone contains the
 * digits (at least three). Newest first: the latest details of a person come first.
 */
export async function searchExternal(db: Db, f: { text: string; digits: string; limit: number }): Promise<ExternalBorrowerRow[]> {
  const ors = (eb: ExpressionBuilder<Database, 'external_borrower'>) => {
    const parts: Expression<SqlBool>[] = []
    if (f.text) parts.push(containsText('name', f.text), containsText('organisation', f.text))
    if (f.digits.length >= 3) parts.push(sql<SqlBool>`${phoneDigits('phone')} LIKE ${`%${f.digits}%`}`)
    if (f.digits.length >= 6) parts.push(sql<SqlBool>`${phoneDigits('id_number')} LIKE ${`%${f.digits}%`}`)
    return parts.length === 0 ? eb.val(false) : eb.or(parts)
  }
  return db.selectFrom('external_borrower').selectAll().where(ors).orderBy('id', 'desc').limit(f.limit).execute()
}

/**
 * The rows that record the same person: the same name with the same phone number, or the same ID
 * number. Loans entered before a borrower could be picked again each made a row of their own.
 */
export async function twinsOf(db: Db, row: ExternalBorrowerRow, digits: string): Promise<ExternalBorrowerRow[]> {
  return db
    .selectFrom('external_borrower')
    .selectAll()
    .where((eb) => {
      const parts: Expression<SqlBool>[] = [eb('id', '=', row.id)]
      if (digits.length >= 6) parts.push(eb.and([eb('name', '=', row.name), sql<SqlBool>`${phoneDigits('phone')} = ${digits}`]))
      if (row.id_number.replace(/\D/g, '').length >= 6) parts.push(eb('id_number', '=', row.id_number))
      return eb.or(parts)
    })
    .orderBy('id', 'desc')
    .execute()
}

export async function searchUsers(db: Db, f: { text: string; digits: string; limit: number }): Promise<UserRow[]> {
  return db
    .selectFrom('app_user')
    .selectAll()
    .where((eb) => {
      const parts: Expression<SqlBool>[] = []
      if (f.text) parts.push(containsText('name', f.text), containsText('username', f.text))
      if (f.digits.length >= 3) parts.push(sql<SqlBool>`${phoneDigits('phone')} LIKE ${`%${f.digits}%`}`)
      return parts.length === 0 ? eb.val(false) : eb.or(parts)
    })
    .orderBy('active', 'desc')
    .orderBy('name')
    .orderBy('id')
    .limit(f.limit)
    .execute()
}

/** Per external borrower row: how many loans, how many overdue now, the latest request date. */
export async function loanCountsByExternal(
  db: Db,
  ids: number[],
  today: string,
): Promise<Array<{ id: number; loans: number; overdue: number; lastOn: string | null }>> {
  if (ids.length === 0) return []
  const rows = await db
    .selectFrom('loan')
    .select((eb) => [
      'external_borrower_id as id',
      eb.fn.countAll<number>().as('loans'),
      eb.fn
        .sum<number>(
          eb
            .case()
            .when(eb.and([eb('status', '=', 'on_loan'), eb('due_on', '<', today)]))
            .then(1)
            .else(0)
            .end(),
        )
        .as('overdue'),
      eb.fn.max('requested_on').as('lastOn'),
    ])
    .where('external_borrower_id', 'in', ids)
    .groupBy('external_borrower_id')
    .orderBy('external_borrower_id')
    .execute()
  return rows.map((r) => ({ id: r.id!, loans: Number(r.loans), overdue: Number(r.overdue ?? 0), lastOn: r.lastOn ?? null }))
}

/** A borrower's loans, newest first. */
export async function loansOf(db: Db, key: BorrowerKey, page: { limit: number; offset: number }): Promise<{ rows: LoanRow[]; total: number }> {
  const q = db.selectFrom('loan').where(byBorrower(key))
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const rows = await q.selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute()
  return { rows, total: Number(total.n) }
}

/** On loan past the due date, the most overdue first. */
export async function overdueLoansOf(db: Db, key: BorrowerKey, today: string): Promise<LoanRow[]> {
  return db
    .selectFrom('loan')
    .selectAll()
    .where(byBorrower(key))
    .where('status', '=', 'on_loan')
    .where('due_on', '<', today)
    .orderBy('due_on')
    .orderBy('id')
    .limit(100)
    .execute()
}

export interface StandingCounts {
  outstandingItems: number
  outstandingUnits: number
  lateReturns: number
  openCompensations: number
}

/** What a borrower has out now (assets and counted units), how often they came back late, what is unsettled. */
export async function standingCounts(db: Db, key: BorrowerKey): Promise<StandingCounts> {
  const items = await db
    .selectFrom('loan_item')
    .innerJoin('loan', 'loan.id', 'loan_item.loan_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(byBorrower(key))
    .where('loan_item.handed_over_at', 'is not', null)
    .where('loan_item.returned_at', 'is', null)
    .executeTakeFirstOrThrow()
  const units = await db
    .selectFrom('loan_stock_line as l')
    .innerJoin('loan', 'loan.id', 'l.loan_id')
    .select(sql<number>`coalesce(sum(l.handed_over_qty - l.returned_good - l.returned_damaged - l.returned_lost), 0)`.as('n'))
    .where(byBorrower(key))
    .executeTakeFirstOrThrow()
  const late = await db
    .selectFrom('loan')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(byBorrower(key))
    .where('returned_on', 'is not', null)
    .whereRef('returned_on', '>', 'due_on')
    .executeTakeFirstOrThrow()
  const comps = await db
    .selectFrom('compensation')
    .innerJoin('loan', 'loan.id', 'compensation.loan_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(byBorrower(key))
    .where('compensation.settled_on', 'is', null)
    .executeTakeFirstOrThrow()
  return { outstandingItems: Number(items.n), outstandingUnits: Number(units.n), lateReturns: Number(late.n), openCompensations: Number(comps.n) }
}

export interface OpenCompensation {
  id: number
  loan_id: number
  seq: number
  fiscal_year: number
  incident: 'damaged' | 'lost'
  incident_on: string
  quantity: number
  method: 'repair' | 'replace' | 'pay' | null
  proposed_satang: number | null
  decided_satang: number | null
  asset_code: string | null
  asset_name: string | null
  stock_code: string | null
  stock_name: string | null
  unit: string | null
}

/** The borrower's compensation records not yet settled, oldest first. */
export async function openCompensationsOf(db: Db, key: BorrowerKey): Promise<OpenCompensation[]> {
  return db
    .selectFrom('compensation as c')
    .innerJoin('loan', 'loan.id', 'c.loan_id')
    .leftJoin('loan_item as li', 'li.id', 'c.loan_item_id')
    .leftJoin('asset as a', 'a.id', 'li.asset_id')
    .leftJoin('loan_stock_line as sl', 'sl.id', 'c.loan_stock_line_id')
    .leftJoin('stock_item as s', 's.id', 'sl.stock_id')
    .select([
      'c.id',
      'c.loan_id',
      'loan.seq',
      'loan.fiscal_year',
      'c.incident',
      'c.incident_on',
      'c.quantity',
      'c.method',
      'c.proposed_satang',
      'c.decided_satang',
      'a.code as asset_code',
      'a.name as asset_name',
      's.code as stock_code',
      's.name as stock_name',
      's.unit',
    ])
    .where(byBorrower(key))
    .where('c.settled_on', 'is', null)
    .orderBy('c.incident_on')
    .orderBy('c.id')
    .execute()
}
