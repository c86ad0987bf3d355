import { createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import type { ApiTokenRow } from '../../db/schema.js'
import * as tokens from '../repositories/token.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append } from './audit.service.js'
import { actorOf, getCurrentUser, parseOrThrow, type CurrentUser } from './user.service.js'

const PREFIX = 'ykt_'

function digest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex')
}

export const tokenNameSchema = z.object({
  name: z.string({ error: 'validation.required' }).trim().min(1, { error: 'validation.required' }).max(100, { error: 'validation.tooLong' }),
})

/** Issues a bearer token; only its hash is stored, so the secret is returned once. */
export async function issueToken(ctx: AppContext, user: CurrentUser, input: unknown): Promise<{ token: string; row: ApiTokenRow }> {
  const { name } = parseOrThrow(tokenNameSchema, input)
  const token = PREFIX + randomBytes(32).toString('base64url')
  const row = await writeTransaction(ctx.db, async (trx) => {
    const row = await tokens.insert(trx, {
      user_id: user.id,
      name,
      token_hash: digest(token),
      prefix: token.slice(0, PREFIX.length + 6),
      created_at: ctx.clock.now().toISOString(),
    })
    await append(trx, ctx.clock, actorOf(user), { action: 'token.issued', entity: 'api_token', entityId: row.id, data: { name, prefix: row.prefix } })
    return row
  })
  return { token, row }
}

/** The user behind a bearer token, or undefined for an unknown, revoked or deactivated one. */
export async function authenticateToken(ctx: AppContext, token: string): Promise<CurrentUser | undefined> {
  if (!token.startsWith(PREFIX) || token.length > 200) return undefined
  const row = await tokens.findActiveByHash(ctx.db, digest(token))
  if (!row) return undefined
  const user = await getCurrentUser(ctx, row.user_id)
  if (!user) return undefined
  const now = ctx.clock.now()
  // Last use to the minute is enough for a person to judge a token, and spares a write per call.
  if (!row.last_used_at || now.getTime() - Date.parse(row.last_used_at) > 60_000) {
    await tokens.touch(ctx.db, row.id, now.toISOString())
  }
  return user
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
