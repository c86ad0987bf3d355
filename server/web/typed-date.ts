import type { NextFunction, Request, Response } from 'express'
import { BUDDHIST_ERA_OFFSET, MIN_DATE_YEAR, parseIsoDate, toBuddhistYear } from '../i18n/calendar.js'
import type { Translate } from '../i18n/index.js'

/*
 * Dates as a Thai office types them on the pages: «15/10/2568» (day/month/Buddhist-era year), and
 * the ISO form 2025-10-15 still. The services and the API keep ISO Common Era (SPEC §5): the page
 * chain turns what was typed into ISO before any route reads it (typedDates below), and a form
 * shows an ISO date back as dd/mm/25xx (showTypedDate). Without JavaScript the typed text is the
 * whole interface; public/js/date-picker.js only adds the calendar.
 *
 * Which years are which: 2400 and above is พ.ศ. (B.E. 2400 = 1857, older than anything recorded);
 * 1900–2300 typed in the slash form is taken as ค.ศ. (a date copied from a Common-Era paper or
 * spreadsheet; no B.E. year is that low in this office's lifetime); 2301–2399 and below 1900 are
 * refused. The ISO form follows the same split, so «2568-10-15» is 15 Oct 2025 too.
 */

/** The earliest and latest Common-Era years any date input accepts (calendar.ts's bounds). */
const MAX_CE_YEAR = 2300
const MIN_BE_YEAR = 2400

export type TypedDateFailure = 'format' | 'no_such_day' | 'out_of_range'
export type TypedDateResult = { ok: true; value: string } | { ok: false; reason: TypedDateFailure; typed: string }

const THAI_DIGIT = /[\u0E50-\u0E59]/g // ๐–๙
// Day, month and year split by / . - or spaces ("15/10/2568", "15.10.2568", "15 10 2568").
const DMY = /^(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{4})$/
// Eight digits straight from a phone's number pad: ddmmyyyy.
const DMY_COMPACT = /^(\d{2})(\d{2})(\d{4})$/
const ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})$/

function normalise(input: string): string {
  return input
    .normalize('NFKC') // full-width digits and slashes
    .replace(THAI_DIGIT, (d) => String(d.charCodeAt(0) - 0x0e50))
    .trim()
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

/** A typed year as Common Era, or undefined when it is in neither range. */
function commonEraYear(typed: number): number | undefined {
  if (typed >= MIN_BE_YEAR) {
    const ce = typed - BUDDHIST_ERA_OFFSET
    return ce <= MAX_CE_YEAR ? ce : undefined
  }
  return typed >= MIN_DATE_YEAR && typed <= MAX_CE_YEAR ? typed : undefined
}

/**
 * What was typed in a date box → ISO 'YYYY-MM-DD' (Common Era). Accepts dd/mm/yyyy (B.E. from
 * 2400, C.E. 1900–2300; one-digit day and month; / . - or a space between), ddmmyyyy, and
 * yyyy-mm-dd; Thai digits and surrounding spaces are fine. A failure carries the text as typed
 * (digits made Arabic) for the message: «ไม่มีวันที่ 31/02/2568».
 */
export function parseTypedDate(input: string): TypedDateResult {
  const text = typeof input === 'string' ? normalise(input) : ''
  let day: number
  let month: number
  let year: number
  const iso = ISO.exec(text)
  const dmy = iso ? null : (DMY.exec(text) ?? DMY_COMPACT.exec(text))
  if (iso) [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])]
  else if (dmy) [day, month, year] = [Number(dmy[1]), Number(dmy[2]), Number(dmy[3])]
  else return { ok: false, reason: 'format', typed: text }
  const typed = iso ? text : `${pad(day)}/${pad(month)}/${year}`
  if (month < 1 || month > 12 || day < 1 || day > 31) return { ok: false, reason: 'no_such_day', typed }
  const ce = commonEraYear(year)
  if (ce === undefined) return { ok: false, reason: 'out_of_range', typed }
  const r = parseIsoDate(`${pad(ce, 4)}-${pad(month)}-${pad(day)}`)
  return r.ok ? { ok: true, value: r.value } : { ok: false, reason: 'no_such_day', typed }
}

/** An ISO date as the boxes show it, «15/10/2568»; anything else (what someone typed) as it is. */
export function showTypedDate(value: unknown): string {
  if (value === null || value === undefined) return ''
  const s = String(value)
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  if (!m || !parseIsoDate(s).ok) return s
  return `${m[3]}/${m[2]}/${toBuddhistYear(Number(m[1]))}`
}

/** The message for a refused date, in the reader's language. */
export function typedDateMessage(t: Translate, r: Extract<TypedDateResult, { ok: false }>): string {
  if (r.reason === 'no_such_day') return t('date.noSuchDay', { date: r.typed })
  if (r.reason === 'out_of_range') return t('date.outOfRange', { date: r.typed })
  return t('date.format')
}

/**
 * Every date field of every page, by its name in the form or the query string. A page's date box
 * must use one of these names (test/unit/typed-date.test.ts reads the views to hold it).
 */
export const DATE_FIELDS: readonly string[] = [
  'startDate',
  'dueDate',
  'letterDate',
  'externalBorrower.letterDate',
  'paperApproval.date',
  'date',
  'onDate',
  'settledOn',
  'handedOverOn',
  'acquiredOn',
  'memoDate',
  'from',
  'to',
]

/** The message of a refused typed date, for the field named (set by typedDates), for routes that word errors themselves. */
export function typedDateError(req: Request, field: string): string | undefined {
  const errors = req.res?.locals.dateErrors as Record<string, string> | undefined
  return errors?.[field]
}

type Fields = Record<string, unknown>

function convert(source: Fields, t: Translate, errors: Record<string, string>): Fields | undefined {
  let out: Fields | undefined
  for (const name of DATE_FIELDS) {
    const v = source[name]
    if (typeof v !== 'string' || v.trim() === '') continue
    const r = parseTypedDate(v)
    if (r.ok) {
      if (r.value === v) continue
      out ??= { ...source }
      out[name] = r.value
    } else {
      // Left as typed: the service refuses it (so the page re-renders with it), and the field's
      // message becomes this one rather than the API's «ปปปป-ดด-วว ค.ศ.».
      errors[name] = typedDateMessage(t, r)
    }
  }
  return out
}

/**
 * The page chain's date reader: each DATE_FIELDS value in the body and the query string that reads
 * as a date becomes ISO Common Era; one that does not stays as typed, its message kept in
 * res.locals.dateErrors for views/partials/field-error.ejs (and routes that word errors themselves).
 * Express 5 parses req.query on each read, so the converted copy is set on the request itself.
 */
export function typedDates() {
  return (req: Request, res: Response, next: NextFunction) => {
    const errors: Record<string, string> = {}
    const body = req.body as Fields | undefined
    if (body && typeof body === 'object') {
      const converted = convert(body, req.t, errors)
      if (converted) Object.assign(body, converted)
    }
    const query = convert(req.query as Fields, req.t, errors)
    if (query) Object.defineProperty(req, 'query', { value: query, configurable: true, enumerable: true, writable: true })
    res.locals.dateErrors = errors
    next()
  }
}
