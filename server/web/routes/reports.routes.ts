import type { Writable } from 'node:stream'
import { loadExcelJS } from '../../services/exceljs-lazy.js'
import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { fiscalYearOf, bangkokDate } from '../../i18n/calendar.js'
import { documentFormat } from '../../i18n/document-format.js'
import { formatDate, formatNumber, type Locale } from '../../i18n/format.js'
import { translate } from '../../i18n/index.js'
import { neutraliseCell } from '../../services/asset-export.service.js'
import { computeReport, REPORT_PERIODS, type Report, type ReportPeriod, type ReportQuery } from '../../services/report.service.js'
import { getPublication, type Narrative } from '../../services/publication.service.js'
import type { CurrentUser } from '../../services/user.service.js'
import { narrativeOf, publicationList, publicationView, type PublicationForm } from '../publication-view.js'
import { getSettings } from '../../services/settings.service.js'
import { barChart, hbarChart } from '../charts.js'
import { requireRole } from '../middleware/auth.js'

/*
 * The statistics report pages of SPEC §6 (figures from computeReport):
 *   GET /reports?fy=2568&period=year|h1|q1..q4   the screen (headline, comparison, breakdowns, SVG charts)
 *   GET /reports/print?...                        A4 portrait, agency header, Thai digits per setting
 *   GET /reports.csv?...                          UTF-8 BOM, Thai headers, one section per table
 *   GET /reports.xlsx?...                         the same rows in one worksheet
 * Each also takes a free range, ?from=YYYY-MM-DD&to=YYYY-MM-DD (Common Era; files report-<from>-<to>):
 * a range is a report only, never published. A fiscal period's narrative (the frozen one once
 * submitted) follows the figures on every form; the screen adds the publication panel and the list
 * of submitted reports (publication-view.ts; the POSTs are in publication.routes.ts).
 * Finance, the executive and the committee.
 */

export type Tr = (key: string, params?: Record<string, string | number>) => string

export interface Headline {
  key: string
  value: number | null
  previous: number | null
  /** 'rate' = a share 0…1 shown as a percentage; 'decimal' = one decimal. */
  kind: 'count' | 'rate' | 'decimal'
}

export interface Table {
  id: string
  titleKey: string
  head: string[]
  rows: Array<Array<string | number>>
}

/**
 * `?fy=&period=` (a fiscal-year period) or `?from=&to=` / `?period=range&from=&to=` (any range, Common
 * Era dates); the dates themselves are checked by computeReport (422 `validation_failed`).
 */
