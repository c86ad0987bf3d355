import fs from 'node:fs'
import { expect } from 'chai'
import type supertest from 'supertest'
import { createTestApp, csrfFrom, postForm, postMultipart, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser, TEST_PASSWORD } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeStock } from '../helpers/stock.js'
import { formFields, formsFor } from '../helpers/forms.js'
import { TINY_PNG, withApprovers } from '../helpers/approvers.js'
import { count } from '../helpers/loans.js'
import { query } from '../helpers/db.js'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'
import { confirmPaperApproval, disputePaperApproval } from '../../server/services/loan-paper.service.js'
import { getSettings, updateSettings } from '../../server/services/settings.service.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { getCurrentUser } from '../../server/services/user.service.js'

/*
 * The loan policy through the pages (SPEC §1, issue 12): every self-dealing path is refused with 403
 * and the rule's Thai message and changes nothing; one officer at the counter (or the loan-entry
 * page) lends in one sitting with the two-person rule on or off; the named approver confirms or
 * disputes a paper approval on the loan page, and finance voids a disputed one; the committee's
 * printable list; the executive's home says when the two-person rule is off.
 */

type Agent = supertest.Agent

const NAYOK = 'นายสมปอง ใจดี' // the นายก, linked to the executive account «nayok»
const PALAD = 'นางสาวปลัด รักงาน' // the ปลัด, without an account: her paper approvals come with the scan
const TODAY = '2025-01-15' // the test clock's Bangkok day

const MSG = {
  borrowerEnters: 'แบ่งแยกหน้าที่: บันทึกการยืมของตนเองแบบย้อนหลัง พร้อมการอนุมัติบนกระดาษ หรือการส่งมอบไม่ได้ ให้ยื่นคำขอตามปกติ',
  borrowerApproves: 'แบ่งแยกหน้าที่: ผู้ยืมตรวจสอบหรืออนุมัติใบยืมของตนเองไม่ได้',
  approverIsRecorder: 'แบ่งแยกหน้าที่: ผู้บันทึกการอนุมัติระบุตนเองเป็นผู้อนุมัติไม่ได้ ผู้อนุมัติต้องเป็นบุคคลอื่นตามระเบียบ ข้อ 208',
  approverIsBorrower: 'แบ่งแยกหน้าที่: ผู้ยืมเป็นผู้อนุมัติการยืมของตนเองไม่ได้',
  borrowerHandsOver: 'แบ่งแยกหน้าที่: ผู้ยืมส่งมอบหรือรับคืนพัสดุที่ตนยืมไม่ได้',
  borrowerFollowsUp: 'แบ่งแยกหน้าที่: ผู้ยืมบันทึกการติดตามทวงคืนหรือการชดใช้ของใบยืมที่ตนยืมไม่ได้',
  scanRequired: 'ผู้อนุมัติไม่มีบัญชีผู้ใช้ในระบบ จึงต้องแนบภาพสแกนใบยืมที่ลงนามแล้วในขั้นตอนนี้',
  disputedNoHandover: 'ผู้อนุมัติโต้แย้งการอนุมัติบนกระดาษนี้ ส่งมอบไม่ได้จนกว่ากองคลังจะยกเลิกและบันทึกการอนุมัติใหม่ หรือยกเลิกใบยืม',
  allDone: 'ส่งมอบแล้ว และหลักฐานครบ',
  evidenceMissing: 'หลักฐานยังไม่ครบ',
  twoPersonOff: 'กฎสองคนปิดอยู่',
}

/** The text of a page without tags, spaces collapsed: what a person reads. */
function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
}

