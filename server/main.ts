import fs from 'node:fs'
import type { Server } from 'node:http'
import path from 'node:path'
import { type Logger, pino } from 'pino'
import { type Config, loadConfig } from './config.js'
import { createHosting } from './hosting.js'
import { type AnyOpenDb, openDatabase } from '../db/connection.js'
import { migrateToLatest } from '../db/migrator.js'
import { createApp } from './app.js'
import { systemClock } from './clock.js'
import type { AppContext } from './context.js'
import { ensureFirstAdmin } from './services/user.service.js'
import { secretFromKeyFile } from './services/secret.service.js'
import { anchorFromConfig, dataFolder, startAnchoring } from './services/audit-anchor.service.js'
import { startScheduler } from './services/scheduler.service.js'
import { startMailSender } from './services/mail-sender.service.js'
import { backupBeforeMigrating, startBackupTimer } from './services/backup.service.js'

/** The session-signing key from `<data folder>/session.key`, created on first start. */
function sessionKeyFromFile(ctx: AppContext): string {
  const folder = dataFolder(ctx.config)
  const key = secretFromKeyFile(folder, 'session')
  if (key.created) ctx.logger.info({ file: path.join(folder, 'session.key') }, 'session key created (back it up apart from the database)')
  return key.value
}

/**
 * Files this process creates are its owner's only (the database, its WAL, backups, attachments, key
 * files): a copy readable by others is a copy of everyone's loans. Existing database files are narrowed too.
 */
export function ownerOnlyFiles(databasePath: string): void {
  process.umask(0o077)
  if (databasePath === ':memory:') return
  for (const f of [databasePath, `${databasePath}-wal`, `${databasePath}-shm`]) {
    if (fs.existsSync(f) && (fs.statSync(f).mode & 0o077) !== 0) fs.chmodSync(f, 0o600)
  }
}

/** The process edge: loadConfig → openDb → migrate → createApp → listen. */
async function main(): Promise<void> {
  const config = loadConfig(process.env)
  const logger = pino({ level: config.logLevel })
  if (config.tenancy === 'host') return serveAgencies(config, logger)
  ownerOnlyFiles(config.databasePath)
  const handle = openDatabase(config)
  const ctx: AppContext = { db: handle.db, clock: systemClock, config, logger, anchor: anchorFromConfig(config, logger) }

  // An upgrade that changes the schema first takes a verified copy (npm run restore undoes it).
  // On PostgreSQL the operator's pg_dump is the backup (README).
  if (handle.kind === 'sqlite') await backupBeforeMigrating(ctx, handle)
  const migrated = await migrateToLatest(handle.db)
  for (const r of migrated.results ?? []) logger.info({ migration: r.migrationName, status: r.status }, 'migration')
  // From here on every commit's chain head is written outside the database (issue 13).
  if (ctx.anchor) await startAnchoring(ctx.db, ctx.anchor, ctx.clock, logger)

  const admin = await ensureFirstAdmin(ctx, config.admin)
  if (admin.created) {
    if (admin.generatedPassword) {
      // Printed once, to the console only: the operator signs in and must change it.
      process.stdout.write(
        `\nFirst administrator created.\n  username: ${admin.username}\n  password: ${admin.generatedPassword}\nSign in and change this password now; it is not shown again.\n\n`,
      )
    } else {
      logger.info({ username: admin.username }, 'first administrator created from ADMIN_USERNAME/ADMIN_PASSWORD')
    }
  }

  await serve(ctx, handle, {})
}

/**
 * Serves the app until SIGTERM/SIGINT: the session secret, the app, the listener, the expiry and
 * backup timers and a clean stop. `npm start` and `npm run demo` share it.
 */
export async function serve(ctx: AppContext, handle: AnyOpenDb, opts: { label?: string; onListening?: (url: string) => void }): Promise<void> {
  const { config, logger } = ctx
  // The cookie-signing key: SESSION_SECRET, or a key file beside the data (0600), never the database.
  const sessionSecret = config.sessionSecret ?? sessionKeyFromFile(ctx)
  const app = createApp(ctx, { sessionSecret, pruneSessions: true })
  const server: Server = app.listen(config.port, config.host ?? '0.0.0.0', () => {
    const addr = server.address()
    const port = typeof addr === 'object' && addr ? addr.port : config.port
    logger.info(
      { port, database: config.databaseUrl ? 'postgresql' : config.databasePath },
      `${opts.label ?? 'Yuemkhuen'} listening on http://localhost:${port}`,
    )
    opts.onListening?.(`http://localhost:${port}`)
  })

  // The agency's one scheduler: approved loans nobody collected expire without anyone pressing a
  // button, and no page or API read writes (issue 14).
  const scheduler = startScheduler(ctx)

  // Notification e-mail leaves from the outbox, outside every request and transaction (issue 18); none without SMTP_URL.
  const mailSender = startMailSender(ctx)
  if (mailSender) logger.info({ from: config.mailFrom }, 'notification e-mail on (SMTP_URL set)')

  // The server's own backups (BACKUP_EVERY_HOURS, default daily); paged, so requests keep flowing.
  const backupTimer = handle.kind === 'sqlite' ? startBackupTimer(ctx, handle) : undefined

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    app.shutdown()
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    server.close(() => {
      Promise.all([backupTimer?.stop(), scheduler.stop(), mailSender?.stop()])
        .then(() => handle.close())
        .then(() => process.exit(0))
        .catch(() => process.exit(1))
    })
    server.closeIdleConnections()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

/** Many agencies on one PostgreSQL server (TENANCY=host, issue 20): each found by its host name. */
async function serveAgencies(config: Config, logger: Logger): Promise<void> {
  process.umask(0o077)
  const hosting = createHosting({ env: process.env, config, clock: systemClock, logger, background: true })
  await hosting.start()
  const agencies = hosting.runtimes()
  const server: Server = hosting.app.listen(config.port, config.host ?? '0.0.0.0', () => {
    logger.info({ port: config.port, agencies: agencies.map((a) => `${a.agency.slug}@${a.agency.host}`) }, 'Yuemkhuen (many agencies) listening')
  })
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    server.close(() => {
      hosting
        .close()
        .then(() => process.exit(0))
        .catch(() => process.exit(1))
    })
    server.closeIdleConnections()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
}

// Run only as a program (npm start), not when the demo imports serve().
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '')) {
  main().catch((e: unknown) => {
    process.stderr.write(`Yuemkhuen failed to start: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  })
}
