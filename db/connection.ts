import { AsyncLocalStorage } from 'node:async_hooks'
import fs from 'node:fs'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import {
  Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresDialect,
  type QueryResult,
  type RootOperationNode,
  SqliteDialect,
  sql,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type TransactionSettings,
  type UnknownRow,
} from 'kysely'
import pg from 'pg'
import { isPostgres } from './dialect.js'
import type { Database } from './schema.js'

export type Db = Kysely<Database>

export interface OpenDb {
  kind: 'sqlite'
  db: Db
  /** The raw handle, for the online backup API and pragmas only; all SQL goes through Kysely. */
  raw: BetterSqlite3.Database
  close(): Promise<void>
}

/** A PostgreSQL database (issue 19): a pool of connections behind the same Kysely API. */
export interface PgDb {
  kind: 'postgres'
  db: Db
  pool: pg.Pool
  close(): Promise<void>
}

/** Either database, as the app opens it from its configuration (DATABASE_URL wins over DATABASE_PATH). */
export type AnyOpenDb = OpenDb | PgDb

const queryWatchers = new WeakMap<Db, (sql: string) => void>()

/**
 * Counts the statements run on `db` until `stop()` (each is a round trip on PostgreSQL; raw
 * statements such as BEGIN included): how tests hold a page to its number of queries.
 */
export function watchQueries(db: Db, onQuery?: (sql: string) => void): { count(): number; stop(): void } {
  let n = 0
  queryWatchers.set(db, (sql: string) => {
    n++
    onQuery?.(sql)
  })
  return { count: () => n, stop: () => queryWatchers.delete(db) }
}

export function openDatabase(opts: { databaseUrl?: string; databasePath: string }): AnyOpenDb {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl) : openDb(opts.databasePath)
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
  const db: Db = new Kysely<Database>({
    dialect: joiningDialect(new SqliteDialect({ database: withStatementCache(raw) }), held),
    log: (e) => queryWatchers.get(db)?.(e.query.sql),
  })
  joining.set(db, held)
  const own = raw.prepare('SELECT total_changes()').pluck()
  const others = raw.prepare('PRAGMA data_version').pluck()
  const counters: ChangeCounters = { own: () => own.get() as number, others: () => others.get() as number }
  changeTokens.set(db, () => (raw.inTransaction ? undefined : counters))
  let closed = false
  return {
    kind: 'sqlite',
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
  /** The transaction's connection, set when writeTransaction acquires it. */
  connection: DatabaseConnection | undefined
  trx: Db | undefined
  open: boolean
}

const joining = new WeakMap<Db, AsyncLocalStorage<Held>>()

class JoiningDriver implements Driver {
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
  /** Joins handed out on a transaction's connection and not yet given back: those are never released to the pool. */
  readonly #joins = new Map<DatabaseConnection, number>()

