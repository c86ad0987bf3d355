import { writeTransaction } from '../../db/connection.js'
import * as sessions from '../repositories/session.repository.js'
import type { AppContext } from '../context.js'

/**
 * Session rows for the web layer's express-session store. They go through Kysely, so they wait
 * for (and never join) a business transaction on the shared connection.
 */
export async function readSession(ctx: AppContext, sid: string): Promise<string | undefined> {
  return sessions.get(ctx.db, sid, ctx.clock.now().getTime())
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
