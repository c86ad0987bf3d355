/**
 * Backups and restores of the SQLite file (issue 7).
 *
 * A backup is SQLite's online backup of the live database into a hidden temporary file beside
 * the others, made self-contained (rollback journal, no -wal/-shm), checked (integrity_check, our
 * migrations, the audit chain), then linked into place under its final name so that a reader
 * never sees half a file. A JSON sidecar (`<name>.json`) records when, how big, its SHA-256 and
 * what the check found; the admin page reads the folder and the sidecars, never the database, and
 * a backup writes nothing to the database it copies.
 *
 * Names: `<database file name>-<UTC stamp>[-pre-migration|-pre-restore][-<n>].sqlite`, e.g.
 * `yuemkhuen-20261125T203000Z.sqlite`; the name alone is enough for retention.
 *
 * Retention (after every backup): the newest `BACKUP_KEEP` regular backups (daily and manual);
 * pre-migration and pre-restore copies for 90 days, the newest of each always; and never the
 * newest verified backup, whatever its age.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { openDb, type OpenDb } from '../../db/connection.js'
import { migrations } from '../../db/migrations/index.js'
import { createMigrator } from '../../db/migrator.js'
import * as sqliteFile from '../../db/sqlite-file.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { AppContext } from '../context.js'
import { append, CLI_ACTOR, shortHash, verifyChain, type VerifyResult } from './audit.service.js'
import { currentEpoch, findAnchored, type AnchorLog, type AuditAnchor, type RestoreNote } from './audit-anchor.service.js'
import * as auditRepo from '../repositories/audit.repository.js'
import { writeTransaction } from '../../db/connection.js'

export type BackupKind = 'daily' | 'manual' | 'pre-migration' | 'pre-restore'
type NamedKind = 'regular' | 'pre-migration' | 'pre-restore'

/** Pre-migration and pre-restore copies are kept this long (the newest of each always). */
export const SPECIAL_BACKUP_DAYS = 90
/** The admin page warns when the newest backup is older than this. */
export const BACKUP_STALE_AFTER_MS = 2 * 24 * 3600_000
const DAY_MS = 24 * 3600_000

export class BackupError extends Error {}

/** Thrown by restoreDatabase when the file must not be restored; nothing has been changed. */
export class RestoreRefused extends Error {
  constructor(
    message: string,
    readonly problems: FileProblem[],
  ) {
    super(message)
  }
}

// ---------------------------------------------------------------------------------------------
// Checking a database file

export type ProblemCode = 'anchor_mismatch' | 'anchor_unreadable' | 'missing' | 'not_sqlite' | 'unreadable' | 'integrity' | 'not_ours' | 'newer_schema' | 'incomplete_schema' | 'audit_chain' | 'wal_present' | 'in_use' | 'same_file'

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
      if (missingTables.length > 0) return fail('incomplete_schema', `tables of its schema version are missing (${missingTables.join(', ')}): not a complete Yuemkhuen database`)
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
// ---------------------------------------------------------------------------------------------
// Names, listing and sidecars

export interface BackupSidecar {
  format: 1
  name: string
  kind: BackupKind
  createdAt: string
  database: string
  size: number
  sha256: string
  verified: boolean
  integrity: string[]
  migrations: number
  auditEntries: number | null
  problems: FileProblem[]
}

export interface BackupEntry {
  name: string
  path: string
  at: Date
  kind: NamedKind
  seq: number
  size: number
  sidecar?: BackupSidecar
}

/** Backups are named after the database file (`yuemkhuen` for data/yuemkhuen.db), so two databases can share a folder. */
export function backupPrefix(databasePath: string): string {
  const base = path.parse(databasePath).name.replace(/[^A-Za-z0-9_.-]+/g, '_')
  return databasePath === ':memory:' || base === '' ? 'yuemkhuen' : base
}

function stampOf(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '')
}

