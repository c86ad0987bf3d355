import { sql } from 'kysely'
import type { Db } from '../../db/connection.js'
import { isPostgres } from '../../db/dialect.js'
import { query } from './db.js'

/*
 * Comparing one database with another, cell by cell and path by path (the parity test, SPEC §7):
 * every difference is named — the table, the row's primary key and the column, or the JSON path —
 * with both values and their types, so that a failure says what to fix.
 */

/** How many differences one comparison lists before it only counts the rest. */
export const MAX_LISTED = 40

export interface TableShape {
  name: string
  /** The primary key's columns, in the key's order. */
  key: string[]
  columns: string[]
}

/** The app's tables as SQLite's schema has them (without SQLite's own and the migrator's bookkeeping). */
export async function sqliteTables(db: Db): Promise<TableShape[]> {
  const q = query(db)
  const names = await q.all<{ name: string }>(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' ORDER BY name",
  )
  const out: TableShape[] = []
  for (const { name } of names) {
    const cols = await q.all<{ name: string; pk: number }>('SELECT name, pk FROM pragma_table_info(?) ORDER BY cid', name)
    out.push({
      name,
      key: cols
        .filter((c) => c.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((c) => c.name),
      columns: cols.map((c) => c.name),
    })
  }
  return out
}

/** The tables and columns PostgreSQL's catalogue has in the current schema. */
export async function postgresTables(db: Db): Promise<Map<string, string[]>> {
  const rows = await query(db).all<{ t: string; c: string }>(
    'SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position',
  )
  const out = new Map<string, string[]>()
  for (const r of rows) out.set(r.t, [...(out.get(r.t) ?? []), r.c])
  return out
}

/** Every row of `table` ordered by its primary key, every column (the caller leaves out what it must). */
export async function tableRows(db: Db, t: TableShape): Promise<Record<string, unknown>[]> {
  const cols = t.columns.map((c) => `"${c}"`).join(', ')
  const order = (t.key.length > 0 ? t.key : t.columns).map((c) => `"${c}"`).join(', ')
  // A fresh statement each time (no cache): sql.raw is fine, the names come from the schema.
  const r = await sql.raw<Record<string, unknown>>(`SELECT ${cols} FROM "${t.name}" ORDER BY ${order}`).execute(db)
  return r.rows
}

/** A value as a difference shows it: its JSON (cut when long) and its type when that is what differs. */
export function show(v: unknown): string {
  if (v === undefined) return '(absent)'
  const text = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v))
  const cut = text.length > 160 ? `${text.slice(0, 157)}…` : text
  return `${cut} (${v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v})`
}

export class Differences {
  readonly lines: string[] = []
  count = 0
  constructor(
    readonly a: string,
    readonly b: string,
  ) {}

  add(where: string, va: unknown, vb: unknown): void {
    this.note(`${where}: ${this.a} ${show(va)}, ${this.b} ${show(vb)}`)
  }

  note(line: string): void {
    this.count++
    if (this.lines.length < MAX_LISTED) this.lines.push(line)
  }

  get empty(): boolean {
    return this.count === 0
  }

  /** The report a failing assertion prints. */
  toString(): string {
    const more = this.count > this.lines.length ? [`… and ${this.count - this.lines.length} more`] : []
    return [`${this.count} difference(s) between ${this.a} and ${this.b}:`, ...this.lines.map((l) => `  ${l}`), ...more].join('\n')
  }
}

/**
 * Every difference between two JSON-shaped values, by path (`.byMonth[3].loans`). Keys in `random`
 * (random by design, e.g. a stored scan's file name) are not compared.
 */
export function diffJson(d: Differences, path: string, a: unknown, b: unknown, random: ReadonlySet<string> = new Set()): void {
  if (Object.is(a, b)) return
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
  if (kind(a) !== kind(b) || typeof a !== 'object' || a === null || b === null) {
    d.add(path || '(the value)', a, b)
    return
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) d.add(`${path}.length`, a.length, b.length)
    for (let i = 0; i < Math.min(a.length, b.length); i++) diffJson(d, `${path}[${i}]`, a[i], b[i], random)
    return
  }
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) if (!random.has(k)) diffJson(d, `${path}.${k}`, ra[k], rb[k], random)
}

/** The lines of two texts (a CSV, a page) that differ, by line number. */
export function diffText(d: Differences, where: string, a: string, b: string): void {
  if (a === b) return
  const la = a.split('\n')
  const lb = b.split('\n')
  if (la.length !== lb.length) d.add(`${where}: number of lines`, la.length, lb.length)
  for (let i = 0; i < Math.max(la.length, lb.length); i++) if (la[i] !== lb[i]) d.add(`${where} line ${i + 1}`, la[i], lb[i])
}

export interface TableRule {
  /** Columns left out of the comparison, with why (random by design). */
  skip?: Record<string, string>
  /** Columns compared after this mapping (e.g. a password hash without its random salt and key). */
  map?: Record<string, (v: unknown) => unknown>
}

/**
 * The differences between the rows of one table on two databases: rows only on one side (by primary
 * key), cells that differ (row key and column), and the order of the rows when both hold the same keys.
 * `normalise` is applied to every cell of each side first.
 */
export function diffTable(
  d: Differences,
  t: TableShape,
  rowsA: Record<string, unknown>[],
  rowsB: Record<string, unknown>[],
  rule: TableRule = {},
  normaliseA: (v: unknown) => unknown = (v) => v,
  normaliseB: (v: unknown) => unknown = (v) => v,
): void {
  const keyCols = t.key.length > 0 ? t.key : t.columns
  const keyOf = (r: Record<string, unknown>) => keyCols.map((c) => `${c}=${JSON.stringify(r[c])}`).join(',')
  const byKey = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [keyOf(r), r]))
  const ma = byKey(rowsA)
  const mb = byKey(rowsB)
  if (rowsA.length !== rowsB.length) d.add(`${t.name}: number of rows`, rowsA.length, rowsB.length)
  for (const [k, ra] of ma) {
    const rb = mb.get(k)
    if (!rb) {
      d.note(`${t.name} [${k}]: only on ${d.a}: ${show(ra)}`)
      continue
    }
    for (const c of t.columns) {
      if (rule.skip?.[c] !== undefined) continue
      const f = rule.map?.[c] ?? ((v: unknown) => v)
      const va = f(normaliseA(ra[c]))
      const vb = f(normaliseB(rb[c]))
      if (!Object.is(va, vb)) d.add(`${t.name} [${k}] .${c}`, va, vb)
    }
  }
  for (const [k, rb] of mb) if (!ma.has(k)) d.note(`${t.name} [${k}]: only on ${d.b}: ${show(rb)}`)
  if (ma.size === mb.size && [...ma.keys()].every((k) => mb.has(k))) {
    const ka = rowsA.map(keyOf)
    const kb = rowsB.map(keyOf)
    const i = ka.findIndex((k, n) => k !== kb[n])
    if (i >= 0) d.add(`${t.name}: order by primary key differs at row ${i + 1}`, ka[i], kb[i])
  }
}

/** Which database a handle talks to, for the messages. */
export function databaseName(db: Db): string {
  return isPostgres(db) ? 'PostgreSQL' : 'SQLite'
}
