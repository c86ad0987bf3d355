import type { Writable } from 'node:stream'
import ExcelJS from 'exceljs'
import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { fiscalYearOf, bangkokDate } from '../../i18n/calendar.js'
import { documentFormat } from '../../i18n/document-format.js'
import { formatDate, formatNumber, type Locale } from '../../i18n/format.js'
import { translate } from '../../i18n/index.js'
import { neutraliseCell } from '../../services/asset-export.service.js'
import { computeReport, REPORT_PERIODS, type Report, type ReportPeriod } from '../../services/report.service.js'
import { getSettings } from '../../services/settings.service.js'
import { barChart, hbarChart } from '../charts.js'
import { requireRole } from '../middleware/auth.js'

/*
 * The statistics report pages of SPEC §6 (figures from computeReport):
 *   GET /reports?fy=2568&period=year|h1|q1..q4   the screen (headline, comparison, breakdowns, SVG charts)
 *   GET /reports/print?...                        A4 portrait, agency header, Thai digits per setting
 *   GET /reports.csv?...                          UTF-8 BOM, Thai headers, one section per table
 *   GET /reports.xlsx?...                         the same rows in one worksheet
 * Finance, the executive and the committee.
 */

type Tr = (key: string, params?: Record<string, string | number>) => string

interface Headline {
  key: string
  value: number | null
  previous: number | null
  /** 'rate' = a share 0…1 shown as a percentage; 'decimal' = one decimal. */
  kind: 'count' | 'rate' | 'decimal'
}

interface Table {
  id: string
  titleKey: string
  head: string[]
  rows: Array<Array<string | number>>
}

function parseQuery(req: Request, today: string): { fiscalYear: number; period: ReportPeriod } {
  const fy = typeof req.query.fy === 'string' && req.query.fy !== '' ? req.query.fy : String(fiscalYearOf(today))
  if (!/^\d{4}$/.test(fy)) throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'fy', message: 'report.badFiscalYear' }])
  const period = typeof req.query.period === 'string' && req.query.period !== '' ? req.query.period : 'year'
  if (!(REPORT_PERIODS as readonly string[]).includes(period)) throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'period', message: 'report.badPeriod' }])
  return { fiscalYear: Number(fy), period: period as ReportPeriod }
}

export function headlines(r: Report): Headline[] {
  const p = r.previousYear
  return [
    { key: 'reportPages.h.requests', value: r.requests.total, previous: p.requests.total, kind: 'count' },
    { key: 'reportPages.h.approved', value: r.requests.approved, previous: p.requests.approved, kind: 'count' },
    { key: 'reportPages.h.rejected', value: r.requests.rejected, previous: p.requests.rejected, kind: 'count' },
    { key: 'reportPages.h.loans', value: r.loans.total, previous: p.loans.total, kind: 'count' },
    { key: 'reportPages.h.items', value: r.loans.items, previous: p.loans.items, kind: 'count' },
    { key: 'reportPages.h.onTimeRate', value: r.onTimeRate, previous: p.onTimeRate, kind: 'rate' },
    { key: 'reportPages.h.averageDays', value: r.averageLoanDays, previous: p.averageLoanDays, kind: 'decimal' },
    { key: 'reportPages.h.outstanding', value: r.loans.outstanding, previous: p.loans.outstanding, kind: 'count' },
    { key: 'reportPages.h.overdue', value: r.overdue.cases, previous: p.overdue.cases, kind: 'count' },
    { key: 'reportPages.h.followedUp', value: r.overdue.followedUpInTime, previous: p.overdue.followedUpInTime, kind: 'count' },
    { key: 'reportPages.h.damaged', value: r.incidents.damaged, previous: p.incidents.damaged, kind: 'count' },
    { key: 'reportPages.h.lost', value: r.incidents.lost, previous: p.incidents.lost, kind: 'count' },
  ]
}

/** The value of a headline as shown: a percentage with one decimal, one decimal, or a count. */
function shownValue(h: Pick<Headline, 'kind'>, v: number | null, num: (n: number, decimals?: number) => string, none: string): string {
  if (v === null) return none
  if (h.kind === 'rate') return `${num(Math.round(v * 1000) / 10, 1)}%`
  if (h.kind === 'decimal') return num(v, 1)
  return num(v)
}

/** «ต.ค. 2567» from 'YYYY-MM': the short date of the 1st without its day. */
function monthLabel(month: string, date: (d: string) => string): string {
  return date(`${month}-01`).split(' ').slice(1).join(' ')
}

