import { expect } from 'chai'
import supertest from 'supertest'
import { Resvg } from '@resvg/resvg-js'
import jsQR from 'jsqr'
import { createTestApp, csrfOf, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { approveLoan, createLoan } from '../../server/services/loan.service.js'
import { qrUrl } from '../../server/services/label.service.js'
import { query } from '../helpers/db.js'

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

function textOf(html: string): string {
  return decodeEntities(html.replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ')
}

function fieldError(html: string, name: string): string | undefined {
  const m = new RegExp(`<p class="field-error" id="${name}-error">([^<]*)</p>`).exec(html)
  return m ? decodeEntities(m[1]!) : undefined
}

/** The forms posting to the cart, with their hidden and visible fields. */
function cartForms(html: string): Array<Record<string, string>> {
  return [...html.matchAll(/<form method="post" action="\/cart\/add"[^>]*>([\s\S]*?)<\/form>/g)].map((m) =>
    Object.fromEntries(
      [...m[1]!.matchAll(/<input[^>]*name="(\w+)"[^>]*value="([^"]*)"/g)].filter((f) => f[1] !== '_csrf').map((f) => [f[1]!, decodeEntities(f[2]!)]),
    ),
  )
}

function labelsOf(html: string) {
  return [...html.matchAll(/<div class="label(?: [\w-]+)*">([\s\S]*?)<\/div>\s*<\/div>/g)].map((m) => {
    const part = (cls: string) => decodeEntities(new RegExp(`<p class="${cls}"[^>]*>([\\s\\S]*?)</p>`).exec(m[1]!)?.[1]?.trim() ?? '')
    const svg = /<svg[\s\S]*<\/svg>/.exec(m[1]!)![0]
    const img = new Resvg(svg, { fitTo: { mode: 'width', value: 400 }, background: 'white' }).render()
    const qr = jsQR.default(new Uint8ClampedArray(img.pixels.buffer, img.pixels.byteOffset, img.pixels.length), img.width, img.height)?.data
    return { code: part('code'), name: part('name'), kind: part('kind'), qr }
  })
}

const temple = { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '089-111-2222', villageNo: '3' }

describe('kits, QR pages and labels of counted items', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  describe('kit pages', () => {
    it('when finance writes a kit as lines "code" and "code x2", then it is saved with its parts; editing changes them', async () => {
      await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียง' })
      await makeStock(t.ctx, { code: 'SPK-POOL', name: 'ลำโพง', unit: 'ตัว', quantity: 4 })
      await makeStock(t.ctx, { code: 'MIC-POOL', name: 'ไมโครโฟน', unit: 'ตัว', quantity: 6 })
      const { agent } = await signedInAs(t, ['finance'])
      const form = await agent.get('/kits/new').expect(200)
      expect(form.text).to.include('name="parts"')
      const csrf = await csrfOf(agent, '/kits/new')
      const res = await agent
        .post('/kits')
        .type('form')
        .send({ _csrf: csrf, code: 'KIT-SOUND', name: 'ชุดเครื่องเสียงเคลื่อนที่', parts: 'AMP-9\r\nSPK-POOL x2\r\n\r\nMIC-POOL ×2\r\n', active: '1' })
      expect(res.status).to.equal(303)
      const id = Number(/^\/kits\/(\d+)$/.exec(res.headers.location as string)![1])
      const page = await agent.get(`/kits/${id}`).expect(200)
      const text = textOf(page.text)
      expect(text).to.include('เพิ่มชุดยืม KIT-SOUND แล้ว')
      expect(text).to.include('ครุภัณฑ์ AMP-9 เครื่องขยายเสียง').and.include('พัสดุนับจำนวน SPK-POOL ลำโพง × 2 ตัว').and.include('พัสดุนับจำนวน MIC-POOL ไมโครโฟน × 2 ตัว')
      // The edit form shows the parts back as lines.
      expect(page.text).to.include('>AMP-9\nSPK-POOL x2\nMIC-POOL x2</textarea>')
      expect(page.text).to.include(`href="/labels/sheet?kits=${id}&amp;layout=single"`)

      const edited = await agent.post(`/kits/${id}`).type('form').send({ _csrf: csrf, code: 'KIT-SOUND', name: 'ชุดเครื่องเสียงเล็ก', parts: 'AMP-9\nMIC-POOL 1' })
      expect(edited.status).to.equal(303)
      const list = textOf((await agent.get('/kits').expect(200)).text)
      expect(list).to.include('ชุดเครื่องเสียงเล็ก').and.include('ปิดใช้งาน').and.not.include('SPK-POOL')
      const parts = await query(t.ctx.db).all(
        'SELECT CASE WHEN asset_id IS NOT NULL THEN 1 ELSE 0 END AS asset, quantity FROM kit_part WHERE kit_id = ? ORDER BY id',
        id,
      )
      expect(parts).to.deep.equal([
        { asset: 1, quantity: 1 },
        { asset: 0, quantity: 1 },
      ])
      const audit = ((await query(t.ctx.db).all("SELECT action FROM audit_log WHERE entity = 'kit' ORDER BY id")) as Array<{ action: string }>).map(
        (a) => a.action,
      )
      expect(audit).to.deep.equal(['kit.created', 'kit.updated'])
    })

    it('when the parts cannot be read or name nothing, then 422 with a message naming the line, the typed text kept', async () => {
      await makeAsset(t.ctx, { code: 'AMP-9' })
      await makeStock(t.ctx, { code: 'MIC-POOL', quantity: 6 })
      await makeKit(t.ctx, 'KIT-TAKEN', [{ code: 'AMP-9' }])
      const { agent } = await signedInAs(t, ['finance'])
      const csrf = await csrfOf(agent, '/kits/new')
      const cases: Array<[Record<string, string>, string, string]> = [
        [{ code: 'KIT-1', name: 'ชุด', parts: 'AMP-9\nไมค์ สอง ตัว' }, 'parts', 'บรรทัดที่ 2 อ่านไม่ได้: “ไมค์ สอง ตัว” (ใช้ “รหัส” หรือ “รหัส x จำนวน”)'],
        [{ code: 'KIT-1', name: 'ชุด', parts: 'AMP-9\n\nMIC-POOL x0' }, 'parts', 'บรรทัดที่ 3: ต้องมีค่าอย่างน้อย ๑'],
        [{ code: 'KIT-1', name: 'ชุด', parts: 'AMP-9\nNOPE-1' }, 'parts', 'ไม่พบครุภัณฑ์หรือพัสดุรหัส NOPE-1'],
        [{ code: 'KIT-1', name: 'ชุด', parts: 'AMP-9 x2' }, 'parts', 'ครุภัณฑ์ AMP-9 มีจำนวน ๑ เสมอ'],
        [{ code: 'KIT-1', name: 'ชุด', parts: 'MIC-POOL\nMIC-POOL x2' }, 'parts', 'รายการ MIC-POOL ซ้ำในชุด'],
        [{ code: 'KIT-1', name: 'ชุด', parts: '' }, 'parts', 'ชุดยืมต้องมีอย่างน้อยหนึ่งรายการ'],
        [{ code: 'KIT-1', name: '', parts: 'AMP-9' }, 'name', 'กรุณากรอกข้อมูลนี้'],
        [{ code: 'KIT TAKEN', name: 'ชุด', parts: 'AMP-9' }, 'code', 'หมายเลขครุภัณฑ์ใช้ตัวอักษร ตัวเลข - / และ . เท่านั้น เช่น 416-66-0001'],
      ]
      for (const [body, field, message] of cases) {
        const res = await agent
          .post('/kits')
          .type('form')
          .send({ _csrf: csrf, ...body })
        expect(res.status, body.parts).to.equal(422)
        expect(fieldError(res.text, field), body.parts).to.equal(message)
        expect(res.text, body.parts).to.include(`>${body.parts}</textarea>`)
      }
      const taken = await agent.post('/kits').type('form').send({ _csrf: csrf, code: 'KIT-TAKEN', name: 'ชุด', parts: 'MIC-POOL x2' })
      expect(taken.status).to.equal(409)
      expect(fieldError(taken.text, 'code')).to.equal('รหัส KIT-TAKEN ใช้แล้ว (ครุภัณฑ์ พัสดุนับจำนวน และชุดยืม ใช้รหัสร่วมกัน)')
      expect(await query(t.ctx.db).get('SELECT COUNT(*) AS n FROM kit')).to.deep.equal({ n: 1 })
    })

    it('when staff or a reviewer open the kit pages, then 403; anonymous go to sign-in', async () => {
      await makeAsset(t.ctx, { code: 'AMP-9' })
      const kit = await makeKit(t.ctx, 'KIT-SOUND', [{ code: 'AMP-9' }])
      const { agent: staff } = await signedInAs(t, ['staff', 'executive', 'committee', 'admin'])
      for (const path of ['/kits', '/kits/new', `/kits/${kit.id}`]) {
        expect((await staff.get(path)).status, path).to.equal(403)
        const anon = await supertest(t.app).get(path)
        expect(anon.status, path).to.equal(303)
        expect(anon.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`)
      }
      const csrf = await csrfOf(staff)
      expect((await staff.post('/kits').type('form').send({ _csrf: csrf, code: 'K-2', name: 'ชุด', parts: 'AMP-9' })).status).to.equal(403)
      expect((await staff.post(`/kits/${kit.id}`).type('form').send({ _csrf: csrf, code: 'K-2', name: 'ชุด', parts: 'AMP-9' })).status).to.equal(403)
      // Finance reaches the kits from the counted items' page.
      const { agent: finance } = await signedInAs(t, ['finance'])
      expect((await finance.get('/stock').expect(200)).text).to.include('href="/kits"')
    })
  })

  describe('the QR resolver', () => {
    it("when a counted item's label is scanned, then the phone page shows what is free today and in the coming days and asks how many to add", async () => {
      const chairs = await makeStock(t.ctx, { code: 'CHAIR/01', name: 'เก้าอี้พลาสติก', unit: 'ตัว', quantity: 120 })
      const finance = await makeUser(t.ctx, ['finance'])
      const finance2 = await makeUser(t.ctx, ['finance'])
      const loan = await createLoan(t.ctx, finance, {
        purpose: 'งานบวช',
        place: 'วัดบ้านหนองบัว',
        kind: 'in_premises',
        startDate: '2025-01-16',
        dueDate: '2025-01-18',
        externalBorrower: temple,
        stock: [{ code: 'CHAIR/01', quantity: 80 }],
      })
      await approveLoan(t.ctx, finance2, loan.loan.id, {})
      const { agent: staff } = await signedInAs(t, ['staff'])
      const path = new URL(qrUrl(BASE, 'CHAIR/01')).pathname
      const page = await staff.get(path).expect(200)
      const text = textOf(page.text)
      expect(text).to.include('CHAIR/01').and.include('เก้าอี้พลาสติก').and.include('ว่างวันนี้ 120 ตัว (จากทั้งหมด 120)')
      expect(text).to.match(/16 ม\.ค\. 2568 40 \(ถูกยืม\/จอง 80\)/)
      expect(text).to.match(/19 ม\.ค\. 2568 120/)
      expect(cartForms(page.text)).to.deep.equal([{ code: 'CHAIR/01', quantity: '1' }])
      expect(page.text).to.include('<input id="add-quantity" name="quantity" type="number"')
      expect(page.text).to.not.include(`href="/stock/${chairs.id}"`)
      // Finance also gets the way to the item's page.
      const { agent: fin } = await signedInAs(t, ['finance'])
      expect((await fin.get(path).expect(200)).text).to.include(`href="/stock/${chairs.id}"`)
      // The form is the cart's contract: `code` and `quantity` to POST /cart/add.
      const added = await staff
        .post('/cart/add')
        .type('form')
        .send({ _csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1], code: 'CHAIR/01', quantity: '30' })
      expect(added.status).to.equal(303)
      expect(await query(t.ctx.db).get('SELECT COUNT(*) AS n FROM loan')).to.deep.equal({ n: 1 })
      const cart = textOf((await staff.get('/cart').expect(200)).text)
      expect(cart).to.include('CHAIR/01').and.include('เก้าอี้พลาสติก')
    })

    it("when a kit's label is scanned, then the page lists its parts with what is free today and offers to add the whole kit", async () => {
      await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียง' })
      await makeStock(t.ctx, { code: 'MIC-POOL', name: 'ไมโครโฟน', unit: 'ตัว', quantity: 3 })
      const kit = await makeKit(t.ctx, 'KIT-SOUND', [{ code: 'AMP-9' }, { code: 'MIC-POOL', quantity: 2 }])
      const finance = await makeUser(t.ctx, ['finance'])
      const finance2 = await makeUser(t.ctx, ['finance'])
      // Today two of the three microphones are reserved: the kit's two are not all free.
      const loan = await createLoan(t.ctx, finance, {
        purpose: 'ประชุม',
        place: 'ห้องประชุม',
        kind: 'in_premises',
        startDate: '2025-01-15',
        dueDate: '2025-01-15',
        externalBorrower: temple,
        stock: [{ code: 'MIC-POOL', quantity: 2 }],
      })
      await approveLoan(t.ctx, finance2, loan.loan.id, {})
      const { agent: staff } = await signedInAs(t, ['staff'])
      const page = await staff.get('/q/KIT-SOUND').expect(200)
      const text = textOf(page.text)
      expect(text).to.include('ชุดเครื่องเสียงเคลื่อนที่')
      expect(text).to.include('เครื่องขยายเสียง AMP-9 · ครุภัณฑ์ ✓ ว่างวันนี้')
      expect(text).to.include('ไมโครโฟน × 2 ตัว MIC-POOL · พัสดุนับจำนวน ✕ ว่างวันนี้ 1 ตัว ไม่พอ (ชุดนี้ใช้ 2)')
      expect(cartForms(page.text)).to.deep.equal([{ code: 'KIT-SOUND', quantity: '1' }])
      expect(page.text).to.not.include(`href="/kits/${kit.id}"`)
      const { agent: fin } = await signedInAs(t, ['finance'])
      expect((await fin.get('/q/KIT-SOUND').expect(200)).text).to.include(`href="/kits/${kit.id}"`)
      const added = await staff
        .post('/cart/add')
        .type('form')
        .send({ _csrf: /name="_csrf" value="([^"]+)"/.exec(page.text)![1], code: 'KIT-SOUND', quantity: '1' })
      expect(added.status).to.equal(303)
      const cart = textOf((await staff.get('/cart').expect(200)).text)
      expect(cart).to.include('AMP-9').and.include('MIC-POOL')
    })

    it('when a USB scanner types a counted item or kit code through the Thai keyboard layout, then the scanner still finds it', async () => {
      await makeStock(t.ctx, { code: 'ZX-120' })
      await makeAsset(t.ctx, { code: 'AMP-9' })
      await makeKit(t.ctx, 'ZK-1', [{ code: 'AMP-9' }])
      const { agent } = await signedInAs(t, ['staff'])
      for (const [typed, path] of [
        ['()ขๅ/จ', '/q/ZX-120'],
        ['(ษขๅ', '/q/ZK-1'],
      ]) {
        const res = await agent.get(`/scan?code=${encodeURIComponent(typed!)}`)
        expect(res.status, path).to.equal(303)
        expect(res.headers.location).to.equal(path)
      }
    })

    it('when the code is unknown, then the helpful 404; an asset code still opens the asset', async () => {
      await makeAsset(t.ctx, { code: 'AMP-9', name: 'เครื่องขยายเสียง' })
      const { agent } = await signedInAs(t, ['staff'])
      const missing = await agent.get('/q/NOPE-1')
      expect(missing.status).to.equal(404)
      expect(textOf(missing.text)).to.include('รหัสที่สแกน: NOPE-1')
      expect(missing.text).to.include('href="/scan"')
      expect(textOf((await agent.get('/q/AMP-9').expect(200)).text)).to.include('เครื่องขยายเสียง')
    })
  })

  describe('labels', () => {
    it("when finance picks counted items and a kit, then the sheet prints each with its code, name, a count/kit hint and the code's QR URL", async () => {
      const chairs = await makeStock(t.ctx, { code: 'CHAIR', name: 'เก้าอี้พลาสติก', unit: 'ตัว', quantity: 120 })
      const plates = await makeStock(t.ctx, { code: 'PLATE/2568', name: 'จานกระเบื้อง', unit: '', quantity: 300 })
      await makeAsset(t.ctx, { code: 'AMP-9' })
      const kit = await makeKit(t.ctx, 'KIT-SOUND', [{ code: 'AMP-9' }, { code: 'CHAIR', quantity: 2 }])
      const { agent } = await signedInAs(t, ['finance'])
      const chooser = await agent.get('/labels?type=pools').expect(200)
      expect(chooser.text).to.include('<form method="get" action="/labels/sheet"')
      expect(chooser.text)
        .to.include(`name="stock" value="${chairs.id}"`)
        .and.include(`name="stock" value="${plates.id}"`)
        .and.include(`name="kits" value="${kit.id}"`)
      expect((await agent.get('/labels').expect(200)).text).to.include('href="/labels?type=pools"')

      const sheet = await agent.get(`/labels/sheet?stock=${chairs.id}&stock=${plates.id}&kits=${kit.id}&layout=2x5`).expect(200)
      expect(labelsOf(sheet.text)).to.deep.equal([
        { code: 'CHAIR', name: 'เก้าอี้พลาสติก', kind: 'ยืมเป็นจำนวน · หน่วยตัว', qr: qrUrl(BASE, 'CHAIR') },
        { code: 'PLATE/2568', name: 'จานกระเบื้อง', kind: 'ยืมเป็นจำนวน', qr: qrUrl(BASE, 'PLATE/2568') },
        { code: 'KIT-SOUND', name: 'ชุดเครื่องเสียงเคลื่อนที่', kind: 'ชุดยืม 2 รายการ', qr: qrUrl(BASE, 'KIT-SOUND') },
      ])
      expect(sheet.text).to.include('href="/labels?type=pools"')
      // The item page's "print label" link is one click to a single large label.
      const single = await agent.get(`/labels/sheet?stock=${chairs.id}&layout=single`).expect(200)
      expect(labelsOf(single.text).map((l) => l.code)).to.deep.equal(['CHAIR'])
      // An id that names nothing is counted as missing; staff may not print.
      const missing = await agent.get(`/labels/sheet?stock=${chairs.id},999`).expect(200)
      expect(textOf(missing.text)).to.include('ไม่พบครุภัณฑ์ที่เลือก 1 รายการในทะเบียน')
      const { agent: staff } = await signedInAs(t, ['staff'])
      expect((await staff.get(`/labels/sheet?stock=${chairs.id}`)).status).to.equal(403)
      expect((await staff.get('/labels?type=pools')).status).to.equal(403)
    })
  })
})
