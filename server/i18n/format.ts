/**
 * Display formatting for Thai and English. Pure functions: no I/O, no environment, no clock.
 *
 * Dates are formatted with Intl (ICU) in the Buddhist calendar for Thai. date-fns' `th`
 * locale prints Common-Era years, so it is not used for display.
 */

export type Locale = 'th' | 'en'
export type DateStyle = 'short' | 'long' | 'numeric'

export interface DateFormatOptions {
  locale: Locale
  /** 'short' (default): 15 ต.ค. 2567 / 15 Oct 2024; 'long': 15 ตุลาคม 2567; 'numeric': 15/10/2567 (day and month zero-padded). */
  style?: DateStyle
  /** Thai digits (๐–๙) for every number in the output. */
  thaiDigits?: boolean
}

export interface DateTimeFormatOptions {
  locale: Locale
  thaiDigits?: boolean
}

const BANGKOK = 'Asia/Bangkok'
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const THAI_ZERO = 0x0e50

export function toThaiDigits(s: string): string {
  return s.replace(/[0-9]/g, (d) => String.fromCharCode(THAI_ZERO + d.charCodeAt(0) - 48))
}

function intlLocale(locale: Locale, thaiDigits: boolean): string {
  if (locale === 'th') return thaiDigits ? 'th-TH-u-ca-buddhist-nu-thai' : 'th-TH-u-ca-buddhist-nu-latn'
  // en-US, not en-GB: since CLDR 42 en-GB abbreviates September as 'Sept'. Only the day, month
  // and year parts are used, so en-US's month-first order does not matter.
  return 'en-US-u-ca-gregory-nu-latn'
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(locale: string, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}|${JSON.stringify(options)}`
  let f = formatters.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { ...options, timeZone })
    formatters.set(key, f)
  }
  return f
}

const DATE_FIELDS: Record<DateStyle, Intl.DateTimeFormatOptions> = {
  short: { day: 'numeric', month: 'short', year: 'numeric' },
  long: { day: 'numeric', month: 'long', year: 'numeric' },
  numeric: { day: '2-digit', month: '2-digit', year: 'numeric' },
}

/**
 * A calendar string is pinned to UTC midnight and formatted in UTC, so it prints as that
 * very day whatever the server's zone; a Date is an instant and is shown in Bangkok.
 */
function toInstant(date: string | Date): { at: Date; timeZone: string } {
  if (typeof date === 'string') {
    const match = ISO_DATE.exec(date)
    const at = new Date(0)
    if (match) at.setUTCFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
    if (!match || at.getUTCDate() !== Number(match[3]) || at.getUTCMonth() !== Number(match[2]) - 1) {
      throw new RangeError(`Not a calendar date 'YYYY-MM-DD': ${JSON.stringify(date)}`)
    }
    return { at, timeZone: 'UTC' }
  }
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw new RangeError('Invalid Date')
  return { at: date, timeZone: BANGKOK }
}

/**
 * Assembles the output from the day, month and year parts only, so whatever ICU puts around
 * them (an era such as 'พ.ศ.', a weekday, odd spacing) never reaches the page.
 */
function formatDateParts(at: Date, timeZone: string, locale: Locale, style: DateStyle, thaiDigits: boolean): string {
  const parts = formatter(intlLocale(locale, thaiDigits), timeZone, DATE_FIELDS[style]).formatToParts(at)
  const part = (type: Intl.DateTimeFormatPartTypes): string => {
    const found = parts.find((p) => p.type === type)
    if (!found) throw new Error(`Intl produced no ${type} part`)
    return found.value
  }
  const day = part('day')
  const month = part('month')
  const year = part('year')
  const text = style === 'numeric' ? `${day}/${month}/${year}` : `${day} ${month} ${year}`
  // English has no Intl Thai-digit variant here; converting the few ASCII digits is exact.
  return thaiDigits ? toThaiDigits(text) : text
}

/**
 * Thai: «15 ต.ค. 2567», long «15 ตุลาคม 2567», numeric «15/10/2567» (Buddhist era).
 * English: '15 Oct 2024', long '15 October 2024', numeric '15/10/2024' (Common Era).
 * A string 'YYYY-MM-DD' is a calendar date; a Date is an instant shown in Asia/Bangkok.
 */
export function formatDate(date: string | Date, opts: DateFormatOptions): string {
  if (typeof date !== 'string') return formatDateUncached(date, opts)
  // Registers and reports format the same few dozen dates thousands of times and Intl formatting was a
  // fifth of such a page's CPU (bench/, issue 7): the text of a date string is kept. Invalid input
  // still throws (it is never stored).
  const key = `${opts.locale}|${opts.style ?? 'short'}|${opts.thaiDigits ? 1 : 0}|${date}`
  let text = dateTexts.get(key)
  if (text === undefined) {
    text = formatDateUncached(date, opts)
    if (dateTexts.size >= 5000) dateTexts.clear()
    dateTexts.set(key, text)
  }
  return text
}

const dateTexts = new Map<string, string>()

function formatDateUncached(date: string | Date, opts: DateFormatOptions): string {
  const { at, timeZone } = toInstant(date)
  return formatDateParts(at, timeZone, opts.locale, opts.style ?? 'short', opts.thaiDigits ?? false)
}

/**
 * Short date and 24-hour Bangkok time: «15 ต.ค. 2567 14:05 น.» / '15 Oct 2024 14:05'.
 * A string is ISO 8601: with a zone it is that instant, without a zone it is UTC, and a bare
 * 'YYYY-MM-DD' means Bangkok midnight of that day. Throws RangeError on anything else.
 */
export function formatDateTime(at: Date | string, opts: DateTimeFormatOptions): string {
  const instant = typeof at === 'string' ? parseInstant(at) : at
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) throw new RangeError(`Invalid date-time: ${String(at)}`)
  const thaiDigits = opts.thaiDigits ?? false
  const date = formatDateParts(instant, BANGKOK, opts.locale, 'short', thaiDigits)
  const parts = formatter(intlLocale(opts.locale, thaiDigits), BANGKOK, {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(instant)
  const hour = parts.find((p) => p.type === 'hour')?.value ?? ''
  const minute = parts.find((p) => p.type === 'minute')?.value ?? ''
  const time = thaiDigits ? toThaiDigits(`${hour}:${minute}`) : `${hour}:${minute}`
  return opts.locale === 'th' ? `${date} ${time} น.` : `${date} ${time}`
}

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/

/**
 * ISO 8601 text to an instant without ever consulting the server's zone (new Date() reads a
 * zone-less date-time as local time). A bare 'YYYY-MM-DD' is Bangkok midnight of that day; a
 * date-time without a zone is UTC, as SQLite's CURRENT_TIMESTAMP and toISOString() write it.
 */
function parseInstant(s: string): Date {
  const m = ISO_INSTANT.exec(s.trim())
  if (!m) return new Date(NaN)
  const [, date, hh, mm, ss, frac, zone] = m
  if (hh === undefined) return new Date(`${date}T00:00:00.000+07:00`)
  const ms = (frac ?? '').slice(0, 3).padEnd(3, '0')
  const offset = zone === undefined || zone === 'z' || zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`
  return new Date(`${date}T${hh}:${mm}:${ss ?? '00'}.${ms}${offset}`)
}

