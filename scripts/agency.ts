/**
 * Agencies of a hosted PostgreSQL server (TENANCY=host, issue 20, SPEC §7):
 *
 *   npm run agency -- add --slug <slug> --host <host> --name "<agency name>" --admin-username <u> [--base-url <url>]
 *   npm run agency -- list
 *   npm run agency -- import --slug <slug> --from <sqlite file> [--host <host>] [--base-url <url>] [--name "<name>"]
 *                             [--attachments <dir>] [--anchor-log <file>] [--anchor-key <file>]
 *   npm run agency -- export --slug <slug> --to <sqlite file> [--attachments <dir>]
 *
 * Uses DATABASE_URL (and DATA_DIR: each agency's files under DATA_DIR/<slug>/). The first
 * administrator's password comes from ADMIN_PASSWORD or a prompt, never the command line.
 *
 * import: an office that ran on its own SQLite file becomes an agency of the server, with its ids,
 * loan numbers and audit chain as they were. The file is never written: a copy of it is migrated and
 * copied into the agency's new schema (db/copy.ts), and the chain is verified there (with the office's
 * audit anchor, when it kept one) before the agency is registered; if it does not verify, the schema
 * and the files are removed again. The office's attachments and its audit anchor (key and log, so that
 * anchoring goes on where it was) come into DATA_DIR/<slug>/.
 *
 * export: the way back — the agency written to a new SQLite file that the ordinary install opens
 * (DATABASE_PATH=<file> npm start), its attachments and audit anchor beside it. Nothing is overwritten.
 *
 * Exit codes: 0 done, 2 a usage error or refusal before anything was written, 1 a failure (a copy whose
 * audit chain does not verify: everything it wrote is removed again).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { parseArgs } from 'node:util'
import BetterSqlite3 from 'better-sqlite3'
import { sql } from 'kysely'
import { pino } from 'pino'
import { type OpenDb, openDb } from '../db/connection.js'
import { type CopyResult, copyPostgresToSqlite, copySqliteToPostgres } from '../db/copy.js'
import { migrateToLatest } from '../db/migrator.js'
import { executedMigrations, hasSqliteHeader, integrityCheck } from '../db/sqlite-file.js'
import { systemClock } from '../server/clock.js'
import { ConfigError, loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { refusalText, UsageError } from './cli.js'
import { type AuditVerification, CLI_ACTOR, chainHead, verifyAudit } from '../server/services/audit.service.js'
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
  openAgencyDb,
  openRegistry,
  type Registry,
  registerAgency,
  SLUG_PATTERN,
  schemaExists,
  schemaOf,
  TenancyError,
} from '../server/tenancy.js'

const USAGE = `usage:
  npm run agency -- add --slug <slug> --host <host> --name "<agency name>" --admin-username <u> [--base-url <url>]
  npm run agency -- list
  npm run agency -- import --slug <slug> --from <sqlite file> [--host <host>] [--base-url <url>] [--name "<name>"]
                            [--attachments <dir>] [--anchor-log <file>] [--anchor-key <file>]
  npm run agency -- export --slug <slug> --to <sqlite file> [--attachments <dir>]
needs DATABASE_URL (and DATA_DIR for the agencies' files); the administrator's password comes from ADMIN_PASSWORD or a prompt`

/** The copy was made but does not verify (or could not be completed): everything it wrote has been removed. */
export class CopyRefused extends Error {}

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
      attachments: { type: 'string' },
      'anchor-log': { type: 'string' },
      'anchor-key': { type: 'string' },
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
      case 'import':
        return await importAgency(registry.db, url, env, values, out)
      case 'export':
        return await exportAgency(registry.db, url, env, values, out)
      default:
        throw new UsageError(`unknown command: ${command}`)
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof TenancyError) {
      out(`error: ${e.message}\n${USAGE}`)
      return 2
    }
    if (e instanceof CopyRefused) {
      out(`error: ${e.message}`)
      return 1
    }
    const refusal = refusalText(e)
    if (refusal) {
      out(refusal)
      return 1
    }
    throw e
  } finally {
    await registry.close()
  }
}

