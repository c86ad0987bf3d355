import { z } from 'zod'
import { BORROWER_TYPES, LOCALES, ROLES, type Locale, type Role, type UserRow } from '../../db/schema.js'
import { writeTransaction, type Db } from '../../db/connection.js'
import * as users from '../repositories/user.repository.js'
import * as departments from '../repositories/department.repository.js'
import * as sessions from '../repositories/session.repository.js'
import { cached } from '../lib/cache.js'
import { AppError } from '../errors.js'
import { parseOrThrow } from '../lib/validation.js'
import type { AppContext } from '../context.js'
import { append, type Actor } from './audit.service.js'
import { dummyHash, generatePassword, hashPassword, verifyPassword } from './password.js'
import { revokeAllTokensInTransaction } from './token-revocation.js'
import { notify, notifyOversight } from './notification.service.js'

/** The signed-in person as every layer above the repositories sees them. */
export interface CurrentUser {
  id: number
  username: string
  name: string
  position: string
  departmentId: number | null
  borrowerType: UserRow['borrower_type']
  locale: Locale
  roles: Role[]
  mustChangePassword: boolean
}

export function actorOf(user: Pick<CurrentUser, 'id' | 'username'>): Actor {
  return { id: user.id, label: user.username }
}

export function hasRole(user: Pick<CurrentUser, 'roles'> | undefined | null, ...roles: Role[]): boolean {
  return !!user && roles.some((r) => user.roles.includes(r))
}

function toCurrentUser(row: UserRow, roles: Role[]): CurrentUser {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    position: row.position,
    departmentId: row.department_id,
    borrowerType: row.borrower_type,
    locale: row.locale,
    roles,
    mustChangePassword: row.must_change_password === 1,
  }
}

export function normalizeUsername(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase()
}

// Field messages are catalogue keys (translated at the edge).
export const usernameSchema = z
  .string({ error: 'validation.required' })
  .transform(normalizeUsername)
  .pipe(z.string().regex(/^[a-z0-9][a-z0-9._-]{2,31}$/, { error: 'user.usernameFormat' }))

export const passwordSchema = z.string({ error: 'validation.required' }).min(8, { error: 'user.passwordTooShort' }).max(200, { error: 'user.passwordTooLong' })

// Checked as a whole so that a refusal names the field `roles` (not `roles.0`); SPEC §1: one or more.
const rolesSchema = z
  .array(z.unknown(), { error: 'validation.required' })
  .min(1, { error: 'user.rolesRequired' })
  .refine((r) => r.every((x) => (ROLES as readonly unknown[]).includes(x)), { error: 'user.unknownRole' })
  .transform((r) => [...new Set(r as Role[])].sort() as Role[])

/** An address a mail server accepts: one @, a dotted domain, no spaces (the server says the rest). */
const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/

const profileFields = {
  name: z.string({ error: 'validation.required' }).trim().min(1, { error: 'validation.required' }).max(200, { error: 'validation.tooLong' }),
  position: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  phone: z.string().trim().max(50, { error: 'validation.tooLong' }).default(''),
  departmentId: z.number().int().positive().nullable().default(null),
  borrowerType: z.enum(BORROWER_TYPES, { error: 'user.unknownBorrowerType' }).default('employee'),
  locale: z.enum(LOCALES, { error: 'validation.invalid' }).default('th'),
  roles: rolesSchema,
  /** Where notifications go by e-mail; '' is none (issue 18). */
  email: z
    .string()
    .trim()
    .max(200, { error: 'validation.tooLong' })
    .default('')
    .refine((v) => v === '' || EMAIL.test(v), { error: 'user.emailFormat' }),
}

export const createUserSchema = z
  .object({ username: usernameSchema, password: passwordSchema, ...profileFields })
  .refine((u) => u.password.toLowerCase() !== u.username, { path: ['password'], error: 'user.passwordIsUsername' })
export type CreateUserInput = z.input<typeof createUserSchema>

export const updateUserSchema = z.object({ ...profileFields, active: z.boolean().default(true) })
export type UpdateUserInput = z.input<typeof updateUserSchema>

async function checkDepartment(db: Db, departmentId: number | null): Promise<void> {
  if (departmentId !== null && !(await departments.findById(db, departmentId))) {
    throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'departmentId', message: 'user.unknownDepartment' }])
  }
}

