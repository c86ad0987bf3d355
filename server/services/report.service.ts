import { statementMayFail } from '../../db/connection.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import * as reports from '../repositories/report.repository.js'
import * as publications from '../repositories/publication.repository.js'
import * as keptFigures from '../repositories/report-kept.repository.js'
import {
  bangkokDate,
  fiscalHalfRange,
  fiscalQuarterRange,
  fiscalYearOf,
  fiscalYearRange,
  dateMessageKey,
  parseIsoDate,
  type FiscalQuarter,
} from '../i18n/calendar.js'
import { getSettings } from './settings.service.js'
import { cached } from '../lib/cache.js'

/*
 * The statistics report of SPEC §6 — the figures only (pages, charts, publication come later).
 *
 * COUNTING RULES (to be printed as the report's footnote):
 *
 * 1. Requests count by their request date (`requested_on`). `total` = every request in the period;
 *    `approved` = approved at some point (a final approval was recorded: now approved, on loan,
 *    returned, expired, or cancelled after approval); `rejected`, `cancelled`, `expired`, `pending`
 *    = the request's status as recorded now. So approved + rejected + pending + (cancelled before
 *    approval) = total; expired and cancelled-after-approval are also in approved.
 * 2. Loans and items count by their hand-over date (`handed_over_on`); a request asked in one
 *    period and handed over in the next counts as a request in the first and a loan in the second.
 *    `items` = assets handed over + counted units handed over (80 chairs = 80 items): one figure for
 *    "how many things went out"; `assets` and `units` give its two parts.
 * 3. On time, late and outstanding are judged at the period's end, by the loan's last item: a loan is
 *    back when every asset and unit is accounted for (returned good, damaged or lost) and its return
 *    date is that last return. Back on or before its due date (the current one, after approved
 *    extensions) = on time; after it = late; not back by the period's end = outstanding (also when it
 *    came back after the period's end). `outstandingOverdue` = outstanding and due before the
 *    period's last day.
 * 4. On-time rate = on time ÷ (on time + late + outstanding overdue): loans still out but not yet due
 *    are not judged. Null when there is nothing to judge.
 * 5. Average loan days = over loans back by the period's end, hand-over date to return date counting
 *    both days (back the same day = 1 day), one decimal. Loans still out are left out. Null when none.
 * 6. Incidents (damaged, lost — in items, by quantity), follow-ups and compensation settlements count
 *    by their own dates (incident date, follow-up date, settled date).
 * 7. Overdue cases = loans handed over whose due date falls in the period (and is already past) and
 *    which were not back by their due date. Followed up in time = of those, the ones with a follow-up
 *    dated after the due date and no later than due date + the follow-up days setting (ข้อ 211),
 *    even when that date falls after the period's end.
 * 8. Vehicles and weapons (categories `vehicle`, `weapon`) count only when lent: a request that was
 *    never handed over and holds nothing but vehicles and weapons is left out of the request figures;
 *    loans, items and breakdowns count only what was handed over anyway.
 * 9. Breakdowns by month and quarter: requests by request date, loans and items by hand-over date.
 *    By category: items of each category (a loan with items in two categories counts in both).
 *    By department (the borrower's department on the loan; none for external borrowers), borrower
 *    type and loan kind: loans and their items. Most-borrowed assets: by number of loans handed over
 *    in the period, top 10 (ties by code); counted items likewise in `topStock`.
 * 10. Items at year end (ข้อ 213, a fiscal-year report only), as they stood at the end of 30 September:
 *    out on loan (assets + units handed over and not back by then); lost = assets whose status then
 *    was lost (from the status history, whether lost on loan or not) + counted units lost on loan
 *    during the fiscal year (they leave the pool when lost); in repair = assets whose status then was
 *    in repair + counted units in repair then (moves into repair less moves out of it up to that day).
 *    The status history starts with the 2026-11-30 migration: assets registered before it count with
 *    the status they had then, from the day they were registered.
 *
 * KEPT FIGURES: the figures of a fiscal-year period that has ended (and its year-end state) are
 * computed once and kept in the database (report_kept) until a write that could move them — the
 * triggers of migration 2026_12_01_0900 bump the fiscal year's change counter. Change
 * RULES_VERSION below with any rule or any change to the figures' shape: figures kept under older
 * rules are then never served again.
 */
