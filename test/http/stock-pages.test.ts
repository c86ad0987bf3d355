import { expect } from 'chai'
import supertest from 'supertest'
import { createTestApp, csrfFrom, csrfOf, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeStock } from '../helpers/stock.js'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'
import { query } from '../helpers/db.js'

/** The text of a page as a person reads it: tags out, entities back, spaces collapsed. */
function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

function fieldError(html: string, name: string): string | undefined {
  return new RegExp(`<p class="field-error" id="${name}-error">([^<]*)</p>`).exec(html)?.[1]
}

async function row(t: TestApp, code: string) {
  return (await query(t.ctx.db).get('SELECT quantity, in_repair, out_qty FROM stock_item WHERE code = ?', code)) as {
    quantity: number
    in_repair: number
    out_qty: number
  }
}

const temple = { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '089-111-2222', villageNo: '3' }

describe('counted items (pages)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  describe('who may do what', () => {
    it('when staff open the list and an item, then 200 without finance forms; creating and moving are 403; anonymous go to sign-in', async () => {
      const chairs = await makeStock(t.ctx, { code: 'CHAIR', quantity: 120 })
      const { agent: staff } = await signedInAs(t, ['staff'])
      const list = await staff.get('/stock').expect(200)
      expect(list.text).to.include(`href="/stock/${chairs.id}"`)
      expect(list.text).to.not.include('href="/stock/new"')
      const page = await staff.get(`/stock/${chairs.id}`).expect(200)
      expect(page.text).to.not.include(`action="/stock/${chairs.id}/move"`)
      expect(page.text).to.not.include('/labels/sheet?stock=')
      // …but they may ask for some: the add-to-request form posts a quantity to the cart.
      expect(page.text).to.include('action="/cart/add"').and.include('name="quantity"')

      expect((await staff.get('/stock/new')).status).to.equal(403)
      const csrf = csrfFrom(page.text)
      const created = await staff.post('/stock').type('form').send({ _csrf: csrf, code: 'X-1', name: 'แอบเพิ่ม', quantity: '5' })
      expect(created.status).to.equal(403)
      const moved = await staff.post(`/stock/${chairs.id}/move`).type('form').send({ _csrf: csrf, move: 'write_off', quantity: '5', reason: 'แอบตัด' })
      expect(moved.status).to.equal(403)
      expect(await row(t, 'CHAIR')).to.deep.equal({ quantity: 120, in_repair: 0, out_qty: 0 })

      for (const path of ['/stock', `/stock/${chairs.id}`, '/stock/new']) {
        const anon = await supertest(t.app).get(path)
        expect(anon.status, path).to.equal(303)
        expect(anon.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`)
      }
      // The navigation offers the counted items to everyone signed in, right after the assets.
      const nav = /<nav aria-label="[^"]*">([\s\S]*?)<\/nav>/.exec(list.text)![1]!
      const hrefs = [...nav.matchAll(/<li><a href="([^"]+)"/g)].map((m) => m[1])
      expect(hrefs.indexOf('/stock')).to.equal(hrefs.indexOf('/assets') + 1)
    })

    it('when the id is not a number or names nothing, then 404', async () => {
      const { agent } = await signedInAs(t, ['finance'])
      expect((await agent.get('/stock/abc')).status).to.equal(404)
      expect((await agent.get('/stock/999')).status).to.equal(404)
    })
  })

  describe('adding a counted item', () => {
    it('when finance adds 120 chairs, then the page shows the counts, the list finds them and the audit log has it', async () => {
      const { agent, user } = await signedInAs(t, ['finance'], { name: 'นางมาลี ใจดี' })
      const form = await agent.get('/stock/new').expect(200)
      // The unit is free text with suggestions.
      expect(form.text)
        .to.include('list="unit-suggestions"')
        .and.include('<option value="ตัว">')
        .and.include('<option value="ชุด">')
        .and.include('<option value="ใบ">')
      const categoryId = ((await query(t.ctx.db).get("SELECT id FROM category WHERE code = 'household'")) as { id: number }).id
      const res = await agent
        .post('/stock')
        .type('form')
        .send({
          _csrf: csrfFrom(form.text),
          code: ' CHAIR-01 ',
          name: 'เก้าอี้พลาสติก',
          unit: 'ตัว',
          quantity: '120',
          categoryId: String(categoryId),
          location: 'โรงเก็บพัสดุ',
          loanable: '1',
          notes: '',
        })
      expect(res.status).to.equal(303)
      const id = Number(/^\/stock\/(\d+)$/.exec(res.headers.location as string)![1])
      const page = await agent.get(`/stock/${id}`).expect(200)
      const text = textOf(page.text)
      expect(text).to.include('เพิ่มพัสดุ CHAIR-01 แล้ว')
      expect(text).to.include('120 มีทั้งหมด').and.include('120 อยู่ในคลัง').and.include('0 ถูกยืมออกไป').and.include('0 ส่งซ่อม').and.include('120 ว่างวันนี้')
      expect(text).to.include('โรงเก็บพัสดุ')
      // Finance gets the label, the moves and the history (the first stock-in, by whom).
      expect(page.text).to.include(`href="/labels/sheet?stock=${id}&amp;layout=single"`)
      expect(page.text).to.include(`action="/stock/${id}/move"`)
      expect(text).to.include('รับเข้า 120 ตัว · นางมาลี ใจดี')
      const list = textOf((await agent.get('/stock?q=chair').expect(200)).text)
      expect(list).to.include('CHAIR-01').and.include('เก้าอี้พลาสติก')
      const audit = await query(t.ctx.db).all("SELECT action, actor_id FROM audit_log WHERE entity = 'stock'")
      expect(audit).to.deep.equal([{ action: 'stock.created', actor_id: user.id }])
    })

    it('when the form is wrong, then 422 names each field in Thai and keeps what was typed; a code in use is 409 on the code field', async () => {
      const { agent } = await signedInAs(t, ['finance'])
      const csrf = await csrfOf(agent, '/stock/new')
      const bad = await agent.post('/stock').type('form').send({ _csrf: csrf, code: 'ผิด รหัส!', name: '', unit: 'ชุด', quantity: 'สิบ', location: 'ห้องเก็บของ' })
      expect(bad.status).to.equal(422)
      expect(bad.text).to.include('ข้อมูลไม่ถูกต้อง กรุณาตรวจสอบช่องที่มีเครื่องหมาย')
      expect(fieldError(bad.text, 'code')).to.equal('หมายเลขครุภัณฑ์ใช้ตัวอักษร ตัวเลข - / และ . เท่านั้น เช่น 416-66-0001')
      expect(fieldError(bad.text, 'name')).to.equal('กรุณากรอกข้อมูลนี้')
      expect(fieldError(bad.text, 'quantity')).to.equal('กรุณากรอกจำนวนเต็ม')
      expect(bad.text).to.include('value="สิบ"').and.include('value="ห้องเก็บของ"').and.include('value="ชุด"')
      expect(bad.text).to.include('aria-invalid="true" aria-describedby="name-error"')

      await makeStock(t.ctx, { code: 'TENT-1' })
      const taken = await agent.post('/stock').type('form').send({ _csrf: csrf, code: 'TENT-1', name: 'เต็นท์', quantity: '8' })
      expect(taken.status).to.equal(409)
      expect(fieldError(taken.text, 'code')).to.equal('รหัส TENT-1 ใช้แล้ว (ครุภัณฑ์ พัสดุนับจำนวน และชุดยืม ใช้รหัสร่วมกัน)')
      expect(await query(t.ctx.db).get('SELECT COUNT(*) AS n FROM stock_item')).to.deep.equal({ n: 1 })
    })
  })

  describe('moving counts', () => {
    it('when finance records stock-in, repair and write-offs with reasons, then the counts follow and each move is in the history with who and why', async () => {
      const tents = await makeStock(t.ctx, { code: 'TENT-SET', name: 'เต็นท์', unit: 'หลัง', quantity: 8 })
      const { agent, user } = await signedInAs(t, ['finance'], { name: 'นายสมพงษ์ คลังดี' })
      const csrf = await csrfOf(agent, `/stock/${tents.id}`)
      const moves: Array<[string, number, string, { quantity: number; in_repair: number }]> = [
        ['stock_in', 2, 'จัดซื้อตามใบส่งของเลขที่ 15/2568', { quantity: 10, in_repair: 0 }],
        ['to_repair', 3, 'ผ้าใบขาด', { quantity: 10, in_repair: 3 }],
        ['from_repair', 1, 'ซ่อมเสร็จ', { quantity: 10, in_repair: 2 }],
        ['write_off_repair', 1, 'ซ่อมไม่ได้ โครงหัก', { quantity: 9, in_repair: 1 }],
        ['write_off', 2, 'จำหน่ายตามคำสั่งที่ 4/2568', { quantity: 7, in_repair: 1 }],
      ]
      for (const [move, quantity, reason, after] of moves) {
        const res = await agent
          .post(`/stock/${tents.id}/move`)
          .type('form')
          .send({ _csrf: csrf, move, quantity: String(quantity), reason })
        expect(res.status, move).to.equal(303)
        expect(res.headers.location).to.equal(`/stock/${tents.id}#moves`)
        expect(await row(t, 'TENT-SET'), move).to.deep.include(after)
      }
      const page = await agent.get(`/stock/${tents.id}`).expect(200)
      const text = textOf(page.text)
      expect(text).to.include('บันทึก “ตัดจำหน่าย” 2 หลัง แล้ว')
      expect(text).to.include('รับเข้า 2 หลัง · นายสมพงษ์ คลังดี — จัดซื้อตามใบส่งของเลขที่ 15/2568')
      expect(text).to.include('ส่งซ่อม 3 หลัง · นายสมพงษ์ คลังดี — ผ้าใบขาด')
      expect(text).to.include('รับคืนจากซ่อม 1 หลัง · นายสมพงษ์ คลังดี — ซ่อมเสร็จ')
      expect(text).to.include('ตัดจำหน่ายจากที่ส่งซ่อม 1 หลัง · นายสมพงษ์ คลังดี — ซ่อมไม่ได้ โครงหัก')
      expect(text).to.include('7 มีทั้งหมด').and.include('6 อยู่ในคลัง').and.include('1 ส่งซ่อม')
      const audit = (await query(t.ctx.db).all("SELECT action, actor_id FROM audit_log WHERE entity = 'stock' ORDER BY id")) as Array<{
        action: string
        actor_id: number
      }>
      expect(audit.map((a) => a.action)).to.deep.equal([
        'stock.created',
        'stock.stock_in',
        'stock.to_repair',
        'stock.from_repair',
        'stock.write_off_repair',
        'stock.write_off',
      ])
      expect(audit.slice(1).every((a) => a.actor_id === user.id)).to.equal(true)
    })

    it('when a move has no reason or no count, then 422 in Thai with the values kept; when it would take more than is on hand, then 409 says how many are on hand', async () => {
      const chairs = await makeStock(t.ctx, { code: 'CHAIR', quantity: 120 })
      const finance = await makeUser(t.ctx, ['finance'])
      const finance2 = await makeUser(t.ctx, ['finance'])
      // 20 chairs go out on a loan: they are owned, but not on hand.
      const loan = await createLoan(t.ctx, finance, {
        purpose: 'ประชุมหมู่บ้าน',
        place: 'ศาลาประชาคม',
        kind: 'in_premises',
        startDate: '2025-01-15',
        dueDate: '2025-01-16',
        externalBorrower: temple,
        stock: [{ code: 'CHAIR', quantity: 20 }],
      })
      await approveLoan(t.ctx, finance2, loan.loan.id, {})
      await handOver(t.ctx, finance, loan.loan.id)
      const { agent } = await signedInAs(t, ['finance'])
      const csrf = await csrfOf(agent, `/stock/${chairs.id}`)

      const noReason = await agent.post(`/stock/${chairs.id}/move`).type('form').send({ _csrf: csrf, move: 'write_off', quantity: '4', reason: ' ' })
      expect(noReason.status).to.equal(422)
      expect(fieldError(noReason.text, 'reason')).to.equal('กรุณาระบุเหตุผล (อย่างน้อย ๓ ตัวอักษร)')
      expect(noReason.text).to.include('name="move" value="write_off" checked').and.include('value="4"')

      const noCount = await agent.post(`/stock/${chairs.id}/move`).type('form').send({ _csrf: csrf, move: 'stock_in', quantity: '0', reason: 'รับบริจาค' })
      expect(noCount.status).to.equal(422)
      expect(fieldError(noCount.text, 'quantity')).to.equal('ต้องมีค่าอย่างน้อย ๑')
      expect(noCount.text).to.include('รับบริจาค</textarea>')

      const noMove = await agent.post(`/stock/${chairs.id}/move`).type('form').send({ _csrf: csrf, quantity: '1', reason: 'ไม่รู้ว่าอะไร' })
      expect(noMove.status).to.equal(422)
      expect(fieldError(noMove.text, 'move')).to.equal('รายการเคลื่อนไหวไม่ถูกต้อง')

      const tooMany = await agent.post(`/stock/${chairs.id}/move`).type('form').send({ _csrf: csrf, move: 'write_off', quantity: '101', reason: 'ชำรุดทั้งหมด' })
      expect(tooMany.status).to.equal(409)
      expect(textOf(tooMany.text)).to.include('จำนวนคงเหลือในคลังไม่พอ (CHAIR: อยู่ในคลัง 100 ส่งซ่อม 0)')
      expect(tooMany.text).to.include('value="101"').and.include('ชำรุดทั้งหมด</textarea>')

      const repairTooMany = await agent
        .post(`/stock/${chairs.id}/move`)
        .type('form')
        .send({ _csrf: csrf, move: 'from_repair', quantity: '1', reason: 'ซ่อมเสร็จ' })
      expect(repairTooMany.status).to.equal(409)
      expect(await row(t, 'CHAIR')).to.deep.equal({ quantity: 120, in_repair: 0, out_qty: 20 })
      // Exactly what is on hand may go.
      const ok = await agent.post(`/stock/${chairs.id}/move`).type('form').send({ _csrf: csrf, move: 'to_repair', quantity: '100', reason: 'ตรวจสภาพประจำปี' })
      expect(ok.status).to.equal(303)
      expect(await row(t, 'CHAIR')).to.deep.equal({ quantity: 120, in_repair: 100, out_qty: 20 })
    })
  })

  describe('availability', () => {
    it('when an approved loan holds 80 of 120 chairs for three days, then the page shows 40 free for those days, the per-day picture and the loan holding them', async () => {
      const chairs = await makeStock(t.ctx, { code: 'CHAIR', quantity: 120 })
      const finance = await makeUser(t.ctx, ['finance'])
      const finance2 = await makeUser(t.ctx, ['finance'])
      const loan = await createLoan(t.ctx, finance, {
        purpose: 'งานบวช',
        place: 'วัดบ้านหนองบัว',
        kind: 'in_premises',
        startDate: '2025-01-16',
        dueDate: '2025-01-18',
        externalBorrower: temple,
        stock: [{ code: 'CHAIR', quantity: 80 }],
      })
      await approveLoan(t.ctx, finance2, loan.loan.id, {})
      const { agent } = await signedInAs(t, ['staff'])

      // Default: today and the next seven days.
      const page = await agent.get(`/stock/${chairs.id}`).expect(200)
      expect(page.text).to.include('name="from" type="text" value="15/01/2568"').and.include('name="to" type="text" value="22/01/2568"')
      expect(textOf(page.text)).to.include('ว่าง 40 ตัว ทุกวันตลอดช่วง')
      expect(textOf(page.text)).to.include('120 ว่างวันนี้')
      for (const day of ['2025-01-16', '2025-01-17', '2025-01-18']) expect(page.text).to.include(`data-date="${day}" data-available="40" data-held="80"`)
      for (const day of ['2025-01-15', '2025-01-19', '2025-02-09']) expect(page.text).to.include(`data-date="${day}" data-available="120" data-held="0"`)
      expect(page.text).to.match(/data-date="2025-01-13"(?! data-available)/) // Monday of this week: past, no count
      // The holding loan is named; staff may not open someone else's loan, so no link or borrower.
      const holdings = textOf(/<section class="card" aria-labelledby="holdings-h">([\s\S]*?)<\/section>/.exec(page.text)![1]!)
      expect(holdings).to.include(`80 ตัว`).and.include(`ใบยืมเลขที่ ${loan.number}`).and.include('อนุมัติแล้ว')
      expect(page.text).to.not.include(`href="/loans/${loan.loan.id}"`)

      const after = await agent.get(`/stock/${chairs.id}?from=2025-01-19&to=2025-01-20`).expect(200)
      expect(textOf(after.text)).to.include('ว่าง 120 ตัว ทุกวันตลอดช่วง')
      const { agent: fin } = await signedInAs(t, ['finance'])
      const seen = await fin.get(`/stock/${chairs.id}?from=2025-01-17&to=2025-01-17`).expect(200)
      expect(textOf(seen.text)).to.include('ว่าง 40 ตัว').and.include(`ใบยืมเลขที่ ${loan.number}`).and.include('พระครูสุนทร (วัดบ้านหนองบัว)')
      expect(seen.text).to.include(`href="/loans/${loan.loan.id}"`)
    })

    it('when the dates are not valid or the end is before the start, then 422 names the field and the page still shows the default week', async () => {
      const chairs = await makeStock(t.ctx, { code: 'CHAIR', quantity: 120 })
      const { agent } = await signedInAs(t, ['staff'])
      // The page takes พ.ศ. (issue 16): text that is no date, and a day that does not exist, say so.
      const bad = await agent.get(`/stock/${chairs.id}?from=16-01&to=30/02/2568`)
      expect(bad.status).to.equal(422)
      expect(fieldError(bad.text, 'from')).to.equal('พิมพ์วันที่เป็น วัน/เดือน/ปี พ.ศ. เช่น 15/10/2568')
      expect(fieldError(bad.text, 'to')).to.equal('ไม่มีวันที่ 30/02/2568')
      expect(bad.text).to.include('value="16-01"').and.include('value="30/02/2568"')
      const reversed = await agent.get(`/stock/${chairs.id}?from=2025-01-20&to=2025-01-10`)
      expect(reversed.status).to.equal(422)
      expect(fieldError(reversed.text, 'to')).to.equal('วันสิ้นสุดต้องไม่ก่อนวันเริ่มต้น')
      expect(textOf(reversed.text)).to.include('ว่าง 120 ตัว')
    })
  })
})
