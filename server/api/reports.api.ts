import { Router } from 'express'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import { computeReport, REPORT_PERIODS, type ReportPeriod } from '../services/report.service.js'
import { getPublication } from '../services/publication.service.js'
import { requireRole } from '../http/middleware/auth.js'

/*
 * Statistics of SPEC §5/§6:
 *
 *   GET /reports/fiscal-years/:year   finance, executive, committee
 *       ?period=year (default) | h1 | q1 | q2 | q3 | q4; :year is Buddhist era (2568)
 *       → the report JSON of §6 (computeReport, live figures) with `narrative` (the frozen one once
 *         submitted, else the draft's, else empty) and `publication` ({status, sha256, publishedAt} or
 *         null); a bad year or period → 422 naming it.
 */

function badParam(field: string, messageKey: string): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field, message: messageKey }])
}

export function reportsApi(ctx: AppContext): Router {
  const router = Router()

  router.get('/reports/fiscal-years/:year', requireRole('finance', 'executive', 'committee'), async (req, res) => {
    const rawYear = String(req.params.year)
    if (!/^\d{4}$/.test(rawYear)) throw badParam('year', 'report.badFiscalYear')
    const rawPeriod = req.query.period ?? 'year'
    if (typeof rawPeriod !== 'string' || !(REPORT_PERIODS as readonly string[]).includes(rawPeriod)) throw badParam('period', 'report.badPeriod')
    const query = { fiscalYear: Number(rawYear), period: rawPeriod as ReportPeriod }
    const report = await computeReport(ctx, query)
    const pub = await getPublication(ctx, query.fiscalYear, query.period)
    res.json({
      ...report,
      narrative: pub?.snapshot?.narrative ?? pub?.narrative ?? { summary: '', problems: '', suggestions: '' },
      publication: pub ? { status: pub.status, sha256: pub.snapshotHash, publishedAt: pub.approvedAt } : null,
    })
  })

  return router
}
