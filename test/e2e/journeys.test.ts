import fs from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { expect } from 'chai'
import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeStock } from '../helpers/stock.js'
import { buildReportHistory } from '../helpers/report-history.js'
import { CHROMIUM, launchChromium } from '../helpers/browser.js'
import { TINY_PNG } from '../helpers/approvers.js'
import { PDFTOTEXT, pdfWords } from '../helpers/pdf.js'
import { axeViolations, blocking, type AxeFinding } from '../helpers/axe.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { getLoan } from '../../server/services/loan.service.js'
import { toApiLoan } from '../../server/api/loans.api.js'

/*
 * Whole journeys through the real pages in headless Chromium, as people do them: a staff member
 * on a phone scans labels and asks; finance checks; the executive approves; another finance user
 * hands over and receives by scanning; the counter lends chairs to a temple; at a desk, the
 * register, the labels and the report. Each step leaves a screenshot under
 * test-artifacts/screenshots/<journey>/ and each main page is checked with axe-core.
 */

const ARTIFACTS = path.resolve('test-artifacts')
const SHOTS = path.join(ARTIFACTS, 'screenshots')
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
const DESK: BrowserContextOptions = { viewport: { width: 1280, height: 900 } }
/** The browser that prints: its width is set to each document's A4 text width. */
const PRINT: BrowserContextOptions = { viewport: { width: 700, height: 1000 } }

const AMP = { code: '416-67-0101', name: 'เครื่องขยายเสียงเคลื่อนที่ พร้อมไมโครโฟนไร้สาย' }
/** A code with Thai letters and a '/': the label's URL encodes it (SPEC §5). */
const SPEAKER = { code: 'กค.0501/67-0002', name: 'ลำโพงเคลื่อนที่ ขนาด ๑๕ นิ้ว' }
const CHAIRS = { code: 'CHAIR-BLUE', name: 'เก้าอี้พลาสติก สีน้ำเงิน', unit: 'ตัว', quantity: 200 }
const TEMPLE = { name: 'พระครูวิมลธรรมรัต', organisation: 'วัดป่าศรีสว่าง', phone: '089 765 4321', village: '7' }
const VILLAGE = { name: 'นายบุญมี ผู้ใหญ่บ้าน', organisation: 'บ้านโนนสะอาด หมู่ 4', phone: '081 222 3344', village: '4' }

const qrPath = (code: string) => `/q/${encodeURIComponent(code)}`

type User = Awaited<ReturnType<typeof makeUser>>

