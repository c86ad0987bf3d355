import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'chai'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'
import { makeReminders } from '../../server/services/notification.service.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { closeBrowserSession, signedInBrowser, type BrowserSession } from '../helpers/browser.js'

/*
 * Issue 18: the header's bell with its count and /notifications in headless Chromium, at a phone's
 * 390 px and a desk's 1280 px. Screenshots: test-artifacts/screenshots/notifications/.
 */
const SHOTS = path.resolve('test-artifacts', 'screenshots', 'notifications')

describe('notifications in the browser (issue 18)', function () {
  this.timeout(90_000)
  let t: TestApp
  let s: BrowserSession | undefined

  before(() => fs.mkdirSync(SHOTS, { recursive: true }))
  beforeEach(async () => {
    t = await createTestApp({ now: '2025-01-14T03:00:00.000Z' })
  })
  afterEach(async () => {
    if (s) await closeBrowserSession(s)
    s = undefined
    await t.close()
  })

  /** An executive with a week's worth of notifications across two days. */
  async function executiveWithNotifications() {
    const exec = await makeUser(t.ctx, ['executive'], { name: 'นายสมศักดิ์ รักถิ่น' })
    const staff = await makeUser(t.ctx, ['staff'], { name: 'นางสาวสมใจ ใจดี' })
    const finance = await makeUser(t.ctx, ['finance'], { name: 'นายพัสดุ ตั้งใจ' })
    const admin = await makeUser(t.ctx, ['admin'])
    const names = ['เครื่องขยายเสียงพร้อมลำโพง', 'เต็นท์ผ้าใบ 4×8 เมตร', 'โต๊ะพับเอนกประสงค์', 'เก้าอี้พลาสติก']
    for (const [i, name] of names.entries()) {
      if (i === 2) t.ctx.clock.set('2025-01-15T03:00:00.000Z')
      await makeAsset(t.ctx, { code: `416-66-00${i + 1}`, name })
      const loan = await createLoan(t.ctx, staff, {
        assetCodes: [`416-66-00${i + 1}`],
        purpose: 'งานบุญประจำปีหมู่ 3',
        place: 'วัดบ้านหนองบัว',
        kind: 'off_premises',
        startDate: '2025-01-15',
        dueDate: '2025-01-17',
      })
      await approveLoan(t.ctx, finance, loan.loan.id, {})
      if (i === 0) {
        await approveLoan(t.ctx, exec, loan.loan.id, {})
        await handOver(t.ctx, finance, loan.loan.id)
      }
    }
    await updateSettings(t.ctx, { id: admin.id, label: admin.username }, { twoPersonRule: false })
    t.ctx.clock.set('2025-01-18T03:00:00.000Z')
    await makeReminders(t.ctx)
    return exec
  }

  for (const width of [390, 1280]) {
    it(`when an executive with unread notifications opens pages at ${width} px, then the bell shows the count, /notifications lists them by day, and nothing overflows`, async () => {
      const exec = await executiveWithNotifications()
      s = await signedInBrowser(t.app, exec)
      const { page, base } = s
      await page.setViewportSize({ width, height: 900 })
      await page.goto(`${base}/`)
      const bell = page.locator('a.notif-bell')
      await expect(await bell.isVisible()).to.equal(true)
      const count = await bell.locator('.badge').innerText()
      expect(Number(count)).to.be.greaterThan(2)
      const box = (await bell.boundingBox())!
      expect(box.x + box.width, 'the bell fits the screen').to.be.at.most(width)
      expect(box.width).to.be.at.least(44)
      await page.screenshot({ path: path.join(SHOTS, `${width}-01-home-header.png`), fullPage: false })

      await bell.click()
      await page.waitForURL(`${base}/notifications`)
      const days = await page.locator('.notification-day h2').allInnerTexts()
      expect(days.length).to.be.at.least(2)
      expect(await page.locator('.notification.unread').count()).to.equal(Number(count))
      expect(await page.locator('a.notif-bell .badge').count(), 'opening marks them read').to.equal(0)
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
      expect(overflow, 'no sideways scrolling').to.be.at.most(0)
      await page.screenshot({ path: path.join(SHOTS, `${width}-02-notifications.png`), fullPage: true })
      await page.reload()
      expect(await page.locator('.notification.unread').count()).to.equal(0)
      await page.screenshot({ path: path.join(SHOTS, `${width}-03-notifications-read.png`), fullPage: false })
    })
  }
})
