import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import type { Server } from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import type { Browser, Page } from 'playwright-core'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { approveLoan, createLoan, handOver, receiveReturn } from '../../server/services/loan.service.js'
import { CHROMIUM, closeBrowserSession, signedInBrowser } from '../helpers/browser.js'

const PDFTOTEXT = '/usr/bin/pdftotext'

const NAMES = [
  'เครื่องขยายเสียงพร้อมลำโพงและไมโครโฟนไร้สาย ชุดใหญ่สำหรับงานประชุมกลางแจ้ง',
  'เต็นท์ผ้าใบ ขนาด ๔×๘ เมตร',
  'โต๊ะพับ',
  'เก้าอี้พลาสติก',
  'ไมโครโฟนไร้สาย',
  'โปรเจกเตอร์ พร้อมจอรับภาพ',
  'พัดลมอุตสาหกรรม ขนาด ๒๔ นิ้ว',
  'ลำโพงเคลื่อนที่',
]

function pdfPages(pdf: Buffer): number {
  return (pdf.toString('latin1').match(/\/Type\s*\/Page(?![s\w])/g) ?? []).length
}

/**
 * Marks the first and the last line box of every block that must not break across pages (each
 * signature section, the notes) with an absolutely placed tag: the start tag lands on the page
 * where the block begins, the end tag where it ends. Absolute tags take no room, so the layout
 * printed is the layout tested.
 */
async function tagUnbreakableBlocks(page: Page): Promise<number> {
  return page.evaluate(() => {
    const blocks = Array.from(document.querySelectorAll<HTMLElement>('.paper .sig-row, .paper .notes'))
    blocks.forEach((b, i) => {
      b.style.position = 'relative'
      for (const [edge, name] of [
        ['top', 'BEGIN'],
        ['bottom', 'END'],
      ] as const) {
        const tag = document.createElement('span')
        tag.textContent = `ZZ${name}${i}ZZ`
        tag.style.cssText = `position:absolute;left:0;${edge}:0;font:4px sans-serif;line-height:4px;color:#000;`
        b.appendChild(tag)
      }
    })
    return blocks.length
  })
}

