import fs from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { expect } from 'chai'
import type { Browser, BrowserContextOptions, Page } from 'playwright-core'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { CHROMIUM, launchChromium } from '../helpers/browser.js'
import { axeViolations, blocking } from '../helpers/axe.js'

/*
 * The calendar beside a date box (public/js/date-picker.js), in headless Chromium at phone size:
 * opened with its button, a day picked with the keyboard only, the form sent; and the same form
 * typed into with JavaScript off. Screenshots: test-artifacts/screenshots/dates/.
 */
const SHOTS = path.resolve('test-artifacts', 'screenshots', 'dates')
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }
const DESK: BrowserContextOptions = { viewport: { width: 1280, height: 900 } }

describe('e2e: พ.ศ. date boxes and their calendar (issue 16)', function () {
  this.timeout(60_000)
  let t: TestApp
  let server: Server
  let browser: Browser
  let base = ''
  let staff: Awaited<ReturnType<typeof makeUser>>

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('CI must install chromium')
      this.skip()
    }
    t = await createTestApp({ now: '2025-01-15T03:00:00.000Z' })
    staff = await makeUser(t.ctx, ['staff'], { name: 'นายสมชาย ขยันยิ่ง' })
    await makeAsset(t.ctx, { code: 'NB-001', name: 'โน้ตบุ๊ก', loanable: true })
    server = await new Promise<Server>((resolve) => {
      const s = t.app.listen(0, '127.0.0.1', () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
    fs.mkdirSync(SHOTS, { recursive: true })
  })
  after(async () => {
    await browser?.close()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await t?.close()
  })

  async function cartPage(size: BrowserContextOptions, javaScriptEnabled = true): Promise<Page> {
    const page = await (await browser.newContext({ ...size, javaScriptEnabled })).newPage()
    await page.goto(`${base}/login`)
    await page.fill('#username', staff.username)
    await page.fill('#password', staff.password)
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')])
    await page.goto(`${base}/q/NB-001`)
    await Promise.all([page.waitForURL(`${base}/cart`), page.click('form[action="/cart/add"] button[type=submit]')])
    await page.fill('#purpose', 'ประชุมประจำเดือน')
    await page.fill('#place', 'ห้องประชุมสภา')
    await page.check('input[name=kind][value=in_premises]')
    return page
  }

  const lastLoan = () => t.ctx.db.selectFrom('loan').select(['start_on', 'due_on']).orderBy('id', 'desc').executeTakeFirstOrThrow()

  it('when a phone user opens the calendar and picks a day with the keyboard, then the box reads dd/mm/25xx and the loan stores that day', async () => {
    const page = await cartPage(PHONE)
    expect(await page.inputValue('#dueDate')).to.equal('21/01/2568')
    const open = page.locator('#dueDate + button.date-open')
    expect(await open.getAttribute('aria-label')).to.equal('เลือกวันกำหนดคืนจากปฏิทิน')
    await open.focus()
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog')
    await dialog.waitFor({ state: 'visible' })
    expect(await page.textContent('#date-picker-heading')).to.equal('มกราคม พ.ศ. 2568')
    // Focus is on the box's day; two weeks on and a day back.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-iso'))).to.equal('2025-01-21')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowLeft')
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).to.equal('วันจันทร์ 3 กุมภาพันธ์ พ.ศ. 2568')
    expect(await page.textContent('#date-picker-heading')).to.equal('กุมภาพันธ์ พ.ศ. 2568')
    expect(await axeViolations(page).then(blocking)).to.deep.equal([])
    await page.screenshot({ path: path.join(SHOTS, '01-phone-calendar.png'), fullPage: false })
    await page.keyboard.press('Enter')
    await dialog.waitFor({ state: 'hidden' })
    expect(await page.inputValue('#dueDate')).to.equal('03/02/2568')
    expect(await page.evaluate(() => document.activeElement?.className)).to.equal('date-open')

    // Esc closes without choosing; focus goes back to the button.
    await page.keyboard.press('Enter')
    await dialog.waitFor({ state: 'visible' })
    await page.keyboard.press('PageDown')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    expect(await page.inputValue('#dueDate')).to.equal('03/02/2568')
    expect(await open.getAttribute('aria-expanded')).to.equal('false')
    await page.screenshot({ path: path.join(SHOTS, '02-phone-chosen.png'), fullPage: true })

    await Promise.all([page.waitForURL(/\/loans\/\d+$/), page.click('button[name=intent][value=send]')])
    expect(await lastLoan()).to.deep.equal({ start_on: '2025-01-15', due_on: '2025-02-03' })
  })

  it('when JavaScript is off, then the box is plain text and a typed dd/mm/25xx day is stored', async () => {
    const page = await cartPage(PHONE, false)
    expect(await page.locator('button.date-open').count()).to.equal(0)
    await page.fill('#dueDate', '25/01/2568')
    await Promise.all([page.waitForURL(/\/loans\/\d+$/), page.click('button[name=intent][value=send]')])
    expect(await lastLoan()).to.deep.equal({ start_on: '2025-01-15', due_on: '2025-01-25' })
  })

  it('when a desk user opens the calendar, then it sits under the box with Thai months and พ.ศ. years, and a mouse pick works', async () => {
    const page = await cartPage(DESK)
    await page.click('#startDate + button.date-open')
    await page.getByRole('dialog').waitFor({ state: 'visible' })
    await page.click('.date-nav.next-year')
    expect(await page.textContent('#date-picker-heading')).to.equal('มกราคม พ.ศ. 2569')
    await page.click('.date-nav.prev-year')
    const box = await page.locator('#startDate').boundingBox()
    const cal = await page.getByRole('dialog').boundingBox()
    expect(cal!.y).to.be.greaterThan(box!.y)
    await page.screenshot({ path: path.join(SHOTS, '03-desk-calendar.png'), fullPage: false })
    await page.click('button.date-day[data-iso="2025-01-16"]')
    expect(await page.inputValue('#startDate')).to.equal('16/01/2568')
  })
})