const RULES_VERSION = 1

export const REPORT_PERIODS = ['year', 'h1', 'q1', 'q2', 'q3', 'q4'] as const
export type ReportPeriod = (typeof REPORT_PERIODS)[number]

export type ReportQuery = { fiscalYear: number; period: ReportPeriod } | { from: string; to: string }

interface LoanBreakdown {
  loans: number
  items: number
  assets: number
  units: number
}

export interface ReportFigures {
  from: string
  to: string
  requests: { total: number; approved: number; rejected: number; cancelled: number; expired: number; pending: number }
  loans: {
    total: number
    items: number
    assets: number
    units: number
    returnedOnTime: number
    returnedLate: number
    outstanding: number
    outstandingOverdue: number
  }
  incidents: { damaged: number; lost: number; compensationRecords: number; compensationSettled: number; compensationSettledBaht: number }
  overdue: { cases: number; followedUpInTime: number; followUps: number }
  onTimeRate: number | null
  averageLoanDays: number | null
  byMonth: Array<{ month: string; requests: number } & LoanBreakdown>
  byQuarter: Array<{ fiscalYear: number; quarter: FiscalQuarter; requests: number } & LoanBreakdown>
  byCategory: Array<{ category: string | null; name: string | null } & LoanBreakdown>
  byDepartment: Array<{ department: string | null; name: string | null } & LoanBreakdown>
  byBorrowerType: Array<{ borrowerType: string } & LoanBreakdown>
  byKind: Array<{ kind: string } & LoanBreakdown>
  topAssets: reports.TopAsset[]
  topStock: reports.TopStock[]
}

export interface ItemsAtYearEnd {
  asOf: string
  onLoan: number
  onLoanAssets: number
  onLoanUnits: number
  lost: number
  lostAssets: number
  lostUnits: number
  inRepair: number
  inRepairAssets: number
  inRepairUnits: number
}

export interface PreviousYearFigures extends ReportFigures {
  fiscalYear: number | null
  period: ReportPeriod | 'range'
  /** 'live' = computed now; 'snapshot' = taken from that period's published report (later). */
  source: 'live' | 'snapshot'
}

export interface Report extends ReportFigures {
  fiscalYear: number | null
  period: ReportPeriod | 'range'
  generatedAt: string
  itemsAtYearEnd: ItemsAtYearEnd | null
  previousYear: PreviousYearFigures
}

const TOP_N = 10

function badParam(field: string, messageKey: string): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field, message: messageKey }])
}

/** The dates of a fiscal-year period; a year that is not a plausible Buddhist-era year → 422. */
export function periodRange(fiscalYear: number, period: ReportPeriod): { from: string; to: string } {
  if (!Number.isInteger(fiscalYear) || fiscalYear < 2400 || fiscalYear > 2800) throw badParam('year', 'report.badFiscalYear')
  if (!REPORT_PERIODS.includes(period)) throw badParam('period', 'report.badPeriod')
  if (period === 'year') return fiscalYearRange(fiscalYear)
  if (period === 'h1') return fiscalHalfRange(fiscalYear)
  return fiscalQuarterRange(fiscalYear, Number(period.slice(1)) as FiscalQuarter)
}

function checkRange(from: string, to: string): void {
  const f = parseIsoDate(from)
  if (!f.ok) throw badParam('from', dateMessageKey(f.reason))
  const t = parseIsoDate(to)
  if (!t.ok) throw badParam('to', dateMessageKey(t.reason))
  if (from > to) throw badParam('to', 'report.badRange')
}

