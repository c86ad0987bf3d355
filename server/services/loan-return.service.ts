import { z } from 'zod'
import { writeTransaction, type Db } from '../../db/connection.js'
import * as loans from '../repositories/loan.repository.js'
import * as assets from '../repositories/asset.repository.js'
import * as users from '../repositories/user.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { codeKey, normalizeCode } from '../i18n/format.js'
import { bahtAsSatangSchema } from '../lib/money.js'
import { append } from './audit.service.js'
import { actorOf, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { getSettings } from './settings.service.js'
import { COMPENSATION_METHODS, ITEM_CONDITIONS, proposedCompensation } from './loan-rules.js'
import { calendarDate, enforce, fieldError, nowIso, stepData, today } from './loan-common.js'
import { getLoan, type LoanView } from './loan-query.service.js'

const returnSchema = z
  .object({
    stock: z
      .array(
        z.object({
          code: z.string({ error: 'validation.required' }).transform(normalizeCode),
          good: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(0).default(0),
          damaged: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(0).default(0),
          lost: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(0).default(0),
          note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
          returnedBy: z.string().trim().max(200, { error: 'validation.tooLong' }).optional(),
        }),
      )
      .max(50)
      .default([]),
    items: z
      .array(
        z.object({
          assetCode: z.string({ error: 'validation.required' }).transform(normalizeCode),
          condition: z.enum(ITEM_CONDITIONS, { error: 'loan.unknownCondition' }),
          note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
          returnedBy: z.string().trim().max(200, { error: 'validation.tooLong' }).optional(),
        }),
        { error: 'loan.noItems' },
      )
      .max(100)
      .default([]),
  })
  .refine((d) => d.items.length > 0 || d.stock.length > 0, { path: ['items'], error: 'loan.noItems' })

/**
 * Receives items back, one or many: good → available; damaged → in repair and lost → lost, each
 * with a compensation record whose proposal starts from the register's price. When every item is
 * back the loan is returned; late means the Bangkok return date is after the due date.
 */
export async function receiveReturn(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const data = parseOrThrow(returnSchema, input ?? {})
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan) throw new AppError('not_found', 'loan.notFound')
    await enforce(trx, 'receive', actor, loan, settings, today(ctx), { params: { status: loan.status } })
    const items = await loans.itemsOf(trx, [id])
    // By key: a scan of an old label (ํา for ำ) names the same item.
    const byCode = new Map(items.map((i) => [codeKey(i.asset_code), i]))
    const seen = new Set<string>()
    const borrowerName = loan.borrower_user_id
      ? ((await users.findById(trx, loan.borrower_user_id))?.name ?? '')
      : ((await loans.externalBorrowersByIds(trx, [loan.external_borrower_id!]))[0]?.name ?? '')
    const at = nowIso(ctx)
    const on = today(ctx)
    for (const r of data.items) {
      const item = byCode.get(codeKey(r.assetCode))
      if (!item) throw fieldError('items', 'loan.notInLoan', { code: r.assetCode })
      if (seen.has(item.asset_code)) throw fieldError('items', 'loan.duplicateItem')
      seen.add(item.asset_code)
      if (item.returned_at !== null) throw new AppError('invalid_state', 'loan.alreadyReturned', { code: item.asset_code })
      const returnedBy = r.returnedBy || borrowerName
      if (!(await loans.markItemReturned(trx, item.id, { at, on, by: actor.id, returnedByName: returnedBy, condition: r.condition, note: r.note }))) {
        throw new AppError('invalid_state', 'loan.alreadyReturned', { code: item.asset_code })
      }
      const next = r.condition === 'good' ? 'available' : r.condition === 'damaged' ? 'in_repair' : 'lost'
      if (!(await assets.setStatus(trx, item.asset_id, 'on_loan', next, at, on))) throw new AppError('conflict', 'asset.changedMeanwhile')
      await append(trx, ctx.clock, actorOf(actor), {
        action: 'loan.item_returned',
        entity: 'loan',
        entityId: id,
        data: stepData(loan, settings, { asset: item.asset_code, condition: r.condition, note: r.note, returnedBy, late: on > loan.due_on }),
      })
      if (r.condition !== 'good') {
        const life = item.useful_life_years ?? item.category_life
        const proposal =
          item.price_satang === null
            ? null
            : proposedCompensation({
                currentPriceSatang: item.price_satang,
                acquiredOn: item.acquired_on,
                lossOn: on,
                lifeYears: life,
                rates: settings.salvageRates,
              })
        await openCompensation(ctx, trx, actor, {
          loanId: id,
          loanItemId: item.id,
          stockLineId: null,
          incident: r.condition,
          on,
          quantity: 1,
          method: r.condition === 'lost' ? 'pay' : 'repair',
          currentPrice: item.price_satang,
          proposed: proposal?.amountSatang ?? null,
          note: r.note,
          what: { asset: item.asset_code },
        })
      }
    }
    const lines = await stockRepo.linesOf(trx, [id])
    for (const r of data.stock) {
      const line = lines.find((l) => codeKey(l.code) === codeKey(r.code))
      if (!line) throw fieldError('stock', 'loan.notInLoan', { code: r.code })
      const n = r.good + r.damaged + r.lost
      const outstanding = line.handed_over_qty - line.returned_good - line.returned_damaged - line.returned_lost
      if (n === 0) throw fieldError('stock', 'loan.stockCountRequired', { code: r.code })
      if (n > outstanding) throw fieldError('stock', 'loan.stockTooMany', { code: r.code, outstanding })
      const returnedBy = r.returnedBy || borrowerName
      if (
        !(await stockRepo.addReturn(trx, line.id, {
          good: r.good,
          damaged: r.damaged,
          lost: r.lost,
          at,
          on,
          by: actor.id,
          returnedByName: returnedBy,
          note: r.note,
        }))
      ) {
        throw new AppError('invalid_state', 'loan.alreadyReturned', { code: r.code })
      }
      // Good units go back to the pool, damaged ones into repair, lost ones are written off.
      if (!(await stockRepo.adjust(trx, line.stock_id, { out: -n, inRepair: r.damaged, quantity: -r.lost }, at)))
        throw new AppError('conflict', 'asset.changedMeanwhile')
      if (r.damaged > 0)
        await stockRepo.insertMovement(trx, {
          stock_id: line.stock_id,
          kind: 'damaged_on_loan',
          quantity: r.damaged,
          reason: r.note,
          loan_id: id,
          at,
          by_user_id: actor.id,
        })
      if (r.lost > 0)
        await stockRepo.insertMovement(trx, {
          stock_id: line.stock_id,
          kind: 'lost_on_loan',
          quantity: r.lost,
          reason: r.note,
          loan_id: id,
          at,
          by_user_id: actor.id,
        })
      await append(trx, ctx.clock, actorOf(actor), {
        action: 'loan.stock_returned',
        entity: 'loan',
        entityId: id,
        data: stepData(loan, settings, { code: r.code, good: r.good, damaged: r.damaged, lost: r.lost, note: r.note, returnedBy, late: on > loan.due_on }),
      })
      for (const [incident, qty] of [
        ['damaged', r.damaged],
        ['lost', r.lost],
      ] as const) {
        if (qty === 0) continue
        await openCompensation(ctx, trx, actor, {
          loanId: id,
          loanItemId: null,
          stockLineId: line.id,
          incident,
          on,
          quantity: qty,
          method: incident === 'lost' ? 'replace' : 'repair',
          currentPrice: null,
          proposed: null,
          note: r.note,
          what: { stock: r.code },
        })
      }
    }
    if ((await loans.countOutstandingItems(trx, id)) === 0 && (await stockRepo.countOutstandingLines(trx, id)) === 0) {
      if (!(await loans.updateIfStatus(trx, id, 'on_loan', { status: 'returned', returned_at: at, returned_on: on, updated_at: at }))) {
        throw new AppError('invalid_state', 'loan.invalidState')
      }
      await append(trx, ctx.clock, actorOf(actor), {
        action: 'loan.returned',
        entity: 'loan',
        entityId: id,
        data: stepData(loan, settings, { late: on > loan.due_on }),
      })
    }
  })
  return getLoan(ctx, actor, id)
}

