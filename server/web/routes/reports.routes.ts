import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { bangkokDate } from '../../i18n/calendar.js'
import { documentFormat } from '../../i18n/document-format.js'
import { formatDate, formatNumber } from '../../i18n/format.js'
import { translate } from '../../i18n/index.js'
import { chainHead } from '../../services/audit.service.js'
import { computeReport, type Report } from '../../services/report.service.js'
import { getPublication, type Narrative } from '../../services/publication.service.js'
import { narrativeOf } from '../publication-view.js'
import { getSettings } from '../../services/settings.service.js'
import { requireRole } from '../../http/middleware/auth.js'
import { parseQuery, renderReportPage } from '../report-page.js'
import {
  charts,
  headlines,
  linkQuery,
  monthLabel,
  periodLine,
  reportCsv,
  shownValue,
  tables,
  writeReportXlsx,
  type Headline,
  type Tr,
} from '../report-views.js'

/*
 * The statistics report pages of SPEC §6 (figures from computeReport):
 *   GET /reports?fy=2568&period=year|h1|q1..q4   the screen (headline, comparison, breakdowns, SVG charts)
 *   GET /reports/print?...                        A4 portrait, agency header, Thai digits per setting
 *   GET /reports.csv?...                          UTF-8 BOM, Thai headers, one section per table
 *   GET /reports.xlsx?...                         the same rows in one worksheet
 * Each also takes a free range, ?from=YYYY-MM-DD&to=YYYY-MM-DD (Common Era; files report-<from>-<to>):
 * a range is a report only, never published. A fiscal period's narrative (the frozen one once
 * submitted) follows the figures on every form; the screen adds the publication panel and the list
 * of submitted reports (publication-view.ts; the POSTs are in publication.routes.ts). The screen is
 * rendered by report-page.ts, the figures shaped by report-views.ts (shared with the public pages).
 * Finance, the executive and the committee.
 */

/** The narrative that goes with a fiscal-period report (the frozen one once submitted); none for a range. */
async function reportNarrative(ctx: AppContext, r: Report): Promise<Narrative | null> {
  if (r.fiscalYear === null || r.period === 'range') return null
  return narrativeOf(await getPublication(ctx, r.fiscalYear, r.period))
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
      // Read after the figures, so the head printed covers them.
      chainHead: await chainHead(ctx.db),
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