describe('the loan policy through the pages', () => {
  let t: TestApp
  let officer: Awaited<ReturnType<typeof signedInAs>> // the พัสดุ officer
  let assetNo = 0

  beforeEach(async () => {
    t = await createTestApp() // 15 Jan 2025, 10:00 in Bangkok
    officer = await signedInAs(t, ['finance'], { username: 'phatsadu', name: 'นายพัสดุ ขยัน' })
    await withApprovers(t.ctx, { mayor: { name: NAYOK, account: 'nayok' }, chiefAdministrator: PALAD })
  })
  afterEach(() => t.close())

  async function asset(): Promise<string> {
    assetNo++
    return (await makeAsset(t.ctx, { code: `PP-${assetNo}` })).code
  }

  const loans = async () => count(t, 'SELECT COUNT(*) AS n FROM loan')
  const audits = async () => count(t, 'SELECT COUNT(*) AS n FROM audit_log')
  const attachments = async () => count(t, 'SELECT COUNT(*) AS n FROM loan_attachment')
  /** The files in the attachments folder: a refused step leaves no staged scan behind. */
  const files = () => (fs.existsSync(t.ctx.config.attachmentsDir) ? fs.readdirSync(t.ctx.config.attachmentsDir).length : 0)
  const loanRow = async (id: number) => (await query(t.ctx.db).get('SELECT * FROM loan WHERE id = ?', id)) as Record<string, unknown> & { status: string }
  const approvalRows = async (id: number) => await query(t.ctx.db).all('SELECT * FROM loan_approval WHERE loan_id = ? ORDER BY id', id)
  const lastLoanId = async () => ((await query(t.ctx.db).get('SELECT MAX(id) AS id FROM loan')) as { id: number }).id

  /** 403 with the rule's Thai message on the page, and nothing in the database moved (the loan's row, its approvals, the audit log, loans and files). */
  async function refused(call: () => Promise<supertest.Response>, message: string, loanId?: number): Promise<supertest.Response> {
    const state = async () => ({
      loans: await loans(),
      audits: await audits(),
      attachments: await attachments(),
      files: files(),
      loan: loanId ? await loanRow(loanId) : null,
      approvals: loanId ? await approvalRows(loanId) : null,
    })
    const before = await state()
    const res = await call()
    expect(res.status, textOf(res.text).slice(0, 300)).to.equal(403)
    expect(textOf(res.text)).to.include(message)
    expect(await state(), message).to.deep.equal(before)
    return res
  }

  const request = (over: Record<string, string> = {}) => ({
    purpose: 'ใช้ในงานประชุมประชาคมหมู่บ้าน',
    place: 'ศาลาประชาคมหมู่ 4',
    kind: 'in_premises',
    startDate: TODAY,
    dueDate: '2025-01-17',
    ...over,
  })

  const serviceRequest = (codes: string[], over: Record<string, unknown> = {}) => ({ assetCodes: codes, ...request(), ...over })

  // ---------------------------------------------------------------- 1. self-dealing

  describe('self-dealing (never switchable)', () => {
    it('when finance enters a loan for themselves on /loans/new with a paper approval, a hand-over or after the fact, then 403 with the rule’s message, the form again, and no loan', async () => {
      const a = officer.agent
      const code = await asset()
      const self = { borrowerKind: 'user', borrower: officer.user.username, assetCodes: code }
      // With the ปลัด's paper approval and its scan (multipart, as the form sends it): the staged file goes too.
      let res = await refused(
        () =>
          postMultipart(a, '/loans/new', '/loans/new', { ...self, ...request(), 'paperApproval.approverName': PALAD, 'paperApproval.date': TODAY }, TINY_PNG),
        MSG.borrowerEnters,
      )
      expect(res.text).to.include('id="loan-entry"').and.include(`<option value="${PALAD}" selected>`)
      // With the นายก's (an account: no scan needed) and the hand-over today.
      await refused(
        () =>
          postForm(a, '/loans/new', '/loans/new', {
            ...self,
            ...request(),
            'paperApproval.approverName': NAYOK,
            'paperApproval.date': TODAY,
            handedOverOn: TODAY,
          }),
        MSG.borrowerEnters,
      )
      // After the fact, with or without the paper.
      await refused(
        () => postForm(a, '/loans/new', '/loans/new', { ...self, ...request({ startDate: '2025-01-10', dueDate: '2025-01-16' }), afterTheFact: '1' }),
        MSG.borrowerEnters,
      )
      res = await refused(
        () =>
          postForm(a, '/loans/new', '/loans/new', {
            ...self,
            ...request({ startDate: '2025-01-10', dueDate: '2025-01-16' }),
            afterTheFact: '1',
            'paperApproval.approverName': NAYOK,
            'paperApproval.date': '2025-01-09',
            handedOverOn: '2025-01-10',
          }),
        MSG.borrowerEnters,
      )
      expect(res.text).to.include('value="10/01/2568"')
      // Naming oneself by full name is the same person.
      await refused(
        () =>
          postForm(a, '/loans/new', '/loans/new', {
            ...self,
            borrower: officer.user.name,
            ...request(),
            'paperApproval.approverName': NAYOK,
            'paperApproval.date': TODAY,
          }),
        MSG.borrowerEnters,
      )
      // An ordinary request for oneself is fine: it waits for someone else's approval.
      await postForm(a, '/loans/new', '/loans/new', { ...self, ...request() }).then((r) => expect(r.status).to.equal(303))
      expect(await loanRow(await lastLoanId())).to.include({ status: 'pending', borrower_user_id: officer.user.id, approved_on_paper: 0 })
    })

    it('when finance approves, records a paper approval on, hands over, receives or follows up a loan they borrow, then 403 with the rule’s message and the loan stays as it was', async () => {
      const finance2 = await makeUser(t.ctx, ['finance'])
      const finance3 = await makeUser(t.ctx, ['finance'])
      const a = officer.agent
      const code = await asset()
      const own = await createLoan(t.ctx, officer.user, serviceRequest([code]))
      const url = `/loans/${own.loan.id}`
      // The page offers none of it, and says why.
      const page = await a.get(url).expect(200)
      expect(page.text).to.not.include(`action="${url}/approve"`).and.not.include(`action="${url}/approve-paper"`)
      expect(textOf(page.text)).to.include(MSG.borrowerApproves)
      await refused(() => postForm(a, url, `${url}/approve`, {}), MSG.borrowerApproves, own.loan.id)
      await refused(() => postMultipart(a, url, `${url}/approve-paper`, { approverName: PALAD, date: TODAY }, TINY_PNG), MSG.borrowerApproves, own.loan.id)
      await refused(() => postMultipart(a, url, `${url}/approve-paper`, { approverName: NAYOK, date: TODAY }), MSG.borrowerApproves, own.loan.id)

      await approveLoan(t.ctx, finance2, own.loan.id, {})
      expect((await loanRow(own.loan.id)).status).to.equal('approved')
      expect((await a.get(url)).text).to.not.include(`href="${url}/handover"`)
      await refused(() => postForm(a, `${url}`, `${url}/handover`, { confirmedCodes: code }), MSG.borrowerHandsOver, own.loan.id)

      await handOver(t.ctx, finance3, own.loan.id)
      expect((await loanRow(own.loan.id)).status).to.equal('on_loan')
      expect((await a.get(url)).text).to.not.include(`href="${url}/return"`)
      await refused(() => postForm(a, url, `${url}/return`, { op: 'all' }), MSG.borrowerHandsOver, own.loan.id)
      await refused(() => postForm(a, url, `${url}/return`, { pick: code }), MSG.borrowerHandsOver, own.loan.id)
      await refused(() => postForm(a, url, `${url}/follow-ups`, { method: 'phone', note: 'ทวงตัวเอง' }), MSG.borrowerFollowsUp, own.loan.id)
      expect(await count(t, 'SELECT COUNT(*) AS n FROM follow_up WHERE loan_id = ?', own.loan.id)).to.equal(0)
    })

    it('when finance records a paper approval naming themselves or the borrower, then 403 with the rule’s message and the loan stays pending', async () => {
      const staff = await makeUser(t.ctx, ['staff'])
      const a = officer.agent
      const loan = await createLoan(t.ctx, staff, serviceRequest([await asset()], { kind: 'off_premises' }))
      const url = `/loans/${loan.loan.id}`
      expect((await a.get(url)).text).to.include(`action="${url}/approve-paper"`)
      // Naming themselves (the form does not offer them: a crafted request).
      await refused(
        () => postMultipart(a, url, `${url}/approve-paper`, { approverName: officer.user.name, date: TODAY }, TINY_PNG),
        MSG.approverIsRecorder,
        loan.loan.id,
      )
      // The ผอ.กองคลัง is on the list, linked to her finance account: she may not record her own signature either.
      const { financeDirector } = await withApprovers(t.ctx, { financeDirector: { name: 'นางกองคลัง มั่นคง', account: 'kongklang' } })
      const kongklang = await signIn(t.app, 'kongklang', financeDirector!.user!.password ?? TEST_PASSWORD)
      const inside = await createLoan(t.ctx, staff, serviceRequest([await asset()]))
      const insideUrl = `/loans/${inside.loan.id}`
      // She is not offered herself on the form; posting her own name anyway is refused by the rule.
      expect((await kongklang.get(insideUrl)).text)
        .to.include('name="approverName"')
        .and.not.include(`<option value="นางกองคลัง มั่นคง"`)
      expect((await officer.agent.get(insideUrl)).text).to.include(`<option value="นางกองคลัง มั่นคง"`)
      await refused(
        () => postMultipart(kongklang, insideUrl, `${insideUrl}/approve-paper`, { approverName: 'นางกองคลัง มั่นคง', date: TODAY }),
        MSG.approverIsRecorder,
        inside.loan.id,
      )
      // Naming the borrower: the deputy mayor (an executive, so on the list) borrows; the officer may not name him.
      const rong = await makeUser(t.ctx, ['executive'], { username: 'rong', name: 'นายรอง นายก' })
      const his = await createLoan(t.ctx, officer.user, serviceRequest([await asset()], { kind: 'off_premises', borrower: rong.username }))
      const hisUrl = `/loans/${his.loan.id}`
      const finance2 = await signedInAs(t, ['finance'])
      await refused(
        () => postMultipart(finance2.agent, hisUrl, `${hisUrl}/approve-paper`, { approverName: 'นายรอง นายก', date: TODAY }),
        MSG.approverIsBorrower,
        his.loan.id,
      )
      // Whoever else is on the list may sign it.
      await postMultipart(finance2.agent, hisUrl, `${hisUrl}/approve-paper`, { approverName: NAYOK, date: TODAY }).then((r) => expect(r.status).to.equal(303))
      expect(await loanRow(his.loan.id)).to.include({ status: 'approved', approved_on_paper: 1 })
    })
  })

  // ---------------------------------------------------------------- 2. one officer, one sitting

  describe('one officer, one sitting', () => {
    const villager = {
      'externalBorrower.type': 'public',
      'externalBorrower.name': 'นายมา ยืมเต็นท์',
      'externalBorrower.phone': '081-234-5678',
      'externalBorrower.villageNo': '4',
      'externalBorrower.organisation': 'กลุ่มแม่บ้านหมู่ 4',
    }
    const counterDetails = { purpose: 'งานบวช', place: 'วัดบ้านหนองบัว', kind: 'off_premises', startDate: TODAY, dueDate: '2025-01-17' }

    for (const twoPersonRule of [true, false]) {
      it(`when one officer lends at the counter with the ปลัด’s scanned slip and “hand over now” (two-person rule ${twoPersonRule ? 'on' : 'off'}), then the loan is on loan at once and nothing is missing; without the scan it is refused and nothing is written`, async () => {
        await updateSettings(t.ctx, { id: null, label: 'test' }, { twoPersonRule })
        await makeStock(t.ctx, { code: 'TENT', name: 'เต็นท์', unit: 'หลัง', quantity: 10 })
        const code = await asset()
        const a = officer.agent
        const form = await a.get('/counter?new=1').expect(200)
        expect(form.text).to.include('enctype="multipart/form-data"').and.include(`<option value="${PALAD}"`).and.include('name="handOverNow"')
        const fields = {
          ...villager,
          items: `TENT 2\n${code}`,
          ...counterDetails,
          'paperApproval.approverName': PALAD,
          'paperApproval.date': TODAY,
          handOverNow: '1',
        }

        const before = {
          loans: await loans(),
          audits: await audits(),
          attachments: await attachments(),
          borrowers: await count(t, 'SELECT COUNT(*) AS n FROM external_borrower'),
        }
        const noScan = await postMultipart(a, '/counter?new=1', '/counter', fields)
        expect(noScan.status).to.equal(422)
        expect(noScan.text).to.include('id="scan-error"')
        expect(textOf(noScan.text)).to.include(MSG.scanRequired)
        expect(noScan.text).to.include('value="นายมา ยืมเต็นท์"').and.include(`<option value="${PALAD}" selected>`)
        expect({
          loans: await loans(),
          audits: await audits(),
          attachments: await attachments(),
          borrowers: await count(t, 'SELECT COUNT(*) AS n FROM external_borrower'),
        }).to.deep.equal(before)

        const res = await postMultipart(a, '/counter?new=1', '/counter', fields, TINY_PNG)
        expect(res.status, textOf(res.text).slice(0, 300)).to.equal(303)
        const id = await lastLoanId()
        expect(res.headers.location).to.equal(`/loans/${id}`)
        expect(await loanRow(id)).to.include({
          status: 'on_loan',
          approved_on_paper: 1,
          requested_by: officer.user.id,
          handed_over_by: officer.user.id,
          handed_over_on: TODAY,
          entered_after_fact: 0,
        })
        expect((await t.ctx.db.selectFrom('asset').select('status').where('code', '=', code).executeTakeFirstOrThrow()).status).to.equal('on_loan')
        const paper = await t.ctx.db.selectFrom('loan_approval').selectAll().where('loan_id', '=', id).where('step', '=', 'approve').executeTakeFirstOrThrow()
        expect(paper).to.include({ on_paper: 1, by_name: PALAD, by_user_id: null, recorded_by: officer.user.id, paper_date: TODAY })
        expect(paper.evidence_id).to.be.a('number')
        // Off the premises and not yet checked: the officer's signature on the slip is the check, in the same step.
        expect(
          await t.ctx.db.selectFrom('loan_approval').select(['step', 'on_paper', 'by_user_id']).where('loan_id', '=', id).where('step', '=', 'check').execute(),
        ).to.deep.equal([{ step: 'check', on_paper: 1, by_user_id: officer.user.id }])

        // The page after lending: done, the evidence complete — no "still missing" scan.
        const page = await a.get(res.headers.location as string).expect(200)
        const text = textOf(page.text)
        expect(text).to.include('บันทึกการยืมเลขที่').and.include(MSG.allDone)
        expect(text).to.not.include(MSG.evidenceMissing).and.not.include('ใบยืมนี้ยังไม่ครบ')
        // Every step's audit entry says whether the two-person rule was on.
        const steps = (await t.ctx.db
          .selectFrom('audit_log')
          .select(['action', 'data'])
          .where('entity', '=', 'loan')
          .where('entity_id', '=', String(id))
          .execute()) as Array<{ action: string; data: string }>
        expect(steps.map((s) => s.action)).to.include.members(['loan.requested', 'loan.approved_on_paper', 'loan.handed_over'])
        const lifecycle = ['loan.requested', 'loan.checked', 'loan.approved_on_paper', 'loan.handed_over']
        for (const s of steps.filter((x) => lifecycle.includes(x.action))) expect(JSON.parse(s.data), s.action).to.have.property('twoPersonRule', twoPersonRule)
        expect((await verifyChain(t.ctx.db)).ok).to.equal(true)
      })

      it(`when one officer enters a loan on /loans/new with the ปลัด’s scanned slip and the hand-over today (two-person rule ${twoPersonRule ? 'on' : 'off'}), then it is on loan at once with nothing missing; without the scan it is refused`, async () => {
        await updateSettings(t.ctx, { id: null, label: 'test' }, { twoPersonRule })
        const staff = await makeUser(t.ctx, ['staff'])
        const code = await asset()
        const a = officer.agent
        const fields = {
          borrowerKind: 'user',
          borrower: staff.username,
          assetCodes: code,
          ...request(),
          'paperApproval.approverName': PALAD,
          'paperApproval.date': TODAY,
          handedOverOn: TODAY,
        }
        const before = { loans: await loans(), audits: await audits(), attachments: await attachments() }
        const noScan = await postMultipart(a, '/loans/new', '/loans/new', fields)
        expect(noScan.status).to.equal(422)
        expect(noScan.text).to.include('id="scan-error"')
        expect(textOf(noScan.text)).to.include(MSG.scanRequired)
        expect({ loans: await loans(), audits: await audits(), attachments: await attachments() }).to.deep.equal(before)

        const res = await postMultipart(a, '/loans/new', '/loans/new', fields, TINY_PNG)
        expect(res.status, textOf(res.text).slice(0, 300)).to.equal(303)
        const id = await lastLoanId()
        expect(res.headers.location).to.equal(`/loans/${id}`)
        expect(await loanRow(id)).to.include({
          status: 'on_loan',
          approved_on_paper: 1,
          borrower_user_id: staff.id,
          handed_over_by: officer.user.id,
          handed_over_on: TODAY,
        })
        const page = textOf((await a.get(`/loans/${id}`).expect(200)).text)
        expect(page).to.include('กำลังยืม').and.not.include(MSG.evidenceMissing).and.not.include('ใบยืมนี้ยังไม่ครบ')
        const handed = await t.ctx.db
          .selectFrom('audit_log')
          .select('data')
          .where('action', '=', 'loan.handed_over')
          .where('entity_id', '=', String(id))
          .executeTakeFirstOrThrow()
        expect(JSON.parse(handed.data)).to.have.property('twoPersonRule', twoPersonRule)
      })
    }

    it('when the officer lends at the counter naming the นายก (an account) without a scan, then it is on loan and the page says the scan and his confirmation are still missing', async () => {
      const code = await asset()
      const res = await postMultipart(officer.agent, '/counter?new=1', '/counter', {
        ...villager,
        items: code,
        ...counterDetails,
        'paperApproval.approverName': NAYOK,
        'paperApproval.date': TODAY,
        handOverNow: '1',
      })
      expect(res.status, textOf(res.text).slice(0, 300)).to.equal(303)
      const text = textOf((await officer.agent.get(res.headers.location as string)).text)
      expect(text).to.include('ใบยืมนี้ยังไม่ครบ').and.include('หลักฐานยังไม่ครบ: ยังไม่ได้แนบภาพสแกนใบยืมที่ผู้อนุมัติลงนาม').and.include('รอผู้อนุมัติยืนยันการอนุมัติบนกระดาษในระบบ')
      expect(text).to.not.include(MSG.allDone)
      expect((await loanRow(await lastLoanId())).status).to.equal('on_loan')
    })
  })

  // ---------------------------------------------------------------- 3. the named approver answers

  describe('the named approver confirms or disputes; finance voids', () => {
    async function paperLoan() {
      const staff = await signedInAs(t, ['staff'])
      const loan = await createLoan(t.ctx, staff.user, serviceRequest([await asset()], { kind: 'off_premises' }))
      const url = `/loans/${loan.loan.id}`
      const res = await postMultipart(officer.agent, url, `${url}/approve-paper`, { approverName: NAYOK, date: TODAY, note: 'ลงนามที่ห้องนายก' })
      expect(res.status, textOf(res.text).slice(0, 300)).to.equal(303)
      return { id: loan.loan.id, url, staff }
    }

    it('when the นายก opens a loan approved on paper in his name, then only he gets the answer form; confirming it shows it confirmed', async () => {
      const { id, url, staff } = await paperLoan()
      const nayok = await signIn(t.app, 'nayok', TEST_PASSWORD)
      const other = await signedInAs(t, ['executive'])
      const his = await nayok.get(url).expect(200)
      expect(his.text).to.include(`action="${url}/paper/confirm"`).and.include(`action="${url}/paper/dispute"`)
      expect(textOf(his.text)).to.include(`รอ ${NAYOK} ยืนยันในระบบ`)
      for (const [who, agent] of [
        ['another executive', other.agent],
        ['the officer', officer.agent],
        ['the borrower', staff.agent],
      ] as const) {
        const page = await agent.get(url).expect(200)
        expect(page.text, who).to.not.include(`action="${url}/paper/confirm"`).and.not.include(`action="${url}/paper/dispute"`)
      }
      // Another executive posting it anyway: 403 naming the rule, nothing changes.
      await refused(() => postForm(other.agent, url, `${url}/paper/confirm`, {}), 'ยืนยันหรือโต้แย้งได้เฉพาะผู้อนุมัติที่ระบุชื่อในการอนุมัติบนกระดาษ', id)
      // His queue holds it.
      expect((await nayok.get('/loans/queue')).text).to.include(`href="${url}"`)

      const done = await postForm(nayok, url, `${url}/paper/confirm`, {})
      expect(done.status).to.equal(303)
      expect(done.headers.location).to.equal(url)
      const after = await nayok.get(url)
      expect(textOf(after.text)).to.include('ผู้อนุมัติยืนยันแล้วเมื่อ').and.include('ผู้อนุมัติยืนยันการอนุมัติบนกระดาษ')
      expect(after.text).to.not.include(`action="${url}/paper/confirm"`)
      const paper = await t.ctx.db.selectFrom('loan_approval').selectAll().where('loan_id', '=', id).where('step', '=', 'approve').executeTakeFirstOrThrow()
      expect(paper.confirmed_at).to.be.a('string')
      expect(paper.disputed_at).to.equal(null)
      // Once answered, not again.
      const again = await postForm(nayok, url, `${url}/paper/dispute`, { reason: 'เปลี่ยนใจ' })
      expect(again.status).to.equal(409)
      expect(textOf(again.text)).to.include('การอนุมัติบนกระดาษนี้ได้รับการยืนยันหรือโต้แย้งไปแล้ว')
      // Finance may not void a confirmed one.
      expect((await officer.agent.get(url)).text).to.not.include(`action="${url}/paper/void"`)
    })

    it('when the นายก disputes it, then the hand-over is gone and refused (409); finance voids it with a reason and the loan waits for an approval with the paper form offered again', async () => {
      const { id, url } = await paperLoan()
      const nayok = await signIn(t.app, 'nayok', TEST_PASSWORD)
      const finance2 = await signedInAs(t, ['finance'])
      // Before the dispute, another officer could hand it over.
      expect((await finance2.agent.get(url)).text).to.include(`href="${url}/handover"`)

      const noReason = await postForm(nayok, url, `${url}/paper/dispute`, { reason: '' })
      expect(noReason.status).to.equal(422)
      expect(noReason.text).to.include('id="reason-error"')
      expect(
        (await t.ctx.db.selectFrom('loan_approval').select('disputed_at').where('loan_id', '=', id).where('step', '=', 'approve').executeTakeFirstOrThrow())
          .disputed_at,
      ).to.equal(null)
      const disputed = await postForm(nayok, url, `${url}/paper/dispute`, { reason: 'ข้าพเจ้าไม่ได้ลงนามในใบยืมนี้' })
      expect(disputed.status).to.equal(303)

      const page = await finance2.agent.get(url)
      expect(page.text).to.not.include(`href="${url}/handover"`)
      expect(textOf(page.text)).to.include('ผู้อนุมัติโต้แย้งเมื่อ').and.include('ข้าพเจ้าไม่ได้ลงนามในใบยืมนี้').and.include(MSG.disputedNoHandover)
      const before = { loan: await loanRow(id), audits: await audits() }
      // The hand-over screen is not offered either: it sends finance back to the loan page.
      expect((await finance2.agent.get(`${url}/handover`)).status).to.equal(303)
      const blocked = await postForm(finance2.agent, url, `${url}/handover`, {
        confirmedCodes: String(
          (
            await t.ctx.db
              .selectFrom('loan_item as i')
              .innerJoin('asset as a', 'a.id', 'i.asset_id')
              .select('a.code')
              .where('i.loan_id', '=', id)
              .executeTakeFirstOrThrow()
          ).code,
        ),
      })
      expect(blocked.status).to.equal(409)
      expect(textOf(blocked.text)).to.include(MSG.disputedNoHandover)
      expect({ loan: await loanRow(id), audits: await audits() }).to.deep.equal(before)

      // Finance voids it: a reason is needed.
      expect(page.text).to.include(`action="${url}/paper/void"`)
      const bare = await postForm(finance2.agent, url, `${url}/paper/void`, { reason: '' })
      expect(bare.status).to.equal(422)
      expect(bare.text).to.include('id="reason-error"')
      expect((await loanRow(id)).status).to.equal('approved')
      const voided = await postForm(finance2.agent, url, `${url}/paper/void`, { reason: 'ผู้อนุมัติโต้แย้ง จะเสนอปลัดลงนามใหม่' })
      expect(voided.status).to.equal(303)
      expect(await loanRow(id)).to.include({ status: 'pending', approved_on_paper: 0 })
      const again = await finance2.agent.get(url)
      expect(again.text).to.include(`action="${url}/approve-paper"`).and.not.include(`href="${url}/handover"`)
      expect(textOf(again.text)).to.include('ยกเลิกการอนุมัติบนกระดาษ').and.include('ผู้อนุมัติโต้แย้ง จะเสนอปลัดลงนามใหม่')
      const actions = (await t.ctx.db.selectFrom('audit_log').select('action').where('entity_id', '=', String(id)).execute()).map((r) => r.action)
      expect(actions).to.include.members(['loan.approved_on_paper', 'loan.paper_disputed', 'loan.paper_voided'])
      // And recorded again, with the ปลัด's scanned slip: approved, and handed over by another officer.
      await postMultipart(finance2.agent, url, `${url}/approve-paper`, { approverName: PALAD, date: TODAY }, TINY_PNG).then((r) =>
        expect(r.status).to.equal(303),
      )
      expect(await loanRow(id)).to.include({ status: 'approved', approved_on_paper: 1 })
      expect((await finance2.agent.get(url)).text).to.include(`href="${url}/handover"`)
    })
  })

  // ---------------------------------------------------------------- 4. the committee's list

  describe('the committee’s list of paper approvals', () => {
    /** The table row of one loan on /paper-approvals, as text. */
    function rowOf(html: string, loanId: number): string | null {
      for (const m of html.matchAll(/<tr[\s>][\s\S]*?<\/tr>/g)) if (m[0].includes(`href="/loans/${loanId}"`)) return textOf(m[0])
      return null
    }
    const REASON = {
      unconfirmed: 'ยังไม่ยืนยันเกิน 7 วัน',
      disputed: 'ผู้อนุมัติโต้แย้ง',
      noScan: 'ไม่มีภาพสแกนใบยืมที่ลงนาม',
      oneHand: 'ผู้ใช้คนเดียวบันทึก อนุมัติบนกระดาษ และส่งมอบ',
    }
    const scan = { kind: 'signed_slip', fileName: 'slip.png', data: TINY_PNG }

    it('when paper approvals are old and unconfirmed, disputed, without a scan, or one officer did everything, then each is listed with its reasons; a fresh confirmed one with a scan is not; staff may not open it', async () => {
      const staff = await makeUser(t.ctx, ['staff'])
      const nayokId = (await t.ctx.db.selectFrom('app_user').select('id').where('username', '=', 'nayok').executeTakeFirstOrThrow()).id
      const nayokUser = (await getCurrentUser(t.ctx, nayokId))!
      const finance2 = await makeUser(t.ctx, ['finance'])
      // A: recorded on 15 January in the นายก's name, with a scan, never answered.
      const a = await createLoan(t.ctx, staff, serviceRequest([await asset()], { kind: 'off_premises', startDate: '2025-01-24', dueDate: '2025-01-26' }))
      await approveLoan(t.ctx, finance2, a.loan.id, { onPaper: { approverName: NAYOK, date: TODAY } }, { scan })
      // Six days later it is not yet overdue for an answer.
      t.ctx.clock.set('2025-01-21T03:00:00.000Z')
      const early = await signedInAs(t, ['committee'])
      expect(rowOf((await early.agent.get('/paper-approvals').expect(200)).text, a.loan.id), 'six days unanswered').to.equal(null)
      // Eight days later (the sessions of the days before are over).
      t.ctx.clock.set('2025-01-23T03:00:00.000Z')
      const today = '2025-01-23'
      const fresh = (over: Record<string, unknown> = {}) => serviceRequest([], { kind: 'off_premises', startDate: today, dueDate: '2025-01-25', ...over })
      // B: disputed (with a scan).
      const b = await createLoan(t.ctx, staff, { ...fresh(), assetCodes: [await asset()] })
      await approveLoan(t.ctx, finance2, b.loan.id, { onPaper: { approverName: NAYOK, date: today } }, { scan })
      await disputePaperApproval(t.ctx, nayokUser, b.loan.id, { reason: 'ไม่ได้ลงนาม' })
      // C: confirmed, but no scan.
      const c = await createLoan(t.ctx, staff, { ...fresh(), assetCodes: [await asset()] })
      await approveLoan(t.ctx, finance2, c.loan.id, { onPaper: { approverName: NAYOK, date: today } })
      await confirmPaperApproval(t.ctx, nayokUser, c.loan.id, {})
      // D: one officer entered it, recorded the ปลัด's approval (scanned) and handed it over, at the counter.
      const f = await signIn(t.app, officer.user.username, officer.user.password)
      const counter = await postMultipart(
        f,
        '/counter?new=1',
        '/counter',
        {
          'externalBorrower.type': 'public',
          'externalBorrower.name': 'วัดบ้านโคก',
          'externalBorrower.phone': '089-000-1111',
          items: await asset(),
          purpose: 'งานวัด',
          place: 'วัดบ้านโคก',
          kind: 'off_premises',
          startDate: today,
          dueDate: '2025-01-25',
          'paperApproval.approverName': PALAD,
          'paperApproval.date': today,
          handOverNow: '1',
        },
        TINY_PNG,
      )
      expect(counter.status, textOf(counter.text).slice(0, 300)).to.equal(303)
      const d = await lastLoanId()
      // E: requested by staff, recorded with a scan by another officer, confirmed today: nothing to look at.
      const e = await createLoan(t.ctx, staff, { ...fresh(), assetCodes: [await asset()] })
      await approveLoan(t.ctx, finance2, e.loan.id, { onPaper: { approverName: NAYOK, date: today } }, { scan })
      await confirmPaperApproval(t.ctx, nayokUser, e.loan.id, {})

      const committee = await signedInAs(t, ['committee'])
      const list = await committee.agent.get('/paper-approvals').expect(200)
      expect(list.text).to.include('การอนุมัติบนกระดาษที่ต้องตรวจ')
      const expected: Array<[number, Array<keyof typeof REASON>]> = [
        [a.loan.id, ['unconfirmed']],
        [b.loan.id, ['disputed']],
        [c.loan.id, ['noScan']],
        [d, ['oneHand']],
      ]
      for (const [id, reasons] of expected) {
        const row = rowOf(list.text, id)
        expect(row, `loan ${id} listed`).to.not.equal(null)
        for (const r of Object.keys(REASON) as Array<keyof typeof REASON>) {
          if (reasons.includes(r)) expect(row, `loan ${id}: ${r}`).to.include(REASON[r])
          else expect(row, `loan ${id}: not ${r}`).to.not.include(REASON[r])
        }
      }
      expect(rowOf(list.text, b.loan.id)).to.include('ไม่ได้ลงนาม')
      expect(rowOf(list.text, d)).to.include(`บันทึกคำขอ: ${officer.user.name}`).and.include(`ส่งมอบ: ${officer.user.name}`)
      expect(rowOf(list.text, e.loan.id), 'a fresh confirmed one with its scan').to.equal(null)
      // The committee's home links it with the count.
      expect((await committee.agent.get('/')).text).to.include('href="/paper-approvals" data-paper-review="4"')

      for (const roles of [['admin'], ['finance'], ['executive']] as const) {
        const who = await signedInAs(t, [...roles])
        const res = await who.agent.get('/paper-approvals').expect(200)
        for (const [id] of expected) expect(res.text, `${roles[0]} sees loan ${id}`).to.include(`href="/loans/${id}"`)
      }
      const s = await signIn(t.app, staff.username, staff.password)
      const refusedPage = await s.get('/paper-approvals')
      expect(refusedPage.status).to.equal(403)
      expect(refusedPage.text).to.not.include(`href="/loans/${a.loan.id}"`)
    })
  })

  // ---------------------------------------------------------------- 5. the two-person rule's switch

  describe('the two-person rule’s switch', () => {
    /** The admin's settings form as a browser sends it, with `twoPersonRule` ticked or not. */
    async function saveSettings(admin: Agent, twoPersonRule: boolean) {
      const page = await admin.get('/admin/settings').expect(200)
      const form = formsFor(page.text, '/admin/settings')[0]!
      const body: Record<string, string> = {}
      for (const f of formFields(form)) if (f.name !== 'twoPersonRule') body[f.name] = f.value
      if (twoPersonRule) body.twoPersonRule = '1'
      const res = await admin.post('/admin/settings').type('form').send(body)
      expect(res.status, textOf(res.text).slice(0, 300)).to.equal(303)
      expect((await getSettings(t.ctx)).twoPersonRule).to.equal(twoPersonRule)
    }

    it('when the admin saves the settings without the two-person rule, then the executive’s and the committee’s homes say so (not finance’s or staff’s), and each loan step’s audit entry records the rule; turned on again, the alert goes', async () => {
      const admin = await signedInAs(t, ['admin'])
      const nayok = await signIn(t.app, 'nayok', TEST_PASSWORD)
      const committee = await signedInAs(t, ['committee'])
      const staff = await signedInAs(t, ['staff'])
      const alert = 'data-rule="two-person-off"'
      expect((await nayok.get('/')).text).to.not.include(alert)

      await saveSettings(admin.agent, false)
      const home = await nayok.get('/').expect(200)
      expect(home.text).to.include(alert)
      expect(textOf(home.text)).to.include(MSG.twoPersonOff)
      expect((await committee.agent.get('/')).text).to.include(alert)
      expect((await officer.agent.get('/')).text).to.not.include(alert)
      expect((await staff.agent.get('/')).text).to.not.include(alert)
      const change = await t.ctx.db.selectFrom('audit_log').select('data').where('action', 'like', 'settings%').orderBy('id', 'desc').executeTakeFirstOrThrow()
      expect(change.data).to.include('twoPersonRule')

      // With the rule off, the officer who entered a loan for someone else may approve it in the app: that step records the rule off.
      const code = await asset()
      await postForm(officer.agent, '/loans/new', '/loans/new', { borrowerKind: 'user', borrower: staff.user.username, assetCodes: code, ...request() }).then(
        (r) => expect(r.status).to.equal(303),
      )
      const id = await lastLoanId()
      await postForm(officer.agent, `/loans/${id}`, `/loans/${id}/approve`, {}).then((r) => expect(r.status).to.equal(303))
      const stepOf = async (action: string) =>
        JSON.parse(
          (
            await t.ctx.db
              .selectFrom('audit_log')
              .select('data')
              .where('action', '=', action)
              .where('entity_id', '=', String(id))
              .orderBy('id', 'desc')
              .executeTakeFirstOrThrow()
          ).data,
        ) as Record<string, unknown>
      expect(await stepOf('loan.requested')).to.include({ twoPersonRule: false })
      expect(await stepOf('loan.approved')).to.include({ twoPersonRule: false })

      await saveSettings(admin.agent, true)
      expect((await nayok.get('/')).text).to.not.include(alert)
      expect((await committee.agent.get('/')).text).to.not.include(alert)
      // With it on again, the same officer may not approve what they entered; the next step records the rule on.
      const code2 = await asset()
      await postForm(officer.agent, '/loans/new', '/loans/new', { borrowerKind: 'user', borrower: staff.user.username, assetCodes: code2, ...request() }).then(
        (r) => expect(r.status).to.equal(303),
      )
      const id2 = await lastLoanId()
      await refused(() => postForm(officer.agent, `/loans/${id2}`, `/loans/${id2}/approve`, {}), 'แบ่งแยกหน้าที่: ผู้บันทึกคำขอตรวจสอบหรืออนุมัติคำขอที่ตนบันทึกไม่ได้', id2)
      const finance2 = await signedInAs(t, ['finance'])
      await postForm(finance2.agent, `/loans/${id2}`, `/loans/${id2}/approve`, {}).then((r) => expect(r.status).to.equal(303))
      const approved = JSON.parse(
        (
          await t.ctx.db
            .selectFrom('audit_log')
            .select('data')
            .where('action', '=', 'loan.approved')
            .where('entity_id', '=', String(id2))
            .executeTakeFirstOrThrow()
        ).data,
      ) as Record<string, unknown>
      expect(approved).to.include({ twoPersonRule: true })
    })
  })

  describe('found in review', () => {
    it('when a finance user sends a cut-short or boundary-less multipart body to a form that records a paper approval, then 400 with a message, never a 500, and nothing is written', async () => {
      const page = await officer.agent.get('/counter?new=1')
      const token = csrfFrom(page.text)
      const before = { loans: await loans(), audits: await audits() }
      for (const path of ['/counter', '/loans/new']) {
        const cut = await officer.agent
          .post(path)
          .set('Content-Type', 'multipart/form-data; boundary=XYZ')
          .send(
            `--XYZ\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n--XYZ\r\nContent-Disposition: form-data; name="scan"; filename="s.png"\r\nContent-Type: image/png\r\n\r\nabc`,
          )
        expect(cut.status, `${path} cut short`).to.equal(400)
        const noBoundary = await officer.agent.post(path).set('Content-Type', 'multipart/form-data').send('x')
        expect(noBoundary.status, `${path} without a boundary`).to.be.within(400, 403)
      }
      expect({ loans: await loans(), audits: await audits() }).to.deep.equal(before)
    })

    it('when a paper approval is disputed, then the loan leaves finance’s "to hand over" list for the disputed one, as the dashboard count does', async () => {
      await withApprovers(t.ctx, { mayor: { name: NAYOK, account: 'nayok' } })
      const nayok = (await getCurrentUser(
        t.ctx,
        (
          await t.ctx.db.selectFrom('app_user').select('id').where('username', '=', 'nayok').executeTakeFirstOrThrow()
        ).id,
      ))!
      const code = await asset()
      const staffUser = await makeUser(t.ctx, ['staff'])
      const v = await createLoan(
        t.ctx,
        officer.user,
        serviceRequest([code], { borrower: staffUser.username, paperApproval: { approverName: NAYOK, date: TODAY } }),
      )
      const other = await signedInAs(t, ['finance'])
      const queueBefore = textOf((await other.agent.get('/loans/queue')).text)
      expect(queueBefore).to.include(v.number)
      await disputePaperApproval(t.ctx, nayok, v.loan.id, { reason: 'ข้าพเจ้าไม่ได้ลงนาม' })
      const html = (await other.agent.get('/loans/queue')).text
      expect(textOf(/<section[^>]*id="q-toHandOver"[\s\S]*?<\/section>/.exec(html)![0])).to.not.include(v.number)
      expect(textOf(/<section[^>]*id="q-paperDisputed"[\s\S]*?<\/section>/.exec(html)![0])).to.include(v.number)
    })
  })
})