  async acquireConnection(): Promise<DatabaseConnection> {
    const h = this.held.getStore()
    if (h?.open && h.connection) {
      this.#joins.set(h.connection, (this.#joins.get(h.connection) ?? 0) + 1)
      return h.connection
    }
    const connection = await this.inner.acquireConnection()
    if (h && !h.connection) h.connection = connection // writeTransaction's own acquisition
    return connection
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const joins = this.#joins.get(connection)
    if (joins !== undefined) {
      if (joins <= 1) this.#joins.delete(connection)
      else this.#joins.set(connection, joins - 1)
      return
    }
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

/** `dialect` with its driver wrapped so that queries inside a write transaction's call chain join it. */
function joiningDialect(dialect: SqliteDialect | PostgresDialect, held: AsyncLocalStorage<Held>): SqliteDialect | PostgresDialect {
  const createDriver = dialect.createDriver.bind(dialect)
  dialect.createDriver = () => new JoiningDriver(createDriver(), held)
  return dialect
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
  /** Synchronous on SQLite; a query (one round trip) on PostgreSQL, where `lazy` is set. */
  others(): number | Promise<number>
  lazy?: boolean
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
  const store = joining.get(db)
  const open = store?.getStore()
  if (open?.open && open.trx) return fn(open.trx)
  const held: Held = { connection: undefined, trx: undefined, open: false }
  const run = () =>
    db.connection().execute(async (conn) => {
      inTransaction.add(conn)
      held.trx = conn
      held.open = held.connection !== undefined
      try {
        return await transactionBody(db, conn, fn)
      } finally {
        held.open = false
        inTransaction.delete(conn)
      }
    })
  return store ? store.run(held, run) : run()
}

/**
 * SQLite: BEGIN IMMEDIATE takes the file's one write lock. PostgreSQL: a per-agency advisory lock
 * (keyed by the schema the transaction works in) taken at BEGIN, in the same round trip, keeps the
 * one-writer model: every read-then-write rule (audit head + 1, loan numbers, stock checks) stays
 * true, where plain READ COMMITTED lost writes to deadlocks (../shared/design/postgresql.md).
 */
async function transactionBody<T>(db: Db, conn: Db, fn: (trx: Db) => Promise<T>): Promise<T> {
  const pgsql = isPostgres(db)
  await (pgsql ? sql.raw(`BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema()))`) : sql`BEGIN IMMEDIATE`).execute(conn)
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

/** Connections kept open per process; a page makes its queries one after another, so a few serve many requests. */
const PG_POOL_SIZE = 10

/**
 * Opens a PostgreSQL database (`DATABASE_URL`). Its `bigint` columns (every integer column: see
 * PortableDdlPlugin) and sums come back as JavaScript numbers, as on SQLite; ids, satang and epoch
 * milliseconds stay far below 2^53. Other processes' commits are told by the change counter table
 * (migration change_counter), read once per request that keeps anything (server/lib/cache.ts).
 */
export function openPostgres(url: string, opts: { poolSize?: number; searchPath?: string; idleTimeoutMillis?: number } = {}): PgDb {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? PG_POOL_SIZE,
    ...(opts.searchPath ? { options: `-c search_path=${opts.searchPath}` } : {}),
    ...(opts.idleTimeoutMillis ? { idleTimeoutMillis: opts.idleTimeoutMillis } : {}),
    types: { getTypeParser: pgTypeParser },
  })
  pool.on('error', () => undefined) // an idle connection dropped by the server: the pool makes a new one
  const held = new AsyncLocalStorage<Held>()
  let writes = 0
  const db: Db = new Kysely<Database>({
    dialect: joiningDialect(new PostgresDialect({ pool }), held),
    plugins: [new WriteCounter(() => writes++)],
    log: (e) => queryWatchers.get(db)?.(e.query.sql),
  })
  joining.set(db, held)
  pgSchemas.set(db, opts.searchPath ?? 'public')
  const readOthers = async () => {
    const row = await sql<{ n: number }>`SELECT COALESCE(sum(n), 0) AS n FROM change_counter`.execute(db)
    return row.rows[0]?.n ?? 0
  }
  changeTokens.set(db, () => (held.getStore()?.open ? undefined : { own: () => writes, others: readOthers, lazy: true }))
  let closed = false
  return {
    kind: 'postgres',
    db,
    pool,
    async close() {
      if (closed) return
      closed = true
      await db.destroy()
    },
  }
}

const pgSchemas = new WeakMap<Db, string>()

/** The schema a PostgreSQL handle works in (its connections' search_path): an agency's own, or public. */
export function pgSchemaOf(db: Db): string | undefined {
  return pgSchemas.get(db)
}

const INT8 = 20
const NUMERIC = 1700

function pgTypeParser(oid: number, format?: string) {
  if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v)
  // biome-ignore lint/suspicious/noExplicitAny: pg's own parsers, by oid
  return (pg.types.getTypeParser as any)(oid, format)
}

/** A statement that may change rows: anything but a SELECT (a raw statement by its first word). */
function isWrite(node: RootOperationNode): boolean {
  if (node.kind === 'SelectQueryNode') return false
  if (node.kind === 'RawNode') return !/^\s*(select|with)\b/i.test(node.sqlFragments.join('?'))
  return true
}

/**
 * Counts this process's writes on PostgreSQL, once each has run (a session's upsert outside any
 * transaction included): with the change counter table, the caches' change token. Counted after the
 * statement, never before: a read made in between must not be kept under the new token.
 */
class WriteCounter implements KyselyPlugin {
  readonly #writes = new WeakMap<object, true>()
  constructor(private readonly bump: () => void) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (isWrite(args.node)) this.#writes.set(args.queryId, true)
    return args.node
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.#writes.has(args.queryId)) this.bump()
    return args.result
  }
}

/**
 * Runs one statement whose failure the caller handles and goes on (a CHECK that refuses a count).
 * SQLite leaves the transaction as it was after a failed statement; PostgreSQL aborts the whole
 * transaction, so there it runs under a savepoint that a failure rolls back to. Outside a
 * transaction it is just the statement.
 */
export async function statementMayFail<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  const inTx = inTransaction.has(db) || joining.get(db)?.getStore()?.open === true
  if (!inTx || !isPostgres(db)) return fn()
  await sql`SAVEPOINT statement_may_fail`.execute(db)
  try {
    const result = await fn()
    await sql`RELEASE SAVEPOINT statement_may_fail`.execute(db)
    return result
  } catch (e) {
    await sql`ROLLBACK TO SAVEPOINT statement_may_fail`.execute(db)
    throw e
  }
}
