/**
 * The demo agency (issue 6): a fresh database filled by scripts/demo-data.ts, then the server on it.
 *
 *   npm run demo                       # data/demo.db, seed 2568, scale 1, port 3000
 *   npm run demo -- --scale 20 --seed 7
 *   npm run demo -- --keep             # serve the existing demo database as it is (no regeneration)
 *
 * Environment: DEMO_DATABASE_PATH (default data/demo.db), DEMO_ATTACHMENTS_DIR (default demo-attachments
 * next to it; the real ATTACHMENTS_DIR is never used), DEMO_SCALE, DEMO_SEED, PORT, HOST, LOG_LEVEL.
 * It only ever overwrites a database it made itself (marked by the `demo.generated` setting).
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { openDb } from '../db/connection.js'
import { migrateToLatest } from '../db/migrator.js'
import { serve } from '../server/main.js'
import { systemClock } from '../server/clock.js'
import { loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { anchorFromConfig, startAnchoring } from '../server/services/audit-anchor.service.js'
import { DEMO_MARK_KEY, DEMO_PASSWORD, demoSignIns, generateDemo, type DemoSignIn } from './demo-data.js'
import { bangkokDate, fiscalYearOf } from '../server/i18n/calendar.js'

export const DEFAULT_DEMO_DATABASE = 'data/demo.db'

export class NotADemoDatabase extends Error {}

/** True when the file is a database this command made (or does not exist / is empty). */
export function isDemoDatabase(file: string): boolean {
  if (!fs.existsSync(file) || fs.statSync(file).size === 0) return true
  let db: Database.Database | undefined
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
    const row = db.prepare('SELECT value FROM setting WHERE key = ?').get(DEMO_MARK_KEY)
    return row !== undefined
  } catch {
    return false
  } finally {
    db?.close()
  }
}

/** The files the attachment service writes (a random name and the type's extension): nothing else is touched. */
const STORED_ATTACHMENT = /^\.?[0-9a-f]{32}\.(jpg|png|webp|heic|pdf)(\.part)?$/

/** Removes the scans of an earlier demo from its attachments folder (a new demo has none of their rows). */
export function clearDemoAttachments(dir: string): void {
  if (!fs.existsSync(dir)) return
  for (const f of fs.readdirSync(dir)) if (STORED_ATTACHMENT.test(f)) fs.rmSync(path.join(dir, f), { force: true })
}

/** Removes an earlier demo database (and its WAL files); refuses anything else. */
/** The demo's audit anchor sits beside its database and goes with it, never into the real one's. */
export function demoAnchorPath(file: string): string {
  return `${file}.audit-anchor.log`
}

export function clearDemoDatabase(file: string): void {
  if (!isDemoDatabase(file))
    throw new NotADemoDatabase(`${file} exists and is not a demo database; refusing to overwrite it (set DEMO_DATABASE_PATH to another file)`)
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`, demoAnchorPath(file)]) fs.rmSync(f, { force: true })
}

/**
 * The sign-ins a visitor needs, each with what that person does. Thai names do not pad to columns in
 * a terminal, so each person takes two lines: the columns, then name, position and what they do.
 */
export function signInTable(signIns: DemoSignIn[], url: string): string {
  const lines = signIns.flatMap((s) => [
    `  ${s.role.padEnd(10)} ${s.username.padEnd(10)} ${s.password}   ${s.name}${s.position ? ` (${s.position})` : ''}`,
    `             ${s.does}`,
  ])
  const lastFy = fiscalYearOf(bangkokDate(new Date())) - 1
  return [
    `\nDemo agency ready at ${url}`,
    '  role       username   password         name, and what they do',
    ...lines,
    `  (every other demo user has the password ${DEMO_PASSWORD} too)`,
    `  Paper approvals: the นายก (executive) and the ผอ.กองคลัง (finance2) confirm or dispute those in their name on ${url}/loans/queue;`,
    `  the committee's list of unconfirmed, disputed, unscanned and one-officer ones is ${url}/paper-approvals.`,
    `  Public page: ${url}/transparency (the report of FY ${lastFy - 1} is published).`,
    `  Try publishing FY ${lastFy}: finance opens ${url}/reports?fy=${lastFy}&period=year and submits it,`,
    '  committee records its review, executive approves; then it shows on the public page.\n',
  ].join('\n')
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { scale: { type: 'string' }, seed: { type: 'string' }, keep: { type: 'boolean', default: false } },
  })
  const file = process.env.DEMO_DATABASE_PATH || DEFAULT_DEMO_DATABASE
  const scale = Number(values.scale ?? process.env.DEMO_SCALE ?? '1')
  const seed = Number(values.seed ?? process.env.DEMO_SEED ?? '2568')
  if (!(scale > 0) || !Number.isInteger(seed)) throw new Error('--scale must be a positive number and --seed an integer')
  const keep = values.keep === true && fs.existsSync(file)
  if (keep && !isDemoDatabase(file)) throw new NotADemoDatabase(`${file} is not a demo database`)
  if (!keep) clearDemoDatabase(file)
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })

  // The demo's scans live next to its database, never among the real attachments (ATTACHMENTS_DIR).
  // The default folder holds only demo scans, cleared with their database; a folder named in
  // DEMO_ATTACHMENTS_DIR is left as it is (it might hold anything).
  const ownFolder = path.join(path.dirname(file), 'demo-attachments')
  const attachmentsDir = process.env.DEMO_ATTACHMENTS_DIR || ownFolder
  if (!keep && attachmentsDir === ownFolder) clearDemoAttachments(attachmentsDir)
  const config = loadConfig({ ...process.env, DATABASE_PATH: file, ATTACHMENTS_DIR: attachmentsDir, AUDIT_ANCHOR_PATH: demoAnchorPath(file) })
  const logger = pino({ level: config.logLevel })
  const handle = openDb(config.databasePath)
  const ctx: AppContext = { db: handle.db, clock: systemClock, config, logger, anchor: anchorFromConfig(config, logger) }
  await migrateToLatest(handle.db)

  let signIns: DemoSignIn[] = []
  if (keep) {
    process.stdout.write(`Serving the existing demo database ${file}\n`)
    signIns = await demoSignIns(handle.db)
  } else {
    process.stdout.write(`Generating the demo agency into ${file} (seed ${seed}, scale ${scale})…\n`)
    const t0 = Date.now()
    const summary = await generateDemo(ctx, { seed, scale, now: new Date(), log: (l) => process.stdout.write(`${l}\n`) })
    const c = summary.counts
    process.stdout.write(
      `${summary.agencyName}: ${c.users} users, ${c.assets} assets, ${c.stock} counted items, ${c.kits} kits, ${c.loans} loans over fiscal years ${summary.fiscalYears.join(', ')} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
    )
    const p = summary.paperApprovals
    process.stdout.write(
      `Paper approvals: ${p.total} standing — ${p.confirmed} confirmed, ${p.unconfirmed} awaiting the approver (${p.unconfirmedOverAWeek} over a week), ${p.disputed} disputed (${p.disputedBlocked} blocking a hand-over), ${p.noAccount} by an approver without an account, ${p.withoutScan} without a scan, ${p.counter} at the counter in one sitting; ${p.voided} voided\n`,
    )
    signIns = summary.signIns
  }

  if (ctx.anchor) await startAnchoring(ctx.db, ctx.anchor, ctx.clock, logger)
  await serve(ctx, handle, { label: 'Yuemkhuen demo', onListening: (url) => process.stdout.write(signInTable(signIns, url)) })
}

// Run only as a program, not when a test imports the helpers.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '')) {
  main().catch((e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  })
}
