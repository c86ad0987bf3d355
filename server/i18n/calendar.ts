/**
 * The agency's calendar: Asia/Bangkok (UTC+7, no DST), Thai fiscal years.
 *
 * Pure functions only: no I/O, no environment, no clock. A calendar date is a string 'YYYY-MM-DD'
 * in the Common Era, a day of the Asia/Bangkok calendar. Arithmetic is date-fns's (a calendar date
 * becomes a Date at local midnight of that day, which is how date-fns models a day: its results do
 * not depend on the server's time zone, DST included), and the Bangkok day of an instant comes from
 * @date-fns/tz. Two hot paths keep a cheaper equivalent, each said where and checked against
 * date-fns in test/unit/calendar.test.ts. The Buddhist era (CE + 543) and Thai digits are ours.
 */
import { addDays as addDaysFns, differenceInCalendarDays, formatISO, getISODay, isExists, lastDayOfMonth } from 'date-fns'
import { TZDate, tzOffset } from '@date-fns/tz'

export const BANGKOK_TIME_ZONE = 'Asia/Bangkok'

/**
 * Thailand has kept UTC+7 without daylight saving since 1 April 1920 (IANA Asia/Bangkok; before it,
 * Bangkok Mean Time +6:42:04). The offset is read from @date-fns/tz, once.
 */
const BANGKOK_OFFSET_MS = tzOffset(BANGKOK_TIME_ZONE, new Date(Date.UTC(2000, 0, 1))) * 60_000
const BANGKOK_FIXED_SINCE_MS = Date.UTC(1920, 3, 1) - BANGKOK_OFFSET_MS
/** Years outside 0001–9999 do not fit 'YYYY-MM-DD' (setUTCFullYear: Date.UTC reads year 1 as 1901). */
const MIN_INSTANT_MS = new Date(0).setUTCFullYear(1, 0, 1) - BANGKOK_OFFSET_MS
const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 24) - BANGKOK_OFFSET_MS

/** Difference between the Buddhist era (พ.ศ.) and the Common Era (ค.ศ.). */
export const BUDDHIST_ERA_OFFSET = 543

/** A typed year above this is taken to be a Buddhist-era year. */
export const BUDDHIST_YEAR_THRESHOLD = 2300

/**
 * The earliest Common-Era year a typed date may have. Nothing this office records (an asset bought,
 * a loan, a letter) is older, and a year like 0999 is a typing slip; refusing it here keeps every
 * date input (pages, API, imports) inside the range the fiscal-year arithmetic understands.
 */
export const MIN_DATE_YEAR = 1900

/** Fiscal years are named in the Buddhist era; anything below this is assumed to be a CE year passed by mistake. */
const MIN_FISCAL_YEAR = 2400

export type DateParseFailure = 'format' | 'invalid' | 'buddhist_year' | 'out_of_range'
export type DateParseResult = { ok: true; value: string } | { ok: false; reason: DateParseFailure }
export type DateRange = { from: string; to: string }
export type FiscalQuarter = 1 | 2 | 3 | 4

