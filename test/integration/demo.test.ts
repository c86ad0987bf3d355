import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { sql } from 'kysely'
import { inflateSync, crc32 } from 'node:zlib'
import { DEMO_MARK_KEY, DEMO_PASSWORD, demoSignIns, generateDemo, mulberry32, slipScan, type DemoSummary } from '../../scripts/demo-data.js'
import { clearDemoAttachments, clearDemoDatabase, isDemoDatabase, NotADemoDatabase, signInTable } from '../../scripts/demo.js'
import { sniffMime } from '../../server/services/attachment.service.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { handOver, loanQueues } from '../../server/services/loan.service.js'
import { approverInputs, paperApprovalReview } from '../../server/services/loan-paper.service.js'
import { approverChoices, approverKey } from '../../server/services/paper-approval-rules.js'
import { getSettings } from '../../server/services/settings.service.js'
import { getCurrentUser, verifyCredentials, type CurrentUser } from '../../server/services/user.service.js'
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
    .select([
      'id',
      'fiscal_year',
      'seq',
      'status',
      'kind',
      'borrower_user_id',
      'external_borrower_id',
      'requested_at',
      'start_on',
      'due_on',
      'handed_over_on',
      'returned_on',
      'purpose',
      'place',
    ])
    .orderBy('id')
    .execute()
  const lines = await ctx.db
    .selectFrom('loan_stock_line')
    .select(['loan_id', 'stock_id', 'quantity', 'returned_good', 'returned_damaged', 'returned_lost'])
    .orderBy('id')
    .execute()
  // The approvals (paper ones with who recorded, confirmed, disputed, voided) and the scans (by content: their stored names are random).
  const approvals = await ctx.db
    .selectFrom('loan_approval')
    .select([
      'loan_id',
      'step',
      'by_user_id',
      'by_name',
      'recorded_by',
      'at',
      'on_paper',
      'paper_date',
      'confirmed_at',
      'disputed_at',
      'voided_at',
      'voided_by',
      'evidence_id',
    ])
    .orderBy('id')
    .execute()
  const scans = await ctx.db
    .selectFrom('loan_attachment')
    .select(['loan_id', 'kind', 'file_name', 'sha256', 'uploaded_by', 'uploaded_at'])
    .orderBy('id')
    .execute()
  return createHash('sha256')
    .update(JSON.stringify([rows, lines, approvals, scans]))
    .digest('hex')
}

const n = (r: { n: unknown } | undefined) => Number(r?.n ?? 0)

async function userNamed(ctx: TestContext, username: string): Promise<CurrentUser> {
  const row = await ctx.db.selectFrom('app_user').select('id').where('username', '=', username).executeTakeFirstOrThrow()
  return (await getCurrentUser(ctx, row.id))!
}