const numberFormatters = new Map<number | undefined, Intl.NumberFormat>()

/**
 * Comma-grouped number: formatNumber(1234567.5) = '1,234,567.5'. With `decimals`, exactly that
 * many decimals (rounded half away from zero); without, up to 3 decimals as Intl does.
 * Never prints '-0'.
 */
export function formatNumber(n: number, opts: { thaiDigits?: boolean; decimals?: number } = {}): string {
  const { decimals } = opts
  if (decimals !== undefined && (!Number.isInteger(decimals) || decimals < 0 || decimals > 20)) {
    throw new RangeError(`decimals must be an integer 0–20, got ${decimals}`)
  }
  let f = numberFormatters.get(decimals)
  if (!f) {
    f = new Intl.NumberFormat('en-US', {
      useGrouping: true,
      ...(decimals === undefined ? {} : { minimumFractionDigits: decimals, maximumFractionDigits: decimals }),
    })
    numberFormatters.set(decimals, f)
  }
  const formatted = f.format(n)
  // -0, or a small negative rounded to zero: no sign (signDisplay 'negative' is not in the ES2022 lib).
  const text = /^-[0.,]+$/.test(formatted) ? formatted.slice(1) : formatted
  return opts.thaiDigits ? toThaiDigits(text) : text
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

/**
 * Integer satang to baht with two decimals: 1250000 → '12,500.00', -5 → '-0.05'.
 * Exact integer arithmetic; throws RangeError for a non-integer or an unsafe integer.
 */
export function formatSatang(satang: number, opts: { thaiDigits?: boolean } = {}): string {
  if (!Number.isSafeInteger(satang)) throw new RangeError(`Satang must be a safe integer, got ${satang}`)
  const negative = satang < 0
  const digits = String(Math.abs(satang)).padStart(3, '0')
  const baht = digits.slice(0, -2)
  const fraction = digits.slice(-2)
  const text = `${negative ? '-' : ''}${groupThousands(baht)}.${fraction}`
  return opts.thaiDigits ? toThaiDigits(text) : text
}

const BAHT = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/

/**
 * Baht text (or a JSON number, read through its decimal text) to integer satang.
 * Accepts '7,900.00', '7900', '7900.5', 7900.5, surrounding spaces and Thai digits; refuses
 * negatives, more than two decimals ('1.234', '1.005'), badly placed commas ('79,00'),
 * exponent notation, empty text, NaN/Infinity and values beyond Number.MAX_SAFE_INTEGER satang.
 */
export function parseBahtToSatang(input: string | number): { ok: true; value: number } | { ok: false } {
  let text: string
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false }
    text = String(input)
  } else if (typeof input === 'string') {
    text = input.trim().replace(/[๐-๙]/g, (d) => String(d.charCodeAt(0) - THAI_ZERO))
  } else {
    return { ok: false }
  }
  const match = BAHT.exec(text)
  if (!match) return { ok: false }
  const whole = (match[1] ?? '').replace(/,/g, '')
  const fraction = (match[2] ?? '').padEnd(2, '0')
  const satang = BigInt(whole) * 100n + BigInt(fraction)
  if (satang > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false }
  return { ok: true, value: Number(satang) }
}

