import type { Role } from '../../db/schema.js'
import type { AppContext } from '../../server/context.js'
import { createUser, getCurrentUser, type CurrentUser } from '../../server/services/user.service.js'

let seq = 0

export const TEST_PASSWORD = 'correct-horse-9'

/** Makes an active user with the given roles; each call gets a fresh username unless one is given. */
export async function makeUser(
  ctx: AppContext,
  roles: Role[],
  overrides: { username?: string; password?: string; name?: string; locale?: 'th' | 'en'; mustChangePassword?: boolean } = {},
): Promise<CurrentUser & { password: string }> {
  seq++
  const username = overrides.username ?? `${roles[0] ?? 'user'}${seq}`
  const password = overrides.password ?? TEST_PASSWORD
  const row = await createUser(
    ctx,
    { id: null, label: 'test' },
    { username, password, name: overrides.name ?? `ผู้ใช้ทดสอบ ${seq}`, position: 'เจ้าหน้าที่', roles, locale: overrides.locale ?? 'th' },
    { mustChangePassword: overrides.mustChangePassword ?? false },
  )
  const user = await getCurrentUser(ctx, row.id)
  return { ...user!, password }
}