type Values = { [option: string]: string | undefined }

const ANCHOR_LOG = 'audit-anchor.log'
const ANCHOR_KEY = 'audit-anchor.key'

/** What an import or export has made so far (files, folders): removed again, newest first, when it fails. */
class Made {
  private readonly paths: string[] = []
  add(p: string | undefined): void {
    if (p) this.paths.push(p)
  }
  /** mkdir -p, remembering the topmost folder it created. */
  mkdir(dir: string): void {
    this.add(fs.mkdirSync(dir, { recursive: true, mode: 0o700 }))
  }
  copy(from: string, to: string, mode?: number): void {
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL)
    this.add(to)
    if (mode !== undefined) fs.chmodSync(to, mode)
  }
  undo(): void {
    for (const p of this.paths.reverse()) fs.rmSync(p, { recursive: true, force: true })
    this.paths.length = 0
  }
}

function isDirectory(dir: string): boolean {
  return fs.existsSync(dir) && fs.statSync(dir).isDirectory()
}

function isEmptyOrAbsent(dir: string): boolean {
  return !fs.existsSync(dir) || (isDirectory(dir) && fs.readdirSync(dir).length === 0)
}

/** Copies a folder's files (and subfolders) into `to`, which is new or empty; returns how many files. */
function copyTree(from: string, to: string, made: Made): number {
  if (!isDirectory(from)) return 0
  if (!fs.existsSync(to)) made.mkdir(to)
  const before = new Set(fs.readdirSync(to))
  fs.cpSync(from, to, { recursive: true, errorOnExist: true, force: false, preserveTimestamps: true })
  for (const f of fs.readdirSync(to)) if (!before.has(f)) made.add(path.join(to, f))
  let n = 0
  const count = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) count(path.join(dir, e.name))
      else n++
    }
  }
  count(to)
  return n
}

/**
 * A consistent copy of an SQLite file that may be in use: when a server has it open (its -wal is there),
 * SQLite's online backup through a read-only connection; otherwise the file's bytes. The file is only read.
 */
async function snapshotOf(file: string, dest: string): Promise<void> {
  if (!fs.existsSync(`${file}-wal`)) {
    fs.copyFileSync(file, dest, fs.constants.COPYFILE_EXCL)
    return
  }
  try {
    const raw = new BetterSqlite3(file, { readonly: true, fileMustExist: true })
    try {
      await raw.backup(dest)
    } finally {
      raw.close()
    }
  } catch {
    // A WAL left by a stopped server, without its -shm: the file and its log, which SQLite replays on opening the copy.
    fs.rmSync(dest, { force: true })
    fs.copyFileSync(file, dest, fs.constants.COPYFILE_EXCL)
    fs.copyFileSync(`${file}-wal`, `${dest}-wal`, fs.constants.COPYFILE_EXCL)
  }
}

/** A setting's value (JSON text in the database) when it is a string. */
async function stringSetting(handle: OpenDb, key: string): Promise<string | undefined> {
  const row = await handle.db.selectFrom('setting').select('value').where('key', '=', key).executeTakeFirst()
  if (!row) return undefined
  try {
    const v = JSON.parse(row.value) as unknown
    return typeof v === 'string' && v.trim() ? v.trim() : undefined
  } catch {
    return undefined
  }
}

/** The stored files of loan attachments that are not in `dir` (a scan lost on the way, or before). */
async function missingAttachments(db: AppContext['db'], dir: string): Promise<string[]> {
  const rows = await db.selectFrom('loan_attachment').select('stored_name').execute()
  return rows.map((r) => r.stored_name).filter((n) => !fs.existsSync(path.join(dir, n)))
}

function describeProblems(v: AuditVerification): string {
  const out: string[] = []
  if (v.brokenAt !== undefined) out.push(`the chain breaks at entry ${v.brokenAt} (${v.reason})`)
  for (const p of v.problems) {
    const { code, ...rest } = p
    out.push(`${code} ${JSON.stringify(rest)}`)
  }
  return out.join('; ')
}

