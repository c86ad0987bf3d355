import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { sql } from 'kysely'
import { DEMO_MARK_KEY, generateDemo, mulberry32, type DemoSummary } from '../../scripts/demo-data.js'
import { clearDemoDatabase, isDemoDatabase, NotADemoDatabase } from '../../scripts/demo.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { verifyCredentials } from '../../server/services/user.service.js'
import { createTestContext, createTestDb, type TestContext } from '../helpers/db.js'

const NOW = '2026-11-20T05:00:00.000Z' // 20 Nov 2026: fiscal year 2570 has begun
const SCALE = 0.1

/** Place names of the seed ITA report (/work/shared/domain/seed-ita-report-fy2566.txt): never in the demo. */
const REPORT_NAMES = ['ดอนมัน', 'อนม้น', 'ดอนมดแดง', 'ประทาย', 'นครราชสีมา', 'แพร่']

async function generated(seed: number): Promise<{ ctx: TestContext; summary: DemoSummary }> {
  const ctx = await createTestContext()
  const summary = await generateDemo(ctx, { seed, scale: SCALE, now: NOW })
  return { ctx, summary }
}

async function loansHash(ctx: TestContext): Promise<string> {
  const rows = await ctx.db
    .selectFrom('loan')
    .select(['id', 'fiscal_year', 'seq', 'status', 'kind', 'borrower_user_id', 'external_borrower_id', 'requested_at', 'start_on', 'due_on', 'handed_over_on', 'returned_on', 'purpose', 'place'])
    .orderBy('id')
    .execute()
  const lines = await ctx.db.selectFrom('loan_stock_line').select(['loan_id', 'stock_id', 'quantity', 'returned_good', 'returned_damaged', 'returned_lost']).orderBy('id').execute()
  return createHash('sha256').update(JSON.stringify([rows, lines])).digest('hex')
}

