import type { AppContext } from '../context.js'
import { dataVersion } from '../repositories/data-version.repository.js'

/**
 * The database's data version now (see data-version.repository.ts). A page reads it once, at the
 * start of its chain and before it writes anything, and hands it to the kept reads it makes next
 * (its user, the settings, the navigation counts, the QR page's asset), instead of each of them
 * reading it again: they then answer as of that moment or later, never older.
 */
export function readDataVersion(ctx: AppContext): Promise<string> {
  return dataVersion(ctx.db)
}
