import type { Writable } from 'node:stream'
import { loadExcelJS } from '../services/exceljs-lazy.js'
import { excelCsv } from '../lib/csv.js'
import type { Narrative } from '../services/publication.service.js'
import type { Report } from '../services/report.service.js'
import { barChart, hbarChart } from './charts.js'

/*
 * The view-models of a statistics report (SPEC §6), shared by the signed-in report pages
 * (reports.routes.ts, report-page.ts) and the public transparency pages: the headline figures and
 * how they are shown, the breakdown tables, the SVG charts, the period line, and the rows of the
 * CSV / XLSX files. Pure shaping of a computed Report; the figures come from computeReport.
 */

export type Tr = (key: string, params?: Record<string, string | number>) => string

export interface Headline {
  key: string
  value: number | null
  previous: number | null
  /** 'rate' = a share 0…1 shown as a percentage; 'decimal' = one decimal. */
  kind: 'count' | 'rate' | 'decimal'
  /**
   * Which way is better for this measure (issue 17): more on-time returns is better, more late,
   * lost or damaged is worse; more loans or requests is neither — the comparison says so in words.
   */
  better: 'more' | 'less' | null
  /** Against the same period of the previous year (comparison()); null when either is missing. */
  change: Comparison | null
}

export interface Comparison {
  /** The change between the two values as shown (rounded as displayed), never negative. */
  amount: number
  direction: 'up' | 'down' | 'same'
  verdict: 'better' | 'worse' | 'neutral'
}

/** The shown precision of a value: a change that rounds to zero is «the same», with no arrow. */
function asShown(h: Pick<Headline, 'kind'>, v: number): number {
  if (h.kind === 'rate') return Math.round(v * 1000) / 10
  if (h.kind === 'decimal') return Math.round(v * 10) / 10
  return v
}

/** This period against the same period of the previous year, judged per measure; null without both values. */
export function comparison(h: Pick<Headline, 'kind' | 'value' | 'previous' | 'better'>): Comparison | null {
  if (h.value === null || h.previous === null) return null
  // Compare the values as the reader sees them (78.0 % against 78.2 % is 0.2 points), in tenths to avoid float noise.
  const diff = Math.round((asShown(h, h.value) - asShown(h, h.previous)) * 10) / 10
  if (diff === 0) return { amount: 0, direction: 'same', verdict: 'neutral' }
  const direction = diff > 0 ? 'up' : 'down'
  const verdict = h.better === null ? 'neutral' : (h.better === 'more') === diff > 0 ? 'better' : 'worse'
  // A rate's change is in percentage points: shownValue takes a share, so hand it back as one.
  return { amount: h.kind === 'rate' ? Math.abs(diff) / 100 : Math.abs(diff), direction, verdict }
}

export interface Table {
  id: string
  titleKey: string
  head: string[]
  rows: Array<Array<string | number>>
}

export function headlines(r: Report): Headline[] {
  const p = r.previousYear
  const list: Array<Omit<Headline, 'change'>> = [
    { key: 'reportPages.h.requests', value: r.requests.total, previous: p.requests.total, kind: 'count', better: null },
    { key: 'reportPages.h.approved', value: r.requests.approved, previous: p.requests.approved, kind: 'count', better: null },
    { key: 'reportPages.h.rejected', value: r.requests.rejected, previous: p.requests.rejected, kind: 'count', better: null },
    { key: 'reportPages.h.loans', value: r.loans.total, previous: p.loans.total, kind: 'count', better: null },
    { key: 'reportPages.h.items', value: r.loans.items, previous: p.loans.items, kind: 'count', better: null },
    { key: 'reportPages.h.onTimeRate', value: r.onTimeRate, previous: p.onTimeRate, kind: 'rate', better: 'more' },
    { key: 'reportPages.h.averageDays', value: r.averageLoanDays, previous: p.averageLoanDays, kind: 'decimal', better: null },
    { key: 'reportPages.h.outstanding', value: r.loans.outstanding, previous: p.loans.outstanding, kind: 'count', better: 'less' },
    { key: 'reportPages.h.overdue', value: r.overdue.cases, previous: p.overdue.cases, kind: 'count', better: 'less' },
    // Followed up in time rises with the overdue cases themselves: neither better nor worse on its own.
    { key: 'reportPages.h.followedUp', value: r.overdue.followedUpInTime, previous: p.overdue.followedUpInTime, kind: 'count', better: null },
    { key: 'reportPages.h.damaged', value: r.incidents.damaged, previous: p.incidents.damaged, kind: 'count', better: 'less' },
    { key: 'reportPages.h.lost', value: r.incidents.lost, previous: p.incidents.lost, kind: 'count', better: 'less' },
  ]
  return list.map((h) => ({ ...h, change: comparison(h) }))
}

