import type { Request } from 'express'

/** Form bodies are strings (or arrays for repeated names); these turn them into service input. */
export type FormBody = Record<string, string | string[] | undefined>

export function bodyOf(req: Request): FormBody {
  return (req.body ?? {}) as FormBody
}

/**
 * A multipart body (multer) reads `note[x]=1` as an object, and a repeated name arrives as an
 * array: anything that is not text reads as missing, so a form never renders or stores an object.
 */
export function str(v: string | string[] | undefined): string | undefined {
  const last: unknown = Array.isArray(v) ? v[v.length - 1] : v
  return typeof last === 'string' ? last : undefined
}

export function list(v: string | string[] | undefined): string[] {
  if (v === undefined || v === '') return []
  return (Array.isArray(v) ? v : [v]).filter((x: unknown): x is string => typeof x === 'string')
}

/** A checkbox: present means on. */
export function checkbox(v: string | string[] | undefined): boolean {
  return v !== undefined && str(v) !== '' && str(v) !== '0' && str(v) !== 'false'
}

/** A number field: empty → undefined (let the schema default), otherwise the number or the raw text (which the schema refuses). */
export function num(v: string | string[] | undefined): number | string | undefined {
  const s = str(v)?.trim()
  if (s === undefined || s === '') return undefined
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s
}

export function optionalId(v: string | string[] | undefined): number | null | string {
  const s = str(v)?.trim()
  if (!s) return null
  return /^\d+$/.test(s) ? Number(s) : s
}

/** A route parameter that must be a positive integer id; anything else is "not found". */
export function idParam(v: string | string[] | undefined): number | undefined {
  const s = str(v)
  return s && /^\d{1,15}$/.test(s) ? Number(s) : undefined
}

export function pageParam(v: unknown): number {
  const s = typeof v === 'string' ? v : undefined
  const n = s && /^\d{1,6}$/.test(s) ? Number(s) : 1
  return Math.max(n, 1)
}

/** Field errors keyed by field name, for templates. */
export function fieldErrors(
  details: Array<{ field: string; message: string; params?: Record<string, string | number> }> | undefined,
  t: (k: string, params?: Record<string, string | number>) => string,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const d of details ?? []) if (!out[d.field]) out[d.field] = t(d.message, d.params)
  return out
}
