import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { addDays, bangkokDate } from '../../i18n/calendar.js'
import { BORROWER_TYPES } from '../../../db/schema.js'
import { createLoan, createLoanSchema } from '../../services/loan.service.js'
import { LOAN_KINDS } from '../../services/loan-rules.js'
import { getSettings } from '../../services/settings.service.js'
import { findUserByUsername, listUsers } from '../../services/user.service.js'
import { validationError } from '../../lib/validation.js'
import { requireRole } from '../../http/middleware/auth.js'
import { entryBorrowerWarning } from '../loan-extras.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, fieldErrors } from '../forms/common.form.js'
import { conflictMessage, financeEntryInput, financeEntryValues, isShownInPlace, pageFields, type FinanceEntryValues } from '../forms/loan-request.form.js'
import { expandScanned } from '../../services/stock.service.js'
import { MAX_LINE_QUANTITY, typedLines } from '../forms/stock-lines.form.js'
import { cartAsText, cartWithout, readCart, writeCart } from '../cart-state.js'
import { paperApproverChoices } from '../../services/loan-paper.service.js'
import { approverOptions } from '../paper-views.js'
import { scanOf } from '../forms/scan.form.js'
import { codeExamples } from '../code-examples.js'

const USER_CHOICES = 1000

/**
 * Finance enters a loan for anyone (SPEC §1, §3): a user who walks in, a community member or group,
 * another agency; or an open paper loan brought in after the fact with its real dates, its paper
 * approval and its hand-over. Mounted before the loan routes so that /loans/new is not a loan id.
 */
export function loanEntryRoutes(ctx: AppContext): Router {
  const router = Router()

  async function render(req: Request, res: Response, status: number, model: { values: FinanceEntryValues; errors?: Record<string, string>; message?: string }) {
    const approvers = approverOptions(req.t, await paperApproverChoices(ctx), req.user)
    const users = (await listUsers(ctx, { active: true, page: 1, pageSize: USER_CHOICES })).items.map(({ user }) => ({
      username: user.username,
      name: user.name,
      position: user.position,
    }))
    res.status(status).render('loans/new', {
      title: req.t('loanEntry.title'),
      values: model.values,
      errors: model.errors ?? {},
      message: model.message ?? null,
      users,
      approvers,
      borrowerTypes: BORROWER_TYPES,
      kinds: LOAN_KINDS,
      today: bangkokDate(ctx.clock.now()),
      codeExamples: await codeExamples(ctx, req.t),
      borrowerWarning: await entryBorrowerWarning(ctx, model.values), // the typed user's overdue loans (counter work)
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
      values: {
        ...blank,
        startDate: today,
        dueDate: addDays(today, Math.max(1, settings.defaultLoanDays) - 1),
        assetCodes: cartAsText(readCart(req.session)),
        'paperApproval.date': today,
      },
    })
  })

  router.post('/loans/new', requireRole('finance'), async (req, res) => {
    const values = financeEntryValues(bodyOf(req))
    // The items field takes asset codes, counted items with a count (CHAIR x80) and kits (all their parts).
    const typed = typedLines(values.assetCodes)
    const itemErrors: Array<{ field: string; message: string; params?: Record<string, string | number> }> = typed.bad.map((line) => ({
      field: 'assetCodes',
      message: 'loanEntryStock.badLine',
      params: { line, max: MAX_LINE_QUANTITY },
    }))
    const expanded: { assetCodes: string[]; stock: Array<{ code: string; quantity: number }> } = { assetCodes: [], stock: [] }
    for (const line of typed.lines) {
      try {
        const one = await expandScanned(ctx, [line])
        for (const c of one.assetCodes) if (!expanded.assetCodes.includes(c)) expanded.assetCodes.push(c)
        for (const l of one.stock) {
          const same = expanded.stock.find((x) => x.code === l.code)
          if (same) same.quantity += l.quantity
          else expanded.stock.push({ ...l })
        }
      } catch (e) {
        if (!(isAppError(e) && e.details)) throw e
        // A code that names nothing goes on as an asset code: the service names it in its own order (borrower first).
        expanded.assetCodes.push(line.code)
      }
    }
    const input = { ...financeEntryInput(values, await resolveBorrower(values.borrower)), assetCodes: expanded.assetCodes, stock: expanded.stock }
    try {
      // Without a borrower the service would take the finance user themself: the form asks instead.
      if ((values.borrowerKind === 'user' && !values.borrower) || itemErrors.length > 0) {
        const r = createLoanSchema.safeParse(input)
        throw new AppError('validation_failed', 'validation.failed', {}, [
          ...(values.borrowerKind === 'user' && !values.borrower ? [{ field: 'borrower', message: 'loanEntry.borrowerRequired' }] : []),
          ...itemErrors,
          // An unreadable line is the items' message; "no items" would only repeat it.
          ...(r.success ? [] : (validationError(r.error).details ?? [])).filter((d) => !(itemErrors.length > 0 && d.field === 'assetCodes')),
        ])
      }
      const loan = await createLoan(ctx, req.user!, input, { scan: scanOf(req, res, 'paperApproval') })
      writeCart(req.session, cartWithout(readCart(req.session), { assetCodes: loan.items.map((i) => i.asset_code), stockCodes: loan.stock.map((l) => l.code) }))
      flash(req, 'success', 'loanEntry.created', { number: loan.number })
      res.redirect(303, `/loans/${loan.loan.id}`)
    } catch (e) {
      if (isAppError(e) && e.details) {
        const details = e.details.map((d) => (/^(stock|items)(\.|$)/.test(d.field) ? { ...d, field: 'assetCodes' } : d))
        await render(req, res, e.status, { values, errors: fieldErrors(pageFields(details, values), req.t) })
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
