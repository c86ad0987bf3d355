import type { Kysely } from 'kysely'
import type { AssetRow, AssetStatus, AssetUpdate, Database, NewAsset } from '../../db/schema.js'
import { containsText } from './sql-helpers.js'

type Db = Kysely<Database>

/** An asset with the codes and names of its category and department, as lists and pages show it. */
export interface AssetListRow extends AssetRow {
  category_code: string
  category_name: string
  category_life: number
  department_code: string | null
  department_name: string | null
}

function base(db: Db) {
  return db
    .selectFrom('asset')
    .innerJoin('category', 'category.id', 'asset.category_id')
    .leftJoin('department', 'department.id', 'asset.department_id')
    .selectAll('asset')
    .select([
      'category.code as category_code',
      'category.name as category_name',
      'category.useful_life_years as category_life',
      'department.code as department_code',
      'department.name as department_name',
    ])
}

export async function findByCode(db: Db, code: string): Promise<AssetListRow | undefined> {
  return base(db).where('asset.code', '=', code).executeTakeFirst()
}

export async function findById(db: Db, id: number): Promise<AssetListRow | undefined> {
  return base(db).where('asset.id', '=', id).executeTakeFirst()
}

export async function existingCodes(db: Db, codes: string[]): Promise<Set<string>> {
  const out = new Set<string>()
  for (let i = 0; i < codes.length; i += 500) {
    const rows = await db
      .selectFrom('asset')
      .select('code')
      .where('code', 'in', codes.slice(i, i + 500))
      .execute()
    for (const r of rows) out.add(r.code)
  }
  return out
}

/** Registers an asset and starts its status history on `on` (the Bangkok day of `created_at`). */
export async function insert(db: Db, asset: NewAsset, on: string): Promise<AssetRow> {
  const row = await db.insertInto('asset').values(asset).returningAll().executeTakeFirstOrThrow()
  await db.insertInto('asset_status_event').values({ asset_id: row.id, from_status: null, to_status: row.status, on_date: on, at: row.created_at }).execute()
  return row
}

export async function update(db: Db, id: number, changes: AssetUpdate): Promise<void> {
  await db.updateTable('asset').set(changes).where('id', '=', id).execute()
}

/** Moves an asset from `from` to `to` (only if it is still in `from`), recording the change on the day `on`. */
export async function setStatus(db: Db, id: number, from: AssetStatus, to: AssetStatus, at: string, on: string): Promise<boolean> {
  const r = await db.updateTable('asset').set({ status: to, updated_at: at }).where('id', '=', id).where('status', '=', from).executeTakeFirst()
  if (Number(r.numUpdatedRows) !== 1) return false
  // The history of statuses (the state at a past date, ข้อ 213) is written with the change itself.
  await db.insertInto('asset_status_event').values({ asset_id: id, from_status: from, to_status: to, on_date: on, at }).execute()
  return true
}

export interface AssetFilter {
  q?: string
  /** The query as a code (NFKC): codes are stored normalised, free text is not. */
  qCode?: string
  categoryId?: number
  departmentId?: number
  status?: AssetStatus
  loanable?: boolean
  limit: number
  offset: number
}

export async function list(db: Db, f: AssetFilter): Promise<{ rows: AssetListRow[]; total: number }> {
  let q = base(db)
  if (f.q) {
    const text = f.q
    q = q.where((eb) =>
      eb.or([
        containsText('asset.code', f.qCode ?? text),
        containsText('asset.name', text),
        containsText('asset.serial_number', text),
        containsText('asset.location', text),
        containsText('asset.brand_model', text),
      ]),
    )
  }
  if (f.categoryId !== undefined) q = q.where('asset.category_id', '=', f.categoryId)
  if (f.departmentId !== undefined) q = q.where('asset.department_id', '=', f.departmentId)
  if (f.status !== undefined) q = q.where('asset.status', '=', f.status)
  if (f.loanable !== undefined) q = q.where('asset.loanable', '=', f.loanable ? 1 : 0)
  const total = await q
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  const rows = await q.orderBy('asset.code').limit(f.limit).offset(f.offset).execute()
  return { rows, total: Number(total.n) }
}

/** Every asset in code order, a chunk at a time after `afterCode` (export). */
export async function chunkAfter(db: Db, afterCode: string, limit: number): Promise<AssetListRow[]> {
  return base(db).where('asset.code', '>', afterCode).orderBy('asset.code').limit(limit).execute()
}
