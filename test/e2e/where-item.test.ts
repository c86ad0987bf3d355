import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'chai'
import type { Browser, Page } from 'playwright-core'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { CHROMIUM, launchChromium } from '../helpers/browser.js'
import { axeViolations, blocking } from '../helpers/axe.js'
import { approveLoan, createLoan } from '../../server/services/loan.service.js'

/*
 * Issue 14 at phone size (390×844, touch): finance scans a label, taps «ส่งมอบ» or «รับคืน» on the
 * QR page and lands on the loan's screen with the item already ticked; a kit's label typed into the
 * scan field ticks the kit's items in the page (the browser's script). Screenshots go to
 * test-artifacts/screenshots/where-item/.
 */

const SHOTS = path.resolve('test-artifacts', 'screenshots', 'where-item')
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }

describe('e2e: hand over and receive where the item is, at phone size (issue 14)', function () {
  this.timeout(60_000)
  let t: TestApp
  let server: Server
  let browser: Browser
  let base = ''
  let page: Page
  let loanId = 0
  let shot = 0

  async function snap(step: string): Promise<void> {
    fs.mkdirSync(SHOTS, { recursive: true })
    await page.evaluate(() => document.fonts.ready)
    await page.screenshot({ path: path.join(SHOTS, `${String(++shot).padStart(2, '0')}-${step}.png`), fullPage: true })
  }

  /** Nothing wider than the phone: no sideways scrolling. */
  async function fitsThePhone(): Promise<void> {
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(390)
  }

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('CI must install chromium')
      this.skip()
    }
    t = await createTestApp() // 15 Jan 2025, 10:00 in Bangkok
    const staff = await makeUser(t.ctx, ['staff'], { name: 'นางสาวสมใจ ใจดี' })
    const checker = await makeUser(t.ctx, ['finance'], { name: 'นายตรวจ สอบดี' })
    const exec = await makeUser(t.ctx, ['executive'], { name: 'นายนายก อบต.' })
    const counter = await makeUser(t.ctx, ['finance'], { name: 'นางส่งมอบ พัสดุ' })
    await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียงเคลื่อนที่ พร้อมไมโครโฟนไร้สาย' })
    await makeAsset(t.ctx, { code: 'SPK-1', name: 'ลำโพงเคลื่อนที่ ขนาด ๑๕ นิ้ว' })
    await makeAsset(t.ctx, { code: 'TENT-1', name: 'เต็นท์ผ้าใบ ขนาด ๔×๘ เมตร' })
    await makeStock(t.ctx, { code: 'MIC-POOL', name: 'ไมโครโฟนไร้สาย', quantity: 6 })
    await makeKit(t.ctx, 'ชุด-001', [{ code: 'AMP-9' }, { code: 'SPK-1' }, { code: 'MIC-POOL', quantity: 2 }], 'ชุดเครื่องเสียงเคลื่อนที่')
    const loan = await createLoan(t.ctx, staff, {
      assetCodes: ['AMP-9', 'SPK-1', 'TENT-1'],
      stock: [{ code: 'MIC-POOL', quantity: 2 }],
      purpose: 'งานประเพณีทำบุญหมู่บ้านหมู่ 3',
      place: 'ศาลาวัดบ้านหนองบัว',
      kind: 'off_premises',
      startDate: '2025-01-15',
      dueDate: '2025-01-17',
    })
    await approveLoan(t.ctx, checker, loan.loan.id, {})
    await approveLoan(t.ctx, exec, loan.loan.id, {})
    loanId = loan.loan.id

    server = await new Promise<Server>((resolve) => {
      const s = t.app.listen(0, '127.0.0.1', () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
    fs.rmSync(SHOTS, { recursive: true, force: true })
    page = await (await browser.newContext(PHONE)).newPage()
    await page.goto(`${base}/login`)
    await page.fill('#username', counter.username)
    await page.fill('#password', counter.password)
    await Promise.all([page.waitForURL(`${base}/`), page.click('main button[type=submit]')])
  })

  after(async () => {
    await browser?.close()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await t?.close()
  })

  it('when finance opens an item’s label and taps «ส่งมอบ», then the hand-over opens with the item ticked; the kit’s label ticks the rest of the kit and the hand-over completes', async () => {
    await page.goto(`${base}/q/AMP-9`)
    const action = page.locator('a.qr-main-action')
    expect((await action.textContent())?.trim()).to.equal('ส่งมอบ')
    expect(await page.locator('.qr-loan-action').innerText())
      .to.include('ใบยืมเลขที่ 1/2568')
      .and.include('นางสาวสมใจ ใจดี')
    // The main action is above the fold on the phone.
    const box = (await action.boundingBox())!
    expect(box.y + box.height).to.be.at.most(844)
    await fitsThePhone()
    expect(blocking(await axeViolations(page))).to.deep.equal([])
    await snap('qr-hand-over')

    await Promise.all([page.waitForURL(`${base}/loans/${loanId}/handover?scan=AMP-9`), action.tap()])
    expect(await page.isChecked('input[name=confirmedCodes][value="AMP-9"]')).to.equal(true)
    expect(await page.isChecked('input[name=confirmedCodes][value="SPK-1"]')).to.equal(false)

    // The kit's label, typed as a USB scanner does: its speaker is ticked and its microphones counted, without leaving the page.
    await page.fill('#scan', 'ชุด-001')
    await page.press('#scan', 'Enter')
    expect(await page.isChecked('input[name=confirmedCodes][value="SPK-1"]')).to.equal(true)
    expect(await page.inputValue('input[data-stock-code="MIC-POOL"]')).to.equal('2')
    expect(await page.locator('#scan-status').innerText()).to.include('ชุด ชุด-001 ชุดเครื่องเสียงเคลื่อนที่: ยืนยัน 3 รายการของชุดแล้ว')
    expect(page.url()).to.equal(`${base}/loans/${loanId}/handover?scan=AMP-9`)
    await page.check('input[name=confirmedCodes][value="TENT-1"]')
    await fitsThePhone()
    expect(blocking(await axeViolations(page))).to.deep.equal([])
    await snap('hand-over-with-kit')

    await Promise.all([page.waitForURL(`${base}/loans/${loanId}`), page.tap('button[value=handover]')])
    const status = await t.ctx.db.selectFrom('loan').select('status').where('id', '=', loanId).executeTakeFirstOrThrow()
    expect(status.status).to.equal('on_loan')
  })

  it('when finance opens the label of an item out on loan and taps «รับคืน», then the return opens with that item picked and it comes back on its own', async () => {
    await page.goto(`${base}/q/SPK-1`)
    const action = page.locator('a.qr-main-action')
    expect((await action.textContent())?.trim()).to.equal('รับคืน')
    await fitsThePhone()
    await snap('qr-receive')
    await Promise.all([page.waitForURL(`${base}/loans/${loanId}/return?scan=SPK-1`), action.tap()])
    expect(await page.isChecked('input[name=pick][value="SPK-1"]')).to.equal(true)
    expect(await page.isChecked('input[name=pick][value="AMP-9"]')).to.equal(false)
    await fitsThePhone()
    await snap('return-with-kit')
    await Promise.all([page.waitForURL(`${base}/loans/${loanId}`), page.tap('button[value=selected]')])
    const items = await t.ctx.db
      .selectFrom('loan_item as i')
      .innerJoin('asset as a', 'a.id', 'i.asset_id')
      .select(['a.code', 'i.condition'])
      .where('i.loan_id', '=', loanId)
      .orderBy('a.code')
      .execute()
    expect(items.map((i) => [i.code, i.condition])).to.deep.equal([
      ['AMP-9', null],
      ['SPK-1', 'good'],
      ['TENT-1', null],
    ])
  })
})
