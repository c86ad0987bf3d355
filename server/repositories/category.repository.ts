import type { Kysely } from 'kysely'
import type { CategoryRow, Database } from '../../db/schema.js'
import { hasNul } from './sql-helpers.js'

type Db = Kysely<Database>

export async function listAll(db: Db): Promise<CategoryRow[]> {
  return db.selectFrom('category').selectAll().orderBy('sort_order').orderBy('name').orderBy('id').execute()
}

export async function findById(db: Db, id: number): Promise<CategoryRow | undefined> {
  return db.selectFrom('category').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findByCode(db: Db, code: string): Promise<CategoryRow | undefined> {
  if (hasNul(code)) return undefined
  return db.selectFrom('category').selectAll().where('code', '=', code).executeTakeFirst()
}

export async function insert(
  db: Db,
  row: { code: string; name: string; useful_life_years: number; loanable_default: number; active: number; sort_order: number; created_at: string },
): Promise<CategoryRow> {
  return db.insertInto('category').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function update(
  db: Db,
  id: number,
  changes: Partial<{ code: string; name: string; useful_life_years: number; loanable_default: number; active: number; sort_order: number }>,
): Promise<void> {
  await db.updateTable('category').set(changes).where('id', '=', id).execute()
}
