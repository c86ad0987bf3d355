import fs from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import type { Browser, Page } from 'playwright-core'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { buildReportHistory } from '../helpers/report-history.js'
import { CHROMIUM, launchChromium } from '../helpers/browser.js'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'
import { approvePublication, reviewReport, submitReport } from '../../server/services/publication.service.js'

/*
 * Issue 17, in a real browser at a phone's 390 px and a desktop's 1280 px: each of the five findings
 * would have failed here — no element wider than its container on the main pages (the monthly chart
 * in its card, the register's columns), every dashboard count equal to its list's length, loan lists
 * with asset names, report comparisons judged per measure, the committee's home linking to the report.
 */

const WIDTHS = [390, 1280] as const

/** Elements wider than their container, or boxes whose content scrolls or is cut sideways. */
async function overflowing(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = []
    const name = (e: Element) =>
      `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${typeof e.className === 'string' && e.className ? `.${e.className.trim().split(/\s+/).join('.')}` : ''}`
    const hidden = (e: Element): boolean => {
      for (let n: Element | null = e; n && n !== document.body; n = n.parentElement) {
        const s = getComputedStyle(n)
        if (s.display === 'none' || s.visibility === 'hidden' || s.position === 'absolute' || s.position === 'fixed') return true
        if (s.clip !== 'auto' && s.clip !== '') return true
        if (n.tagName === 'DETAILS' && !(n as HTMLDetailsElement).open && n !== e && !n.firstElementChild?.contains(e)) return true
      }
      return false
    }
    for (const e of document.querySelectorAll('main *, header.topbar *')) {
      const r = e.getBoundingClientRect()
      if (r.width === 0 || r.height === 0 || hidden(e)) continue
      const s = getComputedStyle(e)
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && e.scrollWidth > e.clientWidth + 1 && !['TEXTAREA', 'SELECT', 'INPUT'].includes(e.tagName))
        out.push(`${name(e)} scrolls or cuts ${e.scrollWidth - e.clientWidth}px sideways`)
      const p = e.parentElement
      if (!p || (e.closest('svg') !== null && e.tagName.toLowerCase() !== 'svg')) continue
      const pr = p.getBoundingClientRect()
      if (r.right > pr.right + 1 || r.left < pr.left - 1) out.push(`${name(e)} (${Math.round(r.width)}px) is wider than ${name(p)} (${Math.round(pr.width)}px)`)
    }
    if (document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)
      out.push(`the page scrolls sideways (${document.documentElement.scrollWidth}px)`)
    return [...new Set(out)].slice(0, 15)
  })
}

/** Each summary card's number, its list's count and the lines the list shows. */
async function cardsAndLists(page: Page): Promise<Array<{ list: string; card: number; count: number; rows: number; more: boolean }>> {
  return page.evaluate(() =>
    [...document.querySelectorAll('[data-card-for]')].map((c) => {
      const list = c.getAttribute('data-card-for')!
      const section = document.querySelector(`[data-list="${list}"]`)
      const digits = (s: string) => Number(s.replace(/[๐-๙]/g, (d) => String(d.charCodeAt(0) - 0x0e50)).replace(/[^\d]/g, ''))
      return {
        list,
        card: digits(c.querySelector('.n')!.textContent ?? ''),
        count: section ? Number(section.getAttribute('data-count')) : 0,
        rows: section ? section.querySelectorAll('tbody tr, li[data-row]').length : 0,
        more: section ? section.querySelector('h2 a') !== null && list !== 'my-loans' : false,
      }
    }),
  )
}

