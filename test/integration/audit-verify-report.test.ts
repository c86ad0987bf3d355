import { createHash } from 'node:crypto'
import { expect } from 'chai'
import { sql } from 'kysely'
import supertest from 'supertest'
import { verifyAudit } from '../../server/services/audit.service.js'
import { approvePublication, reviewReport, saveNarrative, submitReport } from '../../server/services/publication.service.js'
import { makeUser } from '../helpers/builders.js'
import { apiToken, createTestApp, signIn, type TestApp } from '../helpers/app.js'
import { onPostgres } from '../helpers/db.js'
import { buildReportHistory } from '../helpers/report-history.js'

/*
 * Issue 13, finding 4: with the database file, someone drops the freeze triggers, replaces a
 * published report's figures and its stored hash, and re-creates the triggers. The chain itself is
 * untouched — but the report's hash no longer matches the one its audit entries recorded at
 * submission, review and approval, and the verification (the API and the /audit page) says so.
 */
describe('audit verification: a published report rewritten in the database', function () {
  this.timeout(30_000)
  let t: TestApp
  let ctx: TestApp['ctx']

  beforeEach(async () => {
    t = await createTestApp()
    ctx = t.ctx
    const h = await buildReportHistory(ctx)
    const committee = await makeUser(ctx, ['committee'])
    await saveNarrative(ctx, h.finance, 2568, 'year', { summary: 'เป็นไปตามระเบียบ', problems: '', suggestions: '' })
    await submitReport(ctx, h.finance, 2568, 'year', { memoNumber: 'อบ 1/2568', memoDate: '2025-10-08' })
    await reviewReport(ctx, committee, 2568, 'year', { note: 'ถูกต้อง' })
    await approvePublication(ctx, h.executive, 2568, 'year', { note: 'อนุมัติ' })
  })
  afterEach(() => t.close())

  /** What the attacker of the finding did: triggers off, figures and hash rewritten together, triggers back. */
  async function rewrite(): Promise<void> {
    // The table's triggers as they were made: SQLite keeps their text; PostgreSQL says it with pg_get_triggerdef.
    const triggers = (
      await (onPostgres
        ? sql<{
            name: string
            sql: string
          }>`SELECT tgname AS name, pg_get_triggerdef(oid) AS sql FROM pg_trigger WHERE tgrelid = 'report_publication'::regclass AND NOT tgisinternal`
        : sql<{ name: string; sql: string }>`SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'report_publication'`
      ).execute(ctx.db)
    ).rows
    expect(triggers.map((t) => t.name)).to.include.members(['report_publication_frozen_update', 'report_publication_frozen_delete'])
    for (const t of triggers) await sql.raw(`DROP TRIGGER ${t.name}${onPostgres ? ' ON report_publication' : ''}`).execute(ctx.db)
    const row = await ctx.db
      .selectFrom('report_publication')
      .select(['id', 'snapshot'])
      .where('fiscal_year', '=', 2568)
      .where('period', '=', 'year')
      .executeTakeFirstOrThrow()
    const snapshot = JSON.parse(row.snapshot!) as { report: { loans: { returnedLate: number } } }
    snapshot.report.loans.returnedLate = 0
    const text = JSON.stringify(snapshot)
    const hash = createHash('sha256').update(text, 'utf8').digest('hex')
    await ctx.db.updateTable('report_publication').set({ snapshot: text, snapshot_hash: hash }).where('id', '=', row.id).execute()
    for (const t of triggers) await sql.raw(t.sql).execute(ctx.db)
  }

  it('when nothing was touched, then the verification is ok with no problems', async () => {
    const r = await verifyAudit(ctx.db)
    expect(r).to.include({ ok: true })
    expect(r.problems).to.deep.equal([])
  })

  it('when the published report and its hash were rewritten together, then the chain still verifies but the verification is not ok, naming the report', async () => {
    await rewrite()
    const r = await verifyAudit(ctx.db)
    expect(r.brokenAt).to.equal(undefined)
    expect(r.ok).to.equal(false)
    expect(r.problems).to.have.length(1)
    expect(r.problems[0]).to.include({ code: 'report_hash_mismatch', report: '2568/year' })
  })

  it('when the API and the /audit page verify after the rewrite, then the API answers ok:false with the problem and the page says it in Thai', async () => {
    await rewrite()
    const app = t.app
    const committee = await makeUser(ctx, ['committee'])
    const token = await apiToken(app, committee.username, committee.password)
    const res = await supertest(app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${token}`).expect(200)
    expect(res.body).to.include({ ok: false })
    expect(res.body.problems).to.deep.equal([
      { code: 'report_hash_mismatch', report: '2568/year', stored: res.body.problems[0].stored, recorded: res.body.problems[0].recorded },
    ])
    expect(res.body).to.not.have.property('brokenAt')
    const agent = await signIn(app, committee.username, committee.password)
    const page = await agent.get('/audit').expect(200)
    expect(page.text).to.include('data-problem="report_hash_mismatch"').and.include('รายงานสถิติ 2568/year')
  })
})
