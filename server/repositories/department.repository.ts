import type { Kysely } from 'kysely'
import type { Database, DepartmentRow, DepartmentUpdate, NewDepartment } from '../../db/schema.js'
import { hasNul } from './sql-helpers.js'

type Db = Kysely<Database>

export async function listAll(db: Db): Promise<DepartmentRow[]> {
  return db.selectFrom('department').selectAll().orderBy('sort_order').orderBy('name').orderBy('id').execute()
}

export async function findById(db: Db, id: number): Promise<DepartmentRow | undefined> {
  return db.selectFrom('department').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findByCode(db: Db, code: string): Promise<DepartmentRow | undefined> {
  if (hasNul(code)) return undefined
  return db.selectFrom('department').selectAll().where('code', '=', code).executeTakeFirst()
}

export async function insert(db: Db, dep: NewDepartment): Promise<DepartmentRow> {
  return db.insertInto('department').values(dep).returningAll().executeTakeFirstOrThrow()
}

export async function update(db: Db, id: number, changes: DepartmentUpdate): Promise<void> {
  await db.updateTable('department').set(changes).where('id', '=', id).execute()
}