function dateOfStamp(s: string): Date {
  return new Date(`${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}Z`)
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function namePattern(prefix: string): RegExp {
  return new RegExp(`^${escapeRegExp(prefix)}-(\\d{8}T\\d{6}Z)(?:-(pre-migration|pre-restore))?(?:-(\\d+))?\\.sqlite$`)
}

function nameOf(prefix: string, at: Date, kind: BackupKind, seq: number): string {
  const suffix = kind === 'pre-migration' || kind === 'pre-restore' ? `-${kind}` : ''
  return `${prefix}-${stampOf(at)}${suffix}${seq > 0 ? `-${seq}` : ''}.sqlite`
}

function readSidecar(file: string): BackupSidecar | undefined {
  try {
    const data = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as BackupSidecar
    return data && data.format === 1 ? data : undefined
  } catch {
    return undefined
  }
}

/** The backups of one database in a folder, newest first. */
export function listBackups(dir: string, databasePath: string): BackupEntry[] {
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  const pattern = namePattern(backupPrefix(databasePath))
  const entries: BackupEntry[] = []
  for (const name of names) {
    const m = pattern.exec(name)
    if (!m) continue
    const file = path.join(dir, name)
    let size: number
    try {
      size = fs.statSync(file).size
    } catch {
      continue
    }
    entries.push({ name, path: file, at: dateOfStamp(m[1]!), kind: (m[2] as NamedKind | undefined) ?? 'regular', seq: Number(m[3] ?? 0), size, sidecar: readSidecar(file) })
  }
  return entries.sort((a, b) => b.at.getTime() - a.at.getTime() || b.seq - a.seq)
}

// ---------------------------------------------------------------------------------------------
// Making a backup

export interface BackupResult {
  path: string
  name: string
  size: number
  sha256: string
  kind: BackupKind
  createdAt: string
  verified: boolean
  check: FileCheck
  pruned: string[]
}

export interface BackupTarget {
  databasePath: string
  dir: string
  keep: number
  clock: Clock
}

export function backupTarget(config: Config, clock: Clock): BackupTarget {
  return { databasePath: config.databasePath, dir: config.backupDir, keep: config.backupKeep, clock }
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function writeJsonAtomically(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 })
  fs.renameSync(tmp, file)
}

function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r')
    try {
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    // Not every file system lets a directory be opened for fsync; the rename is still atomic.
  }
}

/** Puts `tmp` in place under the first free name for that second (link fails rather than overwrite). */
function linkIntoPlace(tmp: string, target: BackupTarget, at: Date, kind: BackupKind): { name: string; file: string } {
  const prefix = backupPrefix(target.databasePath)
  for (let seq = 0; ; seq++) {
    const name = nameOf(prefix, at, kind, seq)
    const file = path.join(target.dir, name)
    try {
      fs.linkSync(tmp, file)
      fs.rmSync(tmp, { force: true })
      return { name, file }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || seq > 1000) throw e
    }
  }
}

/**
 * Copies the open database into the backup folder, checks the copy and records the result.
 * The copy is kept (and says `verified: false`) even when the check finds a problem: it is a
 * faithful copy of what the database holds, and the caller reports the problem.
 */
export async function createBackup(source: OpenDb, target: BackupTarget, kind: BackupKind, opts: { offThread?: boolean } = {}): Promise<BackupResult> {
  // A backup is a copy of everyone's loans: the folder and every file in it are the owner's only.
  fs.mkdirSync(target.dir, { recursive: true, mode: 0o700 })
  const at = target.clock.now()
  const prefix = backupPrefix(target.databasePath)
  const tmp = path.join(target.dir, `.${prefix}-${stampOf(at)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`)
  try {
    await sqliteFile.onlineBackup(source, tmp)
    fs.chmodSync(tmp, 0o600)
    sqliteFile.useRollbackJournal(tmp)
    const check = await checkDatabaseFile(tmp, opts)
    await sqliteFile.fsyncFile(tmp)
    const sha256 = await sha256Of(tmp)
    const size = fs.statSync(tmp).size
    const { name, file } = linkIntoPlace(tmp, target, at, kind)
    const sidecar: BackupSidecar = {
      format: 1,
      name,
      kind,
      createdAt: at.toISOString(),
      database: path.resolve(target.databasePath),
      size,
      sha256,
      verified: check.ok,
      integrity: check.integrity,
      migrations: check.migrations.length,
      auditEntries: check.audit?.entries ?? null,
      problems: check.problems,
    }
    writeJsonAtomically(`${file}.json`, sidecar)
    fsyncDir(target.dir)
    const pruned = pruneBackups(target)
    return { path: file, name, size, sha256, kind, createdAt: sidecar.createdAt, verified: check.ok, check, pruned }
  } catch (e) {
    fs.rmSync(tmp, { force: true })
    throw new BackupError(`backup of ${target.databasePath} into ${target.dir} failed: ${messageOf(e)}`, { cause: e })
  }
}

