import { writeTransaction } from '../../db/connection.js'
import * as sessions from '../repositories/session.repository.js'
import { versionedMemo } from '../repositories/data-version.repository.js'
import { readDataVersion } from './data-version.service.js'
import type { AppContext } from '../context.js'

/**
 * Session rows for the web layer's express-session store. They go through Kysely, so they wait
 * for (and never join) a business transaction on the shared connection.
 */

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
  const row = await sessionMemo(ctx.db, sid, async () => (await sessions.getWithExpiry(ctx.db, sid)) ?? null, version)
  return { data: row && row.expires_at > ctx.clock.now().getTime() ? row.data : undefined, version }
}

export async function writeSession(ctx: AppContext, sid: string, userId: number | null, data: string, expiresAt: number): Promise<void> {
  await writeTransaction(ctx.db, (trx) => sessions.upsert(trx, sid, userId, data, expiresAt))
}

export async function touchSession(ctx: AppContext, sid: string, expiresAt: number): Promise<void> {
  await sessions.touch(ctx.db, sid, expiresAt)
}

export async function destroySession(ctx: AppContext, sid: string): Promise<void> {
  await sessions.destroy(ctx.db, sid)
}

export async function pruneSessions(ctx: AppContext): Promise<number> {
  return sessions.pruneExpired(ctx.db, ctx.clock.now().getTime())
}
