/**
 * The agency's calendar: Asia/Bangkok (UTC+7, no DST), Thai fiscal years.
 *
 * Pure functions only: no I/O, no environment, no clock. A calendar date is a
 * string 'YYYY-MM-DD' in the Common Era; all arithmetic on it is done with
 * integer day numbers, so the server's own time zone never matters.
 */

/** Asia/Bangkok is UTC+7 all year round (Thailand has no daylight saving time). */
const BANGKOK_OFFSET_MS = 7 * 60 * 60 * 1000
const MS_PER_DAY = 24 * 60 * 60 * 1000

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

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

function isRealDay({ year, month, day }: CivilDate): boolean {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month)
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

function formatCivil({ year, month, day }: CivilDate): string {
  if (year < 1 || year > 9999) throw new RangeError(`Year ${year} is outside 0001–9999`)
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function toDayNumber({ year, month, day }: CivilDate): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const mp = (month + 9) % 12
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

/** Inverse of toDayNumber (H. Hinnant's civil_from_days). */
function fromDayNumber(dayNumber: number): CivilDate {
  const z = dayNumber + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day }
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

function assertInteger(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be an integer, got ${n}`)
}

function assertValidInstant(at: Date): void {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new RangeError('Invalid Date')
}

/** The Asia/Bangkok calendar date ('YYYY-MM-DD') of an instant, whatever the server's time zone. */
export function bangkokDate(at: Date): string {
  assertValidInstant(at)
  const dayNumber = Math.floor((at.getTime() + BANGKOK_OFFSET_MS) / MS_PER_DAY)
  return formatCivil(fromDayNumber(dayNumber))
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
    to: formatCivil({ year, month: lastMonth, day: daysInMonth(year, lastMonth) }),
  }
}

export function addDays(date: string, n: number): string {
  assertInteger(n, 'Day count')
  return formatCivil(fromDayNumber(toDayNumber(civil(date)) + n))
}

/** `to` − `from` in days (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return toDayNumber(civil(to)) - toDayNumber(civil(from))
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
