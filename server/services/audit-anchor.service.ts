/**
 * The audit chain's anchor outside the database (SPEC §5, issue 13).
 *
 * The audit log is a hash chain inside the database, so whoever holds the database file can cut its
 * end off or rewrite an entry and re-hash everything after it: the chain still verifies. The anchor
 * is an append-only file beside the data (`audit-anchor.log`, or AUDIT_ANCHOR_PATH) where, after
 * every commit, the chain head is written as one JSON line — sequence, hash, time — with an HMAC
 * under the anchor key (AUDIT_ANCHOR_KEY, or `audit-anchor.key` beside the data; never the
 * database). Without the key nobody can write a line that verifies, so a database whose entries
 * no longer match the anchored hashes, or that ends before the last anchored entry, is found out.
 *
 * Epochs: the log starts with a `start` line (the head when anchoring began). An honest restore of
 * an earlier backup writes a `restore` line: entries after the backup's head are lost with the
 * restore and new ones take their numbers, so verification looks only at the lines since the last
 * `start` or `restore` line.
 *
 * Lines from several processes (the server, a CLI) interleave; each line stands alone (its own MAC),
 * so their order within an epoch does not matter. A line torn by a crash (no JSON) is counted but
 * proves nothing either way; a well-formed line whose MAC is wrong was forged, or written under
 * another key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import { afterCommit, type Db } from '../../db/connection.js'
import * as auditRepo from '../repositories/audit.repository.js'
import type { Clock } from '../clock.js'
import type { Config } from '../config.js'
import { secretFromKeyFile } from './secret.service.js'
import { GENESIS_HASH } from './audit.service.js'

export type AnchorKind = 'start' | 'anchor' | 'restore'

/** What a restore line adds: which backup head it matched and which entries were lost. */
export interface RestoreNote {
  /** The restored file's head (its last entry). */
  fileSeq: number
  fileHash: string
  /** Entries lostFrom…lostTo of the replaced database are gone (lostTo < lostFrom: none). */
  lostFrom: number
  lostTo: number
  /** True when the file matched no anchor line and the admin restored it anyway. */
  override: boolean
}

export interface AnchorRecord {
  kind: AnchorKind
  seq: number
  hash: string
  at: string
  restore?: RestoreNote
}

export interface AnchorLine extends AnchorRecord {
  /** 1-based line number in the file. */
  line: number
}

export interface AnchorLog {
  /** False when the file does not exist yet. */
  exists: boolean
  /** Lines whose MAC verifies, in file order. */
  records: AnchorLine[]
  /** Well-formed lines whose MAC does not verify: forged, or written under another key. */
  forged: number[]
  /** Lines that are not a record at all (a write torn by a crash, or junk). */
  damaged: number[]
}

const HASH = /^[0-9a-f]{64}$/

function canonical(r: AnchorRecord): string {
  const n = r.restore
  return JSON.stringify([r.kind, r.seq, r.hash, r.at, n ? [n.fileSeq, n.fileHash, n.lostFrom, n.lostTo, n.override] : null])
}

function isRestoreNote(v: unknown): v is RestoreNote {
  const n = v as RestoreNote
  return (
    typeof n === 'object' &&
    n !== null &&
    Number.isSafeInteger(n.fileSeq) &&
    typeof n.fileHash === 'string' &&
    Number.isSafeInteger(n.lostFrom) &&
    Number.isSafeInteger(n.lostTo) &&
    typeof n.override === 'boolean'
  )
}

function parseLine(text: string): (AnchorRecord & { mac: string }) | undefined {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return undefined
  }
  const r = v as AnchorRecord & { mac: unknown }
  if (typeof r !== 'object' || r === null) return undefined
  if (!['start', 'anchor', 'restore'].includes(r.kind)) return undefined
  if (!Number.isSafeInteger(r.seq) || r.seq < 0 || typeof r.hash !== 'string' || !HASH.test(r.hash) || typeof r.at !== 'string') return undefined
  if (typeof r.mac !== 'string' || !HASH.test(r.mac)) return undefined
  if (r.kind === 'restore' ? !isRestoreNote(r.restore) : r.restore !== undefined) return undefined
  const record: AnchorRecord = { kind: r.kind, seq: r.seq, hash: r.hash, at: r.at, ...(r.restore ? { restore: r.restore } : {}) }
  return { ...record, mac: r.mac }
}

export class AuditAnchor {
  constructor(
    readonly file: string,
    private readonly key: string,
  ) {}

  private mac(r: AnchorRecord): string {
    return createHmac('sha256', this.key).update(canonical(r), 'utf8').digest('hex')
  }

  /** The file kept open for appending, and which file it is (a log moved aside is reopened, not written on). */
  private fd: number | undefined
  private ino = -1

  /** Appends one line (O_APPEND: lines from several processes never tear each other). */
  append(r: AnchorRecord): void {
    const line = JSON.stringify({ kind: r.kind, seq: r.seq, hash: r.hash, at: r.at, ...(r.restore ? { restore: r.restore } : {}), mac: this.mac(r) })
    fs.writeSync(this.openForAppend(), `${line}\n`)
  }

