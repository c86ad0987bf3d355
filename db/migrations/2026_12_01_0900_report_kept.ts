import { sql, type Kysely } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once landed: never import the app's types here, never edit after release.

// Kept statistics (SPEC §6, issue 7): the figures of a period that has ended are computed once and
// kept until something they are made of changes.
//
// report_epoch: one change counter per fiscal year (Buddhist era) that has kept figures. Triggers on
// every table the statistics read bump the counter of each fiscal year from the earliest date the
// changed row touches (old and new values) onwards: a figure of a period ending on day `to` reads
// only rows with some date on or before `to`, so any change that can move it bumps the fiscal year
// of `to`. Renaming or recoding a category, department, asset or counted item bumps every year.
// The triggers run inside whatever transaction writes the row, whatever code writes it (the app, the
// CLI, an import, a later migration).
//
// report_kept: the kept figures (JSON text) under a key that names the period and the rules, with
// the counter of its fiscal year when they were computed; they are served only while it is unchanged.

/** SQLite's words, or PostgreSQL's (issue 19): the triggers are the same rules in either. */
let pg = false

/** The Buddhist-era fiscal year (1 Oct – 30 Sep) of a 'YYYY-MM-DD' text expression. */
const fy = (d: string) =>
  pg
    ? `(CAST(substr(${d}, 1, 4) AS INTEGER) + 543 + CASE WHEN substr(${d}, 6, 2) >= '10' THEN 1 ELSE 0 END)`
    : `(CAST(substr(${d}, 1, 4) AS INTEGER) + 543 + (substr(${d}, 6, 2) >= '10'))`

/** The earliest of some date expressions; a NULL date is ignored, and all NULL gives '9999-12-31'. */
const earliest = (...ds: string[]) => `${pg ? 'LEAST' : 'min'}(${ds.map((d) => `COALESCE(${d}, '9999-12-31')`).join(', ')}, '9999-12-31')`

/** The Bangkok day of an ISO instant held as text. */
const bangkokDay = (x: string) => (pg ? `to_char(CAST(${x} AS timestamp) + interval '7 hours', 'YYYY-MM-DD')` : `date(${x}, '+7 hours')`)

/** The earliest date of loan `id` (request, hand-over, due, return); '0000-01-01' when it is gone. */
const loanEarliest = (id: string) =>
  `COALESCE((SELECT ${earliest('l.requested_on', 'l.handed_over_on', 'l.due_on', 'l.original_due_on', 'l.returned_on')} FROM loan l WHERE l.id = ${id}), '0000-01-01')`

const bump = (date: string) => `UPDATE report_epoch SET n = n + 1 WHERE fiscal_year >= ${fy(date)};`
const bumpAll = `UPDATE report_epoch SET n = n + 1;`

const loanDates = (r: 'OLD' | 'NEW') => [`${r}.requested_on`, `${r}.handed_over_on`, `${r}.due_on`, `${r}.original_due_on`, `${r}.returned_on`]

/** [table, the earliest date a NEW or OLD row touches] for the tables whose rows the figures count. */
const DATED: Array<[table: string, dates: (r: 'OLD' | 'NEW') => string[]]> = [
  ['loan', loanDates],
  ['loan_item', (r) => [loanEarliest(`${r}.loan_id`), `${r}.returned_on`]],
  ['loan_stock_line', (r) => [loanEarliest(`${r}.loan_id`), `${r}.last_returned_on`]],
  ['follow_up', (r) => [loanEarliest(`${r}.loan_id`), `${r}.on_date`]],
  ['compensation', (r) => [`${r}.incident_on`, `${r}.settled_on`]],
  ['asset_status_event', (r) => [`${r}.on_date`]],
  ['stock_movement', (r) => [bangkokDay(`${r}.at`)]],
]

/** Names and codes the figures show, and the category an item counts under. */
const NAMED: Array<[table: string, columns: string[]]> = [
  ['asset', ['code', 'name', 'category_id']],
  ['stock_item', ['code', 'name', 'unit', 'category_id']],
  ['category', ['code', 'name', 'sort_order']],
  ['department', ['code', 'name']],
]

function triggers(): Array<[name: string, body: string]> {
  const out: Array<[string, string]> = []
  for (const [table, dates] of DATED) {
    out.push([`${table}_report_epoch_insert`, `AFTER INSERT ON ${table} BEGIN ${bump(earliest(...dates('NEW')))} END`])
    out.push([`${table}_report_epoch_update`, `AFTER UPDATE ON ${table} BEGIN ${bump(earliest(...dates('OLD'), ...dates('NEW')))} END`])
    out.push([`${table}_report_epoch_delete`, `AFTER DELETE ON ${table} BEGIN ${bump(earliest(...dates('OLD')))} END`])
  }
  for (const [table, columns] of NAMED) {
    out.push([`${table}_report_epoch_rename`, `AFTER UPDATE OF ${columns.join(', ')} ON ${table} BEGIN ${bumpAll} END`])
  }
  return out
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('report_epoch')
    .addColumn('fiscal_year', 'integer', (c) => c.primaryKey())
    .addColumn('n', 'integer', (c) => c.notNull().defaultTo(0))
    .execute()
  await db.schema
    .createTable('report_kept')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('fiscal_year', 'integer', (c) => c.notNull())
    .addColumn('epoch', 'integer', (c) => c.notNull())
    .addColumn('figures', 'text', (c) => c.notNull())
    .addColumn('computed_at', 'text', (c) => c.notNull())
    .execute()
  pg = isPostgres(db)
  for (const [name, body] of triggers()) await sql.raw(pg ? plpgsql(name, body) : `CREATE TRIGGER ${name} ${body}`).execute(db)
}

/** A SQLite trigger `AFTER <event> ON <table> BEGIN <statements> END` as a PL/pgSQL function and row trigger of the same name. */
function plpgsql(name: string, body: string): string {
  const m = /^(AFTER .+? ON \w+) BEGIN (.*) END$/s.exec(body)
  if (!m) throw new Error(`report_kept: cannot port trigger ${name}`)
  return `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${m[2]} RETURN NULL; END $$;
          CREATE TRIGGER ${name} ${m[1]} FOR EACH ROW EXECUTE FUNCTION ${name}();`
}

export async function down(db: Kysely<any>): Promise<void> {
  pg = isPostgres(db)
  for (const [name] of triggers()) {
    const table = name.slice(0, name.indexOf('_report_epoch_'))
    await sql.raw(pg ? `DROP TRIGGER ${name} ON ${table}; DROP FUNCTION ${name}();` : `DROP TRIGGER ${name}`).execute(db)
  }
  await db.schema.dropTable('report_kept').execute()
  await db.schema.dropTable('report_epoch').execute()
}