/** Opens the database file, backs it up and closes it (the CLI: it may run while the server runs). */
export async function backupDatabaseFile(target: BackupTarget, kind: BackupKind): Promise<BackupResult> {
  if (!fs.existsSync(target.databasePath)) throw new BackupError(`there is no database at ${target.databasePath} (check DATABASE_PATH)`)
  if (!sqliteFile.hasSqliteHeader(target.databasePath)) throw new BackupError(`${target.databasePath} is not an SQLite database`)
  const handle = openDb(target.databasePath)
  try {
    return await createBackup(handle, target, kind)
  } finally {
    await handle.close()
  }
}

// ---------------------------------------------------------------------------------------------
// Retention

/** Deletes the backups that retention no longer keeps (with their sidecars); returns their names. */
export function pruneBackups(target: BackupTarget): string[] {
  const entries = listBackups(target.dir, target.databasePath)
  const now = target.clock.now().getTime()
  const keep = new Set<string>()
  const newestVerified = entries.find((e) => e.sidecar?.verified === true)
  if (newestVerified) keep.add(newestVerified.name)
  entries.filter((e) => e.kind === 'regular').slice(0, target.keep).forEach((e) => keep.add(e.name))
  for (const kind of ['pre-migration', 'pre-restore'] as const) {
    const ofKind = entries.filter((e) => e.kind === kind)
    if (ofKind[0]) keep.add(ofKind[0].name)
    ofKind.filter((e) => now - e.at.getTime() <= SPECIAL_BACKUP_DAYS * DAY_MS).forEach((e) => keep.add(e.name))
  }
  const removed: string[] = []
  for (const e of entries) {
    if (keep.has(e.name)) continue
    fs.rmSync(e.path, { force: true })
    fs.rmSync(`${e.path}.json`, { force: true })
    fs.rmSync(`${e.path}-wal`, { force: true })
    removed.push(e.name)
  }
  // Temporary files of a backup that was killed halfway.
  const tmpPattern = new RegExp(`^\\.${escapeRegExp(backupPrefix(target.databasePath))}-.*\\.tmp$`)
  for (const name of safeReaddir(target.dir)) {
    if (!tmpPattern.test(name)) continue
    const file = path.join(target.dir, name)
    try {
      if (now - fs.statSync(file).mtimeMs > DAY_MS) fs.rmSync(file, { force: true })
    } catch {
      // gone meanwhile
    }
  }
  return removed
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir)
  } catch {
    return []
  }
}

// ---------------------------------------------------------------------------------------------
// Before migrations, and on a timer

/**
 * Before startup migrates a database that already has data, a verified copy of it: an upgrade
 * that goes wrong can be undone with `npm run restore`. Nothing happens on an empty database or
 * when there is nothing to migrate. A copy that fails integrity_check stops the upgrade; a broken
 * audit chain is reported but does not (migrating does not make it worse, and /audit shows it).
 */
export async function backupBeforeMigrating(ctx: AppContext, handle: OpenDb): Promise<BackupResult | undefined> {
  if (ctx.config.databasePath === ':memory:') return undefined
  const all = await createMigrator(handle.db).getMigrations()
  const pending = all.filter((m) => m.executedAt === undefined)
  if (pending.length === 0 || pending.length === all.length) return undefined
  const result = await createBackup(handle, backupTarget(ctx.config, ctx.clock), 'pre-migration')
  if (result.check.problems.some((p) => p.code !== 'audit_chain')) {
    throw new BackupError(`the copy taken before migrating failed its check (${result.check.problems.map((p) => p.detail).join('; ')}); not migrating. The copy is ${result.path}`)
  }
  ctx.logger.info({ backup: result.path, size: result.size, pending: pending.map((m) => m.name), verified: result.verified }, 'backup taken before migrating')
  if (!result.verified) ctx.logger.warn({ problems: result.check.problems }, 'the pre-migration backup is not verified')
  return result
}