/** The text of each page of a PDF, by poppler's pdftotext. */
function pageTexts(pdf: Buffer, pages: number): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-slip-'))
  try {
    const file = path.join(dir, 'slip.pdf')
    fs.writeFileSync(file, pdf)
    return Array.from({ length: pages }, (_, i) => execFileSync(PDFTOTEXT, ['-f', String(i + 1), '-l', String(i + 1), file, '-'], { encoding: 'utf8' }))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

describe('e2e: the borrow slip prints on A4 (headless Chromium)', function () {
  this.timeout(60_000)
  let t: TestApp
  let server: Server
  let browser: Browser
  let page: Page
  let base: string
  const loans: Record<'staff8' | 'community8' | 'staff30', number> = { staff8: 0, community8: 0, staff30: 0 }
  /** Pending requests of 10…24 items: somewhere among them the page break falls at each signature section. */
  const sweep: Array<{ items: number; id: number }> = []

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
      chiefAdministrator: { name: 'นางสาวมาลี ศรีสุข', position: 'ปลัดองค์การบริหารส่วนตำบลหนองบัวใหญ่' },
      financeDirector: { name: 'นางวันดี มีทรัพย์', position: 'ผู้อำนวยการกองคลัง' },
      suppliesOfficer: { name: 'นายพัสดุ รักงาน', position: 'เจ้าพนักงานพัสดุชำนาญงาน' },
      delegationLine: 'ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบลหนองบัวใหญ่',
    })
    const staff = await makeUser(t.ctx, ['staff'], { name: 'นายสมชาย ขยันยิ่ง' })
    const checker = await makeUser(t.ctx, ['finance'], { name: 'นายตรวจ สอบดี' })
    const issuer = await makeUser(t.ctx, ['finance'], { name: 'นางสาวจ่ายของ ตรงเวลา' })
    const chief = await makeUser(t.ctx, ['executive'], { name: 'มาลี ศรีสุข' })
    const codes: string[] = []
    for (let i = 0; i < 70; i++) codes.push((await makeAsset(t.ctx, { code: `416-66-${String(i + 1).padStart(4, '0')}`, name: NAMES[i % NAMES.length] })).code)
    const request = (assetCodes: string[], kind = 'off_premises') => ({
      assetCodes,
      purpose: 'จัดงานประเพณีบุญบั้งไฟประจำปี ๒๕๖๘ ของหมู่บ้าน',
      place: 'ศาลาประชาคมหมู่ที่ ๓ บ้านหนองบัว',
      kind,
      startDate: '2025-01-15',
      dueDate: '2025-01-17',
    })

    // The fullest slip of eight items: checked, approved by the ปลัด (delegation line), handed over, back with one damaged.
    const full = await createLoan(t.ctx, staff, request(codes.slice(0, 8)))
    await approveLoan(t.ctx, checker, full.loan.id, {})
    await approveLoan(t.ctx, chief, full.loan.id, {})
    await handOver(t.ctx, issuer, full.loan.id)
    t.ctx.clock.set('2025-01-17T05:00:00.000Z')
    await receiveReturn(t.ctx, issuer, full.loan.id, {
      items: codes
        .slice(0, 8)
        .map((c, i) => ({ assetCode: c, condition: i === 2 ? 'damaged' : 'good', note: i === 2 ? 'ขาโต๊ะหัก' : '', returnedBy: 'นายสมหมาย ส่งของ' })),
    })
    t.ctx.clock.set('2025-01-15T03:00:00.000Z')
    loans.staff8 = full.loan.id
    // A community borrower: address, ID number and the personal-data notice take more lines.
    loans.community8 = (
      await createLoan(t.ctx, checker, {
        ...request(codes.slice(8, 16)),
        externalBorrower: {
          type: 'public',
          name: 'นางบุญมี ศรัทธา',
          organisation: 'กลุ่มแม่บ้านบ้านหนองบัว',
          phone: '081 234 5678',
          address: '45 ถนนสายกลาง',
          villageNo: '3',
          idNumber: '3-3001-00123-45-6',
        },
      })
    ).loan.id
    const big = await createLoan(t.ctx, staff, request(codes.slice(16, 46), 'in_premises'))
    await approveLoan(t.ctx, checker, big.loan.id, {})
    await handOver(t.ctx, issuer, big.loan.id)
    loans.staff30 = big.loan.id
    for (let n = 10; n <= 24; n++) sweep.push({ items: n, id: (await createLoan(t.ctx, staff, request(codes.slice(46, 46 + n)))).loan.id })

    ;({ server, base, browser, page } = await signedInBrowser(t.app, issuer))
  })

  after(async () => {
    await closeBrowserSession({ server, browser })
    await t?.close()
  })

  async function printSlip(id: number): Promise<Buffer> {
    await page.emulateMedia({ media: 'screen' })
    const res = await page.goto(`${base}/loans/${id}/slip`)
    expect(res?.status()).to.equal(200)
    await page.evaluate(() => document.fonts.ready)
    expect(await page.evaluate(() => document.fonts.check("16pt 'Sarabun Doc'", 'ก'))).to.equal(true)
    // the print button appears once the script has run
    expect(await page.isVisible('#print-button')).to.equal(true)
    await page.emulateMedia({ media: 'print' })
    return page.pdf({ format: 'A4', printBackground: true })
  }

  for (const which of ['staff8', 'community8'] as const) {
    it(`when the slip of an eight-item loan (${which === 'staff8' ? 'staff, every section filled' : 'community borrower'}) is printed, then it fits one A4 page`, async () => {
      const pdf = await printSlip(loans[which])
      expect(pdfPages(pdf)).to.equal(1)
    })
  }

  /** Prints the slip with its unbreakable blocks tagged; returns each page's text and where each block begins and ends. */
  async function printTagged(id: number) {
    const pages = pdfPages(await printSlip(id))
    const blocks = await tagUnbreakableBlocks(page)
    expect(blocks).to.equal(4) // borrower and head; officer and approver; hand-over and return; notes
    const tagged = await page.pdf({ format: 'A4', printBackground: true })
    expect(pdfPages(tagged), 'the tags change no page').to.equal(pages)
    const texts = pageTexts(tagged, pages)
    const pageOf = (tag: string) => texts.findIndex((text) => text.includes(tag))
    const spans = Array.from({ length: blocks }, (_, i) => ({ begin: pageOf(`ZZBEGIN${i}ZZ`), end: pageOf(`ZZEND${i}ZZ`) }))
    return { pages, texts, spans }
  }

  it('when the slip of a thirty-item loan is printed, then it runs onto more pages with the table header repeated and no signature section split', async function () {
    if (!fs.existsSync(PDFTOTEXT)) {
      if (process.env.CI) throw new Error('CI must install poppler-utils')
      this.skip()
    } // poppler-utils reads the pages' text
    const { pages, texts, spans } = await printTagged(loans.staff30)
    expect(pages).to.be.greaterThan(1)
    spans.forEach((s, i) => {
      expect(s.begin, `start of block ${i}`).to.be.greaterThan(-1)
      expect(s.end, `block ${i} ends on the page it begins`).to.equal(s.begin)
    })
    // every page with item rows has the table header above them
    for (let p = 0; p < pages; p++) {
      if (/416-66-\d{4}/.test(texts[p]!)) expect(texts[p], `page ${p + 1}`).to.include('หมายเลขครุภัณฑ์')
    }
    expect(texts.join('\n').match(/416-66-\d{4}/g)).to.have.length(30)
  })

  it('when slips of 10 to 24 items are printed, then wherever the page break falls, no signature section or the notes is cut in two', async function () {
    if (!fs.existsSync(PDFTOTEXT)) {
      if (process.env.CI) throw new Error('CI must install poppler-utils')
      this.skip()
    }
    const moved = new Set<number>()
    for (const { items, id } of sweep) {
      const { pages, spans } = await printTagged(id)
      expect(pages, `${items} items`).to.be.within(1, 2)
      spans.forEach((s, i) => {
        expect(s.begin, `${items} items, start of block ${i}`).to.be.greaterThan(-1)
        expect(s.end, `${items} items: block ${i} ends on the page it begins`).to.equal(s.begin)
        if (s.begin === 1) moved.add(i)
      })
    }
    // the sweep did push each block onto the second page at some point, so each was tested at a break
    expect([...moved].sort()).to.deep.equal([0, 1, 2, 3])
  })
})