describe('e2e: what waits for each person, and pages that fit their screen (issue 17)', function () {
  this.timeout(180_000)
  let t: TestApp
  let server: Server
  let browser: Browser
  let base = ''
  const people: Record<string, { username: string; password: string }> = {}
  let approvedByFinance = 0

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) throw new Error('CI must install chromium')
      this.skip()
    }
    t = await createTestApp()
    const h = await buildReportHistory(t.ctx)
    t.ctx.clock.set('2025-10-15T03:00:00.000Z') // FY 2568 has ended; FY 2569 has begun
    const committee = await makeUser(t.ctx, ['committee'], { name: 'นางกรรมการ ตรวจสอบ' })
    // FY 2568 is published (for /transparency); its first half waits for the committee's review.
    await submitReport(t.ctx, h.finance, 2568, 'year', {})
    await reviewReport(t.ctx, committee, 2568, 'year', {})
    await approvePublication(t.ctx, h.executive, 2568, 'year', {})
    await submitReport(t.ctx, h.finance, 2568, 'h1', {})

    const names = ['เครื่องขยายเสียงพกพาพร้อมไมโครโฟนไร้สาย', 'เต็นท์ผ้าใบ ขนาด 4x8 เมตร', 'โต๊ะพับอเนกประสงค์', 'โปรเจคเตอร์ห้องประชุม', 'กล้องถ่ายภาพดิจิทัล', 'ลำโพงเคลื่อนที่']
    for (const [i, n] of names.entries()) await makeAsset(t.ctx, { code: `W-${i + 1}`, name: n })
    const staff = h.staff
    const request = { purpose: 'ประชุมประชาคมหมู่บ้าน', place: 'ศาลาประชาคมหมู่ 2', startDate: '2025-10-15', dueDate: '2025-10-17' }
    await createLoan(t.ctx, staff, { ...request, assetCodes: ['W-1'], kind: 'off_premises' }) // to check
    await createLoan(t.ctx, staff, { ...request, assetCodes: ['W-2'], kind: 'in_premises' }) // to approve
    // Two to hand over today: one approved by finance (not theirs to hand over: said beside the count), one by finance2.
    const a = await createLoan(t.ctx, staff, { ...request, assetCodes: ['W-3'], kind: 'in_premises' })
    await approveLoan(t.ctx, h.finance, a.loan.id, {})
    approvedByFinance = a.loan.id
    const b = await createLoan(t.ctx, staff, { ...request, assetCodes: ['W-4', 'W-5'], kind: 'in_premises' })
    await approveLoan(t.ctx, h.finance2, b.loan.id, {})
    // On loan, due back the day after tomorrow (due soon) and today.
    const c = await createLoan(t.ctx, staff, { ...request, assetCodes: ['W-6'], kind: 'in_premises', dueDate: '2025-10-15' })
    await approveLoan(t.ctx, h.finance2, c.loan.id, {})
    await handOver(t.ctx, h.finance, c.loan.id)

    for (const [role, u] of Object.entries({ finance: h.finance, executive: h.executive, committee, staff }))
      people[role] = { username: u.username, password: u.password }
    server = t.app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await new Promise((r) => (server ? server.close(r) : r(undefined)))
    await t?.close()
  })

  async function pageAs(role: string, width: number): Promise<Page> {
    const context = await browser.newContext({ viewport: { width, height: 900 } })
    // tsx keeps function names with a helper (__name) that the page does not have.
    await context.addInitScript({ content: 'globalThis.__name = (f) => f' })
    const page = await context.newPage()
    await page.goto(`${base}/login`)
    await page.fill('#username', people[role]!.username)
    await page.fill('#password', people[role]!.password)
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')])
    await page.evaluate(() => document.fonts.ready)
    return page
  }

  const shots = process.env.SHOTS_DIR
  const shot = async (page: Page, name: string) => {
    if (shots) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true })
  }

  for (const width of WIDTHS) {
    it(`at ${width} px: every dashboard count equals its list, loans are listed by asset name, and what is left out says why`, async () => {
      for (const role of ['finance', 'executive', 'committee', 'staff']) {
        const page = await pageAs(role, width)
        await shot(page, `home-${role}-${width}`)
        const found = await cardsAndLists(page)
        expect(found.length, role).to.be.greaterThan(0)
        for (const f of found) {
          expect(f.card, `${role}: the card of ${f.list}`).to.equal(f.count)
          // The dashboard shows at most 5 lines with «ดูทั้งหมด» for the rest; my open loans up to 20.
          if (f.count > 0 && f.list !== 'reports') expect(f.rows, `${role}: the lines of ${f.list}`).to.equal(Math.min(f.count, f.list === 'my-loans' ? 20 : 5))
          if (f.list === 'reports') expect(f.rows, `${role}: the reports listed`).to.equal(f.count)
        }
        const items = await page.locator('.loans-table td .items').allInnerTexts()
        for (const text of items) expect(text, role).to.not.match(/\bW-\d\b/)
        if (role === 'finance') {
          expect(items.join(' ')).to.include('กล้องถ่ายภาพดิจิทัล')
          const handOver = page.locator('#dash-toHandOver')
          expect(await handOver.locator('.left-out').innerText()).to.include('1 ที่ท่านอนุมัติเองหรือเป็นผู้ยืม ส่งมอบไม่ได้')
          expect(await handOver.locator(`a[href="/loans/${approvedByFinance}"]`).count()).to.equal(0)
        }
        if (role === 'staff') expect(await page.locator('#dash-myToCollect').innerText()).to.include('โปรเจคเตอร์ห้องประชุม, กล้องถ่ายภาพดิจิทัล')
        expect(await overflowing(page), `${role} home at ${width}`).to.deep.equal([])
        await page.context().close()
      }
    })

    it(`at ${width} px: after finance submits a report, the committee's home links to it and the link opens it`, async () => {
      const page = await pageAs('committee', width)
      const link = page.locator('#dash-reports a[href^="/reports?fy=2568&period=h1"]')
      expect(await link.count()).to.equal(1)
      expect(await link.innerText()).to.include('รอท่านทบทวน')
      await Promise.all([page.waitForURL(/\/reports\?fy=2568&period=h1/), link.click()])
      expect(await page.locator('#publication').count()).to.equal(1)
      expect(await page.locator('select[name=period] option[selected]').getAttribute('value')).to.equal('h1')
      // /reports without a period opens on the one waiting for this person, not the current year.
      await page.goto(`${base}/reports`)
      expect(await page.locator('select[name=period] option[selected]').getAttribute('value')).to.equal('h1')
      await page.context().close()
    })

    it(`at ${width} px: no element is wider than its container on the main pages; the monthly chart fits its card`, async () => {
      const visits: Array<[string, string]> = [
        ['finance', '/'],
        ['finance', '/loans'],
        ['finance', '/loans/queue'],
        ['finance', '/reports?fy=2568&period=year'],
        ['finance', '/register?fy=2568&period=year'],
        ['finance', '/transparency/2568/year'],
        ['committee', '/reports?fy=2568&period=year'],
        ['staff', '/'],
      ]
      const problems: string[] = []
      for (const [role, path] of visits) {
        const page = await pageAs(role, width)
        await page.goto(base + path)
        await page.evaluate(() => document.fonts.ready)
        await shot(page, `${path.replace(/[^a-z0-9]+/gi, '_')}-${role}-${width}`)
        for (const p of await overflowing(page)) problems.push(`${path} (${role}): ${p}`)
        if (path.startsWith('/reports') || path.startsWith('/transparency')) {
          // The monthly chart: twelve months, September's bar inside the card and on screen.
          const fits = await page.evaluate(() => {
            const box = document.querySelector('.chart-month')!.getBoundingClientRect()
            const svg = [...document.querySelectorAll('.chart-month svg')].find((s) => s.getBoundingClientRect().width > 0)!
            const bars = [...svg.querySelectorAll('rect.bar')]
            const last = bars[bars.length - 1]!.getBoundingClientRect()
            return {
              bars: bars.length,
              inside: last.left >= box.left && last.right <= box.right + 0.5,
              svg: svg.getBoundingClientRect().right <= box.right + 0.5,
            }
          })
          expect(fits, `${path} at ${width}`).to.deep.equal({ bars: 12, inside: true, svg: true })
        }
        await page.context().close()
      }
      expect(problems).to.deep.equal([])
    })

    it(`at ${width} px: the report's comparisons say better or worse per measure, with no arrow for a change that rounds to zero`, async () => {
      const page = await pageAs('finance', width)
      await page.goto(`${base}/reports?fy=2568&period=year`)
      const cards = await page.evaluate(() =>
        [...document.querySelectorAll('.report-card')].map((c) => ({
          key: c.getAttribute('data-key'),
          trend: c.querySelector('.trend')?.className ?? '',
          text: (c.querySelector('.trend') as HTMLElement | null)?.innerText ?? '',
        })),
      )
      const byKey = Object.fromEntries(cards.map((c) => [c.key, c]))
      for (const key of ['reportPages.h.requests', 'reportPages.h.loans', 'reportPages.h.items']) {
        expect(byKey[key]!.trend, key).to.match(/neutral|same/)
        expect(byKey[key]!.text, key).to.not.match(/ดีขึ้น|แย่ลง/)
      }
      for (const key of ['reportPages.h.overdue', 'reportPages.h.damaged', 'reportPages.h.lost', 'reportPages.h.onTimeRate']) {
        const c = byKey[key]!
        if (/▲|▼/.test(c.text)) expect(c.trend, key).to.match(/better|worse/)
        if (c.trend.includes('better')) expect(c.text).to.include('ดีขึ้น')
        if (c.trend.includes('worse')) expect(c.text).to.include('แย่ลง')
      }
      for (const c of cards) if (c.trend.includes('same')) expect(c.text).to.not.match(/▲|▼/)
      // More late returns is worse: red, «แย่ลง», whatever the arrow.
      const overdue = byKey['reportPages.h.overdue']!
      if (overdue.text.includes('▲')) expect(overdue.trend).to.include('worse')
      await page.context().close()
    })
  }
})
