import { randomBytes } from 'node:crypto'
import { writeTransaction } from '../../db/connection.js'
import * as settingsRepo from '../repositories/setting.repository.js'
import type { AppContext } from '../context.js'
import { SYSTEM_ACTOR, append } from './audit.service.js'

/**
 * A secret generated on first use and kept in the database, so that sessions survive restarts
 * without an operator having to set one. Its value never enters the audit log.
 */
export async function getOrCreateSecret(ctx: AppContext, name: string): Promise<string> {
  const key = `secret.${name}`
  const existing = (await settingsRepo.getAll(ctx.db)).get(key)
  if (existing) return JSON.parse(existing) as string
  return writeTransaction(ctx.db, async (trx) => {
    const again = (await settingsRepo.getAll(trx)).get(key)
    if (again) return JSON.parse(again) as string
    const value = randomBytes(32).toString('base64url')
    await settingsRepo.put(trx, key, JSON.stringify(value), ctx.clock.now().toISOString())
    await append(trx, ctx.clock, SYSTEM_ACTOR, { action: 'system.secret_created', entity: 'settings', entityId: key })
    return value
  })
}
