import fs from 'node:fs'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect, sql, type SqliteDatabase } from 'kysely'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

export interface OpenDb {
  db: Db
  /** The raw handle, for the online backup API and pragmas only; all SQL goes through Kysely. */
  raw: BetterSqlite3.Database
  close(): Promise<void>
}

/**
 * Opens the SQLite file (or ':memory:') with the pragmas every connection needs: WAL with
 * synchronous=NORMAL survives a killed process; foreign keys on; a busy timeout so that a
 * second process (CLI, backup) waits instead of failing.
 */
export function openDb(file: string): OpenDb {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  const raw = new BetterSqlite3(file)
  if (file !== ':memory:') raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = NORMAL')
  raw.pragma('foreign_keys = ON')
  raw.pragma('busy_timeout = 5000')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(raw) }) })
  const token = raw.prepare('SELECT total_changes() AS c, (SELECT data_version FROM pragma_data_version) AS v')
  changeTokens.set(db, () => {
    const row = token.get() as { c: number; v: number }
    return `${row.c}:${row.v}`
  })
  let closed = false
  return {
    db,
    raw,
    async close() {
      if (closed) return
      closed = true
      await db.destroy() // closes the better-sqlite3 handle once Kysely has used it
      if (raw.open) raw.close() // …and here when only `raw` ever ran a query
    },
  }
}

const changeTokens = new WeakMap<Db, () => string>()

/**
 * The connection's change token, read synchronously: `total_changes()` (rows this connection has
 * written) and `PRAGMA data_version` (moves when another connection commits). Every signed-in page
 * reads it to know whether what it kept is still current (server/services/data-version.service.ts);
 * through Kysely that one pragma read was a seventh of the QR page's CPU (bench/, issue 7). Same
 * connection as Kysely's, so the same counters. Undefined for a transaction's handle.
 */
export function changeToken(db: Db): string | undefined {
  return changeTokens.get(db)?.()
}

/** Distinct statements kept compiled; queries with `IN (?, ?, …)` lists of every length stay within it. */
const STATEMENT_CACHE_SIZE = 500

/**
 * Kysely's SQLite driver prepares every statement afresh, and SQLite's compile was a tenth of a
 * page's CPU (bench/, issue 7). The same SQL text gets the same prepared statement back, least
 * recently used first out. Safe on Kysely's one connection behind its mutex: no two queries, and so
 * no two uses of one statement, ever run at once; SQLite re-prepares a statement by itself after a
 * schema change (migrations).
 */
function withStatementCache(raw: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>()
  return {
    close: () => raw.close(),
    prepare(text: string) {
      let stmt = cache.get(text)
      if (stmt) {
        cache.delete(text) // re-inserted below: the most recently used come last
      } else {
        stmt = raw.prepare(text)
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!)
      }
      cache.set(text, stmt)
      return stmt
    },
  }
}

/**
 * Runs `fn` in one write transaction opened with BEGIN IMMEDIATE, on the single connection that
 * Kysely's SQLite driver keeps behind its mutex: every other query waits until it ends, and a
 * second process gets a clean busy wait rather than a failed lock upgrade. Keep it short: no
 * password hashing, file work or rendering inside.
 */
const inTransaction = new WeakSet<Db>()

/** Work run after each write transaction commits, on its connection (the audit anchor, issue 13). */
export type CommitHook = (conn: Db) => Promise<void>
const commitHooks = new WeakMap<Db, CommitHook>()

/**
 * Runs `hook` after every writeTransaction on `db` commits, before the connection is handed to the
 * next query: it sees exactly what was committed. The hook must not throw (the change is already
 * committed; a failure there is the hook's to report). One hook per database handle.
 */
export function afterCommit(db: Db, hook: CommitHook | undefined): void {
  if (hook) commitHooks.set(db, hook)
  else commitHooks.delete(db)
}

export async function writeTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  // A service called from inside another's transaction joins it rather than nesting BEGIN.
  if (inTransaction.has(db)) return fn(db)
  return db.connection().execute(async (conn) => {
    inTransaction.add(conn)
    await sql`BEGIN IMMEDIATE`.execute(conn)
    try {
      const result = await fn(conn)
      await sql`COMMIT`.execute(conn)
      const hook = commitHooks.get(db)
      if (hook) await hook(conn).catch(() => undefined)
      return result
    } catch (e) {
      await sql`ROLLBACK`.execute(conn).catch(() => undefined)
      throw e
    } finally {
      inTransaction.delete(conn)
    }
  })
}
