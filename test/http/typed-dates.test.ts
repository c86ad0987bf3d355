import { expect } from 'chai'
import supertest from 'supertest'
import { apiToken, createTestApp, csrfFrom, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { buildRegisterHistory } from '../helpers/register-history.js'

/*
 * Issue 16, item 1: every date box on the pages takes «dd/mm/25xx» (and ISO), shows dates back that
 * way, and the services get ISO Common Era; the API keeps ISO in and out (SPEC §5).
 */
describe('พ.ศ. dates typed in the pages (issue 16)', function () {
  this.timeout(60_000)
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp({ now: '2025-01-15T03:00:00.000Z' })
  })
  afterEach(() => t.close())

  async function cartWith(agent: supertest.Agent, code: string): Promise<string> {
    const qr = await agent.get(`/q/${encodeURIComponent(code)}`).expect(200)
    await agent
      .post('/cart/add')
      .type('form')
      .send({ _csrf: csrfFrom(qr.text), code })
      .expect(303)
    return (await agent.get('/cart').expect(200)).text
  }

  const request = { purpose: 'ใช้ในงานประเพณีลอยกระทง', place: 'ลานวัด', kind: 'off_premises' }

  it('when the cart shows its dates, then they are dd/mm/25xx text boxes with the hint, not native CE date boxes', async () => {
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['staff'])
    const page = await cartWith(agent, a.code)
    expect(page).to.match(
      /<input id="startDate" name="startDate" type="text" value="15\/01\/2568" inputmode="numeric"[^>]* placeholder="วว\/ดด\/ปปปป" data-date data-min="2025-01-15"/,
    )
    expect(page).to.include('value="21/01/2568"').and.not.include('type="date"')
    expect(page).to.include('<script src="/js/date-picker.js" defer></script>')
  })

  it('when a loan is requested with dd/mm/25xx dates (Thai digits and spaces too), then the loan stores the ISO Common-Era days', async () => {
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['staff'])
    const page = await cartWith(agent, a.code)
    await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(page), ...request, startDate: ' 20/01/2568 ', dueDate: '๒๒/๐๑/๒๕๖๘' })
      .expect(303)
    const loan = await t.ctx.db.selectFrom('loan').selectAll().executeTakeFirstOrThrow()
    expect(loan).to.include({ start_on: '2025-01-20', due_on: '2025-01-22' })
    // The loan's page offers the extension box with its due date as the calendar's earliest day.
    const shown = await agent.get(`/loans/${loan.id}`).expect(200)
    expect(shown.text).not.to.include('type="date"')
  })

  it('when ISO dates are typed, then they are still accepted', async () => {
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['staff'])
    const page = await cartWith(agent, a.code)
    await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(page), ...request, startDate: '2025-01-20', dueDate: '2025-01-21' })
      .expect(303)
    expect(await t.ctx.db.selectFrom('loan').select(['start_on', 'due_on']).executeTakeFirstOrThrow()).to.deep.equal({
      start_on: '2025-01-20',
      due_on: '2025-01-21',
    })
  })

  it('when a day that does not exist is typed, then 422 says «ไม่มีวันที่ 31/02/2568», keeps what was typed and shows the good date as dd/mm/25xx', async () => {
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['staff'])
    const page = await cartWith(agent, a.code)
    const res = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(page), ...request, startDate: '2025-01-20', dueDate: '31/02/2568' })
      .expect(422)
    expect(res.text).to.include('<p class="field-error" id="dueDate-error">ไม่มีวันที่ 31/02/2568</p>')
    expect(res.text).to.include('value="31/02/2568"').and.include('value="20/01/2568"')
    expect(res.text).not.to.include('ปปปป-ดด-วว')
    expect(await t.ctx.db.selectFrom('loan').select('id').execute()).to.have.length(0)
  })

  it('when text that is no date is typed, then the message says how to type one', async () => {
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['staff'])
    const page = await cartWith(agent, a.code)
    const res = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(page), ...request, startDate: 'พรุ่งนี้', dueDate: '22/01/2568' })
      .expect(422)
    expect(res.text).to.include('พิมพ์วันที่เป็น วัน/เดือน/ปี พ.ศ. เช่น 15/10/2568').and.include('value="พรุ่งนี้"')
  })

  it('when the API is sent a slash date, then it still refuses it and answers ISO: the API stays Common Era (SPEC §5)', async () => {
    const u = await makeUser(t.ctx, ['staff'])
    await makeAsset(t.ctx, { code: 'NB-001', loanable: true })
    const token = await apiToken(t.app, u.username, u.password)
    const api = () => supertest(t.app).post('/api/v1/loans').set('Authorization', `Bearer ${token}`)
    const body = { assetCodes: ['NB-001'], purpose: 'ประชุม', place: 'ห้องประชุม', kind: 'in_premises', startDate: '2025-01-20' }
    const slash = await api().send({ ...body, dueDate: '22/01/2568' })
    expect(slash.status).to.equal(422)
    expect(slash.body.error.details).to.deep.equal([{ field: 'dueDate', message: 'วันที่ไม่ถูกต้อง (ใช้รูปแบบ ปปปป-ดด-วว ค.ศ.)' }])
    const iso = await api().send({ ...body, dueDate: '2025-01-22' })
    expect(iso.status).to.equal(201)
    expect(iso.body.loan ?? iso.body).to.deep.include({ startDate: '2025-01-20', dueDate: '2025-01-22' })
  })
})

