import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { addDays, bangkokDate } from '../../i18n/calendar.js'
import { BORROWER_TYPES } from '../../../db/schema.js'
import { createLoan, createLoanSchema } from '../../services/loan.service.js'
import { LOAN_KINDS } from '../../services/loan-rules.js'
import { getSettings } from '../../services/settings.service.js'
import { findUserByUsername, listUsers, validationError } from '../../services/user.service.js'
import { requireRole } from '../middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, fieldErrors } from '../forms/common.form.js'
import { conflictMessage, financeEntryInput, financeEntryValues, isShownInPlace, pageFields, type FinanceEntryValues } from '../forms/loan-request.form.js'
import { cartOf } from './cart.routes.js'

const USER_CHOICES = 1000

/**
 * Finance enters a loan for anyone (SPEC §1, §3): a user who walks in, a community member or group,
 * another agency; or an open paper loan brought in after the fact with its real dates, its paper
 * approval and its hand-over. Mounted before the loan routes so that /loans/new is not a loan id.
 */
export function loanEntryRoutes(ctx: AppContext): Router {
  const router = Router()

  async function render(req: Request, res: Response, status: number, model: { values: FinanceEntryValues; errors?: Record<string, string>; message?: string }) {
    const users = (await listUsers(ctx, { active: true, page: 1, pageSize: USER_CHOICES })).items.map(({ user }) => ({ username: user.username, name: user.name, position: user.position }))
    res.status(status).render('loans/new', {
      title: req.t('loanEntry.title'),
      values: model.values,
      errors: model.errors ?? {},
      message: model.message ?? null,
      users,
      borrowerTypes: BORROWER_TYPES,
      kinds: LOAN_KINDS,
      today: bangkokDate(ctx.clock.now()),
    })
  }

  /** The borrower as typed: a username, or a full name that only one active user has. */
  async function resolveBorrower(typed: string): Promise<string> {
    if (!typed) return ''
    if (await findUserByUsername(ctx, typed)) return typed
    const byName = (await listUsers(ctx, { q: typed, active: true, page: 1, pageSize: 20 })).items.filter(({ user }) => user.name.trim() === typed.trim())
    return byName.length === 1 ? byName[0]!.user.username : typed
  }

  router.get('/loans/new', requireRole('finance'), async (req, res) => {
    const settings = await getSettings(ctx)
    const today = bangkokDate(ctx.clock.now())
    const blank = financeEntryValues({})
    await render(req, res, 200, {
      values: { ...blank, startDate: today, dueDate: addDays(today, Math.max(1, settings.defaultLoanDays) - 1), assetCodes: cartOf(req).join('\n') },
    })
  })

  router.post('/loans/new', requireRole('finance'), async (req, res) => {
    const values = financeEntryValues(bodyOf(req))
    const input = financeEntryInput(values, await resolveBorrower(values.borrower))
    try {
      // Without a borrower the service would take the finance user themself: the form asks instead.
      if (values.borrowerKind === 'user' && !values.borrower) {
        const r = createLoanSchema.safeParse(input)
        throw new AppError('validation_failed', 'validation.failed', {}, [
          { field: 'borrower', message: 'loanEntry.borrowerRequired' },
          ...(r.success ? [] : (validationError(r.error).details ?? [])),
        ])
      }
      const loan = await createLoan(ctx, req.user!, input)
      const used = new Set(loan.items.map((i) => i.asset_code))
      const left = cartOf(req).filter((c) => !used.has(c))
      if (left.length > 0) req.session.cart = left
      else delete req.session.cart
      flash(req, 'success', 'loanEntry.created', { number: loan.number })
      res.redirect(303, `/loans/${loan.loan.id}`)
    } catch (e) {
      if (isAppError(e) && e.details) {
        await render(req, res, e.status, { values, errors: fieldErrors(pageFields(e.details, values), req.t) })
        return
      }
      if (isShownInPlace(e)) {
        await render(req, res, e.status, { values, message: conflictMessage(req, e) })
        return
      }
      throw e
    }
  })

  return router
}