/** The value of a headline as shown: a percentage with one decimal, one decimal, or a count. */
export function shownValue(h: Pick<Headline, 'kind'>, v: number | null, num: (n: number, decimals?: number) => string, none: string): string {
  if (v === null) return none
  if (h.kind === 'rate') return `${num(Math.round(v * 1000) / 10, 1)}%`
  if (h.kind === 'decimal') return num(v, 1)
  return num(v)
}

/** «ต.ค. 2567» from 'YYYY-MM': the short date of the 1st without its day. */
export function monthLabel(month: string, date: (d: string) => string): string {
  return date(`${month}-01`).split(' ').slice(1).join(' ')
}

export function tables(r: Report, t: Tr, monthName: (m: string) => string): Table[] {
  const loanCols = [t('reportPages.col.loans'), t('reportPages.col.items')]
  return [
    {
      id: 'month',
      titleKey: 'reportPages.byMonth',
      head: [t('reportPages.col.month'), t('reportPages.col.requests'), ...loanCols],
      rows: r.byMonth.map((m) => [monthName(m.month), m.requests, m.loans, m.items]),
    },
    {
      id: 'quarter',
      titleKey: 'reportPages.byQuarter',
      head: [t('reportPages.col.quarter'), t('reportPages.col.requests'), ...loanCols],
      rows: r.byQuarter.map((q) => [t('reportPages.quarterLabel', { quarter: q.quarter, year: q.fiscalYear }), q.requests, q.loans, q.items]),
    },
    {
      id: 'category',
      titleKey: 'reportPages.byCategory',
      head: [t('reportPages.col.name'), ...loanCols],
      rows: r.byCategory.map((c) => [c.name ?? c.category ?? t('reportPages.noCategory'), c.loans, c.items]),
    },
    {
      id: 'department',
      titleKey: 'reportPages.byDepartment',
      head: [t('reportPages.col.name'), ...loanCols],
      rows: r.byDepartment.map((d) => [d.name ?? t('reportPages.noDepartment'), d.loans, d.items]),
    },
    {
      id: 'borrowerType',
      titleKey: 'reportPages.byBorrowerType',
      head: [t('reportPages.col.name'), ...loanCols],
      rows: r.byBorrowerType.map((b) => [t(`borrowerType.${b.borrowerType}`), b.loans, b.items]),
    },
    {
      id: 'kind',
      titleKey: 'reportPages.byKind',
      head: [t('reportPages.col.name'), ...loanCols],
      rows: r.byKind.map((k) => [t(`loan.kind.${k.kind}`), k.loans, k.items]),
    },
    {
      id: 'topAssets',
      titleKey: 'reportPages.topAssets',
      head: [t('reportPages.col.code'), t('reportPages.col.name'), t('reportPages.col.loans')],
      rows: r.topAssets.map((a) => [a.code, a.name, a.loans]),
    },
    {
      id: 'topStock',
      titleKey: 'reportPages.topStock',
      head: [t('reportPages.col.code'), t('reportPages.col.name'), t('reportPages.col.loans'), t('reportPages.col.units')],
      rows: r.topStock.map((s) => [s.code, s.name, s.loans, s.units]),
    },
  ]
}

