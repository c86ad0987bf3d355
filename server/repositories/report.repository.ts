import { sql, type Kysely, type RawBuilder } from 'kysely'
import { bangkokDaySql, datePlusDaysSql, daysBetweenSql } from '../../db/dialect.js'
import type { Database } from '../../db/schema.js'

type Db = Kysely<Database>

/*
 * Statistics queries of SPEC §6. Every figure is an aggregate computed by the database; nothing
 * loads every loan into JavaScript. The rules themselves are documented on computeReport
 * (server/services/report.service.ts). Dates are 'YYYY-MM-DD' text, so ranges compare as text.
 *
 * Indexes used: loan(requested_on), loan(handed_over_on), loan(due_on), loan(returned_on),
 * loan_item(loan_id, …), loan_item(returned_on), loan_stock_line(loan_id, …),
 * compensation(incident_on), compensation(settled_on), follow_up(loan_id, on_date),
 * follow_up(on_date) — see db/migrations/2026_11_29_0900_report_indexes.ts.
 *
 * The SQL runs the same on SQLite and PostgreSQL (issue 19): what differs (date arithmetic, the
 * Bangkok day of an instant) comes from the named helpers of db/dialect.ts; every camelCase alias is
 * quoted (PostgreSQL folds an unquoted one to lower case without a word), a boolean is summed as
 * CASE … THEN 1 ELSE 0, and every selected column is grouped by or aggregated.
 */

/**
 * The totals and every breakdown of a period come from one pass each (requestCells, loanCells,
 * itemCells), and the report asks for them side by side: calls that overlap share the pass. Not a
 * cache — a pass is forgotten the moment it ends (the report's figures are kept by report.service
 * through server/lib/cache.ts). Sharing the passes makes a year's statistics 2.8× faster (README
 * "Performance").
 */
const passes = new WeakMap<Db, Map<string, Promise<unknown>>>()

function sharedPass<T>(db: Db, key: string, run: () => Promise<T>): Promise<T> {
  let running = passes.get(db)
  if (!running) passes.set(db, (running = new Map()))
  const open = running.get(key) as Promise<T> | undefined
  if (open) return open
  const pass = run()
  running.set(key, pass)
  const forget = () => {
    if (running.get(key) === pass) running.delete(key)
  }
  pass.then(forget, forget)
  return pass
}

/** The month 'YYYY-MM' of a date column (portable: dates are stored as text). */
function monthOf(column: RawBuilder<unknown>): RawBuilder<string> {
  return sql<string>`substr(${column}, 1, 7)`
}

/** Days from `a` to `b` counting both ends (same day = 1). */
function daysInclusive(db: Db, a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`(${daysBetweenSql(db, a, b)} + 1)`
}

/** 1 where the condition holds, else 0 (NULL counts as 0): what a boolean sums to on both databases. */
function oneIf(condition: RawBuilder<unknown>): RawBuilder<number> {
  return sql<number>`CASE WHEN ${condition} THEN 1 ELSE 0 END`
}

const NOT_COUNTED_CATEGORIES = sql.raw(`('vehicle', 'weapon')`)

/**
 * A request counts in the statistics unless it was never handed over and every one of its lines is
 * a vehicle or a weapon ("vehicles and weapons only when lent", SPEC §6).
 */
const requestCounts = sql<boolean>`NOT (l.handed_over_on IS NULL
  AND NOT EXISTS (SELECT 1 FROM loan_item li JOIN asset a ON a.id = li.asset_id JOIN category c ON c.id = a.category_id
                  WHERE li.loan_id = l.id AND c.code NOT IN ${NOT_COUNTED_CATEGORIES})
  AND NOT EXISTS (SELECT 1 FROM loan_stock_line sl JOIN stock_item s ON s.id = sl.stock_id LEFT JOIN category c ON c.id = s.category_id
                  WHERE sl.loan_id = l.id AND COALESCE(c.code, '') NOT IN ${NOT_COUNTED_CATEGORIES}))`

