/**
 * A verified copy of the database, while the server runs or not (issue 7).
 *
 *   npm run backup
 *
 * Uses DATABASE_PATH and BACKUP_DIR like the server. SQLite's online backup copies the live file
 * consistently; the copy is checked (integrity_check, migrations, audit chain) before it gets its
 * final name, and retention then prunes old copies (see server/services/backup.service.ts).
 * Writes nothing to the database itself. Exit 0 only for a verified backup.
 */
import { systemClock } from '../server/clock.js'
import { ConfigError, loadConfig } from '../server/config.js'
import { backupDatabaseFile, backupTarget, BackupError, humanSize } from '../server/services/backup.service.js'
import type { FileCheck } from '../server/services/backup-check.js'

const USAGE = `usage: npm run backup
  copies DATABASE_PATH into BACKUP_DIR (default: backups/ beside the database), verifies the copy and prints its path`

export function describeCheck(check: FileCheck): string {
  const parts = [
    `integrity ${check.integrity.length === 1 && check.integrity[0] === 'ok' ? 'ok' : 'NOT ok'}`,
    `${check.migrations.length} migrations${check.pending.length ? ` (${check.pending.length} to run at the next start)` : ''}`,
  ]
  if (check.audit) parts.push(check.audit.ok ? `audit chain ok (${check.audit.entries} entries)` : `audit chain BROKEN at entry ${check.audit.brokenAt}`)
  return parts.join(', ')
}

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(USAGE)
    return 0
  }
  if (argv.length > 0) {
    out(`unexpected arguments: ${argv.join(' ')}\n${USAGE}`)
    return 2
  }
  try {
    const config = loadConfig(env)
    if (config.databaseUrl) {
      // PostgreSQL (issue 19): the database server's own tools back it up (README, "PostgreSQL").
      out('error: DATABASE_URL is set: this database is on PostgreSQL; back it up with pg_dump plus the data folder (README); nothing was changed')
      return 1
    }
    const r = await backupDatabaseFile(backupTarget(config, systemClock), 'manual')
    out(`backup written: ${r.path}`)
    out(`size: ${humanSize(r.size)} (${r.size} bytes)`)
    out(`sha256: ${r.sha256}`)
    out(`check: ${describeCheck(r.check)}`)
    if (r.pruned.length) out(`retention removed: ${r.pruned.join(', ')}`)
    if (!r.verified) {
      out(`error: the backup is NOT verified: ${r.check.problems.map((p) => p.detail).join('; ')}`)
      return 1
    }
    out('verified: ok')
    return 0
  } catch (e) {
    if (e instanceof BackupError || e instanceof ConfigError) {
      out(`error: ${e.message}`)
      return 1
    }
    throw e
  }
}

// Run only as a program, not when a test imports run().
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '')) {
  // Files this command creates (backups, a restored database) are the owner's only.
  process.umask(0o077)
  run(process.argv.slice(2), process.env, (s) => process.stdout.write(`${s}\n`)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`backup failed: ${e instanceof Error ? e.message : String(e)}\n`)
      process.exit(1)
    },
  )
}