/** The same dates one year earlier (29 Feb → 28 Feb). */
function yearEarlier(date: string): string {
  const y = Number(date.slice(0, 4)) - 1
  const md = date.slice(5) === '02-29' ? '02-28' : date.slice(5)
  return `${String(y).padStart(4, '0')}-${md}`
}

/** 'YYYY-MM' of every month touched by [from, to]. */
function monthsOf(from: string, to: string): string[] {
  const out: string[] = []
  let y = Number(from.slice(0, 4))
  let m = Number(from.slice(5, 7))
  const last = to.slice(0, 7)
  for (;;) {
    const key = `${y}-${String(m).padStart(2, '0')}`
    out.push(key)
    if (key >= last) return out
    m++
    if (m > 12) {
      m = 1
      y++
    }
  }
}

function quarterOfMonth(month: string): { fiscalYear: number; quarter: FiscalQuarter } {
  const m = Number(month.slice(5, 7))
  const quarter = (m >= 10 ? 1 : Math.floor((m - 1) / 3) + 2) as FiscalQuarter
  return { fiscalYear: fiscalYearOf(`${month}-01`), quarter }
}

function breakdown(g: reports.LoanGroup): LoanBreakdown {
  return { loans: g.loans, items: g.assets + g.units, assets: g.assets, units: g.units }
}

const round1 = (x: number): number => Math.round(x * 10) / 10

/**
 * Every figure of SPEC §6 for one date range (no comparison, no year-end state). A period still
 * running is read again only after a write (server/lib/cache.ts): 0.6 s at full size, else 2 ms.
 */
async function computeFigures(ctx: AppContext, from: string, to: string, today: string, followUpDays: number): Promise<ReportFigures> {
  // A copy: a caller may add to what it got without changing what the next request sees.
  return structuredClone(await cached(ctx, `report-figures:${from}|${to}|${today}|${followUpDays}`, () => readFigures(ctx, from, to, today, followUpDays)))
}

async function readFigures(ctx: AppContext, from: string, to: string, today: string, followUpDays: number): Promise<ReportFigures> {
  const db = ctx.db
  const [requests, requestMonths, loans, months, kinds, types, depts, cats, top, topS, incidents, overdue] = await Promise.all([
    reports.requestTotals(db, from, to),
    reports.requestsByMonth(db, from, to),
    reports.loanTotals(db, from, to),
    reports.loansBy(db, 'month', from, to),
    reports.loansBy(db, 'kind', from, to),
    reports.loansBy(db, 'borrowerType', from, to),
    reports.loansBy(db, 'department', from, to),
    reports.loansByCategory(db, from, to),
    reports.topAssets(db, from, to, TOP_N),
    reports.topStock(db, from, to, TOP_N),
    reports.incidentTotals(db, from, to),
    reports.overdueTotals(db, from, to, today, followUpDays),
  ])
  const loanMonths = new Map(months.map((g) => [g.key ?? '', g]))
  const byMonth = monthsOf(from, to).map((month) => {
    const g = loanMonths.get(month)
    return { month, requests: requestMonths.get(month) ?? 0, ...(g ? breakdown(g) : { loans: 0, items: 0, assets: 0, units: 0 }) }
  })
  const quarters = new Map<string, ReportFigures['byQuarter'][number]>()
  for (const m of byMonth) {
    const q = quarterOfMonth(m.month)
    const key = `${q.fiscalYear}-${q.quarter}`
    const acc = quarters.get(key) ?? { ...q, requests: 0, loans: 0, items: 0, assets: 0, units: 0 }
    acc.requests += m.requests
    acc.loans += m.loans
    acc.items += m.items
    acc.assets += m.assets
    acc.units += m.units
    quarters.set(key, acc)
  }
  const judged = loans.returnedOnTime + loans.returnedLate + loans.outstandingOverdue
  return {
    from,
    to,
    requests,
    loans: {
      total: loans.total,
      items: loans.assets + loans.units,
      assets: loans.assets,
      units: loans.units,
      returnedOnTime: loans.returnedOnTime,
      returnedLate: loans.returnedLate,
      outstanding: loans.outstanding,
      outstandingOverdue: loans.outstandingOverdue,
    },
    incidents: {
      damaged: incidents.damaged,
      lost: incidents.lost,
      compensationRecords: incidents.records,
      compensationSettled: incidents.settled,
      compensationSettledBaht: incidents.settledSatang / 100,
    },
    overdue,
    onTimeRate: judged === 0 ? null : loans.returnedOnTime / judged,
    averageLoanDays: loans.returnedCount === 0 ? null : round1(loans.returnedDays / loans.returnedCount),
    byMonth,
    byQuarter: [...quarters.values()],
    byCategory: cats.map((g) => ({ category: g.key, name: g.name, ...breakdown(g) })),
    byDepartment: depts.map((g) => ({ department: g.key, name: g.name, ...breakdown(g) })),
    byBorrowerType: types.map((g) => ({ borrowerType: g.key ?? '', ...breakdown(g) })),
    byKind: kinds.map((g) => ({ kind: g.key ?? '', ...breakdown(g) })),
    topAssets: top,
    topStock: topS,
  }
}

