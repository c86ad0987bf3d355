import { createHash } from 'node:crypto'
import { expect } from 'chai'
import type supertest from 'supertest'
import { updateSettings } from '../../server/services/settings.service.js'
import { csrfFrom, createTestApp, signIn, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { buildReportHistory } from '../helpers/report-history.js'

/*
 * The publication of a statistics report through the pages (SPEC §6, thai-rules.md «The report's
 * path»): narrative, submit with the memo, the committee's review, the executive's approval, every
 * refusal, sending back, the memo and the request to publish; and the free date range.
 * History: test/helpers/report-history.ts (the clock ends 2025-10-10, so FY 2568 has ended).
 */
describe('report publication pages (SPEC §6)', function () {
  this.timeout(60_000)
  let t: TestApp
  type Person = { agent: supertest.Agent; id: number; name: string }
  let finance: Person
  let committee: Person
  let executive: Person
  /** Finance and committee both: submits H1, then may not review it. */
  let financeCommittee: Person

  const person = async (roles: Parameters<typeof makeUser>[1], name: string): Promise<Person> => {
    const u = await makeUser(t.ctx, roles, { name })
    return { agent: await signIn(t.app, u.username, u.password), id: u.id, name }
  }
  const page = (p: Person, fy: number | string, period: string) => p.agent.get(`/reports?fy=${fy}&period=${period}`)
  /** Posts a publication form with the CSRF token of the report page. */
  const post = async (p: Person, fy: number | string, period: string, step: string, body: Record<string, string> = {}) => {
    const csrf = csrfFrom((await page(p, fy, period)).text)
    return p.agent
      .post(`/reports/publications/${fy}/${period}/${step}`)
      .type('form')
      .send({ _csrf: csrf, ...body })
  }
  const follow = async (p: Person, res: supertest.Response) => {
    expect(res.status, res.text.slice(0, 300)).to.equal(303)
    return p.agent.get(String(res.headers.location))
  }
  const statusOf = (html: string) => /data-status="([a-z]+)"/.exec(html)?.[1]
  const storedSnapshot = async (fy: number, period: string) =>
    t.ctx.db
      .selectFrom('report_publication')
      .select(['snapshot', 'snapshot_hash', 'status'])
      .where('fiscal_year', '=', fy)
      .where('period', '=', period)
      .executeTakeFirstOrThrow()
  const auditOf = async (action: string) =>
    (await t.ctx.db.selectFrom('audit_log').select(['data']).where('action', '=', action).orderBy('id').execute()).map(
      (r) => JSON.parse(r.data) as Record<string, unknown>,
    )

  before(async () => {
    t = await createTestApp()
    await buildReportHistory(t.ctx)
    await updateSettings(
      t.ctx,
      { id: null, label: 'test' },
      {
        agencyName: 'องค์การบริหารส่วนตำบลหนองบัว',
        suppliesOfficer: { name: 'นางพัสดุ ใจดี', position: 'เจ้าพนักงานพัสดุ' },
        financeDirector: { name: 'นางการเงิน รอบคอบ', position: 'ผู้อำนวยการกองคลัง' },
        chiefAdministrator: { name: 'นายปลัด ขยัน', position: 'ปลัดองค์การบริหารส่วนตำบลหนองบัว' },
        mayor: { name: 'นายนายก ใจกว้าง', position: 'นายกองค์การบริหารส่วนตำบลหนองบัว' },
        thaiDigits: true,
      },
    )
    finance = await person(['finance'], 'นางสาวพัสดุ เสนอ')
    committee = await person(['committee'], 'นายกรรมการ ตรวจ')
    executive = await person(['executive'], 'นายนายก ใจกว้าง')
    financeCommittee = await person(['finance', 'committee'], 'นายสองบทบาท ทดสอบ')
  })
  after(() => t.close())

  describe('the whole path of FY 2568', () => {
    it('when finance opens the year, then the panel shows no publication yet and the narrative form with the no-names hint', async () => {
      const res = await page(finance, 2568, 'year')
      expect(res.status).to.equal(200)
      expect(res.text).to.include('id="publication"')
      expect(statusOf(res.text)).to.equal('none')
      expect(res.text).to.include('action="/reports/publications/2568/year/narrative"')
      expect(res.text).to.include('ห้ามระบุชื่อบุคคล')
      expect(res.text).to.include('action="/reports/publications/2568/year/submit"')
      expect(res.text).to.not.include('/review"')
      expect(res.text).to.not.include('/approve"')
    })

    it('when a form is posted without the CSRF token, then it is refused and nothing is saved', async () => {
      const res = await finance.agent.post('/reports/publications/2568/year/narrative').type('form').send({ summary: 'ไม่มีโทเคน' })
      expect(res.status).to.equal(403)
      expect(await t.ctx.db.selectFrom('report_publication').selectAll().execute()).to.have.length(0)
    })

    it('when finance saves the narrative, then it is back on the page, in the print, the CSV and the XLSX', async () => {
      const res = await post(finance, 2568, 'year', 'narrative', {
        summary: 'การให้ยืมเป็นไปตามระเบียบ',
        problems: 'มีการคืนล่าช้า 2 ครั้ง',
        suggestions: 'ควรติดตามภายใน 7 วัน',
      })
      expect(res.headers.location).to.equal('/reports?fy=2568&period=year#publication')
      const back = await follow(finance, res)
      expect(back.text).to.include('บันทึกสรุปผลแล้ว')
      expect(back.text).to.include('การให้ยืมเป็นไปตามระเบียบ')
      expect(statusOf(back.text)).to.equal('draft')
      const print = await finance.agent.get('/reports/print?fy=2568&period=year')
      expect(print.text).to.include('สรุปผลและข้อเสนอแนะ')
      expect(print.text).to.include('การให้ยืมเป็นไปตามระเบียบ')
      expect(print.text).to.include('มีการคืนล่าช้า ๒ ครั้ง') // Thai digits per setting
      const csv = await finance.agent.get('/reports.csv?fy=2568&period=year')
      const lines = csv.text.split('\r\n')
      const at = lines.indexOf('สรุปผลและข้อเสนอแนะ')
      expect(at).to.be.greaterThan(lines.indexOf('ครุภัณฑ์ที่ถูกยืมมากที่สุด'))
      expect(lines[at + 1]).to.equal('สรุปผล,การให้ยืมเป็นไปตามระเบียบ')
      const xlsx = await finance.agent
        .get('/reports.xlsx?fy=2568&period=year')
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = []
          r.on('data', (c: Buffer) => chunks.push(c))
          r.on('end', () => cb(null, Buffer.concat(chunks)))
        })
      const ExcelJS = (await import('exceljs')).default
      const wb = new ExcelJS.Workbook()
      await wb.xlsx.load(xlsx.body as unknown as ArrayBuffer)
      const cells: string[] = []
      wb.worksheets[0]!.eachRow((row) => cells.push(String(row.getCell(2).value ?? '')))
      expect(cells).to.include('ควรติดตามภายใน 7 วัน')
    })

    it('when finance submits with a memo number and date, then the page shows it submitted, frozen, with the memo and the hash; the audit has its sha256', async () => {
      const res = await post(finance, 2568, 'year', 'submit', { memoNumber: 'อบ 73301/045', memoDate: '2025-10-08', note: 'เสนอเพื่อพิจารณา' })
      const back = await follow(finance, res)
      expect(back.text).to.include('เสนอรายงานแล้ว')
      expect(statusOf(back.text)).to.equal('submitted')
      expect(back.text).to.include('อบ 73301/045')
      expect(back.text).to.include('นางสาวพัสดุ เสนอ')
      expect(back.text).to.include('ตัวเลขปัจจุบันตรงกับตัวเลขที่เสนอไว้')
      const row = await storedSnapshot(2568, 'year')
      const sha = createHash('sha256').update(row.snapshot!, 'utf8').digest('hex')
      expect(row.snapshot_hash).to.equal(sha)
      expect(back.text).to.include(`title="${sha}"`)
      expect((await auditOf('report.submitted')).at(-1)!.sha256).to.equal(sha)
      // Finance can no longer edit: no narrative form, no submit button.
      expect(back.text).to.not.include('action="/reports/publications/2568/year/narrative"')
      expect(back.text).to.not.include('action="/reports/publications/2568/year/submit"')
    })

    it('when finance tries to edit the narrative after submission, then it is refused with the Thai message and nothing changes', async () => {
      const before = await storedSnapshot(2568, 'year')
      const res = await post(finance, 2568, 'year', 'narrative', { summary: 'แก้หลังเสนอ' })
      const back = await follow(finance, res)
      expect(back.text).to.include('รายงานนี้เสนอแล้ว แก้ไขไม่ได้')
      expect(await storedSnapshot(2568, 'year')).to.deep.equal(before)
    })

    it('when finance (without the committee role) posts a review, then 403 and the status stays submitted', async () => {
      const res = await finance.agent
        .post('/reports/publications/2568/year/review')
        .type('form')
        .send({ _csrf: csrfFrom((await page(finance, 2568, 'year')).text), note: 'x' })
      expect(res.status).to.equal(403)
      expect((await storedSnapshot(2568, 'year')).status).to.equal('submitted')
    })

    it('when the executive tries to approve before the committee has reviewed, then it is refused with the Thai message', async () => {
      const p = await page(executive, 2568, 'year')
      expect(p.text).to.not.include('/approve"')
      expect(p.text).to.include('action="/reports/publications/2568/year/return"')
      const back = await follow(executive, await post(executive, 2568, 'year', 'approve', { note: 'อนุมัติ' }))
      expect(back.text).to.include('อนุมัติให้เผยแพร่ได้เมื่อคณะกรรมการบันทึกผลการพิจารณาแล้วเท่านั้น')
      expect(back.text).to.include('เสนอแล้ว รอคณะกรรมการพิจารณา')
      expect((await storedSnapshot(2568, 'year')).status).to.equal('submitted')
    })

    it('when the committee sees the list, then the submitted report is marked as awaiting it, with the review button', async () => {
      const res = await page(committee, 2568, 'year')
      expect(res.text).to.match(/<details class="pub-list" open>/)
      expect(res.text).to.include('รอท่านดำเนินการ')
      expect(res.text).to.include('action="/reports/publications/2568/year/review"')
    })

    it('when the committee reviews and the executive approves, then the page shows เผยแพร่แล้ว, the frozen narrative and the public link; the audit has report.published with the sha256', async () => {
      await follow(committee, await post(committee, 2568, 'year', 'review', { note: 'ตรวจสอบตัวเลขแล้วถูกต้อง' }))
      expect((await storedSnapshot(2568, 'year')).status).to.equal('reviewed')
      const p = await page(executive, 2568, 'year')
      expect(p.text).to.include('action="/reports/publications/2568/year/approve"')
      expect(p.text).to.include('ทราบ / อนุมัติให้เผยแพร่')
      const back = await follow(executive, await post(executive, 2568, 'year', 'approve', { note: 'อนุมัติให้เผยแพร่' }))
      expect(back.text).to.include('อนุมัติให้เผยแพร่แล้ว')
      expect(statusOf(back.text)).to.equal('published')
      expect(back.text).to.include('เผยแพร่แล้ว')
      expect(back.text).to.include('href="/transparency/2568/year"')
      expect(back.text).to.include('การให้ยืมเป็นไปตามระเบียบ')
      expect(back.text).to.include('ตรวจสอบตัวเลขแล้วถูกต้อง')
      expect(back.text).to.include('นายกรรมการ ตรวจ')
      const row = await storedSnapshot(2568, 'year')
      const sha = createHash('sha256').update(row.snapshot!, 'utf8').digest('hex')
      const published = (await auditOf('report.published')).at(-1)!
      expect(published.sha256).to.equal(sha)
      expect(published).to.include({ fiscalYear: 2568, period: 'year' })
      // Nobody has anything left to do with it.
      for (const who of [finance, committee, executive]) {
        const html = (await page(who, 2568, 'year')).text
        expect(html).to.not.match(/action="\/reports\/publications\/2568\/year\/(narrative|submit|review|approve|return)"/)
      }
    })
  })

  describe('refusals, sending back and resubmitting (H1 of FY 2568)', () => {
    it('when the submitter who is also on the committee tries to review, then no button and the POST is refused for segregation of duties', async () => {
      await follow(financeCommittee, await post(financeCommittee, 2568, 'h1', 'submit', { memoNumber: 'อบ 73301/010', memoDate: '2025-10-09' }))
      const p = await page(financeCommittee, 2568, 'h1')
      expect(statusOf(p.text)).to.equal('submitted')
      expect(p.text).to.not.include('action="/reports/publications/2568/h1/review"')
      const back = await follow(financeCommittee, await post(financeCommittee, 2568, 'h1', 'review', { note: 'ของตัวเอง' }))
      expect(back.text).to.include('แบ่งแยกหน้าที่: ผู้เสนอรายงานพิจารณาหรืออนุมัติรายงานที่ตนเสนอไม่ได้')
      expect((await storedSnapshot(2568, 'h1')).status).to.equal('submitted')
    })

    it('when the committee sends it back without a reason, then 422 with the Thai message and the status unchanged', async () => {
      const res = await post(committee, 2568, 'h1', 'return', { reason: '' })
      expect(res.status).to.equal(422)
      expect(res.text).to.include('กรุณาระบุเหตุผลที่ส่งกลับ')
      expect((await storedSnapshot(2568, 'h1')).status).to.equal('submitted')
    })

    it('when the committee sends it back with a reason, then finance sees ส่งกลับให้แก้ไข with the reason, edits and resubmits', async () => {
      await follow(committee, await post(committee, 2568, 'h1', 'return', { reason: 'ขอให้เพิ่มข้อเสนอแนะ' }))
      const p = await page(financeCommittee, 2568, 'h1')
      expect(statusOf(p.text)).to.equal('returned')
      expect(p.text).to.include('ขอให้เพิ่มข้อเสนอแนะ')
      expect(p.text).to.include('action="/reports/publications/2568/h1/narrative"')
      await follow(financeCommittee, await post(financeCommittee, 2568, 'h1', 'narrative', { summary: 'ครึ่งปีแรก', suggestions: 'เพิ่มแล้ว' }))
      const again = await follow(financeCommittee, await post(financeCommittee, 2568, 'h1', 'submit', { memoNumber: 'อบ 73301/011', memoDate: '2025-10-10' }))
      expect(statusOf(again.text)).to.equal('submitted')
      const snap = JSON.parse((await storedSnapshot(2568, 'h1')).snapshot!) as { narrative: { suggestions: string } }
      expect(snap.narrative.suggestions).to.equal('เพิ่มแล้ว')
    })

    it('when a bad memo date is submitted, then 422 re-renders the form with the typed values and nothing changes', async () => {
      const res = await post(finance, 2568, 'q4', 'submit', { memoNumber: 'อบ 1/2', memoDate: '2025-13-40' })
      expect(res.status).to.equal(422)
      expect(res.text).to.include('value="อบ 1/2"')
      expect(res.text).to.include('role="alert"')
      expect(await t.ctx.db.selectFrom('report_publication').select('id').where('fiscal_year', '=', 2568).where('period', '=', 'q4').execute()).to.have.length(
        0,
      )
    })

    it('when finance submits a period that has not ended, then the page says when it can and the POST is refused', async () => {
      const p = await page(finance, 2569, 'year')
      expect(p.text).to.include('เสนอรายงานได้หลังสิ้นช่วงรายงาน')
      expect(p.text).to.not.include('action="/reports/publications/2569/year/submit"')
      const back = await follow(finance, await post(finance, 2569, 'year', 'submit', { memoNumber: 'x' }))
      expect(back.text).to.include('ยังเสนอรายงานไม่ได้ เพราะช่วงรายงานยังไม่สิ้นสุด (สิ้นสุดวันที่ 30 กันยายน 2569)')
      const row = await t.ctx.db.selectFrom('report_publication').select('status').where('fiscal_year', '=', 2569).executeTakeFirst()
      expect(row?.status ?? null).to.equal(null)
    })

    it('when a loan record changes after submission, then the committee sees which figures now differ and is told to send it back', async () => {
      // A FY 2568 Q1 report submitted, then a loan of Q1 deleted from its figures by moving its hand-over date out.
      await follow(finance, await post(finance, 2568, 'q1', 'submit', { memoNumber: 'อบ 73301/020' }))
      await t.ctx.db.updateTable('loan').set({ handed_over_on: '2025-01-15' }).where('handed_over_on', '=', '2024-12-01').execute()
      const res = await page(committee, 2568, 'q1')
      expect(res.text).to.include('ตัวเลขปัจจุบันต่างจากตัวเลขที่เสนอไว้')
      expect(res.text).to.match(/การยืมที่ส่งมอบแล้ว \(ครั้ง\): เสนอไว้ 3 ปัจจุบัน 2/)
      expect(res.text).to.include('ให้ส่งรายงานกลับให้กองคลังเสนอใหม่')
      await t.ctx.db.updateTable('loan').set({ handed_over_on: '2024-12-01' }).where('handed_over_on', '=', '2025-01-15').execute()
    })

    it('when one person holds committee and executive and has reviewed a report, then no approve button, a note saying why, and the approval POST is refused; another executive approves', async () => {
      const both = await person(['committee', 'executive'], 'นายสองหมวก ทดสอบ')
      await follow(finance, await post(finance, 2568, 'q2', 'submit', { memoNumber: 'อบ 73301/030' }))
      const reviewed = await follow(both, await post(both, 2568, 'q2', 'review', { note: 'ถูกต้อง' }))
      expect(statusOf(reviewed.text)).to.equal('reviewed')
      expect(reviewed.text).to.not.include('action="/reports/publications/2568/q2/approve"')
      expect(reviewed.text).to.include('id="approve-refusal"')
      expect(reviewed.text).to.include('แบ่งแยกหน้าที่: บุคคลเดียวกันบันทึกผลการพิจารณา (คณะกรรมการ) และอนุมัติให้เผยแพร่ (ผู้บริหาร) รายงานฉบับเดียวกันไม่ได้')

      const refused = await follow(both, await post(both, 2568, 'q2', 'approve', { note: 'อนุมัติเอง' }))
      expect(refused.text).to.include('แบ่งแยกหน้าที่: บุคคลเดียวกันบันทึกผลการพิจารณา')
      expect((await storedSnapshot(2568, 'q2')).status).to.equal('reviewed')
      expect(await auditOf('report.published')).to.have.length(1) // FY 2568's year only

      const other = await page(executive, 2568, 'q2')
      expect(other.text).to.include('action="/reports/publications/2568/q2/approve"')
      expect(other.text).to.not.include('id="approve-refusal"')
      const published = await follow(executive, await post(executive, 2568, 'q2', 'approve', { note: 'อนุมัติ' }))
      expect(statusOf(published.text)).to.equal('published')
    })

    it('when a URL names an unknown period or year, then 404', async () => {
      const csrf = csrfFrom((await page(finance, 2568, 'year')).text)
      expect((await finance.agent.post('/reports/publications/2568/h2/narrative').type('form').send({ _csrf: csrf })).status).to.equal(404)
      expect((await finance.agent.get('/reports/publications/abcd/year/memo')).status).to.equal(404)
    })
  })

  describe('the printable memo and request to publish', () => {
    it('when the memo is opened before submission, then a friendly 404 says it comes once submitted', async () => {
      const res = await finance.agent.get('/reports/publications/2568/q3/memo')
      expect(res.status).to.equal(404)
      expect(res.text).to.include('เอกสารนี้พิมพ์ได้เมื่อกองคลังเสนอรายงานของช่วงนี้แล้ว')
    })

    it('when the memo of the published year is opened, then the บันทึกข้อความ has the number, the BE date, the subject, the snapshot figures, the summary and every signatory', async () => {
      const res = await committee.agent.get('/reports/publications/2568/year/memo')
      expect(res.status).to.equal(200)
      const html = res.text
      expect(html).to.include('บันทึกข้อความ')
      expect(html).to.include('อบ ๗๓๓๐๑/๐๔๕')
      expect(html).to.include('๘ ตุลาคม ๒๕๖๘')
      expect(html).to.include('รายงานสถิติการยืม-คืนพัสดุ ประจำปีงบประมาณ พ.ศ. ๒๕๖๘')
      expect(html).to.include('เรียน นายกองค์การบริหารส่วนตำบลหนองบัว')
      expect(html).to.include('มีคำขอยืมพัสดุ ๑๐ คำขอ อนุมัติ ๗ คำขอ ส่งมอบพัสดุให้ยืม ๗ ครั้ง รวม ๑๒๗ ชิ้น')
      expect(html).to.include('ร้อยละ ๖๖.๗')
      expect(html).to.include('สรุปผล การให้ยืมเป็นไปตามระเบียบ')
      expect(html).to.include('จึงเรียนมาเพื่อโปรดทราบ และพิจารณาอนุมัติให้เผยแพร่บนเว็บไซต์ของหน่วยงาน')
      for (const name of ['นางสาวพัสดุ เสนอ', 'นางการเงิน รอบคอบ', 'นายปลัด ขยัน', 'นายนายก ใจกว้าง']) expect(html).to.include(name)
      expect(html).to.include('ความเห็นของผู้อำนวยการกองคลัง')
      expect(html).to.include('☐ ทราบ')
      expect(html).to.include('☐ อนุมัติให้เผยแพร่')
      const sha = (await storedSnapshot(2568, 'year')).snapshot_hash!
      expect(html).to.include(sha) // the hash exactly as stored, never in Thai digits
      expect(html).to.not.match(/<script(?![^>]*src=)/)
    })

    it('when only the ปลัด is named in the settings, then the head of agency signs with the delegation line', async () => {
      await updateSettings(t.ctx, { id: null, label: 'test' }, { mayor: { name: '', position: 'นายกองค์การบริหารส่วนตำบลหนองบัว' } })
      const res = await finance.agent.get('/reports/publications/2568/h1/memo')
      expect(res.text).to.include('ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบล')
      expect(res.text).to.include('รายงานสถิติการยืม-คืนพัสดุ ประจำครึ่งปีแรก ปีงบประมาณ พ.ศ. ๒๕๖๘')
      await updateSettings(t.ctx, { id: null, label: 'test' }, { mayor: { name: 'นายนายก ใจกว้าง', position: 'นายกองค์การบริหารส่วนตำบลหนองบัว' } })
    })

    it('when the request to publish is opened, then it has the agency, the subject, what is published, the stable URL and the three signature blocks', async () => {
      const res = await executive.agent.get('/reports/publications/2568/year/publish-request')
      expect(res.status).to.equal(200)
      const html = res.text
      expect(html).to.include('แบบฟอร์มการขออนุญาตเผยแพร่ข้อมูลผ่านเว็บไซต์ของหน่วยงาน')
      expect(html).to.include('องค์การบริหารส่วนตำบลหนองบัว')
      expect(html).to.include('๘ ตุลาคม ๒๕๖๘')
      expect(html).to.include('CSV และ JSON')
      expect(html).to.include(`${t.ctx.config.publicBaseUrl}/transparency/2568/year`)
      expect(html).to.include('ผู้รับผิดชอบการให้ข้อมูล')
      expect(html).to.include('ผู้อนุมัติรับรอง')
      expect(html).to.include('ผู้รับผิดชอบการนำข้อมูลขึ้นเผยแพร่')
      expect(html).to.include('นางสาวพัสดุ เสนอ')
      expect(html).to.include('นายนายก ใจกว้าง')
    })

    it('when staff open the memo, then 403', async () => {
      const staff = await person(['staff'], 'นายพนักงาน ทั่วไป')
      expect((await staff.agent.get('/reports/publications/2568/year/memo')).status).to.equal(403)
    })
  })

  describe('a free date range', () => {
    it('when a range is asked, then the report covers it, shows no publication panel and one line saying only fiscal periods are published', async () => {
      const res = await finance.agent.get('/reports?from=2024-11-01&to=2024-12-31')
      expect(res.status).to.equal(200)
      expect(res.text).to.include('ช่วงวันที่ 1 พฤศจิกายน 2567 ถึง 31 ธันวาคม 2567')
      expect(res.text).to.not.include('id="publication"')
      expect(res.text).to.include('การเสนอและเผยแพร่ทำได้เฉพาะรายงานตามปีงบประมาณ')
      expect(res.text).to.match(/<option value="range" selected>/)
      expect(res.text).to.include('value="01/11/2567"')
      expect(/data-key="reportPages\.h\.loans"[\s\S]*?data-value="(\d+)"/.exec(res.text)![1]).to.equal('2') // L2, L3
      expect(res.text).to.include('href="/reports/print?from=2024-11-01&amp;to=2024-12-31"')
    })

    it('when the form is sent with period=range, then the same report', async () => {
      const res = await finance.agent.get('/reports?fy=2568&period=range&from=2024-11-01&to=2024-12-31')
      expect(res.status).to.equal(200)
      expect(res.text).to.include('ช่วงวันที่ 1 พฤศจิกายน 2567 ถึง 31 ธันวาคม 2567')
    })

    it('when the dates are bad or reversed, then 422 with the translated message', async () => {
      const bad = await finance.agent.get('/reports?from=2024-02-30&to=2024-12-31')
      expect(bad.status).to.equal(422)
      expect(bad.text).to.include('class="field-error"')
      const reversed = await finance.agent.get('/reports?from=2024-12-31&to=2024-11-01')
      expect(reversed.status).to.equal(422)
      expect(reversed.text).to.include('ช่วงวันที่ไม่ถูกต้อง (วันเริ่มต้องไม่หลังวันสิ้นสุด)')
      expect((await finance.agent.get('/reports.csv?from=2024-12-31&to=2024-11-01')).status).to.equal(422)
    })

    it('when the range is before 1900 or after 2300, then 422 with the translated message, never 500', async () => {
      for (const q of [
        'period=range&from=0999-01-01&to=0999-12-31',
        'period=range&from=1000-01-01&to=1000-12-31',
        'from=1899-12-31&to=2024-01-01',
        'from=2024-01-01&to=2301-01-01',
      ]) {
        const res = await finance.agent.get(`/reports?${q}`)
        expect(res.status, q).to.equal(422)
        expect(res.text, q).to.include('class="field-error"')
        expect(res.text, q).to.match(/อยู่นอกช่วงที่ใช้ได้: พิมพ์ปี พ\.ศ\./)
      }
      for (const path of ['/reports.csv', '/reports.xlsx', '/reports/print']) {
        expect((await finance.agent.get(`${path}?period=range&from=0999-01-01&to=0999-12-31`)).status, path).to.equal(422)
      }
    })

    it('when the range is printed and downloaded, then the print has the range and no narrative, the CSV is named report-<from>-<to>', async () => {
      const print = await finance.agent.get('/reports/print?from=2024-11-01&to=2024-12-31')
      expect(print.status).to.equal(200)
      expect(print.text).to.include('ช่วงวันที่ ๑ พฤศจิกายน ๒๕๖๗ ถึง ๓๑ ธันวาคม ๒๕๖๗')
      expect(print.text).to.not.include('สรุปผลและข้อเสนอแนะ')
      const csv = await finance.agent.get('/reports.csv?from=2024-11-01&to=2024-12-31')
      expect(csv.headers['content-disposition']).to.equal('attachment; filename="report-2024-11-01-2024-12-31.csv"')
      expect(csv.text).to.include('ช่วงวันที่ 1 พฤศจิกายน 2567 ถึง 31 ธันวาคม 2567')
      const xlsx = await finance.agent.get('/reports.xlsx?from=2024-11-01&to=2024-12-31')
      expect(xlsx.headers['content-disposition']).to.equal('attachment; filename="report-2024-11-01-2024-12-31.xlsx"')
    })
  })
})