const THAI_LEADING_VOWEL = /^[\u0E40-\u0E44\u0EC0-\u0EC4]$/u

let graphemeSegmenter: Intl.Segmenter | undefined

function graphemes(s: string): string[] {
  graphemeSegmenter ??= new Intl.Segmenter('th', { granularity: 'grapheme' })
  return Array.from(graphemeSegmenter.segment(s), (seg) => seg.segment)
}

let wordSegmenter: Intl.Segmenter | undefined

/**
 * Thai words of a text, in order, spaces included as their own pieces: joined they give the text back.
 * Thai has no spaces between words, so a narrow box (a label's agency name) breaks only where these
 * pieces meet (`<wbr>` between them, with `word-break: keep-all`) and never inside a word.
 */
export function wordsOf(s: string): string[] {
  wordSegmenter ??= new Intl.Segmenter('th', { granularity: 'word' })
  return Array.from(wordSegmenter.segment(s), (seg) => seg.segment)
}

/**
 * Truncates to at most `maxGraphemes` user-perceived characters, including the '…' added when
 * cut. Cuts only between graphemes, so Thai vowels and tone marks stay on their consonant; a
 * Thai/Lao leading vowel (เ แ โ ใ ไ) left without its consonant and trailing spaces are dropped too.
 */
export function truncateText(s: string, maxGraphemes: number): string {
  if (!Number.isInteger(maxGraphemes) || maxGraphemes < 0) {
    throw new RangeError(`maxGraphemes must be a non-negative integer, got ${maxGraphemes}`)
  }
  const all = graphemes(s)
  if (all.length <= maxGraphemes) return s
  if (maxGraphemes === 0) return ''
  const kept = all.slice(0, maxGraphemes - 1)
  while (kept.length > 0) {
    const last = kept[kept.length - 1] ?? ''
    if (THAI_LEADING_VOWEL.test(last) || last.trim() === '') kept.pop()
    else break
  }
  return `${kept.join('')}…`
}

/**
 * An asset, stock or kit code as it is stored and printed: trimmed and NFC, exactly as entered.
 * Never NFKC, which turns SARA AM 'ำ' (U+0E33) into 'ํา' (U+0E4D U+0E32) and would change the
 * label (SPEC §2). Codes are compared by codeKey, which folds those forms. Only full-width ASCII
 * (a Thai IME's ４１６－６６, which the code pattern's `-` `/` `.` would refuse) becomes ASCII.
 */
export function normalizeCode(s: string): string {
  return s
    .normalize('NFC')
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim()
}

export { codeKey } from '../../db/schema.js'
