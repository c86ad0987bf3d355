import type { Request } from 'express'

/** The JSON body as an object; a missing or non-object body reads as empty, so validation names the fields. */
export function bodyObject(req: Request): Record<string, unknown> {
  const b: unknown = req.body
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {}
}
