import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import * as loans from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { addDays } from '../i18n/calendar.js'
import { append, SYSTEM_ACTOR } from './audit.service.js'
import { actorOf, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { getSettings } from './settings.service.js'
import { hasExpired } from './loan-rules.js'
import { enforce, fieldError, loanNumber, nowIso, stepData, today } from './loan-common.js'
import { canSeeLoan, getLoan, type LoanView } from './loan-query.service.js'

const cancelSchema = z.object({ reason: z.string().trim().max(1000, { error: 'validation.tooLong' }).default('') })

/** The borrower cancels before hand-over; finance cancels an uncollected loan, with a reason. */
export async function cancelLoan(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const { reason } = parseOrThrow(cancelSchema, input ?? {})
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    await enforce(trx, 'cancel', actor, loan, settings, today(ctx), { params: { status: loan.status } })
    const own = loan.borrower_user_id === actor.id || loan.requested_by === actor.id
    if (!own && reason.length < 3) throw fieldError('reason', 'loan.reasonRequired')
    const at = nowIso(ctx)
    const ok = await loans.updateIfStatus(trx, id, loan.status, {
      status: 'cancelled',
      cancelled_at: at,
      cancelled_by: actor.id,
      cancel_reason: reason || null,
      updated_at: at,
    })
    if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'loan.cancelled',
      entity: 'loan',
      entityId: id,
      data: stepData(loan, settings, { reason, from: loan.status }),
    })
  })
  return getLoan(ctx, actor, id)
}

/**
 * Approved loans not collected within the setting's days after their start expire. The scheduler's
 * job (scheduler.service.ts), idempotent; nothing a reader does runs it (issue 14).
 */
export async function expireLoans(ctx: AppContext): Promise<number> {
  const settings = await getSettings(ctx)
  const t = today(ctx)
  return writeTransaction(ctx.db, async (trx) => {
    let n = 0
    // start_on + expiryDays < today  ⟺  start_on < today − expiryDays
    for (const loan of await loans.expirable(trx, addDays(t, -settings.expiryDays))) {
      if (!hasExpired(loan, t, settings.expiryDays)) continue
      const at = nowIso(ctx)
      if (await loans.updateIfStatus(trx, loan.id, 'approved', { status: 'expired', expired_at: at, updated_at: at })) {
        n++
        await append(trx, ctx.clock, SYSTEM_ACTOR, {
          action: 'loan.expired',
          entity: 'loan',
          entityId: loan.id,
          data: { number: loanNumber(loan), startOn: loan.start_on },
        })
      }
    }
    return n
  })
}
