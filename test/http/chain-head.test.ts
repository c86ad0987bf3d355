import { expect } from 'chai'
import supertest from 'supertest'
import { chainHead } from '../../server/services/audit.service.js'
import { formatNumber, toThaiDigits } from '../../server/i18n/format.js'
import { approvePublication, reviewReport, saveNarrative, submitReport } from '../../server/services/publication.service.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { createTestApp, signIn, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { buildReportHistory, type ReportHistory } from '../helpers/report-history.js'

/*
 * SPEC §5: the audit log's chain head is printed on every official document and on the public
 * report page, so that paper and the public become witnesses. Each render reads the head anew.
 * History: test/helpers/report-history.ts (the clock ends 2025-10-10, so FY 2568 has ended).
 */

const SYSTEM = { id: null, label: 'test' }

/** Every chain-head line of a page, tags dropped and white space collapsed. */
function headLines(html: string): string[] {
  return [...html.matchAll(/<p class="chain-head">([\s\S]*?)<\/p>/g)].map((m) =>
    m[1]!
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ')
      .trim(),
  )
}

/** The one chain-head line of a page (there must be exactly one). */
function headLine(html: string, url: string): string {
  const lines = headLines(html)
  expect(lines, `${url}: one chain-head line`).to.have.length(1)
  return lines[0]!
}