/** The signed-in user (undefined once deactivated). Every signed-in request reads it (server/lib/cache.ts). */
export async function getCurrentUser(ctx: AppContext, id: number): Promise<CurrentUser | undefined> {
  const user = await cached(ctx, `user:${id}`, async () => {
    const row = await users.findById(ctx.db, id)
    if (row?.active !== 1) return undefined
    return toCurrentUser(row, await users.rolesOf(ctx.db, id))
  })
  // A copy: a caller may change what it got without changing what the next request sees.
  return user && { ...user, roles: [...user.roles] }
}

export async function getUser(ctx: AppContext, id: number): Promise<{ user: UserRow; roles: Role[] }> {
  const user = await users.findById(ctx.db, id)
  if (!user) throw new AppError('not_found', 'user.notFound')
  return { user, roles: await users.rolesOf(ctx.db, id) }
}

export async function findUserByUsername(ctx: AppContext, username: string): Promise<UserRow | undefined> {
  return users.findByUsername(ctx.db, normalizeUsername(username))
}

export async function listUsers(
  ctx: AppContext,
  f: { q?: string; role?: Role; active?: boolean; page: number; pageSize: number },
): Promise<{ items: Array<{ user: UserRow; roles: Role[] }>; total: number }> {
  const { rows, total } = await users.list(ctx.db, { q: f.q, role: f.role, active: f.active, limit: f.pageSize, offset: (f.page - 1) * f.pageSize })
  const roles = await users.rolesOfMany(
    ctx.db,
    rows.map((r) => r.id),
  )
  return { total, items: rows.map((user) => ({ user, roles: roles.get(user.id) ?? [] })) }
}

export async function createUser(ctx: AppContext, actor: Actor, input: unknown, opts: { mustChangePassword?: boolean } = {}): Promise<UserRow> {
  const data = parseOrThrow(createUserSchema, input)
  // Hash before the transaction: it takes tens of milliseconds and would hold the connection.
  const passwordHash = await hashPassword(data.password)
  return writeTransaction(ctx.db, async (trx) => {
    if (await users.findByUsername(trx, data.username)) {
      throw new AppError('conflict', 'user.usernameTaken', { username: data.username }, [
        { field: 'username', message: 'user.usernameTaken', params: { username: data.username } },
      ])
    }
    await checkDepartment(trx, data.departmentId)
    const now = ctx.clock.now().toISOString()
    const row = await users.insert(trx, {
      username: data.username,
      name: data.name,
      position: data.position,
      phone: data.phone,
      department_id: data.departmentId,
      borrower_type: data.borrowerType,
      locale: data.locale,
      email: data.email,
      password_hash: passwordHash,
      // A password typed by an admin for someone else is temporary; they choose their own.
      must_change_password: (opts.mustChangePassword ?? actor.id !== null) ? 1 : 0,
      created_at: now,
      updated_at: now,
      password_changed_at: now,
    })
    await users.setRoles(trx, row.id, data.roles)
    await append(trx, ctx.clock, actor, {
      action: 'user.created',
      entity: 'user',
      entityId: row.id,
      data: { username: row.username, name: row.name, roles: data.roles, departmentId: data.departmentId },
    })
    await notifyRolesChanged(ctx, trx, actor, row, [], data.roles)
    return row
  })
}

export async function updateUser(ctx: AppContext, actor: Actor, id: number, input: unknown): Promise<void> {
  const data = parseOrThrow(updateUserSchema, input)
  await writeTransaction(ctx.db, async (trx) => {
    const before = await users.findById(trx, id)
    if (!before) throw new AppError('not_found', 'user.notFound')
    await checkDepartment(trx, data.departmentId)
    const rolesBefore = await users.rolesOf(trx, id)
    const losesAdmin = rolesBefore.includes('admin') && before.active === 1 && (!data.roles.includes('admin') || !data.active)
    if (losesAdmin && (await users.countActiveWithRole(trx, 'admin')) <= 1) {
      throw new AppError('conflict', 'user.lastAdmin')
    }
    const changes = {
      name: data.name,
      position: data.position,
      phone: data.phone,
      department_id: data.departmentId,
      borrower_type: data.borrowerType,
      locale: data.locale,
      active: data.active ? 1 : 0,
      email: data.email,
    }
    await users.update(trx, id, { ...changes, updated_at: ctx.clock.now().toISOString() })
    const changed: Record<string, { from: unknown; to: unknown }> = {}
    for (const [k, v] of Object.entries(changes)) {
      const old = before[k as keyof typeof changes]
      if (old !== v) changed[k] = { from: old, to: v }
    }
    if (Object.keys(changed).length > 0) {
      await append(trx, ctx.clock, actor, { action: 'user.updated', entity: 'user', entityId: id, data: { username: before.username, changed } })
    }
    if (rolesBefore.join(',') !== data.roles.join(',')) {
      await users.setRoles(trx, id, data.roles)
      await append(trx, ctx.clock, actor, {
        action: 'user.roles_changed',
        entity: 'user',
        entityId: id,
        data: { username: before.username, from: rolesBefore, to: data.roles },
      })
      await notifyRolesChanged(ctx, trx, actor, before, rolesBefore, data.roles)
    }
    if (before.active === 1 && !data.active) {
      await sessions.destroyForUser(trx, id)
      await append(trx, ctx.clock, actor, { action: 'user.deactivated', entity: 'user', entityId: id, data: { username: before.username } })
      // Revoked, not merely refused while inactive: a reactivation must not bring old tokens back.
      await revokeAllTokensInTransaction(trx, ctx.clock, actor, before, 'deactivated')
    } else if (before.active === 0 && data.active) {
      await append(trx, ctx.clock, actor, { action: 'user.reactivated', entity: 'user', entityId: id, data: { username: before.username } })
    }
  })
}

