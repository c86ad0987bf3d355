import { expect } from 'chai'
import type supertest from 'supertest'
import { createTestApp, csrfFrom, csrfOf, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { approveLoan, createLoan } from '../../server/services/loan.service.js'
import { changeAssetStatus } from '../../server/services/asset.service.js'

function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

describe('loan cart with counted items and kits (pages)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  const request = { purpose: 'ใช้ในงานบวชที่วัดบ้านหนองบัว', place: 'วัดบ้านหนองบัว', kind: 'off_premises', startDate: '2025-01-16', dueDate: '2025-01-18' }

  async function stockAndKit() {
    await makeStock(t.ctx, { code: 'CHAIR', name: 'เก้าอี้พลาสติก', unit: 'ตัว', quantity: 120 })
    await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียงเคลื่อนที่' })
    await makeStock(t.ctx, { code: 'MIC-POOL', name: 'ไมโครโฟนไร้สาย', unit: 'ตัว', quantity: 6 })
    await makeKit(t.ctx, 'KIT-SOUND', [{ code: 'AMP-9' }, { code: 'MIC-POOL', quantity: 2 }])
  }

  async function add(agent: supertest.Agent, body: Record<string, string>) {
    return agent
      .post('/cart/add')
      .type('form')
      .send({ _csrf: await csrfOf(agent, '/cart'), ...body })
  }

  /** Another loan approved for the same days, holding `n` chairs. */
  async function holdChairs(n: number) {
    const finance = await makeUser(t.ctx, ['finance'])
    const finance2 = await makeUser(t.ctx, ['finance'])
    const exec = await makeUser(t.ctx, ['executive'])
    const l = await createLoan(t.ctx, finance, {
      ...request,
      stock: [{ code: 'CHAIR', quantity: n }],
      externalBorrower: { type: 'public', name: 'กลุ่มแม่บ้านหมู่ 5' },
    })
    await approveLoan(t.ctx, finance2, l.loan.id, {})
    await approveLoan(t.ctx, exec, l.loan.id, {})
    return l
  }

  it('when staff add a counted item with a quantity and a kit by its code, change a quantity and ask too many, then the page shows what is free, the 409 keeps the cart, and a fitting request holds every part', async () => {
    await stockAndKit()
    const held = await holdChairs(80)
    const { agent, user } = await signedInAs(t, ['staff'])

    const chairs = await add(agent, { code: 'CHAIR', quantity: '30', back: '/cart' })
    expect(chairs.status).to.equal(303)
    expect(chairs.headers.location).to.equal('/cart')
    // Adding the same pool again adds to its quantity; a kit adds each of its parts.
    await add(agent, { code: ' CHAIR ', quantity: '๑๐' })
    await add(agent, { code: 'KIT-SOUND' })
    const cart = await agent.get('/cart').expect(200)
    const text = textOf(cart.text)
    expect(cart.text).to.match(/ตะกร้าขอยืม <span class="badge">3<\/span>/)
    expect(text).to.include('3 รายการ').and.include('AMP-9').and.include('เก้าอี้พลาสติก').and.include('ไมโครโฟนไร้สาย')
    expect(cart.text)
      .to.match(/id="qty-CHAIR" name="quantity"[^>]*value="40"/)
      .and.match(/id="qty-MIC-POOL" name="quantity"[^>]*value="2"/)
    // For the default dates (from today, 7 days) the other loan holds 80 of the 120 chairs.
    expect(text).to.include('ว่าง 40 จาก 120 ตัว').and.include('ว่าง 6 จาก 6 ตัว')

    // Asking 60: the line says it does not fit and names the loan holding them.
    const changed = await agent
      .post('/cart/quantity')
      .type('form')
      .send({ _csrf: csrfFrom(cart.text), code: 'CHAIR', quantity: '60' })
    expect(changed.status).to.equal(303)
    const short = textOf((await agent.get('/cart')).text)
    expect(short).to.include('เปลี่ยนจำนวน CHAIR เป็น 60 แล้ว').and.include('ว่าง 40 จาก 120 ตัว — ขอ 60 ตัว ไม่พอ').and.include(`ใบยืมเลขที่ ${held.number}`)
    const refused = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(cart.text), ...request })
    expect(refused.status).to.equal(409)
    expect(textOf(refused.text)).to.include(`เก้าอี้พลาสติก (CHAIR) ว่างไม่พอ: ขอ 60 ว่าง 40 — ใบยืมเลขที่ ${held.number} ใช้อยู่ช่วง 16 ม.ค. 2568 ถึง 18 ม.ค. 2568`)
    expect(refused.text).to.include('value="วัดบ้านหนองบัว"')
    expect(textOf((await agent.get('/cart')).text)).to.include('3 รายการ')

    // A bad quantity is refused without changing the line.
    await agent
      .post('/cart/quantity')
      .type('form')
      .send({ _csrf: csrfFrom(cart.text), code: 'CHAIR', quantity: 'สี่สิบ' })
    const bad = await agent.get('/cart')
    expect(textOf(bad.text)).to.include('จำนวนต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 100000')
    expect(bad.text).to.match(/id="qty-CHAIR" name="quantity"[^>]*value="60"/)

    await agent
      .post('/cart/quantity')
      .type('form')
      .send({ _csrf: csrfFrom(cart.text), code: 'CHAIR', quantity: '40' })
    const sent = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(cart.text), ...request })
    expect(sent.status, textOf(sent.text)).to.equal(303)
    const loan = await t.ctx.db.selectFrom('loan').selectAll().where('borrower_user_id', '=', user.id).executeTakeFirstOrThrow()
    const lines = await t.ctx.db
      .selectFrom('loan_stock_line as l')
      .innerJoin('stock_item as s', 's.id', 'l.stock_id')
      .select(['s.code', 'l.quantity'])
      .where('l.loan_id', '=', loan.id)
      .orderBy('s.code')
      .execute()
    expect(lines).to.deep.equal([
      { code: 'CHAIR', quantity: 40 },
      { code: 'MIC-POOL', quantity: 2 },
    ])
    const items = await t.ctx.db
      .selectFrom('loan_item as i')
      .innerJoin('asset as a', 'a.id', 'i.asset_id')
      .select('a.code')
      .where('i.loan_id', '=', loan.id)
      .execute()
    expect(items.map((i) => i.code)).to.deep.equal(['AMP-9'])
    const after = await agent.get('/cart')
    expect(after.text)
      .to.include('ยังไม่มีรายการในตะกร้า')
      .and.not.match(/ตะกร้าขอยืม <span class="badge">/)
  })

  it('when lines are removed or set to 0, a code names nothing, a pool is not lent or a kit part is in repair, then the cart says so and keeps the rest', async () => {
    await stockAndKit()
    await makeStock(t.ctx, { code: 'PLATE', name: 'จานกระเบื้อง', unit: 'ใบ', quantity: 300 })
    await t.ctx.db.updateTable('stock_item').set({ loanable: 0 }).where('code', '=', 'PLATE').execute()
    const finance = await makeUser(t.ctx, ['finance'])
    const amp = await t.ctx.db.selectFrom('asset').select('id').where('code', '=', 'AMP-9').executeTakeFirstOrThrow()
    await changeAssetStatus(t.ctx, { id: finance.id, label: finance.username }, amp.id, { status: 'in_repair', reason: 'ลำโพงเสียงแตก' })
    const { agent } = await signedInAs(t, ['staff'])

    await add(agent, { code: 'KIT-SOUND' })
    const page = textOf((await agent.get('/cart')).text)
    expect(page).to.include('บางรายการในชุด KIT-SOUND ขอยืมไม่ได้ในขณะนี้จึงไม่ได้เพิ่ม: AMP-9').and.include('1 รายการ')
    const says = async (body: Record<string, string>) => {
      await add(agent, body)
      return textOf((await agent.get('/cart')).text)
    }
    expect(await says({ code: 'PLATE', quantity: '50' })).to.include('จานกระเบื้อง (PLATE) ไม่เปิดให้ยืม')
    expect(await says({ code: 'NOPE-9' })).to.include('ไม่พบครุภัณฑ์หมายเลข NOPE-9')
    expect(await says({ code: 'CHAIR', quantity: '0' })).to.include('จำนวนต้องเป็นจำนวนเต็มตั้งแต่ 1')
    await add(agent, { code: 'CHAIR', quantity: '5' })
    const csrf = await csrfOf(agent, '/cart')
    await agent.post('/cart/quantity').type('form').send({ _csrf: csrf, code: 'MIC-POOL', quantity: '0' })
    let html = (await agent.get('/cart')).text
    expect(html).to.include('id="qty-CHAIR"').and.not.include('id="qty-MIC-POOL"')
    await agent.post('/cart/remove').type('form').send({ _csrf: csrf, code: 'CHAIR' })
    html = (await agent.get('/cart')).text
    expect(html).to.include('ยังไม่มีรายการในตะกร้า')

    // Search finds counted items and kits too; each adds with a quantity.
    const search = await agent.get(`/cart?q=${encodeURIComponent('ไมโครโฟน')}`).expect(200)
    expect(search.text).to.include('id="sq-MIC-POOL"')
    const kits = await agent.get('/cart?q=KIT').expect(200)
    expect(kits.text).to.include('aria-label="เพิ่มชุด KIT-SOUND ในคำขอยืม"')
  })

  it('when a session still holds a cart of the old shape (asset codes only), then the cart, the badge, adding and sending all work', async () => {
    await stockAndKit()
    await makeAsset(t.ctx, { code: 'TENT-1', name: 'เต็นท์ผ้าใบ' })
    const { agent, user } = await signedInAs(t, ['staff'])
    await agent.get('/cart').expect(200)
    // Rewrite the stored session as the earlier release wrote it.
    const row = await t.ctx.db.selectFrom('session').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow()
    const data = JSON.parse(row.data) as Record<string, unknown>
    data.cart = ['TENT-1']
    await t.ctx.db
      .updateTable('session')
      .set({ data: JSON.stringify(data) })
      .where('sid', '=', row.sid)
      .execute()

    const old = await agent.get('/cart').expect(200)
    expect(old.text)
      .to.include('TENT-1')
      .and.match(/ตะกร้าขอยืม <span class="badge">1<\/span>/)
    expect((await agent.get('/q/TENT-1')).text).to.include('อยู่ในคำขอยืมแล้ว')
    await add(agent, { code: 'CHAIR', quantity: '12' })
    const both = await agent.get('/cart')
    expect(both.text)
      .to.match(/ตะกร้าขอยืม <span class="badge">2<\/span>/)
      .and.include('TENT-1')
      .and.match(/id="qty-CHAIR" name="quantity"[^>]*value="12"/)
    const sent = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(both.text), ...request })
    expect(sent.status, textOf(sent.text)).to.equal(303)
    const stored = await t.ctx.db.selectFrom('session').select('data').where('sid', '=', row.sid).executeTakeFirstOrThrow()
    expect((JSON.parse(stored.data) as { cart?: unknown }).cart).to.equal(undefined)
  })

  it('when finance types counted lines and kits on the entry page, then CHAIR x80, CHAIR 80 and a kit become loan lines; an unreadable count is named', async () => {
    await stockAndKit()
    const { agent } = await signedInAs(t, ['finance'])
    // The cart's lines come pre-filled as typed lines.
    await add(agent, { code: 'CHAIR', quantity: '15' })
    const form = await agent.get('/loans/new').expect(200)
    expect(form.text).to.include('CHAIR x15')
    const body = {
      borrowerKind: 'external',
      'externalBorrower.type': 'public',
      'externalBorrower.name': 'นายสมหมาย ใจบุญ',
      ...request,
    }
    const bad = await agent
      .post('/loans/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), ...body, assetCodes: 'CHAIR x0\nKIT-SOUND' })
      .expect(422)
    expect(textOf(bad.text)).to.include('บรรทัด «CHAIR x0»: จำนวนต้องเป็นจำนวนเต็มตั้งแต่ 1 ถึง 100000')
    expect(await t.ctx.db.selectFrom('loan').select('id').execute()).to.have.length(0)
    const unknown = await agent
      .post('/loans/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), ...body, assetCodes: 'NOPE x3' })
      .expect(422)
    expect(textOf(unknown.text)).to.include('NOPE')

    const ok = await agent
      .post('/loans/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), ...body, assetCodes: 'CHAIR x15\nCHAIR 5\nhttps://yk.example.go.th/q/KIT-SOUND\nMIC-POOL ×1' })
    expect(ok.status, textOf(ok.text)).to.equal(303)
    const id = Number((ok.headers.location as string).split('/')[2])
    const lines = await t.ctx.db
      .selectFrom('loan_stock_line as l')
      .innerJoin('stock_item as s', 's.id', 'l.stock_id')
      .select(['s.code', 'l.quantity'])
      .where('l.loan_id', '=', id)
      .orderBy('s.code')
      .execute()
    expect(lines).to.deep.equal([
      { code: 'CHAIR', quantity: 20 },
      { code: 'MIC-POOL', quantity: 3 },
    ])
    // What the loan took leaves the cart.
    expect((await agent.get('/cart')).text).to.include('ยังไม่มีรายการในตะกร้า')
  })
})
