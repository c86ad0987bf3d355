import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { sql } from 'kysely'
import pg from 'pg'
import { type Db, openDb, openPostgres, type OpenDb } from '../../db/connection.js'
import { migrateToLatest } from '../../db/migrator.js'
import { fixedClock, type Clock } from '../../server/clock.js'
import { loadConfig, type Config } from '../../server/config.js'
import type { AppContext } from '../../server/context.js'
import { setHashCostForTests } from '../../server/services/password.js'

// Hundreds of users are created across the suite; a cheap scrypt keeps it quick. Stored hashes carry their cost.
setHashCostForTests(1024)

export interface TestContext extends AppContext {
  clock: ReturnType<typeof fixedClock>
  handle: OpenDb
  close(): Promise<void>
}

/**
 * The suite's database (issue 19): SQLite in memory, or — with TEST_DATABASE_URL=postgres://… (.ci/run
 * starts a throwaway server) — a fresh PostgreSQL database per test, copied from a template built once
 * by the real migrations. A suite that is SQLite-only by nature (its file backup, its crash tests) says
 * so with `sqliteOnly(this)`.
 */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL || undefined
export const onPostgres = testDatabaseUrl !== undefined

/** Marks a suite (or test) SQLite-only by nature: skipped when the suite runs on PostgreSQL. */
export function sqliteOnly(ctx: Mocha.Context): void {
  if (onPostgres) ctx.skip()
}

/** A fresh database built by the real migrations: in memory (or `file`) on SQLite, a new database on PostgreSQL. */
export async function createTestDb(file = ':memory:'): Promise<OpenDb> {
  if (onPostgres && file === ':memory:') return createPgTestDb()
  const handle = openDb(file)
  await migrateToLatest(handle.db)
  return handle
}

let admin: Promise<pg.Client> | undefined
let template: Promise<string> | undefined
let made = 0
const pending = new Set<Promise<unknown>>()

function urlOf(name: string): string {
  const u = new URL(testDatabaseUrl!)
  u.pathname = `/${name}`
  return u.toString()
}

let adminQueue: Promise<unknown> = Promise.resolve()

/** Set once the run's end has closed the admin connection (closeTestDatabases). */
let ended = false

/**
 * One statement on the admin connection, after the ones before it (pg 9 will refuse overlapping
 * queries on one client). After the run's end (a handle closed later than the root hook), on a
 * connection of its own that closes with it: nothing may keep the finished run alive.
 */
function adminQuery(text: string): Promise<unknown> {
  const next = adminQueue.then(async () => (ended ? oneShot(text) : (await adminClient()).query(text)))
  adminQueue = next.catch(() => undefined)
  return next
}

function adminClient(): Promise<pg.Client> {
  admin ??= (async () => {
    const c = new pg.Client(testDatabaseUrl)
    await c.connect()
    c.on('error', () => undefined)
    return c
  })()
  return admin
}

/** One migrated template per test process; each test's database is a copy of it (C collation, as the README asks). */
function templateDb(): Promise<string> {
  template ??= (async () => {
    const name = `yk_tpl_${process.pid}`
    await adminQuery(`DROP DATABASE IF EXISTS ${name}`)
    await adminQuery(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`)
    const h = openPostgres(urlOf(name), { poolSize: 1 })
    await migrateToLatest(h.db)
    await h.close()
    return name
  })()
  return template
}

async function createPgTestDb(): Promise<OpenDb> {
  const tpl = await templateDb()
  const name = `yk_t_${process.pid}_${++made}`
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${tpl}`)
  return pgTestHandle(name, true)
}

/** Drops what the PostgreSQL test databases left (mocha's root hook, test/helpers/hooks.ts). */
export async function closeTestDatabases(): Promise<void> {
  while (pending.size > 0) await Promise.allSettled(pending)
  if (!admin) return
  if (template) await adminQuery(`DROP DATABASE IF EXISTS ${await template}`).catch(() => undefined)
  await adminQueue
  ended = true
  await (await admin).end()
  admin = undefined
  template = undefined
}

async function oneShot(text: string): Promise<unknown> {
  const c = new pg.Client(testDatabaseUrl)
  c.on('error', () => undefined)
  try {
    await c.connect()
    return await c.query(text)
  } finally {
    await c.end()
  }
}

/**
 * Plain SQL on the test's database, either one: `?` placeholders, rows back as objects. The portable
 * stand-in for the raw SQLite handle in tests.
 */
export function query(db: Db) {
  const build = (text: string, params: unknown[]) => {
    const parts = text.split('?')
    if (parts.length !== params.length + 1) throw new Error(`query(): ${parts.length - 1} placeholders, ${params.length} values`)
    let out = sql.raw(parts[0]!)
    for (let i = 1; i < parts.length; i++) out = sql`${out}${params[i - 1]}${sql.raw(parts[i]!)}`
    return out
  }
  return {
    async all<T = Record<string, unknown>>(text: string, ...params: unknown[]): Promise<T[]> {
      return (await build(text, params).execute(db)).rows as T[]
    },
    async get<T = Record<string, unknown>>(text: string, ...params: unknown[]): Promise<T | undefined> {
      return (await build(text, params).execute(db)).rows[0] as T | undefined
    },
    /** A single value: the first column of the first row. */
    async value<T = unknown>(text: string, ...params: unknown[]): Promise<T> {
      const row = (await build(text, params).execute(db)).rows[0] as Record<string, unknown> | undefined
      return (row ? Object.values(row)[0] : undefined) as T
    },
    async run(text: string, ...params: unknown[]): Promise<{ changes: number }> {
      const r = await build(text, params).execute(db)
      return { changes: Number(r.numAffectedRows ?? 0) }
    },
  }
}

export async function createTestContext(opts: { now?: string; env?: Record<string, string>; file?: string } = {}): Promise<TestContext> {
  const handle = await createTestDb(opts.file)
  // Each context keeps its attachments in its own temporary folder (made on first upload, removed on close).
  const attachmentsDir = path.join(os.tmpdir(), `yk-attachments-${randomUUID()}`)
  const config: Config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: 'https://yk.example.go.th', ATTACHMENTS_DIR: attachmentsDir, ...opts.env })
  const clock = fixedClock(opts.now ?? '2025-01-15T03:00:00.000Z')
  const close = async () => {
    await handle.close()
    fs.rmSync(config.attachmentsDir, { recursive: true, force: true })
  }
  return { db: handle.db, clock, config, logger: pino({ level: 'silent' }), handle, close }
}

