import { expect } from 'chai'
import type supertest from 'supertest'
import { createTestApp, csrfFrom, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { apiAs, withToken } from '../helpers/loans.js'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'

/*
 * Issue 14, "actions where the item is": finance's hand-over and receive on the QR page (the loan
 * policy decides who may), and a kit's label at the hand-over and return screens.
 */

type Agent = supertest.Agent

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** The text of a page without tags, spaces collapsed: what a person reads. */
function textOf(html: string): string {
  return decodeEntities(html.replace(/<script[\s\S]*?<\/script>/g, ' ').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ')
}

/** The main actions of a QR page: the links styled as its primary button, with their targets. */
function mainActions(html: string): Array<{ href: string; label: string }> {
  return [...html.matchAll(/<a class="button primary qr-main-action" href="([^"]+)"[^>]*>([^<]*)<\/a>/g)].map((m) => ({
    href: decodeEntities(m[1]!),
    label: m[2]!.trim(),
  }))
}

/** The primary buttons of a page (submit buttons and links). */
function primaryButtons(html: string): string[] {
  return [...html.matchAll(/<(?:button|a)[^>]*class="(?:button )?primary[^"]*"[^>]*>([^<]*)</g)].map((m) => m[1]!.trim())
}

function checkedCodes(html: string, name: 'confirmedCodes' | 'pick'): string[] {
  return [...html.matchAll(new RegExp(`name="${name}" value="([^"]+)" data-code="[^"]+" checked`, 'g'))].map((m) => decodeEntities(m[1]!))
}

/** The id of a counted line's field on a screen, read from its data-stock-code. */
function lineId(html: string, code: string): string {
  const m = new RegExp(`name="(?:count|good)_(\\d+)"[^>]*data-stock-code="${code}"`).exec(html)
  if (!m) throw new Error(`no counted line ${code}`)
  return m[1]!
}

function fieldValue(html: string, name: string): string {
  const m = new RegExp(`name="${name}"[^>]*value="([^"]*)"`).exec(html)
  return m ? decodeEntities(m[1]!) : ''
}

describe('actions where the item is (issue 14)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp() // 15 Jan 2025, 10:00 in Bangkok
  })
  afterEach(() => t.close())

  const event = { purpose: 'งานประเพณีทำบุญหมู่บ้านหมู่ 3', place: 'ศาลาวัดบ้านหนองบัว', kind: 'off_premises', startDate: '2025-01-15', dueDate: '2025-01-17' }

  async function cast() {
    const staff = await signedInAs(t, ['staff'], { name: 'นางสาวสมใจ ใจดี' })
    const checker = await signedInAs(t, ['finance'], { name: 'นายตรวจ สอบดี' })
    const counter = await signedInAs(t, ['finance'], { name: 'นางส่งมอบ พัสดุ' })
    const exec = await signedInAs(t, ['executive'], { name: 'นายนายก อบต.' })
    return { staff, checker, counter, exec }
  }

  /** An off-premises loan checked by `checker` and approved by the executive. */
  async function approvedLoan(who: Awaited<ReturnType<typeof cast>>, borrower: { user: Parameters<typeof createLoan>[1] }, codes: string[]) {
    const loan = await createLoan(t.ctx, borrower.user, { assetCodes: codes, ...event })
    await approveLoan(t.ctx, who.checker.user, loan.loan.id, {})
    await approveLoan(t.ctx, who.exec.user, loan.loan.id, { note: 'อนุมัติ' })
    return loan.loan.id
  }

  async function again(who: { user: { username: string; password: string } }): Promise<Agent> {
    return signIn(t.app, who.user.username, who.user.password)
  }

  describe('the QR page for finance', () => {
    it('when finance scans an item of an approved loan, then "ส่งมอบ" is the main action with the loan, borrower and dates, it opens the hand-over with the item ticked, and adding to a request is secondary', async () => {
      const who = await cast()
      await makeAsset(t.ctx, { code: '416-66-0001', name: 'เครื่องขยายเสียง' })
      await makeAsset(t.ctx, { code: '416-66-0002', name: 'ลำโพงตั้งพื้น' })
      const id = await approvedLoan(who, who.staff, ['416-66-0001', '416-66-0002'])

      const page = await who.counter.agent.get('/q/416-66-0001').expect(200)
      expect(mainActions(page.text)).to.deep.equal([{ href: `/loans/${id}/handover?scan=416-66-0001`, label: 'ส่งมอบ' }])
      const text = textOf(page.text)
      expect(text).to.include('รอส่งมอบ · ใบยืมเลขที่ 1/2568').and.include('ผู้ยืม นางสาวสมใจ ใจดี').and.include('ช่วงยืม')
      // Add to a request stays, but it is not the main button any more.
      expect(text).to.include('เพิ่มในคำขอยืม')
      expect(primaryButtons(page.text)).to.deep.equal(['ส่งมอบ'])

      const screen = await who.counter.agent.get(mainActions(page.text)[0]!.href).expect(200)
      expect(checkedCodes(screen.text, 'confirmedCodes')).to.deep.equal(['416-66-0001'])
      expect(textOf(screen.text)).to.include('ยืนยันแล้ว 1 จาก 2 รายการ')
      const done = await who.counter.agent
        .post(`/loans/${id}/handover`)
        .type('form')
        .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: ['416-66-0001', '416-66-0002'] })
      expect(done.status, textOf(done.text)).to.equal(303)
      expect((await t.ctx.db.selectFrom('loan').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).to.equal('on_loan')
    })

    it('when finance scans an item 428 days overdue, then "รับคืน" is the main action with the due date and the days overdue, and it opens the return with the item picked to receive on its own', async () => {
      const who = await cast()
      await makeAsset(t.ctx, { code: 'AMP-1', name: 'เครื่องขยายเสียง' })
      await makeAsset(t.ctx, { code: 'SPK-1', name: 'ลำโพงตั้งพื้น' })
      const id = await approvedLoan(who, who.staff, ['AMP-1', 'SPK-1'])
      await handOver(t.ctx, who.counter.user, id)
      // 428 days after the due date, 17 Jan 2025.
      t.ctx.clock.set('2026-03-21T03:00:00.000Z')
      const counter = await again(who.counter)

      const page = await counter.get('/q/SPK-1').expect(200)
      expect(mainActions(page.text)).to.deep.equal([{ href: `/loans/${id}/return?scan=SPK-1`, label: 'รับคืน' }])
      expect(textOf(page.text)).to.include('อยู่ระหว่างยืม · ใบยืมเลขที่ 1/2568').and.include('นางสาวสมใจ ใจดี').and.include('เกินกำหนด 428 วัน')
      expect(textOf(page.text)).not.to.include('รอส่งมอบ')

      const screen = await counter.get(`/loans/${id}/return?scan=SPK-1`).expect(200)
      expect(checkedCodes(screen.text, 'pick')).to.deep.equal(['SPK-1'])
      const back = await counter
        .post(`/loans/${id}/return`)
        .type('form')
        .send({ _csrf: csrfFrom(screen.text), op: 'selected', pick: 'SPK-1' })
      expect(back.status, textOf(back.text)).to.equal(303)
      const items = await t.ctx.db
        .selectFrom('loan_item as i')
        .innerJoin('asset as a', 'a.id', 'i.asset_id')
        .select(['a.code', 'i.returned_at'])
        .where('i.loan_id', '=', id)
        .orderBy('a.code')
        .execute()
      expect(items.map((i) => [i.code, i.returned_at !== null])).to.deep.equal([
        ['AMP-1', false],
        ['SPK-1', true],
      ])
    })

    it('when the finance officer is the borrower, or approved the loan in the premises under the two-person rule, then the page shows the policy’s reason instead of the button', async () => {
      const who = await cast()
      const borrowerFinance = await signedInAs(t, ['staff', 'finance'], { name: 'นายยืม เอง' })
      await makeAsset(t.ctx, { code: 'TENT-1', name: 'เต็นท์' })
      await makeAsset(t.ctx, { code: 'TENT-2', name: 'เต็นท์' })
      const own = await approvedLoan(who, borrowerFinance, ['TENT-1'])

      const ownPage = await borrowerFinance.agent.get('/q/TENT-1').expect(200)
      expect(mainActions(ownPage.text)).to.deep.equal([])
      expect(textOf(ownPage.text)).to.include('รอส่งมอบ · ใบยืมเลขที่ 1/2568').and.include('แบ่งแยกหน้าที่: ผู้ยืมส่งมอบหรือรับคืนพัสดุที่ตนยืมไม่ได้')
      expect(ownPage.text).not.to.include(`/loans/${own}/handover`)
      // Another officer gets the button.
      expect(mainActions((await who.counter.agent.get('/q/TENT-1').expect(200)).text)).to.have.length(1)

      // In the premises the approver does not hand over what they approved (two-person rule, on by default).
      const inside = await createLoan(t.ctx, who.staff.user, { assetCodes: ['TENT-2'], ...event, kind: 'in_premises' })
      await approveLoan(t.ctx, who.checker.user, inside.loan.id, {})
      const approverPage = await who.checker.agent.get('/q/TENT-2').expect(200)
      expect(mainActions(approverPage.text)).to.deep.equal([])
      expect(textOf(approverPage.text)).to.include('แบ่งแยกหน้าที่: ผู้อนุมัติการยืมในสถานที่ต้องไม่เป็นผู้ส่งมอบพัสดุเอง')

      // Once out, the borrower may not receive it back either.
      await handOver(t.ctx, who.counter.user, own)
      const outPage = await borrowerFinance.agent.get('/q/TENT-1').expect(200)
      expect(mainActions(outPage.text)).to.deep.equal([])
      expect(textOf(outPage.text)).to.include('อยู่ระหว่างยืม').and.include('แบ่งแยกหน้าที่: ผู้ยืมส่งมอบหรือรับคืนพัสดุที่ตนยืมไม่ได้')
    })

    it('when staff scan an item of an approved or an on-loan loan, then their page is as before: add to a request is the main button, no hand-over or receive', async () => {
      const who = await cast()
      await makeAsset(t.ctx, { code: 'MIC-1', name: 'ไมโครโฟน' })
      const id = await approvedLoan(who, who.staff, ['MIC-1'])
      const other = await signedInAs(t, ['staff'])
      for (const agent of [who.staff.agent, other.agent]) {
        const page = await agent.get('/q/MIC-1').expect(200)
        expect(mainActions(page.text)).to.deep.equal([])
        expect(page.text).not.to.include('qr-loan-action')
        expect(primaryButtons(page.text)).to.deep.equal(['เพิ่มในคำขอยืม'])
      }
      await handOver(t.ctx, who.counter.user, id)
      const out = await other.agent.get('/q/MIC-1').expect(200)
      expect(out.text).not.to.include('qr-loan-action')
      expect(textOf(out.text)).not.to.include('รับคืน')
    })

    it('when finance scans a kit whose parts are on an approved loan, then the kit page offers "ส่งมอบ" for the whole kit', async () => {
      const who = await cast()
      await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียงเคลื่อนที่' })
      await makeStock(t.ctx, { code: 'MIC-POOL', name: 'ไมโครโฟนไร้สาย', quantity: 6 })
      await makeKit(t.ctx, 'KIT-SOUND', [{ code: 'AMP-9' }, { code: 'MIC-POOL', quantity: 2 }])
      const loan = await createLoan(t.ctx, who.staff.user, { assetCodes: ['AMP-9'], stock: [{ code: 'MIC-POOL', quantity: 2 }], ...event })
      await approveLoan(t.ctx, who.checker.user, loan.loan.id, {})
      await approveLoan(t.ctx, who.exec.user, loan.loan.id, {})
      const page = await who.counter.agent.get('/q/KIT-SOUND').expect(200)
      expect(mainActions(page.text)).to.deep.equal([{ href: `/loans/${loan.loan.id}/handover?scan=KIT-SOUND`, label: 'ส่งมอบ' }])
      expect((await who.staff.agent.get('/q/KIT-SOUND').expect(200)).text).not.to.include('qr-loan-action')
    })
  })

  describe('a kit’s label at hand-over and return', () => {
    async function soundLoan() {
      const who = await cast()
      await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียงเคลื่อนที่' })
      await makeAsset(t.ctx, { code: 'SPK-1', name: 'ลำโพงตั้งพื้น' })
      await makeAsset(t.ctx, { code: 'TENT-1', name: 'เต็นท์' })
      await makeStock(t.ctx, { code: 'MIC-POOL', name: 'ไมโครโฟนไร้สาย', quantity: 6 })
      await makeAsset(t.ctx, { code: 'SPK-2', name: 'ลำโพงสำรอง' })
      // SPK-2 is part of the kit but not on this loan.
      await makeKit(t.ctx, 'ชุด-001', [{ code: 'AMP-9' }, { code: 'SPK-1' }, { code: 'MIC-POOL', quantity: 2 }, { code: 'SPK-2' }], 'ชุดเครื่องเสียงเคลื่อนที่')
      const loan = await createLoan(t.ctx, who.staff.user, { assetCodes: ['AMP-9', 'SPK-1', 'TENT-1'], stock: [{ code: 'MIC-POOL', quantity: 2 }], ...event })
      await approveLoan(t.ctx, who.checker.user, loan.loan.id, {})
      await approveLoan(t.ctx, who.exec.user, loan.loan.id, {})
      return { who, id: loan.loan.id }
    }

    it('when the kit’s label is scanned at hand-over, then its items are ticked and its counted part filled, listed under the kit, and the hand-over goes through', async () => {
      const { who, id } = await soundLoan()
      const screen = await who.counter.agent.get(`/loans/${id}/handover`).expect(200)
      // The parts are listed under their kit; the tent is on its own.
      const group = /<div class="kit-group" data-kit="([^"]+)">([\s\S]*?)<\/div>/.exec(screen.text)
      expect(decodeEntities(group![1]!)).to.equal('ชุด-001')
      expect(textOf(group![2]!)).to.include('AMP-9').and.include('SPK-1').and.not.include('TENT-1')
      expect(textOf(group![2]!)).to.include('ส่วนของชุดที่ไม่อยู่ในใบยืมนี้: SPK-2')
      expect(textOf(screen.text)).to.include('MIC-POOL ไมโครโฟนไร้สาย · ส่วนของชุด ชุด-001')
      const mic = lineId(screen.text, 'MIC-POOL')

      // Scanned as the label's URL (what a phone or a USB scanner types).
      const scanned = await who.counter.agent
        .post(`/loans/${id}/handover`)
        .type('form')
        .send({ _csrf: csrfFrom(screen.text), op: 'scan', scan: `https://yk.example.go.th/q/${encodeURIComponent('ชุด-001')}` })
      expect(scanned.status, textOf(scanned.text)).to.equal(200)
      expect(checkedCodes(scanned.text, 'confirmedCodes')).to.deep.equal(['AMP-9', 'SPK-1'])
      expect(fieldValue(scanned.text, `count_${mic}`)).to.equal('2')
      expect(textOf(scanned.text)).to.include('ชุด ชุด-001 ชุดเครื่องเสียงเคลื่อนที่: ยืนยัน 3 รายการของชุดแล้ว')
      expect(textOf(scanned.text)).not.to.include('ไม่อยู่ในใบยืมนี้ ')

      // Typed, it works the same; and from the QR page's link.
      const typed = await who.counter.agent
        .post(`/loans/${id}/handover`)
        .type('form')
        .send({ _csrf: csrfFrom(screen.text), op: 'scan', scan: 'ชุด-001', confirmedCodes: 'TENT-1' })
        .expect(200)
      expect(checkedCodes(typed.text, 'confirmedCodes')).to.deep.equal(['AMP-9', 'SPK-1', 'TENT-1'])
      expect(
        checkedCodes((await who.counter.agent.get(`/loans/${id}/handover?scan=${encodeURIComponent('ชุด-001')}`).expect(200)).text, 'confirmedCodes'),
      ).to.deep.equal(['AMP-9', 'SPK-1'])

      // A kit with nothing on this loan is named as a kit.
      await makeAsset(t.ctx, { code: 'PROJ-1' })
      await makeKit(t.ctx, 'ชุด-002', [{ code: 'PROJ-1' }], 'ชุดโปรเจกเตอร์')
      const other = await who.counter.agent
        .post(`/loans/${id}/handover`)
        .type('form')
        .send({ _csrf: csrfFrom(screen.text), op: 'scan', scan: 'ชุด-002' })
      expect(other.status).to.equal(422)
      expect(textOf(other.text)).to.include('ชุด ชุด-002 ไม่มีพัสดุในใบยืมนี้')

      // The kit's code among the ticked codes stands for its items (expanded before the service).
      const done = await who.counter.agent
        .post(`/loans/${id}/handover`)
        .type('form')
        .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: ['ชุด-001', 'TENT-1'], [`count_${mic}`]: '2' })
      expect(done.status, textOf(done.text)).to.equal(303)
      expect((await t.ctx.db.selectFrom('loan').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).to.equal('on_loan')
    })

    it('when one part of a kit comes back on its own and the kit’s label is scanned later, then only what is still out is picked, each with its own condition', async () => {
      const { who, id } = await soundLoan()
      await handOver(t.ctx, who.counter.user, id)
      const agent = who.counter.agent

      // The speaker first, on its own.
      const first = await agent.get(`/loans/${id}/return`).expect(200)
      expect(/<div class="kit-group" data-kit="[^"]+">/.test(first.text)).to.equal(true)
      const alone = await agent
        .post(`/loans/${id}/return`)
        .type('form')
        .send({ _csrf: csrfFrom(first.text), op: 'selected', pick: 'SPK-1' })
      expect(alone.status, textOf(alone.text)).to.equal(303)

      // Later the kit's label: the amplifier is picked (the speaker is back), the microphones' good count filled.
      const screen = await agent.get(`/loans/${id}/return`).expect(200)
      const mic = lineId(screen.text, 'MIC-POOL')
      const scanned = await agent
        .post(`/loans/${id}/return`)
        .type('form')
        .send({ _csrf: csrfFrom(screen.text), op: 'scan', scan: 'ชุด-001' })
      expect(scanned.status, textOf(scanned.text)).to.equal(200)
      expect(checkedCodes(scanned.text, 'pick')).to.deep.equal(['AMP-9'])
      expect(fieldValue(scanned.text, `good_${mic}`)).to.equal('2')
      expect(textOf(scanned.text)).to.include('ชุด ชุด-001 ชุดเครื่องเสียงเคลื่อนที่: เลือกรับคืน 2 รายการของชุดแล้ว')
      const amp = /name="condition_(\d+)" value="damaged"/.exec(scanned.text)![1]!

      // Each part keeps its own condition: the amplifier comes back damaged.
      const back = await agent
        .post(`/loans/${id}/return`)
        .type('form')
        .send({ _csrf: csrfFrom(screen.text), op: 'selected', pick: 'AMP-9', [`condition_${amp}`]: 'damaged', [`good_${mic}`]: '2' })
      expect(back.status, textOf(back.text)).to.equal(303)
      const items = await t.ctx.db
        .selectFrom('loan_item as i')
        .innerJoin('asset as a', 'a.id', 'i.asset_id')
        .select(['a.code', 'i.condition'])
        .where('i.loan_id', '=', id)
        .orderBy('a.code')
        .execute()
      expect(items.map((i) => [i.code, i.condition])).to.deep.equal([
        ['AMP-9', 'damaged'],
        ['SPK-1', 'good'],
        ['TENT-1', null],
      ])
      // The tent is still out; the kit has nothing left out, and its label says so.
      const last = await agent.get(`/loans/${id}/return`).expect(200)
      const nothing = await agent
        .post(`/loans/${id}/return`)
        .type('form')
        .send({ _csrf: csrfFrom(last.text), op: 'scan', scan: 'ชุด-001' })
      expect(nothing.status).to.equal(422)
      expect(textOf(nothing.text)).to.include('ชุด ชุด-001 ไม่มีพัสดุที่ยังไม่คืนตามใบยืมนี้')
    })

    it('when the API is sent a kit’s code to confirm at hand-over and as a return line, then it stands for the kit’s items on the loan', async () => {
      const { who, id } = await soundLoan()
      const { token } = await withToken(t, ['finance'])
      const api = apiAs(t, token)
      const out = await api.post(`/api/v1/loans/${id}/handover`).send({ confirmedCodes: ['ชุด-001', 'TENT-1'] })
      expect(out.status, JSON.stringify(out.body)).to.equal(200)
      const back = await api.post(`/api/v1/loans/${id}/return`).send({ items: [{ assetCode: 'ชุด-001', condition: 'good' }] })
      expect(back.status, JSON.stringify(back.body)).to.equal(200)
      const items = await t.ctx.db
        .selectFrom('loan_item as i')
        .innerJoin('asset as a', 'a.id', 'i.asset_id')
        .select(['a.code', 'i.condition'])
        .where('i.loan_id', '=', id)
        .orderBy('a.code')
        .execute()
      expect(items.map((i) => [i.code, i.condition])).to.deep.equal([
        ['AMP-9', 'good'],
        ['SPK-1', 'good'],
        ['TENT-1', null],
      ])
      void who
    })
  })
})