/**
 * The value kept under `key` for an ended period of `fiscalYear`, or computed and kept. The change
 * counter is read before computing, so a write during the computation leaves the result unserved.
 * Keeping is only a saving: when the database refuses the write, the computed value is still answered.
 */
async function keptOr<T>(ctx: AppContext, key: string, fiscalYear: number, compute: () => Promise<T>): Promise<T> {
  const text = await keptFigures.read(ctx.db, key)
  if (text !== undefined) return JSON.parse(text) as T
  // Inside a write transaction (a submission computes its snapshot) a refused keep must not abort it
  // on PostgreSQL: statementMayFail puts a savepoint around it there.
  let epoch: number
  try {
    epoch = await statementMayFail(ctx.db, () => keptFigures.epoch(ctx.db, fiscalYear))
  } catch (e) {
    ctx.logger.warn({ err: e, key }, 'report figures not kept')
    return compute()
  }
  const value = await compute()
  await statementMayFail(ctx.db, () =>
    keptFigures.keep(ctx.db, { key, fiscalYear, epoch, figures: JSON.stringify(value), at: ctx.clock.now().toISOString() }),
  ).catch((e: unknown) => ctx.logger.warn({ err: e, key }, 'report figures not kept'))
  return value
}

/** The figures of a fiscal-year period: kept once the period has ended (see KEPT FIGURES). */
async function periodFigures(ctx: AppContext, fiscalYear: number, period: ReportPeriod, today: string, followUpDays: number): Promise<ReportFigures> {
  const { from, to } = periodRange(fiscalYear, period)
  const compute = () => computeFigures(ctx, from, to, today, followUpDays)
  if (to >= today) return compute()
  return keptOr(ctx, `figures|${RULES_VERSION}|${fiscalYear}|${period}|${followUpDays}`, fiscalYear, compute)
}

/** Items out on loan, lost and damaged at the end of a fiscal year (ข้อ 213); see rule 10. */
async function itemsAtYearEnd(ctx: AppContext, fiscalYear: number, today: string): Promise<ItemsAtYearEnd> {
  const compute = async () => ({ ...(await cached(ctx, `report-year-end:${fiscalYear}`, () => readItemsAtYearEnd(ctx, fiscalYear))) })
  if (fiscalYearRange(fiscalYear).to >= today) return compute()
  return keptOr(ctx, `yearEnd|${RULES_VERSION}|${fiscalYear}`, fiscalYear, compute)
}

