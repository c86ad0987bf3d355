import { expect } from 'chai'
import supertest from 'supertest'
import { createTestApp, csrfFrom, signedInAs, type TestApp } from '../helpers/app.js'
import { codeKey } from '../../db/schema.js'
import { makeUser } from '../helpers/builders.js'
import { query } from '../helpers/db.js'
import { makeAsset } from '../helpers/assets.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { LABEL_CAP, qrUrl } from '../../server/services/label.service.js'

const BASE = 'https://yk.example.go.th' // PUBLIC_BASE_URL of the test context

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** The labels of a sheet page, as a person reads them. */
function labelsOf(html: string): Array<{ agency: string; code: string; name: string; svg: boolean }> {
  return [...html.matchAll(/<div class="label(?: [\w-]+)*">([\s\S]*?)<\/div>\s*<\/div>/g)].map((m) => {
    const part = (cls: string) => decodeEntities(new RegExp(`<p class="${cls}"[^>]*>([\\s\\S]*?)</p>`).exec(m[1]!)?.[1]?.trim() ?? '')
    // The agency's name may wrap only between its words (<wbr>): compare the text.
    return { agency: part('agency').replace(/<wbr>/g, ''), code: part('code'), name: part('name'), svg: /<svg [^>]*viewBox=/.test(m[1]!) }
  })
}

function sheetsOf(html: string): string[] {
  return [...html.matchAll(/<section class="sheet (layout-[\w]+)"/g)].map((m) => m[1]!)
}

/** 2,001 and more assets are quicker to insert straight into the table than through the service: 500 rows a statement. */
async function insertAssets(t: TestApp, n: number, prefix: string): Promise<void> {
  const category = await query(t.ctx.db).value<number>("SELECT id FROM category WHERE code = 'electrical'")
  await t.ctx.db.transaction().execute(async (trx) => {
    for (let from = 1; from <= n; from += 500) {
      const params: unknown[] = []
      const values: string[] = []
      for (let i = from; i <= Math.min(n, from + 499); i++) {
        const code = `${prefix}-${String(i).padStart(5, '0')}`
        params.push(code, codeKey(code), `พัดลมตั้งพื้น ${i}`, category)
        values.push("(?, ?, ?, ?, 'available', 1, '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z')")
      }
      await query(trx).run(
        `INSERT INTO asset (code, code_key, name, category_id, status, loanable, created_at, updated_at) VALUES ${values.join(', ')}`,
        ...params,
      )
    }
  })
}

