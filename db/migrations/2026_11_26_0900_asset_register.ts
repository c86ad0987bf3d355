import type { Kysely } from 'kysely'

// Frozen once landed: never import the app's types here, never edit after release.

// The ครุภัณฑ์ categories (thai-rules.md) with a stable code, a useful life in years and whether
// items are loanable by default (official cars and weapons follow their own rules).
const categories: Array<[string, string, number, number]> = [
  ['office', 'ครุภัณฑ์สำนักงาน', 10, 1],
  ['education', 'ครุภัณฑ์การศึกษา', 10, 1],
  ['vehicle', 'ครุภัณฑ์ยานพาหนะและขนส่ง', 8, 0],
  ['agriculture', 'ครุภัณฑ์การเกษตร', 10, 1],
  ['construction', 'ครุภัณฑ์ก่อสร้าง', 10, 1],
  ['electrical', 'ครุภัณฑ์ไฟฟ้าและวิทยุ', 10, 1],
  ['advertising', 'ครุภัณฑ์โฆษณาและเผยแพร่', 10, 1],
  ['science', 'ครุภัณฑ์วิทยาศาสตร์หรือการแพทย์', 10, 1],
  ['household', 'ครุภัณฑ์งานบ้านงานครัว', 10, 1],
  ['factory', 'ครุภัณฑ์โรงงาน', 10, 1],
  ['sports', 'ครุภัณฑ์กีฬา', 10, 1],
  ['survey', 'ครุภัณฑ์สำรวจ', 10, 1],
  ['music', 'ครุภัณฑ์ดนตรีและนาฏศิลป์', 10, 1],
  ['computer', 'ครุภัณฑ์คอมพิวเตอร์', 5, 1],
  ['weapon', 'ครุภัณฑ์อาวุธ', 10, 0],
  ['field', 'ครุภัณฑ์สนาม', 10, 1],
  ['other', 'ครุภัณฑ์อื่น', 10, 1],
]

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('category')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('useful_life_years', 'integer', (c) => c.notNull())
    .addColumn('loanable_default', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema
    .createTable('asset')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('category_id', 'integer', (c) => c.notNull().references('category.id'))
    .addColumn('brand_model', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('serial_number', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('department_id', 'integer', (c) => c.references('department.id'))
    .addColumn('location', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('acquired_on', 'text')
    .addColumn('price_satang', 'integer')
    .addColumn('useful_life_years', 'integer')
    .addColumn('funding_source', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('available'))
    .addColumn('loanable', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('max_loan_days', 'integer')
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('asset_status_idx').on('asset').columns(['status', 'id']).execute()
  await db.schema.createIndex('asset_category_idx').on('asset').columns(['category_id', 'id']).execute()
  await db.schema.createIndex('asset_department_idx').on('asset').columns(['department_id', 'id']).execute()
  await db.schema.createIndex('asset_name_idx').on('asset').column('name').execute()

  const now = new Date().toISOString()
  await db
    .insertInto('category')
    .values(
      categories.map(([code, name, life, loanable], i) => ({
        code,
        name,
        useful_life_years: life,
        loanable_default: loanable,
        sort_order: (i + 1) * 10,
        created_at: now,
      })),
    )
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('asset').execute()
  await db.schema.dropTable('category').execute()
}