describe('พ.ศ. dates in the register and report filters (issue 16)', function () {
  this.timeout(60_000)
  let t: TestApp
  let finance: supertest.Agent
  before(async () => {
    t = await createTestApp({ now: '2024-09-30T03:00:00.000Z' })
    await buildRegisterHistory(t.ctx)
    finance = (await signedInAs(t, ['finance'])).agent
  })
  after(() => t.close())

  it('when the register is filtered by a dd/mm/25xx range, then it is that ISO range, its links carry ISO and the boxes show พ.ศ.', async () => {
    const typed = await finance.get('/register?period=range&from=01/10/2566&to=31/12/2566').expect(200)
    const iso = await finance.get('/register?period=range&from=2023-10-01&to=2023-12-31').expect(200)
    const numbers = (html: string) => [...html.matchAll(/<strong>(\d+\/\d{4})<\/strong><\/a>/g)].map((m) => m[1])
    expect(numbers(typed.text)).to.deep.equal(numbers(iso.text))
    expect(typed.text).to.include('from=2023-10-01').and.include('to=2023-12-31')
    expect(typed.text).to.include('name="from"').and.include('value="01/10/2566"').and.include('value="31/12/2566"')
    const csv = await finance.get('/register.csv?period=range&from=01/10/2566&to=31/12/2566').expect(200)
    const csvIso = await finance.get('/register.csv?period=range&from=2023-10-01&to=2023-12-31').expect(200)
    expect(csv.text).to.equal(csvIso.text)
  })

  it('when the register is asked for 31/02/2567, then 422 says there is no such day', async () => {
    const res = await finance.get('/register?period=range&from=31/02/2567&to=31/03/2567').expect(422)
    expect(res.text).to.include('ไม่มีวันที่ 31/02/2567').and.include('value="31/02/2567"')
  })

  it('when the report is asked for a dd/mm/25xx range, then it reports that ISO range', async () => {
    const typed = await finance.get('/reports?period=range&from=01/10/2566&to=31/03/2567').expect(200)
    expect(typed.text).to.include('value="01/10/2566"').and.include('value="31/03/2567"')
    expect(typed.text).to.include('from=2023-10-01&amp;to=2024-03-31')
    const bad = await finance.get('/reports?period=range&from=30/02/2567&to=31/03/2567').expect(422)
    expect(bad.text).to.include('ไม่มีวันที่ 30/02/2567')
  })
})
