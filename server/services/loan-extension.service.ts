import { z } from 'zod'
import { writeTransaction, type Db } from '../../db/connection.js'
import * as loans from '../repositories/loan.repository.js'
import * as assets from '../repositories/asset.repository.js'
import type { LoanItemView } from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append } from './audit.service.js'
import { actorOf, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { getSettings } from './settings.service.js'
import { checkExtension, maxLoanDaysFor } from './loan-rules.js'
import { calendarDate, conflictError, enforce, fieldError, nextDay, nowIso, stepData, text, today } from './loan-common.js'
import { canSeeLoan, getLoan, type LoanView } from './loan-query.service.js'
import { notifyLoanEvent } from './notification.service.js'

const extensionSchema = z.object({ dueDate: calendarDate, reason: text(3, 1000, 'loan.reasonRequired') })

export async function requestExtension(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(extensionSchema, input ?? {})
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    await enforce(trx, 'askExtension', actor, loan, settings, today(ctx), { messages: { wrong_state: 'loan.extension.not_on_loan' } })
    const items = await loans.itemsOf(trx, [id])
    const maxDays = maxLoanDaysFor(settings.maxLoanDays, await assetMaxes(trx, items))
    const check = checkExtension(loan, data.dueDate, today(ctx), maxDays)
    if (!check.ok) {
      if (check.reason === 'not_on_loan' || check.reason === 'past_due') throw new AppError('invalid_state', `loan.extension.${check.reason}`)
      throw fieldError('dueDate', `loan.extension.${check.reason}`, { max: maxDays })
    }
    const conflicts = await loans.openConflicts(
      trx,
      items.filter((i) => i.returned_at === null).map((i) => i.asset_id),
      nextDay(loan.due_on),
      data.dueDate,
      today(ctx),
      id,
    )
    if (conflicts.length > 0) throw conflictError(conflicts[0]!)
    const at = nowIso(ctx)
    const ext = await loans.insertExtension(trx, {
      loan_id: id,
      requested_by: actor.id,
      requested_at: at,
      from_due_on: loan.due_on,
      to_due_on: data.dueDate,
      reason: data.reason,
      status: 'pending',
      checked_at: null,
      checked_by: null,
      decided_at: null,
      decided_by: null,
      decision_note: '',
      on_paper: 0,
    })
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'loan.extension_requested',
      entity: 'loan',
      entityId: id,
      data: stepData(loan, settings, { extensionId: ext.id, from: loan.due_on, to: data.dueDate, reason: data.reason }),
    })
    await notifyLoanEvent(ctx, trx, 'loan.extensionRequested', id, actor.id, { toDueOn: data.dueDate, reason: data.reason })
  })
  return getLoan(ctx, actor, id)
}

async function assetMaxes(trx: Db, items: LoanItemView[]): Promise<Array<number | null>> {
  const out: Array<number | null> = []
  for (const i of items) out.push((await assets.findById(trx, i.asset_id))?.max_loan_days ?? null)
  return out
}

const decideExtensionSchema = z.object({
  approve: z.boolean({ error: 'validation.required' }),
  note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
  onPaper: z.boolean().default(false),
})

/** An extension is approved at the loan's level: finance in the premises, the executive outside (or finance recording it on paper). */
export async function decideExtension(ctx: AppContext, actor: CurrentUser, id: number, extensionId: number, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(decideExtensionSchema, input ?? {})
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    const ext = (await loans.extensionsOf(trx, [id])).find((e) => e.id === extensionId)
    if (!ext) throw new AppError('not_found', 'loan.extension.notFound')
    if (ext.status !== 'pending') throw new AppError('invalid_state', 'loan.invalidState', { status: ext.status })
    await enforce(trx, data.onPaper ? 'decideExtensionOnPaper' : 'decideExtension', actor, loan, settings, today(ctx), { params: { status: loan.status } })
    const at = nowIso(ctx)
    if (data.approve) {
      if (loan.status !== 'on_loan' && loan.status !== 'approved') throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
      if (loan.due_on !== ext.from_due_on) throw new AppError('conflict', 'loan.extension.stale')
      const items = await loans.itemsOf(trx, [id])
      const conflicts = await loans.openConflicts(
        trx,
        items.filter((i) => i.returned_at === null).map((i) => i.asset_id),
        nextDay(loan.due_on),
        ext.to_due_on,
        today(ctx),
        id,
      )
      if (conflicts.length > 0) throw conflictError(conflicts[0]!)
      await loans.update(trx, id, { due_on: ext.to_due_on, updated_at: at })
    }
    if (
      !(await loans.updateExtensionIfPending(trx, extensionId, {
        status: data.approve ? 'approved' : 'rejected',
        decided_at: at,
        decided_by: actor.id,
        decision_note: data.note,
        on_paper: data.onPaper ? 1 : 0,
      }))
    ) {
      throw new AppError('invalid_state', 'loan.invalidState')
    }
    await append(trx, ctx.clock, actorOf(actor), {
      action: data.approve ? 'loan.extension_approved' : 'loan.extension_rejected',
      entity: 'loan',
      entityId: id,
      data: stepData(loan, settings, { extensionId, from: ext.from_due_on, to: ext.to_due_on, note: data.note, onPaper: data.onPaper }),
    })
    await notifyLoanEvent(ctx, trx, data.approve ? 'loan.extensionApproved' : 'loan.extensionRejected', id, actor.id, { toDueOn: ext.to_due_on })
  })
  return getLoan(ctx, actor, id)
}
