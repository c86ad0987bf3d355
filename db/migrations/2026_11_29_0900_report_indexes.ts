import type { Kysely } from 'kysely'

// Frozen once landed: never import the app's types here, never edit after release.

// Indexes for the statistics report (SPEC §6): overdue cases by due date, what was still out at a
// date (returns after it), follow-ups and settlements by their own dates.
const INDEXES: Array<[name: string, table: string, columns: string[]]> = [
  ['loan_due_on_idx', 'loan', ['due_on']],
  ['loan_returned_on_idx', 'loan', ['returned_on']],
  ['loan_item_returned_on_idx', 'loan_item', ['returned_on']],
  ['follow_up_on_date_idx', 'follow_up', ['on_date']],
  ['compensation_settled_on_idx', 'compensation', ['settled_on']],
]

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table, columns] of INDEXES) await db.schema.createIndex(name).on(table).columns(columns).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of INDEXES) await db.schema.dropIndex(name).execute()
}