export interface BackupTimer {
  /** Stops the timer and waits for a backup in progress to finish (the connection must stay open until then). */
  stop(): Promise<void>
  /** Runs one check now (tests). */
  tick(): Promise<void>
}

/**
 * The server's own backups: every `checkEveryMs` (an hour) it looks at the folder and makes a
 * backup when the newest regular one is older than BACKUP_EVERY_HOURS. Looking at the folder
 * rather than counting from start-up means restarts neither skip nor pile up backups.
 */
export function startBackupTimer(ctx: AppContext, handle: OpenDb, opts: { firstCheckMs?: number; checkEveryMs?: number } = {}): BackupTimer {
  const everyMs = ctx.config.backupEveryHours * 3600_000
  let running: Promise<void> | undefined
  let stopped = false
  const tick = (): Promise<void> => {
    if (stopped || everyMs === 0) return Promise.resolve()
    if (running) return running
    const target = backupTarget(ctx.config, ctx.clock)
    const newest = listBackups(target.dir, target.databasePath).find((e) => e.kind === 'regular')
    if (newest && ctx.clock.now().getTime() - newest.at.getTime() < everyMs) return Promise.resolve()
    running = createBackup(handle, target, 'daily', { offThread: true })
      .then((r) => {
        if (r.verified) ctx.logger.info({ backup: r.path, size: r.size, pruned: r.pruned }, 'daily backup written and verified')
        else ctx.logger.error({ backup: r.path, problems: r.check.problems }, 'daily backup written but NOT verified')
      })
      .catch((err: unknown) => ctx.logger.error({ err }, 'daily backup failed'))
      .finally(() => {
        running = undefined
      })
    return running
  }
  if (everyMs === 0) return { stop: async () => undefined, tick }
  const first = setTimeout(() => void tick(), opts.firstCheckMs ?? 60_000)
  first.unref()
  const interval = setInterval(() => void tick(), opts.checkEveryMs ?? 3600_000)
  interval.unref()
  return {
    tick,
    async stop() {
      stopped = true
      clearTimeout(first)
      clearInterval(interval)
      await running
    },
  }
}

// ---------------------------------------------------------------------------------------------
// The admin page

export type BackupState = 'ok' | 'stale' | 'missing' | 'unverified'

export interface BackupStatus {
  dir: string
  count: number
  state: BackupState
  last?: { name: string; path: string; at: string; size: number; kind: BackupKind | NamedKind; verified: boolean }
}

/** What the admin page shows: the newest backup and whether to worry (none, older than 2 days, not verified). */
export function backupStatus(ctx: AppContext): BackupStatus {
  const dir = path.resolve(ctx.config.backupDir)
  const entries = listBackups(dir, ctx.config.databasePath)
  const newest = entries[0]
  if (!newest) return { dir, count: 0, state: 'missing' }
  const verified = newest.sidecar?.verified === true
  const at = newest.sidecar?.createdAt ?? newest.at.toISOString()
  const stale = ctx.clock.now().getTime() - new Date(at).getTime() > BACKUP_STALE_AFTER_MS
  return {
    dir,
    count: entries.length,
    state: stale ? 'stale' : verified ? 'ok' : 'unverified',
    last: { name: newest.name, path: newest.path, at, size: newest.size, kind: newest.sidecar?.kind ?? newest.kind, verified },
  }
}

// ---------------------------------------------------------------------------------------------
// Restore

export interface RestoreResult {
  /** What the restore did to the audit chain (absent when no anchor is kept). */
  anchor?: RestoreNote & { matchedAt?: string }
  restoredFrom: string
  databasePath: string
  safetyBackup?: string
  safetyVerified?: boolean
  removed: string[]
  check: FileCheck
}

/**
 * The safety copy of the database about to be replaced. When SQLite cannot copy it (the reason
 * for restoring may be that it is damaged), its files are copied as they are, unverified.
 */
