import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import * as loans from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append } from './audit.service.js'
import { actorOf, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { getSettings } from './settings.service.js'
import { FOLLOW_UP_METHODS } from './loan-rules.js'
import { calendarDate, enforce, fieldError, nowIso, stepData, today } from './loan-common.js'

const followUpSchema = z.object({
  method: z.enum(FOLLOW_UP_METHODS, { error: 'loan.unknownFollowUpMethod' }),
  note: z.string().trim().max(2000, { error: 'validation.tooLong' }).default(''),
  letterNumber: z.string().trim().max(100, { error: 'validation.tooLong' }).default(''),
  letterDate: calendarDate.nullable().optional(),
  onDate: calendarDate.optional(),
})

/** ข้อ 211: finance records each follow-up of an item that has not come back. */
export async function addFollowUp(ctx: AppContext, actor: CurrentUser, id: number, input: unknown) {
  const data = parseOrThrow(followUpSchema, input ?? {})
  const settings = await getSettings(ctx)
  const t = today(ctx)
  if (data.onDate && data.onDate > t) throw fieldError('onDate', 'loan.futureDate')
  if (data.method === 'letter' && !data.letterNumber) throw fieldError('letterNumber', 'loan.letterNumberRequired')
  return writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan) throw new AppError('not_found', 'loan.notFound')
    await enforce(trx, 'followUp', actor, loan, settings, t, { params: { status: loan.status } })
    const f = await loans.insertFollowUp(trx, {
      loan_id: id,
      on_date: data.onDate ?? t,
      method: data.method,
      letter_number: data.letterNumber,
      letter_date: data.letterDate ?? null,
      note: data.note,
      created_by: actor.id,
      created_at: nowIso(ctx),
    })
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'loan.followed_up',
      entity: 'loan',
      entityId: id,
      data: stepData(loan, settings, { followUpId: f.id, method: f.method, onDate: f.on_date, letterNumber: f.letter_number }),
    })
    return f
  })
}