export function parseQuery(req: Request, today: string): ReportQuery {
  const q = (k: string) => (typeof req.query[k] === 'string' ? (req.query[k] as string).trim() : '')
  if (q('period') === 'range' || (q('period') === '' && (q('from') !== '' || q('to') !== ''))) return { from: q('from'), to: q('to') }
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

export function charts(r: Report, t: Tr, monthName: (m: string) => string, num: (n: number) => string): { byMonth: string; byCategory: string } {
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

export function linkQuery(r: Pick<Report, 'fiscalYear' | 'period' | 'from' | 'to'>): string {
  return r.period === 'range' ? `?from=${r.from}&to=${r.to}` : `?fy=${r.fiscalYear ?? ''}&period=${r.period}`
}

/** The period line of a report: «ปีงบประมาณ พ.ศ. 2568 · ทั้งปีงบประมาณ · …» or «ช่วงวันที่ … ถึง …». */
export function periodLine(r: Pick<Report, 'fiscalYear' | 'period' | 'from' | 'to'>, t: Tr, date: (d: string) => string): string {
  if (r.period === 'range') return t('pubPages.rangeLine', { from: date(r.from), to: date(r.to) })
  return t('reportPages.periodLine', { year: r.fiscalYear ?? '', period: t(`reportPages.period.${r.period}`), from: date(r.from), to: date(r.to) })
}

/** The narrative that goes with a fiscal-period report (the frozen one once submitted); none for a range. */
async function reportNarrative(ctx: AppContext, r: Report): Promise<Narrative | null> {
  if (r.fiscalYear === null || r.period === 'range') return null
  return narrativeOf(await getPublication(ctx, r.fiscalYear, r.period))
}

function validationErrors(req: Request, e: unknown): Array<{ field: string; message: string }> {
  if (!isAppError(e) || e.code !== 'validation_failed') throw e
  return (e.details ?? []).map((d) => ({ field: d.field, message: req.t(d.message) }))
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
  const cell = (v: string | number): string => {
    const s = typeof v === 'number' ? String(v) : neutraliseCell(v)
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  const lines = reportRows(r, t, monthName, date, narrative).map((l) => l.cells.map(cell).join(','))
  return `\uFEFF${lines.join('\r\n')}\r\n`
}

async function writeReportXlsx(r: Report, t: Tr, monthName: (m: string) => string, date: (d: string) => string, narrative: Narrative | null, out: Writable): Promise<void> {
  const Excel = await loadExcelJS()
  const wb = new Excel.Workbook()
  const ws = wb.addWorksheet(t('nav.reports'), { pageSetup: { paperSize: 9, orientation: 'portrait' } })
  ws.columns = [{ width: 40 }, { width: 22 }, { width: 18 }, { width: 14 }]
  for (const l of reportRows(r, t, monthName, date, narrative)) {
    const added = ws.addRow(l.cells.map((c) => (typeof c === 'number' ? c : neutraliseCell(c))))
    if (l.title) added.font = { bold: true }
  }
  await wb.xlsx.write(out)
}

/**
 * The report screen. `opts.query` replaces the URL's (a publication form re-rendered after a refusal);
 * `opts.pubForm` is that form with its message, field errors and typed values.
 */
export async function renderReportPage(
  ctx: AppContext,
  req: Request,
  res: Response,
  opts: { query?: ReportQuery; status?: number; pubForm?: PublicationForm } = {},
): Promise<void> {
  const today = bangkokDate(ctx.clock.now())
  const locale = (res.locals.locale ?? 'th') as Locale
  const num = (n: number, decimals?: number) => formatNumber(n, decimals === undefined ? {} : { decimals })
  const monthName = (m: string) => monthLabel(m, (d) => formatDate(d, { locale, style: 'short' }))
  let report: Report | undefined
  let errors: Array<{ field: string; message: string }> = []
  let query: ReportQuery | undefined
  try {
    query = opts.query ?? parseQuery(req, today)
    report = await computeReport(ctx, query)
  } catch (e) {
    errors = validationErrors(req, e)
  }
  const user = req.user as CurrentUser
  const fy = report?.fiscalYear ?? fiscalYearOf(today)
  const str = (k: string) => (typeof req.query[k] === 'string' ? (req.query[k] as string) : '')
  const range = query ? !('fiscalYear' in query) : str('period') === 'range' || str('from') !== '' || str('to') !== ''
  res.status(report ? (opts.status ?? 200) : 422).render('reports/index', {
    title: req.t('reportPages.title'),
    report,
    errors,
    form: {
      fy: String(report?.fiscalYear ?? (query && 'fiscalYear' in query ? query.fiscalYear : str('fy') || fiscalYearOf(today))),
      period: range ? 'range' : (report?.period ?? 'year'),
      from: report?.period === 'range' ? report.from : str('from'),
      to: report?.period === 'range' ? report.to : str('to'),
    },
    periods: REPORT_PERIODS,
    years: Array.from({ length: 6 }, (_, i) => fiscalYearOf(today) + 1 - i).concat(fy > fiscalYearOf(today) + 1 ? [fy] : []),
    links: report ? linkQuery(report) : '',
    headlines: report ? headlines(report) : [],
    tables: report ? tables(report, req.t, monthName) : [],
    charts: report ? charts(report, req.t, monthName, (n) => num(n)) : null,
    shown: (h: Pick<Headline, 'kind'>, v: number | null) => shownValue(h, v, num, req.t('reportPages.none')),
    periodText: report ? periodLine(report, req.t, (d) => formatDate(d, { locale, style: 'long' })) : '',
    pv: report ? await publicationView(ctx, user, report) : null,
    pubList: await publicationList(ctx, user),
    pubForm: opts.pubForm ?? null,
    monthName,
  })
}

export function reportRoutes(ctx: AppContext): Router {
  const router = Router()
  const readers = requireRole('finance', 'executive', 'committee')
  const today = () => bangkokDate(ctx.clock.now())

  router.get('/reports', readers, async (req, res) => {
    await renderReportPage(ctx, req, res)
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
      periodText: periodLine(report, doc.t, (d) => doc.date(d)),
      narrative: await reportNarrative(ctx, report),
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
    return { report, th, monthName, date, narrative: await reportNarrative(ctx, report) }
  }
  const attachment = (res: Response, report: Report, ext: 'csv' | 'xlsx', type: string) => {
    const name = report.period === 'range' ? `report-${report.from}-${report.to}` : `report-${report.fiscalYear}-${report.period}`
    res.set('Content-Type', type)
    res.set('Content-Disposition', `attachment; filename="${name}.${ext}"`)
  }

  router.get('/reports.csv', readers, async (req: Request, res: Response) => {
    const { report, th, monthName, date, narrative } = await downloadArgs(req)
    attachment(res, report, 'csv', 'text/csv; charset=utf-8')
    res.send(reportCsv(report, th, monthName, date, narrative))
  })

  router.get('/reports.xlsx', readers, async (req: Request, res: Response) => {
    const { report, th, monthName, date, narrative } = await downloadArgs(req)
    attachment(res, report, 'xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    await writeReportXlsx(report, th, monthName, date, narrative, res)
    res.end()
  })

  return router
}
