import { addDays, daysBetween, loanDays } from '../i18n/calendar.js'
import type { Check } from '../lib/check.js'

/** Pure rules of the loan lifecycle (SPEC §3); no I/O, dates as 'YYYY-MM-DD' in Asia/Bangkok. */

export const LOAN_STATUSES = ['pending', 'approved', 'on_loan', 'returned', 'rejected', 'cancelled', 'expired'] as const
export type LoanStatus = (typeof LOAN_STATUSES)[number]
export const LOAN_KINDS = ['in_premises', 'off_premises', 'inter_agency'] as const
export type LoanKind = (typeof LOAN_KINDS)[number]
export const OPEN_STATUSES: LoanStatus[] = ['approved', 'on_loan']
export const ITEM_CONDITIONS = ['good', 'damaged', 'lost'] as const
export type ItemCondition = (typeof ITEM_CONDITIONS)[number]
export const FOLLOW_UP_METHODS = ['phone', 'letter', 'in_person'] as const
export type FollowUpMethod = (typeof FOLLOW_UP_METHODS)[number]
export const COMPENSATION_METHODS = ['repair', 'replace', 'pay'] as const
export type CompensationMethod = (typeof COMPENSATION_METHODS)[number]

/** Date ranges overlap when they share a day. */
export function rangesOverlap(aFrom: string, aTo: string, bFrom: string, bTo: string): boolean {
  return aFrom <= bTo && bFrom <= aTo
}

export interface DateLimits {
  today: string
  maxDays: number
  /** Finance bringing in a paper loan with its real, past dates (บันทึกย้อนหลัง). */
  afterTheFact: boolean
}

export type DateProblem = 'due_before_start' | 'start_in_past' | 'too_long' | 'after_the_fact_in_future'

export function checkLoanDates(start: string, due: string, limits: DateLimits): Check<DateProblem> {
  if (due < start) return { ok: false, reason: 'due_before_start' }
  if (!limits.afterTheFact && start < limits.today) return { ok: false, reason: 'start_in_past' }
  if (limits.afterTheFact && start > limits.today) return { ok: false, reason: 'after_the_fact_in_future' }
  if (loanDays(start, due) > limits.maxDays) return { ok: false, reason: 'too_long' }
  return { ok: true }
}

/** The smallest of the agency's maximum and each asset's own. */
export function maxLoanDaysFor(agencyMax: number, assetMaxes: Array<number | null>): number {
  return Math.min(agencyMax, ...assetMaxes.filter((m): m is number => m !== null))
}

export function isOverdue(loan: { status: LoanStatus; due_on: string }, today: string): boolean {
  return loan.status === 'on_loan' && loan.due_on < today
}

export function followUpDeadline(dueOn: string, followUpDays: number): string {
  return addDays(dueOn, followUpDays)
}

/** Late means the return's Bangkok date is after the due date. */
export function daysLate(dueOn: string, returnedOn: string): number {
  return Math.max(0, daysBetween(dueOn, returnedOn))
}

/** An approved loan not collected within `expiryDays` after its start expires. */
export function hasExpired(loan: { status: LoanStatus; start_on: string }, today: string, expiryDays: number): boolean {
  return loan.status === 'approved' && addDays(loan.start_on, expiryDays) < today
}

/**
 * The loan as everyone should see it today: an approved loan past its collection deadline is expired
 * even before the scheduler has written that (reads never write, issue 14).
 */
export function asOfToday<L extends { status: LoanStatus; start_on: string }>(loan: L, today: string, expiryDays: number): L {
  return hasExpired(loan, today, expiryDays) ? { ...loan, status: 'expired' } : loan
}

export type ExtensionProblem = 'not_on_loan' | 'past_due' | 'not_later' | 'too_long'

/** Asked before the due date (the due day itself still counts), for a later date within the limit. */
export function checkExtension(
  loan: { status: LoanStatus; start_on: string; due_on: string },
  newDue: string,
  today: string,
  maxDays: number,
): Check<ExtensionProblem> {
  if (loan.status !== 'on_loan' && loan.status !== 'approved') return { ok: false, reason: 'not_on_loan' }
  if (today > loan.due_on) return { ok: false, reason: 'past_due' }
  if (newDue <= loan.due_on) return { ok: false, reason: 'not_later' }
  if (loanDays(loan.start_on, newDue) > maxDays) return { ok: false, reason: 'too_long' }
  return { ok: true }
}

export interface SalvageRate {
  years: number
  percent: number
}

/** thai-rules.md: 5-year life 8 %, 8-year 10 %, 10-year 11 % (editable in settings). */
export const DEFAULT_SALVAGE_RATES: SalvageRate[] = [
  { years: 5, percent: 8 },
  { years: 8, percent: 10 },
  { years: 10, percent: 11 },
]

/** The rate of the longest listed life not above the item's life (or the shortest listed). */
export function salvagePercent(lifeYears: number, rates: SalvageRate[]): number {
  const sorted = [...rates].sort((a, b) => a.years - b.years)
  if (sorted.length === 0) return 0
  let pick = sorted[0]!
  for (const r of sorted) if (r.years <= lifeYears) pick = r
  return pick.percent
}

/**
 * The proposed compensation (ข้อ 209, one guide's method): the current price of an equal item
 * less straight-line depreciation over the useful life, from acquisition to the loss, down to the
 * salvage value; past the useful life, the salvage value. Integer satang, rounded to the baht.
 */
export function proposedCompensation(input: {
  currentPriceSatang: number
  acquiredOn: string | null
  lossOn: string
  lifeYears: number
  rates: SalvageRate[]
}): { amountSatang: number; salvageSatang: number; ageDays: number; percent: number } {
  const percent = salvagePercent(input.lifeYears, input.rates)
  const salvage = Math.round((input.currentPriceSatang * percent) / 100)
  const ageDays = input.acquiredOn ? Math.max(0, daysBetween(input.acquiredOn, input.lossOn)) : 0
  const lifeDays = input.lifeYears * 365
  const depreciable = input.currentPriceSatang - salvage
  const remaining = ageDays >= lifeDays ? 0 : depreciable * (1 - ageDays / lifeDays)
  const raw = salvage + remaining
  // Rounded to whole baht: a proposal, and what a receipt book records.
  const amountSatang = Math.round(raw / 100) * 100
  return { amountSatang, salvageSatang: salvage, ageDays, percent }
}
