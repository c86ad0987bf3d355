import { type Kysely, sql } from 'kysely'
import { type AssetRow, type AssetStatus, type AssetUpdate, codeKey, type Database, type NewAsset } from '../../db/schema.js'
import { containsText, hasNul } from './sql-helpers.js'

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

/**
 * The asset whose code has the same key as `code` (so ำ/ํา, Thai digits, case and spaces do not
 * matter); its exact spelling wins, which also finds a row whose key the code_key migration had to
 * keep apart.
 */
export async function findByCode(db: Db, code: string): Promise<AssetListRow | undefined> {
  if (hasNul(code)) return undefined
  return base(db)
    .where((eb) => eb.or([eb('asset.code_key', '=', codeKey(code)), eb('asset.code', '=', code)]))
    .orderBy(sql`asset.code = ${code}`, 'desc')
    .limit(1)
    .executeTakeFirst()
}

export async function findById(db: Db, id: number): Promise<AssetListRow | undefined> {
  return base(db).where('asset.id', '=', id).executeTakeFirst()
}

/** The keys (codeKey) among these codes' keys that the register already holds. */
export async function existingCodeKeys(db: Db, codes: string[]): Promise<Set<string>> {
  const keys = [...new Set(codes.map(codeKey))]
  const out = new Set<string>()
  for (let i = 0; i < keys.length; i += 500) {
    const rows = await db
      .selectFrom('asset')
      .select('code_key')
      .where('code_key', 'in', keys.slice(i, i + 500))
      .execute()
    for (const r of rows) out.add(r.code_key)
  }
  return out
}

/** Registers an asset and starts its status history on `on` (the Bangkok day of `created_at`). */
export async function insert(db: Db, asset: NewAsset, on: string): Promise<AssetRow> {
  const row = await db
    .insertInto('asset')
    .values({ ...asset, code_key: codeKey(asset.code) })
    .returningAll()
    .executeTakeFirstOrThrow()
  await db.insertInto('asset_status_event').values({ asset_id: row.id, from_status: null, to_status: row.status, on_date: on, at: row.created_at }).execute()
  return row
}

export async function update(db: Db, id: number, changes: AssetUpdate): Promise<void> {
  const key = changes.code === undefined ? {} : { code_key: codeKey(changes.code) }
  await db
    .updateTable('asset')
    .set({ ...changes, ...key })
    .where('id', '=', id)
    .execute()
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
  /** The query's code key (codeKey): matched against code_key, so either form of a code finds it. */
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
        containsText('asset.code', text),
        ...(f.qCode ? [containsText('asset.code_key', f.qCode)] : []),
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
