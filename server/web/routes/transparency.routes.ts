import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError } from '../../errors.js'
import { bangkokDate } from '../../i18n/calendar.js'
import { formatDate, formatNumber, type Locale } from '../../i18n/format.js'
import { translate } from '../../i18n/index.js'
import { documentFormat } from '../../i18n/document-format.js'
import { chainHead } from '../../services/audit.service.js'
import { hashSnapshot, listPublications, publicReport, publishedReport, type Publication } from '../../services/publication.service.js'
import { REPORT_PERIODS, type ReportPeriod } from '../../services/report.service.js'
import { getSettings, type AgencySettings } from '../../services/settings.service.js'
import { flowchart } from '../flowchart.js'
import { useLayouts } from '../layout.js'
import { charts, headlines, monthLabel, reportCsv, shownValue, tables, type Headline, type Tr } from '../report-views.js'

/*
 * The public transparency pages (SPEC §4, §5, §6) — no sign-in, mounted before the session, so a
 * visitor gets no cookie and the answers can be cached by a proxy:
 *
 *   GET /transparency                              published reports by fiscal year, how to borrow, link to the pack
 *   GET /transparency/procedures                   the procedure pack: flowchart, rules, blank slips (A4)
 *   GET /transparency/<fy>.json | .csv             the fiscal year's report: the year once published, else the
 *                                                  latest published period of that year (h1, else the last quarter)
 *   GET /transparency/<fy>/<period>                a published snapshot as a page (print → A4 portrait)
 *   GET /transparency/<fy>/<period>.json | .csv    the same data; JSON = publicReport() exactly
 *   GET /transparency/<fy>/<period>.snapshot.json  the frozen snapshot text itself: its sha256 is the published hash
 *
 * Only published snapshots are shown: the figures and narrative frozen at submission, never live data,
 * and aggregates only (publicReport and the snapshot hold no person's name, phone, address or user id).
 */

const DATA_CACHE = 'public, max-age=300'
/** The periods in the order a person reads them: the year first, then the half, then the quarters. */
const PERIOD_ORDER: readonly ReportPeriod[] = REPORT_PERIODS
/** When the whole year is not published yet, the year's file is the most recent period that is. */
const YEAR_FALLBACK: readonly ReportPeriod[] = ['year', 'h1', 'q4', 'q3', 'q2', 'q1']

type Published = NonNullable<Awaited<ReturnType<typeof publishedReport>>>

/** A Buddhist-era year as typed in a stable URL; anything else is simply not found. */
function yearParam(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{4}$/.test(v)) return null
  const n = Number(v)
  return n >= 2400 && n <= 2800 ? n : null
}

function periodParam(v: unknown): ReportPeriod | null {
  return typeof v === 'string' && (REPORT_PERIODS as readonly string[]).includes(v) ? (v as ReportPeriod) : null
}

function notFoundJson(req: Request, res: Response): void {
  res.set('Access-Control-Allow-Origin', '*')
  res.set('Cache-Control', 'no-store')
  res.status(404).json({ error: { code: 'not_found', message: req.t('transparency.notPublished') } })
}

function dataHeaders(res: Response, type: string): void {
  res.set('Content-Type', type)
  res.set('Cache-Control', DATA_CACHE)
  // Public data: other sites (an ITA dashboard, a province portal) may fetch it from the browser.
  res.set('Access-Control-Allow-Origin', '*')
  res.set('Cross-Origin-Resource-Policy', 'cross-origin')
}

/** What the public templates need (they run without the signed-in page locals). */
function publicLocals(req: Request, res: Response, settings: AgencySettings): void {
  useLayouts(res) // mounted before the page locals: the public pages put themselves in their layout here
  const locale = req.locale
  Object.assign(res.locals, {
    t: req.t,
    locale,
    agencyName: settings.agencyName,
    currentPath: req.path,
    fmt: {
      date: (d: string | Date, style: 'short' | 'long' | 'numeric' = 'short') => formatDate(d, { locale, style }),
      number: (n: number) => formatNumber(n),
    },
  })
  res.set('Cache-Control', DATA_CACHE)
}

/** The audit log's head as the public may see it (SPEC §5): the entry number and the short hash, nothing more. */
async function publicChainHead(ctx: AppContext): Promise<{ seq: number; short: string }> {
  const { seq, short } = await chainHead(ctx.db)
  return { seq, short }
}

/** The Bangkok calendar day of the executive's approval (the publication date), for «เผยแพร่เมื่อ …». */
function publishedOn(p: Publication): string | null {
  return p.approvedAt ? bangkokDate(new Date(p.approvedAt)) : null
}

function periodName(t: Tr, p: ReportPeriod): string {
  return t(`reportPages.period.${p}`)
}

