import { createHash } from 'node:crypto'
import type { AuditRow } from '../../db/schema.js'
import type { Db } from '../../db/connection.js'
import * as auditRepo from '../repositories/audit.repository.js'
import * as publications from '../repositories/publication.repository.js'
import type { Clock } from '../clock.js'
import { anchorState, currentEpoch, type AnchorKind, type AnchorLine, type AuditAnchor, type RestoreNote } from './audit-anchor.service.js'

export const GENESIS_HASH = '0'.repeat(64)

/** Who did it: a signed-in user, or the system itself (migrations, CLI, timers). */
export interface Actor {
  id: number | null
  label: string
}

export const SYSTEM_ACTOR: Actor = { id: null, label: 'system' }
export const CLI_ACTOR: Actor = { id: null, label: 'cli' }

type HashedColumns = Omit<AuditRow, 'hash'>

/** sha256 over every column but the hash itself, exactly as stored (data is already JSON text). */
export function hashEntry(e: HashedColumns): string {
  const canonical = JSON.stringify([e.id, e.at, e.actor_id, e.actor_label, e.action, e.entity, e.entity_id, e.data, e.prev_hash])
  return createHash('sha256').update(canonical, 'utf8').digest('hex')
}

export interface AuditEvent {
  action: string
  entity: string
  entityId?: string | number | null
  data?: Record<string, unknown>
}

/**
 * Appends one entry. Must be called with the transaction that makes the change, so that the
 * change and its record commit or roll back together; the head is read inside it.
 */
export async function append(trx: Db, clock: Clock, actor: Actor, event: AuditEvent): Promise<void> {
  const head = await auditRepo.head(trx)
  const row: HashedColumns = {
    id: (head?.id ?? 0) + 1,
    at: clock.now().toISOString(),
    actor_id: actor.id,
    actor_label: actor.label,
    action: event.action,
    entity: event.entity,
    entity_id: event.entityId === undefined || event.entityId === null ? null : String(event.entityId),
    data: JSON.stringify(event.data ?? {}),
    prev_hash: head?.hash ?? GENESIS_HASH,
  }
  await auditRepo.insert(trx, { ...row, hash: hashEntry(row) })
}

/** The chain head as printed on official documents and the public report page (SPEC §5): paper and the public become witnesses. */
export interface ChainHead {
  /** The newest entry's sequence number (0 on an empty log). */
  seq: number
  hash: string
  /** The first 16 hex digits in groups of four, for people to read and type back. */
  short: string
}

export function shortHash(hash: string): string {
  return (hash.slice(0, 16).match(/.{1,4}/g) ?? []).join(' ')
}

export async function chainHead(db: Db): Promise<ChainHead> {
  const head = await auditRepo.head(db)
  const hash = head?.hash ?? GENESIS_HASH
  return { seq: head?.id ?? 0, hash, short: shortHash(hash) }
}

export type BreakReason = 'hash_mismatch' | 'prev_mismatch' | 'unparseable' | 'sequence_gap'

export interface VerifyResult {
  ok: boolean
  entries: number
  brokenAt?: number
  reason?: BreakReason
  /** The last entry that verified (seq 0 and the genesis hash on an empty log). */
  head: { seq: number; hash: string }
  /** The first entry whose hash differs from the one anchored outside the database for it. */
  anchorMismatch?: number
}

function checkRow(row: AuditRow, prevHash: string, prevId: number): BreakReason | undefined {
  if (typeof row.data !== 'string' || typeof row.hash !== 'string' || typeof row.at !== 'string') return 'unparseable'
  try {
    JSON.parse(row.data)
  } catch {
    return 'unparseable'
  }
  if (row.id !== prevId + 1) return 'sequence_gap'
  if (row.prev_hash !== prevHash) return 'prev_mismatch'
  if (hashEntry(row) !== row.hash) return 'hash_mismatch'
  return undefined
}

/**
 * Walks the chain in chunks, yielding to the event loop between them so that a long log does
 * not stall other requests. Reports the first broken entry; a row that no longer parses is a
 * break, not an error. With `anchored` (seq → hash, from the anchor log) it also notes the first
 * entry whose hash is not the one anchored for it: a chain re-hashed after an edit.
 */
