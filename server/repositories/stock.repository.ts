import { type Kysely, sql } from 'kysely'
import { codeKey, type StockMovementTable, type Database, type KitPartRow, type KitRow, type LoanStockLineRow, type StockItemRow } from '../../db/schema.js'
import { statementMayFail } from '../../db/connection.js'
import { isCheckViolation } from '../../db/dialect.js'
import { containsText, hasNul } from './sql-helpers.js'
import { heldFrom } from './loan.repository.js'

type Db = Kysely<Database>

/** By the code's key (codeKey), its exact spelling first, as asset.repository's findByCode. */
export async function findByCode(db: Db, code: string): Promise<StockItemRow | undefined> {
  if (hasNul(code)) return undefined
  return db
    .selectFrom('stock_item')
    .selectAll()
    .where((eb) => eb.or([eb('code_key', '=', codeKey(code)), eb('code', '=', code)]))
    .orderBy(sql`code = ${code}`, 'desc')
    .limit(1)
    .executeTakeFirst()
}

export async function findById(db: Db, id: number): Promise<StockItemRow | undefined> {
  return db.selectFrom('stock_item').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function byIds(db: Db, ids: number[]): Promise<StockItemRow[]> {
  if (ids.length === 0) return []
  return db
    .selectFrom('stock_item')
    .selectAll()
    .where('id', 'in', [...new Set(ids)])
    .orderBy('id')
    .execute()
}

export async function list(db: Db, f: { q?: string; limit: number; offset: number }): Promise<{ rows: StockItemRow[]; total: number }> {
  let q = db.selectFrom('stock_item')
  if (f.q) {
    const text = f.q
    q = q.where((eb) => eb.or([containsText('code', text), containsText('code_key', codeKey(text)), containsText('name', text)]))
  }
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const rows = await q.selectAll().orderBy('code').limit(f.limit).offset(f.offset).execute()
  return { rows, total: Number(total.n) }
}

export async function insert(db: Db, row: Omit<StockItemRow, 'id' | 'code_key'>): Promise<StockItemRow> {
  return db
    .insertInto('stock_item')
    .values({ ...row, code_key: codeKey(row.code) })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function update(db: Db, id: number, changes: Partial<Omit<StockItemRow, 'id' | 'code_key'>>): Promise<void> {
  const key = changes.code === undefined ? {} : { code_key: codeKey(changes.code) }
  await db
    .updateTable('stock_item')
    .set({ ...changes, ...key })
    .where('id', '=', id)
    .execute()
}

/**
 * Moves counts with the database's own guard: the table's CHECK refuses any state where what is
 * out plus what is in repair exceeds what is owned, so a refused update changes nothing.
 */
export async function adjust(db: Db, id: number, delta: { quantity?: number; inRepair?: number; out?: number }, at: string): Promise<boolean> {
  try {
    const r = await statementMayFail(db, () =>
      db
        .updateTable('stock_item')
        .set((eb) => ({
          quantity: eb('quantity', '+', delta.quantity ?? 0),
          in_repair: eb('in_repair', '+', delta.inRepair ?? 0),
          out_qty: eb('out_qty', '+', delta.out ?? 0),
          updated_at: at,
        }))
        .where('id', '=', id)
        .executeTakeFirst(),
    )
    return Number(r.numUpdatedRows) === 1
  } catch (e) {
    if (isCheckViolation(e)) return false
    throw e
  }
}

export async function insertMovement(
  db: Db,
  m: { stock_id: number; kind: StockMovementTable['kind']; quantity: number; reason: string; loan_id: number | null; at: string; by_user_id: number | null },
): Promise<void> {
  await db.insertInto('stock_movement').values(m).execute()
}

export async function movementsOf(db: Db, stockId: number, limit = 100) {
  return db
    .selectFrom('stock_movement as m')
    .leftJoin('app_user as u', 'u.id', 'm.by_user_id')
    .select(['m.id', 'm.kind', 'm.quantity', 'm.reason', 'm.loan_id', 'm.at', 'u.name as by_name'])
    .where('m.stock_id', '=', stockId)
    .orderBy('m.id', 'desc')
    .limit(limit)
    .execute()
}

export interface HeldLine {
  loan_id: number
  seq: number
  fiscal_year: number
  status: string
  /** The first day the loan holds units: its start, or its hand-over day when that came earlier (SPEC §3). */
  start_on: string
  due_on: string
  stock_id: number
  quantity: number
  handed_over_qty: number
  returned: number
}

/** Lines of open loans (approved or on loan) of these items that may hold units on a day of [from, to], from the earlier of start and hand-over day. */
export async function heldLines(db: Db, stockIds: number[], from: string, to: string, today: string, excludeLoanId?: number): Promise<HeldLine[]> {
  if (stockIds.length === 0) return []
  let q = db
    .selectFrom('loan_stock_line as s')
    .innerJoin('loan as l', 'l.id', 's.loan_id')
    .select((eb) => [
      'l.id as loan_id',
      'l.seq',
      'l.fiscal_year',
      'l.status',
      heldFrom.as('start_on'),
      'l.due_on',
      's.stock_id',
      's.quantity',
      's.handed_over_qty',
      eb(eb(eb.ref('s.returned_good'), '+', eb.ref('s.returned_damaged')), '+', eb.ref('s.returned_lost')).as('returned'),
    ])
    .where('s.stock_id', 'in', stockIds)
    .where('l.status', 'in', ['approved', 'on_loan'])
    // Units handed over early are held from the hand-over day (SPEC §3).
    .where((eb) => eb.or([eb('l.start_on', '<=', to), eb('l.handed_over_on', '<=', to)]))
    // Units on loan stay held until they come back, even past due: such a line reaches at least today.
    .where((eb) => (today >= from ? eb.or([eb('l.due_on', '>=', from), eb('l.status', '=', 'on_loan')]) : eb('l.due_on', '>=', from)))
  if (excludeLoanId !== undefined) q = q.where('l.id', '!=', excludeLoanId)
  return (await q.orderBy('l.start_on').orderBy('l.id').orderBy('s.id').execute()).map((r) => ({ ...r, returned: Number(r.returned) }))
}

export async function insertLines(db: Db, loanId: number, lines: Array<{ stock_id: number; quantity: number }>): Promise<void> {
  if (lines.length === 0) return
  await db
    .insertInto('loan_stock_line')
    .values(lines.map((l) => ({ loan_id: loanId, stock_id: l.stock_id, quantity: l.quantity })))
    .execute()
}

export interface StockLineView extends LoanStockLineRow {
  code: string
  name: string
  unit: string
}

export async function linesOf(db: Db, loanIds: number[]): Promise<StockLineView[]> {
  if (loanIds.length === 0) return []
  return db
    .selectFrom('loan_stock_line as s')
    .innerJoin('stock_item as i', 'i.id', 's.stock_id')
    .selectAll('s')
    .select(['i.code', 'i.name', 'i.unit'])
    .where('s.loan_id', 'in', loanIds)
    .orderBy('s.loan_id')
    .orderBy('s.id')
    .execute()
}

export async function markLineHandedOver(db: Db, lineId: number, qty: number, at: string): Promise<boolean> {
  const r = await db
    .updateTable('loan_stock_line')
    .set({ handed_over_qty: qty, handed_over_at: at })
    .where('id', '=', lineId)
    .where('handed_over_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function addReturn(
  db: Db,
  lineId: number,
  r: { good: number; damaged: number; lost: number; at: string; on: string; by: number; returnedByName: string; note: string },
): Promise<boolean> {
  try {
    const res = await statementMayFail(db, () =>
      db
        .updateTable('loan_stock_line')
        .set((eb) => ({
          returned_good: eb('returned_good', '+', r.good),
          returned_damaged: eb('returned_damaged', '+', r.damaged),
          returned_lost: eb('returned_lost', '+', r.lost),
          last_returned_at: r.at,
          last_returned_on: r.on,
          received_by: r.by,
          returned_by_name: r.returnedByName,
          note: r.note,
        }))
        .where('id', '=', lineId)
        .executeTakeFirst(),
    )
    return Number(res.numUpdatedRows) === 1
  } catch (e) {
    if (isCheckViolation(e)) return false
    throw e
  }
}

export async function countOutstandingLines(db: Db, loanId: number): Promise<number> {
  const r = await db
    .selectFrom('loan_stock_line')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('loan_id', '=', loanId)
    .where((eb) => eb(eb(eb(eb.ref('returned_good'), '+', eb.ref('returned_damaged')), '+', eb.ref('returned_lost')), '<', eb.ref('handed_over_qty')))
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

export async function findKitByCode(db: Db, code: string): Promise<KitRow | undefined> {
  if (hasNul(code)) return undefined
  return db
    .selectFrom('kit')
    .selectAll()
    .where((eb) => eb.or([eb('code_key', '=', codeKey(code)), eb('code', '=', code)]))
    .orderBy(sql`code = ${code}`, 'desc')
    .limit(1)
    .executeTakeFirst()
}

export async function findKitById(db: Db, id: number): Promise<KitRow | undefined> {
  return db.selectFrom('kit').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function listKits(db: Db): Promise<KitRow[]> {
  return db.selectFrom('kit').selectAll().orderBy('code').execute()
}

export async function insertKit(db: Db, k: Omit<KitRow, 'id' | 'code_key'>): Promise<KitRow> {
  return db
    .insertInto('kit')
    .values({ ...k, code_key: codeKey(k.code) })
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function updateKit(db: Db, id: number, changes: Partial<Omit<KitRow, 'id' | 'code_key'>>): Promise<void> {
  const key = changes.code === undefined ? {} : { code_key: codeKey(changes.code) }
  await db
    .updateTable('kit')
    .set({ ...changes, ...key })
    .where('id', '=', id)
    .execute()
}

export async function replaceKitParts(
  db: Db,
  kitId: number,
  parts: Array<{ asset_id: number | null; stock_id: number | null; quantity: number }>,
): Promise<void> {
  await db.deleteFrom('kit_part').where('kit_id', '=', kitId).execute()
  if (parts.length > 0)
    await db
      .insertInto('kit_part')
      .values(parts.map((p) => ({ kit_id: kitId, ...p })))
      .execute()
}

export async function kitParts(
  db: Db,
  kitIds: number[],
): Promise<
  Array<KitPartRow & { asset_code: string | null; asset_name: string | null; stock_code: string | null; stock_name: string | null; unit: string | null }>
> {
  if (kitIds.length === 0) return []
  return db
    .selectFrom('kit_part as p')
    .leftJoin('asset as a', 'a.id', 'p.asset_id')
    .leftJoin('stock_item as s', 's.id', 'p.stock_id')
    .selectAll('p')
    .select(['a.code as asset_code', 'a.name as asset_name', 's.code as stock_code', 's.name as stock_name', 's.unit'])
    .where('p.kit_id', 'in', kitIds)
    .orderBy('p.id')
    .execute()
}

/** Whether a code is taken by an asset, a counted item or a kit: one label, one meaning. */
export async function codeInUse(db: Db, code: string): Promise<'asset' | 'stock' | 'kit' | null> {
  if (hasNul(code)) return null
  if (await db.selectFrom('asset').select('id').where('code_key', '=', codeKey(code)).executeTakeFirst()) return 'asset'
  if (await findByCode(db, code)) return 'stock'
  if (await findKitByCode(db, code)) return 'kit'
  return null
}