/** Assets handed over under loan `l` (correlated, uses loan_item(loan_id, asset_id)). */
const assetsOfLoan = sql<number>`(SELECT count(*) FROM loan_item li WHERE li.loan_id = l.id AND li.handed_over_at IS NOT NULL)`
/** Counted units handed over under loan `l`. */
const unitsOfLoan = sql<number>`(SELECT COALESCE(sum(sl.handed_over_qty), 0) FROM loan_stock_line sl WHERE sl.loan_id = l.id)`

const n = (v: unknown): number => Number(v ?? 0)

export interface RequestTotals {
  total: number
  approved: number
  rejected: number
  cancelled: number
  expired: number
  pending: number
}

/*
 * One pass each for requests and for loans (bench/, issue 7): the request figures by month, and the
 * loan figures by month × kind × borrower type × department, computed once per period and summed
 * here into the totals and every breakdown (sharedPass).
 */
type RequestCell = RequestTotals & { month: string }

function requestCells(db: Db, from: string, to: string): Promise<RequestCell[]> {
  return sharedPass(db, `requests|${from}|${to}`, async () => {
    const r = await sql<Record<keyof RequestCell, number | string | null>>`
      SELECT ${monthOf(sql.ref('l.requested_on'))} AS "month",
             count(*) AS "total",
             sum(${oneIf(sql`l.approved_at IS NOT NULL`)}) AS "approved",
             sum(${oneIf(sql`l.status = 'rejected'`)}) AS "rejected",
             sum(${oneIf(sql`l.status = 'cancelled'`)}) AS "cancelled",
             sum(${oneIf(sql`l.status = 'expired'`)}) AS "expired",
             sum(${oneIf(sql`l.status = 'pending'`)}) AS "pending"
        FROM loan l
       WHERE l.requested_on BETWEEN ${from} AND ${to} AND ${requestCounts}
       GROUP BY ${monthOf(sql.ref('l.requested_on'))}`.execute(db)
    return r.rows.map((x) => ({
      month: String(x.month),
      total: n(x.total),
      approved: n(x.approved),
      rejected: n(x.rejected),
      cancelled: n(x.cancelled),
      expired: n(x.expired),
      pending: n(x.pending),
    }))
  })
}

export async function requestTotals(db: Db, from: string, to: string): Promise<RequestTotals> {
  const out: RequestTotals = { total: 0, approved: 0, rejected: 0, cancelled: 0, expired: 0, pending: 0 }
  for (const c of await requestCells(db, from, to)) {
    for (const k of Object.keys(out) as Array<keyof RequestTotals>) out[k] += c[k]
  }
  return out
}

export async function requestsByMonth(db: Db, from: string, to: string): Promise<Map<string, number>> {
  return new Map((await requestCells(db, from, to)).map((c) => [c.month, c.total]))
}

export interface LoanTotals {
  total: number
  assets: number
  units: number
  returnedOnTime: number
  returnedLate: number
  outstanding: number
  outstandingOverdue: number
  returnedCount: number
  returnedDays: number
}

interface LoanCell extends LoanTotals {
  month: string
  kind: string
  borrowerType: string
  departmentCode: string | null
  departmentName: string | null
}

