import type { NextFunction, Request, Response } from 'express'
import { AppError, type FieldError } from '../../errors.js'

/**
 * Characters no keyboard types and no document should carry: NUL and the other C0/C1 controls
 * (tab and line breaks aside), the bidirectional overrides and isolates that can make printed text
 * read other than it is stored (U+202A–U+202E, U+2066–U+2069), and UTF-16 halves without their
 * pair (a JSON "\ud800"). Zero-width joiners and spaces stay allowed: emoji and Thai text use them.
 */
const UNTYPEABLE =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const MAX_DEPTH = 8
const MAX_FIELDS = 20

function collect(value: unknown, path: string, depth: number, out: FieldError[]): void {
  if (out.length >= MAX_FIELDS || depth > MAX_DEPTH) return
  if (typeof value === 'string') {
    if (UNTYPEABLE.test(value)) out.push({ field: path || 'body', message: 'input.untypeable' })
    return
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      collect(v, path ? `${path}.${i}` : String(i), depth + 1, out)
    })
    return
  }
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === '_csrf') continue
      if (UNTYPEABLE.test(k)) out.push({ field: 'body', message: 'input.untypeable' })
      collect(v, path ? `${path}.${k}` : k, depth + 1, out)
    }
  }
}

/**
 * Refuses a signed-in person's body that holds untypeable characters (422 naming each field), so
 * that no service stores them. Anonymous requests pass untouched: their routes answer 401 or send
 * to sign-in first, and a sign-in with such characters simply fails.
 */
export function refuseUntypeableInput() {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!req.user || req.body === undefined || req.body === null) return next()
    const details: FieldError[] = []
    collect(req.body, '', 0, details)
    if (details.length > 0) return next(new AppError('validation_failed', 'input.untypeableBody', {}, details))
    next()
  }
}
