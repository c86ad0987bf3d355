import { sql, type Kysely } from 'kysely'
import { bangkokDaySql, isPostgres } from '../dialect.js'

// Frozen once landed: never import the app's types here, never edit after release.

// Publication of statistics reports (SPEC §6) and the status history of assets (for the items lost or
// in repair at 30 September, ข้อ 213).
//
// report_publication: one row per fiscal-year period (year, h1, q1..q4). draft → submitted → reviewed →
// published, or back to returned. The snapshot (figures + narrative as JSON text) is frozen at
// submission; its sha256 enters the audit chain at submission and again at approval. A published
// row can neither be changed nor deleted: triggers refuse it, whatever code runs.
//
// asset_status_event: every change of an asset's status from now on (written where the status is
// set). Existing assets get one event with their current status on the day they were registered:
// the history before this migration is not known.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('report_publication')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('fiscal_year', 'integer', (c) => c.notNull())
    .addColumn('period', 'text', (c) => c.notNull()) // year | h1 | q1..q4
    .addColumn('from_on', 'text', (c) => c.notNull())
    .addColumn('to_on', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull()) // draft | submitted | reviewed | returned | published
    .addColumn('summary', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('problems', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('suggestions', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('memo_number', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('memo_date', 'text')
    .addColumn('submitted_by', 'integer', (c) => c.references('app_user.id'))
    .addColumn('submitted_at', 'text')
    .addColumn('submit_note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('reviewed_by', 'integer', (c) => c.references('app_user.id'))
    .addColumn('reviewed_at', 'text')
    .addColumn('review_note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('approved_by', 'integer', (c) => c.references('app_user.id'))
    .addColumn('approved_at', 'text')
    .addColumn('approval_note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('returned_by', 'integer', (c) => c.references('app_user.id'))
    .addColumn('returned_at', 'text')
    .addColumn('return_reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('snapshot', 'text') // JSON text exactly as hashed
    .addColumn('snapshot_hash', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('report_publication_period_uq', ['fiscal_year', 'period'])
    .execute()
  if (isPostgres(db)) {
    // PostgreSQL (issue 19): the same refusal in PL/pgSQL, under the same trigger names.
    await sql`CREATE FUNCTION report_publication_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION 'report_publication: a published report is frozen'; END $$`.execute(db)
    for (const [name, op] of [
      ['report_publication_frozen_update', 'UPDATE'],
      ['report_publication_frozen_delete', 'DELETE'],
    ]) {
      await sql
        .raw(`CREATE TRIGGER ${name} BEFORE ${op} ON report_publication FOR EACH ROW
              WHEN (OLD.status = 'published') EXECUTE FUNCTION report_publication_frozen()`)
        .execute(db)
    }
  } else {
    await sql`CREATE TRIGGER report_publication_frozen_update BEFORE UPDATE ON report_publication
              WHEN OLD.status = 'published'
              BEGIN SELECT RAISE(ABORT, 'report_publication: a published report is frozen'); END`.execute(db)
    await sql`CREATE TRIGGER report_publication_frozen_delete BEFORE DELETE ON report_publication
              WHEN OLD.status = 'published'
              BEGIN SELECT RAISE(ABORT, 'report_publication: a published report is frozen'); END`.execute(db)
  }

  await db.schema
    .createTable('asset_status_event')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('asset_id', 'integer', (c) => c.notNull().references('asset.id'))
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('on_date', 'text', (c) => c.notNull()) // Bangkok calendar day
    .addColumn('at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('asset_status_event_asset_idx').on('asset_status_event').columns(['asset_id', 'on_date', 'id']).execute()
  await db.schema.createIndex('asset_status_event_on_idx').on('asset_status_event').columns(['on_date']).execute()
  await sql`INSERT INTO asset_status_event (asset_id, from_status, to_status, on_date, at)
            SELECT id, NULL, status, ${bangkokDaySql(db, 'created_at')}, created_at FROM asset ORDER BY id`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('asset_status_event').execute()
  if (isPostgres(db)) {
    await db.schema.dropTable('report_publication').execute()
    await sql`DROP FUNCTION report_publication_frozen()`.execute(db)
    return
  }
  await sql`DROP TRIGGER report_publication_frozen_update`.execute(db)
  await sql`DROP TRIGGER report_publication_frozen_delete`.execute(db)
  await db.schema.dropTable('report_publication').execute()
}