function loanCells(db: Db, from: string, to: string): Promise<LoanCell[]> {
  return sharedPass(db, `loans|${from}|${to}`, async () => {
    const back = sql`(l.returned_on IS NOT NULL AND l.returned_on <= ${to})`
    // Each loan's assets and units once (correlated, on loan_item(loan_id, …) and loan_stock_line(loan_id, …)).
    const r = await sql<Record<string, number | string | null>>`
      SELECT ${monthOf(sql.ref('l.handed_over_on'))} AS "month", l.kind AS "kind", l.borrower_type AS "borrowerType",
             d.code AS "departmentCode", d.name AS "departmentName",
             count(*) AS "total",
             sum(l.assets) AS "assets",
             sum(l.units) AS "units",
             sum(${oneIf(sql`${back} AND l.returned_on <= l.due_on`)}) AS "returnedOnTime",
             sum(${oneIf(sql`${back} AND l.returned_on > l.due_on`)}) AS "returnedLate",
             sum(${oneIf(sql`NOT ${back}`)}) AS "outstanding",
             sum(${oneIf(sql`NOT ${back} AND l.due_on < ${to}`)}) AS "outstandingOverdue",
             sum(${oneIf(back)}) AS "returnedCount",
             sum(CASE WHEN ${back} THEN ${daysInclusive(db, sql.ref('l.handed_over_on'), sql.ref('l.returned_on'))} ELSE 0 END) AS "returnedDays"
        FROM (SELECT l.*, ${assetsOfLoan} AS assets, ${unitsOfLoan} AS units FROM loan l WHERE l.handed_over_on BETWEEN ${from} AND ${to}) l
        LEFT JOIN department d ON d.id = l.department_id
       GROUP BY ${monthOf(sql.ref('l.handed_over_on'))}, l.kind, l.borrower_type, l.department_id, d.code, d.name`.execute(db)
    return r.rows.map((x) => ({
      month: String(x.month),
      kind: String(x.kind),
      borrowerType: String(x.borrowerType),
      departmentCode: x.departmentCode === null ? null : String(x.departmentCode),
      departmentName: x.departmentName === null ? null : String(x.departmentName),
      total: n(x.total),
      assets: n(x.assets),
      units: n(x.units),
      returnedOnTime: n(x.returnedOnTime),
      returnedLate: n(x.returnedLate),
      outstanding: n(x.outstanding),
      outstandingOverdue: n(x.outstandingOverdue),
      returnedCount: n(x.returnedCount),
      returnedDays: n(x.returnedDays),
    }))
  })
}

export async function loanTotals(db: Db, from: string, to: string): Promise<LoanTotals> {
  const out: LoanTotals = {
    total: 0,
    assets: 0,
    units: 0,
    returnedOnTime: 0,
    returnedLate: 0,
    outstanding: 0,
    outstandingOverdue: 0,
    returnedCount: 0,
    returnedDays: 0,
  }
  for (const c of await loanCells(db, from, to)) {
    for (const k of Object.keys(out) as Array<keyof LoanTotals>) out[k] += c[k]
  }
  return out
}

export interface LoanGroup {
  key: string | null
  name: string | null
  loans: number
  assets: number
  units: number
}

/** The dimensions loans are broken down by; each is a fixed field of the cells (never caller text). */
const LOAN_DIMENSIONS = {
  month: (c: LoanCell) => [c.month, null] as const,
  kind: (c: LoanCell) => [c.kind, null] as const,
  borrowerType: (c: LoanCell) => [c.borrowerType, null] as const,
  department: (c: LoanCell) => [c.departmentCode, c.departmentName] as const,
} as const
export type LoanDimension = keyof typeof LOAN_DIMENSIONS

/** SQLite's ORDER BY on text: NULL first, then by code unit (the keys are ASCII codes and months). */
const byKey = (a: LoanGroup, b: LoanGroup) => (a.key === b.key ? 0 : a.key === null ? -1 : b.key === null ? 1 : a.key < b.key ? -1 : 1)

export async function loansBy(db: Db, dimension: LoanDimension, from: string, to: string): Promise<LoanGroup[]> {
  const keyOf = LOAN_DIMENSIONS[dimension]
  const groups = new Map<string, LoanGroup>()
  for (const c of await loanCells(db, from, to)) {
    const [key, name] = keyOf(c)
    const id = JSON.stringify([key, name])
    const g = groups.get(id) ?? { key, name, loans: 0, assets: 0, units: 0 }
    g.loans += c.total
    g.assets += c.assets
    g.units += c.units
    groups.set(id, g)
  }
  return [...groups.values()].sort(byKey)
}

/*
 * The category breakdown and the most-borrowed assets both walk the period's handed-over items with
 * their asset (the costly part): one statement walks them once into a materialised table and
 * groups it both ways (bench/, issue 7).
 */