function tables(r: Report, t: Tr, monthName: (m: string) => string): Table[] {
  const loanCols = [t('reportPages.col.loans'), t('reportPages.col.items')]
  return [
    { id: 'month', titleKey: 'reportPages.byMonth', head: [t('reportPages.col.month'), t('reportPages.col.requests'), ...loanCols], rows: r.byMonth.map((m) => [monthName(m.month), m.requests, m.loans, m.items]) },
    {
      id: 'quarter',
      titleKey: 'reportPages.byQuarter',
      head: [t('reportPages.col.quarter'), t('reportPages.col.requests'), ...loanCols],
      rows: r.byQuarter.map((q) => [t('reportPages.quarterLabel', { quarter: q.quarter, year: q.fiscalYear }), q.requests, q.loans, q.items]),
    },
    { id: 'category', titleKey: 'reportPages.byCategory', head: [t('reportPages.col.name'), ...loanCols], rows: r.byCategory.map((c) => [c.name ?? c.category ?? t('reportPages.noCategory'), c.loans, c.items]) },
    { id: 'department', titleKey: 'reportPages.byDepartment', head: [t('reportPages.col.name'), ...loanCols], rows: r.byDepartment.map((d) => [d.name ?? t('reportPages.noDepartment'), d.loans, d.items]) },
    { id: 'borrowerType', titleKey: 'reportPages.byBorrowerType', head: [t('reportPages.col.name'), ...loanCols], rows: r.byBorrowerType.map((b) => [t(`borrowerType.${b.borrowerType}`), b.loans, b.items]) },
    { id: 'kind', titleKey: 'reportPages.byKind', head: [t('reportPages.col.name'), ...loanCols], rows: r.byKind.map((k) => [t(`loan.kind.${k.kind}`), k.loans, k.items]) },
    { id: 'topAssets', titleKey: 'reportPages.topAssets', head: [t('reportPages.col.code'), t('reportPages.col.name'), t('reportPages.col.loans')], rows: r.topAssets.map((a) => [a.code, a.name, a.loans]) },
    {
      id: 'topStock',
      titleKey: 'reportPages.topStock',
      head: [t('reportPages.col.code'), t('reportPages.col.name'), t('reportPages.col.loans'), t('reportPages.col.units')],
      rows: r.topStock.map((s) => [s.code, s.name, s.loans, s.units]),
    },
  ]
}