describe('labels and the scanner (pages)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  describe('who may print', () => {
    it('when finance opens the chooser and a sheet, then 200; staff get 403; anonymous go to sign-in with next', async () => {
      const a = await makeAsset(t.ctx)
      const { agent: finance } = await signedInAs(t, ['finance'])
      const { agent: staff } = await signedInAs(t, ['staff', 'executive', 'committee', 'admin'])
      for (const path of ['/labels', `/labels/sheet?ids=${a.id}`]) {
        await finance.get(path).expect(200)
        const denied = await staff.get(path)
        expect(denied.status, path).to.equal(403)
        expect(denied.text).to.include('กองคลัง (พัสดุ)')
        const anon = await supertest(t.app).get(path)
        expect(anon.status, path).to.equal(303)
        expect(anon.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`)
      }
    })
  })

  describe('the chooser', () => {
    it("when finance opens /labels, then it lists the register with a tick per asset, the register's filters and the agency's layout preselected", async () => {
      const a = await makeAsset(t.ctx, { name: 'เครื่องขยายเสียง' })
      const b = await makeAsset(t.ctx, { name: 'เต็นท์', category: 'office' })
      await updateSettings(t.ctx, { id: null, label: 'test' }, { labelLayout: '2x5' })
      const { agent } = await signedInAs(t, ['finance'])
      const page = await agent.get('/labels').expect(200)
      expect(page.text).to.include('<form method="get" action="/labels/sheet"')
      expect(page.text).to.include(`name="ids" value="${a.id}"`).and.include(`name="ids" value="${b.id}"`)
      expect(page.text).to.match(/<option value="2x5" selected>/)
      expect(page.text).to.include('name="all" value="1"')

      const filtered = await agent.get('/labels?category=office').expect(200)
      expect(filtered.text).to.include(`name="ids" value="${b.id}"`).and.not.include(`name="ids" value="${a.id}"`)
      expect(filtered.text, 'the filter travels with the print form').to.include('<input type="hidden" name="category" value="office">')
    })

    it('when the print form is sent with nothing ticked, then it comes back to the chooser, filters kept, with a Thai message', async () => {
      await makeAsset(t.ctx)
      const { agent } = await signedInAs(t, ['finance'])
      const res = await agent.get('/labels/sheet?category=electrical&layout=3x8')
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/labels?category=electrical')
      const back = await agent.get(res.headers.location as string).expect(200)
      expect(back.text).to.include('กรุณาเลือกครุภัณฑ์อย่างน้อย ๑ รายการ')
    })

    it('when the asset page\'s "print label" link is followed, then one click leads to a printable single label', async () => {
      const a = await makeAsset(t.ctx, { code: 'กค.416-66-0001', name: 'เต็นท์ผ้าใบ' })
      const { agent } = await signedInAs(t, ['finance'])
      const assetPage = await agent.get(`/assets/${a.id}`).expect(200)
      const href = decodeEntities(/href="(\/labels\?[^"]+)"/.exec(assetPage.text)![1]!)
      expect(href).to.equal(`/labels?ids=${a.id}&layout=single`)
      const hop = await agent.get(href).expect(303)
      expect(hop.headers.location).to.equal(`/labels/sheet?ids=${a.id}&layout=single`)
      const sheet = await agent.get(hop.headers.location as string).expect(200)
      expect(sheetsOf(sheet.text)).to.deep.equal(['layout-single'])
      expect(labelsOf(sheet.text)).to.deep.equal([{ agency: 'องค์การบริหารส่วนตำบล', code: 'กค.416-66-0001', name: 'เต็นท์ผ้าใบ', svg: true }])
      expect(sheet.text).to.include('id="print-button"').and.include('<script src="/js/label-sheet.js" defer></script>')
    })
  })

  describe('the sheet', () => {
    it('when 30 ids are asked for on 3×8, then 30 labels on 2 sheets, in code order, each with agency, code, name and an SVG QR', async () => {
      await updateSettings(t.ctx, { id: null, label: 'test' }, { agencyName: 'องค์การบริหารส่วนตำบลหนองบัว' })
      const ids: number[] = []
      for (let i = 30; i >= 1; i--) ids.push((await makeAsset(t.ctx, { code: `LB-${String(i).padStart(2, '0')}`, name: `โต๊ะพับ ${i}` })).id)
      const { agent } = await signedInAs(t, ['finance'])
      const res = await agent.get(`/labels/sheet?ids=${ids.join(',')}&layout=3x8`).expect(200)
      expect(sheetsOf(res.text)).to.deep.equal(['layout-3x8', 'layout-3x8'])
      const labels = labelsOf(res.text)
      expect(labels).to.have.length(30)
      expect(labels.map((l) => l.code)).to.deep.equal(Array.from({ length: 30 }, (_, i) => `LB-${String(i + 1).padStart(2, '0')}`))
      expect(labels.every((l) => l.svg && l.agency === 'องค์การบริหารส่วนตำบลหนองบัว')).to.equal(true)
      expect(labels[0]!.name).to.equal('โต๊ะพับ 1')
      expect(
        [...res.text.matchAll(/<section class="sheet[^"]*"[^>]*>([\s\S]*?)<\/section>/g)].map(
          (m) => (m[1]!.match(/<div class="label(?: [\w-]+)*">/g) ?? []).length,
        ),
      ).to.deep.equal([24, 6])
      expect(res.text).to.include('30 ดวง · กระดาษ A4 2 แผ่น')
      expect(res.text).to.not.match(/<script(?![^>]*\ssrc=)[^>]*>/)
    })

    it('when ids come as repeated checkboxes, with junk and duplicates, then each asset is printed once', async () => {
      const a = await makeAsset(t.ctx)
      const b = await makeAsset(t.ctx)
      const { agent } = await signedInAs(t, ['finance'])
      const res = await agent.get(`/labels/sheet?ids=${a.id}&ids=${b.id},${a.id},abc,-1&layout=2x5`).expect(200)
      expect(sheetsOf(res.text)).to.deep.equal(['layout-2x5'])
      expect(labelsOf(res.text).map((l) => l.code)).to.deep.equal([a.code, b.code].sort())
    })

    it('when no layout is given, then the agency setting decides; when an unknown one is given, then 422 naming the layouts', async () => {
      const a = await makeAsset(t.ctx)
      const { agent } = await signedInAs(t, ['finance'])
      expect(sheetsOf((await agent.get(`/labels/sheet?ids=${a.id}`).expect(200)).text)).to.deep.equal(['layout-3x8'])
      await updateSettings(t.ctx, { id: null, label: 'test' }, { labelLayout: 'single' })
      expect(sheetsOf((await agent.get(`/labels/sheet?ids=${a.id}`).expect(200)).text)).to.deep.equal(['layout-single'])
      const bad = await agent.get(`/labels/sheet?ids=${a.id}&layout=4x10`)
      expect(bad.status).to.equal(422)
      expect(bad.text).to.include('รูปแบบป้ายไม่ถูกต้อง ใช้ได้เฉพาะ 3x8, 2x5, single')
    })

    it('when all=1 comes with the filters, then every asset the filter matches is printed and no other', async () => {
      const office = [await makeAsset(t.ctx, { category: 'office' }), await makeAsset(t.ctx, { category: 'office' })]
      await makeAsset(t.ctx, { category: 'electrical' })
      const { agent } = await signedInAs(t, ['finance'])
      const res = await agent.get('/labels/sheet?category=office&all=1&layout=3x8').expect(200)
      expect(labelsOf(res.text).map((l) => l.code)).to.deep.equal(office.map((a) => a.code).sort())
      expect(res.text).to.include('href="/labels?category=office"')
    })

    it('when an id is not in the register, then the others print and the page says how many were not found', async () => {
      const a = await makeAsset(t.ctx)
      const { agent } = await signedInAs(t, ['finance'])
      const res = await agent.get(`/labels/sheet?ids=${a.id},999999`).expect(200)
      expect(labelsOf(res.text)).to.have.length(1)
      expect(res.text).to.include('ไม่พบครุภัณฑ์ที่เลือก 1 รายการในทะเบียน')
    })

    it(`when more than ${LABEL_CAP} assets match, then the first ${LABEL_CAP} print and the page says so`, async () => {
      await insertAssets(t, LABEL_CAP + 1, 'FAN')
      const { agent } = await signedInAs(t, ['finance'])
      const started = performance.now()
      const res = await agent.get('/labels/sheet?all=1&layout=3x8').expect(200)
      const ms = performance.now() - started
      const labels = labelsOf(res.text)
      expect(labels).to.have.length(LABEL_CAP)
      expect(labels[0]!.code).to.equal('FAN-00001')
      expect(labels.at(-1)!.code).to.equal(`FAN-${String(LABEL_CAP).padStart(5, '0')}`)
      expect(sheetsOf(res.text)).to.have.length(Math.ceil(LABEL_CAP / 24))
      expect(res.text).to.include('พิมพ์ได้ครั้งละไม่เกิน 2,000 ดวง แผ่นนี้มีเพียง 2,000 รายการแรกจากทั้งหมด 2,001 รายการ')
      expect(ms, 'a full sheet renders in reasonable time').to.be.below(10_000)
    })
  })

  describe('the scanner', () => {
    it('when anyone signed in opens /scan, then a GET form with an autofocused field, the scanner script and no inline script; anonymous go to sign-in', async () => {
      const { agent } = await signedInAs(t, ['staff'])
      const res = await agent.get('/scan').expect(200)
      expect(res.text).to.include('<form method="get" action="/scan"')
      expect(res.text).to.match(/<input id="code" name="code" value="" autofocus/)
      expect(res.text).to.include('<script src="/js/scanner.js" defer></script>')
      expect(res.text).to.not.match(/<script(?![^>]*\ssrc=)[^>]*>/)
      const anon = await supertest(t.app).get('/scan')
      expect(anon.status).to.equal(303)
      expect(anon.headers.location).to.equal('/login?next=%2Fscan')
    })

    it('when a code is typed, then 303 to its /q/ page; a Thai or slashed code is encoded as on the label', async () => {
      const { agent } = await signedInAs(t, ['staff'])
      const cases: Array<[string, string]> = [
        ['416-66-0001', '/q/416-66-0001'],
        ['  416-66-0001\r', '/q/416-66-0001'],
        ['ครุภัณฑ์-๖๖/0001', new URL(qrUrl(BASE, 'ครุภัณฑ์-๖๖/0001')).pathname],
        ['４１６-66-0001', '/q/416-66-0001'],
      ]
      for (const [typed, path] of cases) {
        const res = await agent.get(`/scan?code=${encodeURIComponent(typed)}`)
        expect(res.status, typed).to.equal(303)
        expect(res.headers.location, typed).to.equal(path)
      }
    })

    it("when a label's URL is scanned, then 303 to that /q/ path — from PUBLIC_BASE_URL or from the address the page was opened at", async () => {
      const { agent } = await signedInAs(t, ['staff'])
      for (const code of ['416-66-0001', 'ครุภัณฑ์-๖๖/0001', 'กค.416-66-0001', '416/66/0001']) {
        const url = qrUrl(BASE, code)
        const res = await agent.get(`/scan?code=${encodeURIComponent(url)}`)
        expect(res.status, code).to.equal(303)
        expect(res.headers.location, code).to.equal(new URL(url).pathname)
      }
      const lan = await agent.get(`/scan?code=${encodeURIComponent('http://192.168.1.10:3000/q/416-66-0001')}`).set('Host', '192.168.1.10:3000')
      expect(lan.status).to.equal(303)
      expect(lan.headers.location).to.equal('/q/416-66-0001')
    })

    it("when another site's URL is scanned, then 422 naming that host and nothing is followed; a URL of ours that is not a label is refused too", async () => {
      const { agent } = await signedInAs(t, ['staff'])
      const foreign = await agent.get(`/scan?code=${encodeURIComponent('https://other.example.go.th/q/416-66-0001')}`)
      expect(foreign.status).to.equal(422)
      expect(foreign.text).to.include('ป้ายนี้มาจากระบบอื่น (other.example.go.th)')
      expect(foreign.text).to.include('value="https://other.example.go.th/q/416-66-0001"')
      for (const url of [`${BASE}/admin/users`, `${BASE}/q/`, `${BASE}/q/../admin`]) {
        const res = await agent.get(`/scan?code=${encodeURIComponent(url)}`)
        expect(res.status, url).to.equal(422)
        expect(res.text).to.include('ข้อความที่สแกนไม่ใช่ป้ายครุภัณฑ์ของระบบนี้')
      }
      const empty = await agent.get('/scan?code=%20')
      expect(empty.status).to.equal(422)
      expect(empty.text).to.include('กรุณาพิมพ์หรือสแกนหมายเลขครุภัณฑ์')
    })

    it('when a USB scanner types through the Thai keyboard layout, then the URL or code is recovered', async () => {
      const a = await makeAsset(t.ctx, { code: 'ZX-416-66-0001' })
      const { agent } = await signedInAs(t, ['staff'])
      // The label URLs of 416-66-0001 and กค.416-66-0001, keyed with the Kedmanee layout on.
      const keyed: Array<[string, string]> = [
        ['้ะะยหซฝฝัาใำปฟทยสำใเนใะ้ฝๆฝภๅุขุุขจจจๅ', '/q/416-66-0001'],
        ['้ะะยหซฝฝัาใำปฟทยสำใเนใะ้ฝๆฝ๔ฎจ๔ฺค๔คๅ๔ฎจ๔ฺค๔คภใภๅุขุุขจจจๅ', '/q/%E0%B8%81%E0%B8%84.416-66-0001'],
      ]
      for (const [typed, path] of keyed) {
        const res = await agent.get(`/scan?code=${encodeURIComponent(typed)}`)
        expect(res.status).to.equal(303)
        expect(res.headers.location).to.equal(path)
      }
      // ZX-416-66-0001: shift+z, shift+x, then the digits.
      const code = await agent.get(`/scan?code=${encodeURIComponent('()ขภๅุขุุขจจจๅ')}`)
      expect(code.status).to.equal(303)
      expect(code.headers.location).to.equal(`/q/${a.code}`)
    })

    it('when the page is plain HTTP on a LAN address, then it says the camera needs HTTPS; over HTTPS or at localhost it does not', async () => {
      const { agent } = await signedInAs(t, ['staff'])
      const lan = await agent.get('/scan').set('Host', '192.168.1.10:3000').expect(200)
      expect(lan.text).to.match(/<p class="hint warn https-note" id="https-note">/)
      expect(lan.text).to.include('กล้องใช้ได้เฉพาะเมื่อเปิดระบบผ่าน HTTPS')
      const local = await agent.get('/scan').set('Host', 'localhost:3000').expect(200)
      expect(local.text).to.match(/<p class="hint warn https-note" id="https-note" hidden>/)

      const proxied = await createTestApp({ env: { TRUST_PROXY: '1' } })
      try {
        const { agent: behindTls } = await signedInAs(proxied, ['staff'])
        const https = await behindTls.get('/scan').set('Host', 'yk.example.go.th').set('X-Forwarded-Proto', 'https').expect(200)
        expect(https.text).to.match(/id="https-note" hidden>/)
      } finally {
        await proxied.close()
      }
    })

    it('when the browser has no BarcodeDetector, then the jsQR decoder is served from /vendor/jsqr.js', async () => {
      const res = await supertest(t.app).get('/vendor/jsqr.js').expect(200)
      expect(res.headers['content-type']).to.match(/javascript/)
      expect(res.text).to.include('jsQR')
    })
  })

  describe('from a printed label to the asset page', () => {
    for (const code of ['416-66-0001', 'ครุภัณฑ์-๖๖/0001', 'กค.416-66-0001']) {
      it(`when a phone opens the label URL of ${code} signed out, then sign-in brings it back to the asset's page`, async () => {
        await makeAsset(t.ctx, { code, name: 'เครื่องขยายเสียงพร้อมลำโพง' })
        const user = await makeUser(t.ctx, ['staff'])
        const path = new URL(qrUrl(BASE, code)).pathname
        const agent = supertest.agent(t.app)
        const first = await agent.get(path)
        expect(first.status).to.equal(303)
        expect(first.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`)
        const login = await agent.get(first.headers.location as string).expect(200)
        const next = decodeEntities(/name="next" value="([^"]*)"/.exec(login.text)![1]!)
        expect(next).to.equal(path)
        const signedIn = await agent
          .post('/login')
          .type('form')
          .send({ _csrf: csrfFrom(login.text), username: user.username, password: user.password, next })
        expect(signedIn.status).to.equal(303)
        expect(signedIn.headers.location).to.equal(path)
        const page = await agent.get(path).expect(200)
        expect(page.text).to.include(`<code>${code}</code>`).and.include('เครื่องขยายเสียงพร้อมลำโพง')
      })
    }
  })
})
