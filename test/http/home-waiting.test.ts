import { expect } from 'chai'
import { createTestApp, csrfFrom, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { approveLoan, createLoan } from '../../server/services/loan.service.js'
import { reviewReport, submitReport } from '../../server/services/publication.service.js'
import { updateSettings } from '../../server/services/settings.service.js'

function section(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`)
  if (start < 0) return ''
  return html.slice(start, html.indexOf('</section>', start))
}

/** Each summary card's number against its list's own count and lines on the same page. */
function cardsAgainstLists(html: string): Array<{ list: string; card: number; count: number; rows: number }> {
  const out: Array<{ list: string; card: number; count: number; rows: number }> = []
  for (const m of html.matchAll(/data-card-for="([^"]+)"><a [^>]*><span class="n">([\d,]+)<\/span>/g)) {
    const list = m[1]!
    const body = section(html, list === 'my-loans' || list === 'reports' ? (list === 'reports' ? 'dash-reports' : 'my-loans') : `dash-${list}`)
    const count = body ? Number(/data-count="(\d+)"/.exec(body)![1]) : 0
    const rows = (body.match(/<tr class="[^"]*">|<li data-row>/g) ?? []).length
    out.push({ list, card: Number(m[2]!.replace(/,/g, '')), count, rows })
  }
  return out
}

describe('what waits for me (issue 17) and the first run (issue 16) on the home page', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp() // 15 Jan 2025 in Bangkok: FY 2567 has ended
  })
  afterEach(() => t.close())

  const base = { purpose: 'ประชุมประชาคม', place: 'ศาลาประชาคม', startDate: '2025-01-15', dueDate: '2025-01-17' }

  it('when finance submits a report, then the committee’s home leads with it and links to it; reviewed, the executive’s; /reports opens on it', async () => {
    const finance = await signedInAs(t, ['finance'])
    const committee = await signedInAs(t, ['committee'])
    const exec = await signedInAs(t, ['executive'])
    expect((await committee.agent.get('/')).text).to.not.include('id="dash-reports"')
    await submitReport(t.ctx, finance.user, 2567, 'year', {})
    const home = await committee.agent.get('/').expect(200)
    const list = section(home.text, 'dash-reports')
    expect(list).to.include('href="/reports?fy=2567&period=year#publication"').and.include('รอท่านทบทวน')
    expect(home.text).to.match(/data-card-for="reports"><a href="#dash-reports"><span class="n">1<\/span>/)
    expect((await exec.agent.get('/')).text).to.not.include('id="dash-reports"') // not the executive's step yet
    const reports = await committee.agent.get('/reports').expect(200)
    expect(reports.text)
      .to.include('name="fy"')
      .and.match(/<option value="2567" selected>/)

    await reviewReport(t.ctx, committee.user, 2567, 'year', {})
    expect(section((await committee.agent.get('/')).text, 'dash-reports')).to.equal('')
    const e = await exec.agent.get('/').expect(200)
    expect(section(e.text, 'dash-reports')).to.include('href="/reports?fy=2567&period=year#publication"').and.include('รอท่านอนุมัติเผยแพร่')
  })

  it('when a borrower has loans ready to collect and due soon, then their home lists them with asset names, each count equal to its list', async () => {
    const staff = await signedInAs(t, ['staff'])
    const finance = await signedInAs(t, ['finance'])
    await makeAsset(t.ctx, { code: '416-57-0001', name: 'เครื่องขยายเสียงพกพา' })
    await makeAsset(t.ctx, { code: '417-57-0003', name: 'เต็นท์ผ้าใบ 4x8 เมตร' })
    await makeAsset(t.ctx, { code: '417-57-0004', name: 'โต๊ะพับอเนกประสงค์' })
    const ready = await createLoan(t.ctx, staff.user, { ...base, assetCodes: ['416-57-0001', '417-57-0003'], kind: 'in_premises' })
    await approveLoan(t.ctx, finance.user, ready.loan.id, {})
    // Approved but starting next month: not yet to collect, so neither counted nor listed as ready.
    const later = await createLoan(t.ctx, staff.user, {
      ...base,
      assetCodes: ['417-57-0004'],
      kind: 'in_premises',
      startDate: '2025-02-10',
      dueDate: '2025-02-11',
    })
    await approveLoan(t.ctx, finance.user, later.loan.id, {})
    const home = await staff.agent.get('/').expect(200)
    const collect = section(home.text, 'dash-myToCollect')
    expect(collect).to.include(`href="/loans/${ready.loan.id}"`).and.not.include(`href="/loans/${later.loan.id}"`)
    expect(collect).to.include('เครื่องขยายเสียงพกพา, เต็นท์ผ้าใบ 4x8 เมตร').and.not.include('>416-57-0001')
    for (const c of cardsAgainstLists(home.text)) {
      expect(c.card, c.list).to.equal(c.count)
      expect(c.rows, c.list).to.equal(Math.min(c.count, c.list === 'my-loans' ? 20 : 5))
    }
  })

  it('when the admin opens a new installation, then the checklist ticks each item from the data until done, and the header names the agency once set', async () => {
    await t.close()
    t = await createTestApp({ env: { PUBLIC_BASE_URL: 'http://localhost:3000' } })
    const admin = await signedInAs(t, ['admin'])
    const ticks = async () => {
      const html = (await admin.agent.get('/').expect(200)).text
      return { html, done: Object.fromEntries([...html.matchAll(/data-setup="(\w+)" data-done="([01])"/g)].map((m) => [m[1]!, m[2] === '1'])) }
    }
    let s = await ticks()
    expect(s.done).to.deep.equal({
      agency: false,
      signatories: false,
      departments: true, // seeded
      users: false,
      categories: true, // seeded
      import: false,
      labels: false,
      publicUrl: false, // http://localhost:…
    })
    expect(s.html).to.include('เสร็จแล้ว 2 จาก 8 ข้อ')
    expect(s.html).to.match(/<span class="brand-text"><strong>ยืม-คืน<\/strong><\/span>/) // no bare «องค์การบริหารส่วนตำบล»

    await updateSettings(
      t.ctx,
      { id: null, label: 'test' },
      {
        agencyName: 'องค์การบริหารส่วนตำบลหนองบัว',
        agencyAddress: 'หมู่ที่ ๑ ตำบลหนองบัว',
        mayor: { name: 'นายนายก ใจกว้าง', position: 'นายกองค์การบริหารส่วนตำบลหนองบัว' },
        chiefAdministrator: { name: 'นายปลัด ขยัน', position: 'ปลัดองค์การบริหารส่วนตำบลหนองบัว' },
        financeDirector: { name: 'นางการเงิน รอบคอบ', position: 'ผู้อำนวยการกองคลัง' },
        suppliesOfficer: { name: 'นางพัสดุ ใจดี', position: 'เจ้าพนักงานพัสดุ' },
      },
    )
    const finance = await signedInAs(t, ['finance'])
    await signedInAs(t, ['executive'])
    await makeAsset(t.ctx, { code: 'S-1', name: 'เก้าอี้' })
    s = await ticks()
    expect(s.done).to.include({ agency: true, signatories: true, users: true, import: true, labels: false })
    expect(s.html).to.include('<small>องค์การบริหารส่วนตำบลหนองบัว</small>')

    // The label sheet's print button records the printing; the checklist reads it from the audit log.
    const sheet = await finance.agent.get('/labels/sheet?ids=1').expect(200)
    await finance.agent
      .post('/labels/printed')
      .type('form')
      .send({ _csrf: csrfFrom(sheet.text), count: '1', layout: '3x8' })
      .expect(204)
    expect((await ticks()).done).to.include({ labels: true, publicUrl: false })
    expect((await ticks()).html).to.include('id="setup"')

    // With a real PUBLIC_BASE_URL as well, every item is done and the checklist goes away.
    const t2 = await createTestApp({ env: { PUBLIC_BASE_URL: 'https://yuem.nongbua.go.th' } })
    try {
      const admin2 = await signedInAs(t2, ['admin'])
      const html = (await admin2.agent.get('/')).text
      expect(html).to.match(/data-setup="publicUrl" data-done="1"/)
    } finally {
      await t2.close()
    }
  })

  it('when every item is done, then the admin’s home shows no checklist', async () => {
    const t3 = await createTestApp({ env: { PUBLIC_BASE_URL: 'https://yuem.nongbua.go.th' } })
    try {
      await updateSettings(
        t3.ctx,
        { id: null, label: 'test' },
        {
          agencyName: 'องค์การบริหารส่วนตำบลหนองบัว',
          agencyAddress: 'หมู่ที่ ๑',
          mayor: { name: 'ก', position: 'นายก' },
          chiefAdministrator: { name: 'ข', position: 'ปลัด' },
          financeDirector: { name: 'ค', position: 'ผอ.กองคลัง' },
          suppliesOfficer: { name: 'ง', position: 'เจ้าพนักงานพัสดุ' },
        },
      )
      const admin = await signedInAs(t3, ['admin'])
      const finance = await signedInAs(t3, ['finance'])
      await signedInAs(t3, ['executive'])
      await makeAsset(t3.ctx, { code: 'S-1' })
      expect((await admin.agent.get('/')).text).to.include('id="setup"')
      const sheet = await finance.agent.get('/labels/sheet?ids=1')
      await finance.agent
        .post('/labels/printed')
        .type('form')
        .send({ _csrf: csrfFrom(sheet.text), count: '1', layout: '3x8' })
        .expect(204)
      expect((await admin.agent.get('/')).text).to.not.include('id="setup"')
    } finally {
      await t3.close()
    }
  })
})
