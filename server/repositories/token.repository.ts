import type { Kysely } from 'kysely'
import type { ApiTokenRow, Database } from '../../db/schema.js'

type Db = Kysely<Database>

export async function insert(
  db: Db,
  row: { user_id: number; name: string; token_hash: string; prefix: string; created_at: string; expires_at: string | null },
): Promise<ApiTokenRow> {
  return db.insertInto('api_token').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function findActiveByHash(db: Db, tokenHash: string): Promise<ApiTokenRow | undefined> {
  return db.selectFrom('api_token').selectAll().where('token_hash', '=', tokenHash).where('revoked_at', 'is', null).executeTakeFirst()
}

export async function listForUser(db: Db, userId: number): Promise<ApiTokenRow[]> {
  return db.selectFrom('api_token').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').execute()
}

export async function findForUser(db: Db, userId: number, id: number): Promise<ApiTokenRow | undefined> {
  return db.selectFrom('api_token').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst()
}

export async function revoke(db: Db, id: number, at: string): Promise<void> {
  await db.updateTable('api_token').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).execute()
}

/** Revokes the user's live tokens (neither revoked nor expired at `at`) and returns them. */
export async function revokeAllForUser(db: Db, userId: number, at: string): Promise<Array<Pick<ApiTokenRow, 'id' | 'name' | 'prefix'>>> {
  return db
    .updateTable('api_token')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
    .returning(['id', 'name', 'prefix'])
    .execute()
}

export async function countLiveForUser(db: Db, userId: number, at: string): Promise<number> {
  const row = await db
    .selectFrom('api_token')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

export async function touch(db: Db, id: number, at: string): Promise<void> {
  await db.updateTable('api_token').set({ last_used_at: at }).where('id', '=', id).execute()
}
