import fs from 'node:fs'
import type { Server } from 'node:http'
import { expect } from 'chai'
import type { Browser, Page } from 'playwright-core'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { CHROMIUM, closeBrowserSession, signedInBrowser } from '../helpers/browser.js'

const PX_PER_MM = 96 / 25.4

/** Long names and units on purpose: the pool and kit labels carry one more line than an asset's. */
const POOLS = [
  { code: 'CHAIR-POOL-2568/01', name: 'เก้าอี้พลาสติกสีน้ำเงินมีพนักพิง สำหรับงานพิธีและงานประชุมประชาคมหมู่บ้าน ทนแดดทนฝน', unit: 'ตัว' },
  { code: 'TENT', name: 'เต็นท์ผ้าใบ ขนาด ๔×๘ เมตร พร้อมโครงเหล็กและผ้าข้าง', unit: 'หลังพร้อมโครง' },
  { code: 'PLATE', name: 'จาน', unit: '' },
]

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
      for (const part of Array.from(label.querySelectorAll<HTMLElement>('.label-text, .code, .agency, .name, .kind'))) {
        if (part.scrollHeight > part.clientHeight + 1 || part.scrollWidth > part.clientWidth + 1) problems.push(`${code}: ${part.className} overflows`)
      }
      const kind = label.querySelector('.kind')
      if (!kind) problems.push(`${code}: no count/kit hint`)
      else {
        const k = kind.getBoundingClientRect()
        const text = label.querySelector('.label-text')!.getBoundingClientRect()
        if (k.height < 1 || k.bottom > text.bottom + 0.5 || k.right > box.right + 0.5) problems.push(`${code}: the hint is cut off`)
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

describe("e2e: counted items' pool labels and kit labels print on A4 (headless Chromium)", () => {
  let t: TestApp
  let server: Server
  let browser: Browser
  let page: Page
  let base: string
  let query = ''

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('CI must install chromium')
      this.skip()
    }
    t = await createTestApp()
    await updateSettings(t.ctx, { id: null, label: 'test' }, { agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่' })
    const stock = []
    for (const p of POOLS) stock.push((await makeStock(t.ctx, { code: p.code, name: p.name, unit: p.unit, quantity: 10 })).id)
    await makeAsset(t.ctx, { code: 'AMP-9' })
    const kit = await makeKit(
      t.ctx,
      'KIT-SOUND-MOBILE-2568',
      [{ code: 'AMP-9' }, { code: 'TENT', quantity: 2 }],
      'ชุดเครื่องเสียงเคลื่อนที่พร้อมเต็นท์สำหรับงานกลางแจ้งของหมู่บ้านและงานพิธีต่าง ๆ',
    )
    query = `stock=${stock.join(',')}&kits=${kit.id}`
    const user = await makeUser(t.ctx, ['finance'])
    ;({ server, base, browser, page } = await signedInBrowser(t.app, user))
  })

  after(async () => {
    await closeBrowserSession({ server, browser })
    await t?.close()
  })

  for (const c of [
    { layout: '3x8', minSymbolMm: 20 },
    { layout: '2x5', minSymbolMm: 30 },
    { layout: 'single', minSymbolMm: 35 },
  ]) {
    it(`when three pools and a kit are printed on ${c.layout}, then nothing is cut off, the hint shows whole and every QR symbol is at least ${c.minSymbolMm} mm`, async () => {
      await page.emulateMedia({ media: 'screen' })
      await page.goto(`${base}/labels/sheet?${query}&layout=${c.layout}`)
      await page.evaluate(() => document.fonts.ready)
      const layout = await printedLayout(page)
      expect(layout.labels).to.equal(4)
      expect(layout.problems).to.deep.equal([])
      expect(layout.smallestSymbolMm).to.be.at.least(c.minSymbolMm)
    })
  }
})
