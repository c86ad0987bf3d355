import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { openDb } from '../../db/connection.js'
import { verifyChain } from '../../server/services/audit.service.js'
import type { BenchResult } from '../../bench/run.js'
import { onPostgres, query, testDatabaseUrl } from '../helpers/db.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const run = promisify(execFile)

/**
 * The benchmark at its CI size: it must produce every measurement, each a sane number. The
 * targets (README "Performance") are not asserted here, nor any wall-clock time. On the PostgreSQL
 * pass it measures on the test server (BENCH_DATABASE_URL: the dataset copied in), as
 * `BENCH_DATABASE_URL=… npm run bench` does, and writes latest-postgresql.json.
 */
const LATEST = onPostgres ? 'latest-postgresql.json' : 'latest.json'

describe('npm run bench at the small scale (bench/run.ts)', function () {
  this.timeout(240_000)
  let dir: string
  let result: BenchResult
  let dbFile: string

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-bench-test-'))
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--scale', 'small'], {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_RESULTS_DIR: dir,
        BENCH_SECONDS: '1',
        BENCH_ROUNDS: '1',
        BENCH_ONLY: '',
        BENCH_PROFILE: '',
        BENCH_DATABASE_URL: testDatabaseUrl ?? '',
      },
      maxBuffer: 10 * 1024 * 1024,
    })
    result = JSON.parse(fs.readFileSync(path.join(dir, LATEST), 'utf8')) as BenchResult
    dbFile = /dataset (bench-small-[^ ]+\.db)/.exec(stdout)![1]!
  })
  after(() => fs.rmSync(dir, { recursive: true, force: true }))

  it(`when run, then it writes ${LATEST} and a timestamped copy with the same content`, () => {
    const files = fs.readdirSync(dir).sort()
    expect(files).to.have.length(2)
    expect(files).to.include(LATEST)
    const other = files.find((f) => f !== LATEST)!
    expect(other).to.match(onPostgres ? /^\d{4}-\d{2}-\d{2}T.*-postgresql\.json$/ : /^\d{4}-\d{2}-\d{2}T.*\.json$/)
    expect(fs.readFileSync(path.join(dir, other), 'utf8')).to.equal(fs.readFileSync(path.join(dir, LATEST), 'utf8'))
    expect(result.database).to.equal(onPostgres ? 'postgresql' : 'sqlite')
  })

  it('when run, then every page and the API has throughput, latency, CPU, memory and its ratio to /healthz, without errors', () => {
    expect(result.http.map((h) => h.target)).to.deep.equal(['QR resolver page', 'dashboard', 'register page', 'report page', 'report API'])
    for (const h of result.http) {
      for (const k of [
        'rps',
        'p50Ms',
        'p99Ms',
        'requests',
        'cpuMsPerRequest',
        'healthzRps',
        'healthzCpuMsPerRequest',
        'ratioToHealthz',
        'peakRssMb',
      ] as const) {
        expect(h[k], `${h.target} ${k}`).to.be.a('number').and.greaterThan(0)
      }
      expect(h.errors, `${h.target} errors`).to.equal(0)
      expect(h.p99Ms, `${h.target} p99 ≥ p50`).to.be.at.least(h.p50Ms)
    }
    expect(result.http[0]!.path).to.match(/^\/q\//)
    expect(result.http[4]!.path).to.match(/^\/api\/v1\/reports\/fiscal-years\/25\d\d$/)
  })

  it('when run, then the audit anchor is timed: commits with and without it, and verification against it', () => {
    const a = result.anchor
    expect(a.commits).to.be.greaterThan(0)
    for (const k of ['plainCommitMs', 'anchoredCommitMs', 'commitRatio', 'chainVerifyMs', 'anchoredVerifyMs', 'verifyRatio'] as const)
      expect(a[k], k).to.be.greaterThan(0)
    expect(a.anchorLines, 'one line per anchored commit and the start line').to.be.greaterThan(a.commits)
    expect(result.targets.map((t) => t.name)).to.include('commit with audit anchor ÷ without')
  })

  it('when run, then the year statistics, the count(*) scan, the labels and the bare library are all timed', () => {
    expect(result.report.loanItems).to.be.at.least(10_000)
    for (const k of ['computeReportMs', 'countScanMs', 'ratio', 'recomputeMs', 'recomputeRatio'] as const) expect(result.report[k], k).to.be.greaterThan(0)
    expect(result.labels.count).to.equal(1000)
    for (const k of ['serviceMs', 'bareLibraryMs', 'ratio'] as const) expect(result.labels[k], k).to.be.greaterThan(0)
    expect(result.peakRssMb).to.be.greaterThan(0)
    expect(result.peakRssMb).to.equal(Math.max(...result.http.map((h) => h.peakRssMb)))
    expect(result.targets.map((t) => t.name)).to.have.length(5)
    for (const t of result.targets) expect(t.value, t.name).to.be.greaterThan(0)
  })

  it('when the small dataset is built, then it spans five fiscal years with the demo agency and the bulk loans, consistent and with a verifying audit chain', async () => {
    expect(result.scale).to.equal('small')
    expect(result.dataset.fiscalYears).to.have.length(5)
    expect(result.dataset.assets).to.be.at.least(1000)
    expect(result.dataset.loanItems).to.be.at.least(10_000)
    const handle = openDb(path.join(ROOT, 'bench', '.cache', dbFile))
    try {
      // The bench's dataset is a SQLite file (bench/dataset.ts), whichever database the suite runs on.
      const one = async (q: string) => Number(await query(handle.db).value(q))
      // An asset is on loan exactly while some loan holds it.
      expect(
        await one(
          `SELECT count(*) FROM asset a WHERE (a.status = 'on_loan') <> EXISTS (SELECT 1 FROM loan_item li WHERE li.asset_id = a.id AND li.handed_over_at IS NOT NULL AND li.returned_at IS NULL)`,
        ),
      ).to.equal(0)
      // A returned loan's return date is its last item's; every loan number is below its year's counter.
      expect(
        await one(
          `SELECT count(*) FROM loan l WHERE l.status = 'returned' AND EXISTS (SELECT 1 FROM loan_item li WHERE li.loan_id = l.id) AND l.returned_on <> (SELECT max(returned_on) FROM loan_item WHERE loan_id = l.id)`,
        ),
      ).to.equal(0)
      expect(await one(`SELECT count(*) FROM loan l JOIN loan_number n ON n.fiscal_year = l.fiscal_year WHERE l.seq > n.last_seq`)).to.equal(0)
      expect(
        await one(`SELECT count(*) FROM loan l WHERE l.status IN ('on_loan', 'returned') AND (l.approved_at IS NULL OR l.handed_over_on IS NULL)`),
      ).to.equal(0)
      expect(
        await one(`SELECT count(*) FROM loan_item li JOIN loan_item lj ON lj.asset_id = li.asset_id AND lj.id > li.id
                   WHERE li.handed_over_at IS NOT NULL AND lj.handed_over_at IS NOT NULL
                     AND substr(lj.handed_over_at, 1, 10) < COALESCE(li.returned_on, '9999') AND substr(li.handed_over_at, 1, 10) < COALESCE(lj.returned_on, '9999')`),
      ).to.equal(0)
      expect((await verifyChain(handle.db)).ok).to.equal(true)
    } finally {
      await handle.close()
    }
  })
})
