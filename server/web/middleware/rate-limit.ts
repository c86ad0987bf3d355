import type { NextFunction, Request, Response } from 'express'
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit'
import { AppError } from '../../errors.js'
import { normalizeUsername } from '../../services/user.service.js'

const WINDOW_MS = 15 * 60_000

export interface SignInLimits {
  perAccount: number
  perAddress: number
}

/** Failed attempts only count: a correct sign-in gives its slot back. */
const DEFAULT_LIMITS: SignInLimits = { perAccount: 5, perAddress: 50 }

function blocked(req: Request, res: Response, next: NextFunction, options: Options) {
  const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit
  const seconds = info?.resetTime ? Math.max(1, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(options.windowMs / 1000)
  res.set('Retry-After', String(seconds))
  next(new AppError('rate_limited', 'error.rateLimited', { minutes: Math.ceil(seconds / 60) }))
}

/**
 * Sign-in throttling per account and per address. An office behind one NAT address shares the
 * per-address budget, so it is generous; the per-account budget is tight, and an attack on one
 * account does not lock out the others.
 */
export function signInLimiters(limits: SignInLimits = DEFAULT_LIMITS) {
  const common = {
    windowMs: WINDOW_MS,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7' as const,
    legacyHeaders: false,
    handler: blocked,
    validate: { trustProxy: false, xForwardedForHeader: false },
  }
  const perAddress = rateLimit({
    ...common,
    limit: limits.perAddress,
    keyGenerator: (req) => `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`,
  })
  const perAccount = rateLimit({
    ...common,
    limit: limits.perAccount,
    keyGenerator: (req) => {
      const raw = (req.body as { username?: unknown } | undefined)?.username
      return `user:${typeof raw === 'string' ? normalizeUsername(raw).slice(0, 64) : ''}`
    },
  })
  return [perAddress, perAccount]
}
