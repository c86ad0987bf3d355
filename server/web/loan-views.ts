import type { AppContext } from '../context.js'
import type { Locale } from '../i18n/index.js'
import { addDays, daysBetween, isoWeekday } from '../i18n/calendar.js'
import { isAppError } from '../errors.js'
import { assetLoanState, getLoan, type AssetLoanState } from '../services/loan.service.js'
import { rangesOverlap } from '../services/loan-rules.js'
import { hasRole, type CurrentUser } from '../services/user.service.js'

/**
 * View-models shared by the cart, the asset page and the QR page: where an asset is, whether it
 * is free for some dates, and an eight-week calendar. The service decides; these only shape.
 */

/** SPEC §3: requestable are loanable assets whose status is available or on_loan. */
export function isRequestable(asset: { loanable: number | boolean; status: string }): boolean {
  return (asset.loanable === 1 || asset.loanable === true) && (asset.status === 'available' || asset.status === 'on_loan')
}

export interface HolderView {
  loanId: number
  number: string
  name: string
  dueDate: string
  overdue: boolean
  /** The viewer may open /loans/:id (finance and reviewers always; staff their own loans). */
  canOpen: boolean
}

export interface ReservationView {
  loanId: number
  number: string
  from: string
  to: string
  status: string
  canOpen: boolean
}

export interface AssetLoanView {
  holder: HolderView | null
  reservations: ReservationView[]
}

/** Which of these loans the viewer may open: staff only their own (getLoan answers not_found otherwise). */
async function openableLoans(ctx: AppContext, viewer: CurrentUser, ids: number[]): Promise<Set<number>> {
  if (hasRole(viewer, 'finance', 'executive', 'committee', 'admin')) return new Set(ids)
  const out = new Set<number>()
  for (const id of new Set(ids)) {
    try {
      await getLoan(ctx, viewer, id)
      out.add(id)
    } catch (e) {
      if (!(isAppError(e) && e.code === 'not_found')) throw e
    }
  }
  return out
}

/** `known`: the asset's loan state when the caller already has it (the QR page). */
export async function assetLoanView(
  ctx: AppContext,
  viewer: CurrentUser,
  assetId: number,
  known?: AssetLoanState,
): Promise<AssetLoanView & { state: AssetLoanState }> {
  const state = known ?? (await assetLoanState(ctx, assetId))
  const ids = [...(state.holder ? [state.holder.loanId] : []), ...state.reservations.map((r) => r.loanId)]
  const openable = await openableLoans(ctx, viewer, ids)
  return {
    state,
    holder: state.holder ? { ...state.holder, canOpen: openable.has(state.holder.loanId) } : null,
    reservations: state.reservations.map((r) => ({ ...r, canOpen: openable.has(r.loanId) })),
  }
}

export type Availability =
  | { kind: 'free' }
  | { kind: 'held'; number: string; due: string }
  | { kind: 'busy'; number: string; from: string; to: string }
  | { kind: 'unavailable'; status: string }
  | { kind: 'notLoanable' }
  | { kind: 'noDates' }

/**
 * Whether an asset is free for [from, to], as the service's overlap rule sees it (SPEC §3): an
 * item on loan is held until it comes back — through its due date, or today when overdue; an
 * approved loan holds its dates. Pending requests never block.
 */
export function availabilityFor(
  asset: { loanable: number; status: string },
  state: AssetLoanState,
  dates: { from: string; to: string } | null,
  today: string,
): Availability {
  if (asset.loanable !== 1) return { kind: 'notLoanable' }
  if (!isRequestable(asset)) return { kind: 'unavailable', status: asset.status }
  if (!dates) return { kind: 'noDates' }
  const { from, to } = dates
  if (state.holder) {
    const heldUntil = state.holder.dueDate > today ? state.holder.dueDate : today
    if (from <= heldUntil) return { kind: 'held', number: state.holder.number, due: state.holder.dueDate }
  }
  const r = state.reservations.find((x) => rangesOverlap(from, to, x.from, x.to))
  if (r) return { kind: 'busy', number: r.number, from: r.from, to: r.to }
  return { kind: 'free' }
}

