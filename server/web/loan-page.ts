import type { Request, Response } from 'express'
import type { AppContext } from '../context.js'
import { AppError, isAppError } from '../errors.js'
import { compensationUpdates, getLoan } from '../services/loan.service.js'
import { getSettings } from '../services/settings.service.js'
import { stockReturnEvents } from '../services/loan-stock-events.service.js'
import { bangkokDate } from '../i18n/calendar.js'
import type { Translate } from '../i18n/index.js'
import { fieldErrors, idParam } from './forms/common.form.js'
import { loanPageExtras } from './loan-extras.js'
import { loanPageModel, NO_FORM, type FormState } from './loan-page-views.js'
import { paperApproverChoices } from '../services/loan-paper.service.js'
import { hasRole } from '../services/user.service.js'
import { approverOptions } from './paper-views.js'

/*
 * The loan page (GET /loans/:id), rendered here rather than in a route file because two routers show
 * it: loans.routes.ts, and loan-handover.routes.ts when a hand-over or return is refused for the
 * loan's state (the loan page again, with the refusal and its status).
 */

/** The loan id of the URL; anything but a positive whole number is a loan that does not exist. */
export function loanId(req: Request): number {
  const id = idParam(req.params.id)
  if (id === undefined) throw new AppError('not_found', 'loan.notFound')
  return id
}

/** A refused action as form state; "not found" and unexpected errors go on to the error handler. */
export function refusal(e: unknown, t: Translate, form: string, values: Record<string, string>): FormState {
  if (!isAppError(e) || e.status >= 500 || e.code === 'not_found' || e.code === 'unauthenticated') throw e
  // Nested service fields (onPaper.approverName, items.0.condition) are one field of the page's form.
  const errors = fieldErrors(
    e.details?.map((d) => ({
      ...d,
      field:
        d.field
          .split('.')
          .filter((p) => !/^\d+$/.test(p))
          .pop() ?? d.field,
    })),
    t,
  )
  const message = e.details && e.details.length > 0 ? Object.values(errors).join(' · ') : t(e.messageKey, e.params)
  return { form, message, errors, values }
}

/** Renders the loan page with `status`; `state` is the form a refused POST re-shows. */
export async function renderLoanPage(ctx: AppContext, req: Request, res: Response, status: number, id: number, state: FormState = NO_FORM): Promise<void> {
  const user = req.user!
  const view = await getLoan(ctx, user, id)
  const settings = await getSettings(ctx)
  const today = bangkokDate(ctx.clock.now())
  const compUpdates = await compensationUpdates(ctx, view)
  const stockEvents = await stockReturnEvents(ctx, view)
  const extras = await loanPageExtras(ctx, req, res, view)
  const approvers = view.loan.status === 'pending' && hasRole(user, 'finance') ? approverOptions(req.t, await paperApproverChoices(ctx), user) : []
  res
    .status(status)
    .render(
      'loans/show',
      loanPageModel({ t: req.t, locale: req.locale, user, view, settings, today, compensationUpdates: compUpdates, stockEvents, state, extras, approvers }),
    )
}
