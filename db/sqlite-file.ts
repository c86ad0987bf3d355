/**
 * SQLite database files as files: the online backup, opening a copy read-only to check it, and
 * asking whether another process holds a database open. The backup service and the backup and
 * restore commands use these; all row access still goes through Kysely and the repositories.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import BetterSqlite3 from 'better-sqlite3'
import { Kysely, SqliteDialect } from 'kysely'
import type { OpenDb } from './connection.js'
import type { Database } from './schema.js'

const HEADER = Buffer.from('SQLite format 3\0', 'latin1')

/** Kysely's default bookkeeping table: the names of the migrations a database has run. */
const MIGRATION_TABLE = 'kysely_migration'

/** True when the file starts with SQLite's 16-byte magic header. */
export function hasSqliteHeader(file: string): boolean {
  let fd: number | undefined
  try {
    fd = fs.openSync(file, 'r')
    const head = Buffer.alloc(HEADER.length)
    const n = fs.readSync(fd, head, 0, head.length, 0)
    return n === HEADER.length && head.equals(HEADER)
  } catch {
    return false
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** Opens an existing file read-only (query_only too), with Kysely on top for the services' checks. */
export function openReadOnly(file: string): OpenDb {
  const raw = new BetterSqlite3(file, { readonly: true, fileMustExist: true })
  raw.pragma('query_only = ON')
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) })
  let closed = false
  return {
    kind: 'sqlite',
    db,
    raw,
    async close() {
      if (closed) return
      closed = true
      await db.destroy()
      // Kysely closes the handle only if it ever used it; a file checked by pragmas alone stays open otherwise.
      if (raw.open) raw.close()
    },
  }
}

/** `PRAGMA integrity_check`: ['ok'] for a sound file, else SQLite's list of problems. */
export function integrityCheck(handle: OpenDb): string[] {
  const rows = handle.raw.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]
  return rows.map((r) => r.integrity_check)
}

/**
 * integrity_check on a worker thread with its own read-only connection, so that the server's event
 * loop keeps serving meanwhile. The worker is a few lines of CommonJS given as text: it needs no
 * TypeScript loader and runs the same from sources and from dist/.
 */
export function integrityCheckOffThread(file: string): Promise<string[]> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const Database = require(workerData.driver)
    let db
    try {
      db = new Database(workerData.file, { readonly: true, fileMustExist: true })
      parentPort.postMessage({ rows: db.prepare('PRAGMA integrity_check').all().map((r) => r.integrity_check) })
    } catch (e) {
      parentPort.postMessage({ error: String(e && e.message || e) })
    } finally {
      if (db) db.close()
    }`
  const driver = createRequire(import.meta.url).resolve('better-sqlite3')
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { file, driver } })
    let settled = false
    worker.once('message', (m: { rows?: string[]; error?: string }) => {
      settled = true
      if (m.rows) resolve(m.rows)
      else reject(new Error(m.error ?? 'integrity_check failed'))
    })
    worker.once('error', (e) => {
      settled = true
      reject(e)
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the integrity check worker stopped (exit ${code})`))
    })
  })
}

export function tableNames(handle: OpenDb): string[] {
  const rows = handle.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
  return rows.map((r) => r.name)
}

/** The newest audit entry's sequence number in a database file (0 when empty), read-only. */
export function auditHeadSeq(file: string): number {
  const raw = new BetterSqlite3(file, { readonly: true, fileMustExist: true })
  try {
    const row = raw.prepare('SELECT max(id) AS id FROM audit_log').get() as { id: number | null }
    return row.id ?? 0
  } finally {
    raw.close()
  }
}

/** Names of the migrations the database has run, or undefined when it has no migration table. */
export function executedMigrations(handle: OpenDb): string[] | undefined {
  if (!tableNames(handle).includes(MIGRATION_TABLE)) return undefined
  const rows = handle.raw.prepare(`SELECT name FROM ${MIGRATION_TABLE} ORDER BY name`).all() as { name: string }[]
  return rows.map((r) => r.name)
}

/**
 * SQLite's online backup into `dest` (which must not exist): it copies a batch of pages per
 * event-loop turn, so the server keeps answering, and it restarts by itself when another
 * process writes meanwhile (writes through this same connection are carried along).
 */
export async function onlineBackup(source: OpenDb, dest: string, pagesPerStep = 256): Promise<void> {
  await source.raw.backup(dest, { progress: () => pagesPerStep })
}

/**
 * Makes a copy a single self-contained file: the backup carries the source's WAL flag, and a WAL
 * file opened later read-only (or copied alone) needs its -wal/-shm companions.
 */
export function useRollbackJournal(file: string): void {
  const raw = new BetterSqlite3(file, { fileMustExist: true })
  try {
    raw.pragma('journal_mode = DELETE')
  } finally {
    raw.close()
  }
}

/**
 * True when another connection (the server, a CLI) has the database open right now. SQLite keeps
 * a shared lock on a WAL database for as long as a connection is open, so an exclusive lock with
 * no busy wait fails exactly then. Cheap, and it sees every process, not only ours.
 */
export function isOpenElsewhere(file: string): boolean {
  if (!fs.existsSync(file)) return false
  let raw: BetterSqlite3.Database | undefined
  try {
    raw = new BetterSqlite3(file, { fileMustExist: true, timeout: 0 })
    raw.pragma('busy_timeout = 0')
    raw.pragma('locking_mode = EXCLUSIVE')
    raw.exec('BEGIN EXCLUSIVE')
    raw.exec('COMMIT')
    return false
  } catch (e) {
    const code = (e as { code?: unknown }).code
    return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED'
  } finally {
    raw?.close()
  }
}

/** Flushes a file's bytes to the disk before it is renamed into place. */
export async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.promises.open(file, 'r+')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}
