/** Stable error codes of the JSON API (SPEC §5); pages map them to the same statuses. */
export type ErrorCode =
  | 'validation_failed'
  | 'bad_request'
  | 'unauthenticated'
  | 'forbidden'
  | 'password_change_required'
  | 'not_found'
  | 'conflict'
  | 'invalid_state'
  | 'payload_too_large'
  | 'rate_limited'
  | 'internal'

export const statusOf: Record<ErrorCode, number> = {
  validation_failed: 422,
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  password_change_required: 403,
  not_found: 404,
  conflict: 409,
  invalid_state: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
}

export interface FieldError {
  field: string
  /** A message key of the catalogues; translated at the edge with `params`. */
  message: string
  params?: Record<string, string | number>
}

/**
 * One error type for every expected failure. `messageKey` is a catalogue key, so the edge
 * translates it into the caller's language; `params` fill its placeholders.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly messageKey: string,
    readonly params: Record<string, string | number> = {},
    readonly details?: FieldError[],
    /** The rule of the loan policy (or another named rule) that refused the request: the API's `details: [{rule}]`. */
    readonly rule?: string,
  ) {
    super(`${code}: ${messageKey}`)
    this.name = 'AppError'
  }

  get status(): number {
    return statusOf[this.code]
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError
}