async function safetyCopy(target: BackupTarget): Promise<{ path: string; verified: boolean } | undefined> {
  const db = target.databasePath
  if (!fs.existsSync(db)) return undefined
  if (sqliteFile.hasSqliteHeader(db)) {
    try {
      const r = await backupDatabaseFile(target, 'pre-restore')
      return { path: r.path, verified: r.verified }
    } catch {
      // fall through to a plain copy
    }
  }
  fs.mkdirSync(target.dir, { recursive: true })
  const at = target.clock.now()
  const prefix = backupPrefix(db)
  for (let seq = 0; ; seq++) {
    const file = path.join(target.dir, nameOf(prefix, at, 'pre-restore', seq))
    if (fs.existsSync(file)) continue
    fs.copyFileSync(db, file, fs.constants.COPYFILE_EXCL)
    if (fs.existsSync(`${db}-wal`)) fs.copyFileSync(`${db}-wal`, `${file}-wal`)
    const sidecar: Partial<BackupSidecar> = { format: 1, name: path.basename(file), kind: 'pre-restore', createdAt: at.toISOString(), database: path.resolve(db), size: fs.statSync(file).size, verified: false, problems: [{ code: 'unreadable', detail: 'copied as it was; SQLite could not back it up' }] }
    writeJsonAtomically(`${file}.json`, sidecar)
    return { path: file, verified: false }
  }
}

/**
 * Replaces the database with a checked copy of `file`. Before anything changes: the file is
 * checked (checkDatabaseFile), no process may hold the database open, and a safety backup of the
 * current database is taken. Then the copy is renamed into place and stale -wal/-shm removed.
 */
export interface RestoreOptions {
  /** The installation's audit anchor: the file must be a state its chain passed through (issue 13). */
  anchor?: AuditAnchor
  /** Restore a file that matches no anchor line anyway; the reason is audited. */
  override?: string
}

/** The head of the database about to be replaced, when it can still be read (it may be the damaged one). */
function liveHead(db: string): number | undefined {
  if (!fs.existsSync(db) || !sqliteFile.hasSqliteHeader(db)) return undefined
  try {
    return sqliteFile.auditHeadSeq(db)
  } catch {
    return undefined
  }
}

/**
 * Where the file stands against the anchor: the line that anchored exactly its head (a state the chain
 * really passed through, of this or an earlier epoch), and the entries the restore loses.
 */
function matchAnchor(anchor: AuditAnchor, head: { seq: number; hash: string }, db: string): { log: AnchorLog; matched?: { at: string }; lostFrom: number; lostTo: number } {
  const log = anchor.read()
  const matched = findAnchored(log, head.seq, head.hash)
  const anchoredTop = Math.max(0, ...currentEpoch(log.records).map((r) => r.seq))
  return { log, matched, lostFrom: head.seq + 1, lostTo: Math.max(anchoredTop, liveHead(db) ?? 0) }
}

/** After the file is in place: the restore is audited in it and a restore line starts a new anchor epoch. */
async function recordRestore(db: string, clock: Clock, anchor: AuditAnchor, note: RestoreNote, extra: { file: string; matchedAt?: string; reason?: string }): Promise<void> {
  const handle = openDb(db)
  try {
    const head = await writeTransaction(handle.db, async (trx) => {
      await append(trx, clock, CLI_ACTOR, {
        action: 'database.restore',
        entity: 'database',
        data: { file: extra.file, fileSeq: note.fileSeq, fileHash: note.fileHash, lostFrom: note.lostFrom, lostTo: note.lostTo, override: note.override, ...(extra.matchedAt ? { matchedAnchorAt: extra.matchedAt } : {}), ...(extra.reason ? { reason: extra.reason } : {}) },
      })
      return auditRepo.head(trx)
    })
    anchor.append({ kind: 'restore', seq: head!.id, hash: head!.hash, at: clock.now().toISOString(), restore: note })
  } finally {
    await handle.close()
  }
}

