import { expect } from 'chai'
import type supertest from 'supertest'
import { createTestApp, csrfFrom, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { approveLoan, createLoan } from '../../server/services/loan.service.js'
import { verifyChain } from '../../server/services/audit.service.js'

type Agent = supertest.Agent

/** The text of a page without tags, spaces collapsed: what a person reads. */
function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
}

async function postForm(agent: Agent, from: string, path: string, body: Record<string, string | string[]>) {
  const page = await agent.get(from)
  return agent
    .post(path)
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...body })
}

/** The id of a counted line's field on a screen, e.g. `count_3` for CHAIR, read from its data-stock-code. */
function lineId(html: string, code: string): string {
  const m = new RegExp(`name="(?:count|good)_(\\d+)"[^>]*data-stock-code="${code}"`).exec(html)
  if (!m) throw new Error(`no counted line ${code}`)
  return m[1]!
}

describe('counted items and kits through the pages (issue 5 done criterion)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp() // 15 Jan 2025, 10:00 in Bangkok
  })
  afterEach(() => t.close())

  const temple = {
    borrowerKind: 'external',
    'externalBorrower.type': 'public',
    'externalBorrower.name': 'พระครูสุนทรธรรมโกวิท',
    'externalBorrower.organisation': 'วัดบ้านหนองบัว',
    'externalBorrower.phone': '089-111-2222',
    'externalBorrower.villageNo': '3',
    'externalBorrower.address': '12 บ้านหนองบัว',
  }
  const event = { purpose: 'งานบวชประจำปีของหมู่บ้าน', place: 'วัดบ้านหนองบัว หมู่ที่ 3', kind: 'off_premises', startDate: '2025-01-16', dueDate: '2025-01-18' }

  async function pool() {
    const chairs = await makeStock(t.ctx, { code: 'CHAIR', name: 'เก้าอี้พลาสติก', unit: 'ตัว', quantity: 120 })
    await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียงเคลื่อนที่' })
    const mics = await makeStock(t.ctx, { code: 'MIC-POOL', name: 'ไมโครโฟนไร้สาย', unit: 'ตัว', quantity: 6 })
    await makeKit(t.ctx, 'KIT-SOUND', [{ code: 'AMP-9' }, { code: 'MIC-POOL', quantity: 2 }])
    return { chairs, mics }
  }

  const stockRow = (code: string) =>
    t.ctx.db.selectFrom('stock_item').select(['quantity', 'in_repair', 'out_qty']).where('code', '=', code).executeTakeFirstOrThrow()

  it('when finance lends 80 chairs and a sound kit to a temple at the counter and receives 76 good, 2 damaged, 2 lost and the kit whole, then the counts, compensation, slip and timeline show it and 60 more chairs on those days are refused naming the loan', async () => {
    const { chairs } = await pool()
    const counter = await signedInAs(t, ['finance'], { name: 'นางสาวเคาน์เตอร์ พัสดุ' })
    const checker = await signedInAs(t, ['finance'], { name: 'นายตรวจ สอบดี' })
    const exec = await signedInAs(t, ['executive'], { name: 'นายนายก อบต.' })

    // The counter: one line of chairs with a count, one kit code.
    const form = await counter.agent.get('/loans/new').expect(200)
    expect(textOf(form.text)).to.include('CHAIR 10') // the hint's example is the register's own pool
    const sent = await counter.agent
      .post('/loans/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), ...temple, ...event, assetCodes: 'CHAIR x80\r\nKIT-SOUND\r\n' })
    expect(sent.status, textOf(sent.text)).to.equal(303)
    const url = sent.headers.location as string
    const id = Number(url.split('/')[2])
    const lines = await t.ctx.db
      .selectFrom('loan_stock_line as l')
      .innerJoin('stock_item as s', 's.id', 'l.stock_id')
      .select(['s.code', 'l.quantity'])
      .where('l.loan_id', '=', id)
      .orderBy('s.code')
      .execute()
    expect(lines).to.deep.equal([
      { code: 'CHAIR', quantity: 80 },
      { code: 'MIC-POOL', quantity: 2 },
    ])

    // The loan page lists the counted lines next to the amplifier; the list shows the quantities.
    const page = textOf((await counter.agent.get(url).expect(200)).text)
    expect(page).to.include('พัสดุนับจำนวน').and.include('CHAIR เก้าอี้พลาสติก 80 ตัว').and.include('MIC-POOL ไมโครโฟนไร้สาย 2 ตัว').and.include('AMP-9')
    expect(page).to.include('รายการพัสดุ (3)')
    // Issue 17: lists name what was lent; the codes are the cell's title.
    expect(textOf((await counter.agent.get('/loans').expect(200)).text)).to.include('เครื่องขยายเสียงเคลื่อนที่, เก้าอี้พลาสติก ×80, ไมโครโฟนไร้สาย ×2')

    // Checked by another finance user, approved by the executive.
    expect((await postForm(checker.agent, url, `/loans/${id}/approve`, {})).status).to.equal(303)
    expect((await postForm(exec.agent, url, `/loans/${id}/approve`, { note: 'อนุมัติ' })).status).to.equal(303)

    // A second request for 60 chairs on the same days is refused, naming the first loan.
    const second = await postForm(counter.agent, '/loans/new', '/loans/new', {
      ...temple,
      'externalBorrower.name': 'นายสมหมาย ใจบุญ',
      'externalBorrower.organisation': 'โรงเรียนบ้านหนองบัว',
      ...event,
      assetCodes: 'CHAIR 60',
    })
    expect(second.status).to.equal(409)
    expect(textOf(second.text)).to.include('เก้าอี้พลาสติก (CHAIR) ว่างไม่พอ: ขอ 60 ว่าง 40 — ใบยืมเลขที่ 1/2568')
    expect(second.text).to.include('value="นายสมหมาย ใจบุญ"')
    expect(await t.ctx.db.selectFrom('loan').select('id').execute()).to.have.length(1)

    // The hand-over day: the screen asks for a count per counted line and a tick for the amplifier.
    t.ctx.clock.set('2025-01-16T01:30:00.000Z')
    const hand = await signIn(t.app, counter.user.username, counter.user.password)
    const screen = await hand.get(`/loans/${id}/handover`).expect(200)
    const chairLine = lineId(screen.text, 'CHAIR')
    const micLine = lineId(screen.text, 'MIC-POOL')
    expect(textOf(screen.text)).to.include('ตามใบยืม 80 ตัว').and.include('ตามใบยืม 2 ตัว')
    // Scanning the chairs' pool label (no JavaScript) puts the cursor in its count field.
    const scanned = await hand
      .post(`/loans/${id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'scan', scan: 'https://yk.example.go.th/q/CHAIR' })
      .expect(200)
    expect(scanned.text).to.match(new RegExp(`name="count_${chairLine}"[^>]*autofocus`))
    // Counted 78: refused with what to do, nothing handed over.
    const short = await hand
      .post(`/loans/${id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: 'AMP-9', [`count_${chairLine}`]: '78', [`count_${micLine}`]: '2' })
      .expect(422)
    expect(textOf(short.text)).to.include('นับ เก้าอี้พลาสติก (CHAIR) ได้ 78 ตัว แต่ใบยืมขอ 80 ตัว').and.include('กรุณาแก้ใบยืมก่อน')
    expect(short.text).to.include(`value="78"`)
    expect((await stockRow('CHAIR')).out_qty).to.equal(0)
    // Thai digits count too.
    const out = await hand
      .post(`/loans/${id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: 'AMP-9', [`count_${chairLine}`]: '๘๐', [`count_${micLine}`]: '2' })
    expect(out.status, textOf(out.text)).to.equal(303)
    expect(await stockRow('CHAIR')).to.deep.equal({ quantity: 120, in_repair: 0, out_qty: 80 })
    const onLoan = textOf((await hand.get(url)).text)
    expect(onLoan).to.include('กำลังยืม').and.include('CHAIR 80 ตัว, MIC-POOL 2 ตัว')

    // The slip: จำนวน «๘๐ ตัว», the pool's code in the asset-code column.
    const slip = textOf((await hand.get(`/loans/${id}/slip`).expect(200)).text)
    expect(slip)
      .to.match(/๒ เก้าอี้พลาสติก ๘๐ ตัว CHAIR/)
      .and.match(/๓ ไมโครโฟนไร้สาย ๒ ตัว MIC-POOL/)
    expect(slip).to.include('เครื่องขยายเสียงเคลื่อนที่ ๑ AMP-9')

    // The last day: the chairs come back 76 good, 2 damaged, 2 missing.
    t.ctx.clock.set('2025-01-18T09:00:00.000Z')
    const back = await signIn(t.app, counter.user.username, counter.user.password)
    const ret = await back.get(`/loans/${id}/return`).expect(200)
    expect(textOf(ret.text)).to.include('ยืม 80 ตัว · รับคืนแล้ว 0 · ค้าง 80 ตัว').and.include('ระบบจะเปิดรายการชดใช้')
    const rc = lineId(ret.text, 'CHAIR')
    const rm = lineId(ret.text, 'MIC-POOL')
    // «Receive all» with a shortfall not entered as lost is refused on the screen.
    const gap = await back
      .post(`/loans/${id}/return`)
      .type('form')
      .send({ _csrf: csrfFrom(ret.text), op: 'all', [`good_${rc}`]: '76', [`damaged_${rc}`]: '2' })
      .expect(422)
    expect(textOf(gap.text)).to.include('ค้าง 80 ตัว แต่กรอกไว้ 78')
    const chairsBack = await back
      .post(`/loans/${id}/return`)
      .type('form')
      .send({
        _csrf: csrfFrom(ret.text),
        op: 'selected',
        [`good_${rc}`]: '76',
        [`damaged_${rc}`]: '2',
        [`lost_${rc}`]: '2',
        [`snote_${rc}`]: 'ขาหัก 2 ตัว หาย 2 ตัว',
        [`sby_${rc}`]: 'นายสมศักดิ์ ลูกศิษย์วัด',
      })
    expect(chairsBack.status, textOf(chairsBack.text)).to.equal(303)
    const partial = textOf((await back.get(url)).text)
    expect(partial).to.include('กำลังยืม').and.include('รับคืน CHAIR: ดี 76 ชำรุด 2 สูญหาย 2 ตัว').and.include('ผู้ส่งคืน นายสมศักดิ์ ลูกศิษย์วัด')
    // What is still out: the kit.
    const ret2 = await back.get(`/loans/${id}/return`).expect(200)
    expect(textOf(ret2.text)).to.include('ยืม 2 ตัว · รับคืนแล้ว 0 · ค้าง 2 ตัว').and.include('AMP-9').and.include('ดี 76 ชำรุด 2 สูญหาย 2 ตัว')
    expect(ret2.text).to.not.include(`name="good_${rc}"`)
    // The kit back whole: «receive all», the microphones' count left blank means all of them, good.
    const kitBack = await back
      .post(`/loans/${id}/return`)
      .type('form')
      .send({ _csrf: csrfFrom(ret2.text), op: 'all' })
    expect(kitBack.status, textOf(kitBack.text)).to.equal(303)
    void rm

    const done = await back.get(url).expect(200)
    const doneText = textOf(done.text)
    expect(doneText).to.include('คืนครบทุกรายการ').and.include('คืนแล้ว')
    expect(await stockRow('CHAIR')).to.deep.equal({ quantity: 118, in_repair: 2, out_qty: 0 })
    expect(await stockRow('MIC-POOL')).to.deep.equal({ quantity: 6, in_repair: 0, out_qty: 0 })
    expect((await t.ctx.db.selectFrom('loan').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).to.equal('returned')
    const comps = await t.ctx.db
      .selectFrom('compensation')
      .select(['incident', 'quantity', 'loan_stock_line_id'])
      .where('loan_id', '=', id)
      .orderBy('id')
      .execute()
    expect(comps.map((c) => [c.incident, c.quantity])).to.deep.equal([
      ['damaged', 2],
      ['lost', 2],
    ])
    expect(comps.every((c) => c.loan_stock_line_id !== null)).to.equal(true)
    expect(doneText).to.include('CHAIR เก้าอี้พลาสติก · ชำรุด 2 ตัว').and.include('CHAIR เก้าอี้พลาสติก · สูญหาย 2 ตัว')
    expect(doneText).to.include('เปิดรายการชดใช้ CHAIR (สูญหาย 2 ตัว)')

    // The compensation form: the price is per unit, the proposal is price × units, in baht and in words.
    const lost = await t.ctx.db.selectFrom('compensation').select('id').where('loan_id', '=', id).where('incident', '=', 'lost').executeTakeFirstOrThrow()
    expect(done.text).to.include('ราคาปัจจุบันต่อหน่วยของพัสดุอย่างเดียวกัน (บาท)')
    const priced = await postForm(back, url, `/loans/${id}/compensations/${lost.id}`, { comp: String(lost.id), method: 'pay', currentPrice: '150' })
    expect(priced.status).to.equal(303)
    const pricedText = textOf((await back.get(url)).text)
    expect(pricedText).to.include('300.00 บาท').and.include('สามร้อยบาทถ้วน')

    // The slip after the return: each counted line says what came back in which condition.
    const slipBack = textOf((await back.get(`/loans/${id}/slip`).expect(200)).text)
    expect(slipBack)
      .to.include('CHAIR ดี ๗๖ ชำรุด ๒ สูญหาย ๒ ขาหัก ๒ ตัว หาย ๒ ตัว')
      .and.match(/MIC-POOL ดี ๒ ข้าพเจ้า/)
    expect(slipBack).to.include('สภาพ ตามหมายเหตุแต่ละรายการ').and.include('ผู้ส่งคืน').and.include('นายสมศักดิ์ ลูกศิษย์วัด')

    // Once back, the chairs are free again for those days.
    const again = await postForm(back, '/loans/new', '/loans/new', {
      ...temple,
      ...event,
      startDate: '2025-01-20',
      dueDate: '2025-01-20',
      assetCodes: 'CHAIR x60',
    })
    expect(again.status, textOf(again.text)).to.equal(303)
    void chairs
    expect((await verifyChain(t.ctx.db)).ok).to.equal(true)
  })

  it('when a loan holds only counted items, then the queues and the dashboard count it like any other', async () => {
    await pool()
    const counter = await signedInAs(t, ['finance'])
    const checker = await signedInAs(t, ['finance'])
    const exec = await makeUserExec()
    const loan = await createLoan(t.ctx, counter.user, {
      ...event,
      startDate: '2025-01-15',
      dueDate: '2025-01-17',
      stock: [{ code: 'CHAIR', quantity: 20 }],
      externalBorrower: { type: 'public', name: 'กลุ่มแม่บ้านหมู่ 5' },
    })
    const queue = await checker.agent.get('/loans/queue').expect(200)
    expect(queue.text).to.include(`/loans/${loan.loan.id}`).and.include('เก้าอี้พลาสติก ×20')
    await approveLoan(t.ctx, checker.user, loan.loan.id, {})
    await approveLoan(t.ctx, exec, loan.loan.id, {})
    const toHandOver = await counter.agent.get('/loans/queue').expect(200)
    const m = /id="q-toHandOver">\s*<h2>[^<]*<span class="count[^"]*">(\d+)<\/span>/.exec(toHandOver.text)
    expect(m?.[1]).to.equal('1')
    const home = await counter.agent.get('/').expect(200)
    expect(home.text).to.include(`/loans/${loan.loan.id}`)
    // A stock-only hand-over has nothing to tick: only counts.
    const screen = await counter.agent.get(`/loans/${loan.loan.id}/handover`).expect(200)
    expect(screen.text).to.not.include('name="confirmedCodes"')
    const cl = lineId(screen.text, 'CHAIR')
    const blank = await counter.agent
      .post(`/loans/${loan.loan.id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover' })
      .expect(422)
    expect(textOf(blank.text)).to.include('กรุณานับ เก้าอี้พลาสติก (CHAIR) แล้วใส่จำนวนที่ส่งมอบ')
    // Enter in the count field (no JavaScript) sends the scan button with nothing scanned: the screen stays as typed.
    const enter = await counter.agent
      .post(`/loans/${loan.loan.id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'scan', scan: '', [`count_${cl}`]: '20' })
      .expect(200)
    expect(enter.text).to.include('value="20"').and.not.include('flash-error')
    const out = await counter.agent
      .post(`/loans/${loan.loan.id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', [`count_${cl}`]: '20' })
    expect(out.status).to.equal(303)
    expect((await stockRow('CHAIR')).out_qty).to.equal(20)
    const list = await counter.agent.get('/loans?status=on_loan').expect(200)
    expect(textOf(list.text)).to.include('เก้าอี้พลาสติก ×20')
  })

  async function makeUserExec() {
    const { makeUser } = await import('../helpers/builders.js')
    return makeUser(t.ctx, ['executive'])
  }
})
