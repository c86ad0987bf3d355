import { expect } from 'chai'
import { createTestApp, csrfFrom, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { count } from '../helpers/loans.js'
import { approveLoan, createLoan, handOver, receiveReturn } from '../../server/services/loan.service.js'
import { verifyChain } from '../../server/services/audit.service.js'

type Agent = Awaited<ReturnType<typeof signedInAs>>['agent']

describe('the counter (pages)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
    await makeStock(t.ctx, { code: 'CHAIR', name: 'เก้าอี้พลาสติก', quantity: 120 })
    await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียง' })
    await makeStock(t.ctx, { code: 'MIC-POOL', name: 'ไมโครโฟน', unit: 'ตัว', quantity: 6 })
    await makeKit(t.ctx, 'KIT-SOUND', [{ code: 'AMP-9' }, { code: 'MIC-POOL', quantity: 2 }])
  })
  afterEach(() => t.close())

  const temple = {
    'externalBorrower.type': 'public',
    'externalBorrower.name': 'พระครูสุนทร',
    'externalBorrower.organisation': 'วัดบ้านหนองบัว',
    'externalBorrower.phone': '089-111-2222',
    'externalBorrower.villageNo': '3',
    'externalBorrower.address': '12 ถนนหนองบัว',
  }
  const details = (over: Record<string, string> = {}) => ({
    purpose: 'งานบวช',
    place: 'วัดบ้านหนองบัว',
    kind: 'off_premises',
    startDate: '2025-01-16',
    dueDate: '2025-01-18',
    ...over,
  })

  async function lend(agent: Agent, body: Record<string, string>) {
    const page = await agent.get('/counter?new=1').expect(200)
    return agent
      .post('/counter')
      .type('form')
      .send({ _csrf: csrfFrom(page.text), ...body })
  }

  it('when finance adds a new borrower and lends 80 chairs and a sound kit, then the loan has the kit’s parts and the count, and the loan page leads to the slip', async () => {
    const { agent, user: finance } = await signedInAs(t, ['finance'])
    const start = await agent.get('/counter').expect(200)
    expect(start.text).to.include('ค้นหาผู้ยืม: ชื่อ หน่วยงาน/กลุ่ม หรือเบอร์โทรศัพท์').and.include('href="/counter?new=1"')
    const none = await agent.get('/counter?q=0891112222').expect(200)
    expect(none.text).to.include('ไม่พบผู้ยืม').and.include('href="/counter?new=1&amp;typed=0891112222"')
    const form = await agent.get('/counter?new=1&typed=0891112222').expect(200)
    expect(form.text).to.include('value="0891112222"').and.include('ข้อมูลส่วนบุคคลใช้เพื่อการยืม-คืน')
    expect(form.text).to.include('<option value="งานศพ">').and.include('<option value="งานบวช">').and.include('<option value="งานประจำปีหมู่บ้าน">')
    // defaults: outside the premises, today to the day after tomorrow
    expect(form.text)
      .to.match(/value="off_premises" checked/)
      .and.include('value="15/01/2568"')
      .and.include('value="17/01/2568"')
    expect(form.text).to.include('data-add-code="KIT-SOUND"').and.include('data-add-code="CHAIR" data-counted="1"')

    const res = await agent
      .post('/counter')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), ...temple, items: 'CHAIR x80\r\nKIT-SOUND\r\n', ...details() })
      .expect(303)
    const loan = await t.ctx.db.selectFrom('loan').selectAll().executeTakeFirstOrThrow()
    expect(res.headers.location).to.equal(`/loans/${loan.id}`)
    expect(loan).to.include({
      status: 'pending',
      kind: 'off_premises',
      borrower_type: 'public',
      requested_by: finance.id,
      start_on: '2025-01-16',
      due_on: '2025-01-18',
    })
    const ext = await t.ctx.db.selectFrom('external_borrower').selectAll().execute()
    expect(ext).to.have.length(1)
    expect(ext[0]).to.include({
      id: loan.external_borrower_id,
      name: 'พระครูสุนทร',
      organisation: 'วัดบ้านหนองบัว',
      phone: '089-111-2222',
      village_no: '3',
      address: '12 ถนนหนองบัว',
    })
    const lines = await t.ctx.db
      .selectFrom('loan_stock_line as l')
      .innerJoin('stock_item as s', 's.id', 'l.stock_id')
      .select(['s.code', 'l.quantity'])
      .orderBy('s.code')
      .execute()
    expect(lines).to.deep.equal([
      { code: 'CHAIR', quantity: 80 },
      { code: 'MIC-POOL', quantity: 2 },
    ])
    const items = await t.ctx.db.selectFrom('loan_item as i').innerJoin('asset as a', 'a.id', 'i.asset_id').select('a.code').execute()
    expect(items).to.deep.equal([{ code: 'AMP-9' }])

    const page = await agent.get(res.headers.location as string).expect(200)
    expect(page.text).to.include('บันทึกการยืมเลขที่ 1/2568 แล้ว')
    expect(page.text).to.match(new RegExp(`class="counter-done[^"]*"[\\s\\S]*?href="/loans/${loan.id}/slip"[^>]*>พิมพ์ใบยืม<`))
    // the prompt belongs to the moment after lending, not to every visit
    expect((await agent.get(`/loans/${loan.id}`).expect(200)).text).to.not.include('class="counter-done')
    expect((await verifyChain(t.ctx.db)).ok).to.equal(true)
  })

  it('when the borrower comes back and is found by phone, then the new loan reuses their record (no duplicate row)', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    await lend(agent, { ...temple, items: 'CHAIR 10', ...details() }).then((r) => expect(r.status).to.equal(303))
    const first = await t.ctx.db.selectFrom('external_borrower').selectAll().executeTakeFirstOrThrow()

    for (const q of ['0891112222', '089 111 2222', '+66 89 111 2222', 'หนองบัว', 'สุนทร']) {
      const found = await agent.get(`/counter?q=${encodeURIComponent(q)}`).expect(200)
      expect(found.text, q).to.include(`href="/counter?borrower=${first.id}"`).and.include('พระครูสุนทร').and.include('เคยยืม 1 ครั้ง')
    }
    const picked = await agent.get(`/counter?borrower=${first.id}`).expect(200)
    expect(picked.text).to.include(`name="borrowerId" value="${first.id}"`).and.include('วัดบ้านหนองบัว').and.include(`href="/borrowers/${first.id}"`)
    const res = await agent
      .post('/counter')
      .type('form')
      .send({ _csrf: csrfFrom(picked.text), borrowerId: String(first.id), items: 'CHAIR ๒๐ ตัว', ...details({ purpose: 'งานศพ' }) })
      .expect(303)
    expect(await count(t, 'SELECT COUNT(*) AS n FROM external_borrower')).to.equal(1)
    const second = await t.ctx.db
      .selectFrom('loan')
      .selectAll()
      .where('id', '=', Number(/\d+$/.exec(res.headers.location as string)![0]))
      .executeTakeFirstOrThrow()
    expect(second).to.include({ external_borrower_id: first.id, borrower_type: 'public', purpose: 'งานศพ' })
    expect(await count(t, 'SELECT quantity AS n FROM loan_stock_line WHERE loan_id = ?', second.id)).to.equal(20)
  })

  it('when a new borrower is typed with a phone already on record, then finance is offered the record; choosing it keeps the form, or a new person is confirmed', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    await lend(agent, { ...temple, items: 'CHAIR 10', ...details() })
    const first = await t.ctx.db.selectFrom('external_borrower').selectAll().executeTakeFirstOrThrow()

    const again = await lend(agent, { ...temple, 'externalBorrower.phone': '0891112222', items: 'CHAIR 5', ...details({ place: 'ศาลาหมู่ 3' }) })
    expect(again.status).to.equal(409)
    expect(again.text).to.include('มีผู้ยืมที่ใช้เบอร์โทรศัพท์นี้อยู่แล้ว').and.include(`value="use:${first.id}"`).and.include('value="ศาลาหมู่ 3"')
    expect(await count(t, 'SELECT COUNT(*) AS n FROM loan')).to.equal(1)

    const use = await agent
      .post('/counter')
      .type('form')
      .send({ _csrf: csrfFrom(again.text), op: `use:${first.id}`, ...temple, items: 'CHAIR 5', ...details({ place: 'ศาลาหมู่ 3' }) })
      .expect(200)
    expect(use.text).to.include(`name="borrowerId" value="${first.id}"`).and.include('value="ศาลาหมู่ 3"').and.include('CHAIR 5</textarea>')

    await lend(agent, { ...temple, 'externalBorrower.name': 'นายสมศักดิ์ (บุตร)', confirmNew: '1', items: 'CHAIR 5', ...details() }).then((r) =>
      expect(r.status).to.equal(303),
    )
    expect(await count(t, 'SELECT COUNT(*) AS n FROM external_borrower')).to.equal(2)
  })

  it('when the form has mistakes, then it comes back (422) with every value kept and the mistakes named', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const res = await lend(agent, { ...temple, 'externalBorrower.name': '', items: 'CHAIR x80\r\nNOPE-1', ...details({ purpose: '' }) })
    expect(res.status).to.equal(422)
    expect(res.text)
      .to.include('ไม่พบครุภัณฑ์หรือพัสดุรหัส NOPE-1')
      .and.match(/CHAIR x80\r?\nNOPE-1<\/textarea>/)
    expect(res.text)
      .to.include('id="externalBorrower.name-error"')
      .and.include('id="purpose-error"')
      .and.include('value="วัดบ้านหนองบัว"')
      .and.include('value="089-111-2222"')
    const bad = await lend(agent, { ...temple, items: 'CHAIR x', ...details() })
    expect(bad.status).to.equal(422)
    expect(bad.text).to.include('อ่านบรรทัดนี้ไม่ได้: CHAIR x')
    const unknown = await lend(agent, { borrowerId: '999999', items: 'CHAIR 1', ...details() })
    expect(unknown.status).to.equal(422)
    expect(unknown.text).to.include('ไม่พบผู้ยืมนี้')
    expect(await count(t, 'SELECT COUNT(*) AS n FROM loan')).to.equal(0)
  })

  it('when 60 chairs are asked on days where an approved loan holds 80 of 120, then the counter refuses (409) naming that loan, values kept', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const finance2 = await makeUser(t.ctx, ['finance'])
    const exec = await makeUser(t.ctx, ['executive'])
    await lend(agent, { ...temple, items: 'CHAIR x80', ...details() })
    const first = await t.ctx.db.selectFrom('loan').selectAll().executeTakeFirstOrThrow()
    await approveLoan(t.ctx, finance2, first.id, {})
    await approveLoan(t.ctx, exec, first.id, {})
    const res = await lend(agent, { ...temple, 'externalBorrower.phone': '081-000-0000', items: 'CHAIR 60', ...details() })
    expect(res.status).to.equal(409)
    expect(res.text).to.include('ใบยืมเลขที่ 1/2568').and.include('CHAIR 60</textarea>')
  })

  it('when a borrower with an overdue loan asks again, then the counter, the loan entry page and the approvers see a warning with links, and lending is still possible', async () => {
    const finance = await makeUser(t.ctx, ['finance'])
    const finance2 = await makeUser(t.ctx, ['finance'])
    const finance3 = await makeUser(t.ctx, ['finance'])
    const old = await createLoan(t.ctx, finance, {
      externalBorrower: { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '0891112222' },
      stock: [{ code: 'CHAIR', quantity: 30 }],
      purpose: 'งานศพ',
      place: 'วัดบ้านหนองบัว',
      kind: 'in_premises',
      startDate: '2025-01-15',
      dueDate: '2025-01-16',
    })
    await approveLoan(t.ctx, finance2, old.loan.id, {})
    await handOver(t.ctx, finance3, old.loan.id)
    t.ctx.clock.set('2025-01-20T03:00:00.000Z')
    const { agent } = await signedInAs(t, ['finance'])

    const found = await agent.get('/counter?q=0891112222').expect(200)
    expect(found.text).to.include('ค้างคืนเกินกำหนด 1 ใบยืม')
    const picked = await agent.get(`/counter?borrower=${old.loan.external_borrower_id}`).expect(200)
    expect(picked.text).to.include('class="bw bw-danger"').and.include('พระครูสุนทร มีพัสดุค้างคืนเกินกำหนด 1 ใบยืม')
    expect(picked.text)
      .to.include(`href="/loans/${old.loan.id}"`)
      .and.include('ใบยืมเลขที่ 1/2568')
      .and.include('เกินมา 4 วัน')
      .and.include('พัสดุนับจำนวนยังไม่คืน 30 หน่วย')
    expect(picked.text).to.include('การให้ยืมหรือไม่เป็นดุลยพินิจของกองคลัง')

    const res = await agent
      .post('/counter')
      .type('form')
      .send({
        _csrf: csrfFrom(picked.text),
        borrowerId: String(old.loan.external_borrower_id),
        items: 'CHAIR 10',
        ...details({ startDate: '2025-01-21', dueDate: '2025-01-22' }),
      })
      .expect(303)
    const newId = Number(/\d+$/.exec(res.headers.location as string)![0])

    // the approvers see it beside their actions: finance checks, the executive approves
    const { agent: checker } = await signedInAs(t, ['finance'])
    const checkPage = await checker.get(`/loans/${newId}`).expect(200)
    expect(checkPage.text).to.include('มีพัสดุค้างคืนเกินกำหนด 1 ใบยืม').and.include(`href="/loans/${old.loan.id}"`)
    expect(checkPage.text.indexOf('class="bw bw-danger"')).to.be.greaterThan(checkPage.text.indexOf('id="actions-h"'))
    await approveLoan(t.ctx, await makeUser(t.ctx, ['finance']), newId, {}) // the check: now it waits for the executive
    const { agent: execAgent } = await signedInAs(t, ['executive'])
    const execPage = await execAgent.get(`/loans/${newId}`).expect(200)
    expect(execPage.text).to.include('มีพัสดุค้างคืนเกินกำหนด 1 ใบยืม').and.include('อนุมัติ')
    // staff never see it (they see no approval actions)
    const bystander = await signedInAs(t, ['committee'])
    expect((await bystander.agent.get(`/loans/${newId}`).expect(200)).text).to.not.include('class="bw bw-danger"')
  })

  it('when finance types a user with an overdue loan on the loan entry page, then the warning shows (after sending, and as a fragment for the page’s script)', async () => {
    const finance = await makeUser(t.ctx, ['finance'])
    const finance2 = await makeUser(t.ctx, ['finance'])
    const finance3 = await makeUser(t.ctx, ['finance'])
    const staff = await makeUser(t.ctx, ['staff'], { name: 'นางสาวมาลี ยืมบ่อย' })
    const old = await createLoan(t.ctx, finance, {
      borrower: staff.username,
      assetCodes: ['AMP-9'],
      purpose: 'ใช้ในการประชุม',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: '2025-01-15',
      dueDate: '2025-01-15',
    })
    await approveLoan(t.ctx, finance2, old.loan.id, {})
    await handOver(t.ctx, finance3, old.loan.id)
    t.ctx.clock.set('2025-01-18T03:00:00.000Z')
    const { agent } = await signedInAs(t, ['finance'])

    const form = await agent.get('/loans/new').expect(200)
    expect(form.text).to.include('id="borrower-standing"').and.include('src="/js/borrower-standing.js"')
    const res = await agent
      .post('/loans/new')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        borrowerKind: 'user',
        borrower: staff.username,
        assetCodes: '',
        ...details({ startDate: '2025-01-19', dueDate: '2025-01-20' }),
      })
    expect(res.status).to.equal(422)
    expect(res.text).to.include('นางสาวมาลี ยืมบ่อย มีพัสดุค้างคืนเกินกำหนด 1 ใบยืม').and.include(`href="/borrowers/users/${staff.id}"`)
    const fragment = await agent.get(`/borrowers/standing?username=${staff.username}`).expect(200)
    expect(fragment.text).to.include('ครุภัณฑ์ยังไม่คืน 1 รายการ').and.not.include('<html')
    expect((await agent.get('/borrowers/standing?username=nobody.here').expect(200)).text).to.not.include('class="bw')
  })

  it('when a temple borrows 80 chairs and the sound kit at the counter, the signed slip is attached and the return is 76 good, 2 damaged, 2 lost with the kit whole, then the borrower’s history shows it', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const finance2 = await makeUser(t.ctx, ['finance'])
    const exec = await makeUser(t.ctx, ['executive'])
    const res = await lend(agent, { ...temple, items: 'CHAIR x80\nKIT-SOUND', ...details() })
    expect(res.status).to.equal(303)
    const loanPath = res.headers.location as string
    const loanId = Number(/\d+$/.exec(loanPath)![0])
    await agent.get(`${loanPath}/slip`).expect(200)
    const page = await agent.get(loanPath).expect(200)
    const photo = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')
    await agent
      .post(`${loanPath}/attachments`)
      .field('_csrf', csrfFrom(page.text))
      .field('kind', 'signed_slip')
      .attach('file', photo, { filename: 'ใบยืมลงนาม.png', contentType: 'image/png' })
      .expect(303)
    await approveLoan(t.ctx, finance2, loanId, {})
    await approveLoan(t.ctx, exec, loanId, {})
    t.ctx.clock.set('2025-01-16T02:00:00.000Z')
    await handOver(t.ctx, finance2, loanId)
    t.ctx.clock.set('2025-01-18T09:00:00.000Z')
    const back = await receiveReturn(t.ctx, finance2, loanId, {
      items: [{ assetCode: 'AMP-9', condition: 'good' }],
      stock: [
        { code: 'CHAIR', good: 76, damaged: 2, lost: 2 },
        { code: 'MIC-POOL', good: 2, damaged: 0, lost: 0 },
      ],
    })
    expect(back.loan.status).to.equal('returned')
    const { agent: reader } = await signedInAs(t, ['committee'])
    const history = await reader.get(`/borrowers/${back.loan.external_borrower_id}`).expect(200)
    expect(history.text).to.include('คืนดี 76 ชำรุด 2 สูญหาย 2').and.include('คืนตรงเวลา').and.include('การชดใช้ที่ยังไม่เสร็จสิ้น')
    expect(history.text).to.include(`href="/loans/${loanId}"`)
    expect((await reader.get(loanPath).expect(200)).text).to.include('ใบยืมลงนาม.png')
  })

  it('when someone without finance opens or posts the counter, then they are refused', async () => {
    for (const role of ['staff', 'executive', 'committee', 'admin'] as const) {
      const { agent } = await signedInAs(t, [role])
      await agent.get('/counter').expect(403)
      await agent.get('/borrowers/standing?username=x').expect(403)
    }
  })
})
