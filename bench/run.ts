/**
 * npm run bench — the real server on a large demo agency, measured as ratios against baselines
 * taken in the same run (README "Performance"):
 *
 *  - pages and the API against /healthz on the same server (alternating runs: healthz, target,
 *    healthz, target…; the means), with p50/p99 latency and the server's peak memory per target;
 *  - one fiscal year's statistics (computeReport) against a cold `SELECT count(*) FROM loan_item`;
 *  - 1,000 labels through the label service against the bare `qrcode` library on the same codes.
 *
 *   npm run bench                          # full size: 20,000 assets, 500,000 loan items, five fiscal years
 *   npm run bench -- --scale small         # CI size (well under a minute); also BENCH_SCALE=small
 *   npm run bench -- --scale 0.25          # a quarter of full size
 *   npm run bench -- --profile             # the server runs with --cpu-prof (bench/.cache/profiles/)
 *   npm run bench -- --tsx                 # the server under tsx instead of transpiled JavaScript
 *   BENCH_DATABASE_URL=postgres://… npm run bench   # the same on PostgreSQL (issue 19), below
 *
 * Environment: BENCH_SCALE, BENCH_SEED (2568), BENCH_SECONDS (per run), BENCH_ROUNDS (alternations),
 * BENCH_CONNECTIONS (10), BENCH_RESULTS_DIR (default bench/results), BENCH_PROFILE=1, BENCH_NODE_FLAGS
 * (V8 flags for the server process, e.g. "--optimize-for-size"), BENCH_ONLY (targets to run, by name).
 * The server is bench/server.ts: serve() of server/main.ts in a child process (NODE_ENV=production),
 * on a copy of the cached dataset (bench/dataset.ts). autocannon runs here, in the parent.
 *
 * Also measured: write transactions per second of 8 concurrent writers (each a short write transaction
 * with its audit entry, as a request's) against one writer, on one handle as the server's requests share it.
 *
 * PostgreSQL: with BENCH_DATABASE_URL (a database on the server to connect to, by a role that may create
 * databases) the dataset, still built on SQLite and cached, is copied into a new database of that server
 * (C collation, migrated by the real migrations, db/copy.ts) and everything above runs on it: the server,
 * the statistics and their count(*) baseline, the labels, the anchor and the writers. The data folder
 * (keys, anchor log) stays in the run's temporary folder. The databases it makes are dropped at the end.
 * Results go to latest-postgresql.json (and a timestamped copy), never over the SQLite run's latest.json.
 *
 * Many agencies on one PostgreSQL server (issue 20) — one agency's writers against four agencies' at once,
 * and the QR page through the hosting front app — are bench/agencies.ts (a few seconds, no dataset):
 *   BENCH_DATABASE_URL=postgres://… npx tsx bench/agencies.ts
 */
