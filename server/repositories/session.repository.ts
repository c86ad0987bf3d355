import type { Kysely } from 'kysely'
import type { Database } from '../../db/schema.js'

type Db = Kysely<Database>

/** The row whatever its deadline (the caller compares it), for a read kept between two writes. */
export async function getWithExpiry(db: Db, sid: string): Promise<{ data: string; expires_at: number } | undefined> {
  return db.selectFrom('session').select(['data', 'expires_at']).where('sid', '=', sid).executeTakeFirst()
}

export async function upsert(db: Db, sid: string, userId: number | null, data: string, expiresAt: number): Promise<void> {
  await db
    .insertInto('session')
    .values({ sid, user_id: userId, data, expires_at: expiresAt })
    .onConflict((oc) => oc.column('sid').doUpdateSet({ user_id: userId, data, expires_at: expiresAt }))
    .execute()
}

export async function touch(db: Db, sid: string, expiresAt: number): Promise<void> {
  await db.updateTable('session').set({ expires_at: expiresAt }).where('sid', '=', sid).execute()
}

export async function destroy(db: Db, sid: string): Promise<void> {
  await db.deleteFrom('session').where('sid', '=', sid).execute()
}

export async function destroyForUser(db: Db, userId: number, exceptSid?: string): Promise<void> {
  let q = db.deleteFrom('session').where('user_id', '=', userId)
  if (exceptSid) q = q.where('sid', '!=', exceptSid)
  await q.execute()
}

export async function pruneExpired(db: Db, nowMs: number): Promise<number> {
  const result = await db.deleteFrom('session').where('expires_at', '<=', nowMs).executeTakeFirst()
  return Number(result.numDeletedRows)
}
