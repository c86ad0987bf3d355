/**
 * The benchmark's database: the demo agency (scripts/demo-data.ts, through the real services) plus
 * the bulk path (scripts/demo-bulk.ts) at benchmark scale, built once and cached under
 * bench/.cache/ by a key of scale, seed, the migration list, the day and the generators' source.
 * A run works on a copy, so that its sessions and tokens never touch the cache.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { pino } from 'pino'
import { openDb } from '../db/connection.js'
import { migrateToLatest } from '../db/migrator.js'
import { migrations } from '../db/migrations/index.js'
import { systemClock } from '../server/clock.js'
import { loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { bangkokDate } from '../server/i18n/calendar.js'
import { hashCost, setHashCostForTests } from '../server/services/password.js'
import { createUser } from '../server/services/user.service.js'
import { generateDemo } from '../scripts/demo-data.js'
import { generateBulk, type BulkSummary } from '../scripts/demo-bulk.js'

export const BENCH_USER = { username: 'bench', password: 'bench-pass-2568' }

export interface BenchScale {
  name: string
  /** generateDemo's scale: people, stock, kits and a few hundred loans through the services. */
  demoScale: number
  assets: number
  loanItems: number
}

const FULL = { assets: 20_000, loanItems: 500_000 }

/** `small` (CI), `full` (20,000 assets, 500,000 loan items), or a fraction / multiple of full. */
export function parseScale(raw: string | undefined): BenchScale {
  const s = (raw ?? 'full').trim()
  if (s === 'small') return { name: 'small', demoScale: 0.1, assets: 1000, loanItems: 10_000 }
  if (s === 'full') return { name: 'full', demoScale: 1, ...FULL }
  const f = Number(s)
  if (!(f > 0)) throw new Error(`BENCH_SCALE / --scale must be small, full or a positive number, not ${s}`)
  return { name: String(f), demoScale: Math.min(1, Math.max(0.1, f)), assets: Math.round(FULL.assets * f), loanItems: Math.round(FULL.loanItems * f) }
}

export interface Dataset {
  file: string
  cached: boolean
  buildSeconds: number
  summary: DatasetSummary
}

export interface DatasetSummary {
  scale: BenchScale
  seed: number
  day: string
  assets: number
  loans: number
  loanItems: number
  fiscalYears: number[]
  bulk: BulkSummary
}

const ROOT = path.resolve(import.meta.dirname, '..')
export const CACHE_DIR = path.join(ROOT, 'bench', '.cache')

function cacheKey(scale: BenchScale, seed: number, day: string): string {
  const h = createHash('sha256')
  h.update(JSON.stringify({ scale, seed, day, migrations: Object.keys(migrations) }))
  // A change to a generator is a different dataset.
  for (const f of ['scripts/demo-data.ts', 'scripts/demo-bulk.ts', 'bench/dataset.ts']) h.update(fs.readFileSync(path.join(ROOT, f)))
  return h.digest('hex').slice(0, 16)
}

/** The cached database for this scale and seed (built when missing). */
export async function dataset(scale: BenchScale, seed: number, log: (l: string) => void = () => undefined): Promise<Dataset> {
  const now = new Date()
  const day = bangkokDate(now)
  const key = cacheKey(scale, seed, day)
  const file = path.join(CACHE_DIR, `bench-${scale.name}-${seed}-${key}.db`)
  const meta = `${file}.json`
  if (fs.existsSync(file) && fs.existsSync(meta))
    return { file, cached: true, buildSeconds: 0, summary: JSON.parse(fs.readFileSync(meta, 'utf8')) as DatasetSummary }

  fs.mkdirSync(CACHE_DIR, { recursive: true })
  const tmp = `${file}.building-${process.pid}`
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true })
  const t0 = Date.now()
  const handle = openDb(tmp)
  try {
    await migrateToLatest(handle.db)
    // The demo's paper-approval scans go into a folder of this dataset's own, removed with it.
    const config = loadConfig({ NODE_ENV: 'production', DATABASE_PATH: tmp, LOG_LEVEL: 'silent', ATTACHMENTS_DIR: `${file}.attachments` })
    const ctx: AppContext = { db: handle.db, clock: systemClock, config, logger: pino({ level: 'silent' }) }
    log(`building the ${scale.name} dataset (seed ${seed}): demo agency at scale ${scale.demoScale}…`)
    await generateDemo(ctx, { seed, scale: scale.demoScale, now, log: () => undefined })
    log(`  bulk: ${scale.assets} assets, ~${scale.loanItems} loan items over five fiscal years…`)
    const bulk = await generateBulk(ctx, handle.raw, { seed, assets: scale.assets, loanItems: scale.loanItems, years: 5, now, log })
    // The benchmark's own account: staff (the QR page, the dashboard) and finance (register, reports).
    const cost = hashCost()
    setHashCostForTests(1024)
    try {
      await createUser(
        ctx,
        { id: null, label: 'bench' },
        { username: BENCH_USER.username, password: BENCH_USER.password, name: 'ผู้ทดสอบสมรรถนะ', roles: ['finance', 'staff'] },
        { mustChangePassword: false },
      )
    } finally {
      setHashCostForTests(cost)
    }
    const count = (t: string) => (handle.raw.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n
    const summary: DatasetSummary = {
      scale,
      seed,
      day,
      assets: count('asset'),
      loans: count('loan'),
      loanItems: count('loan_item'),
      fiscalYears: (handle.raw.prepare('SELECT DISTINCT fiscal_year AS fy FROM loan ORDER BY fy').all() as Array<{ fy: number }>).map((r) => r.fy),
      bulk,
    }
    handle.raw.pragma('wal_checkpoint(TRUNCATE)')
    await handle.close()
    fs.renameSync(tmp, file)
    for (const f of [`${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true })
    fs.writeFileSync(meta, `${JSON.stringify(summary, null, 2)}\n`)
    // Older datasets of the same scale and seed are stale now.
    for (const f of fs.readdirSync(CACHE_DIR)) {
      if (f.startsWith(`bench-${scale.name}-${seed}-`) && !f.startsWith(path.basename(file)))
        fs.rmSync(path.join(CACHE_DIR, f), { force: true, recursive: true })
    }
    return { file, cached: false, buildSeconds: (Date.now() - t0) / 1000, summary }
  } catch (e) {
    await handle.close().catch(() => undefined)
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, `${file}.attachments`]) fs.rmSync(f, { force: true, recursive: true })
    throw e
  }
}