interface CivilDate {
  year: number
  month: number
  day: number
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const THAI_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/

function isRealDay({ year, month, day }: CivilDate): boolean {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false
  // Every month has its 1st–28th; only later days need date-fns (it builds a Date: ~0.3 µs, and civil() runs per row).
  // isExists reads years 0–99 as 1900–1999; the Gregorian calendar repeats every 400 years.
  return day <= 28 || isExists(year < 100 ? year + 400 : year, month - 1, day)
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function formatCivil({ year, month, day }: CivilDate): string {
  if (year < 1 || year > 9999) throw new RangeError(`Year ${year} is outside 0001–9999`)
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`
}

/** Parses a calendar date that the caller promises is valid; throws RangeError otherwise (a programming error). */
function civil(date: string): CivilDate {
  const match = ISO_DATE.exec(date)
  if (match) {
    const value = { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) }
    if (isRealDay(value)) return value
  }
  throw new RangeError(`Not a calendar date 'YYYY-MM-DD': ${JSON.stringify(date)}`)
}

/** The day as date-fns models one: a Date at local midnight (setFullYear, so that years below 100 stay themselves). */
function toDay({ year, month, day }: CivilDate): Date {
  const d = new Date(2000, 0, 1)
  d.setFullYear(year, month - 1, day)
  return d
}

function fromDay(d: Date): string {
  const year = d.getFullYear()
  if (year < 1 || year > 9999) throw new RangeError(`Year ${year} is outside 0001–9999`)
  return formatISO(d, { representation: 'date' })
}

function assertInteger(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be an integer, got ${n}`)
}

/**
 * The Asia/Bangkok calendar date ('YYYY-MM-DD') of an instant, whatever the server's time zone.
 *
 * Fast path: called once per row (the register, lists, the benchmark's 500k loan items), and
 * @date-fns/tz's TZDate costs ~10 µs a call (an Intl format per offset lookup) against ~0.1 µs for
 * the fixed +07:00 shift, which is exact from 1920 on. Earlier instants go through TZDate.
 */
export function bangkokDate(at: Date): string {
  const ms = at instanceof Date ? at.getTime() : NaN
  if (!(ms >= MIN_INSTANT_MS && ms < MAX_INSTANT_MS)) throw new RangeError(Number.isNaN(ms) ? 'Invalid Date' : `Instant outside the years 0001–9999: ${ms}`)
  if (ms < BANGKOK_FIXED_SINCE_MS) return bangkokDateByTz(at)
  const shifted = new Date(ms + BANGKOK_OFFSET_MS)
  return formatCivil({ year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() })
}

/** The same through @date-fns/tz, for instants before 1920 (and the test that holds the fast path to it). */
export function bangkokDateByTz(at: Date): string {
  const d = new TZDate(at.getTime(), BANGKOK_TIME_ZONE)
  return formatCivil({ year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() })
}

/** The instant a Bangkok calendar day begins (its midnight, +07:00), e.g. for "recorded before that day". */
export function bangkokDayStart(date: string): Date {
  const { year, month, day } = civil(date)
  return new Date(new TZDate(year, month - 1, day, BANGKOK_TIME_ZONE).getTime())
}

export function toBuddhistYear(ceYear: number): number {
  assertInteger(ceYear, 'Year')
  return ceYear + BUDDHIST_ERA_OFFSET
}

export function toCommonEraYear(beYear: number): number {
  assertInteger(beYear, 'Year')
  return beYear - BUDDHIST_ERA_OFFSET
}

/**
 * The fiscal year (Buddhist era) containing a date: 1 October starts the next fiscal year,
 * e.g. 2024-10-01 … 2025-09-30 is FY 2568. A Date is first turned into its Bangkok date.
 */
export function fiscalYearOf(date: string | Date): number {
  const { year, month } = civil(typeof date === 'string' ? date : bangkokDate(date))
  return toBuddhistYear(month >= 10 ? year + 1 : year)
}

/** Common-Era year in which fiscal year `fy` (Buddhist era) ends. */
function fiscalEndYear(fy: number): number {
  assertInteger(fy, 'Fiscal year')
  if (fy < MIN_FISCAL_YEAR) {
    throw new RangeError(`Fiscal year ${fy} looks like a Common-Era year; fiscal years are Buddhist era (e.g. 2568)`)
  }
  return toCommonEraYear(fy)
}

/** 1 October … 30 September; FY 2568 = 2024-10-01 … 2025-09-30. */
export function fiscalYearRange(fy: number): DateRange {
  const end = fiscalEndYear(fy)
  return { from: formatCivil({ year: end - 1, month: 10, day: 1 }), to: formatCivil({ year: end, month: 9, day: 30 }) }
}

/** First half of the fiscal year: 1 October … 31 March. */
export function fiscalHalfRange(fy: number): DateRange {
  const end = fiscalEndYear(fy)
  return { from: formatCivil({ year: end - 1, month: 10, day: 1 }), to: formatCivil({ year: end, month: 3, day: 31 }) }
}

/** Q1 Oct–Dec (previous CE year), Q2 Jan–Mar, Q3 Apr–Jun, Q4 Jul–Sep. */
export function fiscalQuarterRange(fy: number, q: FiscalQuarter): DateRange {
  const end = fiscalEndYear(fy)
  if (q !== 1 && q !== 2 && q !== 3 && q !== 4) throw new RangeError(`Quarter must be 1–4, got ${String(q)}`)
  const year = q === 1 ? end - 1 : end
  const firstMonth = q === 1 ? 10 : (q - 1) * 3 - 2
  const lastMonth = firstMonth + 2
  return {
    from: formatCivil({ year, month: firstMonth, day: 1 }),
    to: fromDay(lastDayOfMonth(toDay({ year, month: lastMonth, day: 1 }))),
  }
}

/** `date` + `n` days (n may be negative). */
export function addDays(date: string, n: number): string {
  assertInteger(n, 'Day count')
  return fromDay(addDaysFns(toDay(civil(date)), n))
}

/**
 * `to` − `from` in days (negative when `to` is earlier): date-fns's differenceInCalendarDays.
 *
 * Fast path: called per row (days overdue / late in lists and the register), and date-fns costs
 * ~2.5 µs a call here (two local Dates, startOfDay, time-zone offset corrections) against ~0.2 µs
 * for two UTC midnights, whose difference is a whole number of days because UTC has no DST.
 * The test holds it to differenceInCalendarDays.
 */
export function daysBetween(from: string, to: string): number {
  return (utcMidnight(civil(to)) - utcMidnight(civil(from))) / MS_PER_DAY
}

const MS_PER_DAY = 86_400_000

function utcMidnight({ year, month, day }: CivilDate): number {
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  return d.getTime()
}

/** daysBetween through date-fns itself (the reference its fast path is tested against). */
export function daysBetweenByDateFns(from: string, to: string): number {
  return differenceInCalendarDays(toDay(civil(to)), toDay(civil(from)))
}

/** 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): number {
  return getISODay(toDay(civil(date)))
}

/** Number of days of a loan, counting both ends: a loan started and due the same day lasts 1 day. */
export function loanDays(start: string, due: string): number {
  return daysBetween(start, due) + 1
}

function checkCivil(value: CivilDate): DateParseResult {
  return isRealDay(value) ? { ok: true, value: formatCivil(value) } : { ok: false, reason: 'invalid' }
}

/**
 * Strict 'YYYY-MM-DD' (Common Era). A year above 2300 is rejected with reason
 * 'buddhist_year' (someone typed พ.ศ.), one below 1900 with 'out_of_range', before the day
 * itself is checked.
 */
export function parseIsoDate(input: string): DateParseResult {
  const match = typeof input === 'string' ? ISO_DATE.exec(input) : null
  if (!match) return { ok: false, reason: 'format' }
  const year = Number(match[1])
  if (year > BUDDHIST_YEAR_THRESHOLD) return { ok: false, reason: 'buddhist_year' }
  if (year < MIN_DATE_YEAR) return { ok: false, reason: 'out_of_range' }
  return checkCivil({ year, month: Number(match[2]), day: Number(match[3]) })
}

/** The catalogue key that explains a refused date to the person who typed it. */
export function dateMessageKey(reason: DateParseFailure): string {
  if (reason === 'buddhist_year') return 'loan.buddhistYear'
  if (reason === 'out_of_range') return 'loan.yearOutOfRange'
  return 'loan.badDate'
}

function thaiDigitsToAscii(s: string): string {
  return s.replace(/[๐-๙]/g, (d) => String(d.charCodeAt(0) - 0x0e50))
}

/**
 * 'DD/MM/YYYY' as Thai users type it (day and month may have one digit; Thai digits
 * are accepted). A year of 2300 or more is Buddhist era, below 2300 Common Era:
 * '15/10/2567' and '15/10/2024' are both 2024-10-15.
 */
export function parseThaiDate(input: string): DateParseResult {
  const match = typeof input === 'string' ? THAI_DATE.exec(thaiDigitsToAscii(input)) : null
  if (!match) return { ok: false, reason: 'format' }
  const typedYear = Number(match[3])
  const year = typedYear >= BUDDHIST_YEAR_THRESHOLD ? toCommonEraYear(typedYear) : typedYear
  // Keep the result acceptable to parseIsoDate.
  if (year > BUDDHIST_YEAR_THRESHOLD) return { ok: false, reason: 'invalid' }
  if (year < MIN_DATE_YEAR) return { ok: false, reason: 'out_of_range' }
  return checkCivil({ year, month: Number(match[2]), day: Number(match[1]) })
}
