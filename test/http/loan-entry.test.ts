import { expect } from 'chai'
import { createTestApp, csrfFrom, csrfOf, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { TINY_PNG, withApprovers } from '../helpers/approvers.js'

describe('finance loan entry (pages)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  const details = (over: Record<string, string> = {}) => ({
    purpose: 'จัดงานบุญประจำปีของหมู่บ้าน',
    place: 'ศาลาประชาคมหมู่ 5',
    kind: 'off_premises',
    startDate: '2025-01-16',
    dueDate: '2025-01-18',
    ...over,
  })

  it('when staff open or post the entry page, then they are refused (403)', async () => {
    const { agent } = await signedInAs(t, ['staff'])
    await agent.get('/loans/new').expect(403)
    const csrf = await csrfOf(agent, '/cart')
    await agent
      .post('/loans/new')
      .type('form')
      .send({ _csrf: csrf, borrowerKind: 'user', borrower: 'x', ...details() })
      .expect(403)
    expect(await t.ctx.db.selectFrom('loan').selectAll().execute()).to.have.length(0)
  })

  it('when finance enters a loan for a user (by username or by full name, codes typed or scanned as URLs), then it is pending for that user and entered by finance', async () => {
    await makeAsset(t.ctx, { code: 'AMP-1' })
    await makeAsset(t.ctx, { code: 'กค.MIC/1' })
    const staff = await makeUser(t.ctx, ['staff'], { name: 'นายสมชาย ใจกว้าง' })
    const { agent, user: finance } = await signedInAs(t, ['finance'])
    const form = await agent.get('/loans/new').expect(200)
    expect(form.text).to.include('บันทึกย้อนหลัง (ยืมไปแล้วบนกระดาษ)').and.include(`<option value="${staff.username}">นายสมชาย ใจกว้าง`)
    expect(form.text).to.include('ข้อมูลส่วนบุคคลใช้เพื่อการยืม-คืนและติดตามพัสดุเท่านั้น').and.include('src="/js/loan-entry.js"')
    const res = await agent
      .post('/loans/new')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        borrowerKind: 'user',
        borrower: 'นายสมชาย ใจกว้าง',
        assetCodes: `AMP-1\r\nhttps://yk.example.go.th/q/${encodeURIComponent('กค.MIC/1')}\r\n`,
        ...details({ kind: 'in_premises' }),
      })
      .expect(303)
    const loan = await t.ctx.db.selectFrom('loan').selectAll().executeTakeFirstOrThrow()
    expect(res.headers.location).to.equal(`/loans/${loan.id}`)
    expect(loan).to.include({
      status: 'pending',
      kind: 'in_premises',
      borrower_user_id: staff.id,
      requested_by: finance.id,
      external_borrower_id: null,
      entered_after_fact: 0,
    })
    expect(await t.ctx.db.selectFrom('loan_item').selectAll().execute()).to.have.length(2)

    await makeAsset(t.ctx, { code: 'AMP-2' })
    await agent
      .post('/loans/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), borrowerKind: 'user', borrower: staff.username.toUpperCase(), assetCodes: 'AMP-2', ...details() })
      .expect(303)
    const second = await t.ctx.db.selectFrom('loan').selectAll().where('seq', '=', 2).executeTakeFirstOrThrow()
    expect(second.borrower_user_id).to.equal(staff.id)
  })

  it('when finance enters a community group’s loan, then an external borrower with หมู่ที่ is stored and the loan waits for its check', async () => {
    await makeAsset(t.ctx, { code: 'TENT-1' })
    await makeAsset(t.ctx, { code: 'TENT-2' })
    const { agent, user: finance } = await signedInAs(t, ['finance'])
    const form = await agent.get('/loans/new')
    await agent
      .post('/loans/new')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        borrowerKind: 'external',
        borrower: 'ignored-when-external',
        'externalBorrower.type': 'public',
        'externalBorrower.name': 'นางบุญมี ศรีสุข',
        'externalBorrower.organisation': 'กลุ่มแม่บ้านหมู่ 5',
        'externalBorrower.phone': '081-234-5678',
        'externalBorrower.address': '12 ถนนสายกลาง ตำบลหนองบัว',
        'externalBorrower.villageNo': '5',
        'externalBorrower.idNumber': '',
        assetCodes: 'TENT-1\nTENT-2',
        ...details(),
      })
      .expect(303)
    const loan = await t.ctx.db.selectFrom('loan').selectAll().executeTakeFirstOrThrow()
    expect(loan).to.include({
      status: 'pending',
      kind: 'off_premises',
      borrower_user_id: null,
      borrower_type: 'public',
      requested_by: finance.id,
      checked_at: null,
    })
    const ext = await t.ctx.db.selectFrom('external_borrower').selectAll().executeTakeFirstOrThrow()
    expect(ext).to.include({
      id: loan.external_borrower_id,
      name: 'นางบุญมี ศรีสุข',
      organisation: 'กลุ่มแม่บ้านหมู่ 5',
      village_no: '5',
      phone: '081-234-5678',
      type: 'public',
    })
  })

  it('when finance enters another agency’s loan, then its letter number and date are kept, and the agency name is required', async () => {
    await makeAsset(t.ctx, { code: 'CHAIR-1' })
    const { agent } = await signedInAs(t, ['finance'])
    const csrf = csrfFrom((await agent.get('/loans/new')).text)
    const base = {
      _csrf: csrf,
      borrowerKind: 'external',
      'externalBorrower.type': 'agency',
      'externalBorrower.name': 'นายประสิทธิ์ ทำดี',
      'externalBorrower.letterNumber': 'นม 84501/123',
      'externalBorrower.letterDate': '2025-01-10',
      assetCodes: 'CHAIR-1',
      ...details({ kind: 'inter_agency' }),
    }
    const bad = await agent.post('/loans/new').type('form').send(base).expect(422)
    expect(bad.text).to.include('กรุณาระบุชื่อหน่วยงานผู้ยืม').and.include('value="นม 84501/123"')
    await agent
      .post('/loans/new')
      .type('form')
      .send({ ...base, 'externalBorrower.organisation': 'โรงเรียนบ้านหนองบัว' })
      .expect(303)
    const loan = await t.ctx.db.selectFrom('loan').selectAll().executeTakeFirstOrThrow()
    expect(loan).to.include({ kind: 'inter_agency', borrower_type: 'agency', letter_number: 'นม 84501/123', letter_date: '2025-01-10' })
  })

  it('when finance brings in a running paper loan after the fact, then it is on loan at once, flagged, approved on paper and audited', async () => {
    // The นายก signs on paper only: the approval in his name comes with the signed slip's scan (the form is multipart).
    await withApprovers(t.ctx, { mayor: 'นายสมศักดิ์ รักษ์ถิ่น นายก อบต.' })
    const a = await makeAsset(t.ctx, { code: 'SPK-1' })
    const staff = await makeUser(t.ctx, ['staff'])
    const { agent } = await signedInAs(t, ['finance'])
    const form = await agent.get('/loans/new').expect(200)
    expect(form.text).to.include('enctype="multipart/form-data"').and.include('<option value="นายสมศักดิ์ รักษ์ถิ่น นายก อบต."')
    const fields = {
      _csrf: csrfFrom(form.text),
      borrowerKind: 'user',
      borrower: staff.username,
      assetCodes: 'SPK-1',
      ...details({ startDate: '2025-01-05', dueDate: '2025-01-25' }),
      afterTheFact: '1',
      'paperApproval.approverName': 'นายสมศักดิ์ รักษ์ถิ่น นายก อบต.',
      'paperApproval.date': '2025-01-04',
      handedOverOn: '2025-01-05',
    }
    const post = (withScan: boolean) => {
      const req = agent.post('/loans/new')
      for (const [k, v] of Object.entries(fields)) req.field(k, v)
      return withScan ? req.attach('scan', TINY_PNG, { filename: 'slip.png', contentType: 'image/png' }) : req
    }
    // Without the scan: refused on the scan field, nothing written.
    const noScan = await post(false).expect(422)
    expect(noScan.text).to.include('id="scan-error"').and.include('จึงต้องแนบภาพสแกนใบยืมที่ลงนามแล้วในขั้นตอนนี้')
    expect(await t.ctx.db.selectFrom('loan').selectAll().execute()).to.have.length(0)
    const res = await post(true).expect(303)
    const loan = await t.ctx.db.selectFrom('loan').selectAll().executeTakeFirstOrThrow()
    expect(res.headers.location).to.equal(`/loans/${loan.id}`)
    expect(loan).to.include({ status: 'on_loan', entered_after_fact: 1, approved_on_paper: 1, start_on: '2025-01-05', handed_over_on: '2025-01-05' })
    expect((await t.ctx.db.selectFrom('asset').select('status').where('id', '=', a.id).executeTakeFirstOrThrow()).status).to.equal('on_loan')
    const approval = await t.ctx.db.selectFrom('loan_approval').selectAll().where('step', '=', 'approve').executeTakeFirstOrThrow()
    expect(approval).to.include({ on_paper: 1, by_name: 'นายสมศักดิ์ รักษ์ถิ่น นายก อบต.', by_user_id: null, paper_date: '2025-01-04' })
    expect(approval.evidence_id).to.be.a('number')
    const actions = (await t.ctx.db.selectFrom('audit_log').select('action').execute()).map((r) => r.action)
    expect(actions).to.include.members(['loan.requested', 'loan.approved_on_paper'])
    expect((await verifyChain(t.ctx.db)).ok).to.equal(true)
    // The asset's pages show the holder now.
    expect((await agent.get(`/q/SPK-1`)).text).to.include(staff.name)
  })

  it('when the paper fields are filled but the after-the-fact box is not ticked, then a past start is still refused and the form keeps the chosen approver', async () => {
    // A paper approval now counts without the box (one officer, one sitting); the box alone allows a past start.
    await withApprovers(t.ctx, { mayor: { name: 'นายก สมปอง ใจดี', account: 'nayok' } })
    await makeAsset(t.ctx, { code: 'SPK-2' })
    const staff = await makeUser(t.ctx, ['staff'])
    const { agent } = await signedInAs(t, ['finance'])
    const res = await agent
      .post('/loans/new')
      .type('form')
      .send({
        _csrf: await csrfOf(agent, '/loans/new'),
        borrowerKind: 'user',
        borrower: staff.username,
        assetCodes: 'SPK-2',
        ...details({ startDate: '2025-01-05', dueDate: '2025-01-20' }),
        'paperApproval.approverName': 'นายก สมปอง ใจดี',
        'paperApproval.date': '2025-01-04',
        handedOverOn: '2025-01-05',
      })
      .expect(422)
    expect(res.text).to.include('วันเริ่มยืมต้องเป็นวันนี้หรือหลังจากนี้').and.include('<option value="นายก สมปอง ใจดี" selected>')
    expect(await t.ctx.db.selectFrom('loan').selectAll().execute()).to.have.length(0)
    expect(await t.ctx.db.selectFrom('loan_approval').selectAll().execute()).to.have.length(0)
  })

  it('when no borrower is given or fields are wrong, then it answers 422 naming every field, keeps the values and writes nothing', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const res = await agent
      .post('/loans/new')
      .type('form')
      .send({
        _csrf: await csrfOf(agent, '/loans/new'),
        borrowerKind: 'user',
        borrower: '',
        assetCodes: '',
        purpose: 'งานวัด',
        place: '',
        kind: 'off_premises',
        startDate: '2025-01-16',
        dueDate: 'bad',
      })
      .expect(422)
    expect(res.text).to.include('กรุณาระบุผู้ยืม').and.include('กรุณาระบุสถานที่นำไปใช้').and.include('พิมพ์วันที่เป็น วัน/เดือน/ปี พ.ศ.')
    expect(res.text).to.include('งานวัด').and.include('value="bad"')

    const unknown = await agent
      .post('/loans/new')
      .type('form')
      .send({ _csrf: await csrfOf(agent, '/loans/new'), borrowerKind: 'user', borrower: 'nobody-here', assetCodes: 'X', ...details() })
      .expect(422)
    expect(unknown.text).to.include('ไม่พบผู้ยืมนี้')
    expect(await t.ctx.db.selectFrom('loan').selectAll().execute()).to.have.length(0)
  })

  it('when finance has scanned items into the cart, then the entry form starts with them and the cart is emptied once they are lent', async () => {
    await makeAsset(t.ctx, { code: 'CAM-1' })
    await makeAsset(t.ctx, { code: 'CAM-2' })
    const staff = await makeUser(t.ctx, ['staff'])
    const { agent } = await signedInAs(t, ['finance'])
    const qr = await agent.get('/q/CAM-1')
    await agent
      .post('/cart/add')
      .type('form')
      .send({ _csrf: csrfFrom(qr.text), code: 'CAM-1' })
      .expect(303)
    await agent
      .post('/cart/add')
      .type('form')
      .send({ _csrf: csrfFrom(qr.text), code: 'CAM-2' })
      .expect(303)
    const form = await agent.get('/loans/new').expect(200)
    expect(form.text).to.match(/<textarea id="assetCodes"[^>]*>CAM-1\nCAM-2<\/textarea>/)
    await agent
      .post('/loans/new')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), borrowerKind: 'user', borrower: staff.username, assetCodes: 'CAM-1', ...details() })
      .expect(303)
    const cart = await agent.get('/cart')
    expect(cart.text)
      .to.include('CAM-2')
      .and.match(/ตะกร้าขอยืม <span class="badge">1<\/span>/)
  })
})
