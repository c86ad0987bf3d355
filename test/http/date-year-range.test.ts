import { expect } from 'chai'
import supertest from 'supertest'
import { apiToken, createTestApp, postForm, signIn, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { makeStock } from '../helpers/stock.js'

/*
 * Dates with a year outside 1900–2300, wherever a date is typed (issue 13: a report range before
 * year 1001 answered 500): the shared parser refuses them, so every page and API answers 422 with a
 * translated message naming the field, never 500.
 */
describe('dates outside 1900–2300 (every input → 422, never 500)', function () {
  this.timeout(60_000)
  let t: TestApp
  let finance: supertest.Agent
  let token: string
  const OUT_OF_RANGE_TH = 'ปีของวันที่ต้องอยู่ระหว่าง ค.ศ. ๑๙๐๐ ถึง ๒๓๐๐'
  /** The pages take พ.ศ. (issue 16, server/web/typed-date.ts) and say so in their own words. */
  const PAGE_OUT_OF_RANGE_TH = 'อยู่นอกช่วงที่ใช้ได้: พิมพ์ปี พ.ศ. ๒๔๔๓–๒๘๔๓'

  before(async () => {
    t = await createTestApp({ now: '2025-10-10T03:00:00.000Z' })
    const u = await makeUser(t.ctx, ['finance', 'executive'])
    finance = await signIn(t.app, u.username, u.password)
    token = await apiToken(t.app, u.username, u.password)
    await makeAsset(t.ctx, { code: 'NB-001', loanable: true })
    await makeStock(t.ctx, { code: 'CHAIR-POOL' })
  })
  after(() => t.close())

  const api = (method: 'get' | 'post', path: string) => supertest(t.app)[method](path).set('Authorization', `Bearer ${token}`)

  for (const path of ['/reports', '/register']) {
    it(`when ${path} is asked for a range in year 0999, 1000 or 1899, then 422 with the Thai message, never 500`, async () => {
      for (const q of [
        'period=range&from=0999-01-01&to=0999-12-31',
        'period=range&from=1000-01-01&to=1000-12-31',
        'period=range&from=1899-12-31&to=2024-01-01',
      ]) {
        const res = await finance.get(`${path}?${q}`)
        expect(res.status, `${path}?${q}`).to.equal(422)
        expect(res.text, `${path}?${q}`).to.include(PAGE_OUT_OF_RANGE_TH)
      }
      // A Buddhist-era year is what a page expects, in the ISO form too.
      expect((await finance.get(`${path}?period=range&from=2567-10-01&to=2568-09-30`)).status).to.equal(200)
      expect((await finance.get(`${path}?period=range&from=1900-01-01&to=1900-12-31`)).status).to.equal(200)
    })
  }

  it('when the API report route is asked for a year outside the Buddhist-era range, then 422 naming year', async () => {
    for (const year of ['0999', '1000', '1899', '2843', '9999']) {
      const res = await api('get', `/api/v1/reports/fiscal-years/${year}`)
      expect(res.status, year).to.equal(422)
      expect(res.body.error.details[0].field, year).to.equal('year')
    }
  })

  it('when the API stock availability is asked for dates before 1900, then 422 naming the parameter in Thai', async () => {
    const res = await api('get', '/api/v1/stock/CHAIR-POOL?from=0999-01-01&to=0999-01-02')
    expect(res.status).to.equal(422)
    expect(res.body.error.details.map((d: { field: string }) => d.field)).to.include.members(['from', 'to'])
    expect(res.body.error.details[0].message).to.include(OUT_OF_RANGE_TH)
  })

  it('when a loan is asked through the API with dates before 1900, then 422 naming the date fields, and no loan is made', async () => {
    const res = await api('post', '/api/v1/loans').send({
      assetCodes: ['NB-001'],
      purpose: 'ประชุม',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: '0999-10-10',
      dueDate: '0999-10-11',
    })
    expect(res.status).to.equal(422)
    expect(res.body.error.code).to.equal('validation_failed')
    expect(JSON.stringify(res.body.error.details)).to.include(OUT_OF_RANGE_TH)
    expect(await t.ctx.db.selectFrom('loan').select('id').execute()).to.have.length(0)
  })

  it('when an asset is registered through the API with an acquisition date before 1900, then 422 naming acquiredOn', async () => {
    const res = await api('post', '/api/v1/assets').send({ code: 'OLD-001', name: 'โต๊ะโบราณ', category: 'office', acquiredOn: '1899-01-01' })
    expect(res.status).to.equal(422)
    const field = (res.body.error.details as Array<{ field: string; message: string }>).find((d) => d.field === 'acquiredOn')
    expect(field?.message).to.include(OUT_OF_RANGE_TH)
  })

  it('when finance enters a loan on the page with dates before 1900, then 422 with the Thai message and no loan', async () => {
    const res = await postForm(finance, '/loans/new', '/loans/new', {
      purpose: 'ประชุม',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: '0999-10-10',
      dueDate: '0999-10-11',
      assetCodes: 'NB-001',
    })
    expect(res.status).to.equal(422)
    expect(res.text).to.include('ปีของวันที่ 0999-10-10 อยู่นอกช่วงที่ใช้ได้')
    expect(await t.ctx.db.selectFrom('loan').select('id').execute()).to.have.length(0)
  })
})
