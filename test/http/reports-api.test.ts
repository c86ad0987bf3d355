import { expect } from 'chai'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { apiAs, errorOf, withToken } from '../helpers/loans.js'
import { buildReportHistory } from '../helpers/report-history.js'
import { makeUser } from '../helpers/builders.js'
import { saveNarrative, submitReport } from '../../server/services/publication.service.js'
import { getCurrentUser } from '../../server/services/user.service.js'

/*
 * GET /api/v1/reports/fiscal-years/:year (SPEC §5, §6): roles, parameters, and the §6 JSON on the
 * known history of test/helpers/report-history.ts (figures checked one by one in
 * test/integration/report.service.test.ts; here the wire shape and a few headline numbers).
 */
describe('reports API (SPEC §5/§6)', function () {
  this.timeout(20_000)
  let t: TestApp
  let tokens: Record<'finance' | 'executive' | 'committee' | 'staff' | 'admin', string>
  before(async () => {
    t = await createTestApp()
    await buildReportHistory(t.ctx)
    tokens = {
      finance: (await withToken(t, ['finance'])).token,
      executive: (await withToken(t, ['executive'])).token,
      committee: (await withToken(t, ['committee'])).token,
      staff: (await withToken(t, ['staff'])).token,
      admin: (await withToken(t, ['admin'])).token,
    }
  })
  after(() => t.close())

  it('when finance, the executive or the committee asks for a fiscal year, then 200 with the §6 fields', async () => {
    for (const role of ['finance', 'executive', 'committee'] as const) {
      const res = await apiAs(t, tokens[role]).get('/api/v1/reports/fiscal-years/2568')
      expect(res.status, role).to.equal(200)
      expect(res.type).to.equal('application/json')
      const r = res.body as Record<string, unknown> & { requests: object; loans: object; byMonth: unknown[]; previousYear: Record<string, unknown> }
      for (const key of [
        'fiscalYear',
        'period',
        'from',
        'to',
        'requests',
        'loans',
        'incidents',
        'overdue',
        'onTimeRate',
        'averageLoanDays',
        'byMonth',
        'byQuarter',
        'byCategory',
        'byDepartment',
        'byBorrowerType',
        'byKind',
        'topAssets',
        'previousYear',
        'itemsAtYearEnd',
      ]) {
        expect(r, key).to.have.property(key)
      }
      expect(r).to.include({ fiscalYear: 2568, period: 'year', from: '2024-10-01', to: '2025-09-30', averageLoanDays: 5.8 })
      expect(r.requests).to.deep.equal({ total: 10, approved: 7, rejected: 1, cancelled: 1, expired: 1, pending: 1 })
      expect(r.loans).to.include({ total: 7, items: 127, returnedOnTime: 4, returnedLate: 2, outstanding: 1 })
      expect(r.incidents).to.include({ damaged: 2, lost: 2 })
      expect(r.overdue).to.include({ cases: 2, followedUpInTime: 1 })
      expect(r.byMonth).to.have.length(12)
      expect(r.byMonth[0]).to.include({ month: '2024-10', requests: 0, loans: 1, items: 1 })
      expect(r.previousYear).to.include({ fiscalYear: 2567, period: 'year' })
      expect(r.itemsAtYearEnd).to.include({ onLoan: 41, lost: 2, inRepair: 2 })
      // Nothing written or submitted yet: an empty narrative and no publication.
      expect(r.narrative).to.deep.equal({ summary: '', problems: '', suggestions: '' })
      expect(r.publication).to.equal(null)
      // Aggregates only: no borrower's name or phone anywhere in the answer.
      expect(JSON.stringify(r)).to.not.match(/พระครูสุนทร|089-111-2222/)
    }
  })

  it('when the half year is submitted for publication, then the API answers with its frozen narrative and the snapshot hash', async () => {
    const finance = (await getCurrentUser(t.ctx, (await makeUser(t.ctx, ['finance'], { username: 'report-submitter' })).id))!
    await saveNarrative(t.ctx, finance, 2568, 'h1', { summary: 'สรุปครึ่งปี', problems: '', suggestions: '' })
    const pub = await submitReport(t.ctx, finance, 2568, 'h1', { memoNumber: 'กค 1/2568' })
    await saveNarrative(t.ctx, finance, 2568, 'h1', { summary: 'แก้ภายหลัง' }).catch(() => undefined) // refused: frozen
    const res = await apiAs(t, tokens.committee).get('/api/v1/reports/fiscal-years/2568?period=h1')
    expect(res.status).to.equal(200)
    expect(res.body.narrative).to.deep.equal({ summary: 'สรุปครึ่งปี', problems: '', suggestions: '' })
    expect(res.body.publication).to.deep.equal({ status: 'submitted', sha256: pub.snapshotHash, publishedAt: null })
  })

  it('when a period is given, then the half year and each quarter answer with their own dates', async () => {
    const h1 = await apiAs(t, tokens.committee).get('/api/v1/reports/fiscal-years/2568?period=h1')
    expect(h1.status).to.equal(200)
    expect(h1.body).to.include({ period: 'h1', from: '2024-10-01', to: '2025-03-31', itemsAtYearEnd: null })
    expect((h1.body as { byMonth: unknown[] }).byMonth).to.have.length(6)
    expect((h1.body as { loans: object }).loans).to.include({ total: 4, outstanding: 1 })
    const expected = { q1: ['2024-10-01', '2024-12-31'], q2: ['2025-01-01', '2025-03-31'], q3: ['2025-04-01', '2025-06-30'], q4: ['2025-07-01', '2025-09-30'] }
    for (const [period, [from, to]] of Object.entries(expected)) {
      const res = await apiAs(t, tokens.finance).get(`/api/v1/reports/fiscal-years/2568?period=${period}`)
      expect(res.status, period).to.equal(200)
      expect(res.body, period).to.include({ period, from, to })
      expect((res.body as { byMonth: unknown[] }).byMonth, period).to.have.length(3)
    }
  })

  it('when the caller is anonymous, then 401; staff or admin, then 403', async () => {
    const anon = await apiAs(t).get('/api/v1/reports/fiscal-years/2568')
    expect(anon.status).to.equal(401)
    expect(errorOf(anon).code).to.equal('unauthenticated')
    for (const role of ['staff', 'admin'] as const) {
      const res = await apiAs(t, tokens[role]).get('/api/v1/reports/fiscal-years/2568')
      expect(res.status, role).to.equal(403)
      expect(errorOf(res).code, role).to.equal('forbidden')
    }
  })

  it('when the year or the period is bad, then 422 naming the parameter', async () => {
    // A Common-Era year, a year that is not a number, a year out of range.
    for (const year of ['2025', 'abcd', '25680', '1999']) {
      const res = await apiAs(t, tokens.finance).get(`/api/v1/reports/fiscal-years/${year}`)
      expect(res.status, year).to.equal(422)
      expect(errorOf(res).code).to.equal('validation_failed')
      expect(errorOf(res).details, year).to.deep.equal([{ field: 'year', message: errorOf(res).details![0]!.message }])
      expect(errorOf(res).details![0]!.message).to.include('พุทธศักราช')
    }
    for (const q of ['period=q5', 'period=H1', 'period=', 'period=year&period=h1']) {
      const res = await apiAs(t, tokens.finance).get(`/api/v1/reports/fiscal-years/2568?${q}`)
      expect(res.status, q).to.equal(422)
      expect(
        errorOf(res).details?.map((d) => d.field),
        q,
      ).to.deep.equal(['period'])
    }
  })
})
