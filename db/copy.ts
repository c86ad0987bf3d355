/**
 * An agency's SQLite database copied into PostgreSQL (issue 19): every row of every table, ids kept.
 * The benchmark uses it to run on PostgreSQL with the dataset it built on SQLite (bench/run.ts); moving
 * an office that ran on its own SQLite file into a hosted PostgreSQL database is the same copy.
 *
 * What it keeps: every table of the SQLite file but SQLite's own (`sqlite_*`) and the migrator's
 * (`kysely_migration*`: the target's are written by its own migrations), each row with its ids, so
 * loan numbers, the audit chain (whose hashes cover the ids) and every reference stay as they were.
 */
import { sql } from 'kysely'
import { type Db, type OpenDb, openDb } from './connection.js'
import { isPostgres } from './dialect.js'
import { migrateToLatest } from './migrator.js'

export interface CopyResult {
  /** In the order copied: every table before the tables whose foreign keys point at it. */
  tables: Array<{ table: string; rows: number }>
  rows: number
  ms: number
}

export interface CopyOptions {
  /** Rows per INSERT (at most; a batch also ends at ~4 MB of JSON). */
  batchRows?: number
  log?: (line: string) => void
}

const SKIPPED = new Set(['kysely_migration', 'kysely_migration_lock'])
const BATCH_CHARS = 4 * 1024 * 1024

/**
 * Copies `source` (an SQLite database at the latest migration; only read) into `target` (a new PostgreSQL
 * database, or an agency's new schema of one through the pool's search_path): a target whose tables hold
 * anything but the rows its migrations seeded (departments, categories) is refused. The seed rows give
 * way to the source's own, which began as the same seed.
 *
 * - The target is first migrated by the real migrations (db/migrator.ts; nothing to do when it is
 *   already at the latest); both must then have run exactly the same migrations.
 * - Tables go in foreign-key order (a table after every table it references), rows in batches of
 *   JSON expanded by `json_populate_recordset`, which converts each value by its column's PostgreSQL
 *   type (a value that does not fit its type fails the copy rather than changing). Integers are read
 *   as BigInt and passed as text: exact beyond 2^53 too.
 * - Ids are inserted as they are (`OVERRIDING SYSTEM VALUE`), then each identity sequence is moved
 *   past the table's largest id, so the next insert gets the next id as it would have on SQLite.
 * - One transaction: a failed copy leaves the target as it was.
 * - The source is read in one read transaction: one consistent state, even while a server writes to it.
 *
 * Disabled during the copy, and only that: the tables' own triggers (`DISABLE TRIGGER USER`, inside
 * the transaction, enabled again before it commits). They derive rows from writes — the report's
 * per-year change counters (report_epoch) and kept figures (report_kept), the change counter — and the
 * source already holds what they derived: firing them again would move every year's counter past the
 * figures kept for it (all marked stale) and cost a trigger call per copied row. CHECK constraints and
 * unique keys stay on and check every row; the foreign keys are dropped and added back (with their own
 * definitions) at the end of the same transaction, which checks every row against them at once — as
 * pg_restore loads data before its foreign keys — instead of one lookup per key per row. The change counter is bumped once at the
 * end, so a process that kept anything from the empty database reads again.
 */