describe('the demo agency (scripts/demo-data.ts)', function () {
  this.timeout(30_000)
  let a: { ctx: TestContext; summary: DemoSummary }
  before(async () => {
    a = await generated(1)
  })
  after(async () => a.ctx.close())

  it('when generated at a small scale, then it holds departments, assets, counted stock, kits, people in every role and loans over three fiscal years', async () => {
    const { counts, fiscalYears } = a.summary
    expect(fiscalYears).to.deep.equal([2568, 2569, 2570])
    expect(counts.assets).to.be.at.least(40)
    expect(counts.loans).to.be.at.least(40)
    const roles = (await a.ctx.db.selectFrom('user_role').select('role').distinct().execute()).map((r) => r.role).sort()
    expect(roles).to.deep.equal(['admin', 'committee', 'executive', 'finance', 'staff'])
    const years = (await a.ctx.db.selectFrom('loan').select('fiscal_year').distinct().orderBy('fiscal_year').execute()).map((r) => r.fiscal_year)
    expect(years).to.deep.equal([2568, 2569, 2570])
    expect(Number((await a.ctx.db.selectFrom('stock_item').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).to.be.at.least(4)
    expect(Number((await a.ctx.db.selectFrom('kit').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).to.equal(2)
    const mark = await a.ctx.db.selectFrom('setting').select('value').where('key', '=', DEMO_MARK_KEY).executeTakeFirst()
    expect(mark).to.not.equal(undefined)
    // The printed sign-ins work with the printed password.
    for (const s of a.summary.signIns) expect(await verifyCredentials(a.ctx, s.username, s.password), s.username).to.not.equal(undefined)
  })

  it('when generated, then every outcome appears: on time, late, extended, followed up, damaged, lost, rejected, cancelled, expired, still out, entered after the fact', async () => {
    const db = a.ctx.db
    const count = async (q: ReturnType<typeof sql<{ n: number }>>) => Number((await q.execute(db)).rows[0]!.n)
    const statuses = new Set((await db.selectFrom('loan').select('status').distinct().execute()).map((r) => r.status))
    for (const s of ['returned', 'rejected', 'cancelled', 'expired', 'on_loan'] as const) expect(statuses, s).to.include(s)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE status = 'returned' AND returned_on <= due_on`), 'on time').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE status = 'returned' AND returned_on > due_on`), 'late').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE status = 'on_loan' AND due_on < '2026-11-20'`), 'overdue, still out').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE entered_after_fact = 1 AND approved_on_paper = 1 AND handed_over_on IS NOT NULL`), 'after the fact').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan_extension WHERE status = 'approved'`), 'extension approved').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan_extension WHERE status = 'rejected'`), 'extension refused').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE due_on > original_due_on`), 'due date moved').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM follow_up WHERE method = 'phone'`), 'phone follow-up').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM follow_up WHERE method = 'letter' AND letter_number <> ''`), 'letter follow-up').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan_item WHERE condition = 'damaged'`) + (await count(sql`SELECT count(*) AS n FROM loan_stock_line WHERE returned_damaged > 0`)), 'damaged').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan_item WHERE condition = 'lost'`) + (await count(sql`SELECT count(*) AS n FROM loan_stock_line WHERE returned_lost > 0`)), 'lost').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM compensation WHERE incident = 'damaged'`), 'damage compensation').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM compensation WHERE incident = 'lost' AND settled_on IS NOT NULL`), 'settled loss').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan_stock_line WHERE handed_over_qty > 0`), 'counted items lent').to.be.greaterThan(0)
    const partialStock = await count(
      sql`SELECT count(*) AS n FROM (SELECT entity_id FROM audit_log WHERE action = 'loan.stock_returned' GROUP BY entity_id, json_extract(data, '$.code') HAVING count(*) > 1)`,
    )
    const partialItems = await count(sql`SELECT count(*) AS n FROM (SELECT loan_id FROM loan_item GROUP BY loan_id HAVING count(DISTINCT returned_at) > 1)`)
    expect(partialStock + partialItems, 'returned in parts').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE kind = 'inter_agency'`), 'between agencies').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE external_borrower_id IS NOT NULL AND kind = 'off_premises'`), 'community').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE kind = 'in_premises'`), 'in the premises').to.be.greaterThan(0)
    // Numbers run without gaps in every fiscal year.
    const gaps = await count(sql`SELECT count(*) AS n FROM (SELECT fiscal_year, max(seq) AS m, count(*) AS c FROM loan GROUP BY fiscal_year) WHERE m <> c`)
    expect(gaps).to.equal(0)
  })

  it('when generated, then the audit chain verifies and dates follow the clock (nothing after "now")', async () => {
    const v = await verifyChain(a.ctx.db)
    expect(v.ok).to.equal(true)
    const last = await a.ctx.db.selectFrom('audit_log').select(sql<string>`max(at)`.as('at')).executeTakeFirstOrThrow()
    expect(last.at < NOW).to.equal(true)
    const backwards = await sql<{ n: number }>`SELECT count(*) AS n FROM audit_log a JOIN audit_log b ON b.id = a.id + 1 WHERE b.at < a.at`.execute(a.ctx.db)
    expect(Number(backwards.rows[0]!.n)).to.equal(0)
  })

  it('when its texts are read, then no name of the seed ITA report appears', async () => {
    const texts = [
      ...(await a.ctx.db.selectFrom('loan').select(['purpose as t', 'place as u']).execute()).flatMap((r) => [r.t, r.u]),
      ...(await a.ctx.db.selectFrom('external_borrower').select(['name', 'organisation', 'address']).execute()).flatMap((r) => [r.name, r.organisation, r.address]),
      ...(await a.ctx.db.selectFrom('app_user').select(['name', 'position']).execute()).flatMap((r) => [r.name, r.position]),
      ...(await a.ctx.db.selectFrom('asset').select(['name', 'location']).execute()).flatMap((r) => [r.name, r.location]),
      ...(await a.ctx.db.selectFrom('setting').select('value').execute()).map((r) => r.value),
    ].join('\n')
    expect(texts).to.match(/หนองน้ำใส/)
    for (const n of REPORT_NAMES) expect(texts, n).to.not.include(n)
  })

  it('when generated twice with the same seed, then the loans are the same; with another seed they differ', async () => {
    const b = await generated(1)
    const c = await generated(2)
    try {
      expect(await loansHash(b.ctx)).to.equal(await loansHash(a.ctx))
      expect(await loansHash(c.ctx)).to.not.equal(await loansHash(a.ctx))
    } finally {
      await b.ctx.close()
      await c.ctx.close()
    }
  })

  it('when mulberry32 is seeded, then it repeats its sequence', () => {
    const x = mulberry32(42)
    const y = mulberry32(42)
    const xs = [x(), x(), x()]
    expect([y(), y(), y()]).to.deep.equal(xs)
    expect(xs.every((v) => v >= 0 && v < 1)).to.equal(true)
  })
})

describe('npm run demo (scripts/demo.ts)', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-demo-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('when the database file is not a demo one, then it refuses to overwrite it; a demo one is cleared', async () => {
    const real = path.join(dir, 'real.db')
    const h = await createTestDb(real)
    await h.close()
    expect(isDemoDatabase(real)).to.equal(false)
    expect(() => clearDemoDatabase(real)).to.throw(NotADemoDatabase)
    expect(fs.existsSync(real)).to.equal(true)

    const demo = path.join(dir, 'demo.db')
    const d = await createTestDb(demo)
    await d.db.insertInto('setting').values({ key: DEMO_MARK_KEY, value: '{}', updated_at: NOW }).execute()
    await d.close()
    expect(isDemoDatabase(demo)).to.equal(true)
    clearDemoDatabase(demo)
    expect(fs.existsSync(demo)).to.equal(false)
    expect(isDemoDatabase(path.join(dir, 'none.db'))).to.equal(true)
  })
})
