import { type Kysely, sql } from 'kysely'

// Frozen once landed: never import the app's types here, never edit after release.

export async function up(db: Kysely<any>): Promise<void> {
  // Counted items (วัสดุ, ครุภัณฑ์ต่ำกว่าเกณฑ์): one code and QR label for the pool. The CHECK keeps the
  // database itself from lending more than exists: what is out plus what is in repair fits in what is owned.
  await db.schema
    .createTable('stock_item')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('unit', 'text', (c) => c.notNull())
    .addColumn('category_id', 'integer', (c) => c.references('category.id'))
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('in_repair', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('out_qty', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('loanable', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('location', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addCheckConstraint('stock_item_counts', sql`quantity >= 0 AND in_repair >= 0 AND out_qty >= 0 AND in_repair + out_qty <= quantity`)
    .execute()

  await db.schema
    .createTable('stock_movement')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('stock_id', 'integer', (c) => c.notNull().references('stock_item.id'))
    .addColumn('kind', 'text', (c) => c.notNull()) // stock_in | write_off | to_repair | from_repair | lost_on_loan | damaged_on_loan
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('loan_id', 'integer', (c) => c.references('loan.id'))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('by_user_id', 'integer', (c) => c.references('app_user.id'))
    .execute()
  await db.schema.createIndex('stock_movement_stock_idx').on('stock_movement').columns(['stock_id', 'id']).execute()

  await db.schema
    .createTable('loan_stock_line')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('loan_id', 'integer', (c) => c.notNull().references('loan.id'))
    .addColumn('stock_id', 'integer', (c) => c.notNull().references('stock_item.id'))
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('handed_over_qty', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('handed_over_at', 'text')
    .addColumn('returned_good', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('returned_damaged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('returned_lost', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_returned_at', 'text')
    .addColumn('last_returned_on', 'text')
    .addColumn('received_by', 'integer', (c) => c.references('app_user.id'))
    .addColumn('returned_by_name', 'text')
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addCheckConstraint(
      'loan_stock_line_counts',
      sql`quantity > 0 AND handed_over_qty >= 0 AND handed_over_qty <= quantity AND returned_good + returned_damaged + returned_lost <= handed_over_qty`,
    )
    .execute()
  await db.schema.createIndex('loan_stock_line_loan_idx').on('loan_stock_line').columns(['loan_id', 'stock_id']).unique().execute()
  await db.schema.createIndex('loan_stock_line_stock_idx').on('loan_stock_line').columns(['stock_id', 'loan_id']).execute()

  await db.schema
    .createTable('kit')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('kit_part')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('kit_id', 'integer', (c) => c.notNull().references('kit.id').onDelete('cascade'))
    .addColumn('asset_id', 'integer', (c) => c.references('asset.id'))
    .addColumn('stock_id', 'integer', (c) => c.references('stock_item.id'))
    .addColumn('quantity', 'integer', (c) => c.notNull().defaultTo(1))
    .addCheckConstraint('kit_part_one_thing', sql`(asset_id IS NULL) <> (stock_id IS NULL) AND quantity > 0`)
    .execute()
  await db.schema.createIndex('kit_part_kit_idx').on('kit_part').column('kit_id').execute()

  await db.schema
    .createTable('loan_attachment')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('loan_id', 'integer', (c) => c.notNull().references('loan.id'))
    .addColumn('kind', 'text', (c) => c.notNull()) // signed_slip | paper_approval | return_photo | other
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('mime', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('stored_name', 'text', (c) => c.notNull().unique())
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('uploaded_by', 'integer', (c) => c.notNull().references('app_user.id'))
    .addColumn('uploaded_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('loan_attachment_loan_idx').on('loan_attachment').column('loan_id').execute()

  await db.schema
    .alterTable('compensation')
    .addColumn('loan_stock_line_id', 'integer', (c) => c.references('loan_stock_line.id'))
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('compensation').dropColumn('loan_stock_line_id').execute()
  for (const t of ['loan_attachment', 'kit_part', 'kit', 'loan_stock_line', 'stock_movement', 'stock_item']) {
    await db.schema.dropTable(t).execute()
  }
}
