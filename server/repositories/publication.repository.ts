import type { Kysely } from 'kysely'
import type { Database, PublicationStatus, ReportPublicationRow, ReportPublicationUpdate } from '../../db/schema.js'

type Db = Kysely<Database>

/** A publication row with the names of the people on its path (for the pages and the memo). */
export interface PublicationWithNames extends ReportPublicationRow {
  submitted_by_name: string | null
  submitted_by_position: string | null
  reviewed_by_name: string | null
  approved_by_name: string | null
  approved_by_position: string | null
  returned_by_name: string | null
}

function withNames(db: Db) {
  return db
    .selectFrom('report_publication as p')
    .leftJoin('app_user as s', 's.id', 'p.submitted_by')
    .leftJoin('app_user as r', 'r.id', 'p.reviewed_by')
    .leftJoin('app_user as a', 'a.id', 'p.approved_by')
    .leftJoin('app_user as b', 'b.id', 'p.returned_by')
    .selectAll('p')
    .select([
      's.name as submitted_by_name',
      's.position as submitted_by_position',
      'r.name as reviewed_by_name',
      'a.name as approved_by_name',
      'a.position as approved_by_position',
      'b.name as returned_by_name',
    ])
}

export async function find(db: Db, fiscalYear: number, period: string): Promise<PublicationWithNames | undefined> {
  return withNames(db).where('p.fiscal_year', '=', fiscalYear).where('p.period', '=', period).executeTakeFirst()
}

/** Every publication without its snapshot text (`snapshot` is null here; `find` reads it): lists show status and path only. */
export async function list(db: Db, filter: { status?: PublicationStatus } = {}): Promise<PublicationWithNames[]> {
  let q = withNames(db)
  if (filter.status) q = q.where('p.status', '=', filter.status)
  const rows = await q.orderBy('p.fiscal_year', 'desc').orderBy('p.from_on', 'desc').orderBy('p.to_on', 'desc').orderBy('p.id', 'desc').execute()
  return rows.map((r) => ({ ...r, snapshot: null }))
}

/** The frozen snapshot text of a published period, if there is one. */
export async function publishedSnapshot(db: Db, fiscalYear: number, period: string): Promise<{ snapshot: string; snapshot_hash: string } | undefined> {
  const row = await db
    .selectFrom('report_publication')
    .select(['snapshot', 'snapshot_hash'])
    .where('fiscal_year', '=', fiscalYear)
    .where('period', '=', period)
    .where('status', '=', 'published')
    .executeTakeFirst()
  return row && row.snapshot !== null && row.snapshot_hash !== null ? { snapshot: row.snapshot, snapshot_hash: row.snapshot_hash } : undefined
}

export async function insertDraft(db: Db, row: { fiscal_year: number; period: string; from_on: string; to_on: string; at: string }): Promise<number> {
  const r = await db
    .insertInto('report_publication')
    .values({
      fiscal_year: row.fiscal_year,
      period: row.period,
      from_on: row.from_on,
      to_on: row.to_on,
      status: 'draft',
      created_at: row.at,
      updated_at: row.at,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return r.id
}

/** Updates the row only while it is in one of `from` (so two racing steps cannot both pass). */
export async function updateIfStatus(db: Db, id: number, from: PublicationStatus[], changes: ReportPublicationUpdate): Promise<boolean> {
  const r = await db.updateTable('report_publication').set(changes).where('id', '=', id).where('status', 'in', from).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Every frozen snapshot with its stored hash (submitted, reviewed, returned after submission, published), for the audit's verification. */
export async function frozenSnapshots(
  db: Db,
): Promise<Array<{ id: number; fiscal_year: number; period: string; status: PublicationStatus; snapshot: string; snapshot_hash: string }>> {
  const rows = await db
    .selectFrom('report_publication')
    .select(['id', 'fiscal_year', 'period', 'status', 'snapshot', 'snapshot_hash'])
    .where('snapshot_hash', 'is not', null)
    .orderBy('id')
    .execute()
  return rows.map((r) => ({ ...r, snapshot: r.snapshot ?? '', snapshot_hash: r.snapshot_hash ?? '' }))
}