import { fork, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import BetterSqlite3 from 'better-sqlite3'
import { sql } from 'kysely'
import QRCode from 'qrcode'
import pg from 'pg'
import { pino } from 'pino'
import { type AnyOpenDb, openDb, openPostgres, writeTransaction } from '../db/connection.js'
import { copySqliteToPostgres } from '../db/copy.js'
import { systemClock } from '../server/clock.js'
import { loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { bangkokDate, fiscalYearOf } from '../server/i18n/calendar.js'
import { computeReport } from '../server/services/report.service.js'
import { append as appendAudit, CLI_ACTOR, verifyAudit, verifyChain } from '../server/services/audit.service.js'
import { AuditAnchor, startAnchoring, stopAnchoring } from '../server/services/audit-anchor.service.js'
import { labelSheet, QR_ERROR_CORRECTION, QR_QUIET_ZONE, qrUrl } from '../server/services/label.service.js'
import { BENCH_USER, CACHE_DIR, dataset, parseScale } from './dataset.js'
import { signInCookie } from './sign-in.js'

const PUBLIC_BASE_URL = 'https://yk.example.go.th'

interface Shot {
  rps: number
  p50: number
  p99: number
  requests: number
  errors: number
}

export interface HttpResult {
  target: string
  path: string
  rps: number
  p50Ms: number
  p99Ms: number
  requests: number
  errors: number
  /** Server CPU time per request (user + system), ms. */
  cpuMsPerRequest: number
  healthzRps: number
  healthzCpuMsPerRequest: number
  ratioToHealthz: number
  peakRssMb: number
}

export interface BenchResult {
  at: string
  /** Which database the run measured: SQLite (the default) or PostgreSQL (BENCH_DATABASE_URL). */
  database: 'sqlite' | 'postgresql'
  /** PostgreSQL only: the server's version and the copy of the dataset into it. */
  postgres?: { version: string; copiedRows: number; copySeconds: number }
  node: string
  platform: string
  cpus: number
  cpuModel: string
  scale: string
  seed: number
  dataset: { assets: number; loans: number; loanItems: number; fiscalYears: number[]; cached: boolean; buildSeconds: number; day: string }
  secondsPerRun: number
  rounds: number
  connections: number
  serverFlags: string[]
  http: HttpResult[]
  /**
   * computeReportMs: the year's report as the app answers it (an ended year's figures are kept, report.service
   * "KEPT FIGURES"); recomputeMs: the same after the kept figures were dropped, as after a write dated in that year.
   */
  report: {
    fiscalYear: number
    loanItems: number
    computeReportMs: number
    countScanMs: number
    ratio: number
    recomputeMs: number
    recomputeRatio: number
    runs: number
  }
  labels: { count: number; serviceMs: number; bareLibraryMs: number; ratio: number; runs: number }
  /**
   * The audit anchor (issue 13): a write transaction with its audit entry, committed with and without the
   * anchor line written after it; and verifying the whole chain against the anchor log ÷ the chain alone.
   */
  anchor: {
    commits: number
    plainCommitMs: number
    anchoredCommitMs: number
    commitRatio: number
    entries: number
    anchorLines: number
    chainVerifyMs: number
    anchoredVerifyMs: number
    verifyRatio: number
  }
  /**
   * Concurrent writers (issue 19): `writers` async loops on one database handle, as the server's requests
   * share it, each running short write transactions (one audit entry each, no anchor) for `seconds`,
   * against one loop alone, alternating `rounds` times; tx/s are the means. Every commit is checked
   * afterwards: the audit chain grew by exactly the committed count and verifies.
   */
  writers: { writers: number; seconds: number; rounds: number; oneWriterTps: number; tps: number; ratio: number; committed: number; errors: number }
  peakRssMb: number
  memorySource: 'VmHWM' | 'sampled'
  targets: Array<{ name: string; value: number; limit: string; met: boolean }>
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
const round = (x: number, digits = 3) => Number(x.toFixed(digits))

// ---------------------------------------------------------------- the server process

interface Server {
  child: ChildProcess
  base: string
  /** Peak RSS in bytes since the last reset (VmHWM, or the child's own sampling), then resets it. */
  peakAndReset(): Promise<number>
  /** The server's CPU time so far (user + system), in ms: CPU per request holds up on a busy machine where req/s does not. */
  cpuMs(): Promise<number>
  stop(): Promise<void>
  memorySource: 'VmHWM' | 'sampled'
}

const ROOT = path.resolve(import.meta.dirname, '..')
/** Per run, so that two runs (a test and a person) never share one. */
const BUILD_DIR = path.join(CACHE_DIR, `build-${process.pid}`)

/**
 * The server as `npm start` runs it — plain node on JavaScript — rather than under tsx, whose
 * loader alone holds some 50 MB: server/, db/ and bench/server.ts transpiled (no type check) by
 * esbuild into bench/.cache/build-<pid>/ (removed after the run). paths.ts finds the project root from there.
 */
let built: Promise<string> | undefined
function buildServer(): Promise<string> {
  built ??= transpileServer()
  return built
}

async function transpileServer(): Promise<string> {
  const { build } = await import('esbuild')
  const outdir = BUILD_DIR
  const files = ['server', 'db'].flatMap((d) =>
    (fs.readdirSync(path.join(ROOT, d), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(ROOT, d, f)),
  )
  fs.rmSync(outdir, { recursive: true, force: true })
  await build({
    entryPoints: [...files, path.join(ROOT, 'bench', 'server.ts')],
    outdir,
    outbase: ROOT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'error',
  })
  return path.join(outdir, 'bench', 'server.js')
}

async function startServer(dbFile: string, profileDir: string | undefined, useTsx: boolean, databaseUrl?: string): Promise<Server> {
  // esbuild comes with tsx; without it the server runs under tsx (and carries its loader's memory).
  if (!useTsx)
    useTsx = !(await buildServer().then(
      () => true,
      () => false,
    ))
  const entry = useTsx ? path.join(import.meta.dirname, 'server.ts') : await buildServer()
  // BENCH_NODE_FLAGS: V8 flags for the server only; by default those `npm start` uses (README "Performance").
  const flags = serverNodeFlags()
  const execArgv = [...(useTsx ? ['--import', 'tsx'] : []), ...flags, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])]
  // The database: DATABASE_URL on PostgreSQL (dbFile's folder is still the data folder), else the file; never one inherited from the shell.
  const { DATABASE_URL: _inherited, ...env } = process.env
  const child = fork(entry, [], {
    execArgv,
    env: {
      ...env,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      NODE_ENV: 'production',
      DATABASE_PATH: dbFile,
      ATTACHMENTS_DIR: path.join(path.dirname(dbFile), 'attachments'),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      PUBLIC_BASE_URL,
      SESSION_SECRET: 'bench-secret-bench-secret-bench-secret',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const base = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`bench server exited (${code}) before listening`))
    child.once('exit', onExit)
    child.on('message', (m: { type: string; url?: string }) => {
      if (m.type === 'listening' && m.url) {
        child.off('exit', onExit)
        resolve(m.url.replace('localhost', '127.0.0.1'))
      }
    })
  })
  const pid = child.pid!
  const status = `/proc/${pid}/status`
  // Linux: VmHWM is the process's peak RSS since it started (writing 5 to clear_refs resets it).
  let hwm = false
  try {
    fs.accessSync(`/proc/${pid}/clear_refs`, fs.constants.W_OK)
    hwm = /VmHWM:\s+\d+/.test(fs.readFileSync(status, 'utf8'))
  } catch {
    hwm = false
  }
  const ask = (reset: boolean) =>
    new Promise<{ rss: number; peak: number; cpuMs: number }>((resolve) => {
      const on = (m: { type: string; rss: number; peak: number; cpuMs: number }) => {
        if (m.type !== 'memory') return
        child.off('message', on)
        resolve(m)
      }
      child.on('message', on)
      child.send({ type: 'memory', reset })
    })
  return {
    child,
    base,
    memorySource: hwm ? 'VmHWM' : 'sampled',
    async cpuMs() {
      return (await ask(false)).cpuMs
    },
    async peakAndReset() {
      const sampled = await ask(true)
      if (!hwm) return sampled.peak
      const kb = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(status, 'utf8'))![1])
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5')
      return kb * 1024
    },
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.send({ type: 'stop' })
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}

