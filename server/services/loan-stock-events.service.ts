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

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0
}

export async function stockReturnEvents(ctx: AppContext, view: LoanView): Promise<StockReturnEvent[]> {
  if (view.stock.length === 0) return []
  const { rows } = await auditRepo.list(ctx.db, { entity: 'loan', entityId: String(view.loan.id), action: 'loan.stock_returned', limit: MAX_EVENTS, offset: 0 })
  const names = new Map((await loans.usersByIds(ctx.db, rows.flatMap((r) => (r.actor_id ? [r.actor_id] : [])))).map((u) => [u.id, u.name]))
  const out: StockReturnEvent[] = []
  for (const r of [...rows].reverse()) {
    let data: Record<string, unknown>
    try {
      data = JSON.parse(r.data) as Record<string, unknown>
    } catch {
      continue
    }
    if (!data || typeof data.code !== 'string') continue
    out.push({
      at: r.at,
      code: data.code,
      good: count(data.good),
      damaged: count(data.damaged),
      lost: count(data.lost),
      note: typeof data.note === 'string' ? data.note : '',
      returnedBy: typeof data.returnedBy === 'string' ? data.returnedBy : '',
      late: data.late === true,
      actorName: (r.actor_id ? names.get(r.actor_id) : undefined) ?? r.actor_label,
    })
  }
  return out
}
