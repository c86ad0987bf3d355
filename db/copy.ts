/**
 * An agency's SQLite database copied into PostgreSQL (issue 19): every row of every table, ids kept.
 * The benchmark uses it to run on PostgreSQL with the dataset it built on SQLite (bench/run.ts); moving
 * an office that ran on its own SQLite file into a hosted PostgreSQL database is the same copy
 * (`npm run agency -- import`, issue 20), and `copyPostgresToSqlite` is the way back out
 * (`npm run agency -- export`): an agency's schema written to a new SQLite file the ordinary install opens.
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
 *   past the table's largest id and past SQLite's AUTOINCREMENT counter (`sqlite_sequence`, which
 *   remembers a deleted last row's id), so the next insert gets the id it would have had on SQLite.
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
  await sameMigrations(raw, target, 'sqlite')
  const { tables, order } = sqliteTables(raw)
  const pgColumns = await postgresColumns(target)

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
    const sqliteSequence = new Map<string, bigint>()
    if (tables.length && raw.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").get())
      for (const r of raw.prepare('SELECT name, seq FROM sqlite_sequence').safeIntegers(true).all() as Array<{ name: string; seq: bigint }>)
        sqliteSequence.set(r.name, r.seq)
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

        // Past the largest id, and past every id SQLite's AUTOINCREMENT ever handed out (a deleted last row's id is not given again).
        for (const c of identities) {
          const max = (await sql<{ m: string | null }>`SELECT max(${sql.ref(c)})::text AS m FROM ${ref}`.execute(trx)).rows[0]?.m
          const next = bigMax(BigInt(max ?? 0), sqliteSequence.get(table) ?? 0n)
          if (next > 0n) await sql`SELECT setval(pg_get_serial_sequence(${`"${table}"`}, ${c}), ${next.toString()}::bigint)`.execute(trx)
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

/** Both databases have run exactly the same migrations, or the copy is refused, naming what the copy's source lacks or has extra. */
async function sameMigrations(raw: OpenDb['raw'], pg: Db, from: 'sqlite' | 'postgres'): Promise<void> {
  const inSqlite = (raw.prepare('SELECT name FROM kysely_migration ORDER BY name').all() as Array<{ name: string }>).map((r) => r.name)
  const inPostgres = (await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(pg)).rows.map((r) => r.name)
  const [source, target] = from === 'sqlite' ? [inSqlite, inPostgres] : [inPostgres, inSqlite]
  if (source.join() === target.join()) return
  const [what, hint] =
    from === 'sqlite'
      ? ['the SQLite database', 'start the app on it once to migrate it']
      : ['the PostgreSQL database', 'start the server on it once to migrate it']
  const missing = target.filter((m) => !source.includes(m))
  const unknown = source.filter((m) => !target.includes(m))
  throw new Error(
    `${what} is not at this version's schema${missing.length ? `: it lacks ${missing.join(', ')} (${hint})` : ''}${unknown.length ? `; it has migrations this version does not know: ${unknown.join(', ')}` : ''}`,
  )
}

/** The SQLite file's tables that are copied (not SQLite's own nor the migrator's), and the same in foreign-key order. */
function sqliteTables(raw: OpenDb['raw']): { tables: string[]; order: string[] } {
  const tables = (
    raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name").all() as Array<{
      name: string
    }>
  )
    .map((r) => r.name)
    .filter((t) => !SKIPPED.has(t))
  const order = foreignKeyOrder(tables, (t) => (raw.prepare(`PRAGMA foreign_key_list(${quoted(t)})`).all() as Array<{ table: string }>).map((f) => f.table))
  return { tables, order }
}