/** The CSV of a published report: the signed-in report's rows, from the snapshot, with its narrative (Thai). */
function snapshotCsv(p: Published): string {
  const th: Tr = (key, params) => translate('th', key, params)
  const monthName = (m: string) => monthLabel(m, (d) => formatDate(d, { locale: 'th', style: 'short' }))
  const date = (d: string) => formatDate(d, { locale: 'th', style: 'long' })
  return reportCsv(p.snapshot.report, th, monthName, date, p.snapshot.narrative)
}

function sendJson(res: Response, p: Published): void {
  dataHeaders(res, 'application/json; charset=utf-8')
  res.send(JSON.stringify(publicReport(p)))
}

function sendCsv(res: Response, p: Published): void {
  dataHeaders(res, 'text/csv; charset=utf-8')
  res.set('Content-Disposition', `inline; filename="transparency-${p.publication.fiscalYear}-${p.publication.period}.csv"`)
  res.send(snapshotCsv(p))
}

/** The borrowing steps in plain Thai for citizens, from the settings (shared by the index and the pack). */
function howToSteps(t: Tr, s: AgencySettings): string[] {
  return [
    t('transparency.howTo.who'),
    t('transparency.howTo.ask'),
    t('transparency.howTo.approve'),
    t('transparency.howTo.handover'),
    t('transparency.howTo.return', { max: s.maxLoanDays, default: s.defaultLoanDays }),
    t('transparency.howTo.followUp', { days: s.followUpDays }),
    t('transparency.howTo.compensation'),
  ]
}

/** The borrowing flowchart of the procedure pack (server-rendered SVG, Thai text wrapped in its boxes). */
function loanFlowchart(t: Tr, s: AgencySettings): string {
  return flowchart({
    id: 'loan-flow',
    title: t('procedures.flowTitle'),
    nodes: [
      { id: 'request', text: t('procedures.flow.request'), shape: 'terminal', row: 0, col: 0 },
      { id: 'check', text: t('procedures.flow.check'), shape: 'box', row: 1, col: 0 },
      { id: 'off', text: t('procedures.flow.offPremises'), shape: 'decision', row: 2, col: 0 },
      { id: 'executive', text: t('procedures.flow.executive'), shape: 'box', row: 2, col: 1 },
      { id: 'supplies', text: t('procedures.flow.suppliesHead'), shape: 'box', row: 3, col: 0 },
      { id: 'handover', text: t('procedures.flow.handover'), shape: 'box', row: 4, col: 0 },
      { id: 'return', text: t('procedures.flow.return'), shape: 'box', row: 5, col: 0 },
      { id: 'late', text: t('procedures.flow.late'), shape: 'decision', row: 6, col: 0 },
      { id: 'followUp', text: t('procedures.flow.followUp', { days: s.followUpDays }), shape: 'box', row: 6, col: 1 },
      { id: 'damaged', text: t('procedures.flow.damaged'), shape: 'decision', row: 7, col: 0 },
      { id: 'compensate', text: t('procedures.flow.compensate'), shape: 'box', row: 7, col: 1 },
      { id: 'done', text: t('procedures.flow.done'), shape: 'terminal', row: 8, col: 0 },
    ],
    edges: [
      { from: 'request', to: 'check' },
      { from: 'check', to: 'off' },
      { from: 'off', to: 'executive', label: t('procedures.flow.yes') },
      { from: 'off', to: 'supplies', label: t('procedures.flow.no') },
      { from: 'supplies', to: 'handover' },
      { from: 'executive', to: 'handover' },
      { from: 'handover', to: 'return' },
      { from: 'return', to: 'late' },
      { from: 'late', to: 'followUp', label: t('procedures.flow.yes') },
      { from: 'late', to: 'damaged', label: t('procedures.flow.no') },
      { from: 'followUp', to: 'damaged' },
      { from: 'damaged', to: 'compensate', label: t('procedures.flow.yes') },
      { from: 'damaged', to: 'done', label: t('procedures.flow.no') },
      { from: 'compensate', to: 'done' },
    ],
  })
}

