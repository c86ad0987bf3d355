import fs from 'node:fs'
import type { Server } from 'node:http'
import { expect } from 'chai'
import type { Browser, Page } from 'playwright-core'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeStock } from '../helpers/stock.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { approveLoan, createLoan, handOver, receiveReturn } from '../../server/services/loan.service.js'
import { CHROMIUM, closeBrowserSession, signedInBrowser } from '../helpers/browser.js'

function pdfPages(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length
}

/**
 * The borrow slip with counted lines: each has its quantity and unit and, once back, its counts
 * by condition in the remarks — the widest remarks a slip carries. Eight lines still fit one A4.
 */
describe('e2e: a borrow slip with counted items prints on one A4 page (headless Chromium)', function () {
  this.timeout(60_000)
  let t: TestApp
  let server: Server
  let browser: Browser
  let page: Page
  let base: string
  let returned = 0
  let partial = 0

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('CI must install chromium')
      this.skip()
    }
    t = await createTestApp()
    const sys = { id: null, label: 'test' }
    await updateSettings(t.ctx, sys, {
      agencyName: 'องค์การบริหารส่วนตำบลหนองบัวใหญ่',
      agencyAddress: '99 หมู่ที่ 1 ตำบลหนองบัวใหญ่ อำเภอเมือง',
      province: 'จังหวัดนครราชสีมา',
      mayor: { name: 'นายสมศักดิ์ ใจดี', position: 'นายกองค์การบริหารส่วนตำบลหนองบัวใหญ่' },
      financeDirector: { name: 'นางวันดี มีทรัพย์', position: 'ผู้อำนวยการกองคลัง' },
      suppliesOfficer: { name: 'นายพัสดุ รักงาน', position: 'เจ้าพนักงานพัสดุชำนาญงาน' },
    })
    const counter = await makeUser(t.ctx, ['finance'], { name: 'นางสาวเคาน์เตอร์ พัสดุ' })
    const checker = await makeUser(t.ctx, ['finance'], { name: 'นายตรวจ สอบดี' })
    const exec = await makeUser(t.ctx, ['executive'], { name: 'นายสมศักดิ์ ใจดี' })
    const assets = [
      'เครื่องขยายเสียงพร้อมลำโพงและไมโครโฟนไร้สาย ชุดใหญ่สำหรับงานกลางแจ้ง',
      'เต็นท์ผ้าใบ ขนาด ๔×๘ เมตร',
      'พัดลมอุตสาหกรรม ขนาด ๒๔ นิ้ว',
      'ลำโพงเคลื่อนที่',
      'เต็นท์ผ้าใบ ขนาด ๔×๘ เมตร',
    ]
    for (const [i, name] of assets.entries()) await makeAsset(t.ctx, { code: `416-66-${String(i + 1).padStart(4, '0')}`, name })
    const pools = [
      ['CHAIR', 'เก้าอี้พลาสติก สีน้ำเงิน มีพนักพิง', 'ตัว', 300],
      ['TABLE', 'โต๊ะพับ ขาเหล็ก หน้าโฟเมก้า', 'ตัว', 60],
      ['PLATE', 'จานกระเบื้อง ขนาด ๙ นิ้ว', 'ใบ', 500],
      ['CLOTH', 'ผ้าปูโต๊ะ สีขาว', 'ผืน', 80],
    ] as const
    for (const [code, name, unit, quantity] of pools) await makeStock(t.ctx, { code, name, unit, quantity })
    const request = (startDate: string, dueDate: string, tent = '416-66-0002') => ({
      assetCodes: ['416-66-0001', tent, '416-66-0003', '416-66-0004'],
      stock: [
        { code: 'CHAIR', quantity: 120 },
        { code: 'TABLE', quantity: 20 },
        { code: 'PLATE', quantity: 250 },
        { code: 'CLOTH', quantity: 20 },
      ],
      purpose: 'จัดงานบวชและงานทำบุญประจำปีของหมู่บ้าน ๒๕๖๘',
      place: 'ศาลาการเปรียญ วัดบ้านหนองบัว หมู่ที่ ๓',
      kind: 'off_premises',
      startDate,
      dueDate,
      externalBorrower: {
        type: 'public',
        name: 'พระครูสุนทรธรรมโกวิท',
        organisation: 'วัดบ้านหนองบัว',
        phone: '089 111 2222',
        address: '12 ถนนสายกลาง ตำบลหนองบัวใหญ่',
        villageNo: '3',
        idNumber: '3-3001-00123-45-6',
      },
    })
    const full = await createLoan(t.ctx, counter, request('2025-01-15', '2025-01-17'))
    const half = await createLoan(t.ctx, counter, request('2025-01-20', '2025-01-22', '416-66-0005')) // the first tent comes back torn
    for (const l of [full, half]) {
      await approveLoan(t.ctx, checker, l.loan.id, {})
      await approveLoan(t.ctx, exec, l.loan.id, {})
    }
    await handOver(t.ctx, counter, full.loan.id)
    t.ctx.clock.set('2025-01-17T05:00:00.000Z')
    await receiveReturn(t.ctx, counter, full.loan.id, {
      items: ['416-66-0001', '416-66-0002', '416-66-0003', '416-66-0004'].map((c, i) => ({
        assetCode: c,
        condition: i === 1 ? 'damaged' : 'good',
        note: i === 1 ? 'ผ้าใบขาด' : '',
        returnedBy: 'นายสมหมาย ส่งของ',
      })),
      stock: [
        { code: 'CHAIR', good: 114, damaged: 3, lost: 3, note: 'ขาหัก ๓ ตัว หาย ๓ ตัว', returnedBy: 'นายสมหมาย ส่งของ' },
        { code: 'TABLE', good: 18, damaged: 2, lost: 0, note: 'ขาโต๊ะงอ', returnedBy: 'นายสมหมาย ส่งของ' },
        { code: 'PLATE', good: 231, damaged: 7, lost: 12, note: 'แตก', returnedBy: 'นายสมหมาย ส่งของ' },
        { code: 'CLOTH', good: 20, damaged: 0, lost: 0, returnedBy: 'นายสมหมาย ส่งของ' },
      ],
    })
    returned = full.loan.id
    // A partial return: the remarks carry the date and what is still out.
    t.ctx.clock.set('2025-01-20T02:00:00.000Z')
    await handOver(t.ctx, counter, half.loan.id)
    t.ctx.clock.set('2025-01-21T05:00:00.000Z')
    await receiveReturn(t.ctx, counter, half.loan.id, {
      stock: [
        { code: 'CHAIR', good: 60, damaged: 1, lost: 0 },
        { code: 'TABLE', good: 10, damaged: 0, lost: 1 },
        { code: 'PLATE', good: 100, damaged: 5, lost: 5 },
        { code: 'CLOTH', good: 10 },
      ],
    })
    partial = half.loan.id

    ;({ server, base, browser, page } = await signedInBrowser(t.app, counter))
  })

  after(async () => {
    await closeBrowserSession({ server, browser })
    await t?.close()
  })

  async function printSlip(id: number): Promise<{ pdf: Buffer; text: string }> {
    await page.emulateMedia({ media: 'screen' })
    const res = await page.goto(`${base}/loans/${id}/slip`)
    expect(res?.status()).to.equal(200)
    await page.evaluate(() => document.fonts.ready)
    await page.emulateMedia({ media: 'print' })
    const text = await page.evaluate(() => document.querySelector('.paper')?.textContent?.replace(/\s+/g, ' ') ?? '')
    return { pdf: await page.pdf({ format: 'A4', printBackground: true }), text }
  }

  it('when a community loan of four assets and four counted lines comes back with damaged and lost units, then its slip shows each line’s counts and fits one A4 page', async () => {
    const { pdf, text } = await printSlip(returned)
    expect(text).to.include('๑๒๐ ตัว').and.include('๒๕๐ ใบ').and.include('ดี ๒๓๑ ชำรุด ๗ สูญหาย ๑๒').and.include('ตามหมายเหตุแต่ละรายการ')
    expect(pdfPages(pdf)).to.equal(1)
  })

  it('when the counted lines are partly back, then each remark gives the date, the counts and what is still out, and the slip fits one A4 page', async () => {
    const { pdf, text } = await printSlip(partial)
    expect(text).to.include('คืน ๒๑ ม.ค. ๒๕๖๘ ดี ๖๐ ชำรุด ๑ ค้าง ๕๙')
    expect(pdfPages(pdf)).to.equal(1)
  })
})
