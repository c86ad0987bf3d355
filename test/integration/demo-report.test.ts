import { expect } from 'chai'
import { generateDemo } from '../../scripts/demo-data.js'
import { loanRegister, parseRegisterQuery, type RegisterLoan } from '../../server/services/register.service.js'
import { computeReport, type Report } from '../../server/services/report.service.js'
import { createTestContext, type TestContext } from '../helpers/db.js'

/*
 * The done-criterion, first half: on the demo agency, the statistics of last fiscal year (2569)
 * and of its first half equal what a person counts from the loan-return register by hand — here, a
 * count written independently of the report's SQL, from the register's rows of every loan ever asked.
 */
const NOW = '2026-11-20T05:00:00.000Z'

interface HandCount {
  requests: { total: number; rejected: number; cancelled: number; expired: number; pending: number }
  loans: { total: number; items: number; returnedOnTime: number; returnedLate: number; outstanding: number }
  byMonthLoans: Map<string, number>
  byMonthItems: Map<string, number>
  byKind: Map<string, number>
}

/** The day the loan was all back (its last line's return), or null while something is out. */
function backOn(l: RegisterLoan): string | null {
  const lent = l.lines.filter((x) => x.handedOverOn !== null)
  if (lent.length === 0 || lent.some((x) => x.out || x.returnedOn === null)) return null
  return lent
    .map((x) => x.returnedOn!)
    .sort()
    .at(-1)!
}

function handCount(all: RegisterLoan[], from: string, to: string, uncounted: Set<string>): HandCount {
  const inP = (d: string | null) => d !== null && d >= from && d <= to
  const c: HandCount = {
    requests: { total: 0, rejected: 0, cancelled: 0, expired: 0, pending: 0 },
    loans: { total: 0, items: 0, returnedOnTime: 0, returnedLate: 0, outstanding: 0 },
    byMonthLoans: new Map(),
    byMonthItems: new Map(),
    byKind: new Map(),
  }
  const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n)
  for (const l of all) {
    // Vehicles and weapons count only when lent.
    const onlyUncounted = l.lines.every((x) => uncounted.has(x.code))
    if (inP(l.requestedOn) && !(l.handedOverOn === null && onlyUncounted)) {
      c.requests.total++
      if (l.status === 'rejected' || l.status === 'cancelled' || l.status === 'expired' || l.status === 'pending') c.requests[l.status]++
    }
    if (!inP(l.handedOverOn)) continue
    const items = l.lines.filter((x) => x.handedOverOn !== null).reduce((n, x) => n + (x.type === 'asset' ? 1 : x.quantity!), 0)
    c.loans.total++
    c.loans.items += items
    add(c.byMonthLoans, l.handedOverOn!.slice(0, 7), 1)
    add(c.byMonthItems, l.handedOverOn!.slice(0, 7), items)
    add(c.byKind, l.kind, 1)
    const back = backOn(l)
    if (back === null || back > to) c.loans.outstanding++
    else if (back <= l.dueOn) c.loans.returnedOnTime++
    else c.loans.returnedLate++
  }
  return c
}

describe('demo agency: the report equals the hand-counted register', function () {
  this.timeout(240_000) // generating the demo agency takes longer on PostgreSQL on a loaded CI machine
  let ctx: TestContext
  let all: RegisterLoan[]
  let uncounted: Set<string>
  before(async () => {
    ctx = await createTestContext()
    await generateDemo(ctx, { seed: 7, scale: 0.15, now: NOW })
    ctx.clock.set(NOW)
    // Every loan asked from the first demo year to today: a loan lent in FY 2569 may have been asked before it.
    all = (await loanRegister(ctx, parseRegisterQuery(ctx, { period: 'range', from: '2024-10-01', to: '2026-11-20' }))).loans
    const rows = await ctx.db
      .selectFrom('asset')
      .innerJoin('category', 'category.id', 'asset.category_id')
      .select('asset.code')
      .where('category.code', 'in', ['vehicle', 'weapon'])
      .execute()
    uncounted = new Set(rows.map((r) => r.code))
  })
  after(() => ctx.close())

  for (const period of ['year', 'h1'] as const) {
    it(`when the FY 2569 ${period} report is computed, then its requests, loans, items, returns, months and kinds equal the register counted by hand`, async () => {
      const r: Report = await computeReport(ctx, { fiscalYear: 2569, period })
      const h = handCount(all, r.from, r.to, uncounted)
      expect(h.loans.total, 'the demo lends in this period').to.be.greaterThan(10)
      expect(r.requests).to.deep.include(h.requests)
      expect(r.loans).to.deep.include(h.loans)
      for (const m of r.byMonth) {
        expect(m.loans, m.month).to.equal(h.byMonthLoans.get(m.month) ?? 0)
        expect(m.items, m.month).to.equal(h.byMonthItems.get(m.month) ?? 0)
      }
      expect(Object.fromEntries(r.byKind.map((k) => [k.kind, k.loans]))).to.deep.equal(Object.fromEntries(h.byKind))
      const judged = h.loans.returnedOnTime + h.loans.returnedLate + r.loans.outstandingOverdue
      expect(r.onTimeRate).to.equal(judged === 0 ? null : h.loans.returnedOnTime / judged)
      // The fiscal year before last is published in the demo: the comparison comes from its frozen snapshot.
      expect(r.previousYear).to.include({ fiscalYear: 2568, period, source: 'snapshot' })
    })
  }

  it('when the demo is generated, then FY 2568 and its first half are published and FY 2569 is left to submit', async () => {
    const rows = await ctx.db.selectFrom('report_publication').select(['fiscal_year', 'period', 'status']).orderBy('period').execute()
    expect(rows).to.deep.equal([
      { fiscal_year: 2568, period: 'h1', status: 'published' },
      { fiscal_year: 2568, period: 'year', status: 'published' },
    ])
  })
})
