import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError } from '../../errors.js'
import {
  externalBorrowerHistory,
  searchExternalBorrowers,
  searchUserBorrowers,
  standingOfUsername,
  userBorrowerHistory,
  type BorrowerHistory,
} from '../../services/borrower.service.js'
import { formatSatang } from '../../i18n/format.js'
import { hasRole } from '../../services/user.service.js'
import { requireRole, requireSignIn } from '../../http/middleware/auth.js'
import { idParam, pageParam } from '../forms/common.form.js'
import { warningModel } from '../loan-extras.js'

const PAGE_SIZE = 50

/**
 * Borrowers (SPEC §1, issue 5): find a person — a community borrower or a user — and read their
 * history: every loan with its lateness, what is still out, compensation not settled. Those who
 * see all loans see everyone; staff see their own at /borrowers/me.
 */
export function borrowerRoutes(ctx: AppContext): Router {
  const router = Router()
  const readers = requireRole('finance', 'executive', 'committee', 'admin')

  router.get('/borrowers', readers, async (req, res) => {
    const q = (typeof req.query.q === 'string' ? req.query.q : '').trim().slice(0, 100)
    res.render('borrowers/index', {
      title: req.t('borrower.title'),
      q,
      searched: q !== '',
      external: q ? await searchExternalBorrowers(ctx, req.user!, q, 30) : [],
      users: q ? await searchUserBorrowers(ctx, req.user!, q, 30) : [],
      canLend: hasRole(req.user, 'finance'),
    })
  })

  /** The standing of a user typed on the loan entry page, as a fragment the page's script puts in place. */
  router.get('/borrowers/standing', requireRole('finance'), async (req, res) => {
    const username = (typeof req.query.username === 'string' ? req.query.username : '').trim().slice(0, 100)
    const found = username ? await standingOfUsername(ctx, username) : null
    res.render('borrowers/standing-fragment', {
      warning: found ? warningModel(found.standing, { name: found.name, historyHref: `/borrowers/users/${found.userId}` }) : null,
    })
  })

  function render(req: Request, res: Response, h: BorrowerHistory, page: number, own: boolean) {
    res.render('borrowers/show', {
      title: own ? req.t('borrower.myHistory') : `${req.t('borrower.history')} ${h.profile.name}`,
      own,
      profile: { ...h.profile, typeLabel: req.t(`borrowerType.${h.profile.type}`) },
      otherRecords: h.otherRecords,
      standing: h.standing,
      loans: h.loans,
      total: h.total,
      page,
      pages: Math.max(1, Math.ceil(h.total / PAGE_SIZE)),
      compensations: h.openCompensations.map((c) => ({
        id: c.id,
        loanId: c.loan_id,
        number: c.number,
        incident: c.incident,
        incidentOn: c.incident_on,
        quantity: c.quantity,
        what: c.asset_code ? `${c.asset_code} ${c.asset_name ?? ''}` : `${c.stock_code ?? ''} ${c.stock_name ?? ''}`,
        unit: c.unit ?? '',
        method: c.method ?? '',
        amount: c.decided_satang !== null ? formatSatang(c.decided_satang) : c.proposed_satang !== null ? formatSatang(c.proposed_satang) : '',
        decided: c.decided_satang !== null,
      })),
      canLendAgain: h.profile.kind === 'external' && hasRole(req.user, 'finance'),
    })
  }

  router.get('/borrowers/me', requireSignIn, async (req, res) => {
    const page = pageParam(req.query.page)
    render(req, res, await userBorrowerHistory(ctx, req.user!, req.user!.id, { page, pageSize: PAGE_SIZE }), page, true)
  })

  router.get('/borrowers/users/:id', readers, async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'borrower.notFound')
    const page = pageParam(req.query.page)
    render(req, res, await userBorrowerHistory(ctx, req.user!, id, { page, pageSize: PAGE_SIZE }), page, id === req.user!.id)
  })

  router.get('/borrowers/:id', readers, async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'borrower.notFound')
    const page = pageParam(req.query.page)
    render(req, res, await externalBorrowerHistory(ctx, req.user!, id, { page, pageSize: PAGE_SIZE }), page, false)
  })

  return router
}