describe('http: the audit chain head on official documents and the public report (SPEC §5)', function () {
  this.timeout(60_000)
  let t: TestApp
  let h: ReportHistory
  let finance: supertest.Agent
  let staffLoan: number
  let externalLoan: number

  /** A real change that appends an audit entry: the settings' undertaking text, edited. */
  let edits = 0
  const change = async () => {
    edits++
    await updateSettings(t.ctx, SYSTEM, { undertakingText: `ข้าพเจ้าจะดูแลรักษาพัสดุที่ยืมเป็นอย่างดี (${edits})` })
  }

  before(async () => {
    t = await createTestApp()
    h = await buildReportHistory(t.ctx)
    await updateSettings(t.ctx, SYSTEM, { agencyName: 'องค์การบริหารส่วนตำบลหนองบัว', thaiDigits: true })
    const committee = await makeUser(t.ctx, ['committee'])
    // The year submitted (memo and request to publish exist), the first half published (the public page exists).
    await saveNarrative(t.ctx, h.finance, 2568, 'h1', { summary: 'ครึ่งปีแรก', problems: '', suggestions: '' })
    await submitReport(t.ctx, h.finance, 2568, 'h1', {})
    await reviewReport(t.ctx, committee, 2568, 'h1', {})
    await approvePublication(t.ctx, h.executive, 2568, 'h1', {})
    await submitReport(t.ctx, h.finance, 2568, 'year', {})
    const byStaff = await t.ctx.db.selectFrom('loan').select('id').where('borrower_user_id', 'is not', null).orderBy('id').executeTakeFirstOrThrow()
    const byOutsider = await t.ctx.db.selectFrom('loan').select('id').where('external_borrower_id', 'is not', null).orderBy('id').executeTakeFirstOrThrow()
    staffLoan = byStaff.id
    externalLoan = byOutsider.id
    finance = await signIn(t.app, h.finance.username, h.finance.password)
  })
  after(() => t.close())

  const documents = () => [
    { name: 'the borrow slip', url: `/loans/${staffLoan}/slip` },
    { name: 'the follow-up memo', url: `/loans/${staffLoan}/follow-up-letter`, marker: 'บันทึกข้อความ' },
    { name: 'the follow-up letter to an outsider', url: `/loans/${externalLoan}/follow-up-letter`, marker: 'ขอแสดงความนับถือ' },
    { name: 'the register', url: '/register/print?fy=2568' },
    { name: 'the statistics report', url: '/reports/print?fy=2568&period=year' },
    { name: 'the publication memo', url: '/reports/publications/2568/year/memo' },
    { name: 'the request to publish', url: '/reports/publications/2568/year/publish-request' },
  ]

  /** The line as a document prints it: the entry number in Thai digits (the setting), the hash in Latin hex. */
  const printedLine = (head: { seq: number; short: string }) =>
    `หลักฐานบันทึกการตรวจสอบ ณ วันพิมพ์: รายการที่ ${toThaiDigits(formatNumber(head.seq))} · แฮช ${head.short}`

  it('when each official document is printed, then its paper ends with one line giving the current head (Thai digits for the entry, Latin hex for the hash); after another change the next print shows the new head', async () => {
    for (const d of documents()) {
      const before = await chainHead(t.ctx.db)
      expect(before.seq).to.be.greaterThan(0)
      const first = await finance.get(d.url)
      expect(first.status, `${d.name} ${first.text.slice(0, 200)}`).to.equal(200)
      if (d.marker) expect(first.text, d.name).to.include(d.marker)
      expect(headLine(first.text, d.name)).to.equal(printedLine(before))
      expect(before.short, 'the short hash: sixteen hex digits in fours').to.match(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/)
      // Inside the paper, so it prints (not in the toolbar around it).
      const paper = first.text.slice(first.text.indexOf('<article class="paper'), first.text.indexOf('</article>'))
      expect(paper, d.name).to.include('class="chain-head"')

      await change()
      const after = await chainHead(t.ctx.db)
      expect(after.seq).to.be.greaterThan(before.seq)
      const next = await finance.get(d.url).expect(200)
      expect(headLine(next.text, d.name), `${d.name} after a change`).to.equal(printedLine(after))
    }
  })

  it('when the agency prints with Arabic digits, then the entry number is in Arabic digits too (the hash as ever)', async () => {
    await updateSettings(t.ctx, SYSTEM, { thaiDigits: false })
    try {
      const res = await finance.get(`/loans/${staffLoan}/slip`).expect(200)
      const head = await chainHead(t.ctx.db)
      expect(headLine(res.text, 'slip')).to.equal(`หลักฐานบันทึกการตรวจสอบ ณ วันพิมพ์: รายการที่ ${formatNumber(head.seq)} · แฮช ${head.short}`)
    } finally {
      await updateSettings(t.ctx, SYSTEM, { thaiDigits: true })
    }
  })

  it('when the public opens a published report, then the page shows the current head (entry number and short hash only) and the next visit after a change shows the new one', async () => {
    const before = await chainHead(t.ctx.db)
    const first = await supertest(t.app).get('/transparency/2568/h1').expect(200)
    expect(first.headers['set-cookie']).to.equal(undefined)
    expect(headLine(first.text, 'public report')).to.equal(`หลักฐานบันทึกการตรวจสอบ ณ เวลาที่แสดงหน้านี้: รายการที่ ${formatNumber(before.seq)} · แฮช ${before.short}`)
    // Only the short hash: the full head hash is not published.
    expect(first.text).to.not.include(before.hash)

    await change()
    const after = await chainHead(t.ctx.db)
    const next = await supertest(t.app).get('/transparency/2568/h1').expect(200)
    expect(headLine(next.text, 'public report'))
      .to.include(`รายการที่ ${formatNumber(after.seq)} `)
      .and.include(after.short)
  })

  it('when a visitor chose English, then the public line is in English with the same head', async () => {
    const head = await chainHead(t.ctx.db)
    const res = await supertest(t.app).get('/transparency/2568/h1').set('Cookie', 'lang=en').expect(200)
    expect(headLine(res.text, 'public report (en)')).to.equal(`Audit log evidence as this page was shown: entry ${formatNumber(head.seq)} · hash ${head.short}`)
  })

  it('when a signed-in page that is not an official document is shown, then it carries no chain-head line', async () => {
    for (const url of [`/loans/${staffLoan}`, '/register', '/reports?fy=2568&period=year']) {
      const res = await finance.get(url).expect(200)
      expect(headLines(res.text), url).to.have.length(0)
    }
  })
})
