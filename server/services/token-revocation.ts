import type { Db } from '../../db/connection.js'
import type { Clock } from '../clock.js'
import * as tokens from '../repositories/token.repository.js'
import { append, type Actor } from './audit.service.js'

/** Why every token of a person ended (SPEC §5: tokens die with their owner's credentials). */
export type TokenRevocationReason = 'password_changed' | 'password_reset' | 'deactivated' | 'revoked_by_admin'

/**
 * Revokes every live token of `owner`, inside the caller's transaction, so that the tokens end in
 * the same commit as the password or the account they hung on. One audit entry on the person names
 * the tokens; none when there were none, unless `always` (an admin's deliberate act is recorded even
 * when it found nothing). Kept apart from token.service so that user.service can use it without an
 * import cycle.
 */
export async function revokeAllTokensInTransaction(
  trx: Db,
  clock: Clock,
  actor: Actor,
  owner: { id: number; username: string },
  reason: TokenRevocationReason,
  opts: { always?: boolean } = {},
): Promise<number> {
  const revoked = await tokens.revokeAllForUser(trx, owner.id, clock.now().toISOString())
  if (revoked.length > 0 || opts.always) {
    await append(trx, clock, actor, {
      action: 'token.revoked_all',
      entity: 'user',
      entityId: owner.id,
      data: { username: owner.username, reason, tokens: revoked.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix })) },
    })
  }
  return revoked.length
}
