import type { Logger } from 'pino'
import type { Db } from '../db/connection.js'
import type { Clock } from './clock.js'
import type { Config } from './config.js'
import type { AuditAnchor } from './services/audit-anchor.service.js'

/** What every service and router gets: no globals, so tests build their own. */
export interface AppContext {
  db: Db
  clock: Clock
  config: Config
  logger: Logger
  /** The audit chain's anchor outside the database (none for an in-memory database). */
  anchor?: AuditAnchor
}
