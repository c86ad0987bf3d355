/**
 * User administration from the command line, so that an office can recover a lost admin.
 *
 *   npm run user -- add <username> --name "ชื่อ สกุล" --roles admin,finance [--password P] [--position P] [--department code]
 *   npm run user -- reset-password <username> [--password P]
 *   npm run user -- deactivate <username> | activate <username>
 *   npm run user -- roles <username> --roles staff,finance
 *   npm run user -- list
 *
 * Uses DATABASE_PATH like the server (and may run while it runs: writes wait on SQLite's lock).
 */
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { openDatabase } from '../db/connection.js'
import { migrateToLatest } from '../db/migrator.js'
import { ROLES } from '../db/schema.js'
import { systemClock } from '../server/clock.js'
import { loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { AppError } from '../server/errors.js'
import { refusalText, UsageError } from './cli.js'
import { CLI_ACTOR } from '../server/services/audit.service.js'
import { anchorFromConfig, startAnchoring } from '../server/services/audit-anchor.service.js'
import { findDepartmentByCode } from '../server/services/department.service.js'
import { generatePassword } from '../server/services/password.js'
import { createUser, findUserByUsername, getUser, listUsers, resetPassword, updateUser } from '../server/services/user.service.js'

const USAGE = `usage:
  npm run user -- add <username> --name "<full name>" --roles <r1,r2> [--password <p>] [--position <p>] [--department <code>]
  npm run user -- reset-password <username> [--password <p>]
  npm run user -- deactivate <username>
  npm run user -- activate <username>
  npm run user -- roles <username> --roles <r1,r2>
  npm run user -- list
roles: ${ROLES.join(', ')}`

function rolesOf(raw: string | undefined): string[] {
  if (!raw) throw new UsageError('--roles is required')
  return raw
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)
}

async function existing(ctx: AppContext, username: string | undefined) {
  if (!username) throw new UsageError('a username is required')
  const row = await findUserByUsername(ctx, username)
  if (!row) throw new AppError('not_found', 'user.notFound')
  return getUser(ctx, row.id)
}

function profileOf(u: Awaited<ReturnType<typeof getUser>>) {
  return {
    name: u.user.name,
    position: u.user.position,
    phone: u.user.phone,
    departmentId: u.user.department_id,
    borrowerType: u.user.borrower_type,
    locale: u.user.locale,
    roles: u.roles,
    active: u.user.active === 1,
  }
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      roles: { type: 'string' },
      password: { type: 'string' },
      position: { type: 'string' },
      department: { type: 'string' },
    },
  })
  const [command, username] = positionals
  if (!command) {
    out(USAGE)
    return 2
  }
  const config = loadConfig(env)
  const handle = openDatabase(config)
  const ctx: AppContext = { db: handle.db, clock: systemClock, config, logger: pino({ level: 'silent' }), anchor: anchorFromConfig(config) }
  try {
    await migrateToLatest(handle.db)
    // The CLI's changes are anchored like the server's (issue 13).
    if (ctx.anchor) await startAnchoring(ctx.db, ctx.anchor, ctx.clock)
    switch (command) {
      case 'add': {
        if (!username) throw new UsageError('a username is required')
        let departmentId: number | null = null
        if (values.department) {
          const dep = await findDepartmentByCode(ctx, values.department)
          if (!dep) throw new UsageError(`unknown department code: ${values.department}`)
          departmentId = dep.id
        }
        const password = values.password ?? generatePassword()
        const user = await createUser(
          ctx,
          CLI_ACTOR,
          { username, password, name: values.name ?? '', position: values.position ?? '', roles: rolesOf(values.roles), departmentId },
          { mustChangePassword: values.password === undefined },
        )
        out(`created ${user.username}`)
        if (values.password === undefined) out(`password: ${password}  (shown once; it must be changed at the first sign-in)`)
        return 0
      }
      case 'reset-password': {
        const u = await existing(ctx, username)
        const password = await resetPassword(ctx, CLI_ACTOR, u.user.id, values.password)
        out(`password of ${u.user.username} reset; sessions ended`)
        if (values.password === undefined) out(`password: ${password}  (shown once; it must be changed at the next sign-in)`)
        return 0
      }
      case 'deactivate':
      case 'activate': {
        const u = await existing(ctx, username)
        await updateUser(ctx, CLI_ACTOR, u.user.id, { ...profileOf(u), active: command === 'activate' })
        out(`${u.user.username} ${command}d`)
        return 0
      }
      case 'roles': {
        const u = await existing(ctx, username)
        await updateUser(ctx, CLI_ACTOR, u.user.id, { ...profileOf(u), roles: rolesOf(values.roles) })
        out(`roles of ${u.user.username}: ${rolesOf(values.roles).join(', ')}`)
        return 0
      }
      case 'list': {
        const { items } = await listUsers(ctx, { page: 1, pageSize: 10_000 })
        for (const { user, roles } of items) out(`${user.active ? ' ' : 'x'} ${user.username.padEnd(20)} ${roles.join(',').padEnd(30)} ${user.name}`)
        return 0
      }
      default:
        throw new UsageError(`unknown command: ${command}`)
    }
  } catch (e) {
    if (e instanceof UsageError) {
      out(`${e.message}\n${USAGE}`)
      return 2
    }
    const refusal = refusalText(e)
    if (refusal) {
      out(refusal)
      return 1
    }
    throw e
  } finally {
    await handle.close()
  }
}

// Run only as a program, not when a test imports run().
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '')) {
  // Files this command creates (backups, a restored database) are the owner's only.
  process.umask(0o077)
  run(process.argv.slice(2), process.env, (s) => process.stdout.write(`${s}\n`)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
      process.exit(1)
    },
  )
}
