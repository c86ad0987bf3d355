import { createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import type { ApiTokenRow } from '../../db/schema.js'
import * as tokens from '../repositories/token.repository.js'
import * as users from '../repositories/user.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append, type Actor } from './audit.service.js'
import { revokeAllTokensInTransaction } from './token-revocation.js'
import { actorOf, getCurrentUser, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'

const PREFIX = 'ykt_'

function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

/** The longest life a token may be given, in days (SPEC §5: `expiresInDays` 1–365). */
export const MAX_TOKEN_DAYS = 365
/** The lives the profile page offers; the API takes any whole number of days up to the maximum. */
export const TOKEN_LIFE_CHOICES = [30, 90, 365] as const

const DAY_MS = 24 * 60 * 60 * 1000

/** Days of life: a whole JSON number 1–365; absent or null is a token without expiry. */
export const expiresInDaysSchema = z
  .number({ error: 'validation.integer' })
  .int({ error: 'validation.integer' })
  .min(1, { error: 'token.expiresInDaysRange' })
  .max(MAX_TOKEN_DAYS, { error: 'token.expiresInDaysRange' })
  .nullable()
  .default(null)

export const tokenNameSchema = z.object({
  name: z.string({ error: 'validation.required' }).trim().min(1, { error: 'validation.required' }).max(100, { error: 'validation.tooLong' }),
  expiresInDays: expiresInDaysSchema,
})
export type TokenInput = z.input<typeof tokenNameSchema>

/** Checks a token request before anything else is done with it (the API checks it before the password). */
export function parseTokenInput(input: unknown): z.output<typeof tokenNameSchema> {
  return parseOrThrow(tokenNameSchema, input)
}

/**
 * Issues a bearer token; only its hash is stored, so the secret is returned once. Refused while the
 * account must change its password: a temporary password (an admin's, a generated one) must not
 * become a lasting credential.
 */
export async function issueToken(ctx: AppContext, user: CurrentUser, input: unknown): Promise<{ token: string; row: ApiTokenRow }> {
  const { name, expiresInDays } = parseTokenInput(input)
  if (user.mustChangePassword) throw new AppError('password_change_required', 'token.passwordChangeRequired')
  const token = PREFIX + randomBytes(32).toString('base64url')
  const row = await writeTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now()
    const expiresAt = expiresInDays === null ? null : new Date(now.getTime() + expiresInDays * DAY_MS).toISOString()
    const row = await tokens.insert(trx, {
      user_id: user.id,
      name,
      token_hash: digest(token),
      prefix: token.slice(0, PREFIX.length + 6),
      created_at: now.toISOString(),
      expires_at: expiresAt,
    })
    await append(trx, ctx.clock, actorOf(user), {
      action: 'token.issued',
      entity: 'api_token',
      entityId: row.id,
      data: { name, prefix: row.prefix, expiresAt },
    })
    return row
  })
  return { token, row }
}

/** A token past its expiry (ISO strings of one format compare as times). */
export function isExpired(row: Pick<ApiTokenRow, 'expires_at'>, now: Date): boolean {
  return row.expires_at !== null && row.expires_at <= now.toISOString()
}

/**
 * The user behind a bearer token: undefined for an unknown, revoked, expired or deactivated one
 * (401); `password_change_required` (403) while its owner must change their password — the
 * caller translates that refusal into the owner's language.
 */
export type TokenCheck = { ok: true; user: CurrentUser } | { ok: false; code: 'password_change_required'; user: CurrentUser }

export async function authenticateToken(ctx: AppContext, token: string): Promise<TokenCheck | undefined> {
  if (!token.startsWith(PREFIX) || token.length > 200) return undefined
  const row = await tokens.findActiveByHash(ctx.db, digest(token))
  const now = ctx.clock.now()
  if (!row || isExpired(row, now)) return undefined
  const user = await getCurrentUser(ctx, row.user_id)
  if (!user) return undefined
  if (user.mustChangePassword) return { ok: false, code: 'password_change_required', user }
  // Last use to the minute is enough for a person to judge a token, and spares a write per call.
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
    await tokens.touch(ctx.db, row.id, now.toISOString())
  }
  return { ok: true, user }
}

export async function listTokens(ctx: AppContext, user: CurrentUser): Promise<ApiTokenRow[]> {
  return tokens.listForUser(ctx.db, user.id)
}

export async function revokeToken(ctx: AppContext, user: CurrentUser, id: number): Promise<void> {
  await writeTransaction(ctx.db, async (trx) => {
    const row = await tokens.findForUser(trx, user.id, id)
    if (!row) throw new AppError('not_found', 'token.notFound')
    if (row.revoked_at) return
    await tokens.revoke(trx, id, ctx.clock.now().toISOString())
    await append(trx, ctx.clock, actorOf(user), { action: 'token.revoked', entity: 'api_token', entityId: id, data: { name: row.name, prefix: row.prefix } })
  })
}

/** How many tokens of a person still work: what an admin sees before revoking them. */
export async function countLiveTokens(ctx: AppContext, userId: number): Promise<number> {
  return tokens.countLiveForUser(ctx.db, userId, ctx.clock.now().toISOString())
}

/** An admin revokes every token of a person (a lost tablet, a suspected leak); audited even when none was live. */
export async function revokeAllTokensOf(ctx: AppContext, actor: Actor, userId: number): Promise<{ username: string; revoked: number }> {
  return writeTransaction(ctx.db, async (trx) => {
    const owner = await users.findById(trx, userId)
    if (!owner) throw new AppError('not_found', 'user.notFound')
    const revoked = await revokeAllTokensInTransaction(trx, ctx.clock, actor, owner, 'revoked_by_admin', { always: true })
    return { username: owner.username, revoked }
  })
}