/** The PostgreSQL schema's columns by table: each one's type and whether the database numbers it (identity or serial). */
async function postgresColumns(db: Db): Promise<Map<string, Map<string, { type: string; identity: boolean }>>> {
  const out = new Map<string, Map<string, { type: string; identity: boolean }>>()
  const cols = await sql<{ table: string; column: string; type: string; identity: string; default: string | null }>`
    SELECT table_name AS "table", column_name AS "column", data_type AS "type", is_identity AS "identity", column_default AS "default"
    FROM information_schema.columns WHERE table_schema = current_schema()`.execute(db)
  for (const c of cols.rows) {
    let m = out.get(c.table)
    if (!m) out.set(c.table, (m = new Map()))
    m.set(c.column, { type: c.type, identity: c.identity === 'YES' || (c.default ?? '').startsWith('nextval(') })
  }
  return out
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

function bigMax(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}

/** A name from the catalogue as an SQL identifier (SQLite and PostgreSQL quote alike). */
function quoted(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** PostgreSQL's integer types: read as exact text, written to SQLite as BigInt. */
const PG_INTEGERS = new Set(['bigint', 'integer', 'smallint'])
/** Types whose values the driver already gives as what SQLite stores (numbers, text, Buffers). */
const PG_AS_IS = new Set(['text', 'character varying', 'character', 'double precision', 'real', 'bytea', 'boolean'])

/**
 * Copies an agency's PostgreSQL database (`source`, e.g. its schema through the pool's search_path; only
 * read) into `target`, a new SQLite file: the way an agency leaves a hosted server for an office's own
 * install (SPEC §7, issue 20). Every row of every table with its ids, so loan numbers, the audit chain
 * and every reference stay as they were.
 *
 * - The target is migrated by the real migrations first (a new file: its tables then hold only what the
 *   migrations seeded, which gives way to the source's own rows; anything else is refused). Both must
 *   have run exactly the same migrations.
 * - The source is read in one REPEATABLE READ, READ ONLY transaction: one consistent state, even while
 *   the agency's server writes. Rows are read in primary-key order, a batch at a time; integers are read
 *   as text and written as BigInt (exact beyond 2^53), booleans as 1/0, bytea as blobs.
 * - The target is written in one transaction: a failed copy leaves the file as its migrations made it.
 *   SQLite cannot disable a trigger, so the tables' triggers are dropped inside that transaction and
 *   created again (from their own SQL in sqlite_master) before it commits — as the copy into PostgreSQL
 *   disables them: they derive rows from writes (the report's per-year counters report_epoch and the
 *   kept figures report_kept), and the source already holds what they derived, so firing them would move
 *   every year's counter past its kept figures. Foreign keys are deferred to the commit and checked with
 *   `PRAGMA foreign_key_check` before it (tables go in foreign-key order anyway).
 * - SQLite's AUTOINCREMENT counter (`sqlite_sequence`) follows the explicit ids, and is then moved up to
 *   the PostgreSQL sequence's last value when that is higher (an id PostgreSQL handed out to a row since
 *   deleted or rolled back): the next id is the one the agency would have given next.
 */
export async function copyPostgresToSqlite(source: Db, target: OpenDb, opts: CopyOptions = {}): Promise<CopyResult> {
  if (!isPostgres(source)) throw new Error('copyPostgresToSqlite: the source must be a PostgreSQL database')
  if (target.kind !== 'sqlite') throw new Error('copyPostgresToSqlite: the target must be an SQLite database')
  const t0 = performance.now()
  const log = opts.log ?? (() => undefined)
  const batchRows = opts.batchRows ?? 2000
  const raw = target.raw

  await migrateToLatest(target.db)
  await sameMigrations(raw, source, 'postgres')
  const { tables, order } = sqliteTables(raw)
  const pgColumns = await postgresColumns(source)
  // Only PostgreSQL's own bookkeeping may be missing from the file; a table of data never is.
  const unknownTables = [...pgColumns.keys()].filter((t) => !tables.includes(t) && !SKIPPED.has(t) && t !== 'change_counter')
  if (unknownTables.length) throw new Error(`table(s) ${unknownTables.join(', ')} are in PostgreSQL but not in the SQLite database`)

  const plan = order.map((table) => {
    const source = pgColumns.get(table)
    if (!source) throw new Error(`table ${table} is in the SQLite database but not in PostgreSQL`)
    const info = raw.prepare(`PRAGMA table_info(${quoted(table)})`).all() as Array<{ name: string; pk: number }>
    const columns = info.map((c) => c.name)
    const missing = columns.filter((c) => !source.has(c))
    if (missing.length) throw new Error(`${table}: column(s) ${missing.join(', ')} are in the SQLite database but not in PostgreSQL`)
    const extra = [...source.keys()].filter((c) => !columns.includes(c))
    if (extra.length) throw new Error(`${table}: column(s) ${extra.join(', ')} are in PostgreSQL but not in the SQLite database`)
    const key = info
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name)
    const types = columns.map((c) => source.get(c)!.type)
    const identities = columns.filter((c) => source.get(c)!.identity)
    return { table, columns, key: key.length ? key : columns, types, identities }
  })

  // Only into a new file: its tables hold what the migrations seeded (departments, categories) and nothing else.
  const seeded = await seededRows()
  for (const { table } of plan) {
    const n = (raw.prepare(`SELECT count(*) AS n FROM ${quoted(table)}`).get() as { n: number }).n
    if (n !== 0 && n !== seeded.get(table)) throw new Error(`the SQLite table ${table} holds ${n} rows its migrations did not write: copy only into a new file`)
  }

  const done: CopyResult['tables'] = []
  await source
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      await sql`SET TRANSACTION READ ONLY`.execute(trx)
      raw.exec('BEGIN IMMEDIATE')
      try {
        raw.pragma('defer_foreign_keys = ON')
        const triggers = raw.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all() as Array<{ name: string; sql: string }>
        for (const t of triggers) raw.exec(`DROP TRIGGER ${quoted(t.name)}`)
        // The migrations' seed rows give way to the source's own (which began as the same seed).
        for (const { table } of [...plan].reverse()) if (seeded.has(table)) raw.exec(`DELETE FROM ${quoted(table)}`)

        for (const { table, columns, key, types, identities } of plan) {
          const t1 = performance.now()
          const ref = sql.table(table)
          const select = sql.join(
            columns.map((c, i) => {
              const type = types[i]!
              return PG_INTEGERS.has(type) || !PG_AS_IS.has(type) ? sql`${sql.ref(c)}::text AS ${sql.ref(c)}` : sql.ref(c)
            }),
          )
          const keyList = sql.join(key.map((c) => sql.ref(c)))
          const keyIndex = key.map((c) => columns.indexOf(c))
          const insert = raw.prepare(`INSERT INTO ${quoted(table)} (${columns.map(quoted).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
          const convert = types.map((type): ((v: unknown) => unknown) => {
            if (PG_INTEGERS.has(type)) return (v) => (v === null ? null : BigInt(v as string))
            if (type === 'boolean') return (v) => (v === null ? null : v ? 1 : 0)
            return (v) => v
          })
          let rows = 0
          let after: unknown[] | undefined
          for (;;) {
            const where = after ? sql`WHERE (${keyList}) > (${sql.join(after)})` : sql``
            const batch = (
              await sql<Record<string, unknown>>`SELECT ${select} FROM ${ref} ${where} ORDER BY ${keyList} LIMIT ${sql.lit(batchRows)}`.execute(trx)
            ).rows
            for (const row of batch) insert.run(columns.map((c, i) => convert[i]!(row[c])))
            rows += batch.length
            if (batch.length < batchRows) break
            const last = batch[batch.length - 1]!
            after = keyIndex.map((i) => last[columns[i]!])
          }
          const expected = Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${ref}`.execute(trx)).rows[0]?.n ?? 0)
          const copied = (raw.prepare(`SELECT count(*) AS n FROM ${quoted(table)}`).get() as { n: number }).n
          if (copied !== rows || rows !== expected) throw new Error(`${table}: ${expected} rows in PostgreSQL, ${rows} read, ${copied} in SQLite`)

          // AUTOINCREMENT's counter: past the largest id (SQLite did that on insert) and past the sequence's last value.
          if (identities.length === 1 && key.length === 1 && key[0] === identities[0]) {
            const seq = (
              await sql<{
                v: string | null
              }>`SELECT pg_sequence_last_value(pg_get_serial_sequence(${quoted(table)}, ${identities[0]})::regclass)::text AS v`.execute(trx)
            ).rows[0]?.v
            const isAutoincrement = raw.prepare('SELECT 1 FROM sqlite_master WHERE name = ? AND sql LIKE ?').get(table, '%AUTOINCREMENT%') !== undefined
            if (seq && isAutoincrement) {
              const max = (
                raw
                  .prepare(`SELECT max(${quoted(identities[0]!)}) AS m FROM ${quoted(table)}`)
                  .safeIntegers(true)
                  .get() as { m: bigint | null }
              ).m
              const next = bigMax(BigInt(seq), max ?? 0n)
              if (raw.prepare('UPDATE sqlite_sequence SET seq = ? WHERE name = ?').run(next, table).changes === 0)
                raw.prepare('INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)').run(table, next)
            }
          }
          done.push({ table, rows })
          log(`  ${table}: ${rows} rows (${Math.round(performance.now() - t1)} ms)`)
        }

        for (const t of triggers) raw.exec(t.sql)
        const broken = raw.prepare('PRAGMA foreign_key_check').all() as Array<{ table: string; rowid: number; parent: string }>
        if (broken.length)
          throw new Error(
            `foreign keys do not hold in the copy: ${broken
              .slice(0, 5)
              .map((b) => `${b.table} row ${b.rowid} → ${b.parent}`)
              .join(', ')}${broken.length > 5 ? ` and ${broken.length - 5} more` : ''}`,
          )
        raw.exec('COMMIT')
      } catch (e) {
        if (raw.inTransaction) raw.exec('ROLLBACK')
        throw e
      }
    })
  raw.exec('ANALYZE')
  return { tables: done, rows: done.reduce((s, t) => s + t.rows, 0), ms: Math.round(performance.now() - t0) }
}
