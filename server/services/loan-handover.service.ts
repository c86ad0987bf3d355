import { z } from 'zod'
import { writeTransaction, type Db } from '../../db/connection.js'
import { isUniqueViolation } from '../../db/dialect.js'
import type { LoanRow } from '../../db/schema.js'
import * as loans from '../repositories/loan.repository.js'
import * as assets from '../repositories/asset.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { codeKey, normalizeCode } from '../i18n/format.js'
import { append } from './audit.service.js'
import { actorOf, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { getSettings } from './settings.service.js'
import { collectableFrom, type PolicySettings } from './loan-policy.js'
import { assertNoConflict, assertStockFits, conflictError, enforce, fieldError, nowIso, stepData, today } from './loan-common.js'
import { addDays } from '../i18n/calendar.js'
import { getLoan, type LoanView } from './loan-query.service.js'

const handoverSchema = z.object({
  confirmedCodes: z.array(z.string().transform(normalizeCode)).max(100).optional(),
})

/**
 * Hands over every item, all or nothing. Guarded in the database: each asset moves to on_loan
 * only from available (a conditional update inside BEGIN IMMEDIATE), and a partial unique index
 * refuses a second outstanding hand-over of the same asset — so of concurrent hand-overs of one
 * asset exactly one succeeds.
 */
export async function handOverIn(
  ctx: AppContext,
  trx: Db,
  actor: CurrentUser,
  id: number,
  settings: PolicySettings,
  opts: { on?: string; paper?: boolean; policyChecked?: boolean },
): Promise<LoanRow> {
  const loan = await loans.findById(trx, id)
  if (!loan) throw new AppError('not_found', 'loan.notFound')
  const t = today(ctx)
  const on = opts.on ?? t
  // Every path to a hand-over (the screen, the API, a paper loan brought in, the counter) asks the
  // policy — about the day the items change hands, which for a paper loan is the day on the paper.
  if (!opts.policyChecked) await enforce(trx, 'handOver', actor, loan, settings, on, { params: notStartedParams(loan, settings) })
  const items = await loans.itemsOf(trx, [id])
  await assertNoConflict(trx, loan, t)
  if (on < loan.start_on) await assertFreeBeforeStart(trx, loan, on, t)
  const at = nowIso(ctx)
  for (const item of items) {
    if (!(await assets.setStatus(trx, item.asset_id, 'available', 'on_loan', at, t))) {
      throw new AppError('conflict', 'loan.assetUnavailable', { code: item.asset_code, status: item.asset_status })
    }
  }
  try {
    await loans.markItemsHandedOver(trx, id, at, actor.id)
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('conflict', 'loan.alreadyOut')
    throw e
  }
  const lines = await stockRepo.linesOf(trx, [id])
  for (const line of lines) {
    // The table's CHECK refuses more out (plus in repair) than is owned: never more lent than exists.
    if (!(await stockRepo.adjust(trx, line.stock_id, { out: line.quantity }, at))) {
      throw new AppError('conflict', 'loan.stockNotOnHand', { code: line.code, name: line.name, asked: line.quantity })
    }
    if (!(await stockRepo.markLineHandedOver(trx, line.id, line.quantity, at))) throw new AppError('invalid_state', 'loan.invalidState')
  }
  if (
    !(await loans.updateIfStatus(trx, id, 'approved', { status: 'on_loan', handed_over_at: at, handed_over_by: actor.id, handed_over_on: on, updated_at: at }))
  ) {
    throw new AppError('invalid_state', 'loan.invalidState')
  }
  await append(trx, ctx.clock, actorOf(actor), {
    action: 'loan.handed_over',
    entity: 'loan',
    entityId: id,
    data: stepData(loan, settings, {
      assets: items.map((i) => i.asset_code),
      stock: lines.map((l) => ({ code: l.code, quantity: l.quantity })),
      on,
      recordedFromPaper: opts.paper === true,
    }),
  })
  return loan
}

/** What a refused hand-over says: «รับได้ตั้งแต่วันที่ …» (the first day it may be collected) and the start. */
function notStartedParams(loan: LoanRow, settings: PolicySettings): Record<string, string> {
  return { status: loan.status, date: collectableFrom(loan.start_on, settings.handOverEarlyDays), start: loan.start_on }
}

/**
 * An early hand-over holds the items from the hand-over day (SPEC §3), days the loan's approval did
 * not reserve: another open loan may hold an asset, or counted units, between then and the start.
 */
async function assertFreeBeforeStart(trx: Db, loan: LoanRow, on: string, t: string): Promise<void> {
  const dayBefore = addDays(loan.start_on, -1)
  const items = await loans.itemsOf(trx, [loan.id])
  const conflicts = await loans.openConflicts(
    trx,
    items.map((i) => i.asset_id),
    on,
    dayBefore,
    t,
    loan.id,
  )
  if (conflicts.length > 0) throw conflictError(conflicts[0]!)
  const lines = await stockRepo.linesOf(trx, [loan.id])
  const stockItems = await stockRepo.byIds(
    trx,
    lines.map((l) => l.stock_id),
  )
  await assertStockFits(
    trx,
    lines.map((l) => ({ item: stockItems.find((i) => i.id === l.stock_id)!, quantity: l.quantity })),
    on,
    dayBefore,
    t,
    loan.id,
  )
}

export async function handOver(ctx: AppContext, actor: CurrentUser, id: number, input: unknown = {}): Promise<LoanView> {
  const data = parseOrThrow(handoverSchema, input ?? {})
  const settings = await getSettings(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan) throw new AppError('not_found', 'loan.notFound')
    await enforce(trx, 'handOver', actor, loan, settings, today(ctx), { params: notStartedParams(loan, settings) })
    if (data.confirmedCodes) {
      // Compared by key: a scan of an old label (ํา for ำ) confirms the item it names.
      const expected = new Map((await loans.itemsOf(trx, [id])).map((i) => [codeKey(i.asset_code), i.asset_code]))
      const got = new Set(data.confirmedCodes.map(codeKey))
      const missing = [...expected].filter(([k]) => !got.has(k)).map(([, c]) => c)
      const extra = data.confirmedCodes.filter((c) => !expected.has(codeKey(c)))
      if (extra.length > 0) throw fieldError('confirmedCodes', 'loan.notInLoan', { code: extra[0]! })
      if (missing.length > 0) throw fieldError('confirmedCodes', 'loan.notScanned', { code: missing[0]! })
    }
    await handOverIn(ctx, trx, actor, id, settings, { policyChecked: true })
  })
  return getLoan(ctx, actor, id)
}