async function signIn(base: string): Promise<{ cookie: string; token: string }> {
  const cookie = await signInCookie(base, BENCH_USER)
  const res = await fetch(`${base}/api/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: BENCH_USER.username, password: BENCH_USER.password, name: 'bench' }),
  })
  if (!res.ok) throw new Error(`token failed: ${res.status} ${await res.text()}`)
  const token = ((await res.json()) as { token: string }).token
  return { cookie, token }
}

async function shoot(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<Shot> {
  const r = await autocannon({ url, connections, duration: seconds, headers })
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, errors: r.errors + r.timeouts + r.non2xx }
}

// ---------------------------------------------------------------- in-process measurements

/** The app's context on the file, or on PostgreSQL when `databaseUrl` is given (the file's folder still the data folder). */
function ctxFor(file: string, databaseUrl?: string): { ctx: AppContext; close: () => Promise<void> } {
  const handle: AnyOpenDb = databaseUrl ? openPostgres(databaseUrl) : openDb(file)
  const config = loadConfig({
    NODE_ENV: 'production',
    DATABASE_PATH: file,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    PUBLIC_BASE_URL,
    LOG_LEVEL: 'silent',
  })
  return { ctx: { db: handle.db, clock: systemClock, config, logger: pino({ level: 'silent' }) }, close: () => handle.close() }
}

/**
 * The PostgreSQL server of BENCH_DATABASE_URL: databases made for the run (C collation, as the README
 * asks) and dropped at its end.
 */
class PgServer {
  readonly #made = new Set<string>()
  #admin: pg.Client | undefined
  constructor(private readonly url: string) {}

  async admin(): Promise<pg.Client> {
    if (!this.#admin) {
      this.#admin = new pg.Client(this.url)
      await this.#admin.connect()
      this.#admin.on('error', () => undefined)
    }
    return this.#admin
  }

  urlOf(name: string): string {
    const u = new URL(this.url)
    u.pathname = `/${name}`
    return u.toString()
  }

  /** A new database: empty (template0, C collation) or a copy of `template` (no connection may be open on it). */
  async create(name: string, template?: string): Promise<string> {
    const c = await this.admin()
    await c.query(`DROP DATABASE IF EXISTS ${name}`)
    this.#made.add(name)
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(
          template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`,
        )
        return this.urlOf(name)
      } catch (e) {
        // A server just stopped may leave its backends a moment: "source database … is being accessed by other users".
        if ((e as { code?: string }).code !== '55006' || attempt >= 50) throw e
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }

  async drop(name: string): Promise<void> {
    const c = await this.admin()
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    this.#made.delete(name)
  }

  async version(): Promise<string> {
    return String((await (await this.admin()).query('SHOW server_version')).rows[0].server_version)
  }

  async close(): Promise<void> {
    for (const name of [...this.#made]) await this.drop(name).catch(() => undefined)
    await this.#admin?.end().catch(() => undefined)
    this.#admin = undefined
  }
}

let pgServer: PgServer | undefined

/** A scratch copy of the run's database for a measurement that writes: a file beside it, or a database copied from it. */
async function scratchCopy(
  file: string,
  suffix: string,
  databaseUrl: string | undefined,
): Promise<{ file: string; databaseUrl?: string; drop(): Promise<void> }> {
  const copy = `${file}.${suffix}.db`
  fs.copyFileSync(file, copy)
  const dropFile = () => {
    for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) fs.rmSync(f, { force: true })
  }
  if (!databaseUrl || !pgServer) return { file: copy, drop: async () => dropFile() }
  const name = `${new URL(databaseUrl).pathname.slice(1)}_${suffix}`
  const url = await pgServer.create(name, new URL(databaseUrl).pathname.slice(1))
  return {
    file: copy,
    databaseUrl: url,
    async drop() {
      dropFile()
      await pgServer?.drop(name)
    },
  }
}