export function charts(
  r: Report,
  t: Tr,
  monthName: (m: string) => string,
  num: (n: number) => string,
): { byMonth: string; byMonthNarrow: string; byCategory: string } {
  const months = r.byMonth.map((m) => ({ label: monthName(m.month), value: m.loans, shown: num(m.loans) }))
  return {
    // A phone gets the months as rows (issue 17): twelve columns would not fit its card without a sideways scroll.
    byMonthNarrow: hbarChart({
      id: 'chart-month-narrow',
      title: t('reportPages.chart.byMonth'),
      axisLabel: t('reportPages.chart.loansAxis'),
      formatTick: num,
      labelWidth: 76,
      bars: months,
    }),
    byMonth: barChart({
      id: 'chart-month',
      title: t('reportPages.chart.byMonth'),
      axisLabel: t('reportPages.chart.loansAxis'),
      formatTick: num,
      bars: months,
    }),
    byCategory: hbarChart({
      id: 'chart-category',
      title: t('reportPages.chart.byCategory'),
      axisLabel: t('reportPages.chart.itemsAxis'),
      formatTick: num,
      bars: r.byCategory.map((c) => ({ label: c.name ?? c.category ?? t('reportPages.noCategory'), value: c.items, shown: num(c.items) })),
    }),
  }
}

export function linkQuery(r: Pick<Report, 'fiscalYear' | 'period' | 'from' | 'to'>): string {
  return r.period === 'range' ? `?from=${r.from}&to=${r.to}` : `?fy=${r.fiscalYear ?? ''}&period=${r.period}`
}

/** The period line of a report: «ปีงบประมาณ พ.ศ. 2568 · ทั้งปีงบประมาณ · …» or «ช่วงวันที่ … ถึง …». */
export function periodLine(r: Pick<Report, 'fiscalYear' | 'period' | 'from' | 'to'>, t: Tr, date: (d: string) => string): string {
  if (r.period === 'range') return t('pubPages.rangeLine', { from: date(r.from), to: date(r.to) })
  return t('reportPages.periodLine', { year: r.fiscalYear ?? '', period: t(`reportPages.period.${r.period}`), from: date(r.from), to: date(r.to) })
}

/** The rows of the CSV / XLSX: one section per table, a blank row between; `title` rows start a section. */
export function reportRows(
  r: Report,
  t: Tr,
  monthName: (m: string) => string,
  date: (d: string) => string,
  narrative: Narrative | null = null,
): Array<{ cells: Array<string | number>; title?: boolean }> {
  const out: Array<{ cells: Array<string | number>; title?: boolean }> = []
  const row = (cells: Array<string | number>, title = false) => out.push(title ? { cells, title } : { cells })
  row([t('reportPages.title')], true)
  row([periodLine(r, t, date)])
  row([])
  row([t('reportPages.headline')], true)
  row([t('reportPages.figure'), t('reportPages.thisPeriod'), t('reportPages.previous')])
  const raw = (h: Headline, v: number | null): string | number => (v === null ? '' : h.kind === 'rate' ? Math.round(v * 1000) / 10 : v)
  for (const h of headlines(r)) row([t(h.key) + (h.kind === 'rate' ? ' (%)' : ''), raw(h, h.value), raw(h, h.previous)])
  for (const tb of tables(r, t, monthName)) {
    row([])
    row([t(tb.titleKey)], true)
    row(tb.head)
    for (const rw of tb.rows) row(rw)
  }
  if (narrative) {
    row([])
    row([t('pubPages.narrative')], true)
    for (const k of ['summary', 'problems', 'suggestions'] as const) row([t(`pubPages.narrative.${k}`), narrative[k]])
  }
  row([])
  row([t('reportPages.footnoteTitle')], true)
  row([t('reportPages.footnote')])
  return out
}

export function reportCsv(r: Report, t: Tr, monthName: (m: string) => string, date: (d: string) => string, narrative: Narrative | null = null): string {
  return excelCsv(reportRows(r, t, monthName, date, narrative).map((l) => l.cells))
}

export async function writeReportXlsx(
  r: Report,
  t: Tr,
  monthName: (m: string) => string,
  date: (d: string) => string,
  narrative: Narrative | null,
  out: Writable,
): Promise<void> {
  const Excel = await loadExcelJS()
  const wb = new Excel.Workbook()
  const ws = wb.addWorksheet(t('nav.reports'), { pageSetup: { paperSize: 9, orientation: 'portrait' } })
  ws.columns = [{ width: 40 }, { width: 22 }, { width: 18 }, { width: 14 }]
  for (const l of reportRows(r, t, monthName, date, narrative)) {
    // Text cells are never formulas in XLSX (exceljs writes them as strings), so they stay as typed.
    const added = ws.addRow(l.cells)
    if (l.title) added.font = { bold: true }
  }
  await wb.xlsx.write(out)
}
