import { expect } from 'chai'
import { sql } from 'kysely'
import { generateDemo } from '../../scripts/demo-data.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { createTestContext, type TestContext } from '../helpers/db.js'

/*
 * Issue 16: a demo made early in the Bangkok morning stamped today's actions at 08:30 and later —
 * ahead of the clock. Today's actions now end before the moment the demo is made.
 */
describe('demo made early in the morning (issue 16)', () => {
  const NOW = '2026-11-19T23:40:00.000Z' // 06:40 on 20 Nov 2026 in Bangkok
  let ctx: TestContext
  before(async function () {
    this.timeout(120_000)
    ctx = await createTestContext()
    await generateDemo(ctx, { seed: 2568, scale: 0.1, now: NOW })
  })
  after(() => ctx.close())

  it('when generated at 06:40 Bangkok time, then no audit entry, loan step or movement is stamped after that moment, and the chain verifies', async () => {
    const last = await ctx.db.selectFrom('audit_log').select(sql<string>`max(at)`.as('at')).executeTakeFirstOrThrow()
    expect(last.at < NOW, last.at).to.equal(true)
    const loans = await ctx.db
      .selectFrom('loan')
      .select([sql<string>`max(requested_at)`.as('requested'), sql<string | null>`max(handed_over_at)`.as('handed')])
      .executeTakeFirstOrThrow()
    expect(loans.requested < NOW, loans.requested).to.equal(true)
    expect((loans.handed ?? '') < NOW, String(loans.handed)).to.equal(true)
    expect((await verifyChain(ctx.db)).ok).to.equal(true)
  })
})
