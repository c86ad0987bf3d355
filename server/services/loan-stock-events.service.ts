import { z } from 'zod'
import type { AuditRow } from '../../db/schema.js'
import type { AppContext } from '../context.js'
import * as auditRepo from '../repositories/audit.repository.js'
import * as loans from '../repositories/loan.repository.js'
import type { LoanView } from './loan.service.js'

/**
 * Each return of a counted line as it happened (a line keeps only its running totals; partial
 * returns are told apart by their audit entries, written in the same transaction as the return).
 */
export interface StockReturnEvent {
  at: string
  code: string
  good: number
  damaged: number
  lost: number
  note: string
  returnedBy: string
  late: boolean
  actorName: string
}

const MAX_EVENTS = 500

const count = z.number().int().nonnegative().default(0)

/**
 * The `data` of a `loan.stock_returned` audit entry as loan-return.service writes it (other keys
 * the step adds are ignored). Entries written before a field existed lack it: an absent count is
 * 0, an absent note or returner empty, an absent `late` false. A field of the wrong type is not
 * guessed at: the entry does not decode.
 */
export const stockReturnedData = z.object({
  code: z.string().min(1),
  good: count,
  damaged: count,
  lost: count,
  note: z.string().default(''),
  returnedBy: z.string().default(''),
  late: z.boolean().default(false),
})

export type StockReturnedData = z.output<typeof stockReturnedData>

/** Decodes audit entries, oldest first as given; an entry that is not JSON or does not decode is skipped and counted. */
export function decodeStockReturns(rows: ReadonlyArray<Pick<AuditRow, 'at' | 'data'>>): {
  entries: Array<{ at: string; data: StockReturnedData; index: number }>
  skipped: number
} {
  const entries: Array<{ at: string; data: StockReturnedData; index: number }> = []
  let skipped = 0
  rows.forEach((row, index) => {
    let json: unknown
    try {
      json = JSON.parse(row.data)
    } catch {
      skipped++
      return
    }
    const r = stockReturnedData.safeParse(json)
    if (r.success) entries.push({ at: row.at, data: r.data, index })
    else skipped++
  })
  return { entries, skipped }
}

export async function stockReturnEvents(ctx: AppContext, view: LoanView): Promise<StockReturnEvent[]> {
  if (view.stock.length === 0) return []
  const { rows } = await auditRepo.list(ctx.db, { entity: 'loan', entityId: String(view.loan.id), action: 'loan.stock_returned', limit: MAX_EVENTS, offset: 0 })
  const names = new Map(
    (
      await loans.usersByIds(
        ctx.db,
        rows.flatMap((r) => (r.actor_id ? [r.actor_id] : [])),
      )
    ).map((u) => [u.id, u.name]),
  )
  const oldestFirst = [...rows].reverse()
  const { entries, skipped } = decodeStockReturns(oldestFirst)
  // The page still shows every entry that decodes; one that does not is a fact for the log, not the borrower.
  if (skipped > 0) ctx.logger.warn({ loanId: view.loan.id, skipped }, 'loan.stock_returned audit entries that do not decode were left out of the timeline')
  return entries.map(({ at, data, index }) => {
    const r = oldestFirst[index]!
    return { at, ...data, actorName: (r.actor_id ? names.get(r.actor_id) : undefined) ?? r.actor_label }
  })
}
