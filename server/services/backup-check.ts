/**
 * Checking a SQLite file before it is trusted as a backup or restored: SQLite's integrity check,
 * our migrations (none newer than this code, none missing), the audit chain, no -wal beside it,
 * not in use. backup.service.ts runs it on every new backup; backup-restore.service.ts before a restore.
 */
import fs from 'node:fs'
import { openDb, type OpenDb } from '../../db/connection.js'
import { migrations } from '../../db/migrations/index.js'
import { createMigrator } from '../../db/migrator.js'
import * as sqliteFile from '../../db/sqlite-file.js'
import { verifyChain, type VerifyResult } from './audit.service.js'

export type ProblemCode =
  | 'anchor_mismatch'
  | 'anchor_unreadable'
  | 'missing'
  | 'not_sqlite'
  | 'unreadable'
  | 'integrity'
  | 'not_ours'
  | 'newer_schema'
  | 'incomplete_schema'
  | 'audit_chain'
  | 'wal_present'
  | 'in_use'
  | 'same_file'

export interface FileProblem {
  code: ProblemCode
  detail: string
}

export interface FileCheck {
  ok: boolean
  problems: FileProblem[]
  integrity: string[]
  /** Migrations the file has run. */
  migrations: string[]
  /** Migrations this code knows and the file has not run yet (npm start runs them). */
  pending: string[]
  audit?: VerifyResult
}

/**
 * Everything a restore needs to trust a file, read-only: SQLite at all, integrity_check = ok, our
 * migration table with no migration this code does not know (a newer version made it), an audit
 * log whose chain verifies. An older schema is fine: startup migrates it (after a backup).
 */
export async function checkDatabaseFile(file: string, opts: { offThread?: boolean } = {}): Promise<FileCheck> {
  const result: FileCheck = { ok: false, problems: [], integrity: [], migrations: [], pending: [] }
  const fail = (code: ProblemCode, detail: string) => {
    result.problems.push({ code, detail })
    return result
  }
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return fail('missing', `${file} does not exist or is not a file`)
  if (!sqliteFile.hasSqliteHeader(file)) return fail('not_sqlite', `${file} is not an SQLite database`)
  let handle: OpenDb
  try {
    handle = sqliteFile.openReadOnly(file)
  } catch (e) {
    return fail('unreadable', `cannot open ${file}: ${messageOf(e)}`)
  }
  try {
    try {
      // One synchronous SQLite call (about a second for 30 MB): the running server does it on a worker thread.
      result.integrity = opts.offThread ? await sqliteFile.integrityCheckOffThread(file) : sqliteFile.integrityCheck(handle)
    } catch (e) {
      return fail('integrity', `integrity_check failed: ${messageOf(e)}`)
    }
    if (result.integrity.length !== 1 || result.integrity[0] !== 'ok') {
      return fail('integrity', `integrity_check: ${result.integrity.slice(0, 3).join('; ')}`)
    }
    const executed = sqliteFile.executedMigrations(handle)
    if (!executed || executed.length === 0 || !sqliteFile.tableNames(handle).includes('audit_log')) {
      return fail('not_ours', 'no Yuemkhuen migration table or audit log in it: not a Yuemkhuen database')
    }
    result.migrations = executed
    const known = Object.keys(migrations)
    const unknown = executed.filter((m) => !known.includes(m))
    if (unknown.length > 0) {
      fail('newer_schema', `made by a newer version of Yuemkhuen (unknown migrations: ${unknown.join(', ')}); upgrade this copy first`)
    }
    result.pending = known.filter((m) => !executed.includes(m))
    // A complete Yuemkhuen database of its schema version: every table its migrations make is there
    // (a file with a migration table and an audit log but nothing else would pass the rest, then keep
    // the server from starting — issue 13).
    if (unknown.length === 0) {
      const missingTables = (await tablesAt(executed[executed.length - 1]!)).filter((t) => !sqliteFile.tableNames(handle).includes(t))
      if (missingTables.length > 0)
        return fail('incomplete_schema', `tables of its schema version are missing (${missingTables.join(', ')}): not a complete Yuemkhuen database`)
    }
    try {
      // Smaller chunks in the server: each chunk holds the event loop for its rows (about 50 µs each).
      result.audit = await verifyChain(handle.db, opts.offThread ? 250 : undefined)
    } catch (e) {
      return fail('audit_chain', `the audit log cannot be read: ${messageOf(e)}`)
    }
    if (!result.audit.ok) fail('audit_chain', `the audit chain is broken at entry ${result.audit.brokenAt} (${result.audit.reason})`)
    result.ok = result.problems.length === 0
    return result
  } finally {
    await handle.close()
  }
}

/** The tables a database has after the migrations up to `migration`: an empty in-memory database migrated that far (tens of ms). */
async function tablesAt(migration: string): Promise<string[]> {
  const h = openDb(':memory:')
  try {
    const r = await createMigrator(h.db).migrateTo(migration)
    if (r.error) throw r.error
    return sqliteFile.tableNames(h).filter((t) => !t.startsWith('sqlite_'))
  } finally {
    await h.close()
  }
}

/**
 * checkDatabaseFile on a worker thread with its own read-only connection, so that a backup taken
 * by the running server does not stall its requests (ARCHITECTURE.md: long work off the loop).
 */

export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
