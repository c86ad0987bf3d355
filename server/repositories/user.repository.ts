import type { Kysely } from 'kysely'
import type { Database, NewUser, Role, UserRow, UserUpdate } from '../../db/schema.js'
import { containsText, hasNul } from './sql-helpers.js'

type Db = Kysely<Database>

export async function findById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('app_user').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function findByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  if (hasNul(username)) return undefined
  return db.selectFrom('app_user').selectAll().where('username', '=', username).executeTakeFirst()
}

export async function insert(db: Db, user: NewUser): Promise<UserRow> {
  return db.insertInto('app_user').values(user).returningAll().executeTakeFirstOrThrow()
}

export async function update(db: Db, id: number, changes: UserUpdate): Promise<void> {
  await db.updateTable('app_user').set(changes).where('id', '=', id).execute()
}

export async function rolesOf(db: Db, userId: number): Promise<Role[]> {
  const rows = await db.selectFrom('user_role').select('role').where('user_id', '=', userId).orderBy('role').execute()
  return rows.map((r) => r.role)
}

export async function rolesOfMany(db: Db, userIds: number[]): Promise<Map<number, Role[]>> {
  const map = new Map<number, Role[]>()
  if (userIds.length === 0) return map
  const rows = await db.selectFrom('user_role').select(['user_id', 'role']).where('user_id', 'in', userIds).orderBy('role').execute()
  for (const r of rows) map.set(r.user_id, [...(map.get(r.user_id) ?? []), r.role])
  return map
}

export async function setRoles(db: Db, userId: number, roles: readonly Role[]): Promise<void> {
  await db.deleteFrom('user_role').where('user_id', '=', userId).execute()
  if (roles.length > 0)
    await db
      .insertInto('user_role')
      .values(roles.map((role) => ({ user_id: userId, role })))
      .execute()
}

export async function count(db: Db): Promise<number> {
  const row = await db
    .selectFrom('app_user')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function countActiveWithRole(db: Db, role: Role): Promise<number> {
  const row = await db
    .selectFrom('app_user')
    .innerJoin('user_role', 'user_role.user_id', 'app_user.id')
    .where('user_role.role', '=', role)
    .where('app_user.active', '=', 1)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

export interface UserListFilter {
  q?: string
  role?: Role
  active?: boolean
  limit: number
  offset: number
}

export async function list(db: Db, f: UserListFilter): Promise<{ rows: UserRow[]; total: number }> {
  let query = db.selectFrom('app_user')
  if (f.q) {
    const text = f.q
    query = query.where((eb) => eb.or([containsText('username', text), containsText('name', text), containsText('position', text)]))
  }
  if (f.role) {
    const role = f.role
    query = query.where('id', 'in', (eb) => eb.selectFrom('user_role').select('user_id').where('role', '=', role))
  }
  if (f.active !== undefined) query = query.where('active', '=', f.active ? 1 : 0)
  const totalRow = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const rows = await query.selectAll().orderBy('active', 'desc').orderBy('name').orderBy('id').limit(f.limit).offset(f.offset).execute()
  return { rows, total: Number(totalRow.n) }
}
