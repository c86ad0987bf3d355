import { createHash } from 'node:crypto'
import { expect } from 'chai'
import { sql } from 'kysely'
import { verifyChain } from '../../server/services/audit.service.js'
import { updateCompensation } from '../../server/services/loan.service.js'
import { approvePublication, getPublication, publishedReport, reviewReport, saveNarrative, submitReport } from '../../server/services/publication.service.js'
import { AppError } from '../../server/errors.js'
import { computeReport } from '../../server/services/report.service.js'
import { makeUser } from '../helpers/builders.js'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { buildReportHistory, type ReportHistory } from '../helpers/report-history.js'

/*
 * The published snapshot of a statistics report (SPEC §6): frozen against later edits of old loans
 * and against direct SQL (triggers), the source of next year's comparison, and hashed into the audit
 * chain. History: test/helpers/report-history.ts (clock at 2025-10-10).
 */
describe('report publication: the frozen snapshot (SPEC §6)', function () {
  this.timeout(30_000)
  let ctx: TestContext
  let h: ReportHistory
  let published: { snapshot: string; hash: string }
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')
  const stored = async () =>
    ctx.db.selectFrom('report_publication').selectAll().where('fiscal_year', '=', 2568).where('period', '=', 'year').executeTakeFirstOrThrow()

  before(async () => {
    ctx = await createTestContext()
    h = await buildReportHistory(ctx)
    const committee = await makeUser(ctx, ['committee'])
    await saveNarrative(ctx, h.finance, 2568, 'year', { summary: 'เป็นไปตามระเบียบ', problems: '', suggestions: 'ติดตามให้ทันกำหนด' })
    await submitReport(ctx, h.finance, 2568, 'year', { memoNumber: 'อบ 1/2568', memoDate: '2025-10-08' })
    await reviewReport(ctx, committee, 2568, 'year', { note: 'ถูกต้อง' })
    await approvePublication(ctx, h.executive, 2568, 'year', { note: 'อนุมัติ' })
    const row = await stored()
    published = { snapshot: row.snapshot!, hash: row.snapshot_hash! }
  })
  after(() => ctx.close())

  it('when the report is published, then the stored hash is the sha256 of the stored snapshot text', async () => {
    expect(published.hash).to.equal(sha(published.snapshot))
    const p = await publishedReport(ctx, 2568, 'year')
    expect(p!.sha256).to.equal(published.hash)
    expect(p!.snapshot.narrative.suggestions).to.equal('ติดตามให้ทันกำหนด')
    expect(p!.snapshot.report.loans.total).to.equal(7)
  })

  it('when an old loan’s compensation and hand-over date change after publication, then the live figures move but the published snapshot and its hash do not', async () => {
    ctx.clock.set('2025-10-20T03:00:00.000Z')
    const comp = await ctx.db
      .selectFrom('compensation')
      .innerJoin('loan', 'loan.id', 'compensation.loan_id')
      .select(['compensation.id', 'compensation.loan_id'])
      .where('compensation.incident', '=', 'lost')
      .executeTakeFirstOrThrow()
    await updateCompensation(ctx, h.finance, comp.loan_id, comp.id, { method: 'pay', currentPrice: '225', decidedAmount: '450', settledOn: '2024-12-20' })
    await ctx.db.updateTable('loan').set({ handed_over_on: '2025-10-15' }).where('handed_over_on', '=', '2024-11-05').execute()

    const live = await computeReport(ctx, { fiscalYear: 2568, period: 'year' })
    const frozen = (await publishedReport(ctx, 2568, 'year'))!
    expect(live.loans.total).to.equal(6)
    expect(frozen.snapshot.report.loans.total).to.equal(7)
    expect(live.incidents.compensationSettledBaht).to.not.equal(frozen.snapshot.report.incidents.compensationSettledBaht)
    const row = await stored()
    expect(row.snapshot).to.equal(published.snapshot)
    expect(row.snapshot_hash).to.equal(published.hash)
    expect(sha(row.snapshot!)).to.equal(published.hash)
  })

  it('when someone runs a direct SQL UPDATE or DELETE on the published row, then the database refuses it and the row is unchanged', async () => {
    let updateError: unknown
    try {
      await sql`UPDATE report_publication SET summary = 'แก้ด้วย SQL', snapshot = '{}' WHERE fiscal_year = 2568 AND period = 'year'`.execute(ctx.db)
    } catch (e) {
      updateError = e
    }
    expect(String(updateError)).to.match(/publish|frozen|cannot|immutable/i)
    let deleteError: unknown
    try {
      await ctx.db.deleteFrom('report_publication').where('fiscal_year', '=', 2568).where('period', '=', 'year').execute()
    } catch (e) {
      deleteError = e
    }
    expect(deleteError).to.be.instanceOf(Error)
    const row = await stored()
    expect(row.status).to.equal('published')
    expect(row.snapshot).to.equal(published.snapshot)
    expect(row.summary).to.equal('เป็นไปตามระเบียบ')
  })

  it('when FY 2569 is reported after 30 September 2026, then its previous year comes from the published FY 2568 snapshot, not from the edited loans', async () => {
    ctx.clock.set('2026-10-05T03:00:00.000Z')
    const r = await computeReport(ctx, { fiscalYear: 2569, period: 'year' })
    expect(r.previousYear).to.include({ fiscalYear: 2568, period: 'year', source: 'snapshot' })
    expect(r.previousYear.loans.total).to.equal(7) // the snapshot's; the edited history now counts 6
    expect(r.previousYear.requests).to.deep.equal((JSON.parse(published.snapshot) as { report: { requests: unknown } }).report.requests)
    // A period of FY 2568 that was not published is compared live.
    const h1 = await computeReport(ctx, { fiscalYear: 2569, period: 'h1' })
    expect(h1.previousYear.source).to.equal('live')
  })

  it('when the audit chain is read, then submission, review and publication carry the snapshot’s sha256 and the chain verifies', async () => {
    const rows = await ctx.db.selectFrom('audit_log').select(['action', 'data']).where('entity', '=', 'report_publication').orderBy('id').execute()
    const actions = rows.map((r) => r.action)
    expect(actions).to.include.members(['report.narrative_saved', 'report.submitted', 'report.reviewed', 'report.published'])
    for (const r of rows.filter((x) => ['report.submitted', 'report.reviewed', 'report.published'].includes(x.action))) {
      expect((JSON.parse(r.data) as { sha256: string }).sha256, r.action).to.equal(published.hash)
    }
    expect((await verifyChain(ctx.db)).ok).to.equal(true)
  })

  it('when one person holding committee and executive reviewed a report, then their approval is refused (403, rule reviewer_approves) and another executive’s is not', async () => {
    ctx.clock.set('2025-10-10T03:00:00.000Z')
    const both = await makeUser(ctx, ['committee', 'executive'])
    await submitReport(ctx, h.finance, 2568, 'q3', { memoNumber: 'อบ 3/2568' })
    await reviewReport(ctx, both, 2568, 'q3', { note: 'ตรวจแล้ว' })
    let err: unknown
    try {
      await approvePublication(ctx, both, 2568, 'q3', { note: 'อนุมัติเอง' })
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(AppError)
    expect(err).to.include({ code: 'forbidden', messageKey: 'publication.sod.reviewer_approves', rule: 'reviewer_approves' })
    expect((err as AppError).status).to.equal(403)
    expect((await getPublication(ctx, 2568, 'q3'))!.status).to.equal('reviewed')
    const done = await approvePublication(ctx, h.executive, 2568, 'q3', {})
    expect(done.status).to.equal('published')
    expect(done.reviewedBy!.id).to.equal(both.id)
    expect(done.approvedBy!.id).to.equal(h.executive.id)
  })

  it('when the same period is submitted again after publication, then it is refused and the publication is unchanged', async () => {
    let err: unknown
    try {
      await submitReport(ctx, h.finance2, 2568, 'year', {})
    } catch (e) {
      err = e
    }
    expect((err as { messageKey?: string }).messageKey).to.equal('publication.frozen.published')
    expect((await getPublication(ctx, 2568, 'year'))!.snapshotHash).to.equal(published.hash)
  })
})