/** The roles whose grant or removal every executive and committee member hears of (SPEC §1). */
const WATCHED_ROLES: readonly Role[] = ['executive', 'finance', 'committee']

/** SPEC §1: a change of the watched roles reaches every executive and committee member; any change reaches the person. */
async function notifyRolesChanged(ctx: AppContext, trx: Db, actor: Actor, user: UserRow, from: Role[], to: Role[]): Promise<void> {
  const moved = WATCHED_ROLES.some((r) => from.includes(r) !== to.includes(r))
  const params = { by: actor.label, name: user.name, username: user.username, rolesFrom: from.join(','), rolesTo: to.join(',') }
  if (moved) await notifyOversight(ctx, trx, 'user.rolesChanged', actor.id, params, from.length > 0 ? { also: [user.id] } : { except: user.id })
  else if (from.length > 0) await notify(ctx, trx, { kind: 'user.rolesChanged', to: [user.id], actorId: actor.id, params, link: '/account' })
}

/**
 * Sets a new password chosen by an admin (or generated) and ends the person's sessions and API
 * tokens; they must change it at their next sign-in. Returns the password so that it can be shown once.
 */
export async function resetPassword(ctx: AppContext, actor: Actor, id: number, newPassword?: string): Promise<string> {
  const password =
    newPassword === undefined || newPassword === ''
      ? generatePassword()
      : parseOrThrow(z.object({ password: passwordSchema }), { password: newPassword }).password
  const hash = await hashPassword(password)
  await writeTransaction(ctx.db, async (trx) => {
    const user = await users.findById(trx, id)
    if (!user) throw new AppError('not_found', 'user.notFound')
    const now = ctx.clock.now().toISOString()
    await users.update(trx, id, { password_hash: hash, must_change_password: actor.id === id ? 0 : 1, password_changed_at: now, updated_at: now })
    await sessions.destroyForUser(trx, id)
    await append(trx, ctx.clock, actor, { action: 'user.password_reset', entity: 'user', entityId: id, data: { username: user.username } })
    await revokeAllTokensInTransaction(trx, ctx.clock, actor, user, 'password_reset')
  })
  return password
}

export const changePasswordSchema = z
  .object({
    currentPassword: z.string({ error: 'validation.required' }).min(1, { error: 'validation.required' }),
    newPassword: passwordSchema,
    confirmPassword: z.string({ error: 'validation.required' }),
  })
  .refine((d) => d.newPassword === d.confirmPassword, { path: ['confirmPassword'], error: 'user.passwordsDiffer' })
  .refine((d) => d.newPassword !== d.currentPassword, { path: ['newPassword'], error: 'user.passwordUnchanged' })

/** A person changes their own password; their other sessions and all their API tokens end, this session stays. */
export async function changeOwnPassword(ctx: AppContext, user: CurrentUser, input: unknown, keepSid?: string): Promise<void> {
  const data = parseOrThrow(changePasswordSchema, input)
  const row = await users.findById(ctx.db, user.id)
  if (!row || !(await verifyPassword(data.currentPassword, row.password_hash))) {
    throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'currentPassword', message: 'user.currentPasswordWrong' }])
  }
  if (data.newPassword.toLowerCase() === row.username) {
    throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'newPassword', message: 'user.passwordIsUsername' }])
  }
  const hash = await hashPassword(data.newPassword)
  await writeTransaction(ctx.db, async (trx) => {
    const now = ctx.clock.now().toISOString()
    await users.update(trx, user.id, { password_hash: hash, must_change_password: 0, password_changed_at: now, updated_at: now })
    await sessions.destroyForUser(trx, user.id, keepSid)
    await append(trx, ctx.clock, actorOf(user), { action: 'user.password_changed', entity: 'user', entityId: user.id, data: { username: row.username } })
    // Unlike the sessions, no token is kept: each was made with the old password, so it dies with it.
    await revokeAllTokensInTransaction(trx, ctx.clock, actorOf(user), row, 'password_changed')
  })
}

