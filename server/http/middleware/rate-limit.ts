import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit'
import { AppError } from '../../errors.js'
import { normalizeUsername } from '../../services/user.service.js'

const WINDOW_MS = 15 * 60_000

/** Failed sign-ins allowed per 15 minutes (page and API together). */
export interface SignInLimits {
  /** One account from one address: tight — this is the budget of someone guessing a password. */
  perAccountAndAddress: number
  /** One address across all accounts: loose — a whole office may sit behind one NAT address. */
  perAddress: number
}

export const DEFAULT_SIGN_IN_LIMITS: Readonly<SignInLimits> = Object.freeze({ perAccountAndAddress: 5, perAddress: 100 })

/**
 * Only a failed guess counts: the sign-in routes answer 401 for an unknown user, a wrong password
 * and an inactive account alike (SPEC §5), and nothing else tells a guesser whether a password was
 * right. A 429 (the limit itself) costs nothing, so someone who keeps knocking after the limit
 * neither extends their own wait nor eats the office's address budget; a 403 (the password was right
 * but must be changed), a 422 or a 5xx is not a guess either.
 */
const notAFailedGuess = (_req: Request, res: Response) => res.statusCode !== 401

function blocked(req: Request, res: Response, next: NextFunction, options: Options) {
  const info = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit
  const seconds = info?.resetTime ? Math.max(1, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000)) : Math.ceil(options.windowMs / 1000)
  res.set('Retry-After', String(seconds))
  next(new AppError('rate_limited', 'error.rateLimited', { minutes: Math.ceil(seconds / 60) }))
}

function addressKey(req: Request): string {
  // An IPv6 client is keyed by its /56, as express-rate-limit recommends: one host has many addresses.
  return ipKeyGenerator(req.ip ?? 'unknown')
}

function accountKey(req: Request): string {
  const raw = (req.body as { username?: unknown } | undefined)?.username
  // Case and spaces do not make another account (the same rule as sign-in itself).
  return typeof raw === 'string' ? normalizeUsername(raw).slice(0, 64) : ''
}

/**
 * Sign-in throttling, shared by `POST /login` and `POST /api/v1/tokens` (one budget for both):
 * - per (account, address): a hard limit — the next attempt, even with the right password, gets 429
 *   with Retry-After until the window ends; a successful sign-in from that address clears it;
 * - per address: a loose limit on failed guesses across all accounts, so one NAT address shared by
 *   an office keeps working while one person there mistypes (or one machine guesses) again and again;
 * - per account alone: nothing. A limit there is a lock anyone can put on a named account (the
 *   executive, the only admin) from anywhere; the owner at their own address must never feel
 *   someone else's guesses. Each guessing address is held by the two limits above.
 * Counters live in this process's memory (one process serves an office); a restart clears them.
 */
export function signInLimiters(limits: SignInLimits = DEFAULT_SIGN_IN_LIMITS): RequestHandler[] {
  const common = {
    windowMs: WINDOW_MS,
    skipSuccessfulRequests: true,
    requestWasSuccessful: notAFailedGuess,
    standardHeaders: 'draft-7' as const,
    legacyHeaders: false,
    handler: blocked,
    validate: { trustProxy: false, xForwardedForHeader: false },
  }
  const pairKey = (req: Request) => `pair:${accountKey(req)}\u0000${addressKey(req)}`
  // First, so that an attempt it refuses never reaches (nor counts against) the address budget.
  const perAccountAndAddress = rateLimit({ ...common, limit: limits.perAccountAndAddress, keyGenerator: pairKey })
  const perAddress = rateLimit({ ...common, limit: limits.perAddress, keyGenerator: (req) => `ip:${addressKey(req)}` })
  /** A sign-in that succeeded clears the failures of that account from that address. */
  const clearOnSuccess: RequestHandler = (req, res, next) => {
    const key = pairKey(req)
    res.once('finish', () => {
      if (res.statusCode < 400) void perAccountAndAddress.resetKey(key)
    })
    next()
  }
  return [perAccountAndAddress, perAddress, clearOnSuccess]
}
