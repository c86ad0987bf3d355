import { expect } from 'chai'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { buildReportHistory, type ReportHistory } from '../helpers/report-history.js'
import { computeReport } from '../../server/services/report.service.js'
import { rejects } from '../helpers/expect.js'

/*
 * Every figure of the report against numbers counted by hand from the history in
 * test/helpers/report-history.ts (its table lists loans L0 … L12). The history is built once.
 */
describe('statistics report (SPEC §6)', function () {
  this.timeout(20_000)
  let ctx: TestContext
  let h: ReportHistory
  before(async () => {
    ctx = await createTestContext()
    h = await buildReportHistory(ctx)
  })
  after(() => ctx.close())

  const zeroMonth = { requests: 0, loans: 0, items: 0, assets: 0, units: 0 }

  it('when the fiscal year 2568 is asked for, then every figure matches the hand count', async () => {
    const r = await computeReport(ctx, { fiscalYear: 2568, period: 'year' })
    expect(r).to.include({ fiscalYear: 2568, period: 'year', from: '2024-10-01', to: '2025-09-30' })
    // Requests by request date, 2024-10-01 … 2025-09-30: L2 L3 L4 L5 L6 L8 L9 L10 L11 L12 = 10.
    // L7 (a vehicle never lent) is left out; L1 was asked on 2024-09-28 (FY 2567).
    // approved at some point: L2 L3 L4 L5 L6 L10 (expired after approval) L11 = 7;
    // rejected L8 (L7 not counted) = 1; cancelled L9 = 1; expired L10 = 1; pending L12 = 1.
    expect(r.requests).to.deep.equal({ total: 10, approved: 7, rejected: 1, cancelled: 1, expired: 1, pending: 1 })
    // Loans by hand-over date: L1 (10-02) L2 L3 L4 L5 L6 L11 = 7.
    // Assets: L1 1 + L2 1 + L4 2 + L5 1 + L6 1 + L11 1 = 7; units: L3 80 + L11 40 = 120; items 127.
    // On time (by the last item, against the final due date): L1, L3, L4 (last item 04-02 = due), L5 (05-05 ≤ extended 05-06) = 4.
    // Late: L2 (11-10 > 11-07), L6 (06-21 > 06-10) = 2. Outstanding at 30 Sep: L11 (back 10-01) = 1, not yet due → 0 overdue.
    expect(r.loans).to.deep.equal({ total: 7, items: 127, assets: 7, units: 120, returnedOnTime: 4, returnedLate: 2, outstanding: 1, outstandingOverdue: 0 })
    // On-time rate = 4 / (4 + 2 + 0).
    expect(r.onTimeRate).to.be.closeTo(4 / 6, 1e-9)
    // Loan days, both ends counted: L1 3, L2 6, L3 3, L4 6 (28 Mar … 2 Apr), L5 5, L6 12 = 35 / 6 = 5.83 → 5.8.
    expect(r.averageLoanDays).to.equal(5.8)
    // L3 on 2024-12-03: 2 chairs damaged, 2 lost, one compensation record each; the lost ones settled on 12-20 for 300 baht.
    expect(r.incidents).to.deep.equal({ damaged: 2, lost: 2, compensationRecords: 2, compensationSettled: 1, compensationSettledBaht: 300 })
    // Overdue cases (due in the year, not back by the due date): L2 (due 11-07), L6 (due 06-10) = 2.
    // In time (follow-up after due and ≤ due + 7): L2's on 11-09 yes; L6's on 06-20 > 06-17 no → 1.
    // Follow-ups dated in the year: 11-09 and 06-20 = 2.
    expect(r.overdue).to.deep.equal({ cases: 2, followedUpInTime: 1, followUps: 2 })

    expect(r.byMonth.map((m) => m.month)).to.deep.equal([
      '2024-10',
      '2024-11',
      '2024-12',
      '2025-01',
      '2025-02',
      '2025-03',
      '2025-04',
      '2025-05',
      '2025-06',
      '2025-07',
      '2025-08',
      '2025-09',
    ])
    expect(r.byMonth).to.deep.equal([
      { month: '2024-10', requests: 0, loans: 1, items: 1, assets: 1, units: 0 }, // L1 lent (asked in Sep)
      { month: '2024-11', requests: 1, loans: 1, items: 1, assets: 1, units: 0 }, // L2
      { month: '2024-12', requests: 1, loans: 1, items: 80, assets: 0, units: 80 }, // L3
      { month: '2025-01', ...zeroMonth },
      { month: '2025-02', ...zeroMonth },
      { month: '2025-03', requests: 1, loans: 1, items: 2, assets: 2, units: 0 }, // L4
      { month: '2025-04', ...zeroMonth },
      { month: '2025-05', requests: 1, loans: 1, items: 1, assets: 1, units: 0 }, // L5
      { month: '2025-06', requests: 1, loans: 1, items: 1, assets: 1, units: 0 }, // L6 (L7 not counted)
      { month: '2025-07', requests: 3, loans: 0, items: 0, assets: 0, units: 0 }, // L8 L9 L10
      { month: '2025-08', ...zeroMonth },
      { month: '2025-09', requests: 2, loans: 1, items: 41, assets: 1, units: 40 }, // L11 L12; L11 lent
    ])
    expect(r.byQuarter).to.deep.equal([
      { fiscalYear: 2568, quarter: 1, requests: 2, loans: 3, items: 82, assets: 2, units: 80 },
      { fiscalYear: 2568, quarter: 2, requests: 1, loans: 1, items: 2, assets: 2, units: 0 },
      { fiscalYear: 2568, quarter: 3, requests: 2, loans: 2, items: 2, assets: 2, units: 0 },
      { fiscalYear: 2568, quarter: 4, requests: 5, loans: 1, items: 41, assets: 1, units: 40 },
    ])
    // By category (most items first): chairs have no category (120 units in L3, L11);
    // electrical AMP-1 ×3 (L2 L4 L11) + AMP-2 ×1 (L4) in 3 loans; computer NB-1 in L1, L5; the lent vehicle CAR-1 in L6.
    expect(r.byCategory.map((c) => [c.category, c.loans, c.items, c.assets, c.units])).to.deep.equal([
      [null, 2, 120, 0, 120],
      ['electrical', 3, 4, 4, 0],
      ['computer', 2, 2, 2, 0],
      ['vehicle', 1, 1, 1, 0],
    ])
    // Staff loans L1 L4 L6 (in premises, employee, the staff member's department): 3 loans, 1 + 2 + 1 items;
    // the temple's L2 L3 L5 L11 (off premises, public, no department): 4 loans, 1 + 80 + 1 + 41 items.
    expect(r.byKind.map((k) => [k.kind, k.loans, k.items])).to.deep.equal([
      ['in_premises', 3, 4],
      ['off_premises', 4, 123],
    ])
    expect(r.byBorrowerType.map((k) => [k.borrowerType, k.loans, k.items])).to.deep.equal([
      ['employee', 3, 4],
      ['public', 4, 123],
    ])
    expect(r.byDepartment.map((k) => [k.department, k.loans, k.items])).to.deep.equal([
      [null, 4, 123],
      [h.departmentCode, 3, 4],
    ])
    // Most-borrowed by loans: AMP-1 3, NB-1 2, then AMP-2 and CAR-1 with 1 each (by code).
    expect(r.topAssets.map((a) => [a.code, a.loans])).to.deep.equal([
      ['AMP-1', 3],
      ['NB-1', 2],
      ['AMP-2', 1],
      ['CAR-1', 1],
    ])
    expect(r.topStock.map((s) => [s.code, s.loans, s.units])).to.deep.equal([['CHAIR', 2, 120]])
    // At the end of 30 Sep 2025: L11's AMP-1 and 40 chairs are out; L3's 2 lost chairs left the pool in the
    // year and its 2 damaged chairs are still in repair.
    expect(r.itemsAtYearEnd).to.deep.equal({
      asOf: '2025-09-30',
      onLoan: 41,
      onLoanAssets: 1,
      onLoanUnits: 40,
      lost: 2,
      lostAssets: 0,
      lostUnits: 2,
      inRepair: 2,
      inRepairAssets: 0,
      inRepairUnits: 2,
    })
  })

  it('when the year is compared with the previous one, then FY 2567 is counted the same way', async () => {
    const p = (await computeReport(ctx, { fiscalYear: 2568, period: 'year' })).previousYear
    expect(p).to.include({ fiscalYear: 2567, period: 'year', source: 'live', from: '2023-10-01', to: '2024-09-30' })
    // Requests in FY 2567: L0 (03-10), L0b and L1 (both 09-28), all approved.
    expect(p.requests).to.deep.equal({ total: 3, approved: 3, rejected: 0, cancelled: 0, expired: 0, pending: 0 })
    // Loans: L0 (on time) and L0b (handed over 09-28, back 10-01: outstanding at 30 Sep). L1 went out in FY 2568.
    expect(p.loans).to.deep.equal({ total: 2, items: 2, assets: 2, units: 0, returnedOnTime: 1, returnedLate: 0, outstanding: 1, outstandingOverdue: 0 })
    expect(p.onTimeRate).to.equal(1)
    expect(p.averageLoanDays).to.equal(3) // L0: 10 … 12 March
    expect(p.overdue).to.deep.equal({ cases: 0, followedUpInTime: 0, followUps: 0 })
    expect(p.byMonth.find((m) => m.month === '2024-09')).to.deep.equal({ month: '2024-09', requests: 2, loans: 1, items: 1, assets: 1, units: 0 })
    expect(p).to.not.have.property('previousYear')
  })

  it('when the first half of FY 2568 is asked for, then loans out across 31 March are outstanding', async () => {
    const r = await computeReport(ctx, { fiscalYear: 2568, period: 'h1' })
    expect(r).to.include({ period: 'h1', from: '2024-10-01', to: '2025-03-31', itemsAtYearEnd: null })
    // Requests 1 Oct … 31 Mar: L2 L3 L4, all approved.
    expect(r.requests).to.deep.equal({ total: 3, approved: 3, rejected: 0, cancelled: 0, expired: 0, pending: 0 })
    // Loans: L1 L2 L3 L4; assets 1 + 1 + 2, units 80. On time L1 L3; late L2; L4 only partly back by 31 Mar
    // (AMP-2 came back 2 Apr) → outstanding, and not overdue (due 2 Apr).
    expect(r.loans).to.deep.equal({ total: 4, items: 84, assets: 4, units: 80, returnedOnTime: 2, returnedLate: 1, outstanding: 1, outstandingOverdue: 0 })
    expect(r.onTimeRate).to.be.closeTo(2 / 3, 1e-9)
    expect(r.averageLoanDays).to.equal(4) // L1 3, L2 6, L3 3
    expect(r.incidents).to.deep.equal({ damaged: 2, lost: 2, compensationRecords: 2, compensationSettled: 1, compensationSettledBaht: 300 })
    expect(r.overdue).to.deep.equal({ cases: 1, followedUpInTime: 1, followUps: 1 }) // L2 only
    expect(r.byMonth.map((m) => [m.month, m.requests, m.loans, m.items])).to.deep.equal([
      ['2024-10', 0, 1, 1],
      ['2024-11', 1, 1, 1],
      ['2024-12', 1, 1, 80],
      ['2025-01', 0, 0, 0],
      ['2025-02', 0, 0, 0],
      ['2025-03', 1, 1, 2],
    ])
    expect(r.byQuarter.map((q) => [q.quarter, q.requests, q.loans, q.items])).to.deep.equal([
      [1, 2, 3, 82],
      [2, 1, 1, 2],
    ])
    // The same half of FY 2567 (1 Oct 2023 … 31 Mar 2024): L0 only.
    expect(r.previousYear).to.include({ fiscalYear: 2567, period: 'h1', from: '2023-10-01', to: '2024-03-31' })
    expect(r.previousYear.requests.total).to.equal(1)
    expect(r.previousYear.loans).to.include({ total: 1, returnedOnTime: 1, outstanding: 0 })
  })

  it('when the third quarter is asked for, then only its loans, the extension and the late vehicle count', async () => {
    const r = await computeReport(ctx, { fiscalYear: 2568, period: 'q3' })
    expect(r).to.include({ period: 'q3', from: '2025-04-01', to: '2025-06-30' })
    // Requests L5, L6 (L7 the unlent vehicle is not counted); L4 came back in Q3 but was lent in Q2.
    expect(r.requests).to.deep.equal({ total: 2, approved: 2, rejected: 0, cancelled: 0, expired: 0, pending: 0 })
    expect(r.loans).to.deep.equal({ total: 2, items: 2, assets: 2, units: 0, returnedOnTime: 1, returnedLate: 1, outstanding: 0, outstandingOverdue: 0 })
    expect(r.onTimeRate).to.equal(0.5)
    expect(r.averageLoanDays).to.equal(8.5) // L5 5, L6 12
    expect(r.incidents).to.deep.equal({ damaged: 0, lost: 0, compensationRecords: 0, compensationSettled: 0, compensationSettledBaht: 0 })
    // L4 (due 04-02) came back on its due date and L5 before its extended due date: only L6 is a case, followed up too late.
    expect(r.overdue).to.deep.equal({ cases: 1, followedUpInTime: 0, followUps: 1 })
    expect(r.byMonth.map((m) => [m.month, m.requests, m.loans])).to.deep.equal([
      ['2025-04', 0, 0],
      ['2025-05', 1, 1],
      ['2025-06', 1, 1],
    ])
    expect(r.byQuarter.map((q) => [q.fiscalYear, q.quarter, q.loans])).to.deep.equal([[2568, 3, 2]])
    // One item each: ties follow the register's category order (vehicle comes before computer).
    expect(r.byCategory.map((c) => [c.category, c.items])).to.deep.equal([
      ['vehicle', 1],
      ['computer', 1],
    ])
    // Nothing happened in Q3 of FY 2567.
    expect(r.previousYear.requests.total).to.equal(0)
    expect(r.previousYear.loans.total).to.equal(0)
    expect(r.previousYear.onTimeRate).to.equal(null)
    expect(r.previousYear.averageLoanDays).to.equal(null)
    expect(r.itemsAtYearEnd).to.equal(null)
  })

  it('when any range is asked for, then a loan past due and still out at its end is outstanding and overdue', async () => {
    // 5 … 8 Nov 2024: L2 out since 5 Nov, due 7 Nov, back 10 Nov.
    const r = await computeReport(ctx, { from: '2024-11-05', to: '2024-11-08' })
    expect(r).to.include({ fiscalYear: null, period: 'range' })
    expect(r.loans).to.include({ total: 1, outstanding: 1, outstandingOverdue: 1, returnedOnTime: 0 })
    expect(r.onTimeRate).to.equal(0)
    expect(r.averageLoanDays).to.equal(null)
    // Its follow-up (9 Nov) is after the range but within the deadline: it counts for the case.
    expect(r.overdue).to.deep.equal({ cases: 1, followedUpInTime: 1, followUps: 0 })
    expect(r.byMonth.map((m) => m.month)).to.deep.equal(['2024-11'])
    expect(r.previousYear).to.include({ from: '2023-11-05', to: '2023-11-08', fiscalYear: null })
  })

  it('when the period is wrong, then the service refuses naming it', async () => {
    const e1 = await rejects(computeReport(ctx, { fiscalYear: 2024, period: 'year' }), 'validation_failed')
    expect(e1.details?.[0]?.field).to.equal('year')
    const e2 = await rejects(computeReport(ctx, { fiscalYear: 2568, period: 'q5' as 'q1' }), 'validation_failed')
    expect(e2.details?.[0]?.field).to.equal('period')
    const e3 = await rejects(computeReport(ctx, { from: '2025-02-01', to: '2025-01-01' }), 'validation_failed')
    expect(e3.details?.[0]?.field).to.equal('to')
  })
})
