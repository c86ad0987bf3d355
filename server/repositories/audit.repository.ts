import type { Kysely } from 'kysely'
import type { AuditRow, Database, NewAuditRow } from '../../db/schema.js'

type Db = Kysely<Database>

/** The chain head; read inside the writing transaction, never cached. */
export async function head(db: Db): Promise<Pick<AuditRow, 'id' | 'hash'> | undefined> {
  return db.selectFrom('audit_log').select(['id', 'hash']).orderBy('id', 'desc').limit(1).executeTakeFirst()
}

export async function byId(db: Db, id: number): Promise<AuditRow | undefined> {
  return db.selectFrom('audit_log').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function insert(db: Db, row: NewAuditRow & { id: number }): Promise<void> {
  await db.insertInto('audit_log').values(row).execute()
}

/** A chunk of the chain after `afterId`, in order, for verification. */
export async function chunkAfter(db: Db, afterId: number, limit: number): Promise<AuditRow[]> {
  return db.selectFrom('audit_log').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute()
}

export interface AuditListFilter {
  entity?: string
  entityId?: string
  action?: string
  actorId?: number
  limit: number
  offset: number
}

export async function list(db: Db, f: AuditListFilter): Promise<{ rows: AuditRow[]; total: number }> {
  let q = db.selectFrom('audit_log')
  if (f.entity) q = q.where('entity', '=', f.entity)
  if (f.entityId) q = q.where('entity_id', '=', f.entityId)
  if (f.action) q = q.where('action', '=', f.action)
  if (f.actorId !== undefined) q = q.where('actor_id', '=', f.actorId)
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const rows = await q.selectAll().orderBy('id', 'desc').limit(f.limit).offset(f.offset).execute()
  return { rows, total: Number(total.n) }
}