function printCopy(out: (s: string) => void, result: CopyResult): void {
  out('  table                          rows')
  for (const t of result.tables) out(`  ${t.table.padEnd(24)} ${String(t.rows).padStart(10)}`)
  out(`  ${'all tables'.padEnd(24)} ${String(result.rows).padStart(10)}   (${result.ms} ms)`)
}

function printAudit(out: (s: string) => void, audit: AuditVerification): void {
  out(`audit chain: ${audit.entries} entries verified; head #${audit.head.seq} ${audit.head.hash}`)
  if (audit.anchor) out(`audit anchor: ${audit.anchor.lines} lines, last #${audit.anchor.last?.seq ?? 0}: it goes on in ${audit.anchor.file}`)
  else out('audit anchor: none came with the database; anchoring starts afresh when the agency first runs')
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** `import`: an office's SQLite file becomes a new agency of the server (see the top of this file). */
async function importAgency(registry: Registry, url: string, env: NodeJS.ProcessEnv, values: Values, out: (s: string) => void): Promise<number> {
  const slug = validSlug(values.slug)
  if (!values.from) throw new UsageError('--from <sqlite file> is required: the office’s database file')
  const file = path.resolve(values.from)
  if (!fs.existsSync(file)) throw new UsageError(`there is no file ${file}`)
  if (!hasSqliteHeader(file)) throw new UsageError(`${file} is not an SQLite database`)

  // A new agency, or one registered whose schema is not there (yet): never into a schema that exists.
  const registered = await findAgency(registry, slug)
  if (await schemaExists(registry, slug))
    throw new UsageError(
      `the schema ${schemaOf(slug)} already exists${registered ? ` (agency ${slug} has its data there)` : ''}: import makes a new agency; choose another slug`,
    )
  let host: string
  let baseUrl: string
  if (registered) {
    host = registered.host
    baseUrl = registered.baseUrl
    if (values.host && validHost(values.host) !== host) throw new UsageError(`agency ${slug} is registered for the host ${host}`)
    if (values['base-url'] && validBaseUrl(values['base-url'], host) !== baseUrl)
      throw new UsageError(`agency ${slug} is registered with the base URL ${baseUrl}`)
  } else {
    if (!values.host) throw new UsageError('--host is required for a new agency: the host name its people will use')
    host = validHost(values.host)
    baseUrl = validBaseUrl(values['base-url'], host)
    const other = await findAgencyByHost(registry, host)
    if (other) throw new UsageError(`the host ${host} already belongs to agency ${other.slug}`)
  }

  // The office's files beside its database (as the ordinary install keeps them), or where the options say.
  const beside = path.dirname(file)
  const attachmentsFrom = path.resolve(values.attachments ?? path.join(beside, 'attachments'))
  if (values.attachments && !isDirectory(attachmentsFrom)) throw new UsageError(`--attachments: there is no folder ${attachmentsFrom}`)
  const anchorLog = path.resolve(values['anchor-log'] ?? path.join(beside, ANCHOR_LOG))
  const anchorKey = path.resolve(values['anchor-key'] ?? path.join(beside, ANCHOR_KEY))
  if (values['anchor-log'] && !fs.existsSync(anchorLog)) throw new UsageError(`--anchor-log: there is no file ${anchorLog}`)
  if (values['anchor-key'] && !fs.existsSync(anchorKey)) throw new UsageError(`--anchor-key: there is no file ${anchorKey}`)
  const hasLog = fs.existsSync(anchorLog)
  const hasKey = fs.existsSync(anchorKey)
  if (hasLog && !hasKey)
    throw new UsageError(
      `the audit anchor ${anchorLog} has no key at ${anchorKey}: pass --anchor-key <file> (an office that set AUDIT_ANCHOR_KEY: write its value to a file)`,
    )

  const cfg = agencyConfig(env, { slug, baseUrl })
  const folder = dataFolder(cfg)
  for (const f of [ANCHOR_LOG, ANCHOR_KEY])
    if (fs.existsSync(path.join(folder, f))) throw new UsageError(`${folder} already holds ${f} (another agency’s files?): move it away first`)
  if (!isEmptyOrAbsent(cfg.attachmentsDir)) throw new UsageError(`${cfg.attachmentsDir} already holds files (another agency’s?): move them away first`)

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-import-'))
  const made = new Made()
  let copy: OpenDb | undefined
  let handle: Awaited<ReturnType<typeof migrateAgency>> | undefined
  let schemaMade = false
  try {
    // The anchor log before the database: a line written after the copy is of an entry the copy lacks (it would read as cut off).
    if (hasLog) fs.copyFileSync(anchorLog, path.join(tmp, ANCHOR_LOG))
    const copyFile = path.join(tmp, 'office.db')
    await snapshotOf(file, copyFile)
    copy = openDb(copyFile)
    const integrity = integrityCheck(copy)
    if (integrity.join() !== 'ok') throw new CopyRefused(`${file} is damaged (integrity_check: ${integrity.slice(0, 3).join('; ')}); restore a backup first`)
    if (!executedMigrations(copy)?.length) throw new CopyRefused(`${file} is not a Yuemkhuen database (it has run no migrations)`)
    await migrateToLatest(copy.db) // the copy, never the office's file
    const name = values.name?.trim() || (await stringSetting(copy, 'agencyName')) || slug
    const sourceHead = await chainHead(copy.db)

    schemaMade = true // from here on the schema is ours to drop again (it did not exist)
    handle = await migrateAgency(registry, url, slug)
    const result = await copySqliteToPostgres(copy, handle.db)
    await copy.close()
    copy = undefined

    // The office's files: its anchor (so that anchoring goes on where it was) and its attachments.
    if (!fs.existsSync(folder)) made.mkdir(folder)
    if (hasKey) made.copy(anchorKey, path.join(folder, ANCHOR_KEY), 0o600)
    if (hasLog) made.copy(path.join(tmp, ANCHOR_LOG), path.join(folder, ANCHOR_LOG), 0o600)
    const files = copyTree(attachmentsFrom, cfg.attachmentsDir, made)

    // The chain walked in PostgreSQL, against the office's anchor, and the frozen reports against the chain.
    const audit = await verifyAudit(handle.db, hasLog ? anchorFromConfig(cfg) : undefined)
    if (!audit.ok) throw new CopyRefused(`the audit check fails on the copy in PostgreSQL: ${describeProblems(audit)}. The import is undone.`)
    if (audit.head.seq !== sourceHead.seq || audit.head.hash !== sourceHead.hash)
      throw new CopyRefused(
        `the copy's audit head #${audit.head.seq} ${audit.head.hash} is not the file's #${sourceHead.seq} ${sourceHead.hash}. The import is undone.`,
      )
    const missing = await missingAttachments(handle.db, cfg.attachmentsDir)

    const agency = registered ?? (await registerAgency(registry, { slug, host, name, baseUrl }, systemClock.now().toISOString()))
    out(`agency ${agency.slug} imported from ${file}: ${agency.baseUrl} (host ${agency.host}, schema ${schemaOf(slug)}, files ${folder})`)
    printCopy(out, result)
    printAudit(out, audit)
    out(
      `attachments: ${files} file(s) from ${isDirectory(attachmentsFrom) ? attachmentsFrom : `${attachmentsFrom} (no such folder)`}${missing.length ? `; ${missing.length} attachment(s) the loans name are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ' …' : ''}` : ''}`,
    )
    out(`the file ${file} is unchanged; stop the office's own server for good before people use ${agency.baseUrl}`)
    return 0
  } catch (e) {
    await copy?.close()
    copy = undefined
    await handle?.close()
    handle = undefined
    made.undo()
    if (schemaMade) await sql.raw(`DROP SCHEMA IF EXISTS ${schemaOf(slug)} CASCADE`).execute(registry)
    if (e instanceof CopyRefused || e instanceof UsageError) throw e
    throw new CopyRefused(`the import failed and is undone: ${message(e)}`)
  } finally {
    await copy?.close()
    await handle?.close()
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

/** `export`: the agency written to a new SQLite file, its files beside it (see the top of this file). */
async function exportAgency(registry: Registry, url: string, env: NodeJS.ProcessEnv, values: Values, out: (s: string) => void): Promise<number> {
  const slug = validSlug(values.slug)
  if (!values.to) throw new UsageError('--to <sqlite file> is required: the new database file')
  const file = path.resolve(values.to)
  const agency = await findAgency(registry, slug)
  if (!agency) throw new UsageError(`there is no agency ${slug} (npm run agency -- list)`)
  if (!(await schemaExists(registry, slug))) throw new UsageError(`agency ${slug} has no schema ${schemaOf(slug)}`)
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`])
    if (fs.existsSync(f)) throw new UsageError(`${f} already exists: export writes a new file and never overwrites one`)
  const beside = path.dirname(file)
  const attachmentsTo = path.resolve(values.attachments ?? path.join(beside, 'attachments'))
  if (!isEmptyOrAbsent(attachmentsTo)) throw new UsageError(`${attachmentsTo} already holds files: export into a new folder (or --attachments <dir>)`)
  for (const f of [ANCHOR_LOG, ANCHOR_KEY])
    if (fs.existsSync(path.join(beside, f))) throw new UsageError(`${path.join(beside, f)} already exists: export into a new folder`)

  const cfg = agencyConfig(env, agency)
  const folder = dataFolder(cfg)
  const made = new Made()
  let handle: ReturnType<typeof openAgencyDb> | undefined
  let target: OpenDb | undefined
  try {
    made.mkdir(beside)
    // The anchor before the database: its lines are then of entries the copy holds (a server may go on writing meanwhile).
    const hasLog = fs.existsSync(path.join(folder, ANCHOR_LOG))
    if (fs.existsSync(path.join(folder, ANCHOR_KEY))) made.copy(path.join(folder, ANCHOR_KEY), path.join(beside, ANCHOR_KEY), 0o600)
    if (hasLog) made.copy(path.join(folder, ANCHOR_LOG), path.join(beside, ANCHOR_LOG), 0o600)

    handle = openAgencyDb(url, slug, { poolSize: 2 })
    for (const f of [file, `${file}-wal`, `${file}-shm`]) made.add(f)
    target = openDb(file)
    fs.chmodSync(file, 0o600)
    const result = await copyPostgresToSqlite(handle.db, target)
    const files = copyTree(cfg.attachmentsDir, attachmentsTo, made)

    // The file as the ordinary install will read it: its chain, against the anchor beside it, and its frozen reports.
    const integrity = integrityCheck(target)
    if (integrity.join() !== 'ok') throw new CopyRefused(`the new file fails SQLite's integrity check: ${integrity.slice(0, 3).join('; ')}`)
    const fileConfig = loadConfig({ DATABASE_PATH: file })
    const audit = await verifyAudit(target.db, hasLog ? anchorFromConfig(fileConfig) : undefined)
    if (!audit.ok) throw new CopyRefused(`the audit check fails on the new file: ${describeProblems(audit)}. The export is undone.`)
    // The same entry in PostgreSQL (whose head may have moved on since, if its server is running).
    const pgEntry = await sql<{ hash: string }>`SELECT hash FROM audit_log WHERE id = ${audit.head.seq}`.execute(handle.db)
    if (audit.head.seq > 0 && pgEntry.rows[0]?.hash !== audit.head.hash)
      throw new CopyRefused(`the file's audit head #${audit.head.seq} is not the agency's entry #${audit.head.seq}. The export is undone.`)
    const missing = await missingAttachments(target.db, attachmentsTo)
    await target.close()
    target = undefined

    out(`agency ${slug} exported to ${file} (from schema ${schemaOf(slug)}); start it with DATABASE_PATH=${file} npm start`)
    printCopy(out, result)
    printAudit(out, audit)
    out(
      `attachments: ${files} file(s) into ${attachmentsTo}${missing.length ? `; ${missing.length} attachment(s) the loans name are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ' …' : ''}` : ''}`,
    )
    return 0
  } catch (e) {
    await target?.close()
    target = undefined
    made.undo()
    if (e instanceof CopyRefused || e instanceof UsageError) throw e
    throw new CopyRefused(`the export failed and is undone: ${message(e)}`)
  } finally {
    await target?.close()
    await handle?.close()
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