interface ItemCells {
  categories: Array<LoanGroup & { total: number; sortOrder: number | null }>
  top: TopAsset[]
}

/** How many of the most-borrowed assets the shared walk keeps; a longer list asks on its own. */
const TOP_KEPT = 50

function itemCells(db: Db, from: string, to: string): Promise<ItemCells> {
  return sharedPass(db, `items|${from}|${to}`, async () => {
    const r = await sql<{
      part: string
      key: string | null
      name: string | null
      category: string | null
      loans: number
      assets: number | null
      units: number | null
      sortOrder: number | null
    }>`
      WITH x AS MATERIALIZED (
             SELECT li.loan_id AS loan_id, li.asset_id AS asset_id, a.category_id AS category_id
               FROM loan l JOIN loan_item li ON li.loan_id = l.id AND li.handed_over_at IS NOT NULL JOIN asset a ON a.id = li.asset_id
              WHERE l.handed_over_on BETWEEN ${from} AND ${to}),
           lines AS (
             SELECT loan_id, category_id, 1 AS assets, 0 AS units FROM x
             UNION ALL
             SELECT sl.loan_id, s.category_id, 0, sl.handed_over_qty
               FROM loan l JOIN loan_stock_line sl ON sl.loan_id = l.id AND sl.handed_over_qty > 0 JOIN stock_item s ON s.id = sl.stock_id
              WHERE l.handed_over_on BETWEEN ${from} AND ${to})
      SELECT 'category' AS "part", c.code AS "key", c.name AS "name", CAST(NULL AS TEXT) AS "category", g.loans AS "loans", g.assets AS "assets",
             g.units AS "units", c.sort_order AS "sortOrder"
        FROM (SELECT category_id, count(DISTINCT loan_id) AS loans, sum(assets) AS assets, sum(units) AS units FROM lines GROUP BY category_id) g
        LEFT JOIN category c ON c.id = g.category_id
      UNION ALL
      SELECT * FROM (
        SELECT 'asset', a.code, a.name, c.code, t.loans, CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), CAST(NULL AS INTEGER)
          FROM (SELECT asset_id, count(*) AS loans FROM x GROUP BY asset_id) t
          JOIN asset a ON a.id = t.asset_id JOIN category c ON c.id = a.category_id
         ORDER BY t.loans DESC, a.code
         LIMIT ${TOP_KEPT}) top_assets`.execute(db)
    const categories = r.rows
      .filter((x) => x.part === 'category')
      .map((x) => ({
        key: x.key,
        name: x.name,
        loans: n(x.loans),
        assets: n(x.assets),
        units: n(x.units),
        total: n(x.assets) + n(x.units),
        sortOrder: x.sortOrder,
      }))
    // The order of the one-query version: most items first, then the category's own order, then its code (NULLs first, as SQLite sorts).
    const nullsFirst = <T extends string | number>(a: T | null, b: T | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1)
    categories.sort((a, b) => b.total - a.total || nullsFirst(a.sortOrder, b.sortOrder) || nullsFirst(a.key, b.key))
    // Most loans first, then by code: the subquery's order, kept whichever way the database appends the two parts.
    const top = r.rows
      .filter((x) => x.part === 'asset')
      .map((x) => ({ code: x.key!, name: x.name!, category: x.category!, loans: n(x.loans) }))
      .sort((a, b) => b.loans - a.loans || (a.code === b.code ? 0 : a.code < b.code ? -1 : 1))
    return { categories, top }
  })
}

/** Lines lent in the period by category: assets one each, counted lines by their handed-over quantity. */
export async function loansByCategory(db: Db, from: string, to: string): Promise<LoanGroup[]> {
  return (await itemCells(db, from, to)).categories.map(({ key, name, loans, assets, units }) => ({ key, name, loans, assets, units }))
}

export interface TopAsset {
  code: string
  name: string
  category: string
  loans: number
}

