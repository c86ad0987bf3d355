import type { Kysely } from 'kysely'
import type { Database, ImportBatchLineRow, ImportBatchRow, NewImportBatch } from '../../db/schema.js'

type Db = Kysely<Database>

export async function insertBatch(db: Db, batch: NewImportBatch): Promise<void> {
  await db.insertInto('import_batch').values(batch).execute()
}

/** Lines in multi-row statements: 4 parameters a line keeps each statement far below SQLite's limit. */
export async function insertLines(db: Db, batchId: string, lines: Array<{ line: number; ok: boolean; data: string }>): Promise<void> {
  for (let i = 0; i < lines.length; i += 200) {
    await db
      .insertInto('import_batch_row')
      .values(lines.slice(i, i + 200).map((l) => ({ batch_id: batchId, line: l.line, ok: l.ok ? 1 : 0, data: l.data })))
      .execute()
  }
}

export async function findBatch(db: Db, id: string): Promise<ImportBatchRow | undefined> {
  return db.selectFrom('import_batch').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function listLines(db: Db, batchId: string, f: { onlyBad?: boolean; limit: number; offset: number }): Promise<ImportBatchLineRow[]> {
  let q = db.selectFrom('import_batch_row').selectAll().where('batch_id', '=', batchId)
  if (f.onlyBad) q = q.where('ok', '=', 0)
  return q.orderBy('line').limit(f.limit).offset(f.offset).execute()
}

/** Good lines after `afterLine`, in file order, a chunk at a time (confirm). */
export async function goodLinesAfter(db: Db, batchId: string, afterLine: number, limit: number): Promise<ImportBatchLineRow[]> {
  return db
    .selectFrom('import_batch_row')
    .selectAll()
    .where('batch_id', '=', batchId)
    .where('ok', '=', 1)
    .where('line', '>', afterLine)
    .orderBy('line')
    .limit(limit)
    .execute()
}

/** Marks the batch imported unless it already was; false when another confirm got there first. */
export async function markImported(db: Db, id: string, at: string, count: number): Promise<boolean> {
  const r = await db
    .updateTable('import_batch')
    .set({ imported_at: at, imported_count: count })
    .where('id', '=', id)
    .where('imported_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function deleteLines(db: Db, batchId: string): Promise<void> {
  await db.deleteFrom('import_batch_row').where('batch_id', '=', batchId).execute()
}

/** Drops batches past their expiry (their lines go with them, ON DELETE CASCADE). */
export async function deleteExpired(db: Db, now: string): Promise<number> {
  const r = await db.deleteFrom('import_batch').where('expires_at', '<', now).executeTakeFirst()
  return Number(r.numDeletedRows)
}