/**
 * Each measurement on a fresh connection (a cold page cache of SQLite's own; the OS's may be warm):
 * the count(*) scan, the report recomputed from the loans (kept figures dropped first), and the
 * report as served afterwards (from the figures that computation kept).
 */
async function reportTiming(file: string, fiscalYear: number, runs: number, databaseUrl?: string) {
  const scan: number[] = []
  const recompute: number[] = []
  const served: number[] = []
  let loanItems = 0
  const timed = async (into: number[]) => {
    const { ctx, close } = ctxFor(file, databaseUrl)
    // PostgreSQL: the connection is made before the clock starts (SQLite opens its file synchronously).
    if (databaseUrl) await sql`SELECT 1`.execute(ctx.db)
    const t = performance.now()
    const r = await computeReport(ctx, { fiscalYear, period: 'year' })
    into.push(performance.now() - t)
    await close()
    return r
  }
  for (let i = 0; i < runs; i++) {
    if (databaseUrl) {
      // PostgreSQL: a new connection (its server's buffers stay warm, as the OS's page cache may for SQLite).
      const c = new pg.Client(databaseUrl)
      await c.connect()
      const t = performance.now()
      loanItems = Number((await c.query('SELECT count(*) AS n FROM loan_item')).rows[0].n)
      scan.push(performance.now() - t)
      await c.query('DELETE FROM report_kept')
      await c.end()
    } else {
      const raw = new BetterSqlite3(file)
      const t = performance.now()
      loanItems = (raw.prepare('SELECT count(*) AS n FROM loan_item').get() as { n: number }).n
      scan.push(performance.now() - t)
      raw.prepare('DELETE FROM report_kept').run()
      raw.close()
    }
    const fresh = await timed(recompute)
    const kept = await timed(served)
    if (JSON.stringify({ ...kept, generatedAt: '' }) !== JSON.stringify({ ...fresh, generatedAt: '' }))
      throw new Error('the kept report differs from the recomputed one')
  }
  const m = median(scan)
  return {
    fiscalYear,
    loanItems,
    computeReportMs: round(median(served), 1),
    countScanMs: round(m, 2),
    ratio: round(median(served) / m, 2),
    recomputeMs: round(median(recompute), 1),
    recomputeRatio: round(median(recompute) / m, 2),
    runs,
  }
}

async function labelTiming(file: string, runs: number, databaseUrl?: string) {
  const { ctx, close } = ctxFor(file, databaseUrl)
  const rows = (await ctx.db.selectFrom('asset').select(['id', 'code']).orderBy('id', 'desc').limit(1000).execute()).reverse()
  const ids = rows.map((r) => r.id)
  const urls = rows.map((r) => qrUrl(PUBLIC_BASE_URL, r.code))
  const service: number[] = []
  const bare: number[] = []
  // One warm-up each (JIT, the first QR version tables), then alternating timed runs.
  await labelSheet(ctx, { ids }, { layout: '3x8' })
  for (const u of urls.slice(0, 50)) await QRCode.toString(u, { type: 'svg', errorCorrectionLevel: QR_ERROR_CORRECTION, margin: QR_QUIET_ZONE })
  for (let i = 0; i < runs; i++) {
    let t = performance.now()
    for (const u of urls) await QRCode.toString(u, { type: 'svg', errorCorrectionLevel: QR_ERROR_CORRECTION, margin: QR_QUIET_ZONE })
    bare.push(performance.now() - t)
    t = performance.now()
    const sheet = await labelSheet(ctx, { ids }, { layout: '3x8' })
    service.push(performance.now() - t)
    if (sheet.count !== ids.length) throw new Error(`label sheet made ${sheet.count} labels, expected ${ids.length}`)
  }
  await close()
  return {
    count: ids.length,
    serviceMs: round(median(service), 1),
    bareLibraryMs: round(median(bare), 1),
    ratio: round(median(service) / median(bare), 2),
    runs,
  }
}

