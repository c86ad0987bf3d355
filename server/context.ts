import type { Logger } from 'pino'
import type { Db } from '../db/connection.js'
import type { Clock } from './clock.js'
import type { Config } from './config.js'

/** What every service and router gets: no globals, so tests build their own. */
export interface AppContext {
  db: Db
  clock: Clock
  config: Config
  logger: Logger
}
