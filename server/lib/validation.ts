import type { z } from 'zod'
import { AppError } from '../errors.js'

/** Turns a zod failure into the one validation error of the app, naming each field. */
export function validationError(error: z.ZodError): AppError {
  const details = error.issues.map((i) => ({ field: i.path.map(String).join('.') || '_', message: i.message.includes('.') ? i.message : 'validation.invalid' }))
  return new AppError('validation_failed', 'validation.failed', {}, details)
}

/** The input as the schema's output, or the app's validation error (422 on a page or the API). */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input)
  if (!r.success) throw validationError(r.error)
  return r.data
}