export async function topAssets(db: Db, from: string, to: string, limit: number): Promise<TopAsset[]> {
  if (limit <= TOP_KEPT) return (await itemCells(db, from, to)).top.slice(0, limit).map((x) => ({ ...x }))
  const r = await sql<TopAsset>`
    SELECT a.code AS "code", a.name AS "name", c.code AS "category", count(*) AS "loans"
      FROM loan l JOIN loan_item li ON li.loan_id = l.id AND li.handed_over_at IS NOT NULL
      JOIN asset a ON a.id = li.asset_id JOIN category c ON c.id = a.category_id
     WHERE l.handed_over_on BETWEEN ${from} AND ${to}
     GROUP BY a.id, a.code, a.name, c.code
     ORDER BY count(*) DESC, a.code
     LIMIT ${limit}`.execute(db)
  return r.rows.map((x) => ({ ...x, loans: n(x.loans) }))
}

export interface TopStock {
  code: string
  name: string
  unit: string
  loans: number
  units: number
}

export async function topStock(db: Db, from: string, to: string, limit: number): Promise<TopStock[]> {
  const r = await sql<TopStock>`
    SELECT s.code AS "code", s.name AS "name", s.unit AS "unit", count(*) AS "loans", sum(sl.handed_over_qty) AS "units"
      FROM loan l JOIN loan_stock_line sl ON sl.loan_id = l.id AND sl.handed_over_qty > 0
      JOIN stock_item s ON s.id = sl.stock_id
     WHERE l.handed_over_on BETWEEN ${from} AND ${to}
     GROUP BY s.id, s.code, s.name, s.unit
     ORDER BY count(*) DESC, sum(sl.handed_over_qty) DESC, s.code
     LIMIT ${limit}`.execute(db)
  return r.rows.map((x) => ({ ...x, loans: n(x.loans), units: n(x.units) }))
}

export interface IncidentTotals {
  damaged: number
  lost: number
  records: number
  settled: number
  settledSatang: number
}

export async function incidentTotals(db: Db, from: string, to: string): Promise<IncidentTotals> {
  const a = await sql<{ damaged: number | null; lost: number | null; records: number }>`
    SELECT sum(CASE WHEN incident = 'damaged' THEN quantity ELSE 0 END) AS "damaged",
           sum(CASE WHEN incident = 'lost' THEN quantity ELSE 0 END) AS "lost",
           count(*) AS "records"
      FROM compensation WHERE incident_on BETWEEN ${from} AND ${to}`.execute(db)
  const b = await sql<{ settled: number; satang: number | null }>`
    SELECT count(*) AS "settled", sum(decided_satang) AS "satang"
      FROM compensation WHERE settled_on BETWEEN ${from} AND ${to}`.execute(db)
  return {
    damaged: n(a.rows[0]!.damaged),
    lost: n(a.rows[0]!.lost),
    records: n(a.rows[0]!.records),
    settled: n(b.rows[0]!.settled),
    settledSatang: n(b.rows[0]!.satang),
  }
}

export interface OverdueTotals {
  cases: number
  followedUpInTime: number
  followUps: number
}

/**
 * Overdue cases: loans handed over whose (current) due date falls in the period, is already past
 * on `today`, and which were not back by it. Followed up in time: a follow-up dated after the due
 * date and no later than due + followUpDays. Follow-ups: every follow-up dated in the period.
 */
export async function overdueTotals(db: Db, from: string, to: string, today: string, followUpDays: number): Promise<OverdueTotals> {
  const r = await sql<{ cases: number; inTime: number | null }>`
    SELECT count(*) AS "cases",
           sum(${oneIf(sql`EXISTS (SELECT 1 FROM follow_up f WHERE f.loan_id = l.id AND f.on_date > l.due_on
                        AND f.on_date <= ${datePlusDaysSql(db, sql.ref('l.due_on'), followUpDays)})`)}) AS "inTime"
      FROM loan l
     WHERE l.due_on BETWEEN ${from} AND ${to} AND l.due_on < ${today}
       AND l.handed_over_on IS NOT NULL
       AND (l.returned_on IS NULL OR l.returned_on > l.due_on)`.execute(db)
  const f = await sql<{ c: number }>`SELECT count(*) AS "c" FROM follow_up WHERE on_date BETWEEN ${from} AND ${to}`.execute(db)
  return { cases: n(r.rows[0]!.cases), followedUpInTime: n(r.rows[0]!.inTime), followUps: n(f.rows[0]!.c) }
}

