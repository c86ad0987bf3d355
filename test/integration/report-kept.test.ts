import { expect } from 'chai'
import { sql } from 'kysely'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { buildReportHistory } from '../helpers/report-history.js'
import { computeReport, type Report } from '../../server/services/report.service.js'

/*
 * Kept statistics (migration 2026_12_01_0900, report.service "KEPT FIGURES"): an ended period's
 * figures are computed once and served until a write that could move them. For every table the
 * figures read, a write dated in the kept year must make the next report equal a fresh computation
 * (and differ from before, so that the check can fail); a write dated only in a later year must
 * leave the kept figures served. The history of test/helpers/report-history.ts ends on 2025-10-10,
 * so FY 2568 (to 2025-09-30) has ended and FY 2569 has not.
 */
describe('kept statistics of ended periods', function () {
  this.timeout(30_000)
  let ctx: TestContext
  before(async () => {
    ctx = await createTestContext()
    await buildReportHistory(ctx)
  })
  after(() => ctx.close())

  const year = { fiscalYear: 2568, period: 'year' } as const
  const withoutStamp = (r: Report) => ({ ...r, generatedAt: '' })
  const keptKeys = async () => (await ctx.db.selectFrom('report_kept').select('key').orderBy('key').execute()).map((r) => r.key)
  /** The report as a fresh computation would give it, without touching what is kept. */
  const fresh = async () => {
    const saved = await ctx.db.selectFrom('report_kept').selectAll().execute()
    await ctx.db.deleteFrom('report_kept').execute()
    const r = await computeReport(ctx, year)
    await ctx.db.deleteFrom('report_kept').execute()
    if (saved.length > 0) await ctx.db.insertInto('report_kept').values(saved).execute()
    return withoutStamp(r)
  }
  /** Marks the kept year figures, so that a report showing the mark was served from the store. */
  const markKept = async () => {
    // Edited in code rather than with SQLite's json_set: the same on both databases.
    const rows = await ctx.db.selectFrom('report_kept').select(['key', 'figures']).where('key', 'like', 'figures|%|2568|year|%').execute()
    for (const r of rows) {
      const figures = JSON.parse(r.figures) as { requests: { total: number } }
      figures.requests.total = -1
      await ctx.db
        .updateTable('report_kept')
        .set({ figures: JSON.stringify(figures) })
        .where('key', '=', r.key)
        .execute()
    }
  }

  it('when an ended fiscal year is asked for twice, then the second answer is the kept one and equals a fresh computation', async () => {
    const first = withoutStamp(await computeReport(ctx, year))
    // The year, the previous year's comparison (not published) and the year-end state are kept.
    expect(await keptKeys()).to.deep.equal(['figures|1|2567|year|7', 'figures|1|2568|year|7', 'yearEnd|1|2568'])
    await markKept()
    expect((await computeReport(ctx, year)).requests.total).to.equal(-1)
    await ctx.db.deleteFrom('report_kept').execute()
    const again = withoutStamp(await computeReport(ctx, year))
    expect(again).to.deep.equal(first)
    expect(withoutStamp(await computeReport(ctx, year))).to.deep.equal(first)
  })

  it('when the period has not ended, then nothing is kept for it', async () => {
    await ctx.db.deleteFrom('report_kept').execute()
    await computeReport(ctx, { fiscalYear: 2569, period: 'year' })
    await computeReport(ctx, { from: '2024-10-01', to: '2025-09-30' })
    // FY 2569's comparison is FY 2568, which has ended: only that is kept.
    expect(await keptKeys()).to.deep.equal(['figures|1|2568|year|7'])
  })

  it('when writes are dated only in a later fiscal year, then the ended year stays kept', async () => {
    await computeReport(ctx, year)
    await markKept()
    await sql`INSERT INTO stock_movement (stock_id, kind, quantity, reason, at) SELECT id, 'to_repair', 1, 'ทดสอบ', '2025-10-05T03:00:00.000Z' FROM stock_item WHERE code = 'CHAIR'`.execute(
      ctx.db,
    )
    await sql`INSERT INTO asset_status_event (asset_id, from_status, to_status, on_date, at) SELECT id, status, status, '2025-10-05', '2025-10-05T03:00:00.000Z' FROM asset WHERE code = 'AMP-2'`.execute(
      ctx.db,
    )
    await sql`UPDATE asset SET location = 'ห้องเก็บของ' WHERE code = 'AMP-2'`.execute(ctx.db) // not a figure: no change
    await sql`UPDATE app_user SET name = 'ชื่อใหม่'`.execute(ctx.db)
    expect((await computeReport(ctx, year)).requests.total).to.equal(-1)
    // …and FY 2569's own counter moved.
    const epochs = await ctx.db.selectFrom('report_epoch').selectAll().orderBy('fiscal_year').execute()
    expect(epochs.map((e) => e.fiscal_year)).to.include.members([2567, 2568])
    await ctx.db.deleteFrom('report_kept').execute()
  })

  // Each write is dated in FY 2568 (or renames something the figures show) and changes the report.
  const writes: Array<[what: string, write: () => Promise<unknown>]> = [
    [
      'a loan returned on another day',
      () => sql`UPDATE loan SET returned_on = '2025-09-30' WHERE returned_on = '2025-10-01' AND handed_over_on = '2025-09-28'`.execute(ctx.db),
    ],
    ['a loan item returned on another day', () => sql`UPDATE loan_item SET returned_on = '2025-09-30' WHERE returned_on = '2025-10-01'`.execute(ctx.db)],
    [
      'a counted line corrected',
      () =>
        sql`UPDATE loan_stock_line SET handed_over_qty = handed_over_qty - 1, returned_good = returned_good - 1 WHERE loan_id = (SELECT id FROM loan WHERE handed_over_on = '2024-12-01')`.execute(
          ctx.db,
        ),
    ],
    [
      'a follow-up',
      () =>
        sql`INSERT INTO follow_up (loan_id, on_date, method, note, created_by, created_at) SELECT id, '2024-11-08', 'phone', '', requested_by, '2024-11-08T03:00:00.000Z' FROM loan WHERE handed_over_on = '2024-11-05'`.execute(
          ctx.db,
        ),
    ],
    ['a compensation settled on another day', () => sql`UPDATE compensation SET settled_on = '2025-10-20' WHERE settled_on = '2024-12-20'`.execute(ctx.db)],
    [
      'an asset lost in September',
      () =>
        sql`INSERT INTO asset_status_event (asset_id, from_status, to_status, on_date, at) SELECT id, status, 'lost', '2025-09-01', '2025-09-01T03:00:00.000Z' FROM asset WHERE code = 'NB-1'`.execute(
          ctx.db,
        ),
    ],
    [
      'counted units moved into repair',
      () =>
        sql`INSERT INTO stock_movement (stock_id, kind, quantity, reason, at) SELECT id, 'to_repair', 3, 'ทดสอบ', '2025-09-01T03:00:00.000Z' FROM stock_item WHERE code = 'CHAIR'`.execute(
          ctx.db,
        ),
    ],
    ['a category renamed', () => sql`UPDATE category SET name = name || ' (ใหม่)' WHERE code = 'electrical'`.execute(ctx.db)],
    ['an asset recoded', () => sql`UPDATE asset SET code = 'AMP-01' WHERE code = 'AMP-1'`.execute(ctx.db)],
    [
      'a department renamed',
      () =>
        sql`UPDATE department SET name = name || ' (ใหม่)' WHERE id = (SELECT department_id FROM loan WHERE department_id IS NOT NULL AND handed_over_on >= '2024-10-01' LIMIT 1)`.execute(
          ctx.db,
        ),
    ],
    ['a request cancelled', () => sql`UPDATE loan SET status = 'cancelled' WHERE status = 'pending' AND requested_on = '2025-09-29'`.execute(ctx.db)],
  ]
  for (const [what, write] of writes) {
    it(`when ${what} is written after the year was kept, then the next report is computed again`, async () => {
      const before = withoutStamp(await computeReport(ctx, year)) // kept (or computed and kept)
      expect(await ctx.db.selectFrom('report_kept').select('key').where('key', 'like', 'figures|%|2568|year|%').executeTakeFirst()).to.not.equal(undefined)
      await write()
      const served = withoutStamp(await computeReport(ctx, year))
      expect(served).to.not.deep.equal(before)
      expect(served).to.deep.equal(await fresh())
    })
  }
})
