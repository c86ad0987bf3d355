import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import * as loans from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append } from './audit.service.js'
import { actorOf, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { getSettings } from './settings.service.js'
import type { NewAttachment } from './attachment.service.js'
import { pendingStep } from './loan-policy.js'
import { assertNoConflict, enforce, nowIso, paperApprovalSchema, stepData, text, today } from './loan-common.js'
import { canSeeLoan, getLoan, type LoanView } from './loan-query.service.js'
import { notifyLoanEvent } from './notification.service.js'
import { borrowerOf, recordPaperApproval, requesterOf, resolvePaperApprover, stageScan, withScan } from './loan-paper.service.js'

const approveSchema = z.object({
  note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
  onPaper: paperApprovalSchema.optional(),
})

/**
 * The next approval step of a pending loan, as the loan policy allows it: finance checks (and
 * approves an in-premises loan); the executive approves after the check. Finance may instead record
 * an approval given on paper (`onPaper`), before or after the check, with the slip's scan.
 */
export async function approveLoan(ctx: AppContext, actor: CurrentUser, id: number, input: unknown, opts: { scan?: NewAttachment } = {}): Promise<LoanView> {
  const data = parseOrThrow(approveSchema, input ?? {})
  const settings = await getSettings(ctx)
  const t = today(ctx)
  const scan = data.onPaper ? await stageScan(ctx, opts.scan, 'onPaper') : undefined
  await withScan(scan, () =>
    writeTransaction(ctx.db, async (trx) => {
      const loan = await loans.findById(trx, id)
      if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
      if (data.onPaper) {
        await enforce(trx, 'recordPaper', actor, loan, settings, t, { params: { status: loan.status } })
        const choice = await resolvePaperApprover(
          trx,
          settings,
          loan.kind,
          data.onPaper.approverName,
          { recorder: actor, borrower: await borrowerOf(trx, loan), requester: await requesterOf(trx, loan) },
          'onPaper',
        )
        await assertNoConflict(trx, loan, t)
        await recordPaperApproval(ctx, trx, actor, loan, data.onPaper, choice, settings, { scan, field: 'onPaper' })
        return
      }
      const step = pendingStep(loan) ?? 'approve'
      await enforce(trx, step, actor, loan, settings, t, { params: { status: loan.status } })
      const at = nowIso(ctx)
      if (step === 'check') {
        const ok = await loans.updateIfStatus(trx, id, 'pending', { checked_at: at, checked_by: actor.id, updated_at: at })
        if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
        await loans.insertApproval(trx, {
          loan_id: id,
          step: 'check',
          by_user_id: actor.id,
          by_name: actor.name,
          recorded_by: actor.id,
          at,
          note: data.note,
          on_paper: 0,
          paper_date: null,
        })
        await append(trx, ctx.clock, actorOf(actor), {
          action: 'loan.checked',
          entity: 'loan',
          entityId: id,
          data: stepData(loan, settings, { note: data.note }),
        })
        await notifyLoanEvent(ctx, trx, 'loan.awaitingApproval', id, actor.id)
        return
      }
      await assertNoConflict(trx, loan, t)
      const ok = await loans.updateIfStatus(trx, id, 'pending', { status: 'approved', approved_at: at, approved_by: actor.id, updated_at: at })
      if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
      await loans.insertApproval(trx, {
        loan_id: id,
        step: 'approve',
        by_user_id: actor.id,
        by_name: actor.name,
        recorded_by: actor.id,
        at,
        note: data.note,
        on_paper: 0,
        paper_date: null,
      })
      await append(trx, ctx.clock, actorOf(actor), {
        action: 'loan.approved',
        entity: 'loan',
        entityId: id,
        data: stepData(loan, settings, { note: data.note }),
      })
      await notifyLoanEvent(ctx, trx, 'loan.approved', id, actor.id)
    }),
  )
  return getLoan(ctx, actor, id)
}

const reasonSchema = z.object({ reason: text(3, 1000, 'loan.reasonRequired') })

export async function rejectLoan(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const { reason } = parseOrThrow(reasonSchema, input ?? {})
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    await enforce(trx, 'reject', actor, loan, settings, today(ctx), { params: { status: loan.status } })
    const at = nowIso(ctx)
    const ok = await loans.updateIfStatus(trx, id, 'pending', {
      status: 'rejected',
      rejected_at: at,
      rejected_by: actor.id,
      rejection_reason: reason,
      updated_at: at,
    })
    if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
    await append(trx, ctx.clock, actorOf(actor), { action: 'loan.rejected', entity: 'loan', entityId: id, data: stepData(loan, settings, { reason }) })
    await notifyLoanEvent(ctx, trx, 'loan.rejected', id, actor.id, { reason })
  })
  return getLoan(ctx, actor, id)
}