export interface OnLoanAt {
  assets: number
  units: number
}

/**
 * What was out on loan at the end of the day `asOf`: assets handed over by then and not returned
 * by then; counted units of loans not returned by then (a line's units count as back only once its
 * last return is on or before `asOf`; a line returned partly before and partly after counts whole).
 */
export async function onLoanAt(db: Db, asOf: string): Promise<OnLoanAt> {
  const a = await sql<{ c: number }>`
    SELECT count(*) AS "c" FROM loan_item li JOIN loan l ON l.id = li.loan_id
     WHERE (li.returned_on IS NULL OR li.returned_on > ${asOf})
       AND li.handed_over_at IS NOT NULL AND l.handed_over_on <= ${asOf}`.execute(db)
  // From the lines to their loans (CROSS JOIN keeps that order in SQLite): there are far fewer
  // counted lines than loans handed over by a date, which is what the planner walked otherwise.
  const u = await sql<{ c: number | null }>`
    SELECT sum(sl.handed_over_qty - CASE WHEN sl.last_returned_on <= ${asOf}
                                         THEN sl.returned_good + sl.returned_damaged + sl.returned_lost ELSE 0 END) AS "c"
      FROM loan_stock_line sl CROSS JOIN loan l
     WHERE sl.loan_id = l.id AND (l.returned_on IS NULL OR l.returned_on > ${asOf}) AND l.handed_over_on <= ${asOf}`.execute(db)
  return { assets: n(a.rows[0]!.c), units: n(u.rows[0]!.c) }
}

export interface StateAt {
  assetsLost: number
  assetsInRepair: number
  unitsInRepair: number
}

/**
 * Assets lost and in repair at the end of `asOf` — each asset's last status change on or before that
 * day (asset_status_event) — and counted units in repair then: the sum of the moves into repair
 * (to_repair, damaged_on_loan) less the moves out of it (from_repair, write_off_repair) dated up to it.
 */
export async function stateAt(db: Db, asOf: string): Promise<StateAt> {
  const a = await sql<{ lost: number | null; repair: number | null }>`
    SELECT sum(${oneIf(sql`e.to_status = 'lost'`)}) AS "lost", sum(${oneIf(sql`e.to_status = 'in_repair'`)}) AS "repair"
      FROM asset_status_event e
      JOIN (SELECT asset_id, max(id) AS id FROM asset_status_event WHERE on_date <= ${asOf} GROUP BY asset_id) last ON last.id = e.id`.execute(db)
  const u = await sql<{ c: number | null }>`
    SELECT sum(CASE WHEN kind IN ('to_repair', 'damaged_on_loan') THEN quantity
                    WHEN kind IN ('from_repair', 'write_off_repair') THEN -quantity ELSE 0 END) AS "c"
      FROM stock_movement WHERE ${bangkokDaySql(db, sql.ref('at'))} <= ${asOf}`.execute(db)
  return { assetsLost: n(a.rows[0]!.lost), assetsInRepair: n(a.rows[0]!.repair), unitsInRepair: n(u.rows[0]!.c) }
}

/** Counted units lost on loan with a date in [from, to] (they leave the pool when lost). */
export async function unitsLostBetween(db: Db, from: string, to: string): Promise<number> {
  const r = await sql<{ c: number | null }>`
    SELECT sum(quantity) AS "c" FROM stock_movement
     WHERE kind = 'lost_on_loan' AND ${bangkokDaySql(db, sql.ref('at'))} BETWEEN ${from} AND ${to}`.execute(db)
  return n(r.rows[0]!.c)
}
