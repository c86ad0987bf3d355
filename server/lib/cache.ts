import type { Db } from '../../db/connection.js'
import { changeCounters } from '../../db/connection.js'
import type { Clock } from '../clock.js'
import { bangkokDate } from '../i18n/calendar.js'

/**
 * Reads kept between requests — the one place the app keeps anything it read from the database.
 *
 * THE RULE: a kept value is served only until the next write to the database, by this process or
 * any other (a CLI, a backup restore), and only on the Bangkok day it was read. Then every kept
 * value is dropped at once and read again on first use. Nothing is kept from a read made while a
 * transaction is open on the connection (it may still roll back): such a read is just made.
 *
 * "A write" is told by SQLite itself (db/connection.ts changeCounters): `total_changes()` moves with
 * every row this connection writes, `PRAGMA data_version` when another connection commits. So a
 * caller never drops anything by hand and a value is never staler than the request that reads it.
 * A rolled-back write still counts: one needless re-read.
 *
 * A request: `requestScope(ctx)` reads the other connections' counter once, at the start of the
 * request (data_version costs ~10 µs, and a signed-in page makes four or five kept reads: the QR
 * page's CPU, README "Performance"). Kept reads through that scope answer as of the request's start
 * for other processes' commits, and still see this process's own writes at once.
 *
 * Callers: `cached(ctx, 'area:what:' + id, () => read())`. What the read returns is shared with
 * every caller until the rule drops it: return a copy, or freeze it, if a caller might change it.
 * Calls that overlap share one read. Keep only what every request reads again and again (README
 * "Performance": each kept read and the benchmark figure that earns it its place).
 */

/** What a kept read needs: the database and the clock of the day rule (an AppContext is one). */
export interface CacheScope {
  readonly db: Db
  readonly clock: Clock
  /** Other connections' commit counter as read at the start of a request (requestScope). */
  readonly othersAtStart?: number
}

/** The context of one request: `ctx` with the other connections' counter read now, once. */
export function requestScope<C extends CacheScope>(ctx: C): C {
  const counters = changeCounters(ctx.db)
  return counters ? { ...ctx, othersAtStart: counters.others() } : ctx
}

/** At most this many values are kept per database; the least recently used goes first. */
export const MAX_ENTRIES = 2000

interface Store {
  token: string
  day: string
  /** The minute the day was last worked out in: a Bangkok day always begins on a whole minute. */
  minute: number
  values: Map<string, Promise<unknown>>
}

const stores = new WeakMap<Db, Store>()

/**
 * The value of `key`: kept from an earlier call if the rule (above) still allows, else `compute()`d
 * and kept. A rejected computation is never kept.
 */
export function cached<T>(scope: CacheScope, key: string, compute: () => Promise<T>): Promise<T> {
  const store = current(scope)
  if (!store) return compute()
  const values = store.values
  const kept = values.get(key) as Promise<T> | undefined
  if (kept) {
    values.delete(key) // re-inserted: the most recently used come last
    values.set(key, kept)
    return kept
  }
  const value = compute()
  if (values.size >= MAX_ENTRIES) values.delete(values.keys().next().value!)
  values.set(key, value)
  value.catch(() => {
    if (values.get(key) === value) values.delete(key)
  })
  return value
}

/** The store of values still valid now, emptied if the database or the day moved; none inside a transaction. */
function current(scope: CacheScope): Store | undefined {
  const counters = changeCounters(scope.db)
  if (!counters) return undefined
  const token = `${counters.own()}:${scope.othersAtStart ?? counters.others()}`
  const nowMs = scope.clock.now().getTime()
  const minute = Math.floor(nowMs / 60_000)
  let store = stores.get(scope.db)
  if (!store) {
    store = { token, day: bangkokDate(new Date(nowMs)), minute, values: new Map() }
    stores.set(scope.db, store)
    return store
  }
  if (store.minute !== minute) {
    store.minute = minute
    const day = bangkokDate(new Date(nowMs))
    if (day !== store.day) {
      store.day = day
      store.values.clear()
    }
  }
  if (store.token !== token) {
    store.token = token
    store.values.clear()
  }
  return store
}
