/**
 * Puts a backup back as the database (issue 7).
 *
 *   npm run restore -- <file> [--yes]
 *
 * Stop the server first: the command refuses while any process holds DATABASE_PATH open. Before
 * anything is replaced it checks the file (SQLite, integrity_check, a Yuemkhuen schema no newer
 * than this code, the audit chain) and takes a safety backup of the current database into
 * BACKUP_DIR; then it renames a checked copy into place and removes stale -wal/-shm files.
 * Without --yes it asks for confirmation on a terminal and refuses elsewhere.
 *
 * The file must also be a state the audit chain really passed through: its last entry must match a
 * line of the audit anchor kept outside the database (issue 13). Entries after it are lost with the
 * restore; that is audited in the restored database and a restore line starts a new anchor epoch.
 * A file matching no line (rewritten, from another installation, a new machine without the anchor)
 * is refused unless --override "<reason>" is given; the override and its reason are audited.
 */
import { parseArgs } from 'node:util'
import readline from 'node:readline/promises'
import { systemClock } from '../server/clock.js'
import { ConfigError, loadConfig } from '../server/config.js'
import { backupTarget, BackupError } from '../server/services/backup.service.js'
import { checkDatabaseFile } from '../server/services/backup-check.js'
import { restoreDatabase, RestoreRefused } from '../server/services/backup-restore.service.js'
import { describeCheck } from './backup.js'
import { anchorFromConfig } from '../server/services/audit-anchor.service.js'

const USAGE = `usage: npm run restore -- <backup file> [--yes] [--override "<reason>"]
  replaces DATABASE_PATH with the backup after checking it and taking a safety backup; stop the server first
  --override "<reason>"  restore a file that matches no line of the audit anchor (audited with the reason)`

export type Confirm = (question: string) => Promise<boolean>

export async function run(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, confirm?: Confirm): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { yes: { type: 'boolean', short: 'y', default: false }, override: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    })
  } catch (e) {
    out(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help) {
    out(USAGE)
    return 0
  }
  if (positionals.length !== 1) {
    out(USAGE)
    return 2
  }
  const file = positionals[0]!
  const override = values.override?.trim()
  if (values.override !== undefined && (override ?? '').length < 10) {
    out(`error: --override needs a reason of at least 10 characters (it is audited)\n${USAGE}`)
    return 2
  }
  try {
    const config = loadConfig(env)
    if (config.databaseUrl) {
      // PostgreSQL (issue 19): the database server's own tools back it up (README, "PostgreSQL").
      out('error: DATABASE_URL is set: this database is on PostgreSQL; back it up with pg_dump plus the data folder (README); nothing was changed')
      return 1
    }
    const target = backupTarget(config, systemClock)
    const check = await checkDatabaseFile(file)
    if (!check.ok) {
      out(`error: not restoring ${file}:`)
      for (const p of check.problems) out(`  - ${p.detail}`)
      out('nothing was changed')
      return 1
    }
    out(`checked ${file}: ${describeCheck(check)}`)
    if (!values.yes) {
      const question = `Replace ${config.databasePath} with ${file}? (a safety backup is taken first) Type yes: `
      if (!confirm) {
        out(`error: add --yes to replace ${config.databasePath} (no terminal to ask on); nothing was changed`)
        return 2
      }
      if (!(await confirm(question))) {
        out('not confirmed; nothing was changed')
        return 1
      }
    }
    const r = await restoreDatabase(file, target, { anchor: anchorFromConfig(config), override })
    if (r.safetyBackup) out(`safety backup of the previous database: ${r.safetyBackup}${r.safetyVerified ? '' : ' (copied as it was, NOT verified)'}`)
    else out('there was no database yet, so no safety backup was needed')
    for (const f of r.removed) out(`removed stale ${f}`)
    out(`restored ${r.restoredFrom} -> ${r.databasePath}`)
    if (r.anchor) {
      const a = r.anchor
      out(
        a.override
          ? `the file matched no audit anchor line; restored on your override (audited): entries ${a.lostFrom}…${a.lostTo} of the replaced database are gone`
          : a.lostTo >= a.lostFrom
            ? `the file's audit chain matches the anchor of ${a.matchedAt}; entries ${a.lostFrom}…${a.lostTo} were lost with the restore (audited, re-anchored)`
            : `the file's audit chain matches the anchor of ${a.matchedAt}; no audit entries were lost (audited, re-anchored)`,
      )
    }
    if (r.check.pending.length) out(`the next start migrates it (${r.check.pending.length} migrations), after a backup`)
    out('attachments are kept outside the database (ATTACHMENTS_DIR): put back their copy too if they were lost')
    return 0
  } catch (e) {
    if (e instanceof RestoreRefused) {
      out(`error: not restoring ${file}:`)
      for (const p of e.problems) out(`  - ${p.detail}`)
      out('nothing was changed')
      return 1
    }
    if (e instanceof BackupError || e instanceof ConfigError) {
      out(`error: ${e.message}; nothing was changed`)
      return 1
    }
    throw e
  }
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout })
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes'
  } finally {
    rl.close()
  }
}

// Run only as a program, not when a test imports run().
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '')) {
  // Files this command creates (backups, a restored database) are the owner's only.
  process.umask(0o077)
  run(process.argv.slice(2), process.env, (s) => process.stdout.write(`${s}\n`), process.stdin.isTTY ? askOnTerminal : undefined).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`restore failed: ${e instanceof Error ? e.message : String(e)}\n`)
      process.exit(1)
    },
  )
}