/** A damaged or lost item or count opens its compensation record (ข้อ 209), audited with the return. */
async function openCompensation(
  ctx: AppContext,
  trx: Db,
  actor: CurrentUser,
  c: {
    loanId: number
    loanItemId: number | null
    stockLineId: number | null
    incident: 'damaged' | 'lost'
    on: string
    quantity: number
    method: 'repair' | 'replace' | 'pay'
    currentPrice: number | null
    proposed: number | null
    note: string
    what: Record<string, string>
  },
): Promise<void> {
  const at = nowIso(ctx)
  const comp = await loans.insertCompensation(trx, {
    loan_id: c.loanId,
    loan_item_id: c.loanItemId,
    loan_stock_line_id: c.stockLineId,
    incident: c.incident,
    incident_on: c.on,
    quantity: c.quantity,
    method: c.method,
    current_price_satang: c.currentPrice,
    proposed_satang: c.proposed,
    decided_satang: null,
    order_ref: '',
    police_ref: '',
    receipt_ref: '',
    settled_on: null,
    note: c.note,
    created_at: at,
    updated_at: at,
  })
  await append(trx, ctx.clock, actorOf(actor), {
    action: 'compensation.opened',
    entity: 'compensation',
    entityId: comp.id,
    data: { loanId: c.loanId, ...c.what, incident: c.incident, quantity: c.quantity, proposedSatang: c.proposed },
  })
}

