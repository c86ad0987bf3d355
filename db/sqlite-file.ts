/**
 * SQLite database files as files: the online backup, opening a copy read-only to check it, and
 * asking whether another process holds a database open. The backup service and the backup and
 * restore commands use these; all row access still goes through Kysely and the repositories.
 */
import fs from 'node:fs'
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
    db,
    raw,
    async close() {
      if (closed) return
      closed = true
      await db.destroy()
    },
  }
}

/** `PRAGMA integrity_check`: ['ok'] for a sound file, else SQLite's list of problems. */
export function integrityCheck(handle: OpenDb): string[] {
  const rows = handle.raw.prepare('PRAGMA integrity_check').all() as { integrity_check: string }[]
  return rows.map((r) => r.integrity_check)
}

export function tableNames(handle: OpenDb): string[] {
  const rows = handle.raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
  return rows.map((r) => r.name)
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
export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}