export async function restoreDatabase(file: string, target: BackupTarget, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const source = path.resolve(file)
  const db = path.resolve(target.databasePath)
  const refuse = (problems: FileProblem[]): never => {
    throw new RestoreRefused(`not restoring ${source}: ${problems.map((p) => p.detail).join('; ')}`, problems)
  }
  if (source === db) refuse([{ code: 'same_file', detail: 'that is the database itself' }])
  if (!fs.existsSync(source) || !fs.statSync(source).isFile()) refuse([{ code: 'missing', detail: `${source} does not exist or is not a file` }])
  if (!sqliteFile.hasSqliteHeader(source)) refuse([{ code: 'not_sqlite', detail: `${source} is not an SQLite database` }])
  if (fs.existsSync(`${source}-wal`) && fs.statSync(`${source}-wal`).size > 0) {
    refuse([{ code: 'wal_present', detail: `${source}-wal exists: that copy is still in use or was copied without a checkpoint; use a file made by npm run backup` }])
  }
  const inUse = (): FileProblem[] => (sqliteFile.isOpenElsewhere(db) ? [{ code: 'in_use', detail: `${db} is open in another process (is the server running?); stop it first` }] : [])
  if (inUse().length) refuse(inUse())

  // The copy that will become the database, checked as it will be installed.
  fs.mkdirSync(path.dirname(db), { recursive: true })
  const tmp = `${db}.restoring-${process.pid}.tmp`
  try {
    fs.copyFileSync(source, tmp)
    fs.chmodSync(tmp, 0o600)
    try {
      sqliteFile.useRollbackJournal(tmp)
    } catch (e) {
      // Say what is wrong with it (a damaged file usually fails here) rather than only that it failed.
      const found = (await checkDatabaseFile(source)).problems
      refuse(found.length ? found : [{ code: 'unreadable', detail: `cannot open ${source}: ${messageOf(e)}` }])
    }
    const check = await checkDatabaseFile(tmp)
    if (!check.ok) refuse(check.problems.map((p) => ({ code: p.code, detail: p.detail.split(tmp).join(source) })))

    // The file's chain against the anchor kept outside the database: an honest backup ends at an
    // anchored head; a file rewritten and re-hashed, or from elsewhere, matches none (issue 13).
    let note: (RestoreNote & { matchedAt?: string }) | undefined
    if (opts.anchor) {
      const head = check.audit!.head
      let m: ReturnType<typeof matchAnchor>
      try {
        m = matchAnchor(opts.anchor, head, db)
      } catch (e) {
        if (!opts.override) refuse([{ code: 'anchor_unreadable', detail: `the audit anchor ${opts.anchor.file} cannot be read (${messageOf(e)}); restore with --override "<reason>" if you trust this file` }])
        m = { log: { exists: false, records: [], forged: [], damaged: [] }, lostFrom: head.seq + 1, lostTo: Math.max(head.seq, liveHead(db) ?? 0) }
      }
      if (!m.matched && !opts.override) {
        refuse([
          {
            code: 'anchor_mismatch',
            detail: m.log.records.length
              ? `its last audit entry #${head.seq} (hash ${shortHash(head.hash)}) matches no line of the audit anchor ${opts.anchor.file}: this database never was in that state (rewritten, or from another installation); restore with --override "<reason>" only if you know why`
              : `there is no audit anchor at ${opts.anchor.file} to match it against (a new machine?); restore with --override "<reason>" if you trust this file`,
          },
        ])
      }
      note = { fileSeq: head.seq, fileHash: head.hash, lostFrom: m.lostFrom, lostTo: m.lostTo, override: !m.matched, ...(m.matched ? { matchedAt: m.matched.at } : {}) }
    }

    const safety = await safetyCopy(target)
    if (inUse().length) refuse(inUse())
    const removed: string[] = []
    for (const f of [`${db}-wal`, `${db}-shm`, `${db}-journal`]) {
      if (fs.existsSync(f)) {
        fs.rmSync(f, { force: true })
        removed.push(f)
      }
    }
    await sqliteFile.fsyncFile(tmp)
    fs.renameSync(tmp, db)
    fsyncDir(path.dirname(db))
    if (opts.anchor && note) {
      const { matchedAt, ...restoreNote } = note
      await recordRestore(db, target.clock, opts.anchor, restoreNote, { file: path.basename(source), matchedAt, reason: note.override ? opts.override : undefined })
    }
    pruneBackups(target)
    return { restoredFrom: source, databasePath: db, safetyBackup: safety?.path, safetyVerified: safety?.verified, removed, check, ...(note ? { anchor: note } : {}) }
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}

/** 385024 → '376.0 KB': for people reading a backup's size. */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let n = bytes / 1024
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n.toFixed(1)} ${units[i]}`
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
