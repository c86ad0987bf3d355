import { expect } from 'chai'
import { createTestApp, csrfFrom, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { approveLoan, createLoan } from '../../server/services/loan.service.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { TINY_PNG, withApprovers } from '../helpers/approvers.js'
import { apiAs, count, errorOf, withToken } from '../helpers/loans.js'
import { query } from '../helpers/db.js'

/** The text of a page without tags, spaces collapsed: what a person reads. */
function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

/*
 * Early hand-over through the pages and the API (issue 14, SPEC §3). The test clock is Wednesday
 * 15 Jan 2025, 10:00 in Bangkok; the agency's default lets items go 3 days before the start.
 */
describe('early hand-over: pages and API', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  const body = (over: Record<string, unknown> = {}) => ({
    assetCodes: ['AMP-1'],
    purpose: 'งานบุญประจำปีหมู่ 3',
    place: 'วัดบ้านหนองบัว',
    kind: 'in_premises',
    startDate: '2025-01-18',
    dueDate: '2025-01-19',
    ...over,
  })

  /** A staff member's in-premises loan, approved by one officer (the hand-over is another's, the two-person rule). */
  async function approvedLoan(over: Record<string, unknown> = {}) {
    const staff = await signedInAs(t, ['staff'])
    const approver = await signedInAs(t, ['finance'])
    await makeAsset(t.ctx, { code: 'AMP-1' })
    const loan = await createLoan(t.ctx, staff.user, body(over))
    await approveLoan(t.ctx, approver.user, loan.loan.id, {})
    return { id: loan.loan.id, number: loan.number, staff }
  }

  it('when finance hands over through the API 3 days before the start, then 200, on loan, handedOverOn today', async () => {
    const { id } = await approvedLoan()
    const { token } = await withToken(t, ['finance'])
    const res = await apiAs(t, token).post(`/api/v1/loans/${id}/handover`, {})
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect(res.body).to.include({ status: 'on_loan', handedOverOn: '2025-01-15', startDate: '2025-01-18' })
  })

  it('when finance hands over through the API one day before the window, then 409 invalid_state in Thai saying from which date, and nothing changes', async () => {
    const { id } = await approvedLoan({ startDate: '2025-01-19', dueDate: '2025-01-20' })
    const { token } = await withToken(t, ['finance'])
    const audit = await count(t, 'SELECT count(*) AS n FROM audit_log')
    const res = await apiAs(t, token).post(`/api/v1/loans/${id}/handover`, {}).set('Accept-Language', 'th')
    expect(res.status).to.equal(409)
    expect(errorOf(res)).to.include({ code: 'invalid_state', message: 'ยังรับของไม่ได้ รับได้ตั้งแต่วันที่ 2025-01-16 (วันเริ่มยืม 2025-01-19)' })
    expect(await count(t, 'SELECT count(*) AS n FROM audit_log')).to.equal(audit)
    expect(await count(t, "SELECT count(*) AS n FROM loan WHERE status = 'approved'")).to.equal(1)
  })

  it('when the setting is 0, then the API refuses a hand-over the day before the start (the old rule)', async () => {
    const { id } = await approvedLoan({ startDate: '2025-01-16', dueDate: '2025-01-17' })
    await updateSettings(t.ctx, { id: null, label: 'test' }, { handOverEarlyDays: 0 })
    const { token } = await withToken(t, ['finance'])
    const res = await apiAs(t, token).post(`/api/v1/loans/${id}/handover`, {})
    expect(res.status).to.equal(409)
    expect(errorOf(res).code).to.equal('invalid_state')
  })

  it('when a loan was handed over early through the API, then another request for the days before its start is 409 naming that loan', async () => {
    const { id, number } = await approvedLoan()
    const { token } = await withToken(t, ['finance'])
    expect((await apiAs(t, token).post(`/api/v1/loans/${id}/handover`, {})).status).to.equal(200)
    const other = await withToken(t, ['staff'])
    const res = await apiAs(t, other.token).post('/api/v1/loans', body({ startDate: '2025-01-16', dueDate: '2025-01-17' }))
    expect(res.status).to.equal(409)
    expect(errorOf(res).code).to.equal('conflict')
    expect(errorOf(res).message).to.include(number).and.include('AMP-1').and.include('2025-01-15')
  })

  it('when finance keys in a paper loan through the API with handedOverOn before the window, then 422 at handedOverOn; inside it, 201 on loan', async () => {
    await makeAsset(t.ctx, { code: 'AMP-2' })
    await makeAsset(t.ctx, { code: 'AMP-3' })
    await withApprovers(t.ctx, { mayor: 'นายสมปอง นายก อบต.' })
    const { token } = await withToken(t, ['finance'])
    const paper = (code: string, on: string) => ({
      ...body({ assetCodes: [code], kind: 'off_premises', startDate: '2025-01-14', dueDate: '2025-01-16' }),
      externalBorrower: { type: 'public', name: 'นายบุญมี ใจงาม', organisation: 'กลุ่มแม่บ้านหมู่ 5', phone: '081-234-5678', villageNo: '5' },
      afterTheFact: true,
      paperApproval: { approverName: 'นายสมปอง นายก อบต.', date: '2025-01-10', scan: { fileName: 'slip.png', data: TINY_PNG.toString('base64') } },
      handedOverOn: on,
    })
    const early = await apiAs(t, token).post('/api/v1/loans', paper('AMP-2', '2025-01-10'))
    expect(early.status, JSON.stringify(early.body)).to.equal(422)
    expect(errorOf(early).details).to.deep.equal([{ field: 'handedOverOn', message: 'วันที่ส่งมอบต้องอยู่ระหว่างวันที่ 2025-01-11 (รับของก่อนวันเริ่มยืมได้ไม่เกิน 3 วัน) ถึงวันนี้' }])
    const ok = await apiAs(t, token).post('/api/v1/loans', paper('AMP-3', '2025-01-11'))
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201)
    expect(ok.body).to.include({ status: 'on_loan', handedOverOn: '2025-01-11' })
  })

  it('when finance opens a loan starting in 3 days, then the page offers the hand-over; through the screen it goes out and records today', async () => {
    const { id } = await approvedLoan()
    const finance = await signedInAs(t, ['finance'])
    const page = await finance.agent.get(`/loans/${id}`).expect(200)
    expect(page.text).to.include(`href="/loans/${id}/handover"`)
    const screen = await finance.agent.get(`/loans/${id}/handover`).expect(200)
    const out = await finance.agent
      .post(`/loans/${id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: ['AMP-1'] })
    expect(out.status).to.equal(303)
    const row = await query(t.ctx.db).get('SELECT status, handed_over_on FROM loan WHERE id = ?', id)
    expect(row).to.deep.equal({ status: 'on_loan', handed_over_on: '2025-01-15' })
  })

  it('when finance opens a loan starting in 4 days, then the page offers no hand-over and says from which date it can be collected; a forced POST is 409', async () => {
    const { id } = await approvedLoan({ startDate: '2025-01-19', dueDate: '2025-01-20' })
    const finance = await signedInAs(t, ['finance'])
    const page = await finance.agent.get(`/loans/${id}`).expect(200)
    expect(page.text).to.not.include(`href="/loans/${id}/handover"`)
    expect(textOf(page.text)).to.include('ยังรับของไม่ได้ รับได้ตั้งแต่วันที่ 16 ม.ค. 2568 (วันเริ่มยืม 19 ม.ค. 2568)')
    const screen = await finance.agent.get(`/loans/${id}/handover`).expect(200)
    const out = await finance.agent
      .post(`/loans/${id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: ['AMP-1'] })
    expect(out.status).to.equal(409)
    expect(textOf(out.text)).to.include('ยังรับของไม่ได้ รับได้ตั้งแต่วันที่ 2025-01-16')
    expect(await count(t, "SELECT count(*) AS n FROM loan WHERE status = 'approved'")).to.equal(1)
  })
})
