import { sql, type Kysely } from 'kysely'
import type { Database } from '../../db/schema.js'

type Db = Kysely<Database>

/**
 * A token that changes whenever the database may have changed: `total_changes()` counts every row
 * this connection has inserted, updated or deleted (Kysely's SQLite driver has one connection per
 * process), and `data_version` moves when another connection — a CLI, a second process — commits.
 * Equal tokens mean no write anywhere in between, so a value read under one token may be served
 * again under the same token. A rolled-back write still moves the token: harmless, one re-read.
 * (PostgreSQL twin, later: a per-agency change counter bumped by a trigger.)
 */
export async function dataVersion(db: Db): Promise<string> {
  const r = await sql<{ c: number; v: number }>`SELECT total_changes() AS c, (SELECT data_version FROM pragma_data_version) AS v`.execute(db)
  const row = r.rows[0]!
  return `${row.c}:${row.v}`
}

/**
 * A small per-database memo keyed by the data version: the value of `key` is read again after any
 * write. Calls that overlap share one read. Keyed by the Kysely instance, so a transaction's own
 * handle (a different instance) never fills the shared cache with rows that might still roll back.
 */
export function versionedMemo<T>(maxEntries = 256) {
  const perDb = new WeakMap<Db, { version: string; values: Map<string, Promise<T>> }>()
  /**
   * `asOf`: a token from dataVersion() read earlier by the same request, before that request wrote
   * anything — one read then serves every memo of a page. The value is then as of that token or newer.
   */
  return async (db: Db, key: string, read: () => Promise<T>, asOf?: string): Promise<T> => {
    const version = asOf ?? (await dataVersion(db))
    let entry = perDb.get(db)
    if (!entry || entry.version !== version) {
      entry = { version, values: new Map() }
      perDb.set(db, entry)
    }
    const values = entry.values
    let value = values.get(key)
    if (value === undefined) {
      if (values.size >= maxEntries) values.clear()
      value = read()
      values.set(key, value)
      value.catch(() => values.delete(key))
    }
    return value
  }
}
