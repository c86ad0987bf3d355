import { sql, type Kysely } from 'kysely'

// Frozen once landed: never import the app's types here, never edit after release.

// Secrets out of the database (issue 13): the session-signing key used to be generated into the
// settings table (`secret.session`), so every backup carried it. It now lives in a key file beside
// the data (or SESSION_SECRET). The stored copies go; so do the session rows, which were keyed by the
// raw session id (they are now keyed by its SHA-256): everyone signs in once more.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DELETE FROM setting WHERE key LIKE 'secret.%'`.execute(db)
  await sql`DELETE FROM session`.execute(db)
}

export async function down(_db: Kysely<any>): Promise<void> {
  // Nothing to bring back: a new key is made when the server starts.
}
