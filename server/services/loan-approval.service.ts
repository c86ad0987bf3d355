import { z } from 'zod'
import { writeTransaction, type Db } from '../../db/connection.js'
import type { LoanRow, Role } from '../../db/schema.js'
import * as loans from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append } from './audit.service.js'
import { actorOf, hasRole, parseOrThrow, type CurrentUser } from './user.service.js'
import { checkApprover, nextApprovalStep, roleForStep, type LoanKind } from './loan-rules.js'
import { assertNoConflict, loanNumber, nowIso, paperApprovalSchema, segregationError, text, today } from './loan-common.js'
import { canSeeLoan, getLoan, type LoanView } from './loan-query.service.js'

const approveSchema = z.object({
  note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
  onPaper: paperApprovalSchema.optional(),
})

export async function recordPaperApproval(ctx: AppContext, trx: Db, actor: CurrentUser, loan: LoanRow, paper: z.output<typeof paperApprovalSchema>) {
  const at = nowIso(ctx)
  // A paper loan brought in after the fact, or one outside the premises: the check is part of the record.
  if (loan.kind !== 'in_premises' && loan.checked_at === null) {
    await loans.update(trx, loan.id, { checked_at: at, checked_by: actor.id })
    await loans.insertApproval(trx, { loan_id: loan.id, step: 'check', by_user_id: actor.id, by_name: actor.name, recorded_by: actor.id, at, note: '', on_paper: 0, paper_date: null })
  }
  const ok = await loans.updateIfStatus(trx, loan.id, 'pending', { status: 'approved', approved_at: at, approved_by: null, approved_on_paper: 1, updated_at: at })
  if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
  await loans.insertApproval(trx, {
    loan_id: loan.id,
    step: 'approve',
    by_user_id: null,
    by_name: paper.approverName,
    recorded_by: actor.id,
    at,
    note: paper.note,
    on_paper: 1,
    paper_date: paper.date,
  })
  await append(trx, ctx.clock, actorOf(actor), {
    action: 'loan.approved_on_paper',
    entity: 'loan',
    entityId: loan.id,
    data: { number: loanNumber(loan), approverName: paper.approverName, paperDate: paper.date },
  })
}

/**
 * The next approval step of a pending loan, by the role it needs: finance checks (and approves an
 * in-premises loan); the executive approves after the check. Finance may instead record the
 * executive's approval given on paper.
 */
export async function approveLoan(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(approveSchema, input ?? {})
  const t = today(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    const step = nextApprovalStep(loan)
    if (step === null) throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
    const sod = checkApprover(actor.id, loan)
    if (data.onPaper) {
      if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'loan.paperOnlyFinance')
      if (loan.kind !== 'in_premises' && step === 'check') throw new AppError('invalid_state', 'loan.checkFirst')
      if (!sod.ok) throw segregationError(sod.reason)
      await assertNoConflict(trx, loan, t)
      await recordPaperApproval(ctx, trx, actor, loan, data.onPaper)
      return
    }
    const needed: Role = roleForStep(loan.kind as LoanKind, step)
    if (!hasRole(actor, needed)) {
      // The executive acting before finance's check is a matter of order (409), not of rights.
      if (step === 'check' && hasRole(actor, 'executive')) throw new AppError('invalid_state', 'loan.checkFirst')
      throw new AppError('forbidden', step === 'check' ? 'loan.needsFinance' : needed === 'executive' ? 'loan.needsExecutive' : 'loan.needsFinance')
    }
    if (!sod.ok) throw segregationError(sod.reason)
    const at = nowIso(ctx)
    if (step === 'check') {
      const ok = await loans.updateIfStatus(trx, id, 'pending', { checked_at: at, checked_by: actor.id, updated_at: at })
      if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
      await loans.insertApproval(trx, { loan_id: id, step: 'check', by_user_id: actor.id, by_name: actor.name, recorded_by: actor.id, at, note: data.note, on_paper: 0, paper_date: null })
      await append(trx, ctx.clock, actorOf(actor), { action: 'loan.checked', entity: 'loan', entityId: id, data: { number: loanNumber(loan), note: data.note } })
      return
    }
    await assertNoConflict(trx, loan, t)
    const ok = await loans.updateIfStatus(trx, id, 'pending', { status: 'approved', approved_at: at, approved_by: actor.id, updated_at: at })
    if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
    await loans.insertApproval(trx, { loan_id: id, step: 'approve', by_user_id: actor.id, by_name: actor.name, recorded_by: actor.id, at, note: data.note, on_paper: 0, paper_date: null })
    await append(trx, ctx.clock, actorOf(actor), { action: 'loan.approved', entity: 'loan', entityId: id, data: { number: loanNumber(loan), note: data.note } })
  })
  return getLoan(ctx, actor, id)
}

const reasonSchema = z.object({ reason: text(3, 1000, 'loan.reasonRequired') })

export async function rejectLoan(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const { reason } = parseOrThrow(reasonSchema, input ?? {})
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    const step = nextApprovalStep(loan)
    if (step === null) throw new AppError('invalid_state', 'loan.invalidState', { status: loan.status })
    if (!hasRole(actor, 'finance', 'executive')) throw new AppError('forbidden', 'loan.needsFinance')
    const sod = checkApprover(actor.id, loan)
    if (!sod.ok) throw segregationError(sod.reason)
    const at = nowIso(ctx)
    const ok = await loans.updateIfStatus(trx, id, 'pending', { status: 'rejected', rejected_at: at, rejected_by: actor.id, rejection_reason: reason, updated_at: at })
    if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
    await append(trx, ctx.clock, actorOf(actor), { action: 'loan.rejected', entity: 'loan', entityId: id, data: { number: loanNumber(loan), reason } })
  })
  return getLoan(ctx, actor, id)
}