export function transparencyRoutes(ctx: AppContext): Router {
  const router = Router()

  /** The published report of a fiscal year: the year, else the latest published period of it. */
  const yearReport = async (fy: number): Promise<Published | null> => {
    for (const p of YEAR_FALLBACK) {
      const found = await publishedReport(ctx, fy, p)
      if (found) return found
    }
    return null
  }

  const periodReport = async (req: Request): Promise<Published | null> => {
    const fy = yearParam(req.params.year)
    const period = periodParam(req.params.period)
    if (fy === null || period === null) return null
    return publishedReport(ctx, fy, period)
  }

  router.get('/transparency', async (req, res) => {
    const settings = await getSettings(ctx)
    publicLocals(req, res, settings)
    const published = await listPublications(ctx, { status: 'published' })
    const years = new Map<number, Publication[]>()
    for (const p of published) years.set(p.fiscalYear, [...(years.get(p.fiscalYear) ?? []), p])
    const groups = [...years.entries()]
      .sort(([a], [b]) => b - a)
      .map(([fiscalYear, pubs]) => ({
        fiscalYear,
        periods: [...pubs]
          .sort((a, b) => PERIOD_ORDER.indexOf(a.period) - PERIOD_ORDER.indexOf(b.period))
          .map((p) => ({
            period: p.period,
            name: periodName(req.t, p.period),
            href: `/transparency/${fiscalYear}/${p.period}`,
            from: p.from,
            to: p.to,
            publishedOn: publishedOn(p),
          })),
      }))
    res.render('transparency/index', {
      title: req.t('transparency.title'),
      settings,
      groups,
      steps: howToSteps(req.t, settings),
      rules: settings.rulesSummary.split('\n').filter((l) => l.trim() !== ''),
    })
  })

  router.get('/transparency/procedures', async (req, res) => {
    const settings = await getSettings(ctx)
    publicLocals(req, res, settings)
    const doc = documentFormat({ thaiDigits: settings.thaiDigits })
    res.render('transparency/procedures', {
      title: doc.t('procedures.title'),
      ui: req.t,
      t: doc.t,
      doc,
      settings,
      flow: loanFlowchart(doc.t, settings),
      steps: howToSteps(doc.t, settings),
      rules: settings.rulesSummary.split('\n').filter((l) => l.trim() !== ''),
      blankRows: 8,
      backHref: '/transparency',
    })
  })

  router.get('/transparency/:year.json', async (req, res) => {
    const fy = yearParam(req.params.year)
    const p = fy === null ? null : await yearReport(fy)
    if (!p) return notFoundJson(req, res)
    sendJson(res, p)
  })

  router.get('/transparency/:year.csv', async (req, res) => {
    const fy = yearParam(req.params.year)
    const p = fy === null ? null : await yearReport(fy)
    if (!p) return notFoundJson(req, res)
    sendCsv(res, p)
  })

  // Before `:period.json`, which would read «h1.snapshot» as a period (and answer 404).
  router.get('/transparency/:year/:period.snapshot.json', async (req, res) => {
    const p = await periodReport(req)
    if (!p) return notFoundJson(req, res)
    // The stored text is JSON.stringify's own output, so stringifying its parse gives it back byte for byte;
    // if that ever failed to match the published hash, refuse rather than offer a file that does not check out.
    const text = JSON.stringify(p.snapshot)
    if (hashSnapshot(text) !== p.sha256) throw new AppError('internal', 'error.internal')
    dataHeaders(res, 'application/json; charset=utf-8')
    res.set('Content-Disposition', `attachment; filename="transparency-${p.publication.fiscalYear}-${p.publication.period}-snapshot.json"`)
    res.send(text)
  })

  router.get('/transparency/:year/:period.json', async (req, res) => {
    const p = await periodReport(req)
    if (!p) return notFoundJson(req, res)
    sendJson(res, p)
  })

  router.get('/transparency/:year/:period.csv', async (req, res) => {
    const p = await periodReport(req)
    if (!p) return notFoundJson(req, res)
    sendCsv(res, p)
  })

  router.get('/transparency/:year/:period', async (req, res) => {
    const settings = await getSettings(ctx)
    publicLocals(req, res, settings) // the 404 page too shows the agency
    const p = await periodReport(req)
    if (!p) throw new AppError('not_found', 'transparency.notPublished')
    const locale = req.locale as Locale
    const r = p.snapshot.report
    const num = (n: number, decimals?: number) => formatNumber(n, decimals === undefined ? {} : { decimals })
    const monthName = (m: string) => monthLabel(m, (d) => formatDate(d, { locale, style: 'short' }))
    const base = `/transparency/${p.publication.fiscalYear}/${p.publication.period}`
    res.render('transparency/report', {
      title: req.t('transparency.report.title', { year: p.publication.fiscalYear, period: periodName(req.t, p.publication.period) }),
      agency: { name: p.snapshot.agencyName, province: p.snapshot.province },
      publication: p.publication,
      publishedOn: publishedOn(p.publication),
      report: r,
      narrative: p.snapshot.narrative,
      sha256: p.sha256,
      headlines: headlines(r),
      tables: tables(r, req.t, monthName),
      charts: charts(r, req.t, monthName, (n) => num(n)),
      shown: (h: Pick<Headline, 'kind'>, v: number | null) => shownValue(h, v, num, req.t('reportPages.none')),
      periodName: periodName(req.t, p.publication.period),
      links: { json: `${base}.json`, csv: `${base}.csv`, snapshot: `${base}.snapshot.json` },
      // Read on every request (the snapshot is frozen, the log is not); only the number and the
      // short hash reach the public. A proxy may keep the page for DATA_CACHE's five minutes:
      // a head that old is still one the log must run through.
      chainHead: await publicChainHead(ctx),
    })
  })

  return router
}
