import type { Request, Response } from 'express'
import type { AppContext } from '../context.js'
import { AppError, isAppError } from '../errors.js'
import { typedDateError } from './typed-date.js'
import { fiscalYearOf, bangkokDate } from '../i18n/calendar.js'
import { formatDate, formatNumber, type Locale } from '../i18n/format.js'
import { computeReport, REPORT_PERIODS, type Report, type ReportPeriod, type ReportQuery } from '../services/report.service.js'
import type { CurrentUser } from '../services/user.service.js'
import { publicationList, publicationView, type PublicationForm } from './publication-view.js'
import { charts, headlines, linkQuery, monthLabel, periodLine, shownValue, tables, type Headline } from './report-views.js'

/*
 * The statistics report screen (GET /reports), rendered here rather than in a route file because two
 * routers show it: reports.routes.ts, and publication.routes.ts when a publication form is refused
 * (the report page again, 422, with the typed values).
 */

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
  if (!(REPORT_PERIODS as readonly string[]).includes(period))
    throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'period', message: 'report.badPeriod' }])
  return { fiscalYear: Number(fy), period: period as ReportPeriod }
}

function validationErrors(req: Request, e: unknown): Array<{ field: string; message: string }> {
  if (!isAppError(e) || e.code !== 'validation_failed') throw e
  return (e.details ?? []).map((d) => ({ field: d.field, message: typedDateError(req, d.field) ?? req.t(d.message) }))
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
  const user = req.user as CurrentUser
  const pubList = await publicationList(ctx, user)
  // Opened without a period, the page opens on the report waiting for this person (issue 17), else the current year.
  const bare = !['fy', 'period', 'from', 'to'].some((k) => req.query[k] !== undefined)
  const waitingPub = bare && !opts.query ? pubList.find((i) => i.awaitsYou)?.pub : undefined
  try {
    query = opts.query ?? (waitingPub ? { fiscalYear: waitingPub.fiscalYear, period: waitingPub.period } : parseQuery(req, today))
    report = await computeReport(ctx, query)
  } catch (e) {
    errors = validationErrors(req, e)
  }
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
    pubList,
    pubForm: opts.pubForm ?? null,
    monthName,
  })
}
