/**
 * Backups of the SQLite file (issue 7): making them, listing, retention, the timer and the admin
 * page's status. Checking a file is backup-check.ts; restoring one, backup-restore.service.ts.
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
import { openDb, type OpenDb, pgSchemaOf } from '../../db/connection.js'
import { createMigrator } from '../../db/migrator.js'
import * as sqliteFile from '../../db/sqlite-file.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import type { AppContext } from '../context.js'
import { checkDatabaseFile, messageOf, type FileCheck, type FileProblem } from './backup-check.js'

export type BackupKind = 'daily' | 'manual' | 'pre-migration' | 'pre-restore'
type NamedKind = 'regular' | 'pre-migration' | 'pre-restore'

/** Pre-migration and pre-restore copies are kept this long (the newest of each always). */
export const SPECIAL_BACKUP_DAYS = 90
/** The admin page warns when the newest backup is older than this. */
export const BACKUP_STALE_AFTER_MS = 2 * 24 * 3600_000
const DAY_MS = 24 * 3600_000

export class BackupError extends Error {}

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
  return at
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '')
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

export function nameOf(prefix: string, at: Date, kind: BackupKind, seq: number): string {
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
    entries.push({
      name,
      path: file,
      at: dateOfStamp(m[1]!),
      kind: (m[2] as NamedKind | undefined) ?? 'regular',
      seq: Number(m[3] ?? 0),
      size,
      sidecar: readSidecar(file),
    })
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

export function writeJsonAtomically(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 })
  fs.renameSync(tmp, file)
}

export function fsyncDir(dir: string): void {
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
  for (const e of entries.filter((x) => x.kind === 'regular').slice(0, target.keep)) keep.add(e.name)
  for (const kind of ['pre-migration', 'pre-restore'] as const) {
    const ofKind = entries.filter((e) => e.kind === kind)
    if (ofKind[0]) keep.add(ofKind[0].name)
    for (const e of ofKind.filter((x) => now - x.at.getTime() <= SPECIAL_BACKUP_DAYS * DAY_MS)) keep.add(e.name)
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
    throw new BackupError(
      `the copy taken before migrating failed its check (${result.check.problems.map((p) => p.detail).join('; ')}); not migrating. The copy is ${result.path}`,
    )
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

/** The schema of an agency hosted with others (TENANCY=host): what its own pg_dump names; none otherwise. */
export function hostedSchema(ctx: AppContext): string | undefined {
  return ctx.config.tenancy === 'host' ? pgSchemaOf(ctx.db) : undefined
}
