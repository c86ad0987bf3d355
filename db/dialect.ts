import {
  type ColumnDefinitionNode,
  type DataTypeNode,
  type Expression,
  GeneratedNode,
  type Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresAdapter,
  type QueryResult,
  type RawBuilder,
  type RootOperationNode,
  type UnknownRow,
  sql,
} from 'kysely'

/**
 * The dialect seam (issue 19): every piece of SQL that differs between SQLite and PostgreSQL lives
 * here, named. Everything else is portable: quoted aliases, explicit GROUP BY, CASE sums, ISO text
 * dates, 0/1 integers for booleans, errors recognised by their code.
 */
export type DialectName = 'sqlite' | 'postgres'

// biome-ignore lint/suspicious/noExplicitAny: any database's handle, a transaction's included
type AnyDb = Kysely<any>

/** Which database `db` (or a transaction's handle on it) talks to. */
export function dialectOf(db: AnyDb): DialectName {
  const adapter = db.getExecutor().adapter
  // By name too: a module loaded through CommonJS gets its own copy of Kysely's classes.
  return adapter instanceof PostgresAdapter || adapter.constructor.name === 'PostgresAdapter' ? 'postgres' : 'sqlite'
}

export function isPostgres(db: AnyDb): boolean {
  return dialectOf(db) === 'postgres'
}

function codeOf(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : ''
}

/** A unique (or primary) key refused the row: better-sqlite3's SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY, PostgreSQL's 23505. */
export function isUniqueViolation(e: unknown): boolean {
  const code = codeOf(e)
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
}

/** A CHECK constraint refused the row: SQLITE_CONSTRAINT_CHECK, PostgreSQL's 23514. */
export function isCheckViolation(e: unknown): boolean {
  const code = codeOf(e)
  return code === '23514' || code === 'SQLITE_CONSTRAINT_CHECK'
}

/** Text the database cannot hold: PostgreSQL refuses a NUL byte (22021) or a character its encoding lacks (22P05); SQLite stores anything. */
export function isUnstorableText(e: unknown): boolean {
  const code = codeOf(e)
  return code === '22021' || code === '22P05'
}

/** A trigger refused the change (a frozen published report): SQLite's RAISE(ABORT) code, PostgreSQL's raise_exception. */
export function isTriggerRefusal(e: unknown): boolean {
  const code = codeOf(e)
  return code === 'P0001' || code === 'SQLITE_CONSTRAINT_TRIGGER'
}

/** The Bangkok calendar day ('YYYY-MM-DD') of an ISO instant held as text ('…Z'): Thailand is UTC+7 all year since 1920. */
export function bangkokDaySql(db: AnyDb, instant: RawBuilder<unknown> | string): RawBuilder<string> {
  const x = typeof instant === 'string' ? sql.ref(instant) : instant
  return isPostgres(db) ? sql<string>`to_char(CAST(${x} AS timestamp) + interval '7 hours', 'YYYY-MM-DD')` : sql<string>`date(${x}, '+7 hours')`
}

/** Whole days from day `a` to day `b` (both 'YYYY-MM-DD' text): b − a. */
export function daysBetweenSql(db: AnyDb, a: RawBuilder<unknown> | string, b: RawBuilder<unknown> | string): RawBuilder<number> {
  const x = typeof a === 'string' ? sql.ref(a) : a
  const y = typeof b === 'string' ? sql.ref(b) : b
  return isPostgres(db) ? sql<number>`(CAST(${y} AS date) - CAST(${x} AS date))` : sql<number>`CAST(julianday(${y}) - julianday(${x}) AS INTEGER)`
}

/** `column` contains `text`, ignoring the case of Latin letters (SQLite's LIKE does; PostgreSQL needs ILIKE). */
export function likeOperator(db: AnyDb): 'like' | 'ilike' {
  return isPostgres(db) ? 'ilike' : 'like'
}

/**
 * Migrations on PostgreSQL: what SQLite's DDL says in its own words, in PostgreSQL's. Every
 * `integer` column becomes `bigint` (SQLite's integer is 64-bit; PostgreSQL's is 32: epoch
 * milliseconds overflow it), and `autoIncrement()` becomes an identity column.
 */
export class PortableDdlPlugin implements KyselyPlugin {
  readonly #transformer = new (class extends OperationNodeTransformer {
    protected override transformDataType(node: DataTypeNode): DataTypeNode {
      return node.dataType === 'integer' ? { ...node, dataType: 'bigint' } : node
    }
    protected override transformColumnDefinition(node: ColumnDefinitionNode): ColumnDefinitionNode {
      const out = super.transformColumnDefinition(node)
      if (!out.autoIncrement) return out
      return { ...out, autoIncrement: undefined, generated: GeneratedNode.create({ identity: true, byDefault: true }) }
    }
  })()

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node)
  }
  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result)
  }
}

/** Whether the database has `table` (a restored file older than a migration may lack it). */
export async function hasTable(db: AnyDb, table: string): Promise<boolean> {
  const r = isPostgres(db)
    ? await sql<{ n: number }>`SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = ${table}`.execute(db)
    : await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${table}`.execute(db)
  return Number(r.rows[0]?.n ?? 0) > 0
}

/** A day ('YYYY-MM-DD' text) plus a whole number of days, as 'YYYY-MM-DD' text. */
export function datePlusDaysSql(db: AnyDb, day: RawBuilder<unknown> | string, days: number): RawBuilder<string> {
  if (!Number.isInteger(days)) throw new Error(`datePlusDaysSql: ${days} is not a whole number of days`)
  const x = typeof day === 'string' ? sql.ref(day) : day
  return isPostgres(db)
    ? sql<string>`to_char(CAST(${x} AS date) + ${sql.lit(days)}, 'YYYY-MM-DD')`
    : sql<string>`date(${x}, ${`${days >= 0 ? '+' : ''}${days} days`})`
}

/** The larger of two values, neither ever NULL (SQLite's two-argument max(), PostgreSQL's GREATEST: they differ on NULL). */
export function greaterOfSql<T>(db: AnyDb, a: Expression<T>, b: Expression<T>): RawBuilder<T> {
  return isPostgres(db) ? sql<T>`GREATEST(${a}, ${b})` : sql<T>`max(${a}, ${b})`
}

/** The smaller of two values, neither ever NULL (SQLite's two-argument min(), PostgreSQL's LEAST: they differ on NULL). */
export function lesserOfSql<T>(db: AnyDb, a: Expression<T>, b: Expression<T>): RawBuilder<T> {
  return isPostgres(db) ? sql<T>`LEAST(${a}, ${b})` : sql<T>`min(${a}, ${b})`
}
