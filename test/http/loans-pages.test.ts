import { expect } from 'chai'
import { startScheduler } from '../../server/services/scheduler.service.js'
import { createTestApp, csrfFrom, postForm, postMultipart, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { TINY_PNG, withApprovers } from '../helpers/approvers.js'

/** The text of a page without tags, spaces collapsed: what a person reads. */
function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

/** The count shown in a queue section's heading. */
function sectionCount(html: string, key: string): number {
  const m = new RegExp(`<section class="card queue-section" id="q-${key}">\\s*<h2>[^<]*<span class="count[^"]*">(\\d+)</span>`).exec(html)
  if (!m) throw new Error(`no section ${key}`)
  return Number(m[1])
}

function sectionHtml(html: string, key: string): string {
  const start = html.indexOf(`id="q-${key}"`)
  if (start < 0) throw new Error(`no section ${key}`)
  const end = html.indexOf('</section>', start)
  return html.slice(start, end)
}

describe('loan pages: the loan page, its actions and the queues', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp() // 15 Jan 2025, 10:00 in Bangkok
  })
  afterEach(() => t.close())

  const offPremises = { purpose: 'ใช้ในงานประเพณีทำบุญหมู่บ้านหมู่ 3', place: 'ศาลาวัดบ้านหนองบัว', kind: 'off_premises', startDate: '2025-01-15', dueDate: '2025-01-17' }

  async function cast() {
    const staff = await signedInAs(t, ['staff'], { name: 'นางสาวสมใจ ใจดี' })
    const finance = await signedInAs(t, ['finance'], { name: 'นายตรวจ สอบดี' })
    const finance2 = await signedInAs(t, ['finance'], { name: 'นางส่งมอบ พัสดุ' })
    const exec = await signedInAs(t, ['executive'], { name: 'นายนายก อบต.' })
    return { staff, finance, finance2, exec }
  }

  /** Signs everyone in again: moving the test clock by days ends idle sessions. */
  async function again(who: { user: { username: string; password: string } }) {
    return signIn(t.app, who.user.username, who.user.password)
  }

  async function loanFor(staff: { user: Awaited<ReturnType<typeof makeUser>> }, codes: string[], over: Record<string, unknown> = {}) {
    return createLoan(t.ctx, staff.user, { assetCodes: codes, ...offPremises, ...over })
  }

  it('when a staff member requests two items through the cart and every later step runs through the pages, then the loan is returned, the damaged one is in repair with a proposal in baht and Thai words, and the audit chain verifies', async () => {
    const { staff, finance, finance2, exec } = await cast()
    await makeAsset(t.ctx, { code: '416-66-0001', name: 'เครื่องขยายเสียง', price: '7,900.00' })
    await makeAsset(t.ctx, { code: '416-66-0002', name: 'ลำโพงตั้งพื้น', price: '12,500.00' })

    // Staff: scan both labels into the cart and request them for an off-premises event.
    for (const code of ['416-66-0001', '416-66-0002']) {
      const r = await postForm(staff.agent, `/q/${code}`, '/cart/add', { code })
      expect(r.status).to.equal(303)
    }
    const sent = await postForm(staff.agent, '/cart', '/cart', offPremises)
    expect(sent.status).to.equal(303)
    const url = sent.headers.location as string
    expect(url).to.match(/^\/loans\/\d+$/)
    const id = Number(url.split('/')[2])

    const mine = await staff.agent.get(url).expect(200)
    expect(textOf(mine.text)).to.include('เลขที่ 1/2568').and.include('รออนุมัติ').and.include('นำไปใช้นอกสถานที่').and.include('นางสาวสมใจ ใจดี')
    expect(textOf(mine.text)).to.include('3 วัน').and.include('ศาลาวัดบ้านหนองบัว')
    // The borrower may cancel or ask nothing else yet; they never see the approvers' buttons.
    expect(mine.text).to.include(`action="/loans/${id}/cancel"`).and.not.include(`action="/loans/${id}/approve"`)

    // Finance checks; the executive's approval before the check would have been refused.
    const early = await postForm(exec.agent, url, `/loans/${id}/approve`, {})
    expect(early.status).to.equal(409)
    expect(textOf(early.text)).to.include('ต้องให้กองคลังตรวจสอบก่อน ผู้บริหารจึงอนุมัติได้')
    const financePage = await finance.agent.get(url).expect(200)
    expect(financePage.text).to.include('ตรวจสอบแล้ว เสนอผู้บริหาร')
    const checked = await postForm(finance.agent, url, `/loans/${id}/approve`, { note: 'ตรวจสอบครุภัณฑ์แล้ว' })
    expect(checked.status).to.equal(303)
    expect(checked.headers.location).to.equal(url)
    expect(textOf((await finance.agent.get(url)).text)).to.include('ตรวจสอบแล้ว เสนอผู้บริหารพิจารณาอนุมัติ') // the flash

    // Another finance user may not give the executive's approval.
    const notExec = await postForm(finance2.agent, url, `/loans/${id}/approve`, {})
    expect(notExec.status).to.equal(403)
    expect(textOf(notExec.text)).to.include('ขั้นตอนนี้ต้องได้รับอนุมัติจากผู้บริหาร')
    await postForm(exec.agent, url, `/loans/${id}/approve`, { note: 'อนุมัติ' }).then((r) => expect(r.status).to.equal(303))
    expect(textOf((await staff.agent.get(url)).text)).to.include('อนุมัติแล้ว รอรับของ')

    // Another finance user hands over, scanning both labels (one as the label's URL, through the no-JS path).
    const screen = await finance2.agent.get(`/loans/${id}/handover`).expect(200)
    expect(screen.text).to.include('data-scan-form').and.include('/js/loan-scan.js').and.include('name="confirmedCodes" value="416-66-0001"')
    const scanned = await finance2.agent
      .post(`/loans/${id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'scan', scan: 'https://yk.example.go.th/q/416-66-0002\r' })
      .expect(200)
    expect(scanned.text).to.match(/value="416-66-0002" data-code="416-66-0002" checked/)
    expect(scanned.text).to.not.match(/value="416-66-0001" data-code="416-66-0001" checked/)
    const out = await finance2.agent
      .post(`/loans/${id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(scanned.text), op: 'handover', confirmedCodes: ['416-66-0001', '416-66-0002'] })
    expect(out.status).to.equal(303)
    expect(out.headers.location).to.equal(url)
    const onLoan = await finance2.agent.get(url)
    expect(textOf(onLoan.text)).to.include('ส่งมอบพัสดุตามใบยืมเลขที่ 1/2568 แล้ว').and.include('กำลังยืม').and.include('อยู่กับผู้ยืม')

    // Two days later: one back good, then the other damaged, brought by someone else.
    t.ctx.clock.set('2025-01-17T04:00:00.000Z')
    const f2 = await again(finance2)
    const ret = await f2.get(`/loans/${id}/return`).expect(200)
    const items = [...ret.text.matchAll(/name="condition_(\d+)" value="good"/g)].map((m) => m[1]!)
    expect(items).to.have.length(2)
    const one = await f2
      .post(`/loans/${id}/return`)
      .type('form')
      .send({ _csrf: csrfFrom(ret.text), op: 'selected', pick: '416-66-0001', [`condition_${items[0]}`]: 'good', [`returnedBy_${items[0]}`]: 'นางสาวสมใจ ใจดี' })
    expect(one.status).to.equal(303)
    const partial = await f2.get(url)
    expect(textOf(partial.text)).to.include('รับคืน 1 รายการแล้ว').and.include('กำลังยืม')
    const ret2 = await f2.get(`/loans/${id}/return`).expect(200)
    expect(ret2.text).to.not.include('value="416-66-0001" data-code')
    const two = await f2
      .post(`/loans/${id}/return`)
      .type('form')
      .send({
        _csrf: csrfFrom(ret2.text),
        op: 'selected',
        pick: '416-66-0002',
        [`condition_${items[1]}`]: 'damaged',
        [`note_${items[1]}`]: 'ดอกลำโพงขาด',
        [`returnedBy_${items[1]}`]: 'นายสมหมาย ส่งคืน',
      })
    expect(two.status).to.equal(303)

    const done = await f2.get(url).expect(200)
    const text = textOf(done.text)
    expect(text).to.include('คืนครบแล้ว').and.include('รับคืนครบทุกรายการแล้ว')
    expect(text).to.include('การชดใช้ (ข้อ 209)').and.include('12,500.00 บาท').and.include('(หนึ่งหมื่นสองพันห้าร้อยบาทถ้วน)')
    expect(text).to.include('ผู้ส่งคืน นายสมหมาย ส่งคืน').and.include('ดอกลำโพงขาด')
    const assets = await t.ctx.db.selectFrom('asset').select(['code', 'status']).orderBy('code').execute()
    expect(assets).to.deep.equal([
      { code: '416-66-0001', status: 'available' },
      { code: '416-66-0002', status: 'in_repair' },
    ])
    const loan = await t.ctx.db
      .selectFrom('loan')
      .select(['status', 'checked_by', 'approved_by', 'handed_over_by'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    expect(loan).to.deep.equal({ status: 'returned', checked_by: finance.user.id, approved_by: exec.user.id, handed_over_by: finance2.user.id })

    // The timeline: every step with its actor, in order.
    const tl = textOf(done.text.slice(done.text.indexOf('loan-timeline')))
    const steps = [
      'ยื่นคำขอยืม · นางสาวสมใจ ใจดี',
      'กองคลังตรวจสอบแล้ว · นายตรวจ สอบดี',
      'อนุมัติ · นายนายก อบต.',
      'ส่งมอบพัสดุ · นางส่งมอบ พัสดุ',
      'รับคืน 416-66-0001 (สภาพดี) · นางส่งมอบ พัสดุ',
      'รับคืน 416-66-0002 (ชำรุด) · นางส่งมอบ พัสดุ',
      'คืนครบทุกรายการ',
      'เปิดรายการชดใช้ 416-66-0002',
    ]
    let at = 0
    for (const s of steps) {
      const i = tl.indexOf(s, at)
      expect(i, s).to.be.greaterThan(-1)
      at = i
    }

    // Finance settles the compensation: a new current price recomputes the proposal; the decided amount in words.
    const compId = (await t.ctx.db.selectFrom('compensation').select('id').executeTakeFirstOrThrow()).id
    const bad = await postForm(f2, url, `/loans/${id}/compensations/${compId}`, {
      comp: String(compId),
      method: 'pay',
      currentPrice: '12,5OO',
      decidedAmount: '',
    })
    expect(bad.status).to.equal(422)
    expect(textOf(bad.text)).to.include('ราคาไม่ถูกต้อง')
    expect(bad.text).to.include('value="12,5OO"').and.include('id="currentPrice-error"')
    const saved = await postForm(f2, url, `/loans/${id}/compensations/${compId}`, {
      comp: String(compId),
      method: 'pay',
      currentPrice: '13,000',
      decidedAmount: '12,000.50',
      orderRef: 'คำสั่ง อบต. ที่ 15/2568',
      receiptRef: 'เล่ม 3 เลขที่ 45',
      settledOn: '2025-01-17',
    })
    expect(saved.status).to.equal(303)
    const settled = textOf((await f2.get(url)).text)
    expect(settled).to.include('13,000.00 บาท').and.include('(หนึ่งหมื่นสามพันบาทถ้วน)')
    expect(settled).to.include('12,000.50 บาท').and.include('(หนึ่งหมื่นสองพันบาทห้าสิบสตางค์)')
    expect(settled).to.include('ปรับปรุงรายการชดใช้ 416-66-0002 · นางส่งมอบ พัสดุ')

    expect((await verifyChain(t.ctx.db)).ok).to.equal(true)
  })

  it('when someone acts against their role or a segregation rule, then the page answers with the status and the rule in Thai, and nothing changes', async () => {
    const { staff, finance, finance2, exec } = await cast()
    const other = await signedInAs(t, ['staff'])
    await makeAsset(t.ctx, { code: 'A-1' })
    await makeAsset(t.ctx, { code: 'A-2' })
    await makeAsset(t.ctx, { code: 'A-3' })

    const out = await loanFor(staff, ['A-1'])
    const url = `/loans/${out.loan.id}`
    // Staff may not check, nor hand over, nor follow up; another staff member does not even see it.
    // The action names its roles before the form is read (docs/PERMISSIONS.md): the refusal page says whose step it is.
    const staffCheck = await postForm(staff.agent, url, `${url}/approve`, {})
    expect(staffCheck.status).to.equal(403)
    expect(textOf(staffCheck.text)).to.include('หน้านี้สำหรับผู้มีบทบาท: กองคลัง (พัสดุ), ผู้บริหาร')
    expect((await other.agent.get(url)).status).to.equal(404)
    const otherCancel = await postForm(other.agent, '/loans', `${url}/cancel`, {})
    expect(otherCancel.status).to.equal(404)
    // Reject needs a reason: 422, the reason field marked, the page kept.
    const noReason = await postForm(finance.agent, url, `${url}/reject`, { reason: '' })
    expect(noReason.status).to.equal(422)
    expect(noReason.text).to.include('id="reason-error"').and.include('กรุณาระบุเหตุผล (อย่างน้อย ๓ ตัวอักษร)')

    // Finance entered this one for staff: they may not check it; the page says so rather than offering the button.
    const entered = await createLoan(t.ctx, finance.user, { assetCodes: ['A-2'], ...offPremises, borrower: staff.user.username })
    const enteredUrl = `/loans/${entered.loan.id}`
    const page = await finance.agent.get(enteredUrl)
    expect(page.text).to.not.include(`action="${enteredUrl}/approve"`)
    expect(textOf(page.text)).to.include('แบ่งแยกหน้าที่: ผู้บันทึกคำขอตรวจสอบหรืออนุมัติคำขอที่ตนบันทึกไม่ได้')
    const selfCheck = await postForm(finance.agent, enteredUrl, `${enteredUrl}/approve`, {})
    expect(selfCheck.status).to.equal(403)
    expect(textOf(selfCheck.text)).to.include('แบ่งแยกหน้าที่: ผู้บันทึกคำขอตรวจสอบหรืออนุมัติคำขอที่ตนบันทึกไม่ได้')
    // Finance cancelling someone else's loan needs a reason.
    const cancelNoReason = await postForm(finance2.agent, enteredUrl, `${enteredUrl}/cancel`, { reason: '' })
    expect(cancelNoReason.status).to.equal(422)
    expect(textOf(cancelNoReason.text)).to.include('กรุณาระบุเหตุผล')

    // An in-premises loan approved by finance: that same person may not hand it over (agency setting on).
    const inside = await loanFor(staff, ['A-3'], { kind: 'in_premises' })
    const insideUrl = `/loans/${inside.loan.id}`
    await postForm(finance.agent, insideUrl, `${insideUrl}/approve`, {}).then((r) => expect(r.status).to.equal(303))
    expect((await finance.agent.get(insideUrl)).text).to.not.include(`href="${insideUrl}/handover"`)
    // Nor is the hand-over screen offered (back to the loan page); a post anyway is refused with the rule.
    expect((await finance.agent.get(`${insideUrl}/handover`)).status).to.equal(303)
    const approverHands = await postForm(finance.agent, insideUrl, `${insideUrl}/handover`, { op: 'handover', confirmedCodes: 'A-3' })
    expect(approverHands.status).to.equal(403)
    expect(textOf(approverHands.text)).to.include('แบ่งแยกหน้าที่: ผู้อนุมัติการยืมในสถานที่ต้องไม่เป็นผู้ส่งมอบพัสดุเอง')
    // Staff are not even shown the hand-over screen.
    const staffScreen = await staff.agent.get(`${insideUrl}/handover`)
    expect(staffScreen.status).to.equal(403)
    expect(textOf(staffScreen.text)).to.include('ไม่มีสิทธิ์เข้าถึง')

    // A finance user who borrows may not hand over their own loan.
    const borrowerFinance = await signedInAs(t, ['staff', 'finance'])
    await makeAsset(t.ctx, { code: 'A-4' })
    const own = await createLoan(t.ctx, borrowerFinance.user, { assetCodes: ['A-4'], ...offPremises, kind: 'in_premises' })
    await approveLoan(t.ctx, finance2.user, own.loan.id, {})
    const ownUrl = `/loans/${own.loan.id}`
    const ownPage = await borrowerFinance.agent.get(ownUrl)
    expect(textOf(ownPage.text)).to.include('แบ่งแยกหน้าที่: ผู้ยืมส่งมอบหรือรับคืนพัสดุที่ตนยืมไม่ได้')
    const selfHand = await postForm(borrowerFinance.agent, ownUrl, `${ownUrl}/handover`, { op: 'handover', confirmedCodes: 'A-4' })
    expect(selfHand.status).to.equal(403)
    expect(textOf(selfHand.text)).to.include('แบ่งแยกหน้าที่: ผู้ยืมส่งมอบหรือรับคืนพัสดุที่ตนยืมไม่ได้')

    // The executive may not record a follow-up; nor may staff.
    const fu = await postForm(exec.agent, url, `${url}/follow-ups`, { method: 'phone' })
    expect(fu.status).to.equal(403)
    expect(textOf(fu.text)).to.include('หน้านี้สำหรับผู้มีบทบาท: กองคลัง (พัสดุ)')

    // None of this moved anything.
    const rows = await t.ctx.db.selectFrom('loan').select(['id', 'status', 'checked_at']).orderBy('id').execute()
    expect(rows.map((r) => [r.status, r.checked_at])).to.deep.equal([
      ['pending', null],
      ['pending', null],
      ['approved', null],
      ['approved', null],
    ])
  })

  it('when a hand-over is confirmed without scanning every item, then 422 names the missing item; a repeated hand-over is 409', async () => {
    const { staff, finance, finance2 } = await cast()
    await makeAsset(t.ctx, { code: 'TENT-1', name: 'เต็นท์' })
    await makeAsset(t.ctx, { code: 'TENT-2', name: 'เต็นท์' })
    const loan = await loanFor(staff, ['TENT-1', 'TENT-2'], { kind: 'in_premises' })
    await approveLoan(t.ctx, finance.user, loan.loan.id, {})
    const url = `/loans/${loan.loan.id}`
    const screen = await finance2.agent.get(`${url}/handover`).expect(200)
    const missing = await finance2.agent
      .post(`${url}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: 'TENT-1' })
    expect(missing.status).to.equal(422)
    expect(textOf(missing.text)).to.include('ยังไม่ได้สแกนยืนยันครุภัณฑ์ TENT-2')
    // The ticked item stays ticked on the screen; nothing was handed over.
    expect(missing.text).to.match(/value="TENT-1" data-code="TENT-1" checked/)
    const none = await finance2.agent
      .post(`${url}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover' })
    expect(none.status).to.equal(422)
    expect(textOf(none.text)).to.include('ยังไม่ได้สแกนยืนยันครุภัณฑ์ TENT-1')
    // A scan of something not on the loan is refused on the screen.
    const wrong = await finance2.agent
      .post(`${url}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'scan', scan: 'NOT-HERE' })
    expect(wrong.status).to.equal(422)
    expect(textOf(wrong.text)).to.include('ครุภัณฑ์ NOT-HERE ไม่อยู่ในใบยืมนี้')
    expect((await t.ctx.db.selectFrom('loan').select('status').where('id', '=', loan.loan.id).executeTakeFirstOrThrow()).status).to.equal('approved')

    const ok = await finance2.agent
      .post(`${url}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: ['TENT-1', 'TENT-2'] })
    expect(ok.status).to.equal(303)
    const twice = await finance2.agent
      .post(`${url}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: ['TENT-1', 'TENT-2'] })
    expect(twice.status).to.equal(409)
    expect(textOf(twice.text)).to.include('ทำรายการนี้กับใบยืมในสถานะปัจจุบันไม่ได้')
    // The screen itself, once the loan is out, leads back to the loan.
    const after = await finance2.agent.get(`${url}/handover`)
    expect(after.status).to.equal(303)
    expect(after.headers.location).to.equal(url)
    // Receiving everything at once closes it.
    const ret = await finance2.agent.get(`${url}/return`).expect(200)
    const all = await finance2.agent
      .post(`${url}/return`)
      .type('form')
      .send({ _csrf: csrfFrom(ret.text), op: 'all' })
    expect(all.status).to.equal(303)
    expect(textOf((await finance2.agent.get(url)).text)).to.include('คืนครบแล้ว')
  })

  it('when an overdue loan passes its follow-up deadline, then the queue lists it; a recorded follow-up takes it off that list and shows on the timeline', async () => {
    const { staff, finance, finance2 } = await cast()
    await makeAsset(t.ctx, { code: 'GEN-1', name: 'เครื่องปั่นไฟ' })
    const loan = await loanFor(staff, ['GEN-1'], { kind: 'in_premises', dueDate: '2025-01-16' })
    await approveLoan(t.ctx, finance.user, loan.loan.id, {})
    await handOver(t.ctx, finance2.user, loan.loan.id)
    const url = `/loans/${loan.loan.id}`

    // 18 Jan: overdue, still within the 7 days of ข้อ 211.
    t.ctx.clock.set('2025-01-18T03:00:00.000Z')
    let f = await again(finance)
    let page = await f.get(url)
    expect(textOf(page.text)).to.include('เกินกำหนดคืนแล้ว 2 วัน').and.include('ต้องติดตามทวงคืนภายใน 23 ม.ค. 2568')
    let queue = await f.get('/loans/queue').expect(200)
    expect(sectionCount(queue.text, 'overdue')).to.equal(1)
    expect(sectionCount(queue.text, 'pastDeadline')).to.equal(0)

    // 24 Jan: past the deadline with no follow-up.
    t.ctx.clock.set('2025-01-24T03:00:00.000Z')
    f = await again(finance)
    page = await f.get(url)
    expect(textOf(page.text)).to.include('เลยกำหนดติดตามทวงคืนตามข้อ 211 (ภายใน 23 ม.ค. 2568) แล้ว และยังไม่มีการบันทึกการติดตาม')
    queue = await f.get('/loans/queue').expect(200)
    expect(sectionCount(queue.text, 'pastDeadline')).to.equal(1)
    expect(sectionHtml(queue.text, 'pastDeadline')).to.include(`href="${url}"`)
    expect(page.text).to.include(`action="${url}/follow-ups"`)

    // A letter without its number is refused in place; then one with it is recorded.
    const noNumber = await postForm(f, url, `${url}/follow-ups`, { method: 'letter', onDate: '2025-01-24' })
    expect(noNumber.status).to.equal(422)
    expect(noNumber.text).to.include('id="letterNumber-error"').and.include('การติดตามด้วยหนังสือต้องระบุเลขที่หนังสือ')
    const recorded = await postForm(f, url, `${url}/follow-ups`, {
      method: 'letter',
      onDate: '2025-01-24',
      letterNumber: 'นม 73101/045',
      letterDate: '2025-01-24',
      note: 'ส่งทางไปรษณีย์',
    })
    expect(recorded.status).to.equal(303)
    queue = await f.get('/loans/queue').expect(200)
    expect(sectionCount(queue.text, 'pastDeadline')).to.equal(0)
    expect(sectionCount(queue.text, 'overdue')).to.equal(1)
    const after = textOf((await f.get(url)).text)
    expect(after).to.include('บันทึกการติดตามทวงคืนแล้ว').and.include('ติดตามทวงคืน (หนังสือ) · นายตรวจ สอบดี').and.include('หนังสือเลขที่ นม 73101/045')
    // Staff see the page but not the follow-up form.
    const s = await again(staff)
    expect((await s.get(url)).text).to.not.include(`action="${url}/follow-ups"`)
  })

  it('when the borrower asks for an extension and the executive approves it, then the due date moves on the page and the original stays visible', async () => {
    const { staff, finance, finance2, exec } = await cast()
    await makeAsset(t.ctx, { code: 'PROJ-1', name: 'โปรเจคเตอร์' })
    const loan = await loanFor(staff, ['PROJ-1'])
    await approveLoan(t.ctx, finance.user, loan.loan.id, {})
    await approveLoan(t.ctx, exec.user, loan.loan.id, {})
    await handOver(t.ctx, finance2.user, loan.loan.id)
    const url = `/loans/${loan.loan.id}`

    const before = await staff.agent.get(url)
    expect(before.text).to.include(`action="${url}/extensions"`)
    const tooEarly = await postForm(staff.agent, url, `${url}/extensions`, { dueDate: '2025-01-16', reason: 'งานเลื่อนออกไป' })
    expect(tooEarly.status).to.equal(422)
    expect(textOf(tooEarly.text)).to.include('วันกำหนดคืนใหม่ต้องหลังวันกำหนดคืนเดิม')
    const asked = await postForm(staff.agent, url, `${url}/extensions`, { dueDate: '2025-01-20', reason: 'งานเลื่อนออกไป' })
    expect(asked.status).to.equal(303)
    const pending = await staff.agent.get(url)
    expect(textOf(pending.text)).to.include('คำขอขยายเวลาที่รอพิจารณา').and.include('รอผู้มีอำนาจพิจารณา')
    expect(pending.text).to.not.include(`action="${url}/extensions"`) // one request at a time

    const ext = await t.ctx.db.selectFrom('loan_extension').select('id').executeTakeFirstOrThrow()
    // Finance may not approve an off-premises extension (only record the executive's paper signature).
    const byFinance = await postForm(finance.agent, url, `${url}/extensions/${ext.id}`, { decision: 'approve' })
    expect(byFinance.status).to.equal(403)
    expect(textOf(byFinance.text)).to.include('ขั้นตอนนี้ต้องได้รับอนุมัติจากผู้บริหาร')
    const execPage = await exec.agent.get(url)
    expect(execPage.text).to.include(`action="${url}/extensions/${ext.id}"`)
    const approved = await postForm(exec.agent, url, `${url}/extensions/${ext.id}`, { decision: 'approve', note: 'อนุมัติ' })
    expect(approved.status).to.equal(303)

    const moved = textOf((await staff.agent.get(url)).text)
    expect(moved).to.include('กำหนดคืน 20 มกราคม 2568').and.include('กำหนดคืนเดิม 17 ม.ค. 2568 (ขยายเวลาแล้ว)')
    expect(moved).to.include('15 ม.ค. 2568 – 20 ม.ค. 2568').and.include('6 วัน')
    expect(moved).to.include('ขอขยายเวลายืม · ').and.include('อนุมัติขยายเวลา · นายนายก อบต.')
    const row = await t.ctx.db.selectFrom('loan').select(['due_on', 'original_due_on']).executeTakeFirstOrThrow()
    expect(row).to.deep.equal({ due_on: '2025-01-20', original_due_on: '2025-01-17' })
  })

  it('when finance records the executive’s paper approval, then the loan is approved and flagged with the approver’s name and date', async () => {
    const { staff, finance, finance2 } = await cast()
    // The นายก signs on paper only (no account): the approval in his name needs the signed slip's scan.
    await withApprovers(t.ctx, { mayor: 'นายสมปอง ใจงาม นายก อบต.' })
    await makeAsset(t.ctx, { code: 'SND-1' })
    const loan = await loanFor(staff, ['SND-1'])
    const url = `/loans/${loan.loan.id}`
    // The paper form is offered before the check too (recording it records the check with it), and after it; the approver is chosen from the list.
    const before = await finance.agent.get(url)
    expect(before.text).to.include(`action="${url}/approve-paper"`).and.include('<select id="paper-name" name="approverName"')
    expect(before.text).to.include('<option value="นายสมปอง ใจงาม นายก อบต."')
    await postForm(finance.agent, url, `${url}/approve`, {})
    const page = await finance2.agent.get(url)
    expect(page.text).to.include(`action="${url}/approve-paper"`).and.include('enctype="multipart/form-data"')
    const noName = await postForm(finance2.agent, url, `${url}/approve-paper`, { approverName: '', date: '2025-01-15' })
    expect(noName.status).to.equal(422)
    expect(noName.text).to.include('id="approverName-error"')
    // A name off the list is the field's mistake, naming who may sign.
    const offList = await postMultipart(finance2.agent, url, `${url}/approve-paper`, { approverName: 'นายใครก็ได้ ไม่มีชื่อ', date: '2025-01-14' }, TINY_PNG)
    expect(offList.status).to.equal(422)
    expect(offList.text).to.include('id="approverName-error"')
    expect(textOf(offList.text)).to.include('ผู้อนุมัติต้องเป็นผู้มีอำนาจตามรายชื่อ: นายสมปอง ใจงาม นายก อบต.')
    // An approver without an account: the scan in the same step.
    const noScan = await postMultipart(finance2.agent, url, `${url}/approve-paper`, { approverName: 'นายสมปอง ใจงาม นายก อบต.', date: '2025-01-14' })
    expect(noScan.status).to.equal(422)
    expect(noScan.text).to.include('id="scan-error"')
    expect(textOf(noScan.text)).to.include('ผู้อนุมัติไม่มีบัญชีผู้ใช้ในระบบ จึงต้องแนบภาพสแกนใบยืมที่ลงนามแล้วในขั้นตอนนี้')
    expect((await t.ctx.db.selectFrom('loan').select('status').where('id', '=', loan.loan.id).executeTakeFirstOrThrow()).status).to.equal('pending')
    const ok = await postMultipart(finance2.agent, url, `${url}/approve-paper`, { approverName: 'นายสมปอง ใจงาม นายก อบต.', date: '2025-01-14' }, TINY_PNG)
    expect(ok.status).to.equal(303)
    const text = textOf((await staff.agent.get(url)).text)
    expect(text).to.include('อนุมัติแล้ว รอรับของ').and.include('อนุมัติบนกระดาษ')
    expect(text).to.include('บันทึกการอนุมัติบนกระดาษ · ').and.include('ผู้อนุมัติ นายสมปอง ใจงาม นายก อบต. ลงวันที่ 14 ม.ค. 2568')
    // The scan is the approval's evidence.
    const approval = await t.ctx.db
      .selectFrom('loan_approval')
      .selectAll()
      .where('loan_id', '=', loan.loan.id)
      .where('step', '=', 'approve')
      .executeTakeFirstOrThrow()
    expect(approval).to.include({ on_paper: 1, by_user_id: null, recorded_by: finance2.user.id, paper_date: '2025-01-14' })
    expect(approval.evidence_id).to.be.a('number')
  })

  it('when an approved loan is not collected within the expiry days, then the pages show it expired at once and the scheduler records the expiry without anyone pressing a button', async () => {
    const { staff, finance } = await cast()
    await makeAsset(t.ctx, { code: 'EXP-1' })
    const loan = await loanFor(staff, ['EXP-1'], { kind: 'in_premises' })
    await approveLoan(t.ctx, finance.user, loan.loan.id, {})
    await updateSettings(t.ctx, { id: null, label: 'test' }, { expiryDays: 2 })
    t.ctx.clock.set('2025-01-18T03:00:00.000Z')
    const f = await again(finance)
    const queue = await f.get('/loans/queue').expect(200)
    expect(queue.text).to.not.include(`href="/loans/${loan.loan.id}"`)
    expect(textOf((await f.get(`/loans/${loan.loan.id}`)).text)).to.include('หมดอายุ (ไม่มารับ)')
    const scheduler = startScheduler(t.ctx, { runNow: false })
    await scheduler.tick()
    await scheduler.stop()
    const page = textOf((await f.get(`/loans/${loan.loan.id}`)).text)
    expect(page).to.include('หมดอายุ (ไม่มารับ)').and.include('หมดอายุ (ไม่มารับพัสดุตามกำหนด) · ระบบ')
  })

  it('when loans are listed, then staff see only their own, finance all, and the filters and the number search work', async () => {
    const { staff, finance } = await cast()
    const other = await signedInAs(t, ['staff'])
    await makeAsset(t.ctx, { code: 'L-1' })
    await makeAsset(t.ctx, { code: 'L-2' })
    const a = await loanFor(staff, ['L-1'], { kind: 'in_premises' })
    await loanFor(other, ['L-2'], { kind: 'in_premises' })
    await approveLoan(t.ctx, finance.user, a.loan.id, {})

    const mine = await staff.agent.get('/loans').expect(200)
    expect(mine.text).to.include('>1/2568<').and.not.include('>2/2568<')
    const all = await finance.agent.get('/loans').expect(200)
    expect(all.text).to.include('>1/2568<').and.include('>2/2568<').and.include('href="/loans/queue"')
    const approved = await finance.agent.get('/loans?status=approved').expect(200)
    expect(approved.text).to.include('>1/2568<').and.not.include('>2/2568<')
    const byNumber = await finance.agent.get(`/loans?q=${encodeURIComponent('๒/๒๕๖๘')}`).expect(200)
    expect(byNumber.text).to.include('>2/2568<').and.not.include('>1/2568<')
    const badNumber = await finance.agent.get('/loans?q=abc').expect(200)
    expect(textOf(badNumber.text)).to.include('เลขที่ใบยืมไม่ถูกต้อง')
    const otherYear = await finance.agent.get('/loans?fy=2567').expect(200)
    expect(otherYear.text).to.not.include('>1/2568<')
    // The queue is for finance and the executive only.
    expect((await staff.agent.get('/loans/queue')).status).to.equal(403)
    expect((await finance.agent.get('/loans/abc')).status).to.equal(404)
    expect((await finance.agent.get('/loans/99999')).status).to.equal(404)
  })

  it('when two pending requests want the same item on overlapping days, then approvers see the competing one and the borrower does not', async () => {
    const { staff, finance } = await cast()
    const other = await signedInAs(t, ['staff'])
    await makeAsset(t.ctx, { code: 'MIC-1' })
    const first = await loanFor(staff, ['MIC-1'], { kind: 'in_premises' })
    const second = await loanFor(other, ['MIC-1'], { kind: 'in_premises', startDate: '2025-01-16', dueDate: '2025-01-18' })
    const seen = await finance.agent.get(`/loans/${first.loan.id}`)
    expect(textOf(seen.text)).to.include('คำขออื่นที่ขอยืมพัสดุเดียวกันในช่วงเดียวกัน')
    expect(seen.text).to.include(`href="/loans/${second.loan.id}"`)
    expect((await staff.agent.get(`/loans/${first.loan.id}`)).text).to.not.include(`href="/loans/${second.loan.id}"`)
    // Approving the first makes the second unapprovable: 409 naming the first.
    await postForm(finance.agent, `/loans/${first.loan.id}`, `/loans/${first.loan.id}/approve`, {}).then((r) => expect(r.status).to.equal(303))
    const clash = await postForm(finance.agent, `/loans/${second.loan.id}`, `/loans/${second.loan.id}/approve`, {})
    expect(clash.status).to.equal(409)
    expect(textOf(clash.text)).to.include('ครุภัณฑ์ MIC-1 ถูกจองหรือยืมอยู่แล้วตามใบยืมเลขที่ 1/2568')
  })

  it('when a community group’s loan is shown, then the organisation and หมู่ที่ appear, and the after-the-fact flag too', async () => {
    const { finance } = await cast()
    await withApprovers(t.ctx, { mayor: { name: 'นายสมปอง นายก อบต.', account: 'nayok.sompong' } })
    await makeAsset(t.ctx, { code: 'CH-1' })
    const loan = await createLoan(t.ctx, finance.user, {
      assetCodes: ['CH-1'],
      ...offPremises,
      startDate: '2025-01-10',
      dueDate: '2025-01-20',
      externalBorrower: { type: 'public', name: 'นายบุญมี ใจงาม', organisation: 'กลุ่มแม่บ้านหมู่ 5', phone: '081-234-5678', villageNo: '5' },
      afterTheFact: true,
      paperApproval: { approverName: 'นายสมปอง นายก อบต.', date: '2025-01-09' },
      handedOverOn: '2025-01-10',
    })
    const text = textOf((await finance.agent.get(`/loans/${loan.loan.id}`)).text)
    expect(text).to.include('นายบุญมี ใจงาม').and.include('กลุ่มแม่บ้านหมู่ 5').and.include('หมู่ที่ 5').and.include('ประชาชน/ชุมชน')
    expect(text).to.include('บันทึกย้อนหลัง').and.include('อนุมัติบนกระดาษ').and.include('ส่งมอบจริงเมื่อ 10 ม.ค. 2568')
    void (await makeUser(t.ctx, ['staff']))
  })
})
