import type { Role } from '../../db/schema.js'
import type { AppContext } from '../../server/context.js'
import { findByUsername } from '../../server/repositories/user.repository.js'
import { getSettings, updateSettings } from '../../server/services/settings.service.js'
import { getCurrentUser, type CurrentUser } from '../../server/services/user.service.js'
import { makeUser } from './builders.js'

/** The signatories who may approve a loan on paper (SPEC §1, ข้อ 208); the supplies officer records, never approves. */
export type ApproverKey = 'mayor' | 'chiefAdministrator' | 'financeDirector'

/**
 * A signatory to set: a name alone is an approver without an account (a paper approval in their name
 * then needs the slip's scan in the same step); `account` links them to that username — an existing
 * user, or a fresh one made with the signatory's name (executive for the นายก and the ปลัด, finance
 * for the ผอ.กองคลัง) — so that their paper approvals wait for them to confirm.
 */
export type ApproverSpec = string | { name: string; account?: string; roles?: Role[] }

export interface SetApprover {
  name: string
  /** The linked account, or null for an approver without one. */
  user: (CurrentUser & { password?: string }) | null
}

const DEFAULT_ROLES: Record<ApproverKey, Role[]> = { mayor: ['executive'], chiefAdministrator: ['executive'], financeDirector: ['finance'] }

/**
 * Fills the agency's approving signatories through the settings service (audited like an admin's
 * change), keeping each position as it is. Signatories not given keep their current values.
 */
export async function withApprovers(ctx: AppContext, specs: Partial<Record<ApproverKey, ApproverSpec>>): Promise<Partial<Record<ApproverKey, SetApprover>>> {
  const current = await getSettings(ctx)
  const input: Record<string, unknown> = {}
  const out: Partial<Record<ApproverKey, SetApprover>> = {}
  for (const key of Object.keys(specs) as ApproverKey[]) {
    const spec = specs[key]!
    const { name, account, roles } = typeof spec === 'string' ? { name: spec, account: undefined, roles: undefined } : spec
    let user: SetApprover['user'] = null
    if (account) {
      const existing = await findByUsername(ctx.db, account)
      user = existing ? ((await getCurrentUser(ctx, existing.id)) ?? null) : await makeUser(ctx, roles ?? DEFAULT_ROLES[key], { username: account, name })
    }
    input[key] = { name, position: current[key].position, username: user?.username ?? '' }
    out[key] = { name, user }
  }
  await updateSettings(ctx, { id: null, label: 'test' }, input)
  return out
}

/** The smallest PNG there is (a 1×1 pixel): a scan of the signed slip, for tests. */
export const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')