/**
 * The anchor's cost on a copy of the benchmark database: `commits` write transactions (each one audit
 * entry) alternately without and with the anchor, then a full verification with the anchor log those
 * writes and the start line made ÷ the chain walk alone.
 */
async function anchorTiming(file: string, rounds: number, commits: number, databaseUrl?: string) {
  const scratch = await scratchCopy(file, 'anchor', databaseUrl)
  const copy = scratch.file
  const anchor = new AuditAnchor(`${copy}.audit-anchor.log`, 'bench-anchor-key-0123456789abcdef')
  const { ctx, close } = ctxFor(copy, scratch.databaseUrl)
  const commitMs = async (): Promise<number> => {
    const t = performance.now()
    for (let i = 0; i < commits; i++) {
      await writeTransaction(ctx.db, (trx) => appendAudit(trx, ctx.clock, CLI_ACTOR, { action: 'bench.write', entity: 'bench', entityId: i, data: { i } }))
    }
    return (performance.now() - t) / commits
  }
  const plain: number[] = []
  const anchored: number[] = []
  await commitMs() // warm-up
  await startAnchoring(ctx.db, anchor, ctx.clock)
  for (let r = 0; r < rounds; r++) {
    stopAnchoring(ctx.db)
    plain.push(await commitMs())
    await startAnchoring(ctx.db, anchor, ctx.clock)
    anchored.push(await commitMs())
  }
  stopAnchoring(ctx.db)
  const chainRuns: number[] = []
  const fullRuns: number[] = []
  let entries = 0
  for (let r = 0; r < Math.max(2, rounds); r++) {
    let t = performance.now()
    entries = (await verifyChain(ctx.db)).entries
    chainRuns.push(performance.now() - t)
    t = performance.now()
    const v = await verifyAudit(ctx.db, anchor)
    fullRuns.push(performance.now() - t)
    if (v.problems.some((p) => p.code !== 'report_hash_not_audited' && p.code !== 'report_hash_mismatch'))
      throw new Error(`anchor verification found ${JSON.stringify(v.problems)}`)
  }
  const anchorLines = anchor.read().records.length
  await close()
  await scratch.drop()
  fs.rmSync(anchor.file, { force: true })
  return {
    commits,
    plainCommitMs: round(median(plain), 3),
    anchoredCommitMs: round(median(anchored), 3),
    commitRatio: round(median(anchored) / median(plain), 2),
    entries,
    anchorLines,
    chainVerifyMs: round(median(chainRuns), 1),
    anchoredVerifyMs: round(median(fullRuns), 1),
    verifyRatio: round(median(fullRuns) / median(chainRuns), 2),
  }
}

/**
 * Concurrent writers (issue 19) on a scratch copy: `writers` async loops on one handle — as the server's
 * concurrent requests share its handle: one connection behind a mutex on SQLite, a pool with the
 * per-agency advisory lock on PostgreSQL — each committing short write transactions (one audit entry:
 * read the chain's head, insert the next) for `seconds`; against one loop alone, alternately. Afterwards
 * the chain must verify and have grown by exactly the commits counted: no write lost, none doubled.
 */
async function writersTiming(file: string, seconds: number, rounds: number, writers: number, databaseUrl?: string) {
  const scratch = await scratchCopy(file, 'writers', databaseUrl)
  const { ctx, close } = ctxFor(scratch.file, scratch.databaseUrl)
  let committed = 0
  let errors = 0
  let firstError: unknown
  const run = async (loops: number, ms: number): Promise<number> => {
    let done = 0
    const t0 = performance.now()
    const until = t0 + ms
    await Promise.all(
      Array.from({ length: loops }, async (_, w) => {
        while (performance.now() < until) {
          try {
            await writeTransaction(ctx.db, (trx) =>
              appendAudit(trx, ctx.clock, CLI_ACTOR, { action: 'bench.writer', entity: 'bench', entityId: w, data: { writer: w, n: done } }),
            )
            done++
          } catch (e) {
            errors++
            firstError ??= e
          }
        }
      }),
    )
    committed += done
    return done / ((performance.now() - t0) / 1000)
  }
  try {
    const before = (await verifyChain(ctx.db)).entries
    await run(writers, 200) // warm-up: the pool's connections, the JIT
    const one: number[] = []
    const many: number[] = []
    for (let r = 0; r < rounds; r++) {
      one.push(await run(1, seconds * 1000))
      many.push(await run(writers, seconds * 1000))
    }
    const chain = await verifyChain(ctx.db)
    if (!chain.ok) throw new Error(`the audit chain does not verify after the writers: ${JSON.stringify(chain).slice(0, 300)}`)
    if (chain.entries - before !== committed) throw new Error(`${committed} commits counted, the audit chain grew by ${chain.entries - before}`)
    if (errors > 0) process.stderr.write(`writers: ${errors} transactions failed, the first: ${String(firstError)}\n`)
    return {
      writers,
      seconds,
      rounds,
      oneWriterTps: round(mean(one), 1),
      tps: round(mean(many), 1),
      ratio: round(mean(many) / mean(one), 2),
      committed,
      errors,
    }
  } finally {
    await close()
    await scratch.drop()
  }
}

