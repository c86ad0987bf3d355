import { Router } from 'express'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import { computeReport, REPORT_PERIODS, type ReportPeriod } from '../services/report.service.js'
import { requireRole } from '../web/middleware/auth.js'

/*
 * Statistics of SPEC §5/§6:
 *
 *   GET /reports/fiscal-years/:year   finance, executive, committee
 *       ?period=year (default) | h1 | q1 | q2 | q3 | q4; :year is Buddhist era (2568)
 *       → the report JSON of §6 (computeReport); a bad year or period → 422 naming it.
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
    res.json(await computeReport(ctx, { fiscalYear: Number(rawYear), period: rawPeriod as ReportPeriod }))
  })

  return router
}