export async function copySqliteToPostgres(source: OpenDb, target: Db, opts: CopyOptions = {}): Promise<CopyResult> {
  if (!isPostgres(target)) throw new Error('copySqliteToPostgres: the target must be a PostgreSQL database')
  const t0 = performance.now()
  const log = opts.log ?? (() => undefined)
  const batchRows = opts.batchRows ?? 2000
  const raw = source.raw

  await migrateToLatest(target)
  const sourceMigrations = (raw.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name)
  const targetMigrations = (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(target)).rows.map((r) => r.name)
  if (sourceMigrations.join() !== targetMigrations.join()) {
    const missing = targetMigrations.filter((m) => !sourceMigrations.includes(m))
    const unknown = sourceMigrations.filter((m) => !targetMigrations.includes(m))
    throw new Error(
      `the SQLite database is not at this version's schema${missing.length ? `: it lacks ${missing.join(', ')} (start the app on it once to migrate it)` : ''}${unknown.length ? `; it has migrations this version does not know: ${unknown.join(', ')}` : ''}`,
    )
  }

  const tables = (
    raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as Array<{
      name: string
    }>
  )
    .map((r) => r.name)
    .filter((t) => !SKIPPED.has(t))
  const order = foreignKeyOrder(tables, (t) => (raw.prepare(`PRAGMA foreign_key_list("${t}")`).all() as Array<{ table: string }>).map((f) => f.table))

  const pgColumns = new Map<string, Map<string, { identity: boolean }>>()
  const cols = await sql<{ table: string; column: string; identity: string; default: string | null }>`
    SELECT table_name AS "table", column_name AS "column", is_identity AS "identity", column_default AS "default"
    FROM information_schema.columns WHERE table_schema = current_schema()`.execute(target)
  for (const c of cols.rows) {
    let m = pgColumns.get(c.table)
    if (!m) pgColumns.set(c.table, (m = new Map()))
    m.set(c.column, { identity: c.identity === 'YES' || (c.default ?? '').startsWith('nextval(') })
  }

  const plan = order.map((table) => {
    const target = pgColumns.get(table)
    if (!target) throw new Error(`table ${table} is in the SQLite database but not in PostgreSQL`)
    const columns = (raw.prepare(`PRAGMA table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name)
    const extra = columns.filter((c) => !target.has(c))
    if (extra.length) throw new Error(`${table}: column(s) ${extra.join(', ')} are in the SQLite database but not in PostgreSQL`)
    const identities = columns.filter((c) => target.get(c)!.identity)
    return { table, columns, identities }
  })

  // Only into a new database: its tables hold what the migrations seeded (departments, categories) and nothing else.
  const seeded = await seededRows()
  for (const { table } of plan) {
    const n = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(table)}`.execute(target)).rows[0]?.n ?? 0)
    if (n !== 0 && n !== seeded.get(table))
      throw new Error(`the PostgreSQL table ${table} holds ${n} rows its migrations did not write: copy only into a new database`)
  }

  const done: CopyResult['tables'] = []
  raw.exec('BEGIN') // one snapshot of the source (WAL: a writer elsewhere goes on)
  try {
    await target.transaction().execute(async (trx) => {
      for (const { table } of plan) await sql`ALTER TABLE ${sql.table(table)} DISABLE TRIGGER USER`.execute(trx)
      // Foreign keys are checked all at once when added back, as pg_restore does, rather than row by row (several times faster).
      const foreignKeys = (
        await sql<{ table: string; name: string; definition: string }>`
          SELECT c.conrelid::regclass::text AS "table", c.conname AS "name", pg_get_constraintdef(c.oid) AS "definition"
          FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`.execute(trx)
      ).rows
      for (const fk of foreignKeys) await sql`ALTER TABLE ${sql.raw(fk.table)} DROP CONSTRAINT ${sql.ref(fk.name)}`.execute(trx)
      // The migrations' seed rows give way to the source's own (which began as the same seed).
      for (const { table } of [...plan].reverse()) if (seeded.has(table)) await sql`DELETE FROM ${sql.table(table)}`.execute(trx)
      for (const { table, columns, identities } of plan) {
        const t1 = performance.now()
        const ref = sql.table(table)
        const list = sql.join(columns.map((c) => sql.ref(c)))
        const overriding = identities.length > 0 ? sql`OVERRIDING SYSTEM VALUE` : sql``
        const insert = (json: string) =>
          sql`INSERT INTO ${ref} (${list}) ${overriding} SELECT ${list} FROM json_populate_recordset(NULL::${ref}, ${json}::json)`.execute(trx)

        const stmt = raw.prepare(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}"`).safeIntegers(true)
        let rows = 0
        let batch: string[] = []
        let chars = 0
        const flush = async () => {
          if (batch.length === 0) return
          const json = `[${batch.join(',')}]`
          batch = []
          chars = 0
          await insert(json)
        }
        // Batches are collected synchronously from the iterator; nothing else may use the source handle meanwhile.
        for (const row of stmt.iterate() as IterableIterator<Record<string, unknown>>) {
          const line = rowJson(row)
          batch.push(line)
          chars += line.length
          rows++
          if (batch.length >= batchRows || chars >= BATCH_CHARS) await flush()
        }
        await flush()

        for (const c of identities) {
          await sql`SELECT setval(pg_get_serial_sequence(${`"${table}"`}, ${c}), max(${sql.ref(c)})) FROM ${ref}`.execute(trx)
        }
        const copied = await sql<{ n: number }>`SELECT count(*) AS n FROM ${ref}`.execute(trx)
        if (Number(copied.rows[0]?.n) !== rows) throw new Error(`${table}: ${rows} rows read, ${copied.rows[0]?.n} in PostgreSQL`)
        done.push({ table, rows })
        log(`  ${table}: ${rows} rows (${Math.round(performance.now() - t1)} ms)`)
      }
      for (const fk of foreignKeys) await sql`ALTER TABLE ${sql.raw(fk.table)} ADD CONSTRAINT ${sql.ref(fk.name)} ${sql.raw(fk.definition)}`.execute(trx)
      for (const { table } of plan) await sql`ALTER TABLE ${sql.table(table)} ENABLE TRIGGER USER`.execute(trx)
      if (pgColumns.has('change_counter')) await sql`UPDATE change_counter SET n = n + 1`.execute(trx)
    })
  } finally {
    raw.exec('ROLLBACK') // a read transaction: nothing to keep
  }
  // The planner's statistics for the new rows (PostgreSQL's advice after a bulk load).
  for (const { table } of plan) await sql`ANALYZE ${sql.table(table)}`.execute(target)
  return { tables: done, rows: done.reduce((s, t) => s + t.rows, 0), ms: Math.round(performance.now() - t0) }
}

/** Rows per table that the migrations themselves write (seed departments and categories): a freshly migrated database, counted. */
async function seededRows(): Promise<Map<string, number>> {
  const fresh = openDb(':memory:')
  try {
    await migrateToLatest(fresh.db)
    const out = new Map<string, number>()
    for (const { name } of fresh.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>) {
      const n = (fresh.raw.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n
      if (n > 0 && !name.startsWith('sqlite_') && !SKIPPED.has(name)) out.set(name, n)
    }
    return out
  } finally {
    await fresh.close()
  }
}

/** Tables ordered so that each comes after every table its foreign keys reference (a self-reference is left to row order). */
export function foreignKeyOrder(tables: string[], references: (table: string) => string[]): string[] {
  const state = new Map<string, 'visiting' | 'done'>()
  const out: string[] = []
  const known = new Set(tables)
  const visit = (t: string, path: string[]) => {
    const s = state.get(t)
    if (s === 'done') return
    if (s === 'visiting') throw new Error(`foreign keys form a cycle: ${[...path, t].join(' → ')}; no insert order satisfies them`)
    state.set(t, 'visiting')
    for (const r of references(t)) if (r !== t && known.has(r)) visit(r, [...path, t])
    state.set(t, 'done')
    out.push(t)
  }
  for (const t of tables) visit(t, [])
  return out
}

/** One row as JSON for json_populate_recordset: integers (BigInt) as exact text, blobs as bytea's hex text. */
function rowJson(row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'bigint') out[k] = v.toString()
    else if (Buffer.isBuffer(v)) out[k] = `\\x${v.toString('hex')}`
    else out[k] = v
  }
  return JSON.stringify(out)
}
