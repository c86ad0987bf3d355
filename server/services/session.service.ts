import { createHash } from 'node:crypto'
import * as sessions from '../repositories/session.repository.js'
import { cached } from '../lib/cache.js'
import type { AppContext } from '../context.js'

/**
 * Session rows for the web layer's express-session store. They go through Kysely, so they wait
 * for (and never join) a business transaction on the shared connection.
 *
 * A row is keyed by the SHA-256 of the session id, never the id itself (issue 13): the database or a
 * backup of it holds nothing a cookie could be made from. (The id has 192 random bits: a plain hash
 * cannot be turned back; the cookie is also signed with a key that lives outside the database.)
 */

/** The stored key of a session id. */
export function sessionKey(sid: string): string {
  return createHash('sha256').update(sid).digest('base64url')
}

/** The session's data; none once its idle deadline has passed (checked on every read, kept or not). */
export async function readSession(ctx: AppContext, sid: string): Promise<string | undefined> {
  const key = sessionKey(sid)
  const row = await cached(ctx, `session:${key}`, async () => (await sessions.getWithExpiry(ctx.db, key)) ?? null)
  return row && row.expires_at > ctx.clock.now().getTime() ? row.data : undefined
}

/** One upsert, atomic by itself: no write transaction, so on PostgreSQL a session never waits for the agency's write lock. */
export async function writeSession(ctx: AppContext, sid: string, userId: number | null, data: string, expiresAt: number): Promise<void> {
  await sessions.upsert(ctx.db, sessionKey(sid), userId, data, expiresAt)
}

export async function touchSession(ctx: AppContext, sid: string, expiresAt: number): Promise<void> {
  await sessions.touch(ctx.db, sessionKey(sid), expiresAt)
}

export async function destroySession(ctx: AppContext, sid: string): Promise<void> {
  await sessions.destroy(ctx.db, sessionKey(sid))
}

export async function pruneSessions(ctx: AppContext): Promise<number> {
  return sessions.pruneExpired(ctx.db, ctx.clock.now().getTime())
}
