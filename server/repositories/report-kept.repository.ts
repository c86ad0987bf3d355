import type { Kysely } from 'kysely'
import type { Database } from '../../db/schema.js'

type Db = Kysely<Database>

/*
 * Kept statistics (db/migrations/2026_12_01_0900_report_kept.ts): figures of an ended period under a
 * key, served while the change counter of their fiscal year still has the value it had before they
 * were computed. Triggers bump the counter on every write the figures could depend on.
 */

/** The kept figures (JSON text) under `key`, if their fiscal year has not changed since. */
export async function read(db: Db, key: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('report_kept as k')
    .innerJoin('report_epoch as e', (j) => j.onRef('e.fiscal_year', '=', 'k.fiscal_year').onRef('e.n', '=', 'k.epoch'))
    .select('k.figures')
    .where('k.key', '=', key)
    .executeTakeFirst()
  return row?.figures
}

/**
 * The change counter of a fiscal year, starting it at 0 when the year has none yet: read it before
 * computing, keep the figures under it after, and a change in between leaves them unserved.
 */
export async function epoch(db: Db, fiscalYear: number): Promise<number> {
  await db
    .insertInto('report_epoch')
    .values({ fiscal_year: fiscalYear, n: 0 })
    .onConflict((oc) => oc.column('fiscal_year').doNothing())
    .execute()
  const row = await db.selectFrom('report_epoch').select('n').where('fiscal_year', '=', fiscalYear).executeTakeFirstOrThrow()
  return row.n
}

/** Keeps `figures` under `key`; an older computation finishing late never replaces a newer one. */
export async function keep(db: Db, row: { key: string; fiscalYear: number; epoch: number; figures: string; at: string }): Promise<void> {
  await db
    .insertInto('report_kept')
    .values({ key: row.key, fiscal_year: row.fiscalYear, epoch: row.epoch, figures: row.figures, computed_at: row.at })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet((eb) => ({
          fiscal_year: eb.ref('excluded.fiscal_year'),
          epoch: eb.ref('excluded.epoch'),
          figures: eb.ref('excluded.figures'),
          computed_at: eb.ref('excluded.computed_at'),
        }))
        .where('report_kept.epoch', '<=', row.epoch),
    )
    .execute()
}
