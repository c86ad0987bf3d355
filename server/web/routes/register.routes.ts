import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { isAppError } from '../../errors.js'
import { documentFormat } from '../../i18n/document-format.js'
import { BORROWER_TYPES } from '../../../db/schema.js'
import { chainHead } from '../../services/audit.service.js'
import { LOAN_KINDS, LOAN_STATUSES } from '../../services/loan-rules.js'
import { getSettings } from '../../services/settings.service.js'
import {
  loanRegister,
  loanRegisterCsv,
  loanRegisterPage,
  parseRegisterQuery,
  registerFileName,
  REGISTER_PERIODS,
  writeLoanRegisterXlsx,
  type LoanRegister,
  type LoanRegisterPage,
} from '../../services/register.service.js'
import { requireRole } from '../../http/middleware/auth.js'
import { pageParam } from '../forms/common.form.js'
import { typedDateError } from '../typed-date.js'

/** Loans per screen page; the print, CSV and XLSX always hold the whole period. */
export const REGISTER_PAGE_SIZE = 100

/** The query string of the register's links (print, CSV, XLSX): the same period and filters. */
function linkQuery(req: Request): string {
  const keep = ['fy', 'period', 'from', 'to', 'status', 'kind', 'borrowerType', 'department', 'overdue']
  const p = new URLSearchParams()
  for (const k of keep) {
    const v = req.query[k]
    if (typeof v === 'string' && v !== '') p.set(k, v)
  }
  const s = p.toString()
  return s ? `?${s}` : ''
}

function attachment(res: Response, name: { ascii: string; utf8: string }, type: string): void {
  res.set('Content-Type', type)
  res.set('Content-Disposition', `attachment; filename="${name.ascii}"; filename*=UTF-8''${encodeURIComponent(name.utf8)}`)
}

/**
 * The loan-return register (ทะเบียนคุมการยืม-คืน): the screen, the A4 landscape print and the
 * CSV / XLSX downloads of one period. Finance, the executive, the committee and the admin.
 */
export function registerRoutes(ctx: AppContext): Router {
  const router = Router()
  const readers = requireRole('finance', 'executive', 'committee', 'admin')

  const build = async (req: Request): Promise<LoanRegister> => loanRegister(ctx, parseRegisterQuery(ctx, req.query as Record<string, unknown>))

  router.get('/register', readers, async (req, res) => {
    // The screen shows the period a hundred loans at a time (a large agency's year is thousands of
    // slips) and reads only those; the summary counts them all, and the print and files hold every line.
    let reg: LoanRegisterPage | undefined
    let errors: Array<{ field: string; message: string }> = []
    const q = req.query as Record<string, unknown>
    try {
      reg = await loanRegisterPage(ctx, parseRegisterQuery(ctx, q), pageParam(q.page), REGISTER_PAGE_SIZE)
    } catch (e) {
      if (!isAppError(e) || e.code !== 'validation_failed') throw e
      errors = (e.details ?? []).map((d) => ({ field: d.field, message: typedDateError(req, d.field) ?? req.t(d.message) }))
    }
    const form = Object.fromEntries(
      ['fy', 'period', 'from', 'to', 'status', 'kind', 'borrowerType', 'department', 'overdue'].map((k) => [k, typeof q[k] === 'string' ? q[k] : '']),
    )
    if (reg) {
      form.fy = String(reg.query.fiscalYear)
      form.period = reg.query.period
      if (reg.query.period === 'range') {
        form.from = reg.query.from
        form.to = reg.query.to
      }
    }
    const pagerQuery = Object.fromEntries(new URLSearchParams(linkQuery(req).slice(1)))
    const year = reg?.query.fiscalYear ?? Number(form.fy || 0)
    const thisYear = reg ? reg.query.fiscalYear : year
    res.status(reg ? 200 : 422).render('register/index', {
      title: req.t('register.title'),
      reg,
      shown: reg?.loans ?? [],
      page: reg?.page ?? 1,
      pages: reg?.pages ?? 1,
      pagerQuery,
      errors,
      form,
      links: linkQuery(req),
      periods: REGISTER_PERIODS,
      statuses: LOAN_STATUSES,
      kinds: LOAN_KINDS,
      borrowerTypes: BORROWER_TYPES,
      years: Array.from({ length: 6 }, (_, i) => (thisYear || 2568) + 1 - i),
    })
  })

  router.get('/register/print', readers, async (req, res) => {
    const reg = await build(req)
    const settings = await getSettings(ctx)
    const doc = documentFormat({ thaiDigits: settings.thaiDigits })
    res.render('print/register', {
      title: req.t('register.title'),
      ui: req.t,
      t: doc.t,
      doc,
      reg,
      settings,
      // Read after the register, so the head printed covers every line of it.
      chainHead: await chainHead(ctx.db),
      backHref: `/register${linkQuery(req)}`,
    })
  })

  router.get('/register.csv', readers, async (req, res) => {
    const reg = await build(req)
    attachment(res, registerFileName(reg, 'csv'), 'text/csv; charset=utf-8')
    res.send(loanRegisterCsv(reg))
  })

  router.get('/register.xlsx', readers, async (req, res) => {
    const reg = await build(req)
    attachment(res, registerFileName(reg, 'xlsx'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    await writeLoanRegisterXlsx(reg, res)
    res.end()
  })

  return router
}
