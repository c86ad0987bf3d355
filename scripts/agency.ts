/**
 * Agencies of a hosted PostgreSQL server (TENANCY=host, issue 20, SPEC §7):
 *
 *   npm run agency -- add --slug <slug> --host <host> --name "<agency name>" --admin-username <u> [--base-url <url>]
 *   npm run agency -- list
 *   npm run agency -- import --slug <slug> --from <sqlite file> [--host <host>] [--base-url <url>]
 *   npm run agency -- export --slug <slug> --to <sqlite file>
 *
 * Uses DATABASE_URL (and DATA_DIR: each agency's files under DATA_DIR/<slug>/). The first
 * administrator's password comes from ADMIN_PASSWORD or a prompt, never the command line.
 */
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { parseArgs } from 'node:util'
import { pino } from 'pino'
import { systemClock } from '../server/clock.js'
import { ConfigError, loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { isAppError } from '../server/errors.js'
import { translate } from '../server/i18n/index.js'
import { CLI_ACTOR } from '../server/services/audit.service.js'
import { anchorFromConfig, dataFolder, startAnchoring } from '../server/services/audit-anchor.service.js'
import { getSettings, updateSettings } from '../server/services/settings.service.js'
import { ensureFirstAdmin } from '../server/services/user.service.js'
import {
  agencyConfig,
  ensureRegistry,
  findAgency,
  findAgencyByHost,
  HOST_PATTERN,
  listAgencies,
  migrateAgency,
  normalizeHost,
  openRegistry,
  registerAgency,
  SLUG_PATTERN,
  schemaExists,
  TenancyError,
} from '../server/tenancy.js'

const USAGE = `usage:
  npm run agency -- add --slug <slug> --host <host> --name "<agency name>" --admin-username <u> [--base-url <url>]
  npm run agency -- list
  npm run agency -- import --slug <slug> --from <sqlite file> [--host <host>] [--base-url <url>]
  npm run agency -- export --slug <slug> --to <sqlite file>
needs DATABASE_URL; the administrator's password comes from ADMIN_PASSWORD or a prompt`

export class UsageError extends Error {}

/** Asks for a password on the terminal without echoing it. */
export async function promptPassword(question: string): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError('set ADMIN_PASSWORD (no terminal to ask on)')
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true })
  const muted = rl as unknown as { _writeToOutput: (s: string) => void }
  let asked = false
  muted._writeToOutput = (s: string) => {
    if (!asked) process.stdout.write(s)
  }
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer))
      asked = true
    })
  } finally {
    process.stdout.write('\n')
    rl.close()
  }
}

export interface AgencyCliDeps {
  /** Asks for the administrator's password when ADMIN_PASSWORD is not set (tests answer it). */
  askPassword?: (question: string) => Promise<string>
}

export function validSlug(slug: string | undefined): string {
  if (!slug || !SLUG_PATTERN.test(slug)) throw new UsageError('--slug: lower-case letters, digits and _ (2–40), starting with a letter')
  return slug
}

export function validHost(host: string | undefined): string {
  const h = host ? normalizeHost(host) : ''
  if (!HOST_PATTERN.test(h)) throw new UsageError('--host: a host name such as nongbua.example.go.th (no scheme, no port)')
  return h
}

export function validBaseUrl(raw: string | undefined, host: string): string {
  const url = (raw ?? `http://${host}`).replace(/\/+$/, '')
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url)) throw new UsageError('--base-url: http(s)://host[/path], what the agency’s labels carry')
  return url
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, deps: AgencyCliDeps = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      slug: { type: 'string' },
      host: { type: 'string' },
      name: { type: 'string' },
      'admin-username': { type: 'string' },
      'base-url': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    },
  })
  const [command] = positionals
  if (!command) {
    out(USAGE)
    return 2
  }
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig(env)
    if (!config.databaseUrl) throw new UsageError('DATABASE_URL is not set: agencies live on a PostgreSQL server')
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      out(`error: ${e.message}`)
      return 2
    }
    throw e
  }
  const url = config.databaseUrl
  const registry = openRegistry(url)
  try {
    await ensureRegistry(registry.db)
    switch (command) {
      case 'list': {
        const all = await listAgencies(registry.db)
        if (all.length === 0) out('no agencies yet: npm run agency -- add …')
        for (const a of all) out(`${a.slug.padEnd(20)} ${a.host.padEnd(32)} ${a.baseUrl.padEnd(36)} ${a.name}`)
        return 0
      }
      case 'add': {
        const slug = validSlug(values.slug)
        const host = validHost(values.host)
        const baseUrl = validBaseUrl(values['base-url'], host)
        const name = values.name?.trim()
        if (!name) throw new UsageError('--name "<agency name>" is required')
        const username = values['admin-username']?.trim()
        if (!username) throw new UsageError('--admin-username is required')
        if (await findAgency(registry.db, slug)) throw new UsageError(`an agency "${slug}" already exists`)
        if (await findAgencyByHost(registry.db, host)) throw new UsageError(`the host ${host} already belongs to an agency`)
        if (await schemaExists(registry.db, slug)) throw new UsageError(`the schema agency_${slug} already exists; choose another slug`)
        const password = env.ADMIN_PASSWORD || (await (deps.askPassword ?? promptPassword)(`password for ${username}: `))
        if (!password) throw new UsageError('a password is required (ADMIN_PASSWORD or the prompt)')
        const handle = await migrateAgency(registry.db, url, slug)
        try {
          const cfg = agencyConfig(env, { slug, baseUrl })
          fs.mkdirSync(dataFolder(cfg), { recursive: true, mode: 0o700 })
          const ctx: AppContext = { db: handle.db, clock: systemClock, config: cfg, logger: pino({ level: 'silent' }), anchor: anchorFromConfig(cfg) }
          if (ctx.anchor) await startAnchoring(ctx.db, ctx.anchor, ctx.clock)
          await ensureFirstAdmin(ctx, { username, password })
          const settings = await getSettings(ctx)
          await updateSettings(ctx, CLI_ACTOR, { ...settings, agencyName: name })
        } finally {
          await handle.close()
        }
        const agency = await registerAgency(registry.db, { slug, host, name, baseUrl }, systemClock.now().toISOString())
        out(
          `agency ${agency.slug} added: ${agency.baseUrl} (host ${agency.host}, schema agency_${agency.slug}, files ${path.join(path.dirname(agencyConfig(env, agency).databasePath))})`,
        )
        out(`first administrator: ${username}`)
        return 0
      }
      default:
        throw new UsageError(`unknown command: ${command}`)
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof TenancyError) {
      out(`error: ${e.message}\n${USAGE}`)
      return 2
    }
    if (isAppError(e)) {
      const details = (e.details ?? []).map((d) => `  ${d.field}: ${translate('en', d.message)}`).join('\n')
      out(`error: ${translate('en', e.messageKey, e.params)}${details ? `\n${details}` : ''}`)
      return 1
    }
    throw e
  } finally {
    await registry.close()
  }
}

// Run only as a program, not when a test imports run().
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '')) {
  process.umask(0o077)
  run(process.argv.slice(2), process.env, (s) => process.stdout.write(`${s}\n`)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
      process.exit(1)
    },
  )
}