const compensationSchema = z.object({
  method: z.enum(COMPENSATION_METHODS, { error: 'loan.unknownCompensationMethod' }),
  currentPrice: bahtAsSatangSchema,
  decidedAmount: bahtAsSatangSchema,
  orderRef: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  policeRef: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  receiptRef: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  settledOn: calendarDate.nullable().optional(),
  note: z.string().trim().max(2000, { error: 'validation.tooLong' }).default(''),
})

/** Finance records the current price (the proposal follows), the decided amount, references and settlement. */
export async function updateCompensation(ctx: AppContext, actor: CurrentUser, loanId: number, compensationId: number, input: unknown) {
  const data = parseOrThrow(compensationSchema, input ?? {})
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, loanId)
    if (!loan) throw new AppError('not_found', 'loan.compensation.notFound')
    await enforce(trx, 'compensate', actor, loan, settings, today(ctx))
    const comp = await loans.findCompensation(trx, compensationId)
    if (!comp || comp.loan_id !== loanId) throw new AppError('not_found', 'loan.compensation.notFound')
    if (data.settledOn && data.decidedAmount === null && data.method === 'pay') throw fieldError('decidedAmount', 'loan.compensation.amountRequired')
    // No current price, no proposal: a stale one must not outlive the price it came from.
    let proposed: number | null = data.currentPrice === null ? null : comp.proposed_satang
    if (data.currentPrice !== null && comp.loan_stock_line_id !== null) {
      // Counted items carry no acquisition date: the proposal is the current price per unit × units.
      proposed = data.currentPrice * comp.quantity
    } else if (data.currentPrice !== null && comp.loan_item_id !== null) {
      const item = (await loans.itemsOf(trx, [loanId])).find((i) => i.id === comp.loan_item_id)
      if (item) {
        proposed =
          proposedCompensation({
            currentPriceSatang: data.currentPrice,
            acquiredOn: item.acquired_on,
            lossOn: comp.incident_on,
            lifeYears: item.useful_life_years ?? item.category_life,
            rates: settings.salvageRates,
          }).amountSatang * comp.quantity
      }
    }
    const changes = {
      method: data.method,
      current_price_satang: data.currentPrice,
      proposed_satang: proposed,
      decided_satang: data.decidedAmount,
      order_ref: data.orderRef,
      police_ref: data.policeRef,
      receipt_ref: data.receiptRef,
      settled_on: data.settledOn ?? null,
      note: data.note,
      updated_at: nowIso(ctx),
    }
    await loans.updateCompensation(trx, compensationId, changes)
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'compensation.updated',
      entity: 'compensation',
      entityId: compensationId,
      data: { loanId, ...changes, twoPersonRule: settings.twoPersonRule },
    })
  })
  return getLoan(ctx, actor, loanId)
}
