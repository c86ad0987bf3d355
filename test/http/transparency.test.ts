import { createHash } from 'node:crypto'
import { expect } from 'chai'
import supertest from 'supertest'
import { toThaiDigits } from '../../server/i18n/format.js'
import { approvePublication, publicReport, publishedReport, reviewReport, saveNarrative, submitReport } from '../../server/services/publication.service.js'
import { computeReport } from '../../server/services/report.service.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { buildReportHistory, type ReportHistory } from '../helpers/report-history.js'

/*
 * The public transparency pages (SPEC §4, §5, §6): no sign-in, published snapshots only, aggregates
 * only. The report history of test/helpers/report-history.ts ends on 2025-10-10, so FY 2568 and its
 * first half have ended and can be published.
 */

const NARRATIVE = {
  summary: 'ปีนี้ชุมชนยืมเต็นท์และเก้าอี้มากขึ้น',
  problems: 'เก้าอี้ชำรุดสองตัวและสูญหายสองตัว',
  suggestions: 'ติดป้ายรหัสให้ครบทุกชิ้น',
}

/** Every field SPEC §6 says the public JSON carries (nested ones as dotted paths). */
const SPEC_FIELDS = [
  'fiscalYear',
  'period',
  'from',
  'to',
  'requests.total',
  'requests.approved',
  'requests.rejected',
  'requests.cancelled',
  'requests.expired',
  'loans.total',
  'loans.items',
  'loans.returnedOnTime',
  'loans.returnedLate',
  'loans.outstanding',
  'incidents.damaged',
  'incidents.lost',
  'overdue.cases',
  'overdue.followedUpInTime',
  'onTimeRate',
  'averageLoanDays',
  'byMonth',
  'byQuarter',
  'byCategory',
  'byDepartment',
  'byBorrowerType',
  'byKind',
  'topAssets',
  'previousYear',
]

function at(obj: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' && k in o ? (o as Record<string, unknown>)[k] : undefined), obj)
}

/** Each phone number as people write it: with or without dashes or spaces, Arabic or Thai digits. */
function phoneForms(phone: string): string[] {
  const digits = phone.replace(/\D/g, '')
  const forms = [
    phone,
    digits,
    phone.replace(/-/g, ' '),
    `${digits.slice(0, 3)}-${digits.slice(3, 6)}-${digits.slice(6)}`,
    `${digits.slice(0, 2)}-${digits.slice(2, 6)}-${digits.slice(6)}`,
  ]
  return [...new Set(forms.flatMap((f) => [f, toThaiDigits(f)]))]
}

/** The page, JSON or CSV with Thai digits made Arabic and separators between digits removed: a phone in any form shows as its digits. */
function digitsView(text: string): string {
  const ascii = text.replace(/[๐-๙]/g, (d) => String(d.charCodeAt(0) - 0x0e50))
  return ascii.replace(/(\d)[-\s.]+(?=\d)/g, '$1')
}

async function publish(t: TestApp, h: ReportHistory, committee: Awaited<ReturnType<typeof makeUser>>, period: string): Promise<void> {
  await saveNarrative(t.ctx, h.finance, 2568, period, NARRATIVE)
  await submitReport(t.ctx, h.finance, 2568, period, { memoNumber: 'นม 0001/2568' })
  await reviewReport(t.ctx, committee, 2568, period, {})
  await approvePublication(t.ctx, h.executive, 2568, period, {})
}