// ---------------------------------------------------------------- calendar

export interface CalendarDay {
  date: string
  day: number
  past: boolean
  today: boolean
  /** The loan holding this day, if any. */
  booking: { number: string; loanId: number; onLoan: boolean } | null
}

export interface CalendarMonth {
  heading: string
  /** Monday…Sunday; null where the day is outside this month or outside the eight weeks. */
  weeks: Array<Array<CalendarDay | null>>
}

export interface Calendar {
  from: string
  to: string
  months: CalendarMonth[]
  hasBookings: boolean
}

const headingFormats = new Map<Locale, Intl.DateTimeFormat>()

/** «มกราคม 2568» (Buddhist era) / 'January 2025'. Built from the month and year parts only. */
function monthHeading(date: string, locale: Locale): string {
  let f = headingFormats.get(locale)
  if (!f) {
    f = new Intl.DateTimeFormat(locale === 'th' ? 'th-TH-u-ca-buddhist-nu-latn' : 'en-US-u-ca-gregory-nu-latn', {
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    })
    headingFormats.set(locale, f)
  }
  const [y, m] = date.split('-').map(Number) as [number, number]
  const parts = f.formatToParts(new Date(Date.UTC(y, m - 1, 1)))
  const month = parts.find((p) => p.type === 'month')?.value ?? ''
  const year = parts.find((p) => p.type === 'year')?.value ?? ''
  return `${month} ${year}`
}

/**
 * The next `weeks` weeks from the Monday of this week, as month grids. A loan on loan holds its
 * days from its start (unknown here, so from today) through the later of its due date and today.
 */
export function buildCalendar(state: AssetLoanState, today: string, locale: Locale, weeks = 8): Calendar {
  const from = addDays(today, 1 - isoWeekday(today))
  const to = addDays(from, weeks * 7 - 1)
  const bookings: Array<{ from: string; to: string; number: string; loanId: number; onLoan: boolean }> = []
  if (state.holder) {
    bookings.push({
      from: today,
      to: state.holder.dueDate > today ? state.holder.dueDate : today,
      number: state.holder.number,
      loanId: state.holder.loanId,
      onLoan: true,
    })
  }
  for (const r of state.reservations) bookings.push({ from: r.from, to: r.to, number: r.number, loanId: r.loanId, onLoan: false })

  const months: CalendarMonth[] = []
  let current: { key: string; month: CalendarMonth; week: Array<CalendarDay | null> } | null = null
  let hasBookings = false
  const total = daysBetween(from, to)
  for (let i = 0; i <= total; i++) {
    const date = addDays(from, i)
    const key = date.slice(0, 7)
    const wd = isoWeekday(date)
    if (!current || current.key !== key) {
      if (current) {
        while (current.week.length < 7) current.week.push(null)
        current.month.weeks.push(current.week)
      }
      const month: CalendarMonth = { heading: monthHeading(date, locale), weeks: [] }
      months.push(month)
      current = { key, month, week: Array.from({ length: wd - 1 }, () => null) }
    } else if (wd === 1) {
      current.month.weeks.push(current.week)
      current.week = []
    }
    const past = date < today
    const b = past ? undefined : bookings.find((x) => x.from <= date && date <= x.to)
    if (b) hasBookings = true
    current.week.push({
      date,
      day: Number(date.slice(8)),
      past,
      today: date === today,
      booking: b ? { number: b.number, loanId: b.loanId, onLoan: b.onLoan } : null,
    })
  }
  if (current) {
    while (current.week.length < 7) current.week.push(null)
    current.month.weeks.push(current.week)
  }
  return { from, to, months, hasBookings }
}
