import { expect } from 'chai'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { apiAs, count, errorOf, withToken } from '../helpers/loans.js'
import { query } from '../helpers/db.js'
import { makeStock } from '../helpers/stock.js'
import { verifyChain } from '../../server/services/audit.service.js'

interface ApiLoan {
  id: number
  number: string
  status: string
  stock: Array<Record<string, unknown>>
  items: unknown[]
}

const loanOf = (res: { body: unknown }) => res.body as ApiLoan

const temple = { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '089-111-2222', address: 'หมู่ที่ 3 ตำบลหนองบัว' }

/** A three-day off-premises loan of counted items for the temple, as finance enters it at the counter. */
function templeLoan(stock: Array<{ code: string; quantity: number }>, over: Record<string, unknown> = {}) {
  return {
    stock,
    purpose: 'งานบวชประจำปี',
    place: 'วัดบ้านหนองบัว หมู่ 3',
    kind: 'off_premises',
    startDate: '2025-01-16',
    dueDate: '2025-01-18',
    externalBorrower: temple,
    ...over,
  }
}

describe('stock API (SPEC §5)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  describe('POST /api/v1/stock', () => {
    it('when finance adds a counted item, then 201 with exactly the Stock object, the category stored by its code and the move audited', async () => {
      const finance = await withToken(t, ['finance'])
      const res = await apiAs(t, finance.token).post('/api/v1/stock', {
        code: 'CHAIR-01',
        name: 'เก้าอี้พลาสติก',
        quantity: 120,
        category: 'household',
        unit: 'ตัว',
        colour: 'blue',
      })
      expect(res.status).to.equal(201)
      expect(res.type).to.equal('application/json')
      expect(res.body).to.deep.equal({ code: 'CHAIR-01', name: 'เก้าอี้พลาสติก', unit: 'ตัว', quantity: 120, inRepair: 0, available: 120 })
      expect(Object.keys(res.body as object)).to.deep.equal(['code', 'name', 'unit', 'quantity', 'inRepair', 'available'])
      const row = await query(t.ctx.db).get('SELECT c.code AS category FROM stock_item s JOIN category c ON c.id = s.category_id WHERE s.code = ?', 'CHAIR-01')
      expect(row).to.deep.equal({ category: 'household' })
      expect(await count(t, "SELECT COUNT(*) AS n FROM stock_movement WHERE kind = 'stock_in' AND quantity = 120")).to.equal(1)
      expect(await count(t, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'stock.created'")).to.equal(1)
      // Category and unit are optional.
      const bare = await apiAs(t, finance.token).post('/api/v1/stock', { code: 'PLATE', name: 'จาน', quantity: 300 })
      expect(bare.status).to.equal(201)
      expect(bare.body).to.deep.equal({ code: 'PLATE', name: 'จาน', unit: '', quantity: 300, inRepair: 0, available: 300 })
    })

    it('when the caller is anonymous, then 401; without the finance role, then 403; nothing is written', async () => {
      const body = { code: 'CHAIR', name: 'เก้าอี้', quantity: 10 }
      const anon = await apiAs(t).post('/api/v1/stock', body)
      expect(anon.status).to.equal(401)
      expect(errorOf(anon).code).to.equal('unauthenticated')
      for (const role of ['staff', 'executive', 'committee', 'admin'] as const) {
        const who = await withToken(t, [role])
        const res = await apiAs(t, who.token).post('/api/v1/stock', body)
        expect(res.status, role).to.equal(403)
        expect(errorOf(res).code, role).to.equal('forbidden')
      }
      expect(await count(t, 'SELECT COUNT(*) AS n FROM stock_item')).to.equal(0)
    })

    it('when the body is not valid, then 422 names each field in Thai; a code in use is 409', async () => {
      const finance = await withToken(t, ['finance'])
      const empty = await apiAs(t, finance.token).post('/api/v1/stock', {})
      expect(empty.status).to.equal(422)
      expect(errorOf(empty).code).to.equal('validation_failed')
      expect(errorOf(empty).message).to.equal('ข้อมูลไม่ถูกต้อง กรุณาตรวจสอบช่องที่มีเครื่องหมาย')
      expect(errorOf(empty).details).to.deep.equal([
        { field: 'code', message: 'กรุณากรอกข้อมูลนี้' },
        { field: 'name', message: 'กรุณากรอกข้อมูลนี้' },
        { field: 'quantity', message: 'กรุณากรอกจำนวนเต็ม' },
      ])
      const cases: Array<[object, Array<{ field: string; message: string }>]> = [
        [{ code: 'CHAIR', name: 'เก้าอี้', quantity: 10, category: 'furniture' }, [{ field: 'category', message: 'ไม่พบหมวดครุภัณฑ์นี้' }]],
        [{ code: 'CHAIR', name: 'เก้าอี้', quantity: 2.5 }, [{ field: 'quantity', message: 'กรุณากรอกจำนวนเต็ม' }]],
        [{ code: 'CHAIR', name: 'เก้าอี้', quantity: '120' }, [{ field: 'quantity', message: 'กรุณากรอกจำนวนเต็ม' }]],
        [{ code: 'CHAIR', name: 'เก้าอี้', quantity: 2_000_000 }, [{ field: 'quantity', message: 'จำนวนมากเกินไป' }]],
        [{ code: 'เก้าอี้ สีฟ้า', name: 'เก้าอี้', quantity: 10 }, [{ field: 'code', message: 'หมายเลขครุภัณฑ์ใช้ตัวอักษร ตัวเลข - / และ . เท่านั้น เช่น 416-66-0001' }]],
      ]
      for (const [body, details] of cases) {
        const res = await apiAs(t, finance.token).post('/api/v1/stock', body)
        expect(res.status, JSON.stringify(body)).to.equal(422)
        expect(errorOf(res).details, JSON.stringify(body)).to.deep.equal(details)
      }
      await apiAs(t, finance.token).post('/api/v1/stock', { code: 'CHAIR', name: 'เก้าอี้', quantity: 10 }).expect(201)
      const taken = await apiAs(t, finance.token).post('/api/v1/stock', { code: 'CHAIR', name: 'เก้าอี้อีกกอง', quantity: 5 })
      expect(taken.status).to.equal(409)
      expect(errorOf(taken).code).to.equal('conflict')
      expect(errorOf(taken).message).to.equal('รหัส CHAIR ใช้แล้ว (ครุภัณฑ์ พัสดุนับจำนวน และชุดยืม ใช้รหัสร่วมกัน)')
      expect(await count(t, 'SELECT COUNT(*) AS n FROM stock_item')).to.equal(1)
    })
  })

  describe('GET /api/v1/stock/:code', () => {
    it('when an approved loan holds 80 of 120 chairs for some days, then `available` is 40 for those days and 120 for others', async () => {
      await makeStock(t.ctx, { code: 'CHAIR/01', quantity: 120 })
      const finance = await withToken(t, ['finance'])
      const finance2 = await withToken(t, ['finance'])
      const staff = await withToken(t, ['staff'])
      const loan = loanOf(
        await apiAs(t, finance.token)
          .post('/api/v1/loans', templeLoan([{ code: 'CHAIR/01', quantity: 80 }], { kind: 'in_premises' }))
          .expect(201),
      )
      const get = (qs: string) => apiAs(t, staff.token).get(`/api/v1/stock/CHAIR/01${qs}`)
      // A pending request holds nothing.
      expect((await get('?from=2025-01-16&to=2025-01-18').expect(200)).body).to.include({ available: 120 })
      await apiAs(t, finance2.token).post(`/api/v1/loans/${loan.id}/approve`, {}).expect(200)
      const held = await get('?from=2025-01-16&to=2025-01-18').expect(200)
      expect(held.body).to.deep.equal({ code: 'CHAIR/01', name: 'เก้าอี้พลาสติก', unit: 'ตัว', quantity: 120, inRepair: 0, available: 40 })
      expect((await get('?from=2025-01-18').expect(200)).body).to.include({ available: 40 }) // `to` defaults to `from`
      expect((await get('?from=2025-01-10&to=2025-01-16').expect(200)).body).to.include({ available: 40 }) // one shared day is enough
      expect((await get('?from=2025-01-19&to=2025-01-31').expect(200)).body).to.include({ available: 120 })
      expect((await get('').expect(200)).body).to.include({ available: 120 }) // today
      expect((await apiAs(t, staff.token).get('/api/v1/stock/CHAIR%2F01?from=2025-01-17').expect(200)).body).to.include({ available: 40 })
    })

    it('when a date is not valid, then 422 names the parameter; `to` before `from` is 422; an unknown code is 404; anonymous is 401', async () => {
      await makeStock(t.ctx, { code: 'CHAIR', quantity: 120 })
      const staff = await withToken(t, ['staff'])
      const cases: Array<[string, Array<{ field: string; message: string }>]> = [
        ['?from=16/01/2025', [{ field: 'from', message: 'วันที่ไม่ถูกต้อง (ใช้รูปแบบ ปปปป-ดด-วว ค.ศ.)' }]],
        ['?from=2025-01-16&to=2025-02-30', [{ field: 'to', message: 'วันที่ไม่ถูกต้อง (ใช้รูปแบบ ปปปป-ดด-วว ค.ศ.)' }]],
        ['?from=2568-01-16', [{ field: 'from', message: 'ปีเกิน ๒๓๐๐ — ดูเหมือนเป็นปี พ.ศ. กรุณาใช้ปี ค.ศ. (พ.ศ. − ๕๔๓)' }]],
        ['?from=2025-01-18&to=2025-01-16', [{ field: 'to', message: 'วันสิ้นสุดต้องไม่ก่อนวันเริ่มต้น' }]],
        ['?from=2025-01-01&to=2026-06-01', [{ field: 'to', message: 'ช่วงวันที่ยาวเกิน 366 วัน' }]],
        ['?from=2025-01-16&from=2025-01-17', [{ field: 'from', message: 'ค่าที่กรอกไม่ถูกต้อง' }]],
      ]
      for (const [qs, details] of cases) {
        const res = await apiAs(t, staff.token).get(`/api/v1/stock/CHAIR${qs}`)
        expect(res.status, qs).to.equal(422)
        expect(errorOf(res).code, qs).to.equal('validation_failed')
        expect(errorOf(res).details, qs).to.deep.equal(details)
      }
      const missing = await apiAs(t, staff.token).get('/api/v1/stock/NOPE')
      expect(missing.status).to.equal(404)
      expect(errorOf(missing)).to.deep.equal({ code: 'not_found', message: 'ไม่พบพัสดุรหัส NOPE' })
      expect((await apiAs(t).get('/api/v1/stock/CHAIR')).status).to.equal(401)
      const en = await withToken(t, ['staff'], { locale: 'en' })
      const english = await apiAs(t, en.token).get('/api/v1/stock/CHAIR?from=2025-01-18&to=2025-01-16')
      expect(errorOf(english).details).to.deep.equal([{ field: 'to', message: 'The end date may not be before the start date' }])
    })
  })
})

