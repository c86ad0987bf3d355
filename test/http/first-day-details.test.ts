import { expect } from 'chai'
import type supertest from 'supertest'
import { createTestApp, csrfFrom, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { createAsset } from '../../server/services/asset.service.js'
import { findCategoryByCode } from '../../server/services/category.service.js'
import { createLoan } from '../../server/services/loan.service.js'
import { agencyAddressLine } from '../../server/services/loan-document.service.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { wordsOf } from '../../server/i18n/format.js'
import { prefillFromSearch } from '../../server/web/forms/counter.form.js'

/* Issue 16, item 5: the smaller things seen on the first day, each held by a test where one can be. */
describe('the first day: smaller details (issue 16)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp() // 15 Jan 2025, 10:00 in Bangkok
  })
  afterEach(() => t.close())

  it('when a browser asks for /favicon.ico, then it gets the app’s icon, not a 404', async () => {
    const res = await (await signedInAs(t, ['staff'])).agent.get('/favicon.ico').buffer(true)
    expect(res.status).to.equal(200)
    expect(res.headers['content-type']).to.equal('image/x-icon')
    const body = res.body as Buffer
    expect([...body.subarray(0, 4)]).to.deep.equal([0, 0, 1, 0]) // an ICO header
  })

  it('when the agency’s address already ends with its province, then the slip prints the province once', () => {
    expect(agencyAddressLine({ agencyAddress: 'หมู่ 3 ตำบลหนองบัว อำเภอเมือง จังหวัดสุวรรณเขต 99150', province: 'สุวรรณเขต' })).to.equal(
      'หมู่ 3 ตำบลหนองบัว อำเภอเมือง จังหวัดสุวรรณเขต 99150',
    )
    expect(agencyAddressLine({ agencyAddress: '99 หมู่ที่ 1 ตำบลหนองบัวใหญ่', province: 'จังหวัดนครราชสีมา' })).to.equal('99 หมู่ที่ 1 ตำบลหนองบัวใหญ่ จังหวัดนครราชสีมา')
    expect(agencyAddressLine({ agencyAddress: '', province: 'สุวรรณเขต' })).to.equal('สุวรรณเขต')
  })

  it('when a label sheet prints the agency’s name, then it may wrap only between Thai words', async () => {
    expect(wordsOf('องค์การบริหารส่วนตำบลหนองบัวใหญ่').join('|')).to.equal('องค์การ|บริหาร|ส่วน|ตำบล|หนองบัว|ใหญ่')
    await updateSettings(t.ctx, { id: null, label: 'test' }, { agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่' } as never)
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['finance'])
    const sheet = await agent.get(`/labels/sheet?ids=${a.id}&layout=3x8`).expect(200)
    expect(sheet.text).to.include('<p class="agency">องค์การ<wbr>บริหาร<wbr>ส่วน<wbr>ตำบล<wbr>หนองบัว<wbr>ใหญ่</p>')
    const css = await agent.get('/css/labels.css').expect(200)
    expect(css.text).to.match(/\.agency \{[^}]*word-break: keep-all/)
    // The labels on the sheet's edges keep their ink 5 mm from the paper's edge.
    expect(css.text).to.match(/\.layout-3x8 \.label:nth-child\(3n\),\s*\.layout-2x5 \.label:nth-child\(2n\) \{\s*padding-right: 5mm/)
  })

  it('when an available item is free for the chosen dates, then the cart says «ว่าง» once for it', async () => {
    const a = await makeAsset(t.ctx, { code: '416-66-0001' })
    const { agent } = await signedInAs(t, ['staff'])
    const page = await agent.get(`/q/${a.code}`).expect(200)
    await agent
      .post('/cart/add')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code: a.code })
      .expect(303)
    const cart = await agent.get('/cart').expect(200)
    const item = /<li class="cart-item avail-free">([\s\S]*?)<\/li>/.exec(cart.text)?.[1] ?? ''
    expect(item).to.include(a.code)
    expect(item.replace(/<[^>]+>/g, ' ').match(/(^|[^ไ])ว่าง/g) ?? []).to.have.length(1)
  })

  describe('the counter', () => {
    async function counterNew(agent: supertest.Agent, typed: string): Promise<string> {
      return (await agent.get(`/counter?new=1&typed=${encodeURIComponent(typed)}`).expect(200)).text
    }

    it('when the register has counted items and kits, then the hints show their real codes, not CHAIR or KIT-SOUND', async () => {
      const chairs = await makeStock(t.ctx, { code: '490-66-0001', name: 'เก้าอี้พลาสติก', quantity: 120 })
      await makeKit(t.ctx, 'ชุด-001', [{ code: chairs.code, quantity: 2 }])
      const { agent } = await signedInAs(t, ['finance'])
      const html = await counterNew(agent, '')
      const hint = /<p class="hint" id="items-hint">([^<]*)<\/p>/.exec(html)?.[1] ?? ''
      expect(hint).to.include('490-66-0001 10').and.include('ชุด-001')
      expect(html).to.not.include('CHAIR').and.not.include('KIT-SOUND')
      const entry = await agent.get('/loans/new').expect(200)
      expect(entry.text).to.include('490-66-0001 10').and.not.include('CHAIR x80')
    })

    it('when the officer searched by a temple’s name, then the new borrower form has it as the organisation and the person’s name empty', async () => {
      expect(prefillFromSearch('วัดบ้านหนองบัว')).to.deep.equal({ 'externalBorrower.organisation': 'วัดบ้านหนองบัว' })
      expect(prefillFromSearch('โรงเรียนบ้านโคก')).to.deep.equal({ 'externalBorrower.organisation': 'โรงเรียนบ้านโคก' })
      expect(prefillFromSearch('สมชาย ใจดี')).to.deep.equal({ 'externalBorrower.name': 'สมชาย ใจดี' })
      const { agent } = await signedInAs(t, ['finance'])
      const html = await counterNew(agent, 'วัดบ้านหนองบัว')
      expect(/<input id="ext-org" name="externalBorrower.organisation" value="([^"]*)"/.exec(html)?.[1]).to.equal('วัดบ้านหนองบัว')
      expect(/<input id="ext-name" name="externalBorrower.name" value="([^"]*)"/.exec(html)?.[1] ?? '').to.equal('')
    })
  })

  it('when an officer changed an asset, then its history names them as people know them, not by username', async () => {
    const { user, agent } = await signedInAs(t, ['finance'], { name: 'นางสาวพัสดุ ใจดี' })
    const category = await findCategoryByCode(t.ctx, 'office')
    const a = await createAsset(t.ctx, { id: user.id, label: user.username }, { code: 'HIS-1', name: 'โต๊ะ', categoryId: category!.id })
    const page = await agent.get(`/assets/${a.id}`).expect(200)
    const history = page.text.slice(page.text.indexOf('<time'))
    expect(history).to.include('นางสาวพัสดุ ใจดี').and.not.include(` · ${user.username}<`)
  })

  it('when an officer opens a loan that waits for them, then the item list comes before the actions (a phone reaches «อนุมัติ» after reading it)', async () => {
    await makeAsset(t.ctx, { code: 'ORD-1', name: 'เต็นท์' })
    const staff = await signedInAs(t, ['staff'])
    const loan = await createLoan(t.ctx, staff.user, {
      assetCodes: ['ORD-1'],
      purpose: 'งานบุญ',
      place: 'ศาลาวัด',
      kind: 'off_premises',
      startDate: '2025-01-15',
      dueDate: '2025-01-17',
    })
    const { agent } = await signedInAs(t, ['finance'])
    const html = (await agent.get(`/loans/${loan.loan.id}`).expect(200)).text
    expect(html.indexOf('id="actions-h"')).to.be.greaterThan(0)
    expect(html.indexOf('ORD-1')).to.be.lessThan(html.indexOf('id="actions-h"'))
  })

  it('when a screen cites a clause of the regulation, then its number has the same Arabic digits as the dates beside it', async () => {
    const { translate } = await import('../../server/i18n/index.js')
    for (const key of ['loanPages.rule211', 'loanPages.followUpBy', 'loanPages.pastDeadline', 'loanPages.comp.title', 'settings.followUpHint']) {
      expect(translate('th', key, { date: '23 ม.ค. 2568' }), key).to.not.match(/[\u0E50-\u0E59]/)
    }
  })
})
