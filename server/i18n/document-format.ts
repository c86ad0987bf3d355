/**
 * Formatting for the printed documents (borrow slip, follow-up letters). Official paper is Thai
 * whatever language the person reads the app in, and every number on it — dates, the slip
 * number, counts, days, letter numbers, phone numbers, digits inside typed text — follows the
 * agency's «Thai digits» setting. Asset codes are identifiers matched against the QR label and
 * the register, so they are printed exactly as stored (the views never pass them through here).
 */
import { formatDate, formatDateTime, formatNumber, toThaiDigits, type DateStyle } from './format.js'
import { translate } from './index.js'

export interface DocumentFormat {
  readonly thaiDigits: boolean
  /** «15 มกราคม 2568» (long, the default on documents), «15 ม.ค. 2568», «15/01/2568»; '' for none. */
  date(d: string | Date | null | undefined, style?: DateStyle): string
  /** «15 ม.ค. 2568 10:00 น.»; '' for none. */
  dateTime(at: string | Date | null | undefined): string
  num(n: number): string
  /** Free text (a purpose, an address, a typed letter number): its ASCII digits follow the setting. */
  text(s: string | null | undefined): string
  /** The Thai catalogue, with the digits of the result (placeholders included) following the setting. */
  t(key: string, params?: Record<string, string | number>): string
}

export function documentFormat(opts: { thaiDigits: boolean }): DocumentFormat {
  const thaiDigits = opts.thaiDigits
  const text = (s: string | null | undefined): string => {
    if (s === null || s === undefined) return ''
    return thaiDigits ? toThaiDigits(s) : s
  }
  return {
    thaiDigits,
    date: (d, style = 'long') => (d === null || d === undefined || d === '' ? '' : formatDate(d, { locale: 'th', style, thaiDigits })),
    dateTime: (at) => (at === null || at === undefined || at === '' ? '' : formatDateTime(at, { locale: 'th', thaiDigits })),
    num: (n) => formatNumber(n, { thaiDigits }),
    text,
    t: (key, params) => text(translate('th', key, params)),
  }
}
