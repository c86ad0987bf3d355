import fs from 'node:fs'
import { execFileSync } from 'node:child_process'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { expect } from 'chai'
import { chromium, type Browser } from 'playwright-core'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { createLoan } from '../../server/services/loan.service.js'

const CHROMIUM = '/usr/bin/chromium'

/** The loan-return register printed: A4 landscape, several pages, the column header and a page number on each. */
describe('e2e: the loan-return register prints on A4 landscape with repeated headers and page numbers (headless Chromium)', function () {
  this.timeout(60_000)
  let t: TestApp
  let server: Server
  let browser: Browser
  let base: string
  let username = ''

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('CI must install chromium')
      this.skip()
    }
    t = await createTestApp()
    await updateSettings(t.ctx, { id: null, label: 'test' }, { agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่', province: 'จังหวัดนครราชสีมา', thaiDigits: false })
    const staff = await makeUser(t.ctx, ['staff'], { name: 'นายช่าง ใจดี' })
    for (let i = 1; i <= 45; i++) {
      const code = `REG-${String(i).padStart(3, '0')}`
      await makeAsset(t.ctx, { code, name: `เครื่องตัดหญ้า แบบสะพายบ่า หมายเลข ${i}` })
      await createLoan(t.ctx, staff, {
        assetCodes: [code],
        purpose: 'ตัดหญ้าริมถนนหมู่ 3',
        place: 'หมู่ 3',
        kind: 'off_premises',
        startDate: '2025-01-16',
        dueDate: '2025-01-18',
      })
    }
    const fin = await makeUser(t.ctx, ['finance'])
    username = fin.username
    server = t.app.listen(0)
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
  })
  after(async () => {
    await browser?.close()
    server?.close()
    await t?.close()
  })

  it('when the FY 2568 register of 45 slips is printed, then every page is landscape A4 with the column header and «หน้า n/N»', async () => {
    const page = await browser.newPage()
    await page.goto(`${base}/login`)
    await page.fill('input[name=username]', username)
    await page.fill('input[name=password]', 'correct-horse-9')
    await page.click('button[type=submit]')
    await page.goto(`${base}/register/print?fy=2568`)
    await page.evaluate(() => document.fonts.ready)
    const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true })
    const boxes = pdf.toString('latin1').match(/\/MediaBox\s*\[[^\]]*\]/g) ?? []
    expect(boxes.length).to.be.greaterThan(1)
    for (const b of boxes) {
      const [, , w, h] = b.replace(/.*\[/, '').replace(']', '').trim().split(/\s+/).map(Number)
      expect(Math.round(w!)).to.equal(842) // 297 mm
      expect(Math.round(h!)).to.equal(595) // 210 mm
    }
    let pdftotext = true
    try {
      execFileSync('pdftotext', ['-v'], { stdio: 'ignore' })
    } catch {
      pdftotext = false
    }
    if (pdftotext) {
      const file = `/tmp/register-e2e-${process.pid}.pdf`
      fs.writeFileSync(file, pdf)
      const text = execFileSync('pdftotext', ['-layout', file, '-']).toString('utf8')
      fs.rmSync(file)
      const pages = text.split('\f').filter((p) => p.trim() !== '')
      expect(pages.length).to.equal(boxes.length)
      pages.forEach((p, i) => {
        expect(p, `page ${i + 1}`).to.include('REG-')
        expect(p, `page ${i + 1}`).to.include('ปีงบประมาณ พ.ศ. 2568') // the period heading repeats
        expect(p, `page ${i + 1}`).to.include('รายการพัสดุ') // so do the column headings (the widest, on one line)
        expect(p.replace(/\s+/g, ''), `page ${i + 1}`).to.include(`${i + 1}/${pages.length}`)
      })
      expect(pages.filter((p) => /45\/2568/.test(p))).to.have.length(1)
    }
    await page.close()
  })
})