function charts(r: Report, t: Tr, monthName: (m: string) => string, num: (n: number) => string): { byMonth: string; byCategory: string } {
  return {
    byMonth: barChart({
      id: 'chart-month',
      title: t('reportPages.chart.byMonth'),
      axisLabel: t('reportPages.chart.loansAxis'),
      formatTick: num,
      bars: r.byMonth.map((m) => ({ label: monthName(m.month), value: m.loans, shown: num(m.loans) })),
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

function linkQuery(r: Report): string {
  return `?fy=${r.fiscalYear ?? ''}&period=${r.period}`
}

function validationErrors(req: Request, e: unknown): Array<{ field: string; message: string }> {
  if (!isAppError(e) || e.code !== 'validation_failed') throw e
  return (e.details ?? []).map((d) => ({ field: d.field, message: req.t(d.message) }))
}

/** The rows of the CSV / XLSX: one section per table, a blank row between; `title` rows start a section. */
export function reportRows(r: Report, t: Tr, monthName: (m: string) => string, date: (d: string) => string): Array<{ cells: Array<string | number>; title?: boolean }> {
  const out: Array<{ cells: Array<string | number>; title?: boolean }> = []
  const row = (cells: Array<string | number>, title = false) => out.push(title ? { cells, title } : { cells })
  row([t('reportPages.title')], true)
  row([t('reportPages.periodLine', { year: r.fiscalYear ?? '', period: t(`reportPages.period.${r.period}`), from: date(r.from), to: date(r.to) })])
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
  row([])
  row([t('reportPages.footnoteTitle')], true)
  row([t('reportPages.footnote')])
  return out
}

export function reportCsv(r: Report, t: Tr, monthName: (m: string) => string, date: (d: string) => string): string {
  const cell = (v: string | number): string => {
    const s = typeof v === 'number' ? String(v) : neutraliseCell(v)
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  const lines = reportRows(r, t, monthName, date).map((l) => l.cells.map(cell).join(','))
  return `\uFEFF${lines.join('\r\n')}\r\n`
}

async function writeReportXlsx(r: Report, t: Tr, monthName: (m: string) => string, date: (d: string) => string, out: Writable): Promise<void> {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet(t('nav.reports'), { pageSetup: { paperSize: 9, orientation: 'portrait' } })
  ws.columns = [{ width: 40 }, { width: 22 }, { width: 18 }, { width: 14 }]
  for (const l of reportRows(r, t, monthName, date)) {
    const added = ws.addRow(l.cells.map((c) => (typeof c === 'number' ? c : neutraliseCell(c))))
    if (l.title) added.font = { bold: true }
  }
  await wb.xlsx.write(out)
}

export function reportRoutes(ctx: AppContext): Router {
  const router = Router()
  const readers = requireRole('finance', 'executive', 'committee')
  const today = () => bangkokDate(ctx.clock.now())

  router.get('/reports', readers, async (req, res) => {
    const locale = (res.locals.locale ?? 'th') as Locale
    const num = (n: number, decimals?: number) => formatNumber(n, decimals === undefined ? {} : { decimals })
    const monthName = (m: string) => monthLabel(m, (d) => formatDate(d, { locale, style: 'short' }))
    let report: Report | undefined
    let errors: Array<{ field: string; message: string }> = []
    try {
      report = await computeReport(ctx, parseQuery(req, today()))
    } catch (e) {
      errors = validationErrors(req, e)
    }
    const fy = report?.fiscalYear ?? fiscalYearOf(today())
    res.status(report ? 200 : 422).render('reports/index', {
      title: req.t('reportPages.title'),
      report,
      errors,
      form: { fy: String(report?.fiscalYear ?? req.query.fy ?? ''), period: report?.period ?? 'year' },
      periods: REPORT_PERIODS,
      years: Array.from({ length: 6 }, (_, i) => fiscalYearOf(today()) + 1 - i).concat(fy > fiscalYearOf(today()) + 1 ? [fy] : []),
      links: report ? linkQuery(report) : '',
      headlines: report ? headlines(report) : [],
      tables: report ? tables(report, req.t, monthName) : [],
      charts: report ? charts(report, req.t, monthName, (n) => num(n)) : null,
      shown: (h: Headline, v: number | null) => shownValue(h, v, num, req.t('reportPages.none')),
      monthName,
    })
  })

  router.get('/reports/print', readers, async (req, res) => {
    const report = await computeReport(ctx, parseQuery(req, today()))
    const settings = await getSettings(ctx)
    const doc = documentFormat({ thaiDigits: settings.thaiDigits })
    const num = (n: number, decimals?: number) => formatNumber(n, { thaiDigits: settings.thaiDigits, ...(decimals === undefined ? {} : { decimals }) })
    const monthName = (m: string) => monthLabel(m, (d) => doc.date(d, 'short'))
    res.render('print/report', {
      title: req.t('reportPages.title'),
      ui: req.t,
      t: doc.t,
      doc,
      settings,
      report,
      headlines: headlines(report),
      tables: tables(report, doc.t, monthName),
      charts: charts(report, doc.t, monthName, (n) => num(n)),
      shown: (h: Headline, v: number | null) => shownValue(h, v, num, '–'),
      backHref: `/reports${linkQuery(report)}`,
    })
  })

  const downloadArgs = async (req: Request) => {
    const report = await computeReport(ctx, parseQuery(req, today()))
    const th: Tr = (key, params) => translate('th', key, params)
    const monthName = (m: string) => monthLabel(m, (d) => formatDate(d, { locale: 'th', style: 'short' }))
    const date = (d: string) => formatDate(d, { locale: 'th', style: 'long' })
    return { report, th, monthName, date }
  }
  const attachment = (res: Response, report: Report, ext: 'csv' | 'xlsx', type: string) => {
    res.set('Content-Type', type)
    res.set('Content-Disposition', `attachment; filename="report-${report.fiscalYear}-${report.period}.${ext}"`)
  }

  router.get('/reports.csv', readers, async (req: Request, res: Response) => {
    const { report, th, monthName, date } = await downloadArgs(req)
    attachment(res, report, 'csv', 'text/csv; charset=utf-8')
    res.send(reportCsv(report, th, monthName, date))
  })

  router.get('/reports.xlsx', readers, async (req: Request, res: Response) => {
    const { report, th, monthName, date } = await downloadArgs(req)
    attachment(res, report, 'xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    await writeReportXlsx(report, th, monthName, date, res)
    res.end()
  })

  return router
}
