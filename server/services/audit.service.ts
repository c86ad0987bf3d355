import { createHash } from 'node:crypto'
import type { AuditRow } from '../../db/schema.js'
import type { Db } from '../../db/connection.js'
import * as auditRepo from '../repositories/audit.repository.js'
import * as publications from '../repositories/publication.repository.js'
import type { Clock } from '../clock.js'

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

export type BreakReason = 'hash_mismatch' | 'prev_mismatch' | 'unparseable' | 'sequence_gap'

export interface VerifyResult {
  ok: boolean
  entries: number
  brokenAt?: number
  reason?: BreakReason
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
 * break, not an error.
 */
export async function verifyChain(db: Db, chunkSize = 2000): Promise<VerifyResult> {
  let prevHash = GENESIS_HASH
  let prevId = 0
  let entries = 0
  for (;;) {
    const rows = await auditRepo.chunkAfter(db, prevId, chunkSize)
    for (const row of rows) {
      const reason = checkRow(row, prevHash, prevId)
      if (reason) return { ok: false, entries: entries + 1, brokenAt: row.id, reason }
      entries++
      prevHash = row.hash
      prevId = row.id
    }
    if (rows.length < chunkSize) return { ok: true, entries }
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** What the verification finds outside the chain itself (SPEC §5). */
export interface AuditProblem {
  code: 'report_hash_mismatch' | 'report_hash_not_audited'
  /** «2568/year»: the report's fiscal year and period. */
  report: string
  stored: string
  /** The hashes the report's audit entries recorded (none for `report_hash_not_audited`). */
  recorded: string[]
}

export interface AuditVerification extends VerifyResult {
  problems: AuditProblem[]
}

/**
 * The chain (as verifyChain), and every frozen report checked against it: its snapshot must still hash
 * to the stored hash, and that hash must be the one its audit entries recorded at submission, review
 * and approval. A published report rewritten in the database together with its hash — the triggers
 * dropped and re-created — is found here (issue 13). `ok` is false on any problem.
 */
export async function verifyAudit(db: Db): Promise<AuditVerification> {
  const chain = await verifyChain(db)
  const problems: AuditProblem[] = []
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
    else if (contentHash !== p.snapshot_hash || recorded.some((h) => h !== p.snapshot_hash)) problems.push({ code: 'report_hash_mismatch', report, stored: p.snapshot_hash, recorded })
  }
  return { ...chain, ok: chain.ok && problems.length === 0, problems }
}

export interface AuditEntryView {
  id: number
  at: string
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
      return { id: r.id, at: r.at, actorLabel: r.actor_label, action: r.action, entity: r.entity, entityId: r.entity_id, data }
    }),
  }
}
