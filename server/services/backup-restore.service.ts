/**
 * Restoring a backup over the live database (issue 7): the file is checked first, the database
 * about to be replaced gets a safety copy, the audit anchor records what the restore did to the
 * chain; nothing is changed when the file is refused.
 */
import fs from 'node:fs'
import path from 'node:path'
import { openDb } from '../../db/connection.js'
import * as sqliteFile from '../../db/sqlite-file.js'
import type { Clock } from '../clock.js'
import { append, CLI_ACTOR, shortHash } from './audit.service.js'
import { currentEpoch, findAnchored, type AnchorLog, type AuditAnchor, type RestoreNote } from './audit-anchor.service.js'
import * as auditRepo from '../repositories/audit.repository.js'
import { writeTransaction } from '../../db/connection.js'
import { dropUnsentMail } from '../repositories/notification.repository.js'
import { checkDatabaseFile, messageOf, type FileCheck, type FileProblem } from './backup-check.js'
import {
  backupDatabaseFile,
  backupPrefix,
  fsyncDir,
  nameOf,
  pruneBackups,
  writeJsonAtomically,
  type BackupSidecar,
  type BackupTarget,
} from './backup.service.js'

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
    const sidecar: Partial<BackupSidecar> = {
      format: 1,
      name: path.basename(file),
      kind: 'pre-restore',
      createdAt: at.toISOString(),
      database: path.resolve(db),
      size: fs.statSync(file).size,
      verified: false,
      problems: [{ code: 'unreadable', detail: 'copied as it was; SQLite could not back it up' }],
    }
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
function matchAnchor(
  anchor: AuditAnchor,
  head: { seq: number; hash: string },
  db: string,
): { log: AnchorLog; matched?: { at: string }; lostFrom: number; lostTo: number } {
  const log = anchor.read()
  const matched = findAnchored(log, head.seq, head.hash)
  const anchoredTop = Math.max(0, ...currentEpoch(log.records).map((r) => r.seq))
  return { log, matched, lostFrom: head.seq + 1, lostTo: Math.max(anchoredTop, liveHead(db) ?? 0) }
}

/** Marks the outbox's unsent rows of a file about to be restored as dropped (notification.repository). */
async function dropUnsentMailIn(file: string, clock: Clock): Promise<void> {
  const handle = openDb(file)
  try {
    await writeTransaction(handle.db, (trx) => dropUnsentMail(trx, clock.now().toISOString()))
  } finally {
    await handle.close()
  }
  // openDb switched the copy to WAL: back to one self-contained file, as the restore puts it in place.
  sqliteFile.useRollbackJournal(file)
}

/** After the file is in place: the restore is audited in it and a restore line starts a new anchor epoch. */
async function recordRestore(
  db: string,
  clock: Clock,
  anchor: AuditAnchor,
  note: RestoreNote,
  extra: { file: string; matchedAt?: string; reason?: string },
): Promise<void> {
  const handle = openDb(db)
  try {
    const head = await writeTransaction(handle.db, async (trx) => {
      await append(trx, clock, CLI_ACTOR, {
        action: 'database.restore',
        entity: 'database',
        data: {
          file: extra.file,
          fileSeq: note.fileSeq,
          fileHash: note.fileHash,
          lostFrom: note.lostFrom,
          lostTo: note.lostTo,
          override: note.override,
          ...(extra.matchedAt ? { matchedAnchorAt: extra.matchedAt } : {}),
          ...(extra.reason ? { reason: extra.reason } : {}),
        },
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
    refuse([
      { code: 'wal_present', detail: `${source}-wal exists: that copy is still in use or was copied without a checkpoint; use a file made by npm run backup` },
    ])
  }
  const inUse = (): FileProblem[] =>
    sqliteFile.isOpenElsewhere(db) ? [{ code: 'in_use', detail: `${db} is open in another process (is the server running?); stop it first` }] : []
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
        if (!opts.override)
          refuse([
            {
              code: 'anchor_unreadable',
              detail: `the audit anchor ${opts.anchor.file} cannot be read (${messageOf(e)}); restore with --override "<reason>" if you trust this file`,
            },
          ])
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
      note = {
        fileSeq: head.seq,
        fileHash: head.hash,
        lostFrom: m.lostFrom,
        lostTo: m.lostTo,
        override: !m.matched,
        ...(m.matched ? { matchedAt: m.matched.at } : {}),
      }
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
    // SPEC §8: the file's unsent mail may have gone out since the backup was taken; dropped, never sent twice.
    await dropUnsentMailIn(tmp, target.clock)
    await sqliteFile.fsyncFile(tmp)
    fs.renameSync(tmp, db)
    fsyncDir(path.dirname(db))
    if (opts.anchor && note) {
      const { matchedAt, ...restoreNote } = note
      await recordRestore(db, target.clock, opts.anchor, restoreNote, {
        file: path.basename(source),
        matchedAt,
        reason: note.override ? opts.override : undefined,
      })
    }
    pruneBackups(target)
    return {
      restoredFrom: source,
      databasePath: db,
      safetyBackup: safety?.path,
      safetyVerified: safety?.verified,
      removed,
      check,
      ...(note ? { anchor: note } : {}),
    }
  } finally {
    fs.rmSync(tmp, { force: true })
  }
}