describe('http: the public transparency page before anything is published', () => {
  let t: TestApp
  before(async () => {
    t = await createTestApp({ now: '2025-10-10T03:00:00.000Z' })
    await updateSettings(t.ctx, { id: null, label: 'test' }, { agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่', followUpDays: 5, maxLoanDays: 20 })
  })
  after(() => t.close())

  it('when an anonymous visitor opens /transparency, then it answers 200 with the agency, the «no report yet» state, the borrowing steps and the pack link — and sets no cookie', async () => {
    const res = await supertest(t.app).get('/transparency').expect(200)
    expect(res.headers['content-type']).to.match(/text\/html; charset=utf-8/)
    expect(res.headers['set-cookie']).to.equal(undefined)
    expect(res.text).to.include('lang="th"').and.include('องค์การบริหารส่วนตำบลหนองบัวใหญ่').and.include('ยังไม่มีรายงานที่เผยแพร่')
    // The steps come from the settings: the follow-up days and the loan-day limit.
    expect(res.text).to.include('ติดตามทวงคืนภายใน 5 วัน').and.include('ไม่เกิน 20 วัน')
    expect(res.text).to.include('href="/transparency/procedures"')
    expect(res.text).to.not.include('<script')
  })

  it('when an anonymous visitor opens the procedure pack, then it answers 200 with the flowchart, the rules and both blank slips', async () => {
    const res = await supertest(t.app).get('/transparency/procedures').expect(200)
    expect(res.text).to.include('คู่มือ/ขั้นตอนการยืม-คืนพัสดุ').and.include('องค์การบริหารส่วนตำบลหนองบัวใหญ่')
    expect(res.text).to.match(/<svg class="flowchart"[^>]*role="img"/)
    // Thai digits per the setting (on by default): the follow-up days of the settings, in the chart and the rules.
    expect(res.text).to.include('ติดตามทวงคืนภายใน ๕ วันนับแต่วันครบกำหนด')
    expect(res.text).to.include('ข้อ ๒๐๘').and.include('ข้อ ๒๑๐')
    expect(res.text).to.include('id="slip-durable"').and.include('id="slip-consumable"')
    expect(res.text).to.include('ใบยืมพัสดุ (ครุภัณฑ์)').and.include('ใบยืมวัสดุ (วัสดุสิ้นเปลือง ระหว่างหน่วยงาน)')
    expect(res.text).to.include('ปริมาณเดียวกัน')
  })

  it('when a period is not published, then its page is a Thai 404 page and its JSON and CSV a 404 JSON error', async () => {
    const page = await supertest(t.app).get('/transparency/2568/year').expect(404)
    expect(page.text).to.include('lang="th"').and.include('ไม่พบรายงานที่เผยแพร่ของช่วงนี้')
    for (const url of [
      '/transparency/2568.json',
      '/transparency/2568.csv',
      '/transparency/2568/h1.json',
      '/transparency/2568/h1.csv',
      '/transparency/2568/h1.snapshot.json',
    ]) {
      const res = await supertest(t.app).get(url).expect(404)
      expect(res.headers['content-type'], url).to.match(/application\/json; charset=utf-8/)
      expect(res.body.error.code, url).to.equal('not_found')
      expect(res.body.error.message, url).to.be.a('string').and.not.equal('')
    }
  })

  it('when the year or the period in the URL is not one, then it is a 404 (never a 422 or a 500)', async () => {
    for (const url of [
      '/transparency/abcd/year',
      '/transparency/99999/year',
      '/transparency/1999/year',
      '/transparency/2568/q5',
      '/transparency/2568/range',
      '/transparency/2568/YEAR',
    ]) {
      const res = await supertest(t.app).get(url)
      expect(res.status, url).to.equal(404)
      expect(res.text, url).to.include('lang="th"')
    }
    for (const url of ['/transparency/25x8.json', '/transparency/12.csv', '/transparency/2568/q9.json', '/transparency/2568/h1.x.csv']) {
      const res = await supertest(t.app).get(url)
      expect(res.status, url).to.equal(404)
      expect(res.body.error.code, url).to.equal('not_found')
    }
  })
})

describe('http: the public transparency page after FY 2568 is published', function () {
  this.timeout(30_000)
  let t: TestApp
  let h: ReportHistory
  let committee: Awaited<ReturnType<typeof makeUser>>
  const staffPhone = '081-234-5678'
  const templeAddress = '12/3 หมู่ 3 ตำบลหนองบัว อำเภอเมือง'
  const templeId = '3100500123456'

  before(async () => {
    t = await createTestApp()
    h = await buildReportHistory(t.ctx)
    committee = await makeUser(t.ctx, ['committee'], { name: 'นางสาวกรรมการ ตรวจดี' })
    // Personal data the report must never carry: a staff phone, the temple's address and ID number.
    await t.ctx.db.updateTable('app_user').set({ phone: staffPhone }).where('id', '=', h.staff.id).execute()
    await t.ctx.db.updateTable('external_borrower').set({ address: templeAddress, id_number: templeId }).execute()
    await publish(t, h, committee, 'h1')
  })
  after(() => t.close())

  it('when only the first half is published, then /transparency/2568.json and .csv give the half year; once the year is published they switch to it', async () => {
    const half = await supertest(t.app).get('/transparency/2568.json').expect(200)
    expect(half.body.period).to.equal('h1')
    expect(half.body.to).to.equal('2025-03-31')
    expect((await supertest(t.app).get('/transparency/2568.csv').expect(200)).text).to.include('ครึ่งปีแรก')
    // Submitted and reviewed is not published: the public still sees the half year.
    await saveNarrative(t.ctx, h.finance, 2568, 'year', NARRATIVE)
    await submitReport(t.ctx, h.finance, 2568, 'year', {})
    await reviewReport(t.ctx, committee, 2568, 'year', {})
    expect((await supertest(t.app).get('/transparency/2568.json').expect(200)).body.period).to.equal('h1')
    await supertest(t.app).get('/transparency/2568/year').expect(404)
    await approvePublication(t.ctx, h.executive, 2568, 'year', {})
    const year = await supertest(t.app).get('/transparency/2568.json').expect(200)
    expect(year.body.period).to.equal('year')
    expect(year.body.from).to.equal('2024-10-01')
    expect(year.body.to).to.equal('2025-09-30')
    expect((await supertest(t.app).get('/transparency/2568.csv').expect(200)).text).to.include('ทั้งปีงบประมาณ')
  })

  it('when the index is opened, then it lists FY 2568 with a stable link, JSON and CSV for each published period, and each link answers 200', async () => {
    const res = await supertest(t.app).get('/transparency').expect(200)
    expect(res.text).to.include('ปีงบประมาณ พ.ศ. 2568').and.not.include('ยังไม่มีรายงานที่เผยแพร่')
    for (const p of ['year', 'h1']) {
      for (const suffix of ['', '.json', '.csv']) {
        const url = `/transparency/2568/${p}${suffix}`
        expect(res.text, url).to.include(`href="${url}"`)
        await supertest(t.app).get(url).expect(200)
      }
    }
    expect(res.text).to.include('href="/transparency/2568.json"').and.include('href="/transparency/2568.csv"')
    // The year is listed before its half; quarters never published are not listed.
    expect(res.text.indexOf('/transparency/2568/year"')).to.be.below(res.text.indexOf('/transparency/2568/h1"'))
    expect(res.text).to.not.include('/transparency/2568/q1')
    expect(res.text).to.include('เผยแพร่เมื่อ 10 ตุลาคม 2568')
  })

  it('when the year’s JSON is fetched, then it is publicReport() of the snapshot with every SPEC §6 field, 12 months from 2024-10, a rate in 0–1, CORS and a short public cache', async () => {
    const res = await supertest(t.app).get('/transparency/2568/year.json').expect(200)
    expect(res.headers['content-type']).to.equal('application/json; charset=utf-8')
    expect(res.headers['access-control-allow-origin']).to.equal('*')
    expect(res.headers['cache-control']).to.equal('public, max-age=300')
    expect(res.headers['set-cookie']).to.equal(undefined)
    const published = (await publishedReport(t.ctx, 2568, 'year'))!
    expect(res.body).to.deep.equal(JSON.parse(JSON.stringify(publicReport(published))))
    for (const f of SPEC_FIELDS) expect(at(res.body, f), f).to.not.equal(undefined)
    expect(res.body.fiscalYear).to.equal(2568)
    expect(res.body.byMonth).to.have.length(12)
    expect(res.body.byMonth[0]).to.include({ month: '2024-10' })
    expect(res.body.byMonth[11]).to.include({ month: '2025-09' })
    for (const m of res.body.byMonth) expect(m).to.have.all.keys('month', 'requests', 'loans', 'items', 'assets', 'units')
    expect(res.body.byQuarter).to.have.length(4)
    expect(res.body.onTimeRate).to.be.within(0, 1)
    expect(res.body.previousYear.fiscalYear).to.equal(2567)
    // The history's figures (see report-history.ts): 7 loans handed over in FY 2568, 2 chairs damaged and 2 lost.
    expect(res.body.loans.total).to.equal(published.snapshot.report.loans.total).and.equal(7)
    expect(res.body.incidents).to.include({ damaged: 2, lost: 2 })
    expect(res.body.narrative).to.deep.equal(NARRATIVE)
    expect(res.body.sha256)
      .to.equal(published.sha256)
      .and.match(/^[0-9a-f]{64}$/)
  })

  it('when the year’s page is opened, then it shows the snapshot’s figures with the comparison, the charts, the tables, the narrative, the footnote, the BE publication date and the sha256', async () => {
    const res = await supertest(t.app).get('/transparency/2568/year').expect(200)
    expect(res.headers['cache-control']).to.equal('public, max-age=300')
    const r = (await publishedReport(t.ctx, 2568, 'year'))!.snapshot.report
    const card = (key: string) => new RegExp(`data-key="${key.replace(/\./g, '\\.')}"[\\s\\S]*?data-value="([^"]*)"`).exec(res.text)?.[1]
    expect(card('reportPages.h.requests')).to.equal(String(r.requests.total))
    expect(card('reportPages.h.loans')).to.equal(String(r.loans.total))
    expect(card('reportPages.h.items')).to.equal(String(r.loans.items))
    expect(res.text).to.include('ช่วงเดียวกันปีก่อน')
    expect(res.text).to.include('id="chart-month"').and.include('id="chart-category"')
    expect(res.text).to.include('id="t-month"').and.include('id="t-category"').and.include('id="t-topAssets"')
    expect(res.text).to.include('พัสดุ ณ วันที่ 30 กันยายน 2568')
    for (const v of Object.values(NARRATIVE)) expect(res.text).to.include(v)
    expect(res.text).to.include('หลักเกณฑ์การนับ')
    expect(res.text).to.include('ผู้บริหารอนุมัติให้เผยแพร่เมื่อ 10 ตุลาคม 2568')
    expect(res.text).to.include((await publishedReport(t.ctx, 2568, 'year'))!.sha256)
    expect(res.text).to.include('href="/transparency/2568/year.snapshot.json"')
    expect(res.text).to.not.include('<script')
  })

  it('when the frozen snapshot is downloaded, then its own sha256 is the published hash shown on the page and in the JSON', async () => {
    const res = await supertest(t.app)
      .get('/transparency/2568/year.snapshot.json')
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = []
        r.on('data', (c: Buffer) => chunks.push(c))
        r.on('end', () => cb(null, Buffer.concat(chunks)))
      })
      .expect(200)
    const sha = createHash('sha256')
      .update(res.body as Buffer)
      .digest('hex')
    const json = await supertest(t.app).get('/transparency/2568/year.json').expect(200)
    expect(sha).to.equal(json.body.sha256)
    expect(res.headers['access-control-allow-origin']).to.equal('*')
  })

  it('when the year’s CSV is fetched, then it carries the report rows of the snapshot and its narrative, UTF-8 with CORS', async () => {
    const res = await supertest(t.app).get('/transparency/2568/year.csv').expect(200)
    expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8')
    expect(res.headers['access-control-allow-origin']).to.equal('*')
    expect(res.headers['cache-control']).to.equal('public, max-age=300')
    const r = (await publishedReport(t.ctx, 2568, 'year'))!.snapshot.report
    expect(res.text.charCodeAt(0)).to.equal(0xfeff)
    expect(res.text).to.include('รายงานสถิติการยืม-คืนพัสดุ')
    expect(res.text).to.include(`คำขอยืมทั้งหมด,${r.requests.total},${r.previousYear.requests.total}`)
    expect(res.text).to.include('จำแนกตามเดือน').and.include('หลักเกณฑ์การนับ')
    for (const v of Object.values(NARRATIVE)) expect(res.text).to.include(v)
  })

  it('when the page, the JSON, the CSV and the snapshot are read, then none holds a borrower’s name, phone (any digit form), address or ID number, nor any user’s name or username', async () => {
    const users = await t.ctx.db.selectFrom('app_user').select(['username', 'name', 'phone']).execute()
    const outsiders = await t.ctx.db.selectFrom('external_borrower').select(['name', 'phone', 'address', 'id_number']).execute()
    expect(users.map((u) => u.name))
      .to.include(committee.name)
      .and.include(h.finance.name)
      .and.include(h.executive.name)
      .and.include(h.staff.name)
    expect(outsiders.map((o) => o.name)).to.include('พระครูสุนทร')
    const words = [...users.flatMap((u) => [u.username, u.name]), ...outsiders.flatMap((o) => [o.name, o.address, o.id_number])].filter((w) => w.trim() !== '')
    const phones = [...users.map((u) => u.phone), ...outsiders.map((o) => o.phone)].filter((p) => p.trim() !== '')
    expect(phones).to.include(staffPhone).and.include('089-111-2222')
    expect(words).to.include(templeAddress).and.include(templeId)
    for (const url of [
      '/transparency',
      '/transparency/2568/year',
      '/transparency/2568/h1',
      '/transparency/2568/year.json',
      '/transparency/2568/h1.json',
      '/transparency/2568.json',
      '/transparency/2568/year.csv',
      '/transparency/2568.csv',
      '/transparency/2568/year.snapshot.json',
    ]) {
      const text = (
        await supertest(t.app)
          .get(url)
          .buffer(true)
          .parse((r, cb) => {
            let s = ''
            r.setEncoding('utf8')
            r.on('data', (c: string) => (s += c))
            r.on('end', () => cb(null, s))
          })
          .expect(200)
      ).body as string
      expect(text.length, url).to.be.greaterThan(100)
      for (const w of words) expect(text, `${url} must not contain «${w}»`).to.not.include(w)
      const digits = digitsView(text)
      for (const p of phones) {
        for (const form of phoneForms(p)) expect(text, `${url} must not contain the phone ${form}`).to.not.include(form)
        expect(digits, `${url} must not contain the digits of ${p}`).to.not.include(p.replace(/\D/g, ''))
      }
    }
  })

  it('when an old loan is changed after publication, then the live figures move but the public JSON, CSV and sha256 stay as published', async () => {
    const jsonBefore = (await supertest(t.app).get('/transparency/2568/year.json').expect(200)).text
    const csvBefore = (await supertest(t.app).get('/transparency/2568/year.csv').expect(200)).text
    // L2 (handed over 2024-11-05, FY 2568) re-dated into FY 2567, as a careless correction would.
    const l2 = await t.ctx.db.selectFrom('loan').select('id').where('handed_over_on', '=', '2024-11-05').executeTakeFirstOrThrow()
    await t.ctx.db.updateTable('loan').set({ handed_over_on: '2024-08-05', requested_on: '2024-08-05' }).where('id', '=', l2.id).execute()
    const live = await computeReport(t.ctx, { fiscalYear: 2568, period: 'year' })
    expect(live.loans.total, 'the change moves the live figures').to.equal(6)
    const jsonAfter = (await supertest(t.app).get('/transparency/2568/year.json').expect(200)).text
    expect(jsonAfter).to.equal(jsonBefore)
    expect(JSON.parse(jsonAfter).loans.total).to.equal(7)
    expect((await supertest(t.app).get('/transparency/2568/year.csv').expect(200)).text).to.equal(csvBefore)
  })

  it('when a signed-out visitor asks a cross-site fetch (Origin header), then the JSON still answers with Access-Control-Allow-Origin: *', async () => {
    const res = await supertest(t.app).get('/transparency/2568.json').set('Origin', 'https://ita.example.go.th').expect(200)
    expect(res.headers['access-control-allow-origin']).to.equal('*')
    expect(res.headers['cross-origin-resource-policy']).to.equal('cross-origin')
  })
})
