import { type Kysely, type MigrationResultSet, Migrator, sql } from 'kysely'
import { pgSchemaOf } from './connection.js'
import { isPostgres, PortableDdlPlugin } from './dialect.js'
import { migrations } from './migrations/index.js'
import type { Database } from './schema.js'

export function createMigrator(db: Kysely<Database>): Migrator {
  // On PostgreSQL the migrations' SQLite DDL is said in PostgreSQL's words (bigint, identity).
  if (!isPostgres(db)) return new Migrator({ db, provider: { getMigrations: async () => migrations } })
  // Its bookkeeping tables in the handle's own schema: with many agencies, each schema has its own (issue 20).
  const schema = pgSchemaOf(db) ?? 'public'
  return new Migrator({ db: db.withPlugin(new PortableDdlPlugin()), migrationTableSchema: schema, provider: { getMigrations: async () => migrations } })
}

export class MigrationError extends Error {}

function check(result: MigrationResultSet): MigrationResultSet {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')
    throw new MigrationError(`Migration ${failed?.migrationName ?? '?'} failed: ${String(result.error)}`, {
      cause: result.error,
    })
  }
  return result
}

export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationResultSet> {
  const result = check(await createMigrator(db).migrateToLatest())
  if (isPostgres(db)) await ensureChangeCounter(db)
  return result
}

/**
 * PostgreSQL only: the change counter that tells a process another one has committed (SQLite's
 * `PRAGMA data_version`, db/connection.ts). Every table gets a statement trigger that bumps its
 * counter row in the writing transaction, so a reader sees the new count exactly when it sees the
 * new rows. Sessions count on their own row, so that a session touched outside any transaction
 * never waits for a long write transaction's row lock. Run after every migration: a table a later
 * migration adds is covered too. Idempotent.
 */
async function ensureChangeCounter(db: Kysely<Database>): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS change_counter (key text PRIMARY KEY, n bigint NOT NULL DEFAULT 0)`.execute(db)
  await sql`INSERT INTO change_counter (key, n) VALUES ('data', 0), ('session', 0) ON CONFLICT (key) DO NOTHING`.execute(db)
  await sql
    .raw(`CREATE OR REPLACE FUNCTION change_counter_bump() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN UPDATE change_counter SET n = n + 1 WHERE key = TG_ARGV[0]; RETURN NULL; END $$`)
    .execute(db)
  const tables = await sql<{ name: string; has: boolean }>`
    SELECT c.relname AS name, EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'change_counter_bump') AS has
    FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
      AND c.relname NOT IN ('change_counter', 'kysely_migration', 'kysely_migration_lock')`.execute(db)
  for (const t of tables.rows) {
    if (t.has) continue
    const key = t.name === 'session' ? 'session' : 'data'
    await sql
      .raw(`CREATE TRIGGER change_counter_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "${t.name}"
            FOR EACH STATEMENT EXECUTE FUNCTION change_counter_bump('${key}')`)
      .execute(db)
  }
}

export async function migrateDownAll(db: Kysely<Database>): Promise<void> {
  const migrator = createMigrator(db)
  for (;;) {
    const result = check(await migrator.migrateDown())
    if (!result.results || result.results.length === 0) return
  }
}

/** Names of migrations that the database has not run yet. */
export async function pendingMigrations(db: Kysely<Database>): Promise<string[]> {
  const all = await createMigrator(db).getMigrations()
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name)
}