export type { Clock }

/** A PostgreSQL test database `name` behind the SQLite-shaped handle the tests hold (`raw` throws); `drop` removes it on close. */
function pgTestHandle(name: string, drop: boolean): OpenDb {
  const h = openPostgres(urlOf(name), { poolSize: 4 })
  const handle = {
    kind: 'sqlite',
    db: h.db,
    get raw(): never {
      throw new Error('this test reads the SQLite handle: use test/helpers/db.ts query() so that it runs on PostgreSQL too')
    },
    // Registered before its first await: a close a test did not wait for is still waited for at the end.
    close() {
      const gone = (async () => {
        await h.close()
        if (drop) await adminQuery(`DROP DATABASE IF EXISTS ${name}`).catch(() => undefined)
      })()
      pending.add(gone)
      void gone.finally(() => pending.delete(gone)).catch(() => undefined)
      return gone
    },
  }
  return handle as unknown as OpenDb
}

/**
 * A database no migration has run on, for a migration test that migrates it step by step: SQLite in
 * memory, or a new empty PostgreSQL database (C collation, as the template). createTestDb's is
 * already at the latest version.
 */
export async function createEmptyTestDb(): Promise<OpenDb> {
  if (!onPostgres) return openDb(':memory:')
  const name = `yk_e_${process.pid}_${++made}`
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`)
  return pgTestHandle(name, true)
}

/**
 * A second, independent handle on the test's database, as another process would open it: on SQLite a
 * second connection to the database file `file` (an in-memory database has no second connection); on
 * PostgreSQL a second pool on the same database, whose commits the first handle learns of through the
 * change_counter table (db/migrator.ts). Closing it leaves the database to its owner.
 */
export async function openOtherHandle(db: Db, file?: string): Promise<OpenDb> {
  if (!onPostgres) {
    if (!file || file === ':memory:') throw new Error('openOtherHandle: a second SQLite connection needs the database file')
    return openDb(file)
  }
  const name = (await sql<{ name: string }>`SELECT current_database() AS name`.execute(db)).rows[0]!.name
  return pgTestHandle(name, false)
}

/**
 * The DATABASE_URL of the test's PostgreSQL database, for a child process (the server, a CLI) to open
 * it as the app would. Keep the test's handle open until the child is done: closing it drops the database.
 */
export async function databaseUrlOf(db: Db): Promise<string> {
  if (!onPostgres) throw new Error('databaseUrlOf: only on PostgreSQL (SQLite is opened by its DATABASE_PATH)')
  const name = (await sql<{ name: string }>`SELECT current_database() AS name`.execute(db)).rows[0]!.name
  return urlOf(name)
}

/** The tables the migrations made, by name (without the migrator's own and, on PostgreSQL, the change counter). */
export async function tableNames(db: Db): Promise<string[]> {
  const rows = onPostgres
    ? await query(db).all<{ name: string }>(
        "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'kysely_%' AND tablename <> 'change_counter' ORDER BY tablename",
      )
    : await query(db).all<{ name: string }>(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' ORDER BY name",
      )
  return rows.map((r) => r.name)
}

/** The columns of `table`, by name, in their order. */
export async function columnNames(db: Db, table: string): Promise<string[]> {
  const rows = onPostgres
    ? await query(db).all<{ name: string }>(
        'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position',
        table,
      )
    : await query(db).all<{ name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid', table)
  return rows.map((r) => r.name)
}
