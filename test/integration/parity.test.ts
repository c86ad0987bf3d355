import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { expect } from 'chai'
import { pino } from 'pino'
import supertest from 'supertest'
import { openDb, type OpenDb } from '../../db/connection.js'
import { migrateToLatest } from '../../db/migrator.js'
import { DEMO_PASSWORD, generateDemo, type DemoSummary } from '../../scripts/demo-data.js'
import { createApp, type App } from '../../server/app.js'
import { fixedClock } from '../../server/clock.js'
import { loadConfig } from '../../server/config.js'
import type { AppContext } from '../../server/context.js'
import { bangkokDate, fiscalYearRange } from '../../server/i18n/calendar.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { paperApprovalReview } from '../../server/services/loan-paper.service.js'
import { listLoans, loanActionCounts, loanQueues, myLoanLists } from '../../server/services/loan-query.service.js'
import { listPublications } from '../../server/services/publication.service.js'
import { loanRegister, loanRegisterCsv, parseRegisterQuery } from '../../server/services/register.service.js'
import { computeReport, REPORT_PERIODS } from '../../server/services/report.service.js'
import { getCurrentUser, type CurrentUser } from '../../server/services/user.service.js'
import { apiToken, signIn } from '../helpers/app.js'
import { createTestDb, onPostgres, query } from '../helpers/db.js'
import { Differences, diffJson, diffTable, diffText, postgresTables, sqliteTables, tableRows, type TableRule, type TableShape } from '../helpers/parity.js'

/*
 * The same figures on both databases (SPEC §7, issue 19). The demo agency is generated through the
 * real services once on a fresh SQLite database and once on a fresh PostgreSQL database, with the
 * same seed, scale and `now`; then every table, row and column, and every figure a person or another
 * system reads — statistics of each fiscal year and period, year-end figures, registers, dashboards,
 * the JSON API, the public transparency files — must be the same on both. A difference names the
 * table, row and column, or the path in the JSON, with both values.
 *
 * It needs both databases: it runs when TEST_DATABASE_URL is set (CI's PostgreSQL pass) and is
 * skipped on a plain SQLite run.
 *
 * Clock and randomness: the generator draws from its own seeded PRNG (mulberry32) and walks a fixed
 * clock of its own from `now`; the services read the context's clock. The wall clock is read by
 * the migrations only: the departments and categories they seed are stamped `new Date()` when the
 * database is migrated (db/migrations/…_foundation.ts, …_asset_register.ts), and the two databases
 * are migrated at different moments (PostgreSQL's template once per test process). Those stamps,
 * read from each database right after migrating, compare as one value "<migrated at>".
 */

const NOW = '2026-11-20T05:00:00.000Z' // 20 Nov 2026, noon in Bangkok: fiscal year 2570 has begun
const SEED = 2568
const SCALE = 0.15

/**
 * Columns random by design, left out: nothing else is. The scrypt hash's salt and key are random
 * (its algorithm and cost still compare); a stored scan's file name is random (its SHA-256, size and
 * name as uploaded compare). The generator makes no API tokens, sessions, import batches or claimed
 * mails, whose secrets, ids and sender names are random too; they would be listed here if it did.
 */
const RULES: Record<string, TableRule> = {
  app_user: { map: { password_hash: (v) => String(v).split('$').slice(0, 4).join('$') } },
  loan_attachment: { skip: { stored_name: 'a random name under the attachments folder (attachment.service.ts)' } },
}

const MIGRATED_AT = '<migrated at>'

/** The same random column as the services answer it (a loan's attachments in its view). */
const RANDOM_KEYS: ReadonlySet<string> = new Set(['stored_name', 'storedName'])

interface Side {
  name: 'SQLite' | 'PostgreSQL'
  handle: OpenDb
  ctx: AppContext & { clock: ReturnType<typeof fixedClock> }
  summary: DemoSummary
  /** The wall-clock stamps the migrations put on the rows they seed (see above). */
  migratedAt: Set<string>
  attachmentsDir: string
  app?: App
}

