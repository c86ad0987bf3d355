import { sql, type Kysely } from 'kysely'

// Frozen once landed: never import the app's types here, never edit after release.

// Notifications (issue 18, SPEC §8): what waits for a person, in the app and by e-mail.
//
// app_user gains an optional e-mail address ('' = none) and a switch to turn e-mail off.
// notification: one row per person and event; dedupe_key (unique) makes the scheduler's daily
// reminders idempotent — once per loan and day. mail_outbox: the e-mail of a notification, written in
// the event's transaction and sent later by the sender loop (claimed_by/claimed_until is its lease).
// Both stay outside the audit chain.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('app_user')
    .addColumn('email', 'text', (c) => c.notNull().defaultTo(''))
    .execute()
  await db.schema
    .alterTable('app_user')
    .addColumn('email_enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .execute()

  await db.schema
    .createTable('notification')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('app_user.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('loan_id', 'integer', (c) => c.references('loan.id'))
    .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('link', 'text', (c) => c.notNull().defaultTo('/'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('read_at', 'text')
    .addColumn('dedupe_key', 'text', (c) => c.unique())
    .execute()
  await db.schema.createIndex('notification_user_idx').on('notification').columns(['user_id', 'id']).execute()
  // The header's count: the unread rows of one person only.
  await sql`CREATE INDEX notification_unread_idx ON notification (user_id) WHERE read_at IS NULL`.execute(db)

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('notification_id', 'integer', (c) => c.unique().references('notification.id'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_until', 'text')
    .addColumn('last_attempt_at', 'text')
    .addColumn('last_error', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('sent_at', 'text')
    .addColumn('failed_at', 'text')
    .execute()
  await sql`CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mail_outbox').execute()
  await db.schema.dropTable('notification').execute()
  await db.schema.alterTable('app_user').dropColumn('email_enabled').execute()
  await db.schema.alterTable('app_user').dropColumn('email').execute()
}