async function readItemsAtYearEnd(ctx: AppContext, fiscalYear: number): Promise<ItemsAtYearEnd> {
  const { from, to } = fiscalYearRange(fiscalYear)
  const [out, state, unitsLost] = await Promise.all([reports.onLoanAt(ctx.db, to), reports.stateAt(ctx.db, to), reports.unitsLostBetween(ctx.db, from, to)])
  return {
    asOf: to,
    onLoan: out.assets + out.units,
    onLoanAssets: out.assets,
    onLoanUnits: out.units,
    lost: state.assetsLost + unitsLost,
    lostAssets: state.assetsLost,
    lostUnits: unitsLost,
    inRepair: state.assetsInRepair + state.unitsInRepair,
    inRepairAssets: state.assetsInRepair,
    inRepairUnits: state.unitsInRepair,
  }
}

/**
 * The same period of the previous fiscal year: from its published snapshot when there is one
 * (source: 'snapshot' — later edits to old loans do not change the comparison), else computed now.
 */
export async function previousYearFigures(
  ctx: AppContext,
  q: { fiscalYear: number | null; period: ReportPeriod | 'range'; from: string; to: string },
  today: string,
  followUpDays: number,
): Promise<PreviousYearFigures> {
  if (q.fiscalYear !== null && q.period !== 'range') {
    const fy = q.fiscalYear - 1
    const published = await publications.publishedSnapshot(ctx.db, fy, q.period)
    if (published) {
      const { report } = JSON.parse(published.snapshot) as { report: Report }
      return { ...figuresOf(report), fiscalYear: fy, period: q.period, source: 'snapshot' }
    }
    return { fiscalYear: fy, period: q.period, source: 'live', ...(await periodFigures(ctx, fy, q.period, today, followUpDays)) }
  }
  const from = yearEarlier(q.from)
  const to = yearEarlier(q.to)
  return { fiscalYear: null, period: 'range', source: 'live', ...(await computeFigures(ctx, from, to, today, followUpDays)) }
}

/** The figures of a report without its own comparison, year-end state and time stamp. */
export function figuresOf(r: ReportFigures): ReportFigures {
  return {
    from: r.from,
    to: r.to,
    requests: r.requests,
    loans: r.loans,
    incidents: r.incidents,
    overdue: r.overdue,
    onTimeRate: r.onTimeRate,
    averageLoanDays: r.averageLoanDays,
    byMonth: r.byMonth,
    byQuarter: r.byQuarter,
    byCategory: r.byCategory,
    byDepartment: r.byDepartment,
    byBorrowerType: r.byBorrowerType,
    byKind: r.byKind,
    topAssets: r.topAssets,
    topStock: r.topStock,
  }
}

/** The statistics report for a fiscal-year period or any date range. Rules: see the comment above. */
export async function computeReport(ctx: AppContext, query: ReportQuery): Promise<Report> {
  let fiscalYear: number | null
  let period: ReportPeriod | 'range'
  let from: string
  let to: string
  if ('fiscalYear' in query) {
    ;({ from, to } = periodRange(query.fiscalYear, query.period))
    fiscalYear = query.fiscalYear
    period = query.period
  } else {
    checkRange(query.from, query.to)
    ;({ from, to } = query)
    fiscalYear = null
    period = 'range'
  }
  const settings = await getSettings(ctx)
  const now = ctx.clock.now()
  const today = bangkokDate(now)
  const figures =
    fiscalYear !== null && period !== 'range'
      ? await periodFigures(ctx, fiscalYear, period, today, settings.followUpDays)
      : await computeFigures(ctx, from, to, today, settings.followUpDays)
  const previousYear = await previousYearFigures(ctx, { fiscalYear, period, from, to }, today, settings.followUpDays)
  return {
    fiscalYear,
    period,
    ...figures,
    itemsAtYearEnd: fiscalYear !== null && period === 'year' ? await itemsAtYearEnd(ctx, fiscalYear, today) : null,
    previousYear,
    generatedAt: now.toISOString(),
  }
}