export async function verifyChain(db: Db, chunkSize = 2000, anchored?: ReadonlyMap<number, string>): Promise<VerifyResult> {
  let prevHash = GENESIS_HASH
  let prevId = 0
  let entries = 0
  let anchorMismatch: number | undefined
  const result = (extra: Partial<VerifyResult> = {}): VerifyResult => ({
    ok: true,
    entries,
    head: { seq: prevId, hash: prevHash },
    ...(anchorMismatch !== undefined ? { anchorMismatch } : {}),
    ...extra,
  })
  for (;;) {
    const rows = await auditRepo.chunkAfter(db, prevId, chunkSize)
    for (const row of rows) {
      const reason = checkRow(row, prevHash, prevId)
      if (reason) return result({ ok: false, entries: entries + 1, brokenAt: row.id, reason })
      if (anchorMismatch === undefined && anchored?.has(row.id) && anchored.get(row.id) !== row.hash) anchorMismatch = row.id
      entries++
      prevHash = row.hash
      prevId = row.id
    }
    if (rows.length < chunkSize) return result()
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** What the verification finds beyond a broken link (SPEC §5). */
export type AuditProblem =
  | {
      code: 'report_hash_mismatch' | 'report_hash_not_audited'
      /** «2568/year»: the report's fiscal year and period. */
      report: string
      stored: string
      /** The hashes the report's audit entries recorded (none for `report_hash_not_audited`). */
      recorded: string[]
    }
  /** The database ends before the last entry anchored outside it: entries were cut off the end. */
  | { code: 'audit_truncated'; anchored: number; anchoredAt: string; head: number }
  /** An entry's hash is not the one anchored for it: the chain was rewritten and re-hashed from after `after`. */
  | { code: 'audit_rehashed'; seq: number; anchoredAt: string; after: number }
  /** Anchor lines whose MAC is wrong: forged, or written under another key. */
  | { code: 'anchor_forged'; lines: number[] }
  /** The anchor log should exist and does not, or cannot be read. */
  | { code: 'anchor_missing' | 'anchor_unreadable'; file: string; message?: string }
  /** This process could not write the anchor after a commit. */
  | { code: 'anchor_write_failed'; at: string; message: string }

/** What the /audit page says about the anchor kept outside the database. */
export interface AnchorSummary {
  file: string
  /** The first line of the current epoch: anchoring started or the last restore. */
  since?: { seq: number; at: string; kind: AnchorKind }
  last?: { seq: number; at: string }
  lines: number
  /** Lines torn by a crash or otherwise unreadable: they prove nothing either way. */
  damaged: number
  restores: Array<{ at: string; seq: number } & RestoreNote>
}

export interface AuditVerification extends VerifyResult {
  problems: AuditProblem[]
  /** Undefined when no anchor is kept (an in-memory database). */
  anchor?: AnchorSummary
}

/** The anchor log read for verification: its current epoch as seq → hash, the problems of the log itself, a summary. */
function readAnchor(anchor: AuditAnchor): { anchored: Map<number, AnchorLine>; problems: AuditProblem[]; summary: AnchorSummary } {
  const summary: AnchorSummary = { file: anchor.file, lines: 0, damaged: 0, restores: [] }
  const problems: AuditProblem[] = []
  const anchored = new Map<number, AnchorLine>()
  const state = anchorState(anchor)
  if (state.lastError) problems.push({ code: 'anchor_write_failed', ...state.lastError })
  let log
  try {
    log = anchor.read()
  } catch (e) {
    problems.push({ code: 'anchor_unreadable', file: anchor.file, message: e instanceof Error ? e.message : String(e) })
    return { anchored, problems, summary }
  }
  if (!log.exists) problems.push({ code: 'anchor_missing', file: anchor.file })
  if (log.forged.length) problems.push({ code: 'anchor_forged', lines: log.forged })
  summary.lines = log.records.length
  summary.damaged = log.damaged.length
  summary.restores = log.records.filter((r) => r.kind === 'restore' && r.restore).map((r) => ({ at: r.at, seq: r.seq, ...r.restore! }))
  const epoch = currentEpoch(log.records)
  for (const r of epoch) {
    // The first line written for an entry is its witness.
    if (!anchored.has(r.seq)) anchored.set(r.seq, r)
  }
  if (epoch[0]) summary.since = { seq: epoch[0].seq, at: epoch[0].at, kind: epoch[0].kind }
  const top = epoch.reduce<AnchorLine | undefined>((a, r) => (!a || r.seq > a.seq ? r : a), undefined)
  if (top) summary.last = { seq: top.seq, at: top.at }
  return { anchored, problems, summary }
}

/**
 * The chain (as verifyChain), checked against the anchor kept outside the database, and every frozen
 * report checked against the chain: its snapshot must still hash to the stored hash, and that hash must
 * be the one its audit entries recorded at submission, review and approval. Found here (issue 13): a
 * published report rewritten in the database together with its hash; entries cut off the end; the chain
 * rewritten and re-hashed. `ok` is false on any problem.
 */
export async function verifyAudit(db: Db, anchor?: AuditAnchor): Promise<AuditVerification> {
  const fromAnchor = anchor ? readAnchor(anchor) : undefined
  const anchoredHashes = fromAnchor ? new Map([...fromAnchor.anchored].map(([seq, r]) => [seq, r.hash])) : undefined
  const chain = await verifyChain(db, undefined, anchoredHashes)
  const problems: AuditProblem[] = [...(fromAnchor?.problems ?? [])]
  if (fromAnchor) {
    const last = fromAnchor.summary.last
    // A broken chain ends the walk early: truncation is judged on the table's real head then.
    const headSeq = chain.brokenAt === undefined ? chain.head.seq : ((await auditRepo.head(db))?.id ?? 0)
    if (last && last.seq > headSeq) problems.push({ code: 'audit_truncated', anchored: last.seq, anchoredAt: last.at, head: headSeq })
    if (chain.anchorMismatch !== undefined) {
      const seq = chain.anchorMismatch
      const after = Math.max(0, ...[...fromAnchor.anchored.keys()].filter((s) => s < seq))
      problems.push({ code: 'audit_rehashed', seq, anchoredAt: fromAnchor.anchored.get(seq)!.at, after })
    }
  }
  for (const p of await publications.frozenSnapshots(db)) {
    const report = `${p.fiscal_year}/${p.period}`
    const entries = await auditRepo.list(db, { entity: 'report_publication', entityId: String(p.id), limit: 200, offset: 0 })
    const recorded = [
      ...new Set(
        entries.rows.flatMap((r) => {
          try {
            const sha = (JSON.parse(r.data) as { sha256?: unknown }).sha256
            return typeof sha === 'string' ? [sha] : []
          } catch {
            return []
          }
        }),
      ),
    ]
    const contentHash = createHash('sha256').update(p.snapshot, 'utf8').digest('hex')
    if (recorded.length === 0) problems.push({ code: 'report_hash_not_audited', report, stored: p.snapshot_hash, recorded })
    else if (contentHash !== p.snapshot_hash || recorded.some((h) => h !== p.snapshot_hash))
      problems.push({ code: 'report_hash_mismatch', report, stored: p.snapshot_hash, recorded })
  }
  return { ...chain, ok: chain.ok && problems.length === 0, problems, ...(fromAnchor ? { anchor: fromAnchor.summary } : {}) }
}

/** A chain head read off a printed document or the public page, checked against the log (/audit). */
export type WitnessCheck = { result: 'match' | 'mismatch' | 'missing'; seq: number; short: string; storedShort?: string }

/** `hash` is what a person typed: the 16 printed hex digits, spaces allowed (at least 8). Undefined when it is not that. */
export async function checkWitness(db: Db, seq: number, hash: string): Promise<WitnessCheck | undefined> {
  const typed = hash.replace(/\s+/g, '').toLowerCase()
  if (!Number.isSafeInteger(seq) || seq < 0 || !/^[0-9a-f]{8,64}$/.test(typed)) return undefined
  const short = shortHash(typed)
  const stored = seq === 0 ? GENESIS_HASH : (await auditRepo.byId(db, seq))?.hash
  if (stored === undefined) return { result: 'missing', seq, short }
  return { result: stored.startsWith(typed) ? 'match' : 'mismatch', seq, short, storedShort: shortHash(stored) }
}

export interface AuditEntryView {
  id: number
  at: string
  /** The signed-in actor's user id; null for the system, the CLI and migrations. */
  actorId: number | null
  actorLabel: string
  action: string
  entity: string
  entityId: string | null
  data: unknown
}

export async function listEntries(
  db: Db,
  filter: { entity?: string; entityId?: string; action?: string; page: number; pageSize: number },
): Promise<{ items: AuditEntryView[]; total: number }> {
  const { rows, total } = await auditRepo.list(db, {
    entity: filter.entity,
    entityId: filter.entityId,
    action: filter.action,
    limit: filter.pageSize,
    offset: (filter.page - 1) * filter.pageSize,
  })
  return {
    total,
    items: rows.map((r) => {
      let data: unknown
      try {
        data = JSON.parse(r.data)
      } catch {
        data = r.data
      }
      return { id: r.id, at: r.at, actorId: r.actor_id, actorLabel: r.actor_label, action: r.action, entity: r.entity, entityId: r.entity_id, data }
    }),
  }
}
