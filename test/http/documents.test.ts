import { TINY_PNG } from '../helpers/approvers.js'
import { expect } from 'chai'
import supertest from 'supertest'
import type { Role } from '../../db/schema.js'
import { createTestApp, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser, TEST_PASSWORD } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { listDepartments } from '../../server/services/department.service.js'
import { createUser, getCurrentUser } from '../../server/services/user.service.js'
import { addFollowUp, approveLoan, createLoan, handOver, receiveReturn } from '../../server/services/loan.service.js'

const SYSTEM = { id: null, label: 'test' }

/** The page's visible text: tags dropped, entities decoded, white space collapsed. */
function textOf(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&#34;|&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim()
}

/** The paper alone (not the toolbar around it). */
function paperOf(html: string): string {
  const start = html.indexOf('<article class="paper')
  expect(start, 'a paper in the page').to.be.greaterThan(-1)
  return textOf(html.slice(start, html.indexOf('</article>', start)))
}

/** Each printed check box: its label and whether it is ticked. */
function boxes(html: string): Record<string, boolean> {
  const out: Record<string, boolean> = {}
  for (const m of html.matchAll(/<span class="opt( checked)?">.*?<\/span><span class="sr-only">(.)<\/span>\s*([^<]+?)\s*<\/span>/g)) {
    out[m[3]!] = m[1] !== undefined
    expect(m[2]).to.equal(m[1] ? '☑' : '☐')
  }
  return out
}

const SETTINGS = {
  agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่',
  agencyAddress: '99 หมู่ที่ 1 ตำบลหนองบัวใหญ่',
  province: 'จังหวัดนครราชสีมา',
  agencyPhone: '0 4421 3456',
  mayor: { name: 'นายสมศักดิ์ ใจดี', position: 'นายกองค์การบริหารส่วนตำบลหนองบัวใหญ่' },
  chiefAdministrator: { name: 'นางสาวมาลี ศรีสุข', position: 'ปลัดองค์การบริหารส่วนตำบลหนองบัวใหญ่' },
  financeDirector: { name: 'นางวันดี มีทรัพย์', position: 'ผู้อำนวยการกองคลัง' },
  suppliesOfficer: { name: 'นายพัสดุ รักงาน', position: 'เจ้าพนักงานพัสดุ' },
  delegationLine: 'ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบลหนองบัวใหญ่',
}

