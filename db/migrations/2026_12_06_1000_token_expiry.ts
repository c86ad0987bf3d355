import { sql, type Kysely } from 'kysely'

// Frozen once landed: never import the app's types here, never edit after release.

// API tokens die with their owner's credentials (issue 13, SPEC §5).
//
// api_token gains expires_at (ISO-8601 UTC; null: no expiry), chosen when the token is made.
//
// From now on a password change, a reset and a deactivation revoke the owner's tokens in the same
// transaction. Tokens that already outlived one of those before this release are revoked here, as
// of the moment they should have died: the owner's last password change for a token made before it,
// and the account's last update for a token of an inactive account (so that a reactivation does not
// bring it back). Both times are the account's own columns, so no clock of this process is needed.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_token').addColumn('expires_at', 'text').execute()
  await sql`
    UPDATE api_token SET revoked_at = (SELECT u.password_changed_at FROM app_user u WHERE u.id = api_token.user_id)
    WHERE revoked_at IS NULL
      AND created_at < (SELECT u.password_changed_at FROM app_user u WHERE u.id = api_token.user_id)
  `.execute(db)
  await sql`
    UPDATE api_token SET revoked_at = (SELECT u.updated_at FROM app_user u WHERE u.id = api_token.user_id)
    WHERE revoked_at IS NULL
      AND user_id IN (SELECT u.id FROM app_user u WHERE u.active = 0)
  `.execute(db)
}

// The revocations stay: a token that should have died is not brought back by a downgrade.
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_token').dropColumn('expires_at').execute()
}
