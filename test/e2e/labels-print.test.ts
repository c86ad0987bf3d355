import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { Resvg } from '@resvg/resvg-js'
import { chromium, type Browser, type Page } from 'playwright-core'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { qrSvg, qrUrl } from '../../server/services/label.service.js'

const CHROMIUM = '/usr/bin/chromium'
const PX_PER_MM = 96 / 25.4

const NAMES = [
  'เครื่องขยายเสียงพร้อมลำโพงและไมโครโฟนไร้สาย ชุดใหญ่สำหรับงานประชุมกลางแจ้งและงานพิธีการ',
  'เต็นท์ผ้าใบ ขนาด ๔×๘ เมตร',
  'คอมพิวเตอร์โน้ตบุ๊ก สำหรับงานประมวลผล แบบที่ ๒ (จอแสดงภาพขนาดไม่น้อยกว่า ๑๔ นิ้ว)',
  'โต๊ะพับ',
]

/**
 * A one-frame Y4M "camera" showing the label QR of `url` (Chromium loops it as a fake webcam).
 * Grey only: the luma plane is the picture, the chroma planes are neutral.
 */
function fakeCameraShowing(url: string): string {
  const W = 640
  const H = 480
  const img = new Resvg(qrSvg(url), { fitTo: { mode: 'width', value: 400 }, background: 'white' }).render()
  const pixels = img.pixels // a getter that copies: read it once
  const y = Buffer.alloc(W * H, 235)
  const left = (W - img.width) >> 1
  const top = (H - img.height) >> 1
  for (let r = 0; r < img.height; r++) {
    for (let c = 0; c < img.width; c++) y[(top + r) * W + left + c] = pixels[(r * img.width + c) * 4]! < 128 ? 16 : 235
  }
  const chroma = Buffer.alloc((W / 2) * (H / 2) * 2, 128)
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'yk-camera-')), 'label.y4m')
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\nFRAME\n`), y, chroma]))
  return file
}

function pdfPages(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length
}

/** In print media: every label inside its sheet, no text cut off, and the QR symbol's size in mm. */
async function printedLayout(page: Page) {
  await page.emulateMedia({ media: 'print' })
  return page.evaluate((pxPerMm) => {
    const problems: string[] = []
    let smallestSymbolMm = Infinity
    for (const label of Array.from(document.querySelectorAll<HTMLElement>('.label'))) {
      const code = label.querySelector('.code')?.textContent ?? '?'
      const sheet = label.closest('.sheet')!.getBoundingClientRect()
      const box = label.getBoundingClientRect()
      if (box.left < sheet.left - 0.5 || box.right > sheet.right + 0.5 || box.top < sheet.top - 0.5 || box.bottom > sheet.bottom + 0.5)
        problems.push(`${code}: outside its sheet`)
      for (const part of Array.from(label.querySelectorAll<HTMLElement>('.label-text, .code, .agency, .name'))) {
        if (part.scrollHeight > part.clientHeight + 1 || part.scrollWidth > part.clientWidth + 1) problems.push(`${code}: ${part.className} overflows`)
      }
      const qr = label.querySelector('.qr svg')!
      const r = qr.getBoundingClientRect()
      if (r.right > box.right + 0.5 || r.bottom > box.bottom + 0.5) problems.push(`${code}: QR outside the label`)
      const full = Number(qr.getAttribute('viewBox')!.split(' ')[2])
      smallestSymbolMm = Math.min(smallestSymbolMm, (r.width * (full - 8)) / full / pxPerMm)
    }
    return { problems, smallestSymbolMm, labels: document.querySelectorAll('.label').length }
  }, PX_PER_MM)
}

describe('e2e: label sheets print on A4 (headless Chromium)', () => {
  let t: TestApp
  let server: Server
  let browser: Browser
  let page: Page
  let base: string
  const ids: number[] = []
  const SCANNED = 'ครุภัณฑ์-๖๖/0001'
  let camera: string | undefined

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('CI must install chromium')
      this.skip()
    }
    t = await createTestApp()
    await updateSettings(t.ctx, { id: null, label: 'test' }, { agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่' })
    for (let i = 0; i < 30; i++) {
      const code =
        i === 0 ? 'ครุภัณฑ์-๖๖/0001' : i === 1 ? 'กค.416-66-0001' : i === 2 ? 'ครุภัณฑ์สำนักงาน-๒๕๖๖/ทะเบียน/000123456' : `416-66-${String(i).padStart(4, '0')}`
      ids.push((await makeAsset(t.ctx, { code, name: NAMES[i % NAMES.length] })).id)
    }
    const user = await makeUser(t.ctx, ['finance'])
    server = await new Promise<Server>((resolve) => {
      const s = t.app.listen(0, '127.0.0.1', () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    camera = fakeCameraShowing(qrUrl(t.ctx.config.publicBaseUrl, SCANNED))
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${camera}`,
      ],
    })
    page = await (await browser.newContext({ permissions: ['camera'] })).newPage()
    await page.goto(`${base}/login`)
    await page.fill('#username', user.username)
    await page.fill('#password', user.password)
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')])
  })

  after(async () => {
    await browser?.close()
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)))
    await t?.close()
    if (camera) fs.rmSync(path.dirname(camera), { recursive: true, force: true })
  })

  const cases = [
    { layout: '3x8', assets: 30, pages: 2, minSymbolMm: 20 },
    { layout: '2x5', assets: 30, pages: 3, minSymbolMm: 30 },
    { layout: 'single', assets: 3, pages: 3, minSymbolMm: 35 },
  ]
  for (const c of cases) {
    it(`when ${c.assets} labels are printed on ${c.layout}, then the PDF has ${c.pages} A4 pages, nothing is cut off and every QR symbol is at least ${c.minSymbolMm} mm`, async () => {
      await page.emulateMedia({ media: 'screen' })
      await page.goto(`${base}/labels/sheet?ids=${ids.slice(0, c.assets).join(',')}&layout=${c.layout}`)
      await page.evaluate(() => document.fonts.ready)
      const layout = await printedLayout(page)
      expect(layout.labels).to.equal(c.assets)
      expect(layout.problems).to.deep.equal([])
      expect(layout.smallestSymbolMm).to.be.at.least(c.minSymbolMm)
      const pdf = await page.pdf({ format: 'A4', printBackground: false })
      expect(pdfPages(pdf)).to.equal(c.pages)
    })
  }

  it("when the scanner page's camera sees a printed label (Thai code), then the browser lands on that asset's page", async () => {
    await page.emulateMedia({ media: 'screen' })
    await page.goto(`${base}/scan`)
    // The camera was allowed already, so a kiosk starts it by itself; a person would press the button.
    await page.waitForURL(`${base}/q/${encodeURIComponent(SCANNED)}`, { timeout: 15_000 })
    expect(await page.textContent('main code')).to.equal(SCANNED)
  })
})