describe('printed documents: the borrow slip and the follow-up letters', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp() // 15 Jan 2025, 10:00 in Bangkok
    await updateSettings(t.ctx, SYSTEM, SETTINGS)
  })
  afterEach(() => t.close())

  /** A staff borrower with a position, a department and a phone, signed in. */
  async function staffMember(name = 'นายสมชาย ขยันยิ่ง') {
    const dept = (await listDepartments(t.ctx))[0]!
    const row = await createUser(
      t.ctx,
      SYSTEM,
      {
        username: `staff.${Math.random().toString(36).slice(2, 8)}`,
        password: TEST_PASSWORD,
        name,
        position: 'นักวิชาการศึกษา',
        phone: '081 555 0101',
        departmentId: dept.id,
        roles: ['staff'],
      },
      { mustChangePassword: false },
    )
    const user = (await getCurrentUser(t.ctx, row.id))!
    return { user, agent: await signIn(t.app, user.username, TEST_PASSWORD), department: dept.name }
  }

  async function staffMemberAgent(user: { username: string }) {
    return { agent: await signIn(t.app, user.username, TEST_PASSWORD) }
  }

  async function cast() {
    return {
      checker: await makeUser(t.ctx, ['finance'], { name: 'นายตรวจ สอบดี' }),
      issuer: await makeUser(t.ctx, ['finance'], { name: 'นางสาวจ่ายของ ตรงเวลา' }),
      // The ปลัด's account: its name matches the settings' ปลัด with a title in front.
      chief: await makeUser(t.ctx, ['executive'], { name: 'มาลี ศรีสุข' }),
    }
  }

  const request = (codes: string[], over: Record<string, unknown> = {}) => ({
    assetCodes: codes,
    purpose: 'งานบุญประจำปีหมู่ 3',
    place: 'วัดบ้านหนองบัว',
    kind: 'off_premises',
    startDate: '2025-01-15',
    dueDate: '2025-01-17',
    ...over,
  })

  it("when a staff member's off-premises loan goes through its steps, then the slip fills in the number, dates, names, the ticked box and the hand-over and return sections", async () => {
    const { user, department } = await staffMember()
    let { agent } = await staffMemberAgent(user)
    const { checker, issuer, chief } = await cast()
    await makeAsset(t.ctx, { code: 'AMP-1', name: 'เครื่องขยายเสียง' })
    await makeAsset(t.ctx, { code: 'MIC-1', name: 'ไมโครโฟนไร้สาย' })
    const loan = await createLoan(t.ctx, user, request(['AMP-1', 'MIC-1']))
    const url = `/loans/${loan.loan.id}/slip`

    let page = await agent.get(url).expect(200)
    let paper = paperOf(page.text)
    expect(paper).to.include('ใบยืมพัสดุ')
    expect(paper).to.include('เลขที่ ๑/๒๕๖๘')
    expect(paper).to.include('วันที่ ๑๕ มกราคม ๒๕๖๘')
    expect(paper).to.include('องค์การบริหารส่วนตำบลหนองบัวใหญ่')
    expect(paper).to.include('๙๙ หมู่ที่ ๑ ตำบลหนองบัวใหญ่ จังหวัดนครราชสีมา')
    expect(paper).to.include('เรียน นายกองค์การบริหารส่วนตำบลหนองบัวใหญ่')
    expect(paper).to.match(/ข้าพเจ้า นายสมชาย ขยันยิ่ง ตำแหน่ง นักวิชาการศึกษา สังกัด (\S+)/)
    expect(paper).to.include(`สังกัด ${department}`)
    expect(paper).to.include('โทรศัพท์ ๐๘๑ ๕๕๕ ๐๑๐๑')
    expect(paper).to.include('เพื่อ งานบุญประจำปีหมู่ ๓')
    expect(paper).to.include('สถานที่นำไปใช้ วัดบ้านหนองบัว')
    expect(paper).to.include('ตั้งแต่วันที่ ๑๕ มกราคม ๒๕๖๘ ถึงวันที่ ๑๗ มกราคม ๒๕๖๘ รวม ๓ วัน')
    // the item table: ลำดับที่ | รายการ | จำนวน | หมายเลขครุภัณฑ์ (as on the label) | หมายเหตุ
    expect(paper).to.include('ลำดับที่ รายการ จำนวน หมายเลขครุภัณฑ์ หมายเหตุ')
    expect(paper).to.include('๑ เครื่องขยายเสียง ๑ AMP-1')
    expect(paper).to.include('๒ ไมโครโฟนไร้สาย ๑ MIC-1')
    expect(paper).to.include('ข้าพเจ้าจะส่งคืนในสภาพที่ใช้การได้เรียบร้อย')
    expect(paper).to.include('และจะส่งคืนพัสดุในวันที่ ๑๗ มกราคม ๒๕๖๘')
    expect(boxes(page.text)).to.deep.equal({ ใช้ภายในสถานที่: false, นอกสถานที่: true, ระหว่างหน่วยงาน: false, อนุมัติ: false, ไม่อนุมัติ: false })
    // signature blocks: names from the record, dates left for hand signing
    expect(paper).to.include('(ลงชื่อ) ผู้ยืม ( นายสมชาย ขยันยิ่ง ) ตำแหน่ง นักวิชาการศึกษา วันที่')
    expect(paper).to.include('(ลงชื่อ) หัวหน้าหน่วยงานผู้ยืม ( ) ตำแหน่ง วันที่')
    expect(paper).to.include('(ลงชื่อ) เจ้าหน้าที่พัสดุ ( นายพัสดุ รักงาน ) ตำแหน่ง เจ้าพนักงานพัสดุ')
    // not approved yet: the นายก of the settings, no delegation line
    expect(paper).to.include('(ลงชื่อ) ผู้อนุมัติ ( นายสมศักดิ์ ใจดี ) ตำแหน่ง นายกองค์การบริหารส่วนตำบลหนองบัวใหญ่ วันที่')
    expect(paper).to.not.include('ปฏิบัติราชการแทน')
    expect(paper).to.include('ได้รับพัสดุตามรายการข้างต้นแล้ว เมื่อวันที่ (ลงชื่อ)')
    expect(paper).to.include('หมายเหตุ ๑. ผู้อนุมัติ (ข้อ ๒๐๘)')
    expect(paper).to.include('ภายใน ๗ วันนับแต่วันครบกำหนด (ข้อ ๒๑๑)')
    expect(paper).to.not.include('ข้อมูลส่วนบุคคล') // the notice is for outside borrowers

    await approveLoan(t.ctx, checker, loan.loan.id, {})
    await approveLoan(t.ctx, chief, loan.loan.id, {})
    await handOver(t.ctx, issuer, loan.loan.id)
    page = await agent.get(url).expect(200)
    paper = paperOf(page.text)
    expect(paper).to.include('(ลงชื่อ) เจ้าหน้าที่พัสดุ ( นายตรวจ สอบดี )') // the finance user who checked it
    // the ปลัด approved: their name from the settings and the delegation line under the position
    expect(paper).to.include('(ลงชื่อ) ผู้อนุมัติ ( นางสาวมาลี ศรีสุข ) ตำแหน่ง ปลัดองค์การบริหารส่วนตำบลหนองบัวใหญ่ ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบลหนองบัวใหญ่ วันที่')
    expect(paper).to.include('อนุมัติในระบบโดย มาลี ศรีสุข เมื่อ ๑๕ ม.ค. ๒๕๖๘ ๑๐:๐๐ น.')
    expect(boxes(page.text)).to.include({ อนุมัติ: true, ไม่อนุมัติ: false })
    expect(paper).to.include('ได้รับพัสดุตามรายการข้างต้นแล้ว เมื่อวันที่ ๑๕ ม.ค. ๒๕๖๘ (ลงชื่อ) ผู้ยืม ( นายสมชาย ขยันยิ่ง ) (ลงชื่อ) ผู้จ่ายพัสดุ ( นางสาวจ่ายของ ตรงเวลา )')
    expect(paper).to.include('ได้ส่งคืนพัสดุแล้ว เมื่อวันที่ สภาพ (ลงชื่อ) ผู้ส่งคืน ( )')

    t.ctx.clock.set('2025-01-17T09:00:00.000Z')
    await receiveReturn(t.ctx, issuer, loan.loan.id, {
      items: [
        { assetCode: 'AMP-1', condition: 'good', returnedBy: 'นายสมหมาย ส่งของ' },
        { assetCode: 'MIC-1', condition: 'damaged', note: 'สายขาด', returnedBy: 'นายสมหมาย ส่งของ' },
      ],
    })
    agent = (await staffMemberAgent(user)).agent // two days on, the session has timed out
    paper = paperOf((await agent.get(url).expect(200)).text)
    expect(paper).to.include('๒ ไมโครโฟนไร้สาย ๑ MIC-1 ชำรุด สายขาด')
    expect(paper).to.include(
      'ได้ส่งคืนพัสดุแล้ว เมื่อวันที่ ๑๗ ม.ค. ๒๕๖๘ สภาพ ดี ๑ รายการ ชำรุด ๑ รายการ (ลงชื่อ) ผู้ส่งคืน ( นายสมหมาย ส่งของ ) (ลงชื่อ) ผู้รับคืน ( นางสาวจ่ายของ ตรงเวลา )',
    )
  })

  it('when the agency turns Thai digits off, then the number, dates and counts print in Arabic digits; and the undertaking follows its setting', async () => {
    const { user, agent } = await staffMember()
    await makeAsset(t.ctx, { code: 'TENT-๖๖/1' })
    const loan = await createLoan(t.ctx, user, request(['TENT-๖๖/1']))
    const url = `/loans/${loan.loan.id}/slip`
    await updateSettings(t.ctx, SYSTEM, { thaiDigits: false, followUpDays: 10, undertakingText: 'ข้าพเจ้ารับรองว่าจะดูแลพัสดุ 2 ชิ้นนี้อย่างดี' })
    let paper = paperOf((await agent.get(url).expect(200)).text)
    expect(paper).to.include('เลขที่ 1/2568')
    expect(paper).to.include('วันที่ 15 มกราคม 2568')
    expect(paper).to.include('ตั้งแต่วันที่ 15 มกราคม 2568 ถึงวันที่ 17 มกราคม 2568 รวม 3 วัน')
    expect(paper).to.include('1 เครื่องขยายเสียง')
    expect(paper).to.include('TENT-๖๖/1') // a code prints as stored, whatever the setting
    expect(paper).to.include('ข้าพเจ้ารับรองว่าจะดูแลพัสดุ 2 ชิ้นนี้อย่างดี และจะส่งคืนพัสดุในวันที่ 17 มกราคม 2568')
    expect(paper).to.not.include('ข้าพเจ้าจะส่งคืนในสภาพที่ใช้การได้เรียบร้อย')
    expect(paper).to.include('ภายใน 10 วันนับแต่วันครบกำหนด (ข้อ 211)')
    expect(paper.replace('TENT-๖๖/1', '')).to.not.match(/[๐-๙]/)

    await updateSettings(t.ctx, SYSTEM, { thaiDigits: true })
    paper = paperOf((await agent.get(url).expect(200)).text)
    expect(paper).to.include('เลขที่ ๑/๒๕๖๘')
    expect(paper).to.include('ข้าพเจ้ารับรองว่าจะดูแลพัสดุ ๒ ชิ้นนี้อย่างดี')
    expect(paper).to.include('ภายใน ๑๐ วันนับแต่วันครบกำหนด (ข้อ ๒๑๑)')
  })

  it("when finance enters a community group's loan, then the slip shows the organisation, the address with หมู่ที่ and the personal-data notice, and no head-of-unit block", async () => {
    const { agent: financeAgent, user: finance } = await signedInAs(t, ['finance'])
    await makeAsset(t.ctx, { code: 'TENT-1', name: 'เต็นท์ผ้าใบ' })
    const loan = await createLoan(t.ctx, finance, {
      ...request(['TENT-1']),
      externalBorrower: {
        type: 'public',
        name: 'นางบุญมี ศรัทธา',
        organisation: 'กลุ่มแม่บ้านบ้านหนองบัว',
        phone: '081 234 5678',
        address: '45 ถนนสายกลาง',
        villageNo: '3',
      },
    })
    const page = await financeAgent.get(`/loans/${loan.loan.id}/slip`).expect(200)
    const paper = paperOf(page.text)
    expect(paper).to.include('ข้าพเจ้า นางบุญมี ศรัทธา ในนามของ กลุ่มแม่บ้านบ้านหนองบัว ที่อยู่ ๔๕ ถนนสายกลาง หมู่ที่ ๓ โทรศัพท์ ๐๘๑ ๒๓๔ ๕๖๗๘')
    expect(paper).to.include('ข้อมูลส่วนบุคคลในใบยืมนี้ องค์การบริหารส่วนตำบลหนองบัวใหญ่ เก็บและใช้เพื่อการยืม-คืนและการติดตามทวงคืนพัสดุเท่านั้น')
    expect(paper).to.include('(ลงชื่อ) ผู้ยืม ( นางบุญมี ศรัทธา ) กลุ่มแม่บ้านบ้านหนองบัว วันที่')
    expect(paper).to.not.include('หัวหน้าหน่วยงานผู้ยืม')
    expect(boxes(page.text)).to.include({ ใช้ภายในสถานที่: false, นอกสถานที่: true, ระหว่างหน่วยงาน: false })
  })

  it('when an in-premises loan is printed, then the head of the supplies unit approves and the in-premises box is ticked', async () => {
    const { user, agent } = await staffMember()
    const { checker } = await cast()
    await makeAsset(t.ctx, { code: 'CAM-1' })
    const loan = await createLoan(t.ctx, user, request(['CAM-1'], { kind: 'in_premises' }))
    await approveLoan(t.ctx, checker, loan.loan.id, {})
    const page = await agent.get(`/loans/${loan.loan.id}/slip`).expect(200)
    const paper = paperOf(page.text)
    expect(paper).to.include('เรียน ผู้อำนวยการกองคลัง')
    expect(paper).to.include('ผู้อนุมัติ (หัวหน้าหน่วยพัสดุ)')
    expect(paper).to.include('(ลงชื่อ) ผู้อนุมัติ ( นางวันดี มีทรัพย์ ) ตำแหน่ง ผู้อำนวยการกองคลัง วันที่')
    expect(paper).to.include('อนุมัติในระบบโดย นายตรวจ สอบดี')
    expect(boxes(page.text)).to.deep.equal({ ใช้ภายในสถานที่: true, นอกสถานที่: false, ระหว่างหน่วยงาน: false, อนุมัติ: true, ไม่อนุมัติ: false })
  })

  it('when a paper loan approved by the ปลัด is brought in after the fact, then the slip prints both flags, the ปลัด with the delegation line and the hand-over date', async () => {
    const { agent: financeAgent, user: finance } = await signedInAs(t, ['finance'])
    const { user } = await staffMember()
    await makeAsset(t.ctx, { code: 'PROJ-1' })
    const loan = await createLoan(
      t.ctx,
      finance,
      {
        ...request(['PROJ-1'], { startDate: '2025-01-10', dueDate: '2025-01-20' }),
        borrower: user.username,
        afterTheFact: true,
        paperApproval: { approverName: 'นางสาวมาลี  ศรีสุข', date: '2025-01-09' },
        handedOverOn: '2025-01-10',
      },
      { scan: { kind: 'signed_slip', fileName: 'slip.png', data: TINY_PNG } },
    )
    const paper = paperOf((await financeAgent.get(`/loans/${loan.loan.id}/slip`).expect(200)).text)
    expect(paper).to.include('บันทึกย้อนหลัง')
    expect(paper).to.include('อนุมัติในเอกสาร')
    expect(paper).to.include('( นางสาวมาลี ศรีสุข ) ตำแหน่ง ปลัดองค์การบริหารส่วนตำบลหนองบัวใหญ่ ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบลหนองบัวใหญ่')
    expect(paper).to.include('อนุมัติในเอกสาร ลงวันที่ ๙ ม.ค. ๒๕๖๘')
    expect(paper).to.include('ได้รับพัสดุตามรายการข้างต้นแล้ว เมื่อวันที่ ๑๐ ม.ค. ๒๕๖๘')
  })

  it('when a pending loan is printed for the ปลัด to sign (?signer=chief), then the ปลัด and the delegation line print; the settings may also name only the ปลัด', async () => {
    const { user, agent } = await staffMember()
    await makeAsset(t.ctx, { code: 'FAN-1' })
    const loan = await createLoan(t.ctx, user, request(['FAN-1']))
    let paper = paperOf((await agent.get(`/loans/${loan.loan.id}/slip?signer=chief`).expect(200)).text)
    expect(paper).to.include('( นางสาวมาลี ศรีสุข ) ตำแหน่ง ปลัดองค์การบริหารส่วนตำบลหนองบัวใหญ่ ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบลหนองบัวใหญ่')
    await updateSettings(t.ctx, SYSTEM, { mayor: { name: '', position: 'นายกองค์การบริหารส่วนตำบลหนองบัวใหญ่' } })
    paper = paperOf((await agent.get(`/loans/${loan.loan.id}/slip`).expect(200)).text)
    expect(paper).to.include('ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบลหนองบัวใหญ่')
    paper = paperOf((await agent.get(`/loans/${loan.loan.id}/slip?signer=mayor`).expect(200)).text)
    expect(paper).to.not.include('ปฏิบัติราชการแทน')
  })

  it('when someone opens a slip, then staff see only their own (404 otherwise), anonymous people go to sign-in, and the other roles see every slip', async () => {
    const { user, agent } = await staffMember()
    await makeAsset(t.ctx, { code: 'DESK-1' })
    const loan = await createLoan(t.ctx, user, request(['DESK-1']))
    const url = `/loans/${loan.loan.id}/slip`
    const { agent: other } = await signedInAs(t, ['staff'])
    const notFound = await other.get(url).expect(404)
    expect(notFound.text).to.not.include('DESK-1')
    await other.get('/loans/999999/slip').expect(404)
    await agent.get('/loans/abc/slip').expect(404)
    const anonymous = await supertest(t.app).get(url).expect(303)
    expect(anonymous.headers.location).to.equal(`/login?next=${encodeURIComponent(url)}`)
    for (const role of ['finance', 'executive', 'committee', 'admin'] as Role[]) {
      const { agent: a } = await signedInAs(t, [role])
      expect(paperOf((await a.get(url).expect(200)).text), role).to.include('DESK-1')
    }
  })

  it('when the page is opened, then it is its own A4 layout: the print stylesheet and script, a print button, no app navigation and no inline script', async () => {
    const { user, agent } = await staffMember()
    await makeAsset(t.ctx, { code: 'DESK-2' })
    const loan = await createLoan(t.ctx, user, request(['DESK-2']))
    const res = await agent.get(`/loans/${loan.loan.id}/slip`).expect(200)
    expect(res.text).to.include('<link rel="stylesheet" href="/css/print-docs.css">')
    expect(res.text).to.include('<script src="/js/print.js" defer></script>')
    expect(res.text).to.include('id="print-button"')
    expect(res.text).to.not.include('/css/app.css')
    expect(res.text).to.not.include('class="topbar"')
    expect(res.text).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/)
    expect(res.text).to.not.match(/\son[a-z]+=/)
    const css = await agent.get('/css/print-docs.css').expect(200)
    expect(css.text).to.match(/@page[^{]*\{[^}]*size: A4/)
    expect(css.text).to.match(/font-family: ["']Sarabun Doc["']/)
    expect(css.text).to.include('break-inside: avoid')
    await agent.get('/js/print.js').expect(200)
  })

  describe('follow-up letters', () => {
    it('when a staff borrower is late, then finance prints an internal memo citing the slip, the items, the due date and ข้อ 211, signed by the ผอ.กองคลัง', async () => {
      const { user } = await staffMember()
      const { checker, issuer, chief } = await cast()
      const financeUser = await makeUser(t.ctx, ['finance'])
      await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียง' })
      await makeAsset(t.ctx, { code: 'MIC-9', name: 'ไมโครโฟนไร้สาย' })
      const loan = await createLoan(t.ctx, user, request(['AMP-9', 'MIC-9']))
      await approveLoan(t.ctx, checker, loan.loan.id, {})
      await approveLoan(t.ctx, chief, loan.loan.id, {})
      await handOver(t.ctx, issuer, loan.loan.id)
      t.ctx.clock.set('2025-01-20T03:00:00.000Z')
      await receiveReturn(t.ctx, issuer, loan.loan.id, { items: [{ assetCode: 'AMP-9', condition: 'good' }] })
      const finance = await signIn(t.app, financeUser.username, financeUser.password)
      const url = `/loans/${loan.loan.id}/follow-up-letter`

      let page = await finance.get(`${url}?number=${encodeURIComponent('นม 81201/45')}&date=2025-01-21`).expect(200)
      let paper = paperOf(page.text)
      expect(paper).to.include('บันทึกข้อความ')
      // The ครุฑ's place is kept and marked until the official emblem is supplied (no imitation drawn).
      expect(page.text).to.include('data-garuda="missing"')
      expect(paper).to.include('ส่วนราชการ กองคลัง องค์การบริหารส่วนตำบลหนองบัวใหญ่ โทร. ๐ ๔๔๒๑ ๓๔๕๖')
      expect(paper).to.include('ที่ นม ๘๑๒๐๑/๔๕')
      expect(paper).to.include('วันที่ ๒๑ มกราคม ๒๕๖๘')
      expect(paper).to.include('เรื่อง ขอให้ส่งคืนพัสดุที่ยืม')
      expect(paper).to.include('เรียน นายสมชาย ขยันยิ่ง')
      expect(paper).to.include('ตามใบยืมพัสดุเลขที่ ๑/๒๕๖๘ ลงวันที่ ๑๕ มกราคม ๒๕๖๘ เพื่องานบุญประจำปีหมู่ ๓ โดยมีกำหนดส่งคืนภายในวันที่ ๑๗ มกราคม ๒๕๖๘')
      expect(paper).to.include('ยังไม่ได้รับพัสดุคืน จำนวน ๑ รายการ')
      expect(paper).to.include('๑. ไมโครโฟนไร้สาย หมายเลขครุภัณฑ์ MIC-9')
      expect(paper).to.not.include('AMP-9') // already back
      expect(paper).to.include('ข้อ ๒๑๑')
      expect(paper).to.include('( นางวันดี มีทรัพย์ ) ผู้อำนวยการกองคลัง')
      expect(paper).to.not.include('ขอแสดงความนับถือ')

      // Without a typed number: the latest follow-up by letter gives it.
      await addFollowUp(t.ctx, financeUser, loan.loan.id, { method: 'letter', letterNumber: 'นม 81201/50', letterDate: '2025-01-20' })
      page = await finance.get(url).expect(200)
      paper = paperOf(page.text)
      expect(paper).to.include('ที่ นม ๘๑๒๐๑/๕๐')
      expect(paper).to.include('วันที่ ๒๐ มกราคม ๒๕๖๘')
      expect(textOf(page.text)).to.include('เลขที่และวันที่ของหนังสือมาจากการติดตามครั้งล่าสุด')

      await updateSettings(t.ctx, SYSTEM, { thaiDigits: false })
      paper = paperOf((await finance.get(url).expect(200)).text)
      expect(paper).to.include('ที่ นม 81201/50')
      expect(paper).to.include('เลขที่ 1/2568')
    })

    it('when a community borrower is late, then the letter is an external one signed by the นายก, or by the ปลัด with the delegation line', async () => {
      const financeUser = await makeUser(t.ctx, ['finance'])
      const { issuer } = await cast()
      await makeAsset(t.ctx, { code: 'TENT-2', name: 'เต็นท์ผ้าใบ' })
      const loan = await createLoan(t.ctx, financeUser, {
        ...request(['TENT-2']),
        externalBorrower: { type: 'public', name: 'นางบุญมี ศรัทธา', organisation: 'กลุ่มแม่บ้านบ้านหนองบัว', address: '45', villageNo: '3' },
      })
      const exec = await makeUser(t.ctx, ['executive'], { name: 'นายสมศักดิ์ ใจดี' })
      await approveLoan(t.ctx, issuer, loan.loan.id, {})
      await approveLoan(t.ctx, exec, loan.loan.id, {})
      await handOver(t.ctx, issuer, loan.loan.id)
      t.ctx.clock.set('2025-01-25T03:00:00.000Z')
      const finance = await signIn(t.app, financeUser.username, financeUser.password)
      const url = `/loans/${loan.loan.id}/follow-up-letter`
      let paper = paperOf((await finance.get(`${url}?number=${encodeURIComponent('นม 81201/60')}`).expect(200)).text)
      expect(paper).to.not.include('บันทึกข้อความ')
      expect(paper).to.include('ที่ นม ๘๑๒๐๑/๖๐')
      expect(paper).to.include('องค์การบริหารส่วนตำบลหนองบัวใหญ่ ๙๙ หมู่ที่ ๑ ตำบลหนองบัวใหญ่ จังหวัดนครราชสีมา ๒๕ มกราคม ๒๕๖๘')
      expect(paper).to.include('เรื่อง ขอให้ส่งคืนพัสดุที่ยืม')
      expect(paper).to.include('เรียน นางบุญมี ศรัทธา กลุ่มแม่บ้านบ้านหนองบัว')
      expect(paper).to.include('สิ่งที่ส่งมาด้วย สำเนาใบยืมพัสดุ เลขที่ ๑/๒๕๖๘ จำนวน ๑ ฉบับ')
      expect(paper).to.include('ตามที่ท่านได้ยืมพัสดุขององค์การบริหารส่วนตำบลหนองบัวใหญ่ ตามใบยืมพัสดุเลขที่ ๑/๒๕๖๘')
      expect(paper).to.include('๑. เต็นท์ผ้าใบ หมายเลขครุภัณฑ์ TENT-2')
      expect(paper).to.include('ขอแสดงความนับถือ ( นายสมศักดิ์ ใจดี ) นายกองค์การบริหารส่วนตำบลหนองบัวใหญ่ กองคลัง (งานพัสดุ) โทร. ๐ ๔๔๒๑ ๓๔๕๖')
      expect(paper).to.not.include('อ้างถึง')

      paper = paperOf((await finance.get(`${url}?signer=chief`).expect(200)).text)
      expect(paper).to.include('ขอแสดงความนับถือ ( นางสาวมาลี ศรีสุข ) ปลัดองค์การบริหารส่วนตำบลหนองบัวใหญ่ ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบลหนองบัวใหญ่')
    })

    it("when another agency is late, then the external letter refers to that agency's own letter", async () => {
      const { agent: finance, user: financeUser } = await signedInAs(t, ['finance'])
      await makeAsset(t.ctx, { code: 'CHAIR-1', name: 'เก้าอี้พลาสติก' })
      const loan = await createLoan(t.ctx, financeUser, {
        ...request(['CHAIR-1'], { kind: 'inter_agency' }),
        externalBorrower: {
          type: 'agency',
          name: 'ผู้อำนวยการโรงเรียนบ้านหนองบัว',
          organisation: 'โรงเรียนบ้านหนองบัว',
          letterNumber: 'ศธ 04123/045',
          letterDate: '2025-01-10',
        },
      })
      const page = await finance.get(`/loans/${loan.loan.id}/follow-up-letter`).expect(200)
      const paper = paperOf(page.text)
      expect(paper).to.include('เรียน ผู้อำนวยการโรงเรียนบ้านหนองบัว')
      expect(paper).to.include('อ้างถึง หนังสือโรงเรียนบ้านหนองบัว ที่ ศธ ๐๔๑๒๓/๐๔๕ ลงวันที่ ๑๐ มกราคม ๒๕๖๘')
      expect(paper).to.include('ตามหนังสือที่อ้างถึง โรงเรียนบ้านหนองบัว ได้ขอยืมพัสดุขององค์การบริหารส่วนตำบลหนองบัวใหญ่')
      expect(paper).to.include('ขอแสดงความนับถือ')
      // the loan is not out yet: the screen warns, the paper stays clean
      expect(textOf(page.text)).to.include('ใบยืมนี้ไม่ได้อยู่ระหว่างการยืม')
      // the slip of an inter-agency loan names their letter too, and ticks the box
      const slip = await finance.get(`/loans/${loan.loan.id}/slip`).expect(200)
      expect(paperOf(slip.text)).to.include('ตามหนังสือโรงเรียนบ้านหนองบัว ที่ ศธ ๐๔๑๒๓/๐๔๕ ลงวันที่ ๑๐ มกราคม ๒๕๖๘')
      expect(boxes(slip.text)).to.include({ ระหว่างหน่วยงาน: true, นอกสถานที่: false })
    })

    it('when anyone but finance asks for a letter, then it is refused (403), even the borrower; a bad date is ignored with a note', async () => {
      const { user, agent } = await staffMember()
      await makeAsset(t.ctx, { code: 'LAMP-1' })
      const loan = await createLoan(t.ctx, user, request(['LAMP-1']))
      const url = `/loans/${loan.loan.id}/follow-up-letter`
      await agent.get(url).expect(403)
      for (const role of ['executive', 'committee', 'admin'] as Role[]) {
        const { agent: a } = await signedInAs(t, [role])
        await a.get(url).expect(403)
      }
      await supertest(t.app).get(url).expect(303)
      const { agent: finance } = await signedInAs(t, ['finance'])
      await finance.get('/loans/424242/follow-up-letter').expect(404)
      const page = await finance.get(`${url}?date=31/02/2568`).expect(200)
      expect(textOf(page.text)).to.include('วันที่ของหนังสือไม่ถูกต้อง')
      expect(paperOf(page.text)).to.include('วันที่ ๑๕ มกราคม ๒๕๖๘') // today
    })
  })
})
