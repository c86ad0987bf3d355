import { expect } from 'chai'
import { createTestApp, csrfFrom, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { approveLoan, createLoan, handOver, requestExtension } from '../../server/services/loan.service.js'
import { TINY_PNG, withApprovers } from '../helpers/approvers.js'

/** The number on the navigation's loans link, or null when it shows none. */
function navBadge(html: string, href = '/loans'): number | null {
  const m = new RegExp(`<a href="${href}"[^>]*>[^<]*(?:<span class="badge">(\\d+)</span>)?</a>`).exec(html)
  if (!m) throw new Error(`no nav link ${href}`)
  return m[1] === undefined ? null : Number(m[1])
}

/** The dashboard's summary cards: label → number. */
function stats(html: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const m of html.matchAll(/<span class="n">([\d,]+)<\/span><span>([^<]+)<\/span>/g)) out[m[2]!] = Number(m[1]!.replace(/,/g, ''))
  return out
}

function section(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`)
  if (start < 0) return ''
  return html.slice(start, html.indexOf('</section>', start))
}

describe('dashboards per role and the navigation badge', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp() // 15 Jan 2025 in Bangkok
  })
  afterEach(() => t.close())

  const base = { purpose: 'ใช้ในการประชุมประชาคมหมู่บ้าน', place: 'ศาลาประชาคมหมู่ 2', startDate: '2025-01-15', dueDate: '2025-01-17' }

  /**
   * One borrower with a loan in every state a dashboard counts:
   * L1 off-premises pending (to check), L2 in-premises pending (to approve), L3 off-premises checked
   * (waiting for the executive), L4 in-premises approved by finance 1 starting today (to hand over),
   * L5 on loan due tomorrow with an extension asked, L6 a paper loan long overdue with no follow-up.
   */
  async function world() {
    const staff = await signedInAs(t, ['staff'], { name: 'นางสาวผู้ยืม ประจำ' })
    const finance1 = await signedInAs(t, ['finance'])
    const finance2 = await signedInAs(t, ['finance'])
    const exec = await signedInAs(t, ['executive'])
    const committee = await signedInAs(t, ['committee'])
    // The ผอ.กองคลัง signs on paper only (no account): L6's paper approval comes with the slip's scan.
    await withApprovers(t.ctx, { financeDirector: 'นางผู้อำนวยการ กองคลัง' })
    for (const c of ['D-1', 'D-2', 'D-3', 'D-4', 'D-5', 'D-6']) await makeAsset(t.ctx, { code: c })
    const s = staff.user
    const l1 = await createLoan(t.ctx, s, { ...base, assetCodes: ['D-1'], kind: 'off_premises' })
    const l2 = await createLoan(t.ctx, s, { ...base, assetCodes: ['D-2'], kind: 'in_premises' })
    const l3 = await createLoan(t.ctx, s, { ...base, assetCodes: ['D-3'], kind: 'off_premises' })
    await approveLoan(t.ctx, finance1.user, l3.loan.id, {})
    const l4 = await createLoan(t.ctx, s, { ...base, assetCodes: ['D-4'], kind: 'in_premises' })
    await approveLoan(t.ctx, finance1.user, l4.loan.id, {})
    const l5 = await createLoan(t.ctx, s, { ...base, assetCodes: ['D-5'], kind: 'in_premises', dueDate: '2025-01-16' })
    await approveLoan(t.ctx, finance2.user, l5.loan.id, {})
    await handOver(t.ctx, finance1.user, l5.loan.id)
    await requestExtension(t.ctx, s, l5.loan.id, { dueDate: '2025-01-18', reason: 'ประชุมต่อเนื่อง' })
    const l6 = await createLoan(
      t.ctx,
      finance2.user,
      {
        ...base,
        assetCodes: ['D-6'],
        kind: 'in_premises',
        borrower: s.username,
        startDate: '2025-01-01',
        dueDate: '2025-01-05',
        afterTheFact: true,
        paperApproval: { approverName: 'นางผู้อำนวยการ กองคลัง', date: '2025-01-01' },
        handedOverOn: '2025-01-01',
      },
      { scan: { kind: 'signed_slip', fileName: 'slip.png', data: TINY_PNG } },
    )
    return { staff, finance1, finance2, exec, committee, l1, l2, l3, l4, l5, l6 }
  }

  it('when each role opens the dashboard, then it shows their own counts and lists, and the navigation badge counts what awaits them', async () => {
    const w = await world()

    // Staff: all six are theirs; one to collect, one overdue (red), one due soon (highlighted).
    const staffHome = await w.staff.agent.get('/').expect(200)
    expect(stats(staffHome.text)).to.deep.include({ ใบยืมของฉันที่ยังไม่ปิด: 6, 'อนุมัติแล้ว รอรับของ': 1, ของฉันที่เกินกำหนดคืน: 1, 'ของฉันที่ครบกำหนดใน ๓ วัน': 1 })
    const my = section(staffHome.text, 'my-loans')
    expect(my).to.include('การยืมของฉัน')
    for (const l of [w.l1, w.l2, w.l3, w.l4, w.l5, w.l6]) expect(my).to.include(`href="/loans/${l.loan.id}"`)
    expect(my).to.match(new RegExp(`<tr class="row-overdue">\\s*<td[^>]*><div class="cell"><a href="/loans/${w.l6.loan.id}"`))
    expect(my).to.match(new RegExp(`<tr class="row-due-soon">\\s*<td[^>]*><div class="cell"><a href="/loans/${w.l5.loan.id}"`))
    expect(my).to.include('เกินกำหนด 10 วัน')
    expect(navBadge(staffHome.text)).to.equal(2) // collect L4, return L6
    expect(staffHome.text).to.not.include('href="/loans/queue"').and.not.include('รอการดำเนินการของฉัน')

    // Finance 1 approved L4, so it may not hand it over: not counted for them.
    const f1 = await w.finance1.agent.get('/').expect(200)
    expect(stats(f1.text)).to.deep.include({
      รอตรวจสอบ: 1,
      'รออนุมัติ (ในสถานที่)': 1,
      รอส่งมอบวันนี้: 0,
      ขอขยายเวลา: 1,
      เกินกำหนดคืน: 1,
      เลยกำหนดติดตาม: 1,
      'ครบกำหนดใน ๓ วัน': 1,
    })
    expect(navBadge(f1.text)).to.equal(4) // check L1, approve L2, follow up L6, extension of L5
    expect(navBadge(f1.text, '/loans/queue')).to.equal(null)
    expect(section(f1.text, 'dash-toCheck')).to.include(`href="/loans/${w.l1.loan.id}"`)
    expect(section(f1.text, 'dash-toApprove')).to.include(`href="/loans/${w.l2.loan.id}"`)
    expect(section(f1.text, 'dash-extensions')).to.include(`href="/loans/${w.l5.loan.id}"`)
    expect(section(f1.text, 'dash-overdue')).to.include(`href="/loans/${w.l6.loan.id}"`).and.include('เลยกำหนดติดตามทวงคืน (ข้อ 211) โดยยังไม่ได้ติดตาม 1 รายการ')
    expect(section(f1.text, 'dash-dueSoon')).to.include(`href="/loans/${w.l5.loan.id}"`)
    // Issue 17: finance 1 approved L4, so it is neither counted nor listed as theirs; the count says why beside it.
    const handOver1 = section(f1.text, 'dash-toHandOver')
    expect(handOver1).to.not.include(`href="/loans/${w.l4.loan.id}"`)
    expect(handOver1).to.include('data-left-out="1"').and.include('1 ที่ท่านอนุมัติเองหรือเป็นผู้ยืม ส่งมอบไม่ได้')

    // Finance 2 may hand L4 over.
    const f2 = await w.finance2.agent.get('/').expect(200)
    expect(stats(f2.text)).to.deep.include({ รอส่งมอบวันนี้: 1 })
    expect(section(f2.text, 'dash-toHandOver')).to.include(`href="/loans/${w.l4.loan.id}"`).and.not.include('data-left-out')
    expect(navBadge(f2.text)).to.equal(5)

    // The executive: L3 waits for them; the extension of an in-premises loan is finance's.
    const e = await w.exec.agent.get('/').expect(200)
    expect(stats(e.text)).to.deep.include({ รอผู้บริหารอนุมัติ: 1, ขอขยายเวลา: 0, เกินกำหนดคืน: 1, เลยกำหนดติดตาม: 1 })
    expect(section(e.text, 'dash-awaitingExecutive')).to.include(`href="/loans/${w.l3.loan.id}"`).and.not.include(`href="/loans/${w.l1.loan.id}"`)
    expect(navBadge(e.text)).to.equal(1)
    expect(e.text).to.include('href="/loans/queue"')

    // The committee reads; nothing waits for it.
    const c = await w.committee.agent.get('/').expect(200)
    expect(navBadge(c.text)).to.equal(null)
    expect(c.text).to.not.include('href="/loans/queue"')

    // The badge is on every page, not only the dashboard.
    expect(navBadge((await w.finance2.agent.get('/assets')).text)).to.equal(5)
  })

  it('when work is done through the pages, then the counts and badges follow', async () => {
    const w = await world()
    // Finance 2 hands L4 over by scanning it.
    const screen = await w.finance2.agent.get(`/loans/${w.l4.loan.id}/handover`).expect(200)
    await w.finance2.agent
      .post(`/loans/${w.l4.loan.id}/handover`)
      .type('form')
      .send({ _csrf: csrfFrom(screen.text), op: 'handover', confirmedCodes: 'D-4' })
      .expect(303)
    // Finance 1 follows L6 up and checks L1.
    const page = await w.finance1.agent.get(`/loans/${w.l6.loan.id}`)
    await w.finance1.agent
      .post(`/loans/${w.l6.loan.id}/follow-ups`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), method: 'phone', note: 'โทรแจ้งผู้ยืม' })
      .expect(303)
    await w.finance1.agent
      .post(`/loans/${w.l1.loan.id}/approve`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text) })
      .expect(303)

    const f2 = await w.finance2.agent.get('/').expect(200)
    expect(stats(f2.text)).to.deep.include({ รอตรวจสอบ: 0, รอส่งมอบวันนี้: 0, เลยกำหนดติดตาม: 0, เกินกำหนดคืน: 1 })
    expect(navBadge(f2.text)).to.equal(2) // approve L2, extension of L5
    const e = await w.exec.agent.get('/').expect(200)
    expect(stats(e.text)).to.deep.include({ รอผู้บริหารอนุมัติ: 2 })
    expect(navBadge(e.text)).to.equal(2)
    const s = await w.staff.agent.get('/').expect(200)
    expect(navBadge(s.text)).to.equal(1) // only L6 to bring back
    expect(stats(s.text)).to.deep.include({ 'อนุมัติแล้ว รอรับของ': 0 }) // the card stays, at 0; its list goes
    expect(s.text).to.not.include('id="dash-myToCollect"')
  })

  it('when the queue page is opened, then finance sees each list with its count and the executive only theirs', async () => {
    const w = await world()
    const q = await w.finance1.agent.get('/loans/queue').expect(200)
    for (const [key, n] of [
      ['toCheck', 1],
      ['toApprove', 1],
      ['awaitingExecutive', 1],
      ['toHandOver', 0], // approved by finance 1 (two-person rule): listed for finance 2, said beside the count here
      ['toReceive', 2],
      ['overdue', 1],
      ['pastDeadline', 1],
      ['dueSoon', 1],
      ['extensions', 1],
    ] as const) {
      expect(q.text, key).to.match(new RegExp(`id="q-${key}">\\s*<h2>[^<]*<span class="count[^"]*">${n}</span>`))
    }
    expect(section(q.text, 'q-toHandOver')).to.include('data-left-out="1"').and.not.include(`href="/loans/${w.l4.loan.id}"`)
    expect(section((await w.finance2.agent.get('/loans/queue')).text, 'q-toHandOver')).to.include(`href="/loans/${w.l4.loan.id}"`)
    const e = await w.exec.agent.get('/loans/queue').expect(200)
    expect(e.text).to.include('id="q-awaitingExecutive"').and.not.include('id="q-toCheck"').and.not.include('id="q-toHandOver"')
    expect(e.text).to.match(/id="q-extensions">\s*<h2>[^<]*<span class="count">0<\/span>/)
  })
})
