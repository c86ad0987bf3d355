/**
 * npm run bench — speed and memory as ratios against baselines measured in the same process:
 * pages and API against /healthz served by the same server (alternating runs), and label
 * rendering against the bare `qrcode` library rendering the same codes.
 *
 *   npm run bench                 # default size
 *   BENCH_ASSETS=20000 npm run bench
 *   BENCH_SECONDS=5 npm run bench
 *
 * Writes bench/results/<timestamp>.json and bench/results/latest.json, and prints a table.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import autocannon from 'autocannon'
import QRCode from 'qrcode'
import { pino } from 'pino'
import { openDb } from '../db/connection.js'
import { migrateToLatest } from '../db/migrator.js'
import { createApp } from '../server/app.js'
import { systemClock } from '../server/clock.js'
import { loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { createUser } from '../server/services/user.service.js'
import { setHashCostForTests } from '../server/services/password.js'
import { buildLabels } from '../server/services/label.service.js'
import { qrUrl } from '../server/services/label.service.js'

const ASSETS = Number(process.env.BENCH_ASSETS ?? 2000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2)

interface Shot {
  rps: number
  p50: number
  p99: number
  errors: number
}

async function shoot(url: string, headers: Record<string, string>): Promise<Shot> {
  const r = await autocannon({ url, connections: 10, duration: SECONDS, headers })
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx }
}

async function seed(ctx: AppContext): Promise<{ code: string }> {
  const now = new Date().toISOString()
  const cat = await ctx.db.selectFrom('category').select('id').where('code', '=', 'electrical').executeTakeFirstOrThrow()
  // Plain inserts in chunks: the benchmark measures reading, not the register's own write path.
  for (let i = 0; i < ASSETS; i += 500) {
    const rows = []
    for (let j = i; j < Math.min(ASSETS, i + 500); j++) {
      rows.push({
        code: `416-66-${String(j).padStart(5, '0')}`,
        name: `เครื่องขยายเสียง รุ่น ${j}`,
        category_id: cat.id,
        brand_model: '',
        serial_number: `SN${j}`,
        department_id: null,
        location: 'ห้องพัสดุ',
        acquired_on: '2023-10-01',
        price_satang: 1250000,
        useful_life_years: null,
        funding_source: '',
        status: 'available' as const,
        loanable: 1,
        max_loan_days: null,
        notes: '',
        created_at: now,
        updated_at: now,
      })
    }
    await ctx.db.insertInto('asset').values(rows).execute()
  }
  return { code: `416-66-${String(Math.floor(ASSETS / 2)).padStart(5, '0')}` }
}

async function main() {
  setHashCostForTests(1024)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-bench-'))
  const handle = openDb(path.join(dir, 'bench.db'))
  await migrateToLatest(handle.db)
  const config = loadConfig({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://yk.example.go.th', LOG_LEVEL: 'silent' })
  const ctx: AppContext = { db: handle.db, clock: systemClock, config, logger: pino({ level: 'silent' }) }
  const { code } = await seed(ctx)
  await createUser(ctx, { id: null, label: 'bench' }, { username: 'bench', password: 'bench-pass-1', name: 'ผู้ทดสอบ', roles: ['finance', 'staff'] }, { mustChangePassword: false })
  const app = createApp(ctx, { sessionSecret: 'bench-secret-bench-secret', signInLimits: { perAccount: 1000, perAddress: 1000 } })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((r) => server.once('listening', r))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  // A signed-in session for the pages, a bearer token for the API.
  const login = await fetch(`${base}/login`)
  const cookie0 = login.headers.get('set-cookie')!.split(';')[0]!
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!
  const signed = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie0 },
    body: new URLSearchParams({ _csrf: csrf, username: 'bench', password: 'bench-pass-1', next: '/' }),
  })
  const cookie = signed.headers.get('set-cookie')!.split(';')[0]!
  const token = ((await (await fetch(`${base}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-pass-1' }) })).json()) as { token: string }).token

  const targets: Array<{ name: string; path: string; headers: Record<string, string> }> = [
    { name: 'QR resolver page', path: `/q/${encodeURIComponent(code)}`, headers: { cookie } },
    { name: 'dashboard', path: '/', headers: { cookie } },
    { name: 'register page', path: '/assets?q=%E0%B9%80%E0%B8%84%E0%B8%A3%E0%B8%B7%E0%B9%88%E0%B8%AD%E0%B8%87', headers: { cookie } },
    { name: 'assets API', path: '/api/v1/assets?pageSize=50', headers: { authorization: `Bearer ${token}` } },
  ]
  const rows: Array<Record<string, unknown>> = []
  let peakRss = process.memoryUsage().rss
  const sample = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
  for (const t of targets) {
    const health: Shot[] = []
    const page: Shot[] = []
    for (let i = 0; i < ROUNDS; i++) {
      // Alternating runs, so that drift of the machine touches both alike.
      health.push(await shoot(`${base}/healthz`, {}))
      page.push(await shoot(`${base}${t.path}`, t.headers))
    }
    const avg = (xs: Shot[], k: keyof Shot) => xs.reduce((s, x) => s + x[k], 0) / xs.length
    rows.push({
      target: t.name,
      rps: Math.round(avg(page, 'rps')),
      p50ms: avg(page, 'p50'),
      p99ms: avg(page, 'p99'),
      errors: page.reduce((s, x) => s + x.errors, 0),
      healthzRps: Math.round(avg(health, 'rps')),
      ratioToHealthz: Number((avg(page, 'rps') / avg(health, 'rps')).toFixed(3)),
    })
  }
  clearInterval(sample)

  // Labels: 1,000 labels through the app against the bare library encoding the same URLs.
  const labelAssets = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, code: `416-66-${String(i).padStart(5, '0')}`, name: `เครื่องขยายเสียง รุ่น ${i}` }))
  const bareStart = performance.now()
  for (const a of labelAssets) await QRCode.toString(qrUrl(config.publicBaseUrl, a.code), { type: 'svg', errorCorrectionLevel: 'M', margin: 4 })
  const bareMs = performance.now() - bareStart
  const appStart = performance.now()
  await buildLabels(labelAssets as never, '3x8', { baseUrl: config.publicBaseUrl, agencyName: 'องค์การบริหารส่วนตำบล' })
  const appMs = performance.now() - appStart

  const result = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    assets: ASSETS,
    secondsPerRun: SECONDS,
    rounds: ROUNDS,
    http: rows,
    labels: { count: 1000, appMs: Math.round(appMs), bareLibraryMs: Math.round(bareMs), ratio: Number((appMs / bareMs).toFixed(3)) },
    peakRssMb: Math.round(peakRss / 1024 / 1024),
  }
  const outDir = path.resolve(import.meta.dirname, 'results')
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n')
  console.table(rows)
  console.log(`labels: 1000 in ${result.labels.appMs} ms vs bare qrcode ${result.labels.bareLibraryMs} ms → ratio ${result.labels.ratio}`)
  console.log(`peak RSS: ${result.peakRssMb} MB (server and load generator in one process)`)
  app.shutdown()
  server.close()
  await handle.close()
  fs.rmSync(dir, { recursive: true, force: true })
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
