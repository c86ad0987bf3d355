import * as health from '../repositories/health.repository.js'
import type { AppContext } from '../context.js'

/** One query to the database: the health check fails (500) when it cannot be read. */
export async function checkDatabase(ctx: AppContext): Promise<void> {
  await health.ping(ctx.db)
}