const ownEmailSchema = z.object({ email: profileFields.email, emailEnabled: z.boolean().default(true) })

/** A person sets their own address for notifications and turns e-mail on or off (issue 18). */
export async function setOwnEmail(ctx: AppContext, user: CurrentUser, input: unknown): Promise<void> {
  const data = parseOrThrow(ownEmailSchema, input ?? {})
  await writeTransaction(ctx.db, async (trx) => {
    const before = await users.findById(trx, user.id)
    if (!before) throw new AppError('not_found', 'user.notFound')
    const enabled = data.emailEnabled ? 1 : 0
    if (before.email === data.email && before.email_enabled === enabled) return
    await users.update(trx, user.id, { email: data.email, email_enabled: enabled, updated_at: ctx.clock.now().toISOString() })
    await append(trx, ctx.clock, actorOf(user), {
      action: 'user.email_changed',
      entity: 'user',
      entityId: user.id,
      data: { email: { from: before.email, to: data.email }, emailEnabled: { from: before.email_enabled === 1, to: data.emailEnabled } },
    })
  })
}

/** The person's own e-mail settings, for /account. */
export async function ownEmail(ctx: AppContext, userId: number): Promise<{ email: string; emailEnabled: boolean }> {
  const row = await users.findById(ctx.db, userId)
  return { email: row?.email ?? '', emailEnabled: row?.email_enabled !== 0 }
}

export async function setOwnLocale(ctx: AppContext, user: CurrentUser, locale: unknown): Promise<void> {
  const parsed = z.enum(LOCALES).safeParse(locale)
  if (!parsed.success) throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'locale', message: 'validation.invalid' }])
  await writeTransaction(ctx.db, async (trx) => {
    await users.update(trx, user.id, { locale: parsed.data, updated_at: ctx.clock.now().toISOString() })
    await append(trx, ctx.clock, actorOf(user), { action: 'user.locale_changed', entity: 'user', entityId: user.id, data: { locale: parsed.data } })
  })
}

/**
 * Checks a username and password. Unknown user, wrong password and inactive account give the
 * same answer (undefined), and take the same time.
 */
export async function verifyCredentials(ctx: AppContext, username: unknown, password: unknown): Promise<CurrentUser | undefined> {
  if (typeof username !== 'string' || typeof password !== 'string' || username.length > 200 || password.length > 200) return undefined
  const row = await users.findByUsername(ctx.db, normalizeUsername(username))
  const ok = await verifyPassword(password, row?.password_hash ?? dummyHash())
  if (!row || !ok || row.active !== 1) return undefined
  return toCurrentUser(row, await users.rolesOf(ctx.db, row.id))
}

/** Records a successful sign-in in the audit chain (failed ones go to the ordinary log). */
export async function recordSignIn(ctx: AppContext, user: CurrentUser, via: 'page' | 'api', address: string | undefined): Promise<void> {
  await writeTransaction(ctx.db, (trx) =>
    append(trx, ctx.clock, actorOf(user), { action: 'auth.signed_in', entity: 'user', entityId: user.id, data: { via, address: address ?? null } }),
  )
}

/**
 * On an empty database, creates the first admin from the configured username and password, or
 * with a generated password that the caller prints once.
 */
export async function ensureFirstAdmin(
  ctx: AppContext,
  creds: { username?: string; password?: string },
): Promise<{ created: false } | { created: true; username: string; generatedPassword?: string }> {
  if ((await users.count(ctx.db)) > 0) return { created: false }
  const username = creds.username ?? 'admin'
  const generated = creds.password ? undefined : generatePassword()
  const user = await createUser(
    ctx,
    { id: null, label: 'system' },
    { username, password: creds.password ?? generated, name: 'ผู้ดูแลระบบ', position: 'ผู้ดูแลระบบ', roles: ['admin'] },
    { mustChangePassword: generated !== undefined },
  )
  return { created: true, username: user.username, generatedPassword: generated }
}
