import { createHash } from 'node:crypto'
import { expect } from 'chai'
import { updateSettings } from '../../server/services/settings.service.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { TINY_PNG, withApprovers } from '../helpers/approvers.js'
import { apiAs, count, loanBody, withToken, type ApprovalBody } from '../helpers/loans.js'
import { query } from '../helpers/db.js'

/*
 * The loan policy through the JSON API (SPEC §1, §5): every self-dealing path is refused with 403
 * naming its rule and changes nothing; the two-person rule and its switch; the one-officer counter;
 * paper approvals from the approver list, with their scan, confirmation, dispute and void; and the
 * audit entry of every loan step telling whether the two-person rule was on.
 */

type Approval = ApprovalBody
interface Loan {
  id: number
  status: string
  kind: string
  requestedBy: string
  handedOverOn: string | null
  enteredAfterFact: boolean
  approvals: Approval[]
  extensions: Array<{ id: number; status: string }>
}
interface RuleError {
  error: { code: string; message: string; details?: Array<{ rule?: string; field?: string; message: string }> }
}

const loanOf = (res: { body: unknown }) => res.body as Loan
const errOf = (res: { body: unknown }) => (res.body as RuleError).error
const paperOf = (l: Loan) => l.approvals.filter((a) => a.step === 'approve' && a.onPaper)

const NAYOK = 'นายสมปอง ใจดี' // the นายก, linked to the account «nayok»
const PALAD = 'นางสาวปลัด รักงาน' // the ปลัด, without an account
const KONGKLANG = 'นางกองคลัง มั่นคง' // the ผอ.กองคลัง, linked to the finance account «kongklang»
const TODAY = '2025-01-15'

