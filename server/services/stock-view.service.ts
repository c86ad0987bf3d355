import type { StockItemRow } from '../../db/schema.js'
import * as stock from '../repositories/stock.repository.js'
import type { HeldLine } from '../repositories/stock.repository.js'
import { AppError, type FieldError } from '../errors.js'
import type { AppContext } from '../context.js'
import { addDays, bangkokDate, daysBetween, dateMessageKey, parseIsoDate } from '../i18n/calendar.js'
import { availabilityFrom } from './stock.service.js'

/**
 * Read-side helpers for the counted-item pages, the QR page and the API: the per-day picture of
 * what open loans hold, the loans holding units, and the date range a person asked about. The
 * rules (what holds, what is free) stay in stock.service's availabilityFrom.
 */

function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

/** The longest range one question may cover (a year and a day, as availabilityFrom walks it). */
export const MAX_RANGE_DAYS = 366

export interface StockDay {
  date: string
  /** Units held by open loans that day. */
  held: number
  /** Owned − in repair − held. */
  available: number
}

/** What open loans hold on each of `days` days from `from`, and what is left. */
export async function stockDaySeries(ctx: AppContext, item: StockItemRow, from: string, days: number): Promise<StockDay[]> {
  const t = today(ctx)
  const to = addDays(from, Math.max(0, days - 1))
  const lines = await stock.heldLines(ctx.db, [item.id], from, to, t)
  const out: StockDay[] = []
  for (let i = 0; i < days; i++) {
    const date = addDays(from, i)
    const a = availabilityFrom(item, lines, date, date, t)
    out.push({ date, held: a.held, available: a.available })
  }
  return out
}

export interface StockHolding {
  loanId: number
  number: string
  status: string
  from: string
  to: string
  /** Units asked for on the loan's line. */
  quantity: number
  handedOver: number
  returned: number
  /** Units the loan holds now: the whole request while approved; what is still out once on loan. */
  held: number
}

function heldNow(l: HeldLine): number {
  return l.status === 'approved' ? l.quantity : Math.max(0, l.handed_over_qty - l.returned)
}

/** Open loans (approved or on loan) that hold units of this item today or later, by start date. */
export async function stockHoldings(ctx: AppContext, item: StockItemRow): Promise<StockHolding[]> {
  const t = today(ctx)
  const lines = await stock.heldLines(ctx.db, [item.id], t, '9999-12-31', t)
  return lines
    .map((l) => ({
      loanId: l.loan_id,
      number: `${l.seq}/${l.fiscal_year}`,
      status: l.status,
      from: l.start_on,
      to: l.due_on,
      quantity: l.quantity,
      handedOver: l.handed_over_qty,
      returned: l.returned,
      held: heldNow(l),
    }))
    .filter((h) => h.held > 0)
}

/**
 * A date range typed into a page or an API query: absent `from` is today, absent `to` is `from`
 * plus `defaultDays − 1`. A bad date, a Buddhist-era year, `to` before `from` or a range longer
 * than a year is a 422 naming the parameter.
 */
export function parseStockRange(ctx: AppContext, input: { from?: string; to?: string }, defaultDays = 1): { from: string; to: string } {
  const details: FieldError[] = []
  const read = (field: 'from' | 'to', raw: string | undefined): string | undefined => {
    const s = raw?.trim()
    if (!s) return undefined
    const r = parseIsoDate(s)
    if (r.ok) return r.value
    details.push({ field, message: dateMessageKey(r.reason) })
    return undefined
  }
  const fromIn = read('from', input.from)
  const toIn = read('to', input.to)
  if (details.length > 0) throw new AppError('validation_failed', 'validation.failed', {}, details)
  const from = fromIn ?? today(ctx)
  const to = toIn ?? addDays(from, Math.max(0, defaultDays - 1))
  if (to < from) throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'to', message: 'stockPages.toBeforeFrom' }])
  if (daysBetween(from, to) >= MAX_RANGE_DAYS) {
    throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'to', message: 'stockPages.rangeTooLong', params: { days: MAX_RANGE_DAYS } }])
  }
  return { from, to }
}
