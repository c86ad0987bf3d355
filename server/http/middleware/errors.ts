import type { NextFunction, Request, Response } from 'express'
import type { AppContext } from '../../context.js'
import { isUnstorableText } from '../../../db/dialect.js'
import { AppError, statusOf, type ErrorCode } from '../../errors.js'
import { translate } from '../../i18n/index.js'
import { ROLES } from '../../../db/schema.js'

/** Express and body-parser errors carry `status`/`type`; they become our stable codes. */
function classify(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err
  const e = err as { status?: number; statusCode?: number; type?: string; code?: string } | undefined
  if (!e || typeof e !== 'object') return undefined
  if (e.code === 'EBADCSRFTOKEN' || (e.code === undefined && e.type === undefined && (e.status ?? e.statusCode) === 403)) {
    return new AppError('forbidden', 'error.csrf')
  }
  if (e.type === 'entity.parse.failed') return new AppError('bad_request', 'error.badJson')
  // Text no database column can hold (a NUL byte in a search or a sign-in): PostgreSQL refuses it by code.
  if (isUnstorableText(err)) return new AppError('validation_failed', 'input.untypeableBody', {}, [{ field: 'body', message: 'input.untypeable' }])
  if (e.type === 'entity.too.large' || (e.status ?? e.statusCode) === 413) return new AppError('payload_too_large', 'error.payloadTooLarge')
  const status = e.status ?? e.statusCode
  if (err instanceof URIError || status === 400) return new AppError('bad_request', 'error.badUrl')
  if (status === 404) return new AppError('not_found', 'error.notFound')
  if (status !== undefined && status >= 400 && status < 500) {
    const code = (Object.entries(statusOf).find(([, s]) => s === status)?.[0] ?? 'bad_request') as ErrorCode
    return new AppError(code, 'error.badRequest')
  }
  return undefined
}

/** The path as a person typed it (Thai, not %E0%B8…); the template escapes it. */
function readablePath(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

function safeNext(url: string): string {
  return `/login?next=${encodeURIComponent(url)}`
}

export function notFound() {
  return (_req: Request, _res: Response, next: NextFunction) => next(new AppError('not_found', 'error.notFound'))
}

/**
 * The one error handler. The status comes from the error's code; a 500 shows an apology and the
 * request id and logs the cause — never a stack trace to the person.
 */
export function errorHandler(ctx: AppContext) {
  // Express recognises an error handler by its four parameters.
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const locale = req.locale ?? 'th'
    const t = (key: string, params?: Record<string, string | number>) => translate(locale, key, params)
    const appError = classify(err)
    if (!appError) {
      ctx.logger.error({ err, requestId: req.requestId, method: req.method, url: req.originalUrl }, 'unhandled error')
    } else if (appError.status >= 500) {
      ctx.logger.error({ err, requestId: req.requestId }, 'server error')
    }
    const error = appError ?? new AppError('internal', 'error.internal')
    if (res.headersSent) {
      res.end()
      return
    }
    res.set('Cache-Control', 'no-store')
    const status = error.status
    const message = error.code === 'internal' ? t('error.internal') : t(error.messageKey, error.params)

    if (req.isApi) {
      const body: { error: { code: string; message: string; details?: Array<{ field: string; message: string } | { rule: string; message: string }> } } = {
        error: { code: error.code, message },
      }
      if (error.details && error.code !== 'internal') {
        body.error.details = error.details.map((d) => ({ field: d.field, message: t(d.message, d.params) }))
      } else if (error.rule) {
        // SPEC §1: a refusal by a rule names it.
        body.error.details = [{ rule: error.rule, message }]
      }
      if (error.code === 'internal') res.set('X-Request-Id', req.requestId)
      res.status(status).json(body)
      return
    }

    if (error.code === 'unauthenticated') {
      const target = req.method === 'GET' || req.method === 'HEAD' ? safeNext(req.originalUrl) : '/login'
      res.redirect(303, target)
      return
    }

    // The failure may have come before the page locals were set (CSRF, a bad URL).
    res.locals.t ??= req.t ?? t
    res.locals.locale ??= locale
    res.locals.user ??= req.user
    res.locals.nav ??= []
    res.locals.flash ??= []
    res.locals.csrfToken ??= () => ''
    res.locals.agencyName ??= ''
    res.locals.currentPath ??= req.path
    const required = error.code === 'forbidden' && typeof error.params.roles === 'string' ? error.params.roles.split(',') : []
    res.status(status).render('errors/error', {
      title: t(`error.title.${status}`),
      status,
      message,
      details: (error.details ?? []).map((d) => ({ field: d.field, message: t(d.message, d.params) })),
      requestId: req.requestId,
      path: readablePath(req.path),
      requiredRoles: required.filter((r) => (ROLES as readonly string[]).includes(r)),
    })
  }
}
