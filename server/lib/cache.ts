import { AsyncLocalStorage } from 'node:async_hooks'
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
  /** Other connections' commit counter as read once per request (requestScope). */
  readonly othersAtStart?: () => number | Promise<number>
}

/**
 * The context of one request: `ctx` with the other connections' counter read once — on SQLite now
 * (~10 µs), on PostgreSQL at the request's first kept read (one round trip, none for a request that
 * keeps nothing).
 */
export function requestScope<C extends CacheScope>(ctx: C): C {
  const counters = changeCounters(ctx.db)
  if (!counters) return ctx
  if (!counters.lazy) {
    const now = counters.others() as number
    return { ...ctx, othersAtStart: () => now }
  }
  let once: Promise<number> | undefined
  return { ...ctx, othersAtStart: () => (once ??= counters.others() as Promise<number>) }
}

/**
 * The request being served, for kept reads made without its context (express-session's store reads
 * the session before any route has the request's context): they share the request's one counter
 * read. Set by `inRequestScope`, mounted first (server/app.ts).
 */
const currentRequest = new AsyncLocalStorage<CacheScope>()

/** Runs the rest of a request inside `scope`, so that every kept read of it shares one counter read. */
export function inRequestScope<C extends CacheScope>(scope: C, next: () => void): void {
  currentRequest.run(scope, next)
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
  const counters = changeCounters(scope.db)
  if (!counters) return compute()
  const pinned = scope.othersAtStart ?? (currentRequest.getStore()?.db === scope.db ? currentRequest.getStore()?.othersAtStart : undefined)
  const others = pinned ? pinned() : counters.others()
  if (typeof others === 'number') return keep(current(scope, counters.own(), others), key, compute)
  return others.then((n) => {
    // The counters are looked at again once the read is back: a transaction opened meanwhile keeps nothing.
    const again = changeCounters(scope.db)
    return again ? keep(current(scope, again.own(), n), key, compute) : compute()
  })
}

function keep<T>(store: Store, key: string, compute: () => Promise<T>): Promise<T> {
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
function current(scope: CacheScope, own: number, others: number): Store {
  const token = `${own}:${others}`
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
