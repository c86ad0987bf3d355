import { codesFromText } from './loan-request.form.js'
import { str, type FormBody } from './common.form.js'

/** The service's limit on one counted line (createLoan refuses more). */
export const MAX_LINE_QUANTITY = 100_000

const THAI_DIGIT = /[\u0E50-\u0E59]/g

function asciiDigits(s: string): string {
  return s.replace(THAI_DIGIT, (d) => String(d.charCodeAt(0) - 0x0e50))
}

/**
 * A count typed into a field: blank → undefined, whole numbers (Thai digits too, «๘๐») → the
 * number, anything else → null (the page says it is not a count).
 */
export function parseCount(v: string | string[] | undefined): number | undefined | null {
  const s = asciiDigits((str(v) ?? '').trim()).replace(/[,\s]/g, '')
  if (s === '') return undefined
  return /^\d{1,7}$/.test(s) ? Number(s) : null
}

export interface TypedLine {
  code: string
  quantity?: number
}

export interface TypedLinesResult {
  lines: TypedLine[]
  /** Lines whose count is not usable, as typed. */
  bad: string[]
}

/**
 * The finance entry page's items field: one line per code, a counted item with its count after
 * it — `CHAIR x80`, `CHAIR ×80`, `CHAIR 80`, `CHAIR*80` — and a kit by its code (`KIT-SOUND`, or
 * `KIT-SOUND x2` for two sets). A USB scanner types a label's whole URL; that is taken back to
 * its code as for assets. Codes hold no spaces, so whatever follows a space is the count.
 */
export function typedLines(text: string): TypedLinesResult {
  const lines: TypedLine[] = []
  const bad: string[] = []
  for (const raw of text.split(/[\r\n]+/)) {
    const line = raw.trim()
    if (!line) continue
    const m = /^(\S+)\s+[xX×*]?\s*([0-9\u0E50-\u0E59,]+)$/.exec(line) ?? /^(\S+?)\s*[×*]\s*([0-9\u0E50-\u0E59,]+)$/.exec(line)
    const code = codesFromText(m ? m[1]! : line)[0]
    if (!code) continue
    if (!m) {
      if (/\s/.test(line)) bad.push(line)
      else lines.push({ code })
      continue
    }
    const n = parseCount(m[2])
    if (typeof n !== 'number' || n < 1 || n > MAX_LINE_QUANTITY) bad.push(line)
    else lines.push({ code, quantity: n })
  }
  return { lines, bad }
}

/** Counts per stock line from a screen's fields named `<prefix>_<lineId>`. */
export function countField(b: FormBody, prefix: string, lineId: number): number | undefined | null {
  return parseCount(b[`${prefix}_${lineId}`])
}
