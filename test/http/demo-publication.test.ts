import { expect } from 'chai'
import supertest from 'supertest'
import { DEMO_PASSWORD, generateDemo } from '../../scripts/demo-data.js'
import { paperApprovalReview } from '../../server/services/loan-paper.service.js'
import { computeReport } from '../../server/services/report.service.js'
import { csrfFrom, createTestApp, signIn, type TestApp } from '../helpers/app.js'

/*
 * The done-criterion on the demo agency, through the pages as people would do it: finance
 * submits last fiscal year's report (FY 2569) and its first half, the committee reviews them, the
 * executive approves, and the public page shows them with the same figures as the report.
 * (That the report equals the register counted by hand: test/integration/demo-report.test.ts.)
 */
describe('demo agency: last fiscal year is published through the pages', function () {
  this.timeout(90_000)
  const NOW = '2026-11-20T05:00:00.000Z'
  let t: TestApp
  let who: Record<'finance' | 'committee' | 'executive', supertest.Agent>

  before(async () => {
    t = await createTestApp({ now: NOW })
    await generateDemo(t.ctx, { seed: 3, scale: 0.1, now: NOW })
    t.ctx.clock.set(NOW)
    who = {
      finance: await signIn(t.app, 'finance', DEMO_PASSWORD),
      committee: await signIn(t.app, 'committee', DEMO_PASSWORD),
      executive: await signIn(t.app, 'executive', DEMO_PASSWORD),
    }
  })
  after(() => t.close())

  const step = async (agent: supertest.Agent, period: string, action: string, body: Record<string, string>) => {
    const page = await agent.get(`/reports?fy=2569&period=${period}`).expect(200)
    const res = await agent
      .post(`/reports/publications/2569/${period}/${action}`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), ...body })
    expect(res.status, `${action}: ${res.text.slice(0, 200)}`).to.equal(303)
    const after = await agent.get(String(res.headers.location)).expect(200)
    expect(after.text, action).to.not.match(/class="flash[^"]*error/)
  }

  for (const period of ['year', 'h1'] as const) {
    it(`when finance submits FY 2569 ${period}, the committee reviews and the executive approves, then /transparency shows it with the report's figures`, async () => {
      const before = await supertest(t.app).get(`/transparency/2569/${period}`)
      expect(before.status, 'not public before approval').to.equal(404)

      await step(who.finance, period, 'narrative', {
        summary: 'ให้บริการยืม-คืนครบทุกรายการตามระเบียบ',
        problems: 'คืนเกินกำหนดบางราย',
        suggestions: 'ติดตามทวงคืนภายใน ๗ วัน',
      })
      await step(who.finance, period, 'submit', { memoNumber: 'กค 0023/99', memoDate: '2026-11-18', note: '' })
      await step(who.committee, period, 'review', { note: 'ตรวจสอบกับทะเบียนแล้ว' })
      await step(who.executive, period, 'approve', { note: 'ทราบ อนุมัติให้เผยแพร่' })

      const report = await computeReport(t.ctx, { fiscalYear: 2569, period })
      const pub = await supertest(t.app).get(`/transparency/2569/${period}.json`).expect(200)
      expect(pub.body).to.include({ fiscalYear: 2569, period, from: report.from, to: report.to })
      expect(pub.body.requests).to.deep.include({ total: report.requests.total, approved: report.requests.approved, rejected: report.requests.rejected })
      expect(pub.body.loans).to.deep.include({ total: report.loans.total, items: report.loans.items, returnedOnTime: report.loans.returnedOnTime })
      expect(pub.body.narrative.summary).to.equal('ให้บริการยืม-คืนครบทุกรายการตามระเบียบ')
      expect(pub.body.previousYear).to.include({ fiscalYear: 2568, source: 'snapshot' })
      const page = await supertest(t.app).get(`/transparency/2569/${period}`).expect(200)
      expect(page.text).to.include('ให้บริการยืม-คืนครบทุกรายการตามระเบียบ')
      const index = await supertest(t.app).get('/transparency').expect(200)
      expect(index.text).to.include(`/transparency/2569/${period}`)
    })
  }

  it('when both are published, then /transparency/2569.json is the whole year', async () => {
    const res = await supertest(t.app).get('/transparency/2569.json').expect(200)
    expect(res.body).to.include({ fiscalYear: 2569, period: 'year' })
  })
})

describe('demo agency: paper approvals through the pages, as the printed sign-ins', function () {
  this.timeout(90_000)
  const NOW = '2026-11-20T05:00:00.000Z'
  let t: TestApp

  before(async () => {
    t = await createTestApp({ now: NOW })
    await generateDemo(t.ctx, { seed: 3, scale: 0.1, now: NOW })
    t.ctx.clock.set(NOW)
  })
  after(() => t.close())

  const standingPaper = (approver: string) =>
    t.ctx.db
      .selectFrom('loan_approval as pa')
      .innerJoin('app_user as u', 'u.id', 'pa.by_user_id')
      .select(['pa.id', 'pa.loan_id'])
      .where('u.username', '=', approver)
      .where('pa.on_paper', '=', 1)
      .where('pa.voided_at', 'is', null)
      .where('pa.confirmed_at', 'is', null)
      .where('pa.disputed_at', 'is', null)
      .orderBy('pa.id')
      .execute()

  it('when the committee opens /paper-approvals, then it lists the unconfirmed, disputed, unscanned and one-officer paper approvals of the demo', async () => {
    const review = await paperApprovalReview(t.ctx)
    const committee = await signIn(t.app, 'committee', DEMO_PASSWORD)
    const page = await committee.get('/paper-approvals').expect(200)
    for (const reason of ['unconfirmed', 'disputed', 'noScan', 'oneHand'] as const) {
      const e = review.find((x) => x.reasons.includes(reason))
      expect(e, reason).to.not.equal(undefined)
      expect(page.text, reason).to.include(`href="/loans/${e!.loanId}"`)
    }
  })

  for (const approver of ['executive', 'finance2'] as const) {
    it(`when ${approver} signs in with the printed password, then a paper approval in their name waits on /loans/queue and they confirm it from the loan's page`, async () => {
      const waiting = await standingPaper(approver)
      expect(waiting.length, 'paper approvals waiting for them').to.be.greaterThan(0)
      const agent = await signIn(t.app, approver, DEMO_PASSWORD)
      const queue = await agent.get('/loans/queue').expect(200)
      expect(queue.text).to.include(`/loans/${waiting[0]!.loan_id}`)
      const page = await agent.get(`/loans/${waiting[0]!.loan_id}`).expect(200)
      const res = await agent
        .post(`/loans/${waiting[0]!.loan_id}/paper/confirm`)
        .type('form')
        .send({ _csrf: csrfFrom(page.text), note: 'ลงนามจริง' })
      expect(res.status, res.text.slice(0, 200)).to.equal(303)
      const row = await t.ctx.db.selectFrom('loan_approval').select('confirmed_at').where('id', '=', waiting[0]!.id).executeTakeFirstOrThrow()
      expect(row.confirmed_at).to.not.equal(null)
    })
  }
})
