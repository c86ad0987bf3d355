import fs from 'node:fs'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import { expect } from 'chai'
import type { Browser } from 'playwright-core'
import { approvePublication, reviewReport, saveNarrative, submitReport } from '../../server/services/publication.service.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { CHROMIUM, launchChromium } from '../helpers/browser.js'
import { PDFTOTEXT, pdfWords, type PdfRead } from '../helpers/pdf.js'
import { buildReportHistory } from '../helpers/report-history.js'

/** The public report page and the procedure pack printed with headless Chromium: A4 portrait, nothing clipped. */
describe('e2e: the published report and the procedure pack print on A4 portrait with nothing clipped (headless Chromium)', function () {
  this.timeout(90_000)
  let t: TestApp
  let server: Server
  let browser: Browser
  let base: string

  before(async function () {
    if (!fs.existsSync(CHROMIUM) || !fs.existsSync(PDFTOTEXT)) {
      if (process.env.CI) throw new Error('CI must install chromium and poppler-utils')
      this.skip()
    }
    t = await createTestApp()
    const h = await buildReportHistory(t.ctx)
    await updateSettings(
      t.ctx,
      { id: null, label: 'test' },
      {
        agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่',
        province: 'จังหวัดนครราชสีมา',
        agencyAddress: '99 หมู่ 1 ตำบลหนองบัว อำเภอเมือง',
      },
    )
    const committee = await makeUser(t.ctx, ['committee'])
    await saveNarrative(t.ctx, h.finance, 2568, 'year', {
      summary: 'ปีงบประมาณนี้ชุมชนยืมเต็นท์ โต๊ะ และเก้าอี้สำหรับงานประเพณีมากขึ้น ส่วนใหญ่คืนตรงเวลาและอยู่ในสภาพดี',
      problems: 'เก้าอี้พลาสติกชำรุดสองตัวและสูญหายสองตัว ผู้ยืมชดใช้เป็นเงินแล้ว',
      suggestions: 'ติดป้ายรหัสให้ครบทุกชิ้นและแจ้งเตือนผู้ยืมก่อนครบกำหนดคืนหนึ่งวัน',
    })
    await submitReport(t.ctx, h.finance, 2568, 'year', {})
    await reviewReport(t.ctx, committee, 2568, 'year', {})
    await approvePublication(t.ctx, h.executive, 2568, 'year', {})
    server = await new Promise<Server>((resolve) => {
      const s = t.app.listen(0, '127.0.0.1', () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await t?.close()
  })

  /**
   * Lays the page out at the width of A4 less its margins in print media: no box inside `root` reaches
   * past it or cuts off its content; then prints it: every PDF page is A4 portrait with every word on
   * the page, and every character `root` shows (charts and screen-reader text aside) is in the PDF.
   */
  async function printFits(url: string, root: string, marginsMm: { left: number; right: number }): Promise<PdfRead> {
    const page = await browser.newPage()
    try {
      const mm = 96 / 25.4
      await page.setViewportSize({ width: Math.floor((210 - marginsMm.left - marginsMm.right) * mm), height: 1000 })
      const res = await page.goto(`${base}${url}`)
      expect(res?.status(), url).to.equal(200)
      await page.evaluate(() => document.fonts.ready)
      await page.emulateMedia({ media: 'print' })
      const layout = await page.evaluate((sel) => {
        const problems: string[] = []
        for (const box of Array.from(document.querySelectorAll<HTMLElement>(sel))) {
          const edge = box.getBoundingClientRect()
          for (const el of Array.from(box.querySelectorAll<HTMLElement>('*'))) {
            const r = el.getBoundingClientRect()
            // Screen-reader text (the ☐ of a printed check box) is hidden from sight on purpose.
            if ((r.width === 0 && r.height === 0) || el.closest('.sr-only')) continue
            const name = `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
            if (r.right > edge.right + 1 || r.left < edge.left - 1)
              problems.push(
                `${name} reaches past the page (${Math.round(r.left)}–${Math.round(r.right)} of ${Math.round(edge.left)}–${Math.round(edge.right)})`,
              )
            // (No helper functions in here: the bundler would wrap them in a name helper the page does not have.)
            const cs = getComputedStyle(el)
            const cutX = cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1
            const cutY = cs.overflowY !== 'visible' && el.scrollHeight > el.clientHeight + 1
            if (el instanceof HTMLElement && (cutX || cutY)) problems.push(`${name} cuts off its content`)
          }
        }
        return { problems, scrollWidth: document.documentElement.scrollWidth, width: document.documentElement.clientWidth }
      }, root)
      expect(layout.problems, url).to.deep.equal([])
      expect(layout.scrollWidth, `${url}: wider than A4`).to.be.at.most(layout.width)
      const text = await page.evaluate((sel) => {
        for (const svg of Array.from(document.querySelectorAll<SVGElement>('svg'))) svg.style.display = 'none'
        for (const sr of Array.from(document.querySelectorAll<HTMLElement>('.sr-only'))) sr.style.display = 'none'
        return Array.from(document.querySelectorAll<HTMLElement>(sel))
          .map((e) => e.innerText)
          .join('\n')
      }, root)
      await page.evaluate(() => {
        for (const svg of Array.from(document.querySelectorAll<SVGElement>('svg'))) svg.style.display = ''
        for (const sr of Array.from(document.querySelectorAll<HTMLElement>('.sr-only'))) sr.style.display = ''
      })
      const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true })
      fs.mkdirSync('test-artifacts', { recursive: true })
      fs.writeFileSync(path.join('test-artifacts', `transparency${url.replace(/[/.]/g, '-')}.pdf`), pdf)
      const read = pdfWords(pdf)
      for (const [i, p] of read.pages.entries()) {
        expect([Math.round(p.width), Math.round(p.height)], `${url} page ${i + 1} is A4 portrait`).to.deep.equal([595, 842])
        const outside = p.words.filter((w) => w.xMin < 0 || w.yMin < 0 || w.xMax > p.width || w.yMax > p.height)
        expect(
          outside.map((w) => w.text),
          `${url} page ${i + 1}: words off the page`,
        ).to.deep.equal([])
      }
      const count = (s: string) => {
        const m = new Map<string, number>()
        for (const ch of s.replace(/\s+/g, '')) m.set(ch, (m.get(ch) ?? 0) + 1)
        return m
      }
      const inPdf = count(read.text)
      const missing = [...count(text)].filter(([ch, n]) => (inPdf.get(ch) ?? 0) < n).map(([ch, n]) => `${ch}×${n - (inPdf.get(ch) ?? 0)}`)
      expect(missing, `${url}: characters missing from the PDF`).to.deep.equal([])
      return read
    } finally {
      await page.close()
    }
  }

  it('when the published FY 2568 report page is printed, then every page is A4 portrait with nothing clipped, and it holds the figures, the narrative, the footnote and the sha256', async () => {
    const read = await printFits('/transparency/2568/year', 'main', { left: 20, right: 15 })
    expect(read.pages.length).to.be.within(2, 8)
    const flat = read.text.replace(/\s+/g, '')
    expect(flat).to.include('รายงานสถิติการยืม-คืนพัสดุ').and.include('หลักเกณฑ์การนับ').and.include('ผู้ยืมชดใช้เป็นเงินแล้ว')
    // The charts print (their labels are drawn text) and the hash is whole on the paper.
    expect(flat).to.include('จำนวนการยืม(ครั้ง)')
    const sha = (await (await fetch(`${base}/transparency/2568/year.json`)).json()) as { sha256: string }
    expect(flat).to.include(sha.sha256)
  })

  it('when the procedure pack is printed, then it is four A4 portrait pages — the flowchart, the rules, the durable-item slip and the consumables slip — with nothing clipped', async () => {
    const read = await printFits('/transparency/procedures', '.paper', { left: 18, right: 13 })
    expect(read.pages).to.have.length(4)
    const pages = read.text.split('\f').map((p) => p.replace(/\s+/g, ''))
    expect(pages[0]).to.include('แผนผังขั้นตอนการยืม-คืนพัสดุ').and.include('ลงทะเบียนคืนปิดรายการยืม').and.include('ติดตามทวงคืนภายใน')
    expect(pages[1]).to.include('หลักเกณฑ์การยืมพัสดุ').and.include('ข้อ๒๐๘')
    expect(pages[2]).to.include('ใบยืมพัสดุ(ครุภัณฑ์)').and.include('(ลงชื่อ)')
    expect(pages[3]).to.include('ใบยืมวัสดุ(วัสดุสิ้นเปลืองระหว่างหน่วยงาน)').and.include('ปริมาณเดียวกัน')
  })
})
