import { AsyncLocalStorage } from 'node:async_hooks'
import fs from 'node:fs'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import {
  Kysely,
  SqliteDialect,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type TransactionSettings,
} from 'kysely'
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
  const held = new AsyncLocalStorage<Held>()
  const dialect = new JoiningSqliteDialect({ database: withStatementCache(raw) }, held)
  const db = new Kysely<Database>({ dialect })
  joining.set(db, { held, driver: () => dialect.driver })
  const own = raw.prepare('SELECT total_changes()').pluck()
  const others = raw.prepare('PRAGMA data_version').pluck()
  const counters: ChangeCounters = { own: () => own.get() as number, others: () => others.get() as number }
  changeTokens.set(db, () => (raw.inTransaction ? undefined : counters))
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

const changeTokens = new WeakMap<Db, () => ChangeCounters | undefined>()

/**
 * The write transaction the current async call chain is inside, if any (issue 14: no hidden deadlock).
 * Kysely's SQLite driver has one connection behind a mutex; a service that, inside writeTransaction,
 * queried through the outer `ctx.db` used to wait for that mutex — held by its own transaction —
 * forever. Now such a query joins the transaction: it runs on the held connection (and sees what the
 * transaction wrote), and a nested writeTransaction on the outer handle joins too. Other requests'
 * queries, outside this call chain, still wait their turn.
 */
interface Held {
  connection: DatabaseConnection
  trx: Db
  open: boolean
}

const joining = new WeakMap<Db, { held: AsyncLocalStorage<Held>; driver: () => JoiningDriver | undefined }>()

class JoiningDriver implements Driver {
  /** SQLite's one connection, known once acquired. */
  connection: DatabaseConnection | undefined

  constructor(
    private readonly inner: Driver,
    private readonly held: AsyncLocalStorage<Held>,
  ) {}

  private joined(): Held | undefined {
    const h = this.held.getStore()
    return h?.open ? h : undefined
  }

  init(): Promise<void> {
    return this.inner.init()
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    const h = this.joined()
    if (h) return h.connection
    this.connection = await this.inner.acquireConnection()
    return this.connection
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (this.joined()?.connection === connection) return
    return this.inner.releaseConnection(connection)
  }
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (this.joined()) throw new Error('a transaction is already open in this call chain: use its handle (writeTransaction joins it)')
    return this.inner.beginTransaction(connection, settings)
  }
  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection)
  }
  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection)
  }
  destroy(): Promise<void> {
    return this.inner.destroy()
  }
}

class JoiningSqliteDialect extends SqliteDialect {
  driver: JoiningDriver | undefined

  constructor(
    config: SqliteDialectConfig,
    private readonly held: AsyncLocalStorage<Held>,
  ) {
    super(config)
  }

  override createDriver(): Driver {
    this.driver = new JoiningDriver(super.createDriver(), this.held)
    return this.driver
  }
}

/**
 * The connection's change counters, for server/lib/cache.ts (the one reader): `own` is
 * `total_changes()`, rows this connection has written, committed or not (0.1 µs); `others` is
 * `PRAGMA data_version`, which moves when another connection commits (~10 µs: it looks at the WAL).
 * Equal counters mean no write anywhere in between. Read synchronously on the raw handle: through
 * Kysely one read was a seventh of the QR page's CPU (bench/, issue 7). Undefined for a
 * transaction's handle, and while a transaction is open on the connection (what is read then may
 * still roll back, and the counters have already counted it).
 */
export interface ChangeCounters {
  own(): number
  others(): number
}

export function changeCounters(db: Db): ChangeCounters | undefined {
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

/**
 * Runs `fn` in one write transaction opened with BEGIN IMMEDIATE, on the single connection that
 * Kysely's SQLite driver keeps behind its mutex: every other query waits until it ends, and a
 * second process gets a clean busy wait rather than a failed lock upgrade. Keep it short: no
 * password hashing, file work or rendering inside. Inside `fn`, queries through the outer handle
 * join the transaction (see Held) instead of waiting for it forever.
 */
export async function writeTransaction<T>(db: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  // A service called from inside another's transaction joins it rather than nesting BEGIN: called
  // with the transaction's handle, or with the outer handle from inside the transaction's call chain.
  if (inTransaction.has(db)) return fn(db)
  const j = joining.get(db)
  const open = j?.held.getStore()
  if (open?.open) return fn(open.trx)
  return db.connection().execute(async (conn) => {
    inTransaction.add(conn)
    const connection = j?.driver()?.connection
    const held: Held | undefined = connection ? { connection, trx: conn, open: true } : undefined
    const body = () => transactionBody(db, conn, fn)
    try {
      return await (held && j ? j.held.run(held, body) : body())
    } finally {
      if (held) held.open = false
      inTransaction.delete(conn)
    }
  })
}

async function transactionBody<T>(db: Db, conn: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
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
  }
}