describe('the demo agency (scripts/demo-data.ts)', function () {
  // Generating the agency twice takes seconds alone, and several times that on a loaded CI machine.
  this.timeout(120_000)
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
    expect(
      Number(
        (
          await a.ctx.db
            .selectFrom('stock_item')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).to.be.at.least(4)
    expect(
      Number(
        (
          await a.ctx.db
            .selectFrom('kit')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ),
    ).to.equal(2)
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
    expect(
      await count(sql`SELECT count(*) AS n FROM loan WHERE entered_after_fact = 1 AND approved_on_paper = 1 AND handed_over_on IS NOT NULL`),
      'after the fact',
    ).to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan_extension WHERE status = 'approved'`), 'extension approved').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan_extension WHERE status = 'rejected'`), 'extension refused').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE due_on > original_due_on`), 'due date moved').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM follow_up WHERE method = 'phone'`), 'phone follow-up').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM follow_up WHERE method = 'letter' AND letter_number <> ''`), 'letter follow-up').to.be.greaterThan(0)
    expect(
      (await count(sql`SELECT count(*) AS n FROM loan_item WHERE condition = 'damaged'`)) +
        (await count(sql`SELECT count(*) AS n FROM loan_stock_line WHERE returned_damaged > 0`)),
      'damaged',
    ).to.be.greaterThan(0)
    expect(
      (await count(sql`SELECT count(*) AS n FROM loan_item WHERE condition = 'lost'`)) +
        (await count(sql`SELECT count(*) AS n FROM loan_stock_line WHERE returned_lost > 0`)),
      'lost',
    ).to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM compensation WHERE incident = 'damaged'`), 'damage compensation').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM compensation WHERE incident = 'lost' AND settled_on IS NOT NULL`), 'settled loss').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan_stock_line WHERE handed_over_qty > 0`), 'counted items lent').to.be.greaterThan(0)
    // A counted line returned in more than one go: grouped in code (JSON functions differ between the databases).
    const stockReturns = await a.ctx.db.selectFrom('audit_log').select(['entity_id', 'data']).where('action', '=', 'loan.stock_returned').execute()
    const perLine = new Map<string, number>()
    for (const r of stockReturns) {
      const k = `${r.entity_id}|${(JSON.parse(r.data) as { code?: string }).code}`
      perLine.set(k, (perLine.get(k) ?? 0) + 1)
    }
    const partialStock = [...perLine.values()].filter((n) => n > 1).length
    const partialItems = await count(
      sql`SELECT count(*) AS n FROM (SELECT loan_id FROM loan_item GROUP BY loan_id HAVING count(DISTINCT returned_at) > 1) AS g`,
    )
    expect(partialStock + partialItems, 'returned in parts').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE kind = 'inter_agency'`), 'between agencies').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE external_borrower_id IS NOT NULL AND kind = 'off_premises'`), 'community').to.be.greaterThan(0)
    expect(await count(sql`SELECT count(*) AS n FROM loan WHERE kind = 'in_premises'`), 'in the premises').to.be.greaterThan(0)
    // Numbers run without gaps in every fiscal year.
    const gaps = await count(sql`SELECT count(*) AS n FROM (SELECT fiscal_year, max(seq) AS m, count(*) AS c FROM loan GROUP BY fiscal_year) AS g WHERE m <> c`)
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
      ...(await a.ctx.db.selectFrom('external_borrower').select(['name', 'organisation', 'address']).execute()).flatMap((r) => [
        r.name,
        r.organisation,
        r.address,
      ]),
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

  it('when generated, then the นายก and the ผอ.กองคลัง are signatories linked to the executive and the second finance account, and the ปลัด has none', async () => {
    const settings = await getSettings(a.ctx)
    expect(settings.mayor.username).to.equal('executive')
    expect(settings.financeDirector.username).to.equal('finance2')
    expect(settings.chiefAdministrator.username).to.equal('')
    expect(settings.twoPersonRule).to.equal(true)
    const executive = await userNamed(a.ctx, 'executive')
    const director = await userNamed(a.ctx, 'finance2')
    expect(executive.name).to.equal(settings.mayor.name)
    expect(executive.roles).to.deep.equal(['executive'])
    expect(director.name).to.equal(settings.financeDirector.name)
    expect(director.roles).to.deep.equal(['finance'])
    const nobody = await a.ctx.db.selectFrom('app_user').select('id').where('name', '=', settings.chiefAdministrator.name).execute()
    expect(nobody, 'the ปลัด has no account').to.have.length(0)
  })

  it('when generated, then every paper approval names an approver on the list for its loan, who is neither its recorder nor its borrower, and one without an account has its scan', async () => {
    const db = a.ctx.db
    const inputs = await approverInputs(db, await getSettings(a.ctx))
    const papers = await db
      .selectFrom('loan_approval as pa')
      .innerJoin('loan as l', 'l.id', 'pa.loan_id')
      .innerJoin('app_user as r', 'r.id', 'pa.recorded_by')
      .leftJoin('app_user as b', 'b.id', 'l.borrower_user_id')
      .leftJoin('external_borrower as e', 'e.id', 'l.external_borrower_id')
      .leftJoin('loan_attachment as f', 'f.id', 'pa.evidence_id')
      .select([
        'pa.by_name',
        'pa.by_user_id',
        'pa.recorded_by',
        'pa.voided_at',
        'pa.evidence_id',
        'l.kind',
        'l.borrower_user_id',
        'b.name as borrower',
        'e.name as outsider',
        'r.name as recorder',
        'f.stored_name',
        'f.sha256',
      ])
      .where('pa.step', '=', 'approve')
      .where('pa.on_paper', '=', 1)
      .execute()
    expect(papers.length, 'paper approvals').to.be.greaterThan(5)
    for (const p of papers) {
      const listed = approverChoices(inputs, p.kind).find((c) => c.name === approverKey(p.by_name))
      expect(listed, `${p.by_name} on the ${p.kind} list`).to.not.equal(undefined)
      expect(p.by_user_id).to.equal(listed!.userId)
      expect(p.by_user_id).to.not.equal(p.recorded_by)
      expect(p.by_name).to.not.equal(p.recorder)
      if (p.borrower_user_id !== null) expect(p.by_user_id).to.not.equal(p.borrower_user_id)
      expect(p.by_name).to.not.equal(p.borrower ?? p.outsider)
      if (p.by_user_id === null) expect(p.evidence_id, `${p.by_name} has no account: the scan`).to.not.equal(null)
    }
    const scanned = papers.filter((p) => p.stored_name !== null)
    expect(scanned.length).to.be.greaterThan(0)
    expect(papers.filter((p) => p.by_user_id === null).length, 'approvers without an account').to.be.greaterThan(0)
    // The scans are on disk under the attachments folder, as the service stored them.
    for (const p of scanned) {
      const data = fs.readFileSync(path.join(a.ctx.config.attachmentsDir, p.stored_name!))
      expect(sniffMime(data)).to.equal('image/png')
      expect(createHash('sha256').update(data).digest('hex')).to.equal(p.sha256)
    }
  })

  it("when generated, then paper approvals stand confirmed by their approver, unconfirmed (some over a week: on the committee's list), disputed, without a scan, voided and recorded again", async () => {
    const db = a.ctx.db
    const paper = () => db.selectFrom('loan_approval').where('step', '=', 'approve').where('on_paper', '=', 1)
    const count = async (q: ReturnType<typeof paper>) => n(await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())
    const standing = () => paper().where('voided_at', 'is', null)
    const confirmed = await count(standing().where('confirmed_at', 'is not', null))
    const unconfirmed = await count(standing().where('by_user_id', 'is not', null).where('confirmed_at', 'is', null).where('disputed_at', 'is', null))
    const disputed = await count(standing().where('disputed_at', 'is not', null))
    const noScan = await count(standing().where('evidence_id', 'is', null))
    const voided = await count(paper().where('voided_at', 'is not', null))
    expect({ confirmed, unconfirmed, disputed, noScan, voided }).to.deep.equal({
      confirmed: a.summary.paperApprovals.confirmed,
      unconfirmed: a.summary.paperApprovals.unconfirmed,
      disputed: a.summary.paperApprovals.disputed,
      noScan: a.summary.paperApprovals.withoutScan,
      voided: a.summary.paperApprovals.voided,
    })
    for (const [what, k] of Object.entries({ confirmed, unconfirmed, disputed, noScan, voided })) expect(k, what).to.be.greaterThan(0)

    // Each confirmation and dispute is the named approver's own, in the app.
    // Joined in code on the entry's approvalId (JSON functions differ between the databases).
    const approvers = new Map((await db.selectFrom('loan_approval').select(['id', 'by_user_id']).execute()).map((r) => [r.id, r.by_user_id]))
    const answers = (
      await db
        .selectFrom('audit_log as x')
        .select(['x.action', 'x.actor_id', 'x.data'])
        .where('x.action', 'in', ['loan.paper_confirmed', 'loan.paper_disputed'])
        .execute()
    )
      .map((x) => ({ action: x.action, actor_id: x.actor_id, by_user_id: approvers.get((JSON.parse(x.data) as { approvalId: number }).approvalId) }))
      .filter((x) => x.by_user_id !== undefined)
    expect(answers.filter((x) => x.action === 'loan.paper_confirmed')).to.have.length(confirmed)
    expect(answers.filter((x) => x.action === 'loan.paper_disputed')).to.have.length(disputed + voided)
    for (const x of answers) expect(x.actor_id, x.action).to.equal(x.by_user_id)

    // A voided one was followed by another paper approval on the same loan, and the loan went out.
    const redone = await sql<{ status: string; later: number }>`
      SELECT l.status, (SELECT count(*) FROM loan_approval b WHERE b.loan_id = v.loan_id AND b.step = 'approve' AND b.on_paper = 1 AND b.id > v.id AND b.voided_at IS NULL) AS later
      FROM loan_approval v JOIN loan l ON l.id = v.loan_id WHERE v.voided_at IS NOT NULL AND v.disputed_at IS NOT NULL`.execute(db)
    expect(
      redone.rows.some((r) => r.later === 1 && ['on_loan', 'returned'].includes(r.status)),
      'voided, recorded again, handed over',
    ).to.equal(true)

    // The committee's list (as of the demo's today) shows each kind of entry.
    a.ctx.clock.set(NOW)
    const review = await paperApprovalReview(a.ctx)
    const reasons = (r: string) => review.filter((e) => (e.reasons as string[]).includes(r)).length
    expect(reasons('unconfirmed'), 'unconfirmed over a week').to.equal(a.summary.paperApprovals.unconfirmedOverAWeek)
    for (const r of ['unconfirmed', 'disputed', 'noScan', 'oneHand']) expect(reasons(r), r).to.be.greaterThan(0)
  })

  it('when generated, then a disputed paper approval leaves its loan approved and its hand-over refused, and the approvers have paper approvals waiting in their queues', async () => {
    const db = a.ctx.db
    const blocked = await db
      .selectFrom('loan as l')
      .innerJoin('loan_approval as pa', 'pa.loan_id', 'l.id')
      .select(['l.id', 'l.status'])
      .where('l.status', '=', 'approved')
      .where('pa.on_paper', '=', 1)
      .where('pa.voided_at', 'is', null)
      .where('pa.disputed_at', 'is not', null)
      .execute()
    expect(blocked.length, 'approved, disputed, not voided').to.be.greaterThan(0)
    a.ctx.clock.set(NOW)
    const officer = await userNamed(a.ctx, 'finance')
    try {
      await handOver(a.ctx, officer, blocked[0]!.id, {})
      expect.fail('a loan with a disputed paper approval was handed over')
    } catch (e) {
      expect(e).to.include({ code: 'invalid_state', rule: 'paper_disputed' })
    }
    const section = async (who: CurrentUser, key: string) => (await loanQueues(a.ctx, who)).find((q) => q.key === key)?.total ?? 0
    expect(await section(officer, 'paperDisputed'), 'finance sees the blocked loan').to.be.greaterThan(0)
    expect(await section(await userNamed(a.ctx, 'executive'), 'toConfirm'), 'the นายก has paper approvals to confirm').to.be.greaterThan(0)
    expect(await section(await userNamed(a.ctx, 'finance2'), 'toConfirm'), 'the ผอ.กองคลัง has paper approvals to confirm').to.be.greaterThan(0)
  })

  it('when generated, then one officer entered, recorded the paper approval of and handed over a loan in one sitting at the counter', async () => {
    const counter = await sql<{ n: number }>`
      SELECT count(*) AS n FROM loan l JOIN loan_approval pa ON pa.loan_id = l.id AND pa.step = 'approve' AND pa.on_paper = 1 AND pa.voided_at IS NULL
      WHERE l.entered_after_fact = 0 AND l.requested_by = pa.recorded_by AND l.handed_over_by = pa.recorded_by AND l.handed_over_at = pa.at
        AND l.requested_on = l.handed_over_on`.execute(a.ctx.db)
    expect(Number(counter.rows[0]!.n)).to.equal(a.summary.paperApprovals.counter)
    expect(a.summary.paperApprovals.counter).to.be.greaterThan(0)
  })

  it('when the sign-ins are printed, then the table names admin, both finance users (the supplies officer and the ผอ.กองคลัง), the executive, the committee and a staff member, each with what they do', async () => {
    const settings = await getSettings(a.ctx)
    const s = a.summary.signIns
    expect(s.map((x) => [x.username, x.role])).to.deep.equal([
      ['admin', 'admin'],
      ['finance', 'finance'],
      ['finance2', 'finance'],
      ['executive', 'executive'],
      ['committee', 'committee'],
      ['staff', 'staff'],
    ])
    for (const x of s) {
      expect(x.password).to.equal(DEMO_PASSWORD)
      expect(x.does, x.username).to.have.length.greaterThan(10)
      const roles = (
        await a.ctx.db
          .selectFrom('user_role')
          .innerJoin('app_user', 'app_user.id', 'user_role.user_id')
          .select('role')
          .where('username', '=', x.username)
          .execute()
      ).map((r) => r.role)
      expect(roles, x.username).to.include(x.role)
    }
    const by = (u: string) => s.find((x) => x.username === u)!
    expect(by('finance').name).to.equal(settings.suppliesOfficer.name)
    expect(by('finance2')).to.include({ name: settings.financeDirector.name, position: settings.financeDirector.position })
    expect(by('executive')).to.include({ name: settings.mayor.name, position: settings.mayor.position })
    expect(by('finance').does).to.match(/hand-over/)
    expect(by('finance2').does).to.match(/in-premises/)
    expect(by('executive').does).to.match(/off-premises/)
    expect(by('committee').does).to.include('/paper-approvals')

    const table = signInTable(s, 'http://localhost:3000')
    for (const x of s) {
      const line = table
        .split('\n')
        .findIndex((l) => l.includes(` ${x.username} `) && l.includes(x.password) && l.includes(x.name) && l.trimStart().startsWith(x.role))
      expect(line, `${x.username} in the table`).to.be.greaterThan(-1)
      expect(table.split('\n')[line + 1]!.trim(), `what ${x.username} does, under it`).to.equal(x.does)
    }
    expect(table).to.include('http://localhost:3000/paper-approvals')
    // `npm run demo -- --keep` prints the same table, read back from the database.
    expect(await demoSignIns(a.ctx.db)).to.deep.equal(s)
  })

  it('when a slip is scanned, then it is a valid PNG (chunks with their CRCs, the image data inflating to its size), different for each slip', () => {
    const png = slipScan(7)
    expect(sniffMime(png)).to.equal('image/png')
    let at = 8
    const chunks: Array<{ type: string; data: Buffer }> = []
    while (at < png.length) {
      const len = png.readUInt32BE(at)
      const type = png.toString('latin1', at + 4, at + 8)
      const data = png.subarray(at + 8, at + 8 + len)
      expect(png.readUInt32BE(at + 8 + len), `${type} CRC`).to.equal(crc32(png.subarray(at + 4, at + 8 + len)))
      chunks.push({ type, data })
      at += 12 + len
    }
    expect(chunks.map((c) => c.type)).to.deep.equal(['IHDR', 'IDAT', 'IEND'])
    const w = chunks[0]!.data.readUInt32BE(0)
    const h = chunks[0]!.data.readUInt32BE(4)
    expect(inflateSync(chunks[1]!.data).length).to.equal((w + 1) * h)
    expect(slipScan(8).equals(png)).to.equal(false)
    expect(slipScan(7).equals(png)).to.equal(true)
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

  it('when the demo is generated again, then the scans of the earlier one go from its attachments folder, and nothing else there', () => {
    const scans = path.join(dir, 'demo-attachments')
    fs.mkdirSync(scans)
    const old = ['0123456789abcdef0123456789abcdef.png', '.fedcba9876543210fedcba9876543210.jpg.part']
    for (const f of [...old, 'notes.txt', 'abc.png']) fs.writeFileSync(path.join(scans, f), 'x')
    clearDemoAttachments(scans)
    expect(fs.readdirSync(scans).sort()).to.deep.equal(['abc.png', 'notes.txt'])
    clearDemoAttachments(path.join(dir, 'none'))
  })
})
