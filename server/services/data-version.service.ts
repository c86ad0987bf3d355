import type { AppContext } from '../context.js'
import { changeToken } from '../../db/connection.js'
import { dataVersion } from '../repositories/data-version.repository.js'

/**
 * The database's data version now (see data-version.repository.ts). A page reads it once, at the
 * start of its chain and before it writes anything, and hands it to the kept reads it makes next
 * (its user, the settings, the navigation counts, the QR page's asset), instead of each of them
 * reading it again: they then answer as of that moment or later, never older.
 */
export async function readDataVersion(ctx: AppContext): Promise<string> {
  // Synchronously from the connection's own counters where it can (db/connection.ts changeToken):
  // through Kysely this one read was a seventh of the QR page's CPU (bench/, issue 7).
  return changeToken(ctx.db) ?? (await dataVersion(ctx.db))
}