describe('loan policy through the API', () => {
  let t: TestApp
  let officer: Awaited<ReturnType<typeof withToken>> // the พัสดุ officer at the counter
  let officer2: Awaited<ReturnType<typeof withToken>>
  let officer3: Awaited<ReturnType<typeof withToken>>
  let staff: Awaited<ReturnType<typeof withToken>>
  let nayok: Awaited<ReturnType<typeof withToken>>
  let exec2: Awaited<ReturnType<typeof withToken>>
  let kongklang: Awaited<ReturnType<typeof withToken>>
  let assetNo = 0

  beforeEach(async () => {
    t = await createTestApp()
    officer = await withToken(t, ['finance'], { username: 'phatsadu', name: 'นายพัสดุ ขยัน' })
    officer2 = await withToken(t, ['finance'], { username: 'malee.f' })
    officer3 = await withToken(t, ['finance'], { username: 'kanya.f' })
    staff = await withToken(t, ['staff'], { username: 'somchai.s', name: 'นายสมชาย ใจดี' })
    nayok = await withToken(t, ['executive'], { username: 'nayok', name: NAYOK })
    exec2 = await withToken(t, ['executive'], { username: 'rong.nayok' })
    kongklang = await withToken(t, ['finance'], { username: 'kongklang', name: KONGKLANG })
    await withApprovers(t.ctx, {
      mayor: { name: NAYOK, account: 'nayok' },
      chiefAdministrator: PALAD,
      financeDirector: { name: KONGKLANG, account: 'kongklang' },
    })
  })
  afterEach(() => t.close())

  async function asset(): Promise<string> {
    assetNo++
    const a = await makeAsset(t.ctx, { code: `POL-${assetNo}` })
    return a.code
  }

  const loans = async () => count(t, 'SELECT COUNT(*) AS n FROM loan')
  const audits = async () => count(t, 'SELECT COUNT(*) AS n FROM audit_log')
  const statusOf = async (id: number) => ((await query(t.ctx.db).get('SELECT status FROM loan WHERE id = ?', id)) as { status: string }).status
  const approvalRows = async (id: number) => count(t, 'SELECT COUNT(*) AS n FROM loan_approval WHERE loan_id = ?', id)

  /** The answer is 403 forbidden naming the rule, its message also the detail's; and nothing in the database moved. */
  async function refused(call: () => Promise<{ status: number; body: unknown }>, rule: string, loanId?: number, status = 403): Promise<void> {
    const before = {
      loans: await loans(),
      audits: await audits(),
      status: loanId ? await statusOf(loanId) : null,
      approvals: loanId ? await approvalRows(loanId) : null,
    }
    const res = await call()
    expect(res.status, JSON.stringify(res.body)).to.equal(status)
    const e = errOf(res)
    expect(e.code).to.equal(status === 403 ? 'forbidden' : 'invalid_state')
    expect(e.details).to.deep.equal([{ rule, message: e.message }])
    expect(
      { loans: await loans(), audits: await audits(), status: loanId ? await statusOf(loanId) : null, approvals: loanId ? await approvalRows(loanId) : null },
      `after ${rule}`,
    ).to.deep.equal(before)
  }

  const scan = (bytes = TINY_PNG, fileName = 'slip-signed.png') => ({ fileName, data: bytes.toString('base64') })

  // ---------------------------------------------------------------- never switchable

  describe('self-dealing (never switchable)', () => {
    it('when finance enters a loan for themselves after the fact, with a paper approval or with a hand-over, then 403 borrower_approves and no loan is written', async () => {
      const code = await asset()
      const f = apiAs(t, officer.token)
      const past = { startDate: '2025-01-10', dueDate: '2025-01-17' }
      await refused(() => f.post('/api/v1/loans', loanBody([code], { ...past, afterTheFact: true })), 'borrower_approves')
      await refused(() => f.post('/api/v1/loans', loanBody([code], { paperApproval: { approverName: NAYOK, date: TODAY } })), 'borrower_approves')
      await refused(
        () =>
          f.post(
            '/api/v1/loans',
            loanBody([code], { ...past, afterTheFact: true, paperApproval: { approverName: NAYOK, date: '2025-01-09' }, handedOverOn: '2025-01-10' }),
          ),
        'borrower_approves',
      )
      await refused(
        () => f.post('/api/v1/loans', loanBody([code], { paperApproval: { approverName: NAYOK, date: TODAY }, handedOverOn: TODAY })),
        'borrower_approves',
      )
      // Naming themselves as the borrower by username is the same person.
      await refused(
        () => f.post('/api/v1/loans', loanBody([code], { borrower: 'phatsadu', paperApproval: { approverName: NAYOK, date: TODAY, scan: scan() } })),
        'borrower_approves',
      )
      // The message says what to do instead.
      const res = await f.post('/api/v1/loans', loanBody([code], { afterTheFact: true, ...past }))
      expect(errOf(res).message).to.equal('แบ่งแยกหน้าที่: บันทึกการยืมของตนเองแบบย้อนหลัง พร้อมการอนุมัติบนกระดาษ หรือการส่งมอบไม่ได้ ให้ยื่นคำขอตามปกติ')
      // An ordinary request for themselves is fine.
      expect(loanOf(await f.post('/api/v1/loans', loanBody([code], { kind: 'in_premises' })).expect(201)).status).to.equal('pending')
    })

    it('when finance checks, approves, rejects or records a paper approval on their own loan, then 403 borrower_approves and the loan stays pending', async () => {
      const f = apiAs(t, officer.token)
      const own = loanOf(await f.post('/api/v1/loans', loanBody([await asset()], { kind: 'off_premises' })).expect(201))
      await refused(() => f.post(`/api/v1/loans/${own.id}/approve`, { note: 'ตรวจเอง' }), 'borrower_approves', own.id) // the check
      await refused(() => f.post(`/api/v1/loans/${own.id}/approve`, { onPaper: { approverName: NAYOK, date: TODAY } }), 'borrower_approves', own.id)
      await refused(() => f.post(`/api/v1/loans/${own.id}/reject`, { reason: 'ไม่ใช้แล้ว' }), 'borrower_approves', own.id)
      const inside = loanOf(await f.post('/api/v1/loans', loanBody([await asset()], { kind: 'in_premises' })).expect(201))
      await refused(() => f.post(`/api/v1/loans/${inside.id}/approve`, {}), 'borrower_approves', inside.id)
      // A finance+executive borrower after someone else's check: not the executive's approval either.
      const both = await withToken(t, ['finance', 'executive'])
      const hers = loanOf(
        await apiAs(t, both.token)
          .post('/api/v1/loans', loanBody([await asset()], { kind: 'off_premises' }))
          .expect(201),
      )
      await apiAs(t, officer2.token).post(`/api/v1/loans/${hers.id}/approve`, {}).expect(200)
      await refused(() => apiAs(t, both.token).post(`/api/v1/loans/${hers.id}/approve`, {}), 'borrower_approves', hers.id)
    })

    it('when finance hands over, receives, follows up or decides the extension of their own loan, then 403 with the borrower rule and nothing moves', async () => {
      const f = apiAs(t, officer.token)
      const code = await asset()
      const own = loanOf(await f.post('/api/v1/loans', loanBody([code], { kind: 'in_premises' })).expect(201))
      const base = `/api/v1/loans/${own.id}`
      await apiAs(t, officer2.token).post(`${base}/approve`, {}).expect(200)
      await refused(() => f.post(`${base}/handover`, {}), 'borrower_hands_over', own.id)
      await apiAs(t, officer3.token).post(`${base}/handover`, {}).expect(200)
      await refused(() => f.post(`${base}/return`, { items: [{ assetCode: code, condition: 'good' }] }), 'borrower_hands_over', own.id)
      await refused(() => f.post(`${base}/follow-ups`, { method: 'phone', note: 'ทวงตัวเอง' }), 'borrower_follows_up', own.id)
      // The borrower may ask for more days, not grant them.
      const asked = loanOf(await f.post(`${base}/extensions`, { dueDate: '2025-01-19', reason: 'งานยังไม่เสร็จ' }).expect(200))
      await refused(() => f.post(`${base}/extensions/${asked.extensions[0]!.id}/decision`, { approve: true }), 'borrower_approves', own.id)
      expect(await count(t, "SELECT COUNT(*) AS n FROM loan_extension WHERE status = 'pending'")).to.equal(1)
      expect(await count(t, 'SELECT COUNT(*) AS n FROM loan_item WHERE returned_at IS NOT NULL')).to.equal(0)
      expect(await count(t, 'SELECT COUNT(*) AS n FROM follow_up')).to.equal(0)
    })

    it('when the recorder names themselves as the paper approver, by their listed name or their own typed name, then 403 approver_is_recorder', async () => {
      // The ผอ.กองคลัง (a linked signatory holding finance) records an approval in his own name.
      const kf = apiAs(t, kongklang.token)
      const pending = loanOf(
        await apiAs(t, staff.token)
          .post('/api/v1/loans', loanBody([await asset()], { kind: 'in_premises' }))
          .expect(201),
      )
      await refused(
        () => kf.post(`/api/v1/loans/${pending.id}/approve`, { onPaper: { approverName: KONGKLANG, date: TODAY } }),
        'approver_is_recorder',
        pending.id,
      )
      const walkIn = await asset()
      await refused(
        () =>
          kf.post(
            '/api/v1/loans',
            loanBody([walkIn], {
              kind: 'in_premises',
              externalBorrower: { type: 'public', name: 'นายชาวบ้าน หมู่ 3' },
              paperApproval: { approverName: ` ${KONGKLANG} `, date: TODAY },
            }),
          ),
        'approver_is_recorder',
      )
      // The officer types his own name (off the list): still the rule, not a field mistake.
      await refused(
        () => apiAs(t, officer.token).post(`/api/v1/loans/${pending.id}/approve`, { onPaper: { approverName: 'นายพัสดุ ขยัน', date: TODAY } }),
        'approver_is_recorder',
        pending.id,
      )
    })

    it('when the paper approval names the borrower, by account or by name, then 403 approver_is_borrower', async () => {
      // The นายก borrows; the officer records a paper approval in the นายก's name.
      const f = apiAs(t, officer.token)
      const [first, third] = [await asset(), await asset()]
      await refused(
        () => f.post('/api/v1/loans', loanBody([first], { borrower: 'nayok', paperApproval: { approverName: NAYOK, date: TODAY }, handedOverOn: TODAY })),
        'approver_is_borrower',
      )
      const hisRequest = loanOf(await f.post('/api/v1/loans', loanBody([await asset()], { borrower: 'nayok' })).expect(201))
      await refused(
        () => apiAs(t, officer2.token).post(`/api/v1/loans/${hisRequest.id}/approve`, { onPaper: { approverName: NAYOK, date: TODAY } }),
        'approver_is_borrower',
        hisRequest.id,
      )
      // An outside borrower who bears the ปลัด's name.
      await refused(
        () =>
          f.post(
            '/api/v1/loans',
            loanBody([third], { externalBorrower: { type: 'public', name: PALAD }, paperApproval: { approverName: PALAD, date: TODAY, scan: scan() } }),
          ),
        'approver_is_borrower',
      )
    })
  })

  // ---------------------------------------------------------------- the two-person rule

  describe('the two-person rule', () => {
    it('when it is on, then whoever entered a loan for another cannot check, approve or reject it, and the in-premises approver cannot hand it over; when off, both may', async () => {
      const f = apiAs(t, officer.token)
      const out = loanOf(await f.post('/api/v1/loans', loanBody([await asset()], { borrower: 'somchai.s', kind: 'off_premises' })).expect(201))
      await refused(() => f.post(`/api/v1/loans/${out.id}/approve`, {}), 'requester_approves', out.id)
      await refused(() => f.post(`/api/v1/loans/${out.id}/reject`, { reason: 'ของไม่ว่าง' }), 'requester_approves', out.id)
      const inside = loanOf(await f.post('/api/v1/loans', loanBody([await asset()], { borrower: 'somchai.s', kind: 'in_premises' })).expect(201))
      await refused(() => f.post(`/api/v1/loans/${inside.id}/approve`, {}), 'requester_approves', inside.id)
      await apiAs(t, officer2.token).post(`/api/v1/loans/${inside.id}/approve`, {}).expect(200)
      await refused(() => apiAs(t, officer2.token).post(`/api/v1/loans/${inside.id}/handover`, {}), 'approver_hands_over', inside.id)
      // Entering it does not stop handing it over.
      expect(loanOf(await f.post(`/api/v1/loans/${inside.id}/handover`, {}).expect(200)).status).to.equal('on_loan')

      await updateSettings(t.ctx, { id: null, label: 'test' }, { twoPersonRule: false })
      expect(loanOf(await f.post(`/api/v1/loans/${out.id}/approve`, { note: 'ตรวจแล้ว' }).expect(200)).approvals.map((a) => [a.step, a.by])).to.deep.equal([
        ['check', 'phatsadu'],
      ])
      const again = loanOf(await f.post('/api/v1/loans', loanBody([await asset()], { borrower: 'somchai.s', kind: 'in_premises' })).expect(201))
      expect(loanOf(await f.post(`/api/v1/loans/${again.id}/approve`, {}).expect(200)).status).to.equal('approved')
      expect(loanOf(await f.post(`/api/v1/loans/${again.id}/handover`, {}).expect(200)).status).to.equal('on_loan')
      // The borrower rule is not switched off with it.
      const own = loanOf(await f.post('/api/v1/loans', loanBody([await asset()], { kind: 'in_premises' })).expect(201))
      await refused(() => f.post(`/api/v1/loans/${own.id}/approve`, {}), 'borrower_approves', own.id)
    })

    for (const rule of [true, false]) {
      it(`when one officer serves a walk-in villager at the counter with the two-person rule ${rule ? 'on' : 'off'}, then the paper approval of a linked signatory and the hand-over go through in one request (201 on_loan)`, async () => {
        if (!rule) await updateSettings(t.ctx, { id: null, label: 'test' }, { twoPersonRule: false })
        const res = await apiAs(t, officer.token).post(
          '/api/v1/loans',
          loanBody([await asset()], {
            kind: 'off_premises',
            externalBorrower: { type: 'public', name: 'นางบัวผัน ศรีสุข', organisation: 'กลุ่มแม่บ้านหมู่ 5', villageNo: '5' },
            paperApproval: { approverName: NAYOK, date: TODAY, note: 'นายกลงนามที่หน้าเคาน์เตอร์' },
            handedOverOn: TODAY,
          }),
        )
        expect(res.status, JSON.stringify(res.body)).to.equal(201)
        const l = loanOf(res)
        expect(l).to.include({ status: 'on_loan', handedOverOn: TODAY, requestedBy: 'phatsadu', enteredAfterFact: false })
        expect(l.approvals.map((a) => [a.step, a.onPaper, a.recordedBy, a.paperDate, a.approverUsername])).to.deep.equal([
          // The officer's signature on the slip is the check: his own, recorded with the approval.
          ['check', true, 'phatsadu', TODAY, null],
          ['approve', true, 'phatsadu', TODAY, 'nayok'],
        ])
        expect(l.approvals[1]).to.include({ by: NAYOK, note: 'นายกลงนามที่หน้าเคาน์เตอร์', confirmedAt: null, evidence: null })
        const steps = (await query(t.ctx.db).all(
          "SELECT action, data FROM audit_log WHERE entity = 'loan' AND entity_id = ? ORDER BY id",
          String(l.id),
        )) as Array<{ action: string; data: string }>
        expect(steps.map((s) => s.action)).to.deep.equal(['loan.requested', 'loan.approved_on_paper', 'loan.handed_over'])
        for (const s of steps) expect((JSON.parse(s.data) as { twoPersonRule: unknown }).twoPersonRule, s.action).to.equal(rule)
      })
    }
  })

  // ---------------------------------------------------------------- paper approvals

  describe('paper approvals', () => {
    it('when the approver has no account and no scan comes with it, then 422 at paperApproval.scan and nothing is written; with a PNG scan, 201 and its sha256 is the evidence', async () => {
      const f = apiAs(t, officer.token)
      const code = await asset()
      const body = (paperApproval: object) =>
        loanBody([code], { kind: 'off_premises', externalBorrower: { type: 'public', name: 'วัดบ้านโคก' }, paperApproval, handedOverOn: TODAY })
      const before = { loans: await loans(), audits: await audits() }
      const missing = await f.post('/api/v1/loans', body({ approverName: PALAD, date: TODAY }))
      expect(missing.status).to.equal(422)
      expect(errOf(missing).details).to.deep.equal([{ field: 'paperApproval.scan', message: 'ผู้อนุมัติไม่มีบัญชีผู้ใช้ในระบบ จึงต้องแนบภาพสแกนใบยืมที่ลงนามแล้วในขั้นตอนนี้' }])
      // A file that is not an image or a PDF is not a scan.
      const text = await f.post('/api/v1/loans', body({ approverName: PALAD, date: TODAY, scan: scan(Buffer.from('just some text'), 'slip.txt') }))
      expect(text.status).to.equal(422)
      expect(errOf(text).details![0]!.field).to.equal('paperApproval.scan')
      expect({ loans: await loans(), audits: await audits() }).to.deep.equal(before)
      expect(await count(t, 'SELECT COUNT(*) AS n FROM loan_attachment')).to.equal(0)

      const ok = await f.post('/api/v1/loans', body({ approverName: PALAD, date: TODAY, scan: scan() }))
      expect(ok.status, JSON.stringify(ok.body)).to.equal(201)
      const l = loanOf(ok)
      expect(l.status).to.equal('on_loan')
      const [paper] = paperOf(l)
      expect(paper).to.include({ by: PALAD, approverUsername: null, recordedBy: 'phatsadu' })
      const sha256 = createHash('sha256').update(TINY_PNG).digest('hex')
      expect(paper!.evidence).to.deep.include({ fileName: 'slip-signed.png', sha256 })
      expect(paper!.evidence!.uploadedAt).to.equal('2025-01-15T03:00:00.000Z')
      // The hash is in the audit chain too, linked to this approval.
      const added = (await query(t.ctx.db).get("SELECT data FROM audit_log WHERE action = 'loan.attachment_added' AND entity_id = ?", String(l.id))) as {
        data: string
      }
      expect(JSON.parse(added.data)).to.deep.include({ sha256, attachmentId: paper!.evidence!.attachmentId })
    })

    it('when the named approver confirms, then confirmedAt is set; anyone else is refused with not_named_approver; a second answer is paper_decided', async () => {
      const loan = loanOf(
        await apiAs(t, staff.token)
          .post('/api/v1/loans', loanBody([await asset()], { kind: 'off_premises' }))
          .expect(201),
      )
      const base = `/api/v1/loans/${loan.id}`
      const recorded = loanOf(
        await apiAs(t, officer.token)
          .post(`${base}/approve`, { onPaper: { approverName: NAYOK, date: TODAY } })
          .expect(200),
      )
      expect(recorded.status).to.equal('approved')
      expect(paperOf(recorded)[0]).to.include({ approverUsername: 'nayok', confirmedAt: null, disputedAt: null })

      // Another executive, the recorder, and the borrower's side: none of them is the named approver.
      await refused(() => apiAs(t, exec2.token).post(`${base}/paper-approval/confirm`, {}), 'not_named_approver', loan.id)
      await refused(() => apiAs(t, officer.token).post(`${base}/paper-approval/confirm`, {}), 'not_named_approver', loan.id)
      await refused(() => apiAs(t, exec2.token).post(`${base}/paper-approval/dispute`, { reason: 'ไม่ใช่ลายมือชื่อนายก' }), 'not_named_approver', loan.id)
      const staffTry = await apiAs(t, staff.token).post(`${base}/paper-approval/confirm`, {})
      expect(staffTry.status).to.equal(403)

      t.ctx.clock.set('2025-01-15T05:00:00.000Z')
      const confirmed = loanOf(await apiAs(t, nayok.token).post(`${base}/paper-approval/confirm`, { note: 'ลงนามจริง' }).expect(200))
      expect(paperOf(confirmed)[0]).to.include({ confirmedAt: '2025-01-15T05:00:00.000Z', disputedAt: null })
      await refused(() => apiAs(t, nayok.token).post(`${base}/paper-approval/dispute`, { reason: 'เปลี่ยนใจ' }), 'paper_decided', loan.id, 409)
      // Confirmed, it cannot be voided.
      await refused(() => apiAs(t, officer2.token).post(`${base}/paper-approval/void`, { reason: 'บันทึกใหม่' }), 'paper_confirmed', loan.id, 409)
      const entry = (await query(t.ctx.db).get("SELECT actor_id, data FROM audit_log WHERE action = 'loan.paper_confirmed'")) as {
        actor_id: number
        data: string
      }
      expect(entry.actor_id).to.equal(nayok.user.id)
      expect(JSON.parse(entry.data)).to.deep.include({ approverName: NAYOK, note: 'ลงนามจริง', twoPersonRule: true })
    })

    it('when the named approver disputes, then the hand-over is 409 paper_disputed; finance voids it (the loan is pending again) and records it anew, and then it can be handed over', async () => {
      const code = await asset()
      const loan = loanOf(
        await apiAs(t, staff.token)
          .post('/api/v1/loans', loanBody([code], { kind: 'off_premises' }))
          .expect(201),
      )
      const base = `/api/v1/loans/${loan.id}`
      await apiAs(t, officer.token)
        .post(`${base}/approve`, { onPaper: { approverName: NAYOK, date: TODAY } })
        .expect(200)
      const noReason = await apiAs(t, nayok.token).post(`${base}/paper-approval/dispute`, {})
      expect(noReason.status).to.equal(422)
      const disputed = loanOf(await apiAs(t, nayok.token).post(`${base}/paper-approval/dispute`, { reason: 'ข้าพเจ้าไม่ได้ลงนามในใบยืมนี้' }).expect(200))
      expect(disputed.status).to.equal('approved')
      expect(paperOf(disputed)[0]).to.include({ disputedAt: '2025-01-15T03:00:00.000Z', disputeReason: 'ข้าพเจ้าไม่ได้ลงนามในใบยืมนี้' })

      await refused(() => apiAs(t, officer2.token).post(`${base}/handover`, {}), 'paper_disputed', loan.id, 409)
      expect(await count(t, "SELECT COUNT(*) AS n FROM asset WHERE code = ? AND status = 'available'", code)).to.equal(1)
      // Only finance voids it; the executive's role does not reach the route.
      expect((await apiAs(t, nayok.token).post(`${base}/paper-approval/void`, { reason: 'ยกเลิก' })).status).to.equal(403)

      const voided = loanOf(await apiAs(t, officer2.token).post(`${base}/paper-approval/void`, { reason: 'ผู้อนุมัติโต้แย้ง บันทึกใหม่ตามใบที่ปลัดลงนาม' }).expect(200))
      expect(voided.status).to.equal('pending')
      expect(paperOf(voided)[0]).to.include({ voidReason: 'ผู้อนุมัติโต้แย้ง บันทึกใหม่ตามใบที่ปลัดลงนาม', voidedAt: '2025-01-15T03:00:00.000Z' })
      // Nothing standing to answer any more.
      await refused(() => apiAs(t, nayok.token).post(`${base}/paper-approval/confirm`, {}), 'no_paper', loan.id, 409)

      const again = loanOf(
        await apiAs(t, officer.token)
          .post(`${base}/approve`, { onPaper: { approverName: PALAD, date: TODAY, scan: scan() } })
          .expect(200),
      )
      expect(again.status).to.equal('approved')
      expect(paperOf(again).map((a) => [a.by, a.voidedAt === null, a.evidence !== null])).to.deep.equal([
        [NAYOK, false, false],
        [PALAD, true, true],
      ])
      expect(loanOf(await apiAs(t, officer2.token).post(`${base}/handover`, {}).expect(200)).status).to.equal('on_loan')
      // Out on loan, the paper stays as it is.
      await refused(() => apiAs(t, officer2.token).post(`${base}/paper-approval/void`, { reason: 'ลองยกเลิก' }), 'wrong_state', loan.id, 409)
      const actions = (
        (await query(t.ctx.db).all("SELECT action FROM audit_log WHERE entity = 'loan' AND entity_id = ? ORDER BY id", String(loan.id))) as Array<{
          action: string
        }>
      ).map((r) => r.action)
      expect(actions).to.deep.equal([
        'loan.requested',
        'loan.approved_on_paper',
        'loan.paper_disputed',
        'loan.paper_voided',
        'loan.approved_on_paper',
        'loan.attachment_added',
        'loan.handed_over',
      ])
    })

    it('when the approver named is off the list, or not of the loan’s level, then 422 at approverName listing who may sign', async () => {
      const loan = loanOf(
        await apiAs(t, staff.token)
          .post('/api/v1/loans', loanBody([await asset()], { kind: 'off_premises' }))
          .expect(201),
      )
      const f = apiAs(t, officer.token)
      const unknown = await f.post(`/api/v1/loans/${loan.id}/approve`, { onPaper: { approverName: 'นายใคร ก็ไม่รู้', date: TODAY } })
      expect(unknown.status).to.equal(422)
      expect(errOf(unknown).details![0]!.field).to.equal('onPaper.approverName')
      expect(errOf(unknown).details![0]!.message).to.include(NAYOK).and.include(PALAD).and.not.include('นายพัสดุ')
      // The ผอ.กองคลัง signs in the premises only (ข้อ 208).
      const level = await f.post(`/api/v1/loans/${loan.id}/approve`, { onPaper: { approverName: KONGKLANG, date: TODAY } })
      expect(level.status).to.equal(422)
      expect(errOf(level).details![0]!.message).to.match(/^ผู้อนุมัติต้องมีอำนาจตามระดับของการยืม/)
      // A paper date in the future, or after the hand-over, is the date's mistake.
      const future = await f.post(`/api/v1/loans/${loan.id}/approve`, { onPaper: { approverName: NAYOK, date: '2025-01-16' } })
      expect(errOf(future).details).to.deep.equal([{ field: 'onPaper.date', message: 'วันที่ลงนามอนุมัติต้องไม่เป็นวันในอนาคต' }])
      const afterHandover = await f.post(
        '/api/v1/loans',
        loanBody([await asset()], {
          startDate: '2025-01-10',
          afterTheFact: true,
          borrower: 'somchai.s',
          paperApproval: { approverName: NAYOK, date: '2025-01-12' },
          handedOverOn: '2025-01-11',
        }),
      )
      expect(errOf(afterHandover).details).to.deep.equal([{ field: 'paperApproval.date', message: 'วันที่ลงนามอนุมัติต้องไม่ช้ากว่าวันส่งมอบ' }])
      expect(await statusOf(loan.id)).to.equal('pending')
    })
  })

  // ---------------------------------------------------------------- the audit of each step

  it('when loan steps are taken with the two-person rule on and then off, then each step’s audit entry records the rule as it was', async () => {
    const code = await asset()
    const s = apiAs(t, staff.token)
    const loan = loanOf(await s.post('/api/v1/loans', loanBody([code], { kind: 'off_premises' })).expect(201))
    const base = `/api/v1/loans/${loan.id}`
    await apiAs(t, officer.token).post(`${base}/approve`, { note: 'ตรวจแล้ว' }).expect(200)
    await apiAs(t, nayok.token).post(`${base}/approve`, {}).expect(200)
    await apiAs(t, officer.token).post(`${base}/handover`, {}).expect(200)
    await updateSettings(t.ctx, { id: null, label: 'test' }, { twoPersonRule: false })
    const asked = loanOf(await s.post(`${base}/extensions`, { dueDate: '2025-01-18', reason: 'งานเลื่อน' }).expect(200))
    await apiAs(t, nayok.token).post(`${base}/extensions/${asked.extensions[0]!.id}/decision`, { approve: true }).expect(200)
    await apiAs(t, officer2.token).post(`${base}/follow-ups`, { method: 'phone' }).expect(201)
    await apiAs(t, officer2.token)
      .post(`${base}/return`, { items: [{ assetCode: code, condition: 'good' }] })
      .expect(200)
    const rejected = loanOf(await s.post('/api/v1/loans', loanBody([await asset()], { kind: 'in_premises' })).expect(201))
    await apiAs(t, officer.token).post(`/api/v1/loans/${rejected.id}/reject`, { reason: 'ของไม่ว่าง' }).expect(200)

    const rows = (await query(t.ctx.db).all("SELECT action, data FROM audit_log WHERE entity = 'loan' ORDER BY id")) as Array<{
      action: string
      data: string
    }>
    expect(rows.map((r) => [r.action, (JSON.parse(r.data) as { twoPersonRule?: unknown }).twoPersonRule])).to.deep.equal([
      ['loan.requested', true],
      ['loan.checked', true],
      ['loan.approved', true],
      ['loan.handed_over', true],
      ['loan.extension_requested', false],
      ['loan.extension_approved', false],
      ['loan.followed_up', false],
      ['loan.item_returned', false],
      ['loan.returned', false],
      ['loan.requested', false],
      ['loan.rejected', false],
    ])
  })

  // ---------------------------------------------------------------- found in review: ways around the rules

  describe('ways around the rules, closed', () => {
    it('when the officer types himself in as an outside borrower (his name with a zero-width space, other spacing or without his title), then the paper approval and the hand-over are his own: 403 and nothing written', async () => {
      const f = apiAs(t, officer.token)
      for (const name of ['นายพัสดุ ขยัน', 'นายพัสดุ\u200bขยัน', 'พัสดุ  ขยัน']) {
        const code = await asset()
        await refused(
          () =>
            f.post(
              '/api/v1/loans',
              loanBody([code], { externalBorrower: { type: 'employee', name }, paperApproval: { approverName: NAYOK, date: TODAY }, handedOverOn: TODAY }),
            ),
          'borrower_approves',
        )
      }
    })

    it('when the นายก is typed in as an outside borrower with a zero-width space or without his title, then naming him as the approver is refused (approver_is_borrower)', async () => {
      const f = apiAs(t, officer.token)
      for (const name of ['นายสมปอง ใจดี\u200b', 'นายสมปอง\u200cใจดี', 'สมปอง ใจดี']) {
        const code = await asset()
        await refused(
          () =>
            f.post(
              '/api/v1/loans',
              loanBody([code], { externalBorrower: { type: 'public', name }, paperApproval: { approverName: NAYOK, date: TODAY }, handedOverOn: TODAY }),
            ),
          'approver_is_borrower',
        )
      }
    })

    it('when a finance user records the paper approval of a signatory without an account who is himself under another spelling, then approver_is_recorder, and he may not hand over what a colleague recorded in his name', async () => {
      const code = await asset()
      // The ผอ.กองคลัง signatory is not linked; the finance user's own name lacks the title.
      await withApprovers(t.ctx, { financeDirector: KONGKLANG })
      const self = await withToken(t, ['finance'], { username: 'kk.unlinked', name: 'กองคลัง มั่นคง' })
      const body = loanBody([code], {
        kind: 'in_premises',
        externalBorrower: { type: 'public', name: 'นายมาขอ ยืม' },
        paperApproval: { approverName: KONGKLANG, date: TODAY, scan: scan() },
      })
      await refused(() => apiAs(t, self.token).post('/api/v1/loans', { ...body, handedOverOn: TODAY }), 'approver_is_recorder')
      // A colleague records it; the one named on it (by name) does not hand it over while the two-person rule is on.
      const made = await apiAs(t, officer.token).post('/api/v1/loans', body)
      expect(made.status, JSON.stringify(made.body)).to.equal(201)
      await refused(() => apiAs(t, self.token).post(`/api/v1/loans/${loanOf(made).id}/handover`, {}), 'approver_hands_over', loanOf(made).id)
    })

    it('when the officer who entered an off-premises loan records a paper approval and it is disputed and voided, then its check goes with it: the loan waits for a check again, and he may not check it himself', async () => {
      const code = await asset()
      const f = apiAs(t, officer.token)
      const made = await f.post('/api/v1/loans', loanBody([code], { borrower: 'somchai.s', paperApproval: { approverName: NAYOK, date: TODAY } }))
      expect(made.status, JSON.stringify(made.body)).to.equal(201)
      const id = loanOf(made).id
      expect((await apiAs(t, nayok.token).post(`/api/v1/loans/${id}/paper-approval/dispute`, { reason: 'ไม่ได้ลงนาม' })).status).to.equal(200)
      const voided = await apiAs(t, officer2.token).post(`/api/v1/loans/${id}/paper-approval/void`, { reason: 'ผู้อนุมัติโต้แย้ง' })
      expect(voided.status, JSON.stringify(voided.body)).to.equal(200)
      expect(loanOf(voided).status).to.equal('pending')
      expect(loanOf(voided).approvals.map((a) => [a.step, a.onPaper, a.voidedAt !== null])).to.deep.equal([
        ['check', true, true],
        ['approve', true, true],
      ])
      // An executive approving now is out of order: the loan needs its check first.
      await refused(() => apiAs(t, exec2.token).post(`/api/v1/loans/${id}/approve`, {}), 'check_first', id, 409)
      await refused(() => f.post(`/api/v1/loans/${id}/approve`, {}), 'requester_approves', id)
    })

    it('when the officer who entered an in-premises loan (or asked for its extension) records the extension "on paper", then it is refused: on paper is only the executive’s decision outside the premises, and the two-person rule holds for it', async () => {
      const code = await asset()
      const made = await apiAs(t, officer.token).post('/api/v1/loans', loanBody([code], { kind: 'in_premises', borrower: 'somchai.s' }))
      const id = loanOf(made).id
      expect((await apiAs(t, officer2.token).post(`/api/v1/loans/${id}/approve`, {})).status).to.equal(200)
      expect((await apiAs(t, officer.token).post(`/api/v1/loans/${id}/handover`, {})).status).to.equal(200)
      const asked = await apiAs(t, officer.token).post(`/api/v1/loans/${id}/extensions`, { dueDate: '2025-01-20', reason: 'งานเลื่อนออกไป' })
      expect(asked.status, JSON.stringify(asked.body)).to.equal(200)
      const extId = (asked.body as { extensions: Array<{ id: number }> }).extensions[0]!.id
      await refused(
        () => apiAs(t, officer.token).post(`/api/v1/loans/${id}/extensions/${extId}/decision`, { approve: true, onPaper: true }),
        'wrong_state',
        id,
        409,
      )
      await refused(() => apiAs(t, officer.token).post(`/api/v1/loans/${id}/extensions/${extId}/decision`, { approve: true }), 'requester_approves', id)
    })

    it('when a scan is sent that decodes to nothing, then 422 on the scan; when staff send one, then 403 for the paper approval itself', async () => {
      const code = await asset()
      const before = await loans()
      const bad = await apiAs(t, officer.token).post(
        '/api/v1/loans',
        loanBody([code], { borrower: 'somchai.s', paperApproval: { approverName: PALAD, date: TODAY, scan: { data: 'A' } } }),
      )
      expect(bad.status).to.equal(422)
      expect(errOf(bad).details?.[0]).to.include({ field: 'paperApproval.scan' })
      const fromStaff = await apiAs(t, staff.token).post(
        '/api/v1/loans',
        loanBody([code], { paperApproval: { approverName: PALAD, date: TODAY, scan: { data: 'A' } } }),
      )
      expect(fromStaff.status).to.equal(403)
      expect(await loans()).to.equal(before)
    })
  })
})