describe('loans API with counted-item lines, end to end', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  it('when the temple borrows 80 chairs, is approved, takes them and returns 76 good, 2 damaged, 2 lost, then Loan.stock shows each count and the loan is returned; 60 more on the same days are refused naming the first loan', async () => {
    await makeStock(t.ctx, { code: 'CHAIR', name: 'เก้าอี้พลาสติก', quantity: 120 })
    const counter = await withToken(t, ['finance'], { username: 'malee.f' })
    const checker = await withToken(t, ['finance'], { username: 'kanya.f' })
    const exec = await withToken(t, ['executive'], { username: 'nayok.e' })

    const created = await apiAs(t, counter.token).post('/api/v1/loans', templeLoan([{ code: 'CHAIR', quantity: 80 }]))
    expect(created.status).to.equal(201)
    const loan = loanOf(created)
    expect(loan.status).to.equal('pending')
    expect(loan.items).to.deep.equal([])
    expect(loan.stock).to.deep.equal([{ code: 'CHAIR', name: 'เก้าอี้พลาสติก', quantity: 80, good: 0, damaged: 0, lost: 0, handedOver: 0 }])
    const base = `/api/v1/loans/${loan.id}`

    // A pending request never blocks: another 60 may be asked for the same days…
    const competing = await apiAs(t, counter.token).post(
      '/api/v1/loans',
      templeLoan([{ code: 'CHAIR', quantity: 60 }], { externalBorrower: { type: 'public', name: 'นายบุญมี', organisation: 'โรงเรียนบ้านหนองบัว' } }),
    )
    expect(competing.status).to.equal(201)

    await apiAs(t, checker.token).post(`${base}/approve`, { note: 'ตรวจแล้ว มีของพอ' }).expect(200)
    const approved = loanOf(await apiAs(t, exec.token).post(`${base}/approve`, {}).expect(200))
    expect(approved.status).to.equal('approved')

    // …but once the 80 are held, a second request for 60 on the same days is refused, naming the first loan.
    const refused = await apiAs(t, counter.token).post(
      '/api/v1/loans',
      templeLoan([{ code: 'CHAIR', quantity: 60 }], { startDate: '2025-01-17', dueDate: '2025-01-17' }),
    )
    expect(refused.status).to.equal(409)
    expect(errorOf(refused).code).to.equal('conflict')
    expect(errorOf(refused).message).to.include(`ใบยืมเลขที่ ${loan.number}`).and.include('ขอ 60 ว่าง 40')
    // Approving the competing request now would lend more than exist on those days (finance's check
    // only records that it was looked at; the executive's approval is where the loan would hold them).
    await apiAs(t, checker.token)
      .post(`/api/v1/loans/${loanOf(competing).id}/approve`, {})
      .expect(200)
    const late = await apiAs(t, exec.token).post(`/api/v1/loans/${loanOf(competing).id}/approve`, {})
    expect(late.status).to.equal(409)
    expect(errorOf(late).message).to.include(`ใบยืมเลขที่ ${loan.number}`)
    // 40 still fit.
    await apiAs(t, counter.token)
      .post('/api/v1/loans', templeLoan([{ code: 'CHAIR', quantity: 40 }]))
      .expect(201)

    t.ctx.clock.set('2025-01-16T01:30:00.000Z')
    const out = loanOf(await apiAs(t, checker.token).post(`${base}/handover`, {}).expect(200))
    expect(out.status).to.equal('on_loan')
    expect(out.stock).to.deep.equal([{ code: 'CHAIR', name: 'เก้าอี้พลาสติก', quantity: 80, good: 0, damaged: 0, lost: 0, handedOver: 80 }])

    t.ctx.clock.set('2025-01-18T09:00:00.000Z')
    const tooMany = await apiAs(t, checker.token).post(`${base}/return`, { stock: [{ code: 'CHAIR', good: 81 }] })
    expect(tooMany.status).to.equal(422)
    expect(errorOf(tooMany).details).to.deep.equal([{ field: 'stock', message: 'รับคืน CHAIR เกินจำนวนที่ค้างอยู่ (80)' }])

    const back = await apiAs(t, checker.token).post(`${base}/return`, { stock: [{ code: 'CHAIR', good: 76, damaged: 2, lost: 2 }] })
    expect(back.status).to.equal(200)
    const returned = loanOf(back)
    expect(returned.status).to.equal('returned')
    expect(returned.stock).to.have.length(1)
    expect(returned.stock[0]).to.include({ code: 'CHAIR', name: 'เก้าอี้พลาสติก', quantity: 80, good: 76, damaged: 2, lost: 2 })
    expect(Object.keys(returned.stock[0]!)).to.deep.equal(['code', 'name', 'quantity', 'good', 'damaged', 'lost', 'handedOver'])
    expect(loanOf(await apiAs(t, counter.token).get(base).expect(200)).stock).to.deep.equal(returned.stock)

    const counts = await query(t.ctx.db).get("SELECT quantity, in_repair, out_qty FROM stock_item WHERE code = 'CHAIR'")
    expect(counts).to.deep.equal({ quantity: 118, in_repair: 2, out_qty: 0 })
    const comps = await query(t.ctx.db).all('SELECT incident, quantity FROM compensation WHERE loan_id = ? ORDER BY id', loan.id)
    expect(comps).to.deep.equal([
      { incident: 'damaged', quantity: 2 },
      { incident: 'lost', quantity: 2 },
    ])
    const stock = await apiAs(t, counter.token).get('/api/v1/stock/CHAIR?from=2025-01-20').expect(200)
    expect(stock.body).to.include({ quantity: 118, inRepair: 2, available: 116 })
    expect((await verifyChain(t.ctx.db)).ok).to.equal(true)
  })

  it('when a return comes in parts, then the counts add up and the loan is returned only when every unit is accounted for', async () => {
    await makeStock(t.ctx, { code: 'TENT', name: 'เต็นท์', unit: 'หลัง', quantity: 8 })
    const counter = await withToken(t, ['finance'])
    const checker = await withToken(t, ['finance'])
    const loan = loanOf(
      await apiAs(t, counter.token)
        .post('/api/v1/loans', templeLoan([{ code: 'TENT', quantity: 6 }], { kind: 'in_premises', startDate: '2025-01-15', dueDate: '2025-01-15' }))
        .expect(201),
    )
    const base = `/api/v1/loans/${loan.id}`
    await apiAs(t, checker.token).post(`${base}/approve`, {}).expect(200)
    await apiAs(t, counter.token).post(`${base}/handover`, {}).expect(200)
    const first = loanOf(
      await apiAs(t, checker.token)
        .post(`${base}/return`, { stock: [{ code: 'TENT', good: 4 }] })
        .expect(200),
    )
    expect(first.status).to.equal('on_loan')
    expect(first.stock[0]).to.include({ quantity: 6, good: 4, damaged: 0, lost: 0, handedOver: 6 })
    const second = loanOf(
      await apiAs(t, checker.token)
        .post(`${base}/return`, { stock: [{ code: 'TENT', good: 1, damaged: 1 }] })
        .expect(200),
    )
    expect(second.status).to.equal('returned')
    expect(second.stock[0]).to.include({ good: 5, damaged: 1, lost: 0 })
    // A staff member asks for counted items with the same body.
    const staff = await withToken(t, ['staff'])
    const own = await apiAs(t, staff.token).post('/api/v1/loans', {
      stock: [{ code: 'TENT', quantity: 2 }],
      purpose: 'กีฬาสีพนักงาน',
      place: 'สนามกีฬา อบต.',
      kind: 'in_premises',
      startDate: '2025-01-20',
      dueDate: '2025-01-20',
    })
    expect(own.status).to.equal(201)
    expect(loanOf(own).stock).to.deep.equal([{ code: 'TENT', name: 'เต็นท์', quantity: 2, good: 0, damaged: 0, lost: 0, handedOver: 0 }])
    const unknown = await apiAs(t, staff.token).post('/api/v1/loans', {
      stock: [{ code: 'NOPE', quantity: 2 }],
      purpose: 'กีฬาสีพนักงาน',
      place: 'สนามกีฬา อบต.',
      kind: 'in_premises',
      startDate: '2025-01-20',
      dueDate: '2025-01-20',
    })
    expect(unknown.status).to.equal(422)
    expect(errorOf(unknown).details).to.deep.equal([{ field: 'stock', message: 'ไม่พบพัสดุนับจำนวนรหัส NOPE' }])
  })
})
