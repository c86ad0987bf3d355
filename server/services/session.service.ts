import { createHash } from 'node:crypto'
import { writeTransaction } from '../../db/connection.js'
import * as sessions from '../repositories/session.repository.js'
import { versionedMemo } from '../repositories/data-version.repository.js'
import { readDataVersion } from './data-version.service.js'
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

// A signed-in person's every request reads their session: the row is kept until the next write to
// the database (a session saved, touched or ended is one), and its deadline checked on every read.
const sessionMemo = versionedMemo<{ data: string; expires_at: number } | null>(4096)

/**
 * The session's data (none once its idle deadline has passed), with the data version it was read
 * under: read before the request wrote anything, so that the request's other kept reads may use it
 * (data-version.service.ts).
 */
export async function readSessionWithVersion(ctx: AppContext, sid: string): Promise<{ data: string | undefined; version: string }> {
  const version = await readDataVersion(ctx)
  const key = sessionKey(sid)
  const row = await sessionMemo(ctx.db, key, async () => (await sessions.getWithExpiry(ctx.db, key)) ?? null, version)
  return { data: row && row.expires_at > ctx.clock.now().getTime() ? row.data : undefined, version }
}

export async function writeSession(ctx: AppContext, sid: string, userId: number | null, data: string, expiresAt: number): Promise<void> {
  await writeTransaction(ctx.db, (trx) => sessions.upsert(trx, sessionKey(sid), userId, data, expiresAt))
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