async function side(name: Side['name']): Promise<Side> {
  let handle: OpenDb
  if (name === 'SQLite') {
    handle = openDb(':memory:')
    await migrateToLatest(handle.db)
  } else handle = await createTestDb()
  const stamps = await query(handle.db).all<{ at: string }>('SELECT created_at AS at FROM department UNION SELECT created_at AS at FROM category')
  const attachmentsDir = path.join(os.tmpdir(), `yk-parity-${randomUUID()}`)
  const config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: 'https://yk.example.go.th', ATTACHMENTS_DIR: attachmentsDir })
  const ctx = { db: handle.db, clock: fixedClock(NOW), config, logger: pino({ level: 'silent' }) }
  let summary: DemoSummary
  try {
    summary = await generateDemo(ctx, { seed: SEED, scale: SCALE, now: NOW })
  } catch (e) {
    await handle.close()
    throw new Error(`generating the demo agency on ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
  }
  ctx.clock.set(NOW)
  return { name, handle, ctx, summary, migratedAt: new Set(stamps.map((s) => s.at)), attachmentsDir }
}

function normaliser(s: Side): (v: unknown) => unknown {
  return (v) => (typeof v === 'string' && s.migratedAt.has(v) ? MIGRATED_AT : v)
}

async function userNamed(s: Side, username: string): Promise<CurrentUser> {
  const row = await s.ctx.db.selectFrom('app_user').select('id').where('username', '=', username).executeTakeFirstOrThrow()
  return (await getCurrentUser(s.ctx, row.id))!
}

describe('the same figures on both databases (SPEC §7, issue 19): the demo agency on SQLite and on PostgreSQL — needs TEST_DATABASE_URL', function () {
  // Two demo agencies, one of them over the network; on a loaded CI machine several times the few seconds alone.
  this.timeout(600_000)
  let lite: Side
  let pg: Side
  let tables: TableShape[]

  before(async function () {
    // Both databases are needed: on a plain SQLite run there is no PostgreSQL to compare with.
    if (!onPostgres) this.skip()
    lite = await side('SQLite')
    pg = await side('PostgreSQL')
    tables = await sqliteTables(lite.ctx.db)
  })

  after(async () => {
    for (const s of [lite, pg]) {
      if (!s) continue
      s.app?.shutdown()
      await s.handle.close()
      fs.rmSync(s.attachmentsDir, { recursive: true, force: true })
    }
  })

  /** Every table, row and column, compared; the differences, listed. */
  async function compareTables(): Promise<Differences> {
    const d = new Differences(lite.name, pg.name)
    const pgShape = await postgresTables(pg.ctx.db)
    for (const name of pgShape.keys())
      if (!tables.some((t) => t.name === name) && !name.startsWith('kysely_') && name !== 'change_counter') d.note(`table ${name}: only on ${pg.name}`)
    for (const t of tables) {
      const pgCols = pgShape.get(t.name)
      if (!pgCols) {
        d.note(`table ${t.name}: only on ${lite.name}`)
        continue
      }
      for (const c of t.columns) if (!pgCols.includes(c)) d.note(`${t.name}.${c}: column only on ${lite.name}`)
      for (const c of pgCols) if (!t.columns.includes(c)) d.note(`${t.name}.${c}: column only on ${pg.name}`)
      const shape = { ...t, columns: t.columns.filter((c) => pgCols.includes(c)) }
      diffTable(d, shape, await tableRows(lite.ctx.db, shape), await tableRows(pg.ctx.db, shape), RULES[t.name], normaliser(lite), normaliser(pg))
    }
    return d
  }

  /** Runs `read` on each database and lists every difference in what it answered, by path. */
  async function compareReads(label: string, read: (s: Side) => Promise<unknown>): Promise<Differences> {
    const d = new Differences(lite.name, pg.name)
    await addReads(d, label, read)
    return d
  }

  async function addReads(d: Differences, label: string, read: (s: Side) => Promise<unknown>): Promise<void> {
    const [a, b] = [await settle(read(lite)), await settle(read(pg))]
    // An error is never "the same answer": on either side it is listed, with its message.
    if (a.threw !== undefined || b.threw !== undefined) d.add(`${label} threw`, a.threw ?? null, b.threw ?? null)
    else diffJson(d, label, a.value, b.value, RANDOM_KEYS)
  }

  /** A read's answer, or its error's name, code and message. */
  async function settle(p: Promise<unknown>): Promise<{ value?: unknown; threw?: string }> {
    try {
      return { value: await p }
    } catch (e) {
      const code = (e as { code?: unknown }).code
      return { threw: `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}${code ? ` (${String(code)})` : ''}` }
    }
  }

  it('when the demo is generated on each with the same seed and now, then its summary is the same', async () => {
    const d = await compareReads('summary', async (s) => s.summary)
    expect(d.empty, d.toString()).to.equal(true)
    expect(lite.summary.counts.loans, 'the demo lends').to.be.greaterThan(50)
  })

  it('when every table is read ordered by its primary key, then every row and column is the same on both, audit hashes included', async () => {
    const d = await compareTables()
    expect(d.empty, d.toString()).to.equal(true)
    const audit = await query(lite.ctx.db).value<number>('SELECT count(*) AS n FROM audit_log')
    expect(Number(audit), 'the audit log was compared').to.be.greaterThan(100)
  })

  it('when the statistics of every fiscal year and period of the demo are computed, then every figure is the same, year-end figures included', async () => {
    const d = new Differences(lite.name, pg.name)
    for (const fy of lite.summary.fiscalYears)
      for (const period of REPORT_PERIODS) await addReads(d, `report FY ${fy} ${period}`, (s) => computeReport(s.ctx, { fiscalYear: fy, period }))
    // A range across the years, and one that is not a fiscal period (computed afresh, never kept).
    const first = fiscalYearRange(lite.summary.fiscalYears[0]!).from
    const today = bangkokDate(new Date(NOW))
    await addReads(d, `report ${first}…${today}`, (s) => computeReport(s.ctx, { from: first, to: today }))
    await addReads(d, 'report 2025-02-14…2026-03-03', (s) => computeReport(s.ctx, { from: '2025-02-14', to: '2026-03-03' }))
    expect(d.empty, d.toString()).to.equal(true)
  })

  it('when the loan-return register of each fiscal year and of the whole demo is listed, then its loans, lines and CSV are the same', async () => {
    const d = new Differences(lite.name, pg.name)
    const first = fiscalYearRange(lite.summary.fiscalYears[0]!).from
    const queries: Array<[string, Record<string, unknown>]> = [
      ...lite.summary.fiscalYears.flatMap((fy) =>
        ['year', 'h1', 'q2'].map((period) => [`register FY ${fy} ${period}`, { fy, period }] as [string, Record<string, unknown>]),
      ),
      ['register, every loan', { period: 'range', from: first, to: bangkokDate(new Date(NOW)) }],
      ['register, overdue', { fy: lite.summary.fiscalYears.at(-1), period: 'year', overdue: '1' }],
      ['register, off the premises', { fy: lite.summary.fiscalYears.at(-2), period: 'year', kind: 'off_premises' }],
    ]
    for (const [label, q] of queries) {
      await addReads(d, label, (s) => loanRegister(s.ctx, parseRegisterQuery(s.ctx, q)))
      await addReads(d, `${label} CSV`, async (s) => loanRegisterCsv(await loanRegister(s.ctx, parseRegisterQuery(s.ctx, q))).split('\n'))
    }
    expect(d.empty, d.toString()).to.equal(true)
  })

  it("when each printed sign-in opens the dashboard, then the counts, the work lists, the borrower's own lists and the paper approvals to review are the same", async () => {
    const d = new Differences(lite.name, pg.name)
    for (const { username } of lite.summary.signIns) {
      await addReads(d, `${username}: counts`, async (s) => loanActionCounts(s.ctx, await userNamed(s, username)))
      await addReads(d, `${username}: work lists`, async (s) => loanQueues(s.ctx, await userNamed(s, username)))
      await addReads(d, `${username}: own lists`, async (s) => myLoanLists(s.ctx, await userNamed(s, username)))
      await addReads(d, `${username}: own open loans`, async (s) =>
        listLoans(s.ctx, await userNamed(s, username), { mine: true, open: true, page: 1, pageSize: 200 }),
      )
    }
    await addReads(d, 'paper approvals to review', (s) => paperApprovalReview(s.ctx))
    await addReads(d, 'publications', (s) => listPublications(s.ctx))
    expect(d.empty, d.toString()).to.equal(true)
  })

  it('when the reports have been computed on both, then every table is still the same, the kept figures included', async () => {
    const d = await compareTables()
    expect(d.empty, d.toString()).to.equal(true)
  })

  it('when the audit chain is verified on each, then both verify, with the same number of entries and the same head (before the API writes its random tokens)', async () => {
    const d = await compareReads('verifyChain', (s) => verifyChain(s.ctx.db))
    expect(d.empty, d.toString()).to.equal(true)
    const r = await verifyChain(pg.ctx.db)
    expect(r.ok, JSON.stringify(r)).to.equal(true)
  })

  it('when the public transparency files of the published years are fetched, then the JSON, the CSV, the frozen snapshot and the pages are the same', async () => {
    const d = new Differences(lite.name, pg.name)
    for (const s of [lite, pg])
      s.app ??= createApp(s.ctx, { sessionSecret: 'test-secret-test-secret', signInLimits: { perAccountAndAddress: 1000, perAddress: 1000 } })
    const published = (await listPublications(lite.ctx, { status: 'published' })).map((p) => ({ fy: p.fiscalYear, period: p.period }))
    expect(published, 'the demo publishes FY 2568 and its first half').to.have.length(2)
    const paths = ['/transparency', '/transparency/procedures']
    for (const fy of lite.summary.fiscalYears) paths.push(`/transparency/${fy}.json`, `/transparency/${fy}.csv`)
    for (const { fy, period } of published)
      paths.push(
        `/transparency/${fy}/${period}`,
        `/transparency/${fy}/${period}.json`,
        `/transparency/${fy}/${period}.csv`,
        `/transparency/${fy}/${period}.snapshot.json`,
      )
    for (const p of paths) {
      const [a, b] = [await supertest(lite.app!).get(p), await supertest(pg.app!).get(p)]
      if (a.status !== b.status) d.add(`GET ${p} status`, a.status, b.status)
      if (a.status === 200 && p.endsWith('.json')) diffJson(d, `GET ${p}`, JSON.parse(a.text), JSON.parse(b.text), RANDOM_KEYS)
      diffText(d, `GET ${p}`, a.text, b.text)
    }
    expect(d.empty, d.toString()).to.equal(true)
  })

  it('when each printed sign-in opens the home, the queue, the report, the register and their downloads, then the pages are the same but for their CSRF tokens', async () => {
    const d = new Differences(lite.name, pg.name)
    for (const s of [lite, pg])
      s.app ??= createApp(s.ctx, { sessionSecret: 'test-secret-test-secret', signInLimits: { perAccountAndAddress: 1000, perAddress: 1000 } })
    const fy = lite.summary.fiscalYears.at(-2)!
    const pages: Record<string, string[]> = {
      finance: [
        '/',
        '/loans/queue',
        `/reports?fy=${fy}&period=year`,
        `/reports.csv?fy=${fy}&period=h1`,
        `/register?fy=${fy}`,
        `/register.csv?fy=${fy}`,
        '/paper-approvals',
      ],
      executive: ['/', '/loans/queue', `/reports?fy=${fy}&period=year`],
      committee: ['/', '/paper-approvals', `/reports/print?fy=${fy}&period=year`, `/register/print?fy=${fy}&period=q1`],
      staff: ['/'],
    }
    // The session's CSRF token is random by design; nothing else on a page is.
    const page = (text: string) => text.replace(/name="_csrf" value="[^"]*"/g, 'name="_csrf" value="<csrf>"')
    for (const [username, paths] of Object.entries(pages)) {
      const agents = new Map<Side, supertest.Agent>()
      for (const s of [lite, pg]) agents.set(s, await signIn(s.app!, username, DEMO_PASSWORD))
      for (const p of paths) {
        const [a, b] = [await agents.get(lite)!.get(p), await agents.get(pg)!.get(p)]
        if (a.status !== 200 || b.status !== 200) d.add(`${username} GET ${p} status`, a.status, b.status)
        diffText(d, `${username} GET ${p}`, page(a.text), page(b.text))
      }
    }
    expect(d.empty, d.toString()).to.equal(true)
  })

  it('when the JSON API is asked for the statistics, the loans, the assets and the counted stock, then every answer is the same', async () => {
    const d = new Differences(lite.name, pg.name)
    for (const s of [lite, pg])
      s.app ??= createApp(s.ctx, { sessionSecret: 'test-secret-test-secret', signInLimits: { perAccountAndAddress: 1000, perAddress: 1000 } })
    const tokens = new Map<Side, string>()
    for (const s of [lite, pg]) tokens.set(s, await apiToken(s.app!, 'finance', DEMO_PASSWORD))
    const get = async (s: Side, url: string) => {
      const res = await supertest(s.app!)
        .get(url)
        .set('Authorization', `Bearer ${tokens.get(s)}`)
      return { status: res.status, body: res.body as unknown }
    }
    const paths: string[] = []
    for (const fy of lite.summary.fiscalYears) {
      for (const period of REPORT_PERIODS) paths.push(`/api/v1/reports/fiscal-years/${fy}?period=${period}`)
      paths.push(`/api/v1/loans?fiscalYear=${fy}&pageSize=200`)
    }
    const loans = Number(await query(lite.ctx.db).value('SELECT count(*) AS n FROM loan'))
    for (let page = 1; page <= Math.ceil(loans / 200); page++) paths.push(`/api/v1/loans?page=${page}&pageSize=200`)
    paths.push('/api/v1/loans?overdue=true&pageSize=200', '/api/v1/loans?status=pending&pageSize=200', '/api/v1/loans?status=approved&pageSize=200')
    const assets = Number(await query(lite.ctx.db).value('SELECT count(*) AS n FROM asset'))
    for (let page = 1; page <= Math.ceil(assets / 200); page++) paths.push(`/api/v1/assets?page=${page}&pageSize=200`)
    paths.push('/api/v1/assets?status=on_loan&pageSize=200', '/api/v1/assets?status=in_repair&pageSize=200', '/api/v1/assets?category=vehicle&pageSize=200')
    // Searches: Thai (เต็นท์), Latin in the other case (JBL, SN…), and LIKE's own characters, which must match only themselves.
    for (const q of ['เต็นท์', 'jbl', 'sn1', 'Sn', '_', '%', '\\', "o'"]) paths.push(`/api/v1/assets?q=${encodeURIComponent(q)}&pageSize=200`)
    for (const { code } of await query(lite.ctx.db).all<{ code: string }>('SELECT code FROM stock_item ORDER BY id'))
      paths.push(`/api/v1/stock/${encodeURIComponent(code)}`, `/api/v1/stock/${encodeURIComponent(code)}?from=2026-11-20&to=2026-11-27`)
    for (const p of paths) await addReads(d, `GET ${p}`, (s) => get(s, p))
    expect(d.empty, d.toString()).to.equal(true)
  })
})
