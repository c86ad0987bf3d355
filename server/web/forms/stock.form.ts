import type { Request } from 'express'
import { bodyOf, checkbox, num, optionalId, str } from './common.form.js'
import { codesFromText } from './loan-request.form.js'

/** The counted-item form as typed (kept for re-rendering) and as createStock wants it. */
export function stockForm(req: Request) {
  const b = bodyOf(req)
  return {
    code: str(b.code) ?? '',
    name: str(b.name) ?? '',
    unit: str(b.unit) ?? '',
    categoryId: optionalId(b.categoryId),
    quantity: num(b.quantity) ?? '',
    location: str(b.location) ?? '',
    loanable: checkbox(b.loanable),
    notes: str(b.notes) ?? '',
  }
}

/** One stock move: stock_in | write_off | to_repair | from_repair | write_off_repair, a count and a reason. */
export function moveForm(req: Request) {
  const b = bodyOf(req)
  return { move: str(b.move) ?? '', quantity: num(b.quantity) ?? '', reason: str(b.reason) ?? '' }
}

export interface KitPartLine {
  /** 1-based line of the text box, so a message can name it. */
  line: number
  code: string
  quantity: number
}

/**
 * The kit's parts as typed: one per line, `code` or `code x2` (also `×2`, `*2` or `code 2`). A
 * scanned label address is taken back to its code. Lines that cannot be read are returned apart.
 */
export function parseKitParts(text: string): { parts: KitPartLine[]; bad: Array<{ line: number; text: string }> } {
  const parts: KitPartLine[] = []
  const bad: Array<{ line: number; text: string }> = []
  text.split(/\r?\n|\r/).forEach((raw, i) => {
    const line = raw.trim()
    if (!line) return
    // 'x' may be part of a code, so it splits only after a space; '×' and '*' never are.
    const m = /^(\S+)\s+(?:[x×*]\s*)?(\d{1,9})$/i.exec(line) ?? /^(\S+?)\s*[×*]\s*(\d{1,9})$/.exec(line) ?? /^(\S+)$/.exec(line)
    if (!m) {
      bad.push({ line: i + 1, text: line.slice(0, 80) })
      return
    }
    const code = codesFromText(m[1]!)[0] ?? m[1]!
    parts.push({ line: i + 1, code, quantity: Number(m[2] ?? 1) })
  })
  return { parts, bad }
}

export function kitForm(req: Request) {
  const b = bodyOf(req)
  return {
    code: str(b.code) ?? '',
    name: str(b.name) ?? '',
    parts: str(b.parts) ?? '',
    active: checkbox(b.active),
  }
}
