import { sql, type Kysely } from 'kysely'

// Frozen once landed: never import the app's types here, never edit after release.

// One loan policy (issue 12, SPEC §1).
//
// loan_approval gains what a paper approval needs to be trusted: the named approver confirms or
// disputes it (confirmed_at / disputed_at with the reason); finance may void a disputed or
// unconfirmed one (voided_at, voided_by, void_reason) and record it again; the scan of the signed
// slip is its evidence (a loan attachment); approver_source says from which list the approver was
// chosen (a signatory's key, or "executive" for a user holding that role).
//
// The agency setting "the approver of an in-premises loan does not hand it over" becomes the
// two-person rule (twoPersonRule), keeping its stored value.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('loan_approval')
    .addColumn('approver_source', 'text', (c) => c.notNull().defaultTo(''))
    .execute()
  await db.schema.alterTable('loan_approval').addColumn('confirmed_at', 'text').execute()
  await db.schema.alterTable('loan_approval').addColumn('disputed_at', 'text').execute()
  await db.schema
    .alterTable('loan_approval')
    .addColumn('dispute_reason', 'text', (c) => c.notNull().defaultTo(''))
    .execute()
  await db.schema.alterTable('loan_approval').addColumn('voided_at', 'text').execute()
  await db.schema
    .alterTable('loan_approval')
    .addColumn('voided_by', 'integer', (c) => c.references('app_user.id'))
    .execute()
  await db.schema
    .alterTable('loan_approval')
    .addColumn('void_reason', 'text', (c) => c.notNull().defaultTo(''))
    .execute()
  await db.schema
    .alterTable('loan_approval')
    .addColumn('evidence_id', 'integer', (c) => c.references('loan_attachment.id'))
    .execute()
  // The approver's queue: paper approvals in a user's name still waiting for them.
  await db.schema.createIndex('loan_approval_by_user_idx').on('loan_approval').columns(['by_user_id', 'on_paper']).execute()
  // Disputed paper approvals still standing: few, and looked for on every finance dashboard.
  await sql`CREATE INDEX loan_approval_disputed_idx ON loan_approval (loan_id) WHERE disputed_at IS NOT NULL AND voided_at IS NULL`.execute(db)
  await sql`UPDATE setting SET key = 'twoPersonRule' WHERE key = 'separateApproverAndHandover'`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`UPDATE setting SET key = 'separateApproverAndHandover' WHERE key = 'twoPersonRule'`.execute(db)
  await db.schema.dropIndex('loan_approval_disputed_idx').execute()
  await db.schema.dropIndex('loan_approval_by_user_idx').execute()
  for (const c of ['evidence_id', 'void_reason', 'voided_by', 'voided_at', 'dispute_reason', 'disputed_at', 'confirmed_at', 'approver_source']) {
    await db.schema.alterTable('loan_approval').dropColumn(c).execute()
  }
}
