import { type Kysely, type MigrationResultSet, Migrator } from 'kysely'
import { migrations } from './migrations/index.js'
import type { Database } from './schema.js'

export function createMigrator(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } })
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
  return check(await createMigrator(db).migrateToLatest())
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
