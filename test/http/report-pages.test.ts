import { expect } from 'chai'
import ExcelJS from 'exceljs'
import supertest from 'supertest'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'
import { buildReportHistory } from '../helpers/report-history.js'

/*
 * The statistics report pages (SPEC §6) on the known history of test/helpers/report-history.ts
 * (figures hand-counted in test/integration/report.service.test.ts): the screen, the SVG charts,
 * the A4 print and the CSV.
 */
describe('statistics report pages (SPEC §6)', function () {
  this.timeout(30_000)
  let t: TestApp
  let finance: supertest.Agent
  before(async () => {
    t = await createTestApp()
    await buildReportHistory(t.ctx)
    finance = (await signedInAs(t, ['finance'])).agent
  })
  after(() => t.close())

  const card = (html: string, key: string): string => {
    const m = new RegExp(`data-key="${key.replace(/\./g, '\\.')}"[\\s\\S]*?data-value="([^"]*)"`).exec(html)
    return m ? m[1]! : 'missing'
  }

  it('when finance opens FY 2568, then the headline figures are the hand-counted ones', async () => {
    const res = await finance.get('/reports?fy=2568&period=year')
    expect(res.status).to.equal(200)
    expect(card(res.text, 'reportPages.h.requests')).to.equal('10')
    expect(card(res.text, 'reportPages.h.approved')).to.equal('7')
    expect(card(res.text, 'reportPages.h.loans')).to.equal('7')
    expect(card(res.text, 'reportPages.h.items')).to.equal('127')
    expect(card(res.text, 'reportPages.h.averageDays')).to.equal('5.8')
    expect(card(res.text, 'reportPages.h.overdue')).to.equal('2')
    expect(card(res.text, 'reportPages.h.followedUp')).to.equal('1')
    expect(card(res.text, 'reportPages.h.damaged')).to.equal('2')
    expect(card(res.text, 'reportPages.h.lost')).to.equal('2')
    expect(res.text).to.include('66.7%') // on time 4 ÷ 6
    expect(res.text).to.include('หลักเกณฑ์การนับ')
    expect(res.text).to.include('ปีงบประมาณ พ.ศ. 2568')
    // The previous year's requests (3) and the difference (▲ 7).
    // More requests is neither better nor worse (issue 17): the arrow and «เพิ่มขึ้น», no verdict.
    expect(res.text).to.match(/ช่วงเดียวกันปีก่อน: 3\s*<span class="trend neutral" data-verdict="neutral"><span aria-hidden="true">▲<\/span> เพิ่มขึ้น 7<\/span>/)
  })

  it('when the page is shown, then the month chart has one bar per month with the loans of that month', async () => {
    const res = await finance.get('/reports?fy=2568&period=year')
    const svg = /<svg[^>]*id="chart-month"[\s\S]*?<\/svg>/.exec(res.text)![0]
    expect(svg).to.include('<title')
    const values = [...svg.matchAll(/<rect class="bar"[^>]*data-value="(\d+)"/g)].map((m) => Number(m[1]))
    // Oct … Sep: L1 Oct, L2 Nov, L3 Dec, L4 Mar, L5 May, L6 Jun, L11 Sep.
    expect(values).to.deep.equal([1, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1])
    expect(svg).to.include('data-label="ต.ค. 2567"')
    expect(svg).to.include('data-label="ก.ย. 2568"')
    expect(res.text).to.include('id="chart-category"')
    expect(res.text).to.not.match(/<script(?![^>]*src=)/)
  })

  it('when the print view is opened, then A4 with the agency header, the period in Buddhist era and the signatures', async () => {
    const res = await finance.get('/reports/print?fy=2568&period=h1')
    expect(res.status).to.equal(200)
    expect(res.text).to.include('rp-agency')
    expect(res.text).to.include('ครึ่งปีแรก')
    expect(res.text).to.match(/(31 มีนาคม 2568|๓๑ มีนาคม ๒๕๖๘)/)
    expect(res.text).to.include('เจ้าหน้าที่พัสดุ')
    expect(res.text).to.include('ผู้อำนวยการกองคลัง')
    expect(res.text).to.include('<svg')
  })

  it('when the CSV is downloaded, then it has the BOM, Thai headers and the figures', async () => {
    const res = await finance
      .get('/reports.csv?fy=2568&period=year')
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks).toString('utf8')))
      })
    expect(res.status).to.equal(200)
    expect(res.headers['content-type']).to.match(/text\/csv/)
    const text = res.body as string
    expect(text.charCodeAt(0)).to.equal(0xfeff)
    const lines = text.slice(1).split('\r\n')
    expect(lines).to.include('คำขอยืมทั้งหมด,10,3')
    expect(lines).to.include('พัสดุที่ให้ยืม (ชิ้น),127,2')
    expect(lines).to.include('จำแนกตามเดือน')
    expect(lines.some((l) => l.includes('1 ตุลาคม 2567'))).to.equal(true)
    expect(lines).to.include('ต.ค. 2567,0,1,1')
    expect(lines).to.include(`AMP-1,${lines.find((l) => l.startsWith('AMP-1,'))!.split(',')[1]},3`)
  })

  it('when the XLSX is downloaded, then a workbook with the same figures', async () => {
    const res = await finance
      .get('/reports.xlsx?fy=2568&period=year')
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
    expect(res.status).to.equal(200)
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(res.body as ArrayBuffer)
    const rows: unknown[][] = []
    wb.worksheets[0]!.eachRow((row) => rows.push((row.values as unknown[]).slice(1)))
    expect(rows).to.deep.include(['คำขอยืมทั้งหมด', 10, 3])
    expect(rows).to.deep.include(['พัสดุที่ให้ยืม (ชิ้น)', 127, 2])
  })

  it('when a bad period is asked, then 422 naming it', async () => {
    const res = await finance.get('/reports?fy=2568&period=q9')
    expect(res.status).to.equal(422)
  })

  it('when staff or the admin asks, then 403; anonymous is sent to sign in', async () => {
    for (const role of ['staff', 'admin'] as const) {
      const { agent } = await signedInAs(t, [role])
      for (const path of ['/reports', '/reports/print', '/reports.csv', '/reports.xlsx']) expect((await agent.get(path)).status).to.equal(403)
    }
    expect((await supertest(t.app).get('/reports.csv')).status).to.equal(303)
    for (const role of ['executive', 'committee'] as const) {
      const { agent } = await signedInAs(t, [role])
      const res = await agent.get('/reports?fy=2568')
      expect(res.status).to.equal(200)
      expect(res.text).to.include('href="/reports"')
    }
  })
})
