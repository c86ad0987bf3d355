import { z } from 'zod'
import type { Db } from '../../db/connection.js'
import type { LoanApprovalRow, LoanExtensionRow, LoanRow } from '../../db/schema.js'
import * as loans from '../repositories/loan.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import { availabilityFrom } from './stock.service.js'
import type { Conflict } from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { addDays, bangkokDate, dateMessageKey, parseIsoDate } from '../i18n/calendar.js'
import { asOfToday } from './loan-rules.js'
import { codeKey } from '../i18n/format.js'
import { decide, RULE_MESSAGE, type Decision, type LoanAction, type PolicyFacts, type PolicyRule, type PolicySettings, type PolicyUser } from './loan-policy.js'

export function loanNumber(loan: Pick<LoanRow, 'seq' | 'fiscal_year'>): string {
  return `${loan.seq}/${loan.fiscal_year}`
}

export function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

export function nowIso(ctx: AppContext): string {
  return ctx.clock.now().toISOString()
}

// ---------------------------------------------------------------- input schemas

export const calendarDate = z.string({ error: 'validation.required' }).transform((s, c) => {
  const r = parseIsoDate(s.trim())
  if (!r.ok) {
    c.addIssue({ code: 'custom', message: dateMessageKey(r.reason) })
    return z.NEVER
  }
  return r.value
})

export const text = (min: number, max: number, requiredKey = 'validation.required') =>
  z.string({ error: requiredKey }).trim().min(min, { error: requiredKey }).max(max, { error: 'validation.tooLong' })

export const paperApprovalSchema = z.object({
  approverName: text(1, 200),
  date: calendarDate,
  note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default(''),
})

export function fieldError(field: string, message: string, params?: Record<string, string | number>): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field, message, params }])
}

export function conflictError(c: Conflict): AppError {
  return new AppError('conflict', 'loan.overlap', { number: `${c.seq}/${c.fiscal_year}`, code: c.asset_code, from: c.start_on, to: c.due_on })
}

/** What the loan policy needs besides the loan row: its standing paper approval and its waiting extension. */
export interface LoanFacts extends PolicyFacts {
  paper: LoanApprovalRow | null
  pendingExtension: LoanExtensionRow | null
}

export async function policyFacts(db: Db, loan: LoanRow): Promise<LoanFacts> {
  const paper = await loans.standingPaperApproval(db, loan.id)
  const ext = (await loans.extensionsOf(db, [loan.id])).find((e) => e.status === 'pending')
  const outside = loan.external_borrower_id === null ? undefined : (await loans.externalBorrowersByIds(db, [loan.external_borrower_id]))[0]
  return { loan: loan as PolicyFacts['loan'], paper: paper ?? null, pendingExtension: ext ?? null, externalBorrowerName: outside?.name ?? null }
}

/** The error a refused decision answers: 403 naming the rule, or 409 for order and state (SPEC §1). */
export function refusal(d: Extract<Decision, { ok: false }>, params: Record<string, string | number> = {}, messageKey?: string): AppError {
  return new AppError(d.code, messageKey ?? RULE_MESSAGE[d.rule], params, undefined, d.rule)
}

/**
 * Asks the loan policy about one action on rows read inside the caller's transaction, and throws its
 * refusal. `messages` lets an operation keep a more precise wording of a rule.
 */
export async function enforce(
  db: Db,
  action: LoanAction,
  actor: PolicyUser,
  loan: LoanRow,
  settings: PolicySettings & { expiryDays?: number },
  todayDate: string,
  opts: { params?: Record<string, string | number>; messages?: Partial<Record<PolicyRule, string>> } = {},
): Promise<LoanFacts> {
  // An approved loan past its collection deadline is refused as expired, scheduler or not.
  const facts = await policyFacts(db, settings.expiryDays === undefined ? loan : asOfToday(loan, todayDate, settings.expiryDays))
  const d = decide(action, actor, facts, settings, todayDate)
  if (!d.ok) throw refusal(d, opts.params, opts.messages?.[d.rule])
  return facts
}

/** Every loan step's audit entry records whether the two-person rule was on (SPEC §1). */
export function stepData(loan: Pick<LoanRow, 'seq' | 'fiscal_year'>, settings: PolicySettings, data: Record<string, unknown> = {}): Record<string, unknown> {
  return { number: loanNumber(loan), ...data, twoPersonRule: settings.twoPersonRule }
}

export async function assertNoConflict(trx: Db, loan: LoanRow, t: string): Promise<void> {
  const items = await loans.itemsOf(trx, [loan.id])
  const conflicts = await loans.openConflicts(
    trx,
    items.map((i) => i.asset_id),
    loan.start_on,
    loan.due_on,
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
    loan.start_on,
    loan.due_on,
    t,
    loan.id,
  )
}

export type StockRequest = { item: Awaited<ReturnType<typeof stockRepo.byIds>>[number]; quantity: number }

export async function resolveStock(db: Db, lines: Array<{ code: string; quantity: number }>): Promise<StockRequest[]> {
  const out: StockRequest[] = []
  const seen = new Set<string>()
  for (const l of lines) {
    if (seen.has(codeKey(l.code))) throw fieldError('stock', 'loan.duplicateItem')
    seen.add(codeKey(l.code))
    const item = await stockRepo.findByCode(db, l.code)
    if (!item) throw fieldError('stock', 'loan.unknownStock', { code: l.code })
    if (item.loanable !== 1) throw fieldError('stock', 'loan.notLoanable', { code: item.code })
    out.push({ item, quantity: l.quantity })
  }
  return out
}

/**
 * A request or approval that would lend more of a counted item than is free on some day of its
 * dates is refused (409), naming the loan that holds the most on the busiest day.
 */
export async function assertStockFits(trx: Db, lines: StockRequest[], from: string, to: string, t: string, excludeLoanId?: number): Promise<void> {
  if (lines.length === 0) return
  const held = await stockRepo.heldLines(
    trx,
    lines.map((l) => l.item.id),
    from,
    to,
    t,
    excludeLoanId,
  )
  for (const l of lines) {
    const a = availabilityFrom(
      l.item,
      held.filter((h) => h.stock_id === l.item.id),
      from,
      to,
      t,
    )
    if (l.quantity > a.available) {
      throw new AppError('conflict', a.busiest ? 'loan.stockNotEnough' : 'loan.stockNotEnoughOwned', {
        code: l.item.code,
        name: l.item.name,
        asked: l.quantity,
        available: a.available,
        number: a.busiest?.number ?? '',
        from: a.busiest?.from ?? '',
        to: a.busiest?.to ?? '',
      })
    }
  }
}

export function nextDay(date: string): string {
  return addDays(date, 1)
}
