import { expect } from 'chai'
import type supertest from 'supertest'
import { createTestApp, csrfFrom, csrfOf, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'
import { changeAssetStatus } from '../../server/services/asset.service.js'

/** The day cells of a rendered calendar, by date: their class and title. */
function calendarDays(html: string): Map<string, { cls: string; title: string; text: string }> {
  const out = new Map<string, { cls: string; title: string; text: string }>()
  for (const m of html.matchAll(/<td class="([^"]*)" data-date="(\d{4}-\d{2}-\d{2})"([^>]*)>([\s\S]*?)<\/td>/g)) {
    const title = /title="([^"]*)"/.exec(m[3]!)?.[1] ?? ''
    out.set(m[2]!, {
      cls: m[1]!,
      title,
      text: m[4]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    })
  }
  return out
}

describe('loan cart (pages)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  const request = (over: Record<string, string> = {}) => ({
    purpose: 'ใช้ในงานประเพณีลอยกระทงหมู่ 4',
    place: 'ลานวัดบ้านหนองบัว',
    kind: 'off_premises',
    startDate: '2025-01-15',
    dueDate: '2025-01-17',
    ...over,
  })

  async function add(agent: supertest.Agent, code: string, from = `/q/${encodeURIComponent(code)}`) {
    const page = await agent.get(from).expect(200)
    return agent
      .post('/cart/add')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), code })
  }

  it('when staff scan two labels, add both and request them off the premises, then one pending loan holds both and they land on its page', async () => {
    const amp = await makeAsset(t.ctx, { code: '416-66-0001', name: 'เครื่องขยายเสียง' })
    const spk = await makeAsset(t.ctx, { code: 'กค.416/66-0002', name: 'ลำโพงตั้งพื้น' })
    const { agent, user } = await signedInAs(t, ['staff'])

    // The label's URL (an encoded Thai code with a slash) opens the QR page with the add button.
    const qr = await agent.get(`/q/${encodeURIComponent(spk.code)}`).expect(200)
    expect(qr.text).to.include('เพิ่มในคำขอยืม').and.include('action="/cart/add"')
    const first = await add(agent, amp.code)
    expect(first.status).to.equal(303)
    expect(first.headers.location).to.equal('/cart')
    await add(agent, spk.code).then((r) => expect(r.status).to.equal(303))

    const cart = await agent.get('/cart').expect(200)
    expect(cart.text).to.include(amp.code).and.include(spk.code).and.include('ลำโพงตั้งพื้น')
    expect(cart.text).to.match(/ตะกร้าขอยืม <span class="badge">2<\/span>/)
    // The defaults: today and today + the default loan days − 1, with the maximum shown.
    expect(cart.text).to.include('value="15/01/2568"').and.include('value="21/01/2568"').and.include('ยืมได้ไม่เกิน 30 วัน')
    // Scanning the same label again does not add it twice, and the QR page says it is in the request.
    await add(agent, amp.code)
    expect((await agent.get(`/q/${amp.code}`)).text).to.include('อยู่ในคำขอยืมแล้ว')

    const res = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(cart.text), ...request() })
      .expect(303)
    const loan = await t.ctx.db.selectFrom('loan').selectAll().executeTakeFirstOrThrow()
    expect(res.headers.location).to.equal(`/loans/${loan.id}`)
    expect(loan).to.include({
      status: 'pending',
      kind: 'off_premises',
      borrower_user_id: user.id,
      requested_by: user.id,
      start_on: '2025-01-15',
      due_on: '2025-01-17',
      seq: 1,
      fiscal_year: 2568,
    })
    const items = await t.ctx.db.selectFrom('loan_item').select('asset_id').where('loan_id', '=', loan.id).orderBy('asset_id').execute()
    expect(items.map((i) => i.asset_id)).to.deep.equal([amp.id, spk.id])
    const after = await agent.get('/cart').expect(200)
    expect(after.text)
      .to.include('ยังไม่มีรายการในตะกร้า')
      .and.not.match(/ตะกร้าขอยืม <span class="badge">/)
  })

  it('when the request form is wrong, then it answers 422 in Thai with the values kept, writes nothing and keeps the cart', async () => {
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['staff'])
    await add(agent, a.code)
    const csrf = await csrfOf(agent, '/cart')
    const res = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrf, purpose: '', place: 'ห้องประชุมสภา', startDate: '31/02/2568', dueDate: '2025-01-17' })
      .expect(422)
    expect(res.text).to.include('กรุณาระบุวัตถุประสงค์ของการยืม').and.include('กรุณาเลือกประเภทการยืม').and.include('ไม่มีวันที่ 31/02/2568')
    expect(res.text).to.include('value="ห้องประชุมสภา"').and.include('value="31/02/2568"').and.include('aria-invalid="true"')

    const past = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrf, ...request({ startDate: '2025-01-10' }) })
      .expect(422)
    expect(past.text).to.include('วันเริ่มยืมต้องเป็นวันนี้หรือหลังจากนี้').and.include('ใช้ในงานประเพณีลอยกระทงหมู่ 4')
    const long = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrf, ...request({ dueDate: '2025-03-01' }) })
      .expect(422)
    expect(long.text).to.include('ระยะเวลายืมเกินกำหนด (ไม่เกิน 30 วัน)')

    expect(await t.ctx.db.selectFrom('loan').selectAll().execute()).to.have.length(0)
    expect((await agent.get('/cart')).text).to.include(a.code)
  })

  it('when the cart is empty, then sending is refused with a message and nothing is written', async () => {
    const { agent } = await signedInAs(t, ['staff'])
    const csrf = await csrfOf(agent, '/cart')
    const res = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrf, ...request() })
      .expect(422)
    expect(res.text).to.include('กรุณาเลือกพัสดุอย่างน้อยหนึ่งรายการ')
    expect(await t.ctx.db.selectFrom('loan').selectAll().execute()).to.have.length(0)
  })

  it('when the dates overlap an approved loan of an item, then the cart shows the availability and a 409 naming that loan, and keeps the cart', async () => {
    const tent = await makeAsset(t.ctx, { code: 'TENT-1', name: 'เต็นท์' })
    const other = await makeUser(t.ctx, ['staff'])
    const finance = await makeUser(t.ctx, ['finance'])
    const held = await createLoan(t.ctx, other, {
      assetCodes: ['TENT-1'],
      purpose: 'งานประชุม',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: '2025-01-15',
      dueDate: '2025-01-17',
    })
    await approveLoan(t.ctx, finance, held.loan.id, {})
    const { agent } = await signedInAs(t, ['staff'])
    await add(agent, tent.code)
    const cart = await agent.get('/cart').expect(200)
    expect(cart.text).to.include('ไม่ว่าง: ใบยืมเลขที่ 1/2568')

    // "Check availability" for later dates shows it free and sends nothing.
    const check = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(cart.text), ...request({ startDate: '2025-01-18', dueDate: '2025-01-19' }), intent: 'check' })
      .expect(200)
    expect(check.text).to.include('avail-free').and.include('value="18/01/2568"')

    const res = await agent
      .post('/cart')
      .type('form')
      .send({ _csrf: csrfFrom(cart.text), ...request({ startDate: '2025-01-16', dueDate: '2025-01-18' }) })
      .expect(409)
    expect(res.text).to.include('ครุภัณฑ์ TENT-1 ถูกจองหรือยืมอยู่แล้วตามใบยืมเลขที่ 1/2568 ช่วง 15 ม.ค. 2568 ถึง 17 ม.ค. 2568')
    expect(res.text).to.include('value="16/01/2568"').and.include('ใช้ในงานประเพณีลอยกระทงหมู่ 4')
    expect(await t.ctx.db.selectFrom('loan').selectAll().execute()).to.have.length(1)
    expect((await agent.get('/cart')).text)
      .to.include('TENT-1')
      .and.match(/ตะกร้าขอยืม <span class="badge">1<\/span>/)
  })

  it('when staff search the cart page, then loanable assets are listed with add buttons and the rest are not offered', async () => {
    await makeAsset(t.ctx, { code: 'MIC-1', name: 'ไมโครโฟนไร้สาย' })
    await makeAsset(t.ctx, { code: 'MIC-2', name: 'ไมโครโฟนสำรอง', loanable: false })
    const broken = await makeAsset(t.ctx, { code: 'MIC-3', name: 'ไมโครโฟนเสีย' })
    await changeAssetStatus(t.ctx, { id: null, label: 'test' }, broken.id, { status: 'in_repair', reason: 'สายขาดใน' })
    const { agent } = await signedInAs(t, ['staff'])
    const res = await agent.get(`/cart?q=${encodeURIComponent('ไมโครโฟน')}`).expect(200)
    expect(res.text).to.include('MIC-1').and.include('MIC-3').and.not.include('MIC-2')
    expect(res.text).to.include('value="/cart?q=%E0%B9%84')
    const csrf = csrfFrom(res.text)
    const added = await agent.post('/cart/add').type('form').send({ _csrf: csrf, code: 'mic-1 ', back: '/cart?q=x' })
    expect(added.status).to.equal(303)
    expect(added.headers.location).to.equal('/cart?q=x')
    // Not loanable, in repair, unknown, or a foreign back address: refused with a message, never added.
    for (const code of ['MIC-2', 'MIC-3', 'NOPE-9']) await agent.post('/cart/add').type('form').send({ _csrf: csrf, code })
    const off = await agent.post('/cart/add').type('form').send({ _csrf: csrf, code: 'MIC-1', back: '//evil.example/' })
    expect(off.headers.location).to.equal('/cart')
    const cart = await agent.get('/cart')
    expect(cart.text).to.match(/ตะกร้าขอยืม <span class="badge">1<\/span>/)
    // The removal takes the item out.
    await agent.post('/cart/remove').type('form').send({ _csrf: csrf, code: 'MIC-1' }).expect(303)
    expect((await agent.get('/cart')).text).to.include('ยังไม่มีรายการในตะกร้า')
  })

  it('when an item cannot be added, then the person is told why in Thai', async () => {
    await makeAsset(t.ctx, { code: 'CAR-1', loanable: false })
    const { agent } = await signedInAs(t, ['staff'])
    const csrf = await csrfOf(agent, '/cart')
    await agent.post('/cart/add').type('form').send({ _csrf: csrf, code: 'CAR-1' }).expect(303)
    expect((await agent.get('/cart')).text).to.include('ครุภัณฑ์ CAR-1 ไม่เปิดให้ยืม')
    await agent.post('/cart/add').type('form').send({ _csrf: csrf, code: 'NOPE-1' }).expect(303)
    expect((await agent.get('/cart')).text).to.include('ไม่พบครุภัณฑ์หมายเลข NOPE-1')
  })

  it('when staff browse the register, then each requestable asset has an add button that returns to the list', async () => {
    await makeAsset(t.ctx, { code: 'TBL-1', name: 'โต๊ะพับ' })
    const { agent } = await signedInAs(t, ['staff'])
    const list = await agent.get('/assets?q=TBL').expect(200)
    expect(list.text).to.include('aria-label="เพิ่ม TBL-1 ในคำขอยืม"').and.include('name="back" value="/assets?q=TBL"')
    const res = await agent
      .post('/cart/add')
      .type('form')
      .send({ _csrf: csrfFrom(list.text), code: 'TBL-1', back: '/assets?q=TBL' })
      .expect(303)
    expect(res.headers.location).to.equal('/assets?q=TBL')
    expect((await agent.get('/assets?q=TBL')).text).to.include('อยู่ในคำขอยืมแล้ว')
  })

  it('when an asset has an approved loan ahead, then its calendar marks those days with the loan number and today', async () => {
    const a = await makeAsset(t.ctx, { code: 'PRJ-1', name: 'เครื่องฉาย' })
    const staff = await makeUser(t.ctx, ['staff'])
    const finance = await makeUser(t.ctx, ['finance'])
    const loan = await createLoan(t.ctx, staff, {
      assetCodes: ['PRJ-1'],
      purpose: 'อบรมอาสาสมัคร',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: '2025-01-30',
      dueDate: '2025-02-02',
    })
    await approveLoan(t.ctx, finance, loan.loan.id, {})
    const { agent } = await signedInAs(t, ['staff'])
    const page = await agent.get(`/assets/${a.id}`).expect(200)
    expect(page.text).to.include('ปฏิทินวันว่าง').and.include('<caption>มกราคม 2568</caption>').and.include('<caption>กุมภาพันธ์ 2568</caption>')
    const days = calendarDays(page.text)
    // Eight weeks from Monday 13 Jan 2025 to Sunday 9 Mar 2025.
    expect(days.size).to.equal(56)
    expect([...days.keys()][0]).to.equal('2025-01-13')
    expect([...days.keys()].at(-1)).to.equal('2025-03-09')
    for (const d of ['2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02']) {
      expect(days.get(d)!.cls, d).to.include('cal-booked')
      expect(days.get(d)!.title, d).to.equal('ไม่ว่าง — ใบยืมเลขที่ 1/2568')
      expect(days.get(d)!.text, d).to.include('1/2568')
    }
    for (const d of ['2025-01-29', '2025-02-03']) {
      expect(days.get(d)!.cls, d).to.include('cal-free')
      expect(days.get(d)!.text, d).to.include('ว่าง')
    }
    expect(days.get('2025-01-15')!.cls).to.include('cal-today')
    expect(days.get('2025-01-15')!.text).to.include('วันนี้')
    expect(days.get('2025-01-14')!.cls).to.include('cal-past')
    expect(page.text).to.match(/<td class="cal-day cal-free cal-today" data-date="2025-01-15" aria-current="date">/)
    // The reservation list names the loan; staff who are not party to it see no link.
    expect(page.text).to.include('ใบยืมเลขที่ 1/2568').and.not.include(`href="/loans/${loan.loan.id}"`)
  })

  it('when an asset is on loan, then the QR page shows who holds it and until when, with the loan link for finance only', async () => {
    const a = await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียง' })
    const borrower = await makeUser(t.ctx, ['staff'], { name: 'นางสาวมาลี ใจดี' })
    const approver = await makeUser(t.ctx, ['finance'])
    const handler = await makeUser(t.ctx, ['finance'])
    const loan = await createLoan(t.ctx, borrower, {
      assetCodes: ['AMP-9'],
      purpose: 'ประชุมประจำเดือน',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: '2025-01-15',
      dueDate: '2025-01-17',
    })
    await approveLoan(t.ctx, approver, loan.loan.id, {})
    await handOver(t.ctx, handler, loan.loan.id)

    const { agent: staff } = await signedInAs(t, ['staff'])
    const qr = await staff.get(`/q/${a.code}`).expect(200)
    expect(qr.text).to.include('นางสาวมาลี ใจดี').and.include('กำหนดคืน 17 ม.ค. 2568').and.include('ใบยืมเลขที่ 1/2568')
    expect(qr.text).to.not.include(`href="/loans/${loan.loan.id}"`)
    // On loan is still requestable for later dates.
    expect(qr.text).to.include('เพิ่มในคำขอยืม')

    const { agent: fin } = await signedInAs(t, ['finance'])
    expect((await fin.get(`/q/${a.code}`)).text).to.include(`href="/loans/${loan.loan.id}"`)
    const own = await signIn(t.app, borrower.username, borrower.password)
    expect((await own.get(`/q/${a.code}`)).text).to.include(`href="/loans/${loan.loan.id}"`)

    // The asset page shows the same holder; its calendar marks today through the due date as on loan.
    const page = await fin.get(`/assets/${a.id}`).expect(200)
    expect(page.text).to.include('นางสาวมาลี ใจดี')
    const days = calendarDays(page.text)
    expect(days.get('2025-01-17')!.title).to.equal('กำลังถูกยืม — ใบยืมเลขที่ 1/2568')
    expect(days.get('2025-01-18')!.cls).to.include('cal-free')

    // Past due, the holder is marked overdue.
    t.ctx.clock.set('2025-01-20T03:00:00.000Z')
    const { agent: later } = await signedInAs(t, ['staff'])
    expect((await later.get(`/q/${a.code}`)).text).to.include('เกินกำหนดคืน')
  })
})
