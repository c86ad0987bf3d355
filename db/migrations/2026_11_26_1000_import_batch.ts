import type { Kysely } from 'kysely'

// Frozen once landed: never import the app's types here, never edit after release.

// A register file checked and previewed but not yet imported: kept server-side so that the
// confirm step imports exactly what the person saw, without a second upload. One row per line of
// the file (its values, reasons and the checked input as JSON), so a large preview pages in SQL.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('import_batch')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('meta', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('total_rows', 'integer', (c) => c.notNull())
    .addColumn('good_rows', 'integer', (c) => c.notNull())
    .addColumn('bad_rows', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('imported_at', 'text')
    .addColumn('imported_count', 'integer')
    .execute()
  await db.schema.createIndex('import_batch_expires_idx').on('import_batch').column('expires_at').execute()
  await db.schema.createIndex('import_batch_user_idx').on('import_batch').columns(['user_id', 'created_at']).execute()

  await db.schema
    .createTable('import_batch_row')
    .addColumn('batch_id', 'text', (c) => c.notNull().references('import_batch.id').onDelete('cascade'))
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_batch_row_pk', ['batch_id', 'line'])
    .execute()
  await db.schema.createIndex('import_batch_row_ok_idx').on('import_batch_row').columns(['batch_id', 'ok', 'line']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('import_batch_row').execute()
  await db.schema.dropTable('import_batch').execute()
}