// ---------------------------------------------------------------- the run

function targetTable(r: BenchResult): BenchResult['targets'] {
  const qr = r.http.find((h) => h.target === 'QR resolver page')
  return [
    ...(qr ? [{ name: 'QR page throughput ÷ /healthz', value: qr.ratioToHealthz, limit: '≥ 0.5', met: qr.ratioToHealthz >= 0.5 }] : []),
    { name: 'year statistics ÷ count(*) scan', value: r.report.ratio, limit: '≤ 3', met: r.report.ratio <= 3 },
    { name: '1,000 labels ÷ bare qrcode', value: r.labels.ratio, limit: '≤ 2', met: r.labels.ratio <= 2 },
    { name: 'commit with audit anchor ÷ without', value: r.anchor.commitRatio, limit: '≤ 1.5', met: r.anchor.commitRatio <= 1.5 },
    { name: 'server peak memory (MB)', value: r.peakRssMb, limit: '≤ 200', met: r.peakRssMb <= 200 },
  ]
}

/** The server's V8 flags: BENCH_NODE_FLAGS, else the ones `npm start` runs with (package.json). */
function serverNodeFlags(): string[] {
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean)
  const start = (JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } }).scripts.start
  return start.split(/\s+/).filter((w) => w.startsWith('--'))
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      scale: { type: 'string' },
      seed: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      profile: { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
    },
  })
  const scale = parseScale(values.scale ?? process.env.BENCH_SCALE)
  const small = scale.name === 'small'
  const seed = Number(values.seed ?? process.env.BENCH_SEED ?? 2568)
  const seconds = Number(values.seconds ?? process.env.BENCH_SECONDS ?? (small ? 1 : 5))
  const rounds = Number(values.rounds ?? process.env.BENCH_ROUNDS ?? (small ? 1 : 3))
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 10)
  const profile = values.profile || process.env.BENCH_PROFILE === '1'
  const resultsDir = path.resolve(process.env.BENCH_RESULTS_DIR ?? path.join(import.meta.dirname, 'results'))
  const say = (l: string) => process.stdout.write(`${l}\n`)

  const data = await dataset(scale, seed, say)
  say(
    `dataset ${path.basename(data.file)}${data.cached ? ' (cached)' : ` (built in ${data.buildSeconds.toFixed(1)} s)`}: ${data.summary.assets} assets, ${data.summary.loans} loans, ${data.summary.loanItems} loan items`,
  )

  // A copy per run: sessions and tokens written by the run never reach the cache.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-bench-'))
  const file = path.join(work, 'bench.db')
  fs.copyFileSync(data.file, file)

  // PostgreSQL (BENCH_DATABASE_URL): the copy's rows go into a new database, and everything below runs there.
  const pgUrl = process.env.BENCH_DATABASE_URL || undefined
  let databaseUrl: string | undefined
  let postgres: BenchResult['postgres']
  if (pgUrl) {
    pgServer = new PgServer(pgUrl)
    databaseUrl = await pgServer.create(`yk_bench_${process.pid}`)
    const t0 = performance.now()
    const source = openDb(file)
    const target = openPostgres(databaseUrl)
    try {
      say(`copying the dataset into PostgreSQL ${await pgServer.version()} (${new URL(databaseUrl).pathname.slice(1)})…`)
      const copied = await copySqliteToPostgres(source, target.db)
      // What autovacuum does to a database that has run a while (the visibility map: index-only scans).
      await sql`VACUUM`.execute(target.db)
      postgres = { version: await pgServer.version(), copiedRows: copied.rows, copySeconds: round((performance.now() - t0) / 1000, 1) }
      say(`  ${copied.rows} rows in ${postgres.copySeconds} s`)
    } finally {
      await source.close()
      await target.close()
    }
  }
  const database: BenchResult['database'] = databaseUrl ? 'postgresql' : 'sqlite'

  const today = bangkokDate(new Date())
  const currentFy = fiscalYearOf(today)
  const reportFy = currentFy - 1 // the last complete fiscal year
  const probe = new BetterSqlite3(file, { readonly: true })
  // The QR page of the asset lent most often: the longest history a label can open.
  const qrCode = (
    probe.prepare('SELECT a.code FROM asset a JOIN loan_item li ON li.asset_id = a.id GROUP BY a.id ORDER BY count(*) DESC, a.id LIMIT 1').get() as {
      code: string
    }
  ).code
  probe.close()

  const profileDir = profile ? path.join(CACHE_DIR, 'profiles') : undefined
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true })
  // A fresh server per target, so that each peak is that page's own (V8 keeps a heap it grew);
  // sessions live in the database, so one sign-in serves them all.
  const useTsx = values.tsx === true
  const http: HttpResult[] = []
  let peakRss = 0
  let memorySource: 'VmHWM' | 'sampled' = 'sampled'
  const first = await startServer(file, profileDir, useTsx, databaseUrl)
  const { cookie, token } = await signIn(first.base).finally(() => first.stop())
  const weekAgo = new Date(Date.parse(`${today}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10)
  const targets: Array<{ name: string; path: string; headers: Record<string, string> }> = [
    { name: 'QR resolver page', path: `/q/${encodeURIComponent(qrCode)}`, headers: { cookie } },
    { name: 'dashboard', path: '/', headers: { cookie } },
    // The register prints every line of its period, unpaged: the last seven days (at full size a month
    // is an 8 MB page and a fiscal year some 40,000 loans; README "Performance").
    { name: 'register page', path: `/register?period=range&from=${weekAgo}&to=${today}`, headers: { cookie } },
    { name: 'report page', path: `/reports?fy=${reportFy}`, headers: { cookie } },
    { name: 'report API', path: `/api/v1/reports/fiscal-years/${reportFy}`, headers: { authorization: `Bearer ${token}` } },
  ]
  // BENCH_ONLY=qr,dashboard narrows the run to matching targets (for profiling; its JSON goes to bench/.cache/partial/).
  const only = (process.env.BENCH_ONLY ?? '').toLowerCase().split(',').filter(Boolean)
  for (const t of targets.filter((x) => only.length === 0 || only.some((o) => x.name.toLowerCase().includes(o)))) {
    const server = await startServer(file, profileDir, useTsx, databaseUrl)
    memorySource = server.memorySource
    try {
      // One request first, so that a broken target fails loudly rather than measuring error pages.
      const firstAnswer = await fetch(`${server.base}${t.path}`, { headers: t.headers, redirect: 'manual' })
      if (firstAnswer.status !== 200) throw new Error(`${t.name} ${t.path} answered ${firstAnswer.status}`)
      await firstAnswer.arrayBuffer()
      const health: Shot[] = []
      const page: Shot[] = []
      let healthCpu = 0
      let pageCpu = 0
      for (let i = 0; i < rounds; i++) {
        let c0 = await server.cpuMs()
        health.push(await shoot(`${server.base}/healthz`, {}, seconds, connections))
        let c1 = await server.cpuMs()
        healthCpu += c1 - c0
        c0 = c1
        page.push(await shoot(`${server.base}${t.path}`, t.headers, seconds, connections))
        c1 = await server.cpuMs()
        pageCpu += c1 - c0
      }
      const peak = await server.peakAndReset()
      peakRss = Math.max(peakRss, peak)
      const row: HttpResult = {
        target: t.name,
        path: t.path,
        rps: round(mean(page.map((s) => s.rps)), 1),
        p50Ms: round(mean(page.map((s) => s.p50)), 1),
        p99Ms: round(mean(page.map((s) => s.p99)), 1),
        requests: page.reduce((s, x) => s + x.requests, 0),
        errors: page.reduce((s, x) => s + x.errors, 0),
        cpuMsPerRequest: round(
          pageCpu /
            Math.max(
              1,
              page.reduce((s, x) => s + x.requests, 0),
            ),
          3,
        ),
        healthzCpuMsPerRequest: round(
          healthCpu /
            Math.max(
              1,
              health.reduce((s, x) => s + x.requests, 0),
            ),
          3,
        ),
        healthzRps: round(mean(health.map((s) => s.rps)), 1),
        ratioToHealthz: round(mean(page.map((s) => s.rps)) / mean(health.map((s) => s.rps))),
        peakRssMb: round(peak / 1024 / 1024, 1),
      }
      http.push(row)
      say(
        `  ${t.name.padEnd(18)} ${String(row.rps).padStart(8)} req/s  p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  ÷healthz ${row.ratioToHealthz}  cpu/req ${row.cpuMsPerRequest} ms (healthz ${row.healthzCpuMsPerRequest})  peak ${row.peakRssMb} MB`,
      )
    } finally {
      await server.stop()
    }
  }

  fs.rmSync(BUILD_DIR, { recursive: true, force: true })
  say('  year statistics and labels…')
  const report = await reportTiming(file, reportFy, small ? 3 : 5, databaseUrl)
  const labels = await labelTiming(file, small ? 2 : 5, databaseUrl)
  say('  audit anchor…')
  const anchor = await anchorTiming(file, small ? 2 : 5, small ? 300 : 2000, databaseUrl)
  say(
    `  commit ${anchor.plainCommitMs} ms, with anchor ${anchor.anchoredCommitMs} ms (×${anchor.commitRatio}); verify ${anchor.entries} entries ${anchor.chainVerifyMs} ms, against ${anchor.anchorLines} anchor lines ${anchor.anchoredVerifyMs} ms (×${anchor.verifyRatio})`,
  )
  say('  concurrent writers…')
  const writers = await writersTiming(file, seconds, rounds, 8, databaseUrl)
  say(`  ${writers.writers} writers ${writers.tps} tx/s, one writer ${writers.oneWriterTps} tx/s (×${writers.ratio}); ${writers.errors} failed`)
  fs.rmSync(work, { recursive: true, force: true })
  await pgServer?.close()

  const result: BenchResult = {
    at: new Date().toISOString(),
    database,
    ...(postgres ? { postgres } : {}),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    scale: scale.name,
    seed,
    dataset: {
      assets: data.summary.assets,
      loans: data.summary.loans,
      loanItems: data.summary.loanItems,
      fiscalYears: data.summary.fiscalYears,
      cached: data.cached,
      buildSeconds: data.buildSeconds,
      day: data.summary.day,
    },
    secondsPerRun: seconds,
    rounds,
    connections,
    serverFlags: serverNodeFlags(),
    http,
    report,
    labels,
    anchor,
    writers,
    peakRssMb: round(peakRss / 1024 / 1024, 1),
    memorySource,
    targets: [],
  }
  result.targets = targetTable(result)

  // A run narrowed by BENCH_ONLY lacks targets: it goes to bench/.cache/partial/, never over latest.json.
  // A PostgreSQL run is named so (latest-postgresql.json): the SQLite run's latest.json stays what it was.
  const outDir = only.length > 0 ? path.join(CACHE_DIR, 'partial') : resultsDir
  const suffix = database === 'postgresql' ? '-postgresql' : ''
  const latest = path.join(resultsDir, `latest${suffix}.json`)
  fs.mkdirSync(outDir, { recursive: true })
  const json = `${JSON.stringify(result, null, 2)}\n`
  const stamped = path.join(outDir, `${result.at.replace(/[:.]/g, '-')}${suffix}.json`)
  fs.writeFileSync(stamped, json)
  if (only.length === 0) fs.writeFileSync(latest, json)

  console.table(
    http.map((h) => ({
      target: h.target,
      'req/s': h.rps,
      'p50 ms': h.p50Ms,
      'p99 ms': h.p99Ms,
      errors: h.errors,
      'cpu ms/req': h.cpuMsPerRequest,
      '÷ healthz': h.ratioToHealthz,
      'peak MB': h.peakRssMb,
    })),
  )
  say(
    `year ${report.fiscalYear} statistics: ${report.computeReportMs} ms as served (kept), ${report.recomputeMs} ms recomputed, vs count(*) over ${report.loanItems} loan items ${report.countScanMs} ms → ${report.ratio}× (recomputed ${report.recomputeRatio}×)`,
  )
  say(`labels: ${labels.count} in ${labels.serviceMs} ms vs bare qrcode ${labels.bareLibraryMs} ms → ${labels.ratio}×`)
  say(`${writers.writers} concurrent writers: ${writers.tps} tx/s vs one writer ${writers.oneWriterTps} tx/s → ${writers.ratio}×`)
  say(`server peak memory: ${result.peakRssMb} MB (${result.memorySource})${database === 'postgresql' ? ' — the app server only, not PostgreSQL' : ''}`)
  console.table(result.targets)
  if (profileDir) say(`CPU profile(s) in ${profileDir}`)
  say(`results: ${only.length > 0 ? stamped : latest}`)
}

main().catch(async (e: unknown) => {
  fs.rmSync(BUILD_DIR, { recursive: true, force: true })
  console.error(e)
  await pgServer?.close().catch(() => undefined)
  process.exit(1)
})