describe('e2e: journeys through the pages at phone and desktop size (headless Chromium)', function () {
  this.timeout(60_000)
  let t: TestApp
  let server: Server
  let browser: Browser
  let base = ''
  const people = {} as Record<'staff' | 'checker' | 'chief' | 'issuer' | 'committee' | 'admin', User>
  const assetIds: Record<string, number> = {}
  let loanId = 0
  let counterLoanId = 0
  /** axe-core's findings per page, gathered along the journeys and judged at the end. */
  const audited = new Map<string, AxeFinding[]>()
  const shotCount = new Map<string, number>()

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('CI must install chromium')
      this.skip()
    }
    t = await createTestApp()
    // A year of history for the report (the clock ends at 2025-10-10, 10:00 Bangkok: FY 2569 has begun).
    await buildReportHistory(t.ctx)
    await updateSettings(
      t.ctx,
      { id: null, label: 'test' },
      {
        agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่',
        agencyAddress: '99 หมู่ที่ 1 ตำบลหนองบัวใหญ่ อำเภอเมือง',
        province: 'จังหวัดนครราชสีมา',
        mayor: { name: 'นายสมศักดิ์ ใจดี', position: 'นายกองค์การบริหารส่วนตำบลหนองบัวใหญ่' },
        financeDirector: { name: 'นางวันดี มีทรัพย์', position: 'ผู้อำนวยการกองคลัง' },
        suppliesOfficer: { name: 'นายพัสดุ รักงาน', position: 'เจ้าพนักงานพัสดุชำนาญงาน' },
      },
    )
    people.staff = await makeUser(t.ctx, ['staff'], { name: 'นายสมชาย ขยันยิ่ง' })
    people.checker = await makeUser(t.ctx, ['finance'], { name: 'นายตรวจ สอบดี' })
    people.chief = await makeUser(t.ctx, ['executive'], { name: 'นายสมศักดิ์ ใจดี' })
    people.issuer = await makeUser(t.ctx, ['finance'], { name: 'นางสาวจ่ายของ ตรงเวลา' })
    people.committee = await makeUser(t.ctx, ['committee'], { name: 'นางกรรมการ ตรวจรับ' })
    people.admin = await makeUser(t.ctx, ['admin'], { name: 'นายดูแล ระบบ' })
    for (const a of [AMP, SPEAKER]) assetIds[a.code] = (await makeAsset(t.ctx, a)).id
    await makeStock(t.ctx, CHAIRS)

    server = await new Promise<Server>((resolve) => {
      const s = t.app.listen(0, '127.0.0.1', () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
    for (const j of ['phone-loan', 'counter', 'desk']) fs.rmSync(path.join(SHOTS, j), { recursive: true, force: true })
  })

  after(async () => {
    await browser?.close()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await t?.close()
  })

  /** A screenshot of the whole page as this step leaves it: test-artifacts/screenshots/<journey>/<nn>-<step>.png. */
  async function snap(page: Page, journey: string, step: string): Promise<void> {
    const n = (shotCount.get(journey) ?? 0) + 1
    shotCount.set(journey, n)
    const dir = path.join(SHOTS, journey)
    fs.mkdirSync(dir, { recursive: true })
    await page.evaluate(() => document.fonts.ready)
    await page.screenshot({ path: path.join(dir, `${String(n).padStart(2, '0')}-${step}.png`), fullPage: true })
  }

  async function audit(page: Page, name: string): Promise<void> {
    audited.set(name, await axeViolations(page))
  }

  async function newPage(size: BrowserContextOptions): Promise<Page> {
    return (await browser.newContext(size)).newPage()
  }

  /** Signs in through the sign-in page as a person would. */
  async function signIn(page: Page, who: User, landing = `${base}/`): Promise<void> {
    await page.fill('#username', who.username)
    await page.fill('#password', who.password)
    await Promise.all([page.waitForURL(landing), page.click('main button[type=submit]')])
  }

  /** Each person keeps one signed-in browser per screen size, as on their own phone or PC; it opens on their dashboard. */
  const sessions = new Map<string, Page>()
  const sessionKey = (who: User, size: BrowserContextOptions) => `${who.username}@${size.viewport!.width}`
  async function signedIn(who: User, size: BrowserContextOptions): Promise<Page> {
    const kept = sessions.get(sessionKey(who, size))
    if (kept) {
      await kept.goto(`${base}/`)
      return kept
    }
    const page = await newPage(size)
    await page.goto(`${base}/login`)
    await signIn(page, who)
    sessions.set(sessionKey(who, size), page)
    return page
  }

  /** Clicks and waits for the page the click leads to. */
  async function go(page: Page, selector: string, to: string | RegExp): Promise<void> {
    await Promise.all([page.waitForURL(typeof to === 'string' ? `${base}${to}` : to), page.click(selector)])
  }

  /** The loan as the API gives it (SPEC §5): what the pages did, read back. */
  const loanOf = async (id: number) => toApiLoan(await getLoan(t.ctx, people.issuer, id))

  /** Follows a link of the main menu; on a phone the menu is folded away first. */
  async function menu(page: Page, href: string): Promise<void> {
    if (!(await page.isVisible(`nav a[href="${href}"]`))) await page.click('details.menu > summary')
    await go(page, `nav a[href="${href}"]`, href)
  }

  describe('at phone size (390×844, touch)', () => {
    it('when a signed-out staff member opens a label’s QR URL, then sign-in brings them back to the asset, and it and a second scanned asset go out as one request', async () => {
      const page = await newPage(PHONE)
      const J = 'phone-loan'
      await page.goto(`${base}${qrPath(AMP.code)}`)
      const login = new URL(page.url())
      expect(login.pathname).to.equal('/login')
      expect(login.searchParams.get('next')).to.equal(qrPath(AMP.code))
      await snap(page, J, 'sign-in-from-qr')
      await audit(page, 'sign-in')

      await signIn(page, people.staff, `${base}${qrPath(AMP.code)}`)
      expect(await page.textContent('main h1')).to.equal(AMP.name)
      await snap(page, J, 'qr-asset-after-sign-in')
      await audit(page, 'QR page (staff)')
      await go(page, 'form.add-to-cart button[type=submit]', '/cart')
      await snap(page, J, 'cart-first-item')

      // The cart's "scan the next item" opens the scanner; the phone camera then opens the second label's URL.
      await go(page, 'main a[href="/scan"]', '/scan')
      await snap(page, J, 'scanner')
      await audit(page, 'scan')
      await page.goto(`${base}${qrPath(SPEAKER.code)}`)
      expect(await page.textContent('main h1')).to.equal(SPEAKER.name)
      await snap(page, J, 'qr-second-asset')
      await go(page, 'form.add-to-cart button[type=submit]', '/cart')
      expect(await page.locator('.cart-items .code-line code').allTextContents()).to.deep.equal([AMP.code, SPEAKER.code])

      // Sent with nothing filled in: the page comes back with each field's mistake beside it.
      await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${base}/cart`),
        page.click('button[name=intent][value=send]'),
      ])
      await page.waitForLoadState()
      expect(await page.getAttribute('#purpose', 'aria-invalid')).to.equal('true')
      await snap(page, J, 'request-not-filled')
      await audit(page, 'cart (with mistakes)')

      await page.fill('#purpose', 'จัดงานประเพณีลอยกระทงของหมู่บ้าน ๒๕๖๘')
      await page.fill('#place', 'ลานวัดบ้านหนองบัว หมู่ที่ ๓')
      await page.check('input[name=kind][value=off_premises]')
      await page.fill('#startDate', '2025-10-10')
      await page.fill('#dueDate', '2025-10-12')
      await snap(page, J, 'request-filled')
      await audit(page, 'cart')
      await go(page, 'button[name=intent][value=send]', /\/loans\/\d+$/)
      loanId = Number(/\/loans\/(\d+)$/.exec(page.url())![1])
      await snap(page, J, 'request-sent')
      await audit(page, 'loan page (staff)')
      sessions.set(sessionKey(people.staff, PHONE), page)
      await audit(await signedIn(people.staff, PHONE), 'dashboard (staff)')

      const loan = await loanOf(loanId)
      expect(loan.status).to.equal('pending')
      expect(loan.kind).to.equal('off_premises')
      expect(loan.borrower.name).to.equal(people.staff.name)
      expect(loan.items.map((i) => i.assetCode)).to.deep.equal([AMP.code, SPEAKER.code])
      expect([loan.startDate, loan.dueDate]).to.deep.equal(['2025-10-10', '2025-10-12'])
    })

    it('when the first finance user checks the request and the executive approves it, each from their dashboard, then it is approved', async () => {
      expect(loanId, 'the request was sent').to.be.greaterThan(0)
      const J = 'phone-loan'
      const checker = await signedIn(people.checker, PHONE)
      await audit(checker, 'dashboard (finance)')
      await snap(checker, J, 'finance-dashboard')
      await go(checker, `main a[href="/loans/${loanId}"]`, `/loans/${loanId}`)
      await go(checker, `form[action="/loans/${loanId}/approve"] button[type=submit]`, `/loans/${loanId}`)
      await snap(checker, J, 'checked-by-finance')
      let loan = await loanOf(loanId)
      expect(loan.status).to.equal('pending')
      expect(loan.approvals.map((a) => [a.step, a.by])).to.deep.equal([['check', people.checker.username]])

      const chief = await signedIn(people.chief, PHONE)
      await audit(chief, 'dashboard (executive)')
      await snap(chief, J, 'executive-dashboard')
      await go(chief, `main a[href="/loans/${loanId}"]`, `/loans/${loanId}`)
      await audit(chief, 'loan page (executive)')
      await go(chief, `form[action="/loans/${loanId}/approve"] button[type=submit]`, `/loans/${loanId}`)
      await snap(chief, J, 'approved-by-executive')
      loan = await loanOf(loanId)
      expect(loan.status).to.equal('approved')
      expect(loan.approvals.map((a) => [a.step, a.by])).to.deep.equal([
        ['check', people.checker.username],
        ['approve', people.chief.username],
      ])
    })

    it('when a second finance user scans each item to hand the loan over and later scans each one back, then it is on loan and then returned in good condition', async () => {
      expect((await loanOf(loanId)).status, 'approved before').to.equal('approved')
      const J = 'phone-loan'
      const page = await signedIn(people.issuer, PHONE)
      await go(page, `main a[href="/loans/${loanId}"]`, `/loans/${loanId}`) // from "to hand over today"
      await audit(page, 'loan page (finance)')
      await go(page, `a[href="/loans/${loanId}/handover"]`, `/loans/${loanId}/handover`)
      await snap(page, J, 'handover-screen')
      await audit(page, 'hand-over')
      // A scanner types the label's URL and Enter: the item's box is ticked without leaving the page.
      for (const a of [AMP, SPEAKER]) {
        await page.fill('#scan', `https://yk.example.go.th${qrPath(a.code)}`)
        await page.press('#scan', 'Enter')
        expect(await page.isChecked(`input[name=confirmedCodes][value="${a.code}"]`), a.code).to.equal(true)
      }
      expect(await page.textContent('#scan-status')).to.include('2')
      await snap(page, J, 'handover-both-scanned')
      await go(page, 'button[name=op][value=handover]', `/loans/${loanId}`)
      await snap(page, J, 'handed-over')
      expect((await loanOf(loanId)).status).to.equal('on_loan')

      await go(page, `a[href="/loans/${loanId}/return"]`, `/loans/${loanId}/return`)
      for (const a of [SPEAKER, AMP]) {
        await page.fill('#scan', a.code)
        await page.press('#scan', 'Enter')
        expect(await page.isChecked(`input[name=pick][value="${a.code}"]`), a.code).to.equal(true)
      }
      await page.fill('input[id^=returnedBy_] >> nth=0', 'นายสมหมาย ส่งของ')
      await snap(page, J, 'return-both-scanned')
      await audit(page, 'return')
      await go(page, 'button[name=op][value=selected]', `/loans/${loanId}`)
      await snap(page, J, 'returned')
      const loan = await loanOf(loanId)
      expect(loan.status).to.equal('returned')
      expect(loan.items.map((i) => [i.assetCode, i.condition, i.receivedBy])).to.deep.equal([
        [AMP.code, 'good', people.issuer.username],
        [SPEAKER.code, 'good', people.issuer.username],
      ])
    })

    it('when the counter lends 80 chairs to a temple that has never borrowed, then the loan is for that new community borrower and holds 80 chairs', async () => {
      const J = 'counter'
      const page = await signedIn(people.checker, PHONE)
      await menu(page, '/counter')
      await audit(page, 'counter (find the borrower)')
      await page.fill('#q', TEMPLE.organisation)
      await go(page, 'form.counter-search button[type=submit]', /\/counter\?q=/)
      await snap(page, J, 'temple-not-found')
      await go(page, 'a[href^="/counter?new=1"]', /\/counter\?new=1/)
      await page.selectOption('#ext-type', 'public')
      await page.fill('#ext-name', TEMPLE.name)
      await page.fill('#ext-org', TEMPLE.organisation)
      await page.fill('#ext-phone', TEMPLE.phone)
      await page.fill('#ext-village', TEMPLE.village)
      await page.fill('#items', `${CHAIRS.code} x80`)
      await page.fill('#purpose', 'งานทอดกฐินประจำปี')
      await page.fill('#place', `ศาลาการเปรียญ ${TEMPLE.organisation}`)
      await snap(page, J, 'lend-form-filled')
      await audit(page, 'counter (lend)')
      await go(page, '.actions button[type=submit].primary', /\/loans\/\d+$/)
      counterLoanId = Number(/\/loans\/(\d+)$/.exec(page.url())![1])
      await snap(page, J, 'lent')
      expect(await page.textContent('main'))
        .to.include(TEMPLE.name)
        .and.include('80')
      const loan = await loanOf(counterLoanId)
      expect(loan.borrower).to.include({ type: 'public', name: TEMPLE.name, organisation: TEMPLE.organisation })
      expect(loan.stock.map((s) => [s.code, s.quantity])).to.deep.equal([[CHAIRS.code, 80]])
      expect(loan.items).to.have.length(0)
    })

    it('when one officer lends 50 chairs to a village in one sitting, recording the นายก’s signature with the slip’s photo and handing over, then it is on loan and the นายก confirms it from their phone', async () => {
      const J = 'counter'
      const page = await signedIn(people.checker, PHONE)
      await page.goto(`${base}/counter?new=1`)
      await page.selectOption('#ext-type', 'public')
      await page.fill('#ext-name', VILLAGE.name)
      await page.fill('#ext-org', VILLAGE.organisation)
      await page.fill('#ext-phone', VILLAGE.phone)
      await page.fill('#ext-village', VILLAGE.village)
      await page.fill('#items', `${CHAIRS.code} x50`)
      await page.fill('#purpose', 'งานประชุมประชาคมหมู่บ้าน')
      await page.fill('#place', `ศาลาประชาคม ${VILLAGE.organisation}`)
      // The นายก signed the slip at the counter: chosen from the list, the photo taken with the phone.
      await page.selectOption('#paper-approver', people.chief.name)
      await page.setInputFiles('#paper-scan', { name: 'slip.png', mimeType: 'image/png', buffer: TINY_PNG })
      await page.check('input[name=handOverNow]')
      await snap(page, J, 'one-sitting-filled')
      await go(page, '.actions button[type=submit].primary', /\/loans\/\d+$/)
      const id = Number(/\/loans\/(\d+)$/.exec(page.url())![1])
      await snap(page, J, 'one-sitting-lent')
      const loan = await loanOf(id)
      expect(loan.status).to.equal('on_loan')
      const paper = loan.approvals.find((a) => a.step === 'approve')!
      expect(paper).to.include({ onPaper: true, by: people.chief.name, recordedBy: people.checker.username })
      expect(paper.evidence?.sha256).to.match(/^[0-9a-f]{64}$/)
      // What is still missing is said on the saved page: only the นายก's confirmation.
      expect(await page.textContent('.counter-done')).to.include('รอผู้อนุมัติยืนยัน')
      await audit(page, 'loan page (one sitting)')

      const chief = await signedIn(people.chief, PHONE)
      await snap(chief, J, 'chief-dashboard')
      // Issue 17: the home leads with the paper approvals waiting for them, the loan listed there.
      await go(chief, `#dash-toConfirm a[href="/loans/${id}"]`, `/loans/${id}`)
      await audit(chief, 'loan page (paper approval to confirm)')
      await snap(chief, J, 'chief-confirms')
      await go(chief, `form[action="/loans/${id}/paper/confirm"] button[type=submit]`, `/loans/${id}`)
      expect((await loanOf(id)).approvals.find((a) => a.step === 'approve')!.confirmedAt).to.be.a('string')
      expect(await chief.textContent('.paper-status')).to.include('ยืนยันแล้ว')
    })
  })

  describe('at desktop size (1280×900)', () => {
    it('when finance opens the register, makes labels for the two assets and opens the FY 2568 report, then each shows what the journeys made', async () => {
      const J = 'desk'
      const page = await signedIn(people.issuer, DESK)
      await menu(page, '/register')
      await snap(page, J, 'register')
      await audit(page, 'register')
      const journeyLoan = await loanOf(loanId)
      expect(await page.textContent('main'))
        .to.include(journeyLoan.number)
        .and.include(AMP.code)
        .and.include(SPEAKER.code)

      await page.goto(`${base}/assets/${assetIds[AMP.code]}`)
      await snap(page, J, 'asset-page')
      await audit(page, 'asset page')

      await page.goto(`${base}/labels?q=${encodeURIComponent('67')}`)
      for (const a of [AMP, SPEAKER]) await page.check(`#pick-${assetIds[a.code]}`)
      await snap(page, J, 'labels-chosen')
      await audit(page, 'labels')
      await go(page, '#label-chooser button[type=submit].primary', /\/labels\/sheet\?/)
      await snap(page, J, 'label-sheet')
      const sheet = (await page.textContent('body')) ?? ''
      expect(sheet).to.include(AMP.code).and.include(SPEAKER.code)

      await page.goto(`${base}/reports`)
      await page.selectOption('select[name=fy]', '2568')
      await go(page, '.report-filters button[type=submit]', /\/reports\?fy=2568/)
      await snap(page, J, 'report-fy2568')
      await audit(page, 'reports')
      expect(await page.textContent('main')).to.include('2568')
    })

    it('when the committee and the admin sign in, then they see their dashboard and the admin hub', async () => {
      const J = 'desk'
      const committee = await signedIn(people.committee, DESK)
      await snap(committee, J, 'committee-dashboard')
      await audit(committee, 'dashboard (committee)')
      // The committee's list of paper approvals: the village's loan is confirmed and has its scan, but one
      // officer entered it, recorded the approval and handed it over — so it is listed for that alone.
      await menu(committee, '/paper-approvals')
      await snap(committee, J, 'paper-approvals')
      await audit(committee, 'paper approvals to review')
      const rows = await committee.locator('table.paper-review tbody tr').allTextContents()
      expect(rows).to.have.length(1)
      expect(rows[0]).to.include('ผู้ใช้คนเดียวบันทึก').and.include('ยืนยันแล้ว').and.not.include('ไม่มีภาพสแกน')
      const admin = await signedIn(people.admin, DESK)
      await audit(admin, 'dashboard (admin)')
      await menu(admin, '/admin')
      await snap(admin, J, 'admin-hub')
      await audit(admin, 'admin hub')
      expect(await admin.locator('main a[href="/admin/users"]').count()).to.be.greaterThan(0)
    })

    it('when finance writes the narrative and submits the FY 2568 report, the committee records its review and the executive approves, then it is published on /transparency', async () => {
      const J = 'desk'
      const report = '/reports?fy=2568&period=year'
      const status = (page: Page) => page.getAttribute('#publication .pub-status', 'data-status')

      const finance = await signedIn(people.issuer, DESK)
      await finance.goto(`${base}${report}`)
      expect(await status(finance), 'nothing submitted yet').to.be.oneOf(['none', 'draft'])
      await finance.fill('#n-summary', 'ปีงบประมาณ ๒๕๖๘ มีการยืมพัสดุ ๗ ครั้ง คืนตรงเวลาเป็นส่วนใหญ่')
      await finance.fill('#n-problems', 'ผู้ยืมบางรายคืนล่าช้า')
      await finance.fill('#n-suggestions', 'แจ้งเตือนผู้ยืมก่อนครบกำหนดคืน ๑ วัน')
      await go(finance, '.narrative-form button[type=submit]', /\/reports\?fy=2568/)
      await finance.fill('#submit-form input[name=memoNumber]', 'นม ๗๑๙๐๑/๒๓๔')
      await finance.fill('#submit-form input[name=memoDate]', '2025-10-10')
      await snap(finance, J, 'publication-to-submit')
      await audit(finance, 'reports (publication panel)')
      await go(finance, '#submit-form button[type=submit]', /\/reports\?fy=2568/)
      expect(await status(finance)).to.equal('submitted')
      await snap(finance, J, 'publication-submitted')

      const committee = await signedIn(people.committee, DESK)
      await committee.goto(`${base}${report}`)
      await committee.fill('#review-form textarea[name=note]', 'ตรวจสอบตัวเลขกับทะเบียนคุมแล้ว ถูกต้อง')
      await go(committee, '#review-form button[type=submit]', /\/reports\?fy=2568/)
      expect(await status(committee)).to.equal('reviewed')
      await snap(committee, J, 'publication-reviewed')

      const chief = await signedIn(people.chief, DESK)
      await chief.goto(`${base}${report}`)
      await go(chief, '#approve-form button[type=submit]', /\/reports\?fy=2568/)
      expect(await status(chief)).to.equal('published')
      await snap(chief, J, 'publication-approved')
      await go(chief, '#publication a[href^="/transparency/2568"]', /\/transparency\/2568/)
      await snap(chief, J, 'transparency-page')
      await audit(chief, 'transparency (public report)')
      expect(await chief.textContent('body')).to.include('ผู้ยืมบางรายคืนล่าช้า')
    })
  })

  describe('accessibility (axe-core, run on each page above)', () => {
    const PAGES = [
      'sign-in',
      'dashboard (staff)',
      'dashboard (finance)',
      'dashboard (executive)',
      'dashboard (committee)',
      'dashboard (admin)',
      'asset page',
      'QR page (staff)',
      'cart',
      'cart (with mistakes)',
      'scan',
      'loan page (staff)',
      'loan page (executive)',
      'loan page (finance)',
      'hand-over',
      'return',
      'register',
      'labels',
      'reports',
      'reports (publication panel)',
      'counter (find the borrower)',
      'counter (lend)',
      'admin hub',
      'transparency (public report)',
      'loan page (one sitting)',
      'loan page (paper approval to confirm)',
      'paper approvals to review',
    ]
    it('when axe-core checks each main page, then none has a serious or critical violation', () => {
      expect(
        PAGES.filter((p) => !audited.has(p)),
        'pages the journeys did not reach',
      ).to.deep.equal([])
      const found = PAGES.flatMap((p) => blocking(audited.get(p)!).map((f) => `${p}: ${f.impact} ${f.id} (${f.help}) at ${f.targets.slice(0, 3).join(', ')}`))
      expect(found).to.deep.equal([])
    })
  })

  describe('printing to PDF (A4)', () => {
    /**
     * Prints a document page to PDF and checks that nothing is clipped: laid out at the width of
     * A4 less its margins, no box inside the paper cuts off its content or reaches past the paper;
     * every page of the PDF is A4 with every word inside the page; and every character of the
     * paper's text is in the PDF (text pushed off the page or hidden by a clipping box is not).
     */
    async function printFits(docPath: string, marginsMm: { left: number; right: number }) {
      const page = await signedIn(people.issuer, PRINT)
      const mm = 96 / 25.4
      await page.setViewportSize({ width: Math.floor((210 - marginsMm.left - marginsMm.right) * mm), height: 1000 })
      const res = await page.goto(`${base}${docPath}`)
      expect(res?.status()).to.equal(200)
      await page.evaluate(() => document.fonts.ready)
      await page.emulateMedia({ media: 'print' })
      const layout = await page.evaluate(() => {
        const paper = document.querySelector<HTMLElement>('.paper')!
        const edge = paper.getBoundingClientRect()
        const problems: string[] = []
        for (const el of Array.from(paper.querySelectorAll<HTMLElement>('*'))) {
          const r = el.getBoundingClientRect()
          if (r.width <= 1 && r.height <= 1) continue // nothing shown, or text for screen readers only
          const name = `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
          if (r.right > edge.right + 1 || r.left < edge.left - 1)
            problems.push(`${name} reaches past the paper (${Math.round(r.left)}–${Math.round(r.right)} of ${Math.round(edge.left)}–${Math.round(edge.right)})`)
          const cs = getComputedStyle(el)
          if ((cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) || (cs.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + 1))
            problems.push(`${name} cuts off its content`)
        }
        return { problems, text: paper.innerText, scrollWidth: document.documentElement.scrollWidth, width: document.documentElement.clientWidth }
      })
      const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true })
      await page.emulateMedia({ media: 'screen' })
      fs.mkdirSync(path.join(ARTIFACTS, 'pdf'), { recursive: true })
      fs.writeFileSync(path.join(ARTIFACTS, 'pdf', `${docPath.replace(/^\//, '').replace(/[^\w.-]+/g, '-')}.pdf`), pdf)
      expect(layout.problems, docPath).to.deep.equal([])
      expect(layout.scrollWidth, `${docPath}: wider than A4`).to.be.at.most(layout.width)
      const read = pdfWords(pdf)
      for (const [i, p] of read.pages.entries()) {
        expect([Math.round(p.width), Math.round(p.height)], `${docPath} page ${i + 1} is A4 portrait`).to.deep.equal([595, 842])
        const outside = p.words.filter((w) => w.xMin < 0 || w.yMin < 0 || w.xMax > p.width || w.yMax > p.height)
        expect(
          outside.map((w) => w.text),
          `${docPath} page ${i + 1}: words off the page`,
        ).to.deep.equal([])
      }
      const count = (s: string) => {
        const m = new Map<string, number>()
        for (const ch of s.match(/[\p{L}\p{N}]/gu) ?? []) m.set(ch, (m.get(ch) ?? 0) + 1) // letters and digits: box marks and rules are drawn, not text
        return m
      }
      const inPdf = count(read.text)
      const missing = [...count(layout.text)].filter(([ch, n]) => (inPdf.get(ch) ?? 0) < n).map(([ch, n]) => `${ch}×${n - (inPdf.get(ch) ?? 0)}`)
      expect(missing, `${docPath}: characters of the paper missing from the PDF`).to.deep.equal([])
      return { pages: read.pages.length, text: read.text }
    }

    before(function () {
      if (!fs.existsSync(PDFTOTEXT)) {
        if (process.env.CI) throw new Error('CI must install poppler-utils')
        this.skip()
      }
    })

    it('when the slips of the journeys’ loans are printed, then each fits one A4 page with nothing clipped', async () => {
      expect(loanId * counterLoanId, 'both journeys made their loans').to.be.greaterThan(0)
      const slip = await printFits(`/loans/${loanId}/slip`, { left: 18, right: 13 })
      expect(slip.pages).to.equal(1)
      expect(slip.text).to.include(AMP.code).and.include(people.staff.name)
      const counter = await printFits(`/loans/${counterLoanId}/slip`, { left: 18, right: 13 })
      expect(counter.pages).to.equal(1)
      expect(counter.text).to.include(TEMPLE.name).and.include(CHAIRS.code)
    })

    it('when the FY 2568 report is printed, then every page is A4 with nothing clipped and it ends with the signature blocks', async () => {
      const report = await printFits('/reports/print?fy=2568', { left: 20, right: 15 })
      expect(report.pages).to.be.within(1, 4)
      expect(report.text).to.include('รายงานสถิติการยืม-คืนพัสดุ').and.include('หลักเกณฑ์การนับ').and.include('นางวันดี มีทรัพย์')
    })
  })
})