  private openForAppend(): number {
    let ino = -2
    try {
      ino = fs.statSync(this.file).ino
    } catch {
      // not there (yet, or any more): opened afresh below
    }
    if (this.fd !== undefined && ino === this.ino) return this.fd
    this.close()
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 })
    this.fd = fs.openSync(this.file, 'a', 0o600)
    this.ino = fs.fstatSync(this.fd).ino
    return this.fd
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd)
    this.fd = undefined
    this.ino = -1
  }

  read(): AnchorLog {
    let text: string
    try {
      text = fs.readFileSync(this.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, records: [], forged: [], damaged: [] }
      throw e
    }
    const log: AnchorLog = { exists: true, records: [], forged: [], damaged: [] }
    const lines = text.split('\n')
    // The text after the last newline is a line still being written, or torn by a crash.
    lines.forEach((raw, i) => {
      if (raw.trim() === '') return
      const parsed = parseLine(raw)
      if (!parsed) {
        log.damaged.push(i + 1)
        return
      }
      const { mac, ...record } = parsed
      const expected = Buffer.from(this.mac(record), 'hex')
      if (timingSafeEqual(expected, Buffer.from(mac, 'hex'))) log.records.push({ ...record, line: i + 1 })
      else log.forged.push(i + 1)
    })
    return log
  }

  /**
   * Ends the file with a newline, so that a line torn by a crash is not glued to the next one
   * (which would then fail to parse too). Called before this process starts appending.
   */
  repairTornEnd(): void {
    let fd: number
    try {
      fd = fs.openSync(this.file, 'r')
    } catch {
      return
    }
    let last = '\n'
    try {
      const size = fs.fstatSync(fd).size
      if (size > 0) {
        const b = Buffer.alloc(1)
        fs.readSync(fd, b, 0, 1, size - 1)
        last = b.toString('latin1')
      }
    } finally {
      fs.closeSync(fd)
    }
    if (last !== '\n') fs.appendFileSync(this.file, '\n')
  }
}

/** The lines of the current epoch: from the last `start` or `restore` line on, in file order. */
export function currentEpoch(records: AnchorLine[]): AnchorLine[] {
  let from = 0
  records.forEach((r, i) => {
    if (r.kind !== 'anchor') from = i
  })
  return records.slice(from)
}

/** A line of any epoch that anchors exactly this head: the file is a state the chain really passed through. */
export function findAnchored(log: AnchorLog, seq: number, hash: string): AnchorLine | undefined {
  return log.records.find((r) => r.seq === seq && r.hash === hash)
}

/** The folder beside the data where key files and the anchor log live by default. */
export function dataFolder(config: Config): string {
  return config.databasePath === ':memory:' ? path.resolve('data') : path.dirname(path.resolve(config.databasePath))
}

/**
 * The anchor of this installation: AUDIT_ANCHOR_PATH (or `audit-anchor.log` beside the data) under
 * AUDIT_ANCHOR_KEY (or the key file `audit-anchor.key`, created 0600 on first use). None for an
 * in-memory database, whose chain starts afresh every run.
 */
export function anchorFromConfig(config: Config, logger?: Logger): AuditAnchor | undefined {
  if (config.databasePath === ':memory:') return undefined
  const folder = dataFolder(config)
  let key = config.auditAnchorKey
  if (key === undefined) {
    const k = secretFromKeyFile(folder, 'audit-anchor')
    if (k.created) logger?.info({ file: path.join(folder, 'audit-anchor.key') }, 'audit anchor key created (back it up apart from the database)')
    key = k.value
  }
  return new AuditAnchor(config.auditAnchorPath ?? path.join(folder, 'audit-anchor.log'), key)
}

/** What the running process knows about its own writes to the anchor (shown on /audit). */
export interface AnchorState {
  lastError?: { at: string; message: string }
}

const states = new WeakMap<AuditAnchor, AnchorState>()

export function anchorState(anchor: AuditAnchor): AnchorState {
  let s = states.get(anchor)
  if (!s) {
    s = {}
    states.set(anchor, s)
  }
  return s
}

/**
 * Starts anchoring `db`: a `start` line when the log has no valid line yet (a new installation,
 * or the first start of this version), the current head when it is newer than the last anchored
 * one (entries written without a commit hook, e.g. by an older version), and from then on the head
 * after every commit that moved it. A failed write is logged and shown on /audit; the change
 * itself stays committed.
 */
export async function startAnchoring(db: Db, anchor: AuditAnchor, clock: Clock, logger?: Logger): Promise<void> {
  anchor.repairTornEnd()
  const log = anchor.read()
  const state = anchorState(anchor)
  const head = await auditRepo.head(db)
  const seq = head?.id ?? 0
  const hash = head?.hash ?? GENESIS_HASH
  let last = -1
  if (log.records.length === 0) {
    anchor.append({ kind: 'start', seq, hash, at: clock.now().toISOString() })
    last = seq
    logger?.info({ file: anchor.file, seq }, 'audit anchor started')
  } else {
    last = Math.max(...currentEpoch(log.records).map((r) => r.seq))
    if (seq > last) {
      anchor.append({ kind: 'anchor', seq, hash, at: clock.now().toISOString() })
      last = seq
    }
  }
  afterCommit(db, async (conn) => {
    try {
      const h = await auditRepo.head(conn)
      if (!h || h.id <= last) return
      anchor.append({ kind: 'anchor', seq: h.id, hash: h.hash, at: clock.now().toISOString() })
      last = h.id
      state.lastError = undefined
    } catch (e) {
      state.lastError = { at: clock.now().toISOString(), message: e instanceof Error ? e.message : String(e) }
      logger?.error({ err: e, file: anchor.file }, 'audit anchor write failed')
    }
  })
}

export function stopAnchoring(db: Db, anchor?: AuditAnchor): void {
  afterCommit(db, undefined)
  anchor?.close()
}
