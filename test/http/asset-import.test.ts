import { expect } from 'chai'
import ExcelJS from 'exceljs'
import type supertest from 'supertest'
import { createTestApp, csrfFrom, signedInAs, type TestApp } from '../helpers/app.js'
import { createAsset } from '../../server/services/asset.service.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { onPostgres, query } from '../helpers/db.js'
import { csvText, encodeWindows874, readXlsx, register200, utf8Bom, xlsxOf } from '../helpers/register-files.js'

// ---- reading pages and the database

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

interface PreviewLine {
  line: number
  ok: boolean
  reasons: string[]
}

/** The rows of a preview page: their line, whether marked good, and the reasons given. */
function previewRows(html: string): PreviewLine[] {
  return [...html.matchAll(/<tr data-line="(\d+)" data-ok="([01])"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => ({
    line: Number(m[1]),
    ok: m[2] === '1',
    reasons: [...m[3]!.matchAll(/<div class="reason">✗ ([\s\S]*?)<\/div>/g)].map((r) => decodeEntities(r[1]!.trim())),
  }))
}

function counts(html: string): { total: number; good: number; bad: number } {
  const m = /data-total="(\d+)" data-good="(\d+)" data-bad="(\d+)"/.exec(html)
  if (!m) throw new Error('no counts on the preview page')
  return { total: Number(m[1]), good: Number(m[2]), bad: Number(m[3]) }
}

async function count(t: TestApp, table: string, where = ''): Promise<number> {
  return ((await query(t.ctx.db).get(`SELECT COUNT(*) AS n FROM ${table} ${where}`)) as { n: number }).n
}

async function assetRow(t: TestApp, code: string) {
  return (await query(t.ctx.db).get(
    'SELECT a.*, c.code AS category_code, d.code AS department_code FROM asset a JOIN category c ON c.id = a.category_id LEFT JOIN department d ON d.id = a.department_id WHERE a.code = ?',
    code,
  )) as
    | {
        id: number
        code: string
        name: string
        category_code: string
        department_code: string | null
        acquired_on: string | null
        price_satang: number | null
        loanable: number
        brand_model: string
        serial_number: string
        location: string
        funding_source: string
        notes: string
        status: string
      }
    | undefined
}

async function categoryId(t: TestApp, code: string): Promise<number> {
  return ((await query(t.ctx.db).get('SELECT id FROM category WHERE code = ?', code)) as { id: number }).id
}

async function departmentId(t: TestApp, code: string): Promise<number> {
  return ((await query(t.ctx.db).get('SELECT id FROM department WHERE code = ?', code)) as { id: number }).id
}

/** Uploads through the real form: its CSRF token and its file field. */
async function upload(agent: supertest.Agent, data: Buffer, fileName: string): Promise<supertest.Response> {
  const page = await agent.get('/assets/import').expect(200)
  return agent.post('/assets/import').field('_csrf', csrfFrom(page.text)).attach('file', data, fileName)
}

/** Uploads and follows the redirect to the preview; returns the batch's path and page. */
async function preview(agent: supertest.Agent, data: Buffer, fileName: string): Promise<{ path: string; html: string }> {
  const res = await upload(agent, data, fileName)
  expect(res.status, res.text.slice(0, 2000)).to.equal(303)
  const path = res.headers.location as string
  expect(path).to.match(/^\/assets\/import\/[0-9a-f]{32}$/)
  const page = await agent.get(path).expect(200)
  return { path, html: page.text }
}

async function confirm(agent: supertest.Agent, path: string, html: string): Promise<supertest.Response> {
  return agent
    .post(`${path}/confirm`)
    .type('form')
    .send({ _csrf: csrfFrom(html) })
}

type BodyParser = Extract<Parameters<supertest.Test['parse']>[0], (res: never, callback: never) => void>

/** Collects a download as bytes (superagent would decode text/csv as text). */
const binary: BodyParser = (res, callback) => {
  const chunks: Buffer[] = []
  const stream = res as unknown as NodeJS.ReadableStream
  stream.on('data', (c: Buffer) => chunks.push(c))
  stream.on('end', () => callback(null, Buffer.concat(chunks)))
}

const ENGLISH_HEADER = ['Code', 'Name', 'Category', 'Brand/Model', 'Serial number', 'Department', 'Location', 'Acquired on', 'Price', 'Loanable', 'Notes']

describe('asset register import (pages)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  async function existing(code: string) {
    return createAsset(t.ctx, { id: null, label: 'test' }, { code, name: 'มีอยู่แล้ว', categoryId: await categoryId(t, 'office') })
  }

  describe('a 200-row register saved by Excel as Windows-874 CSV', () => {
    it('when a supplies officer uploads it, then the preview marks exactly the five bad rows with Thai reasons and nothing is written', async () => {
      await existing('416-66-0999')
      const file = register200({ takenCode: '416-66-0999' })
      const bytes = encodeWindows874(csvText(file.rows))
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes)).to.throw()
      const { agent } = await signedInAs(t, ['finance'])
      const assetsBefore = await count(t, 'asset')
      const auditBefore = await count(t, 'audit_log')

      const { html } = await preview(agent, bytes, 'ทะเบียนครุภัณฑ์.csv')
      expect(counts(html)).to.deep.equal({ total: 200, good: 195, bad: 5 })
      expect(html).to.include('Windows-874').and.include('ทะเบียนครุภัณฑ์.csv').and.include('ข้ามแถวว่าง 1 แถว').and.include('«ลำดับ»')
      const rows = previewRows(html)
      expect(rows).to.have.length(200)
      const bad = rows.filter((r) => !r.ok)
      expect(bad.map((r) => r.line)).to.deep.equal(file.bad.map((b) => b.line))
      for (const b of file.bad) {
        const shown = bad.find((r) => r.line === b.line)!
        expect(shown.reasons, `row ${b.line}`).to.have.length(b.reasons.length)
        b.reasons.forEach((reason, i) => {
          expect(shown.reasons[i], `row ${b.line}`).to.include(reason)
        })
      }
      expect(html).to.include('class="suspect"')
      expect(html).to.include('ยืนยันนำเข้า 195 รายการ')

      expect(await count(t, 'asset'), 'no asset before confirm').to.equal(assetsBefore)
      expect(await count(t, 'audit_log'), 'no audit entry before confirm').to.equal(auditBefore)

      const onlyBad = await agent.get(`${(await upload(agent, bytes, 'again.csv')).headers.location as string}?show=bad`).expect(200)
      expect(previewRows(onlyBad.text).map((r) => r.line)).to.deep.equal(file.bad.map((b) => b.line))
    })

    it('when they confirm, then exactly the good rows are written with an asset.imported entry each, the flash counts them and the audit chain verifies', async () => {
      await existing('416-66-0999')
      const file = register200({ takenCode: '416-66-0999' })
      const { agent, user } = await signedInAs(t, ['finance'])
      const { path, html } = await preview(agent, encodeWindows874(csvText(file.rows)), 'register.csv')

      const res = await confirm(agent, path, html)
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/assets')
      const register = await agent.get('/assets').expect(200)
      expect(register.text).to.include('นำเข้า 195 รายการแล้ว')

      expect(await count(t, 'asset')).to.equal(196)
      const codes = ((await query(t.ctx.db).all("SELECT code FROM asset WHERE code != '416-66-0999' ORDER BY code")) as Array<{ code: string }>).map(
        (r) => r.code,
      )
      expect(codes).to.deep.equal([...file.goodCodes].sort())

      const entries = (await query(t.ctx.db).all("SELECT entity_id, actor_id, data FROM audit_log WHERE action = 'asset.imported'")) as Array<{
        entity_id: string
        actor_id: number
        data: string
      }>
      expect(entries).to.have.length(195)
      const ids = new Set(((await query(t.ctx.db).all("SELECT id FROM asset WHERE code != '416-66-0999'")) as Array<{ id: number }>).map((r) => String(r.id)))
      expect(new Set(entries.map((e) => e.entity_id))).to.deep.equal(ids)
      expect(entries.every((e) => e.actor_id === user.id)).to.equal(true)
      expect(await count(t, 'audit_log', "WHERE action = 'asset.import_confirmed'")).to.equal(1)
      expect((await verifyChain(t.ctx.db)).ok).to.equal(true)

      // Row 12 (i = 10): a BE date, a department by Thai name, ไม่ได้ for loanable, no price.
      expect(await assetRow(t, '416-66-0010')).to.include({
        name: 'เก้าอี้พลาสติก',
        category_code: 'computer',
        department_code: 'finance',
        price_satang: null,
        acquired_on: '2020-11-11',
        loanable: 0,
        status: 'available',
      })
      // i = 1: a name with a comma; loanable empty → the category's default; «ครุภัณฑ์» left off.
      expect(await assetRow(t, '416-66-0001')).to.include({
        name: 'โต๊ะทำงานเหล็ก, 4 ลิ้นชัก',
        category_code: 'office',
        department_code: 'office',
        price_satang: 35100,
        acquired_on: '2018-02-02',
        loanable: 1,
        location: 'ห้อง 1',
      })
      // i = 20: no price, no date; i = 8: no department, "7,900.00".
      expect(await assetRow(t, '416-66-0020')).to.include({ price_satang: null, acquired_on: null })
      expect(await assetRow(t, '416-66-0008')).to.include({ department_code: null, price_satang: 790000 })
      // i = 12: brand and serial, a category by its full Thai name, a department by code.
      expect(await assetRow(t, '416-66-0012')).to.include({
        brand_model: 'Acer Aspire 5',
        serial_number: 'SN1012',
        category_code: 'household',
        department_code: 'works',
        funding_source: 'งบประมาณ',
        loanable: 1,
      })

      // Every imported asset has its history.
      const one = (await assetRow(t, '416-66-0002'))!
      const page = await agent.get(`/assets/${one.id}`).expect(200)
      expect(page.text).to.include('นำเข้าจากไฟล์ทะเบียน')
    })

    it('when an insert fails half-way, then the one transaction rolls back: no asset, no audit entry, and the batch can still be confirmed', async () => {
      const file = register200({ takenCode: '416-66-0999' })
      const { agent } = await signedInAs(t, ['finance'])
      const { path, html } = await preview(agent, encodeWindows874(csvText(file.rows)), 'register.csv')
      // A trigger that refuses the 151st row, in each database's words.
      if (onPostgres) {
        await query(t.ctx.db).run("CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END $$")
        await query(t.ctx.db).run("CREATE TRIGGER boom BEFORE INSERT ON asset FOR EACH ROW WHEN (NEW.code = '416-66-0151') EXECUTE FUNCTION boom()")
      } else {
        await query(t.ctx.db).run("CREATE TRIGGER boom BEFORE INSERT ON asset WHEN NEW.code = '416-66-0151' BEGIN SELECT RAISE(ABORT, 'boom'); END")
      }
      const auditBefore = await count(t, 'audit_log')

      const res = await confirm(agent, path, html)
      expect(res.status).to.equal(500)
      expect(await count(t, 'asset')).to.equal(0)
      expect(await count(t, 'audit_log')).to.equal(auditBefore)

      await query(t.ctx.db).run(onPostgres ? 'DROP TRIGGER boom ON asset' : 'DROP TRIGGER boom')
      expect((await confirm(agent, path, html)).status).to.equal(303)
      expect(await count(t, 'asset')).to.equal(196)
    })

    it('when the same batch is confirmed twice, then the second is refused with 409 and nothing is duplicated', async () => {
      const file = register200({ takenCode: '416-66-0999' })
      const { agent } = await signedInAs(t, ['finance'])
      const { path, html } = await preview(agent, encodeWindows874(csvText(file.rows)), 'register.csv')
      expect((await confirm(agent, path, html)).status).to.equal(303)
      const assets = await count(t, 'asset')
      const audit = await count(t, 'audit_log')

      const again = await confirm(agent, path, html)
      expect(again.status).to.equal(409)
      expect(again.text).to.include('ชุดนี้นำเข้าไปแล้ว (196 รายการ)')
      expect(await count(t, 'asset')).to.equal(assets)
      expect(await count(t, 'audit_log')).to.equal(audit)
      // The preview now says it was imported and offers no confirm button.
      const page = await agent.get(path).expect(200)
      expect(page.text).to.include('นำเข้าแล้วเมื่อ').and.not.include('/confirm')
    })

    it('when a code is registered between preview and confirm, then nothing is imported and the person is told to upload again', async () => {
      const file = register200({ takenCode: '416-66-0999' })
      const { agent } = await signedInAs(t, ['finance'])
      const { path, html } = await preview(agent, encodeWindows874(csvText(file.rows)), 'register.csv')
      await existing('416-66-0033')
      const res = await confirm(agent, path, html)
      expect(res.status).to.equal(409)
      expect(res.text).to.include('416-66-0033').and.include('กรุณาอัปโหลดไฟล์ใหม่')
      expect(await count(t, 'asset')).to.equal(1)
    })
  })

  it("when another finance user opens or confirms someone else's batch, then 404 and nothing is written", async () => {
    const file = register200({ takenCode: '416-66-0999' })
    const { agent } = await signedInAs(t, ['finance'])
    const { path } = await preview(agent, encodeWindows874(csvText(file.rows)), 'register.csv')
    const { agent: other } = await signedInAs(t, ['finance'])
    expect((await other.get(path)).status).to.equal(404)
    const token = csrfFrom((await other.get('/assets/import')).text)
    expect((await other.post(`${path}/confirm`).type('form').send({ _csrf: token })).status).to.equal(404)
    expect((await other.get('/assets/import/not-a-batch')).status).to.equal(404)
    expect(await count(t, 'asset')).to.equal(0)
  })

  it('when a previewed batch is left past its 24 hours, then confirming is refused, and the next upload clears it away', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const data = utf8Bom(
      csvText([
        ['หมายเลขครุภัณฑ์', 'ชื่อ', 'หมวด'],
        ['A-1', 'โต๊ะ', 'office'],
      ]),
    )
    const { path, html } = await preview(agent, data, 'x.csv')
    const batch = (await query(t.ctx.db).get('SELECT created_at, expires_at FROM import_batch')) as { created_at: string; expires_at: string }
    expect(Date.parse(batch.expires_at) - Date.parse(batch.created_at)).to.equal(24 * 3600_000)
    // The session would not outlive a day of idling, so the batch's clock is wound back instead.
    await query(t.ctx.db).run('UPDATE import_batch SET expires_at = ?', new Date(Date.parse(batch.created_at) - 1000).toISOString())
    const late = await confirm(agent, path, html)
    expect(late.status).to.equal(409)
    expect(late.text).to.include('ชุดนำเข้านี้หมดอายุแล้ว')
    expect(await count(t, 'asset')).to.equal(0)
    await preview(agent, data, 'x.csv')
    expect(await count(t, 'import_batch')).to.equal(1)
    expect((await agent.get(path)).status).to.equal(404)
  })

  it('when finance downloads the template, then it is the export header that the import reads', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const res = await agent.get('/assets/import/template.csv').expect(200)
    expect(res.headers['content-disposition']).to.include('attachment')
    expect(res.text).to.match(/^\ufeffหมายเลขครุภัณฑ์,ชื่อครุภัณฑ์,หมวด,/)
    const missing = await upload(agent, Buffer.from(res.text, 'utf8'), 'template.csv')
    expect(missing.status).to.equal(422)
    expect(missing.text).to.include('ไม่พบแถวข้อมูลใต้หัวตาราง')
  })

  it('when a user without finance opens the import page or posts a file, then 403 and nothing is stored', async () => {
    for (const roles of [['staff'], ['committee'], ['admin']] as const) {
      const { agent } = await signedInAs(t, [...roles])
      expect((await agent.get('/assets/import')).status, roles.join()).to.equal(403)
      const token = csrfFrom((await agent.get('/account')).text)
      const res = await agent
        .post('/assets/import')
        .field('_csrf', token)
        .attach('file', utf8Bom(csvText([ENGLISH_HEADER])), 'x.csv')
      expect(res.status, roles.join()).to.equal(403)
    }
    expect(await count(t, 'import_batch')).to.equal(0)
  })

  it('when the upload carries no or a wrong CSRF token, then 403 and nothing is stored', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const data = utf8Bom(
      csvText([
        ['หมายเลขครุภัณฑ์', 'ชื่อ', 'หมวด'],
        ['A-1', 'โต๊ะ', 'office'],
      ]),
    )
    expect((await agent.post('/assets/import').attach('file', data, 'x.csv')).status).to.equal(403)
    expect((await agent.post('/assets/import').field('_csrf', 'forged').attach('file', data, 'x.csv')).status).to.equal(403)
    expect(await count(t, 'import_batch')).to.equal(0)
  })

  it('when the file is UTF-8 with a BOM and has English headers, then it previews and imports', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const text = csvText([
      ENGLISH_HEADER,
      ['EN-0001', 'Projector', 'electrical', 'Epson EB-X06', 'X5A1', 'finance', 'Store room', '2024-03-01', '25,500.50', 'yes', 'HDMI cable'],
      ['EN-0002', 'Folding table', 'ครุภัณฑ์สำนักงาน', '', '', 'กองช่าง', '', '1/3/2567', '', 'no', ''],
    ])
    const { path, html } = await preview(agent, utf8Bom(text), 'register-utf8.csv')
    expect(counts(html)).to.deep.equal({ total: 2, good: 2, bad: 0 })
    expect(html).to.include('UTF-8 มี BOM')
    expect((await confirm(agent, path, html)).status).to.equal(303)
    expect(await assetRow(t, 'EN-0001')).to.include({
      name: 'Projector',
      category_code: 'electrical',
      department_code: 'finance',
      price_satang: 2550050,
      acquired_on: '2024-03-01',
      loanable: 1,
      notes: 'HDMI cable',
    })
    expect(await assetRow(t, 'EN-0002')).to.include({ category_code: 'office', department_code: 'works', acquired_on: '2024-03-01', loanable: 0 })
  })

  it('when a price is negative or a date does not exist, then the reason says so rather than repeating the format; good prices preview as money', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const data = await xlsxOf([
      ['หมายเลขครุภัณฑ์', 'ชื่อครุภัณฑ์', 'หมวด', 'วันที่ได้มา', 'ราคา (บาท)'],
      ['N-1', 'โต๊ะ', 'office', '31/02/2566', -500],
      ['N-2', 'โต๊ะ', 'office', '15/10/2566', '-1,200.00'],
      ['N-3', 'โต๊ะ', 'office', '15/13/2566', 12500],
      ['N-4', 'โต๊ะ', 'office', '', '7900.5'],
    ])
    const { html } = await preview(agent, data, 'reasons.xlsx')
    const rows = previewRows(html)
    const reasons = (line: number) => rows.find((r) => r.line === line)!.reasons.join(' ')
    expect(reasons(2)).to.include('วันที่ «31/02/2566» ไม่มีวันที่นี้').and.include('ราคา «-500» ติดลบ').and.not.include('เช่น 15/10/2567')
    expect(reasons(3)).to.include('ราคา «-1,200.00» ติดลบ').and.not.include('ทศนิยมไม่เกิน')
    expect(reasons(4)).to.include('วันที่ «15/13/2566» ไม่มีวันที่นี้')
    expect(html).to.include('>12,500.00<').and.include('>7,900.50<')
  })

  it('when the file is UTF-8 without a BOM and uses semicolons, then it is read too', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const text = 'รหัสครุภัณฑ์;ชื่อครุภัณฑ์;หมวดครุภัณฑ์\r\nS-1;เก้าอี้;office\r\n'
    const { html } = await preview(agent, Buffer.from(text, 'utf8'), 'semi.csv')
    expect(counts(html)).to.deep.equal({ total: 1, good: 1, bad: 0 })
  })

  it('when the file is XLSX with real date cells, number prices and Thai headers, then it previews and imports', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const data = await xlsxOf([
      ['ทะเบียนครุภัณฑ์ประจำปี'],
      ['หมายเลขครุภัณฑ์', 'ชื่อครุภัณฑ์', 'หมวด', 'หน่วยงานที่ดูแล', 'วันที่ได้มา', 'ราคา (บาท)', 'ให้ยืมได้'],
      ['X-0001', { richText: [{ text: 'เครื่อง' }, { text: 'ขยายเสียง' }] }, 'ครุภัณฑ์ไฟฟ้าและวิทยุ', 'สำนักปลัด', new Date(Date.UTC(2023, 9, 15)), 12500.5, 'ได้'],
      ['X-0002', 'เต็นท์', 'สนาม', null, '15/10/2566', 4500, 'ไม่ได้'],
      ['X-0003', 'กล้อง', 'ครุภัณฑ์อวกาศ', null, null, 'abc', ''],
    ])
    const { path, html } = await preview(agent, data, 'register.xlsx')
    expect(counts(html)).to.deep.equal({ total: 3, good: 2, bad: 1 })
    expect(html).to.include('Excel (.xlsx)')
    const bad = previewRows(html).filter((r) => !r.ok)
    expect(bad).to.have.length(1)
    expect(bad[0]!.line).to.equal(5)
    expect(bad[0]!.reasons.join(' ')).to.include('ไม่พบหมวดครุภัณฑ์ «ครุภัณฑ์อวกาศ»').and.include('ราคา «abc» ไม่ถูกต้อง')
    expect((await confirm(agent, path, html)).status).to.equal(303)
    expect(await assetRow(t, 'X-0001')).to.include({
      name: 'เครื่องขยายเสียง',
      category_code: 'electrical',
      department_code: 'office',
      acquired_on: '2023-10-15',
      price_satang: 1250050,
      loanable: 1,
    })
    expect(await assetRow(t, 'X-0002')).to.include({ category_code: 'field', acquired_on: '2023-10-15', price_satang: 450000, loanable: 0 })
    expect(await assetRow(t, 'X-0003')).to.equal(undefined)
  })

  it('when a required column is missing, then 422 names it and lists the headers found, and nothing is stored', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const data = utf8Bom(
      csvText([
        ['หมายเลขครุภัณฑ์', 'รายการ', 'ราคา'],
        ['A-1', 'โต๊ะ', '100'],
      ]),
    )
    const res = await upload(agent, data, 'no-category.csv')
    expect(res.status).to.equal(422)
    const alert = decodeEntities(/<div class="flash flash-error" role="alert" id="file-error">([\s\S]*?)<\/div>/.exec(res.text)?.[1] ?? '')
    expect(alert).to.include('ไม่พบคอลัมน์ที่จำเป็นในไฟล์').and.include('หมวด (หรือ ประเภท, category)').and.include('«หมายเลขครุภัณฑ์», «รายการ», «ราคา»')
    expect(alert, 'only the missing column is named').to.not.include('ชื่อครุภัณฑ์ (หรือ')
    expect(await count(t, 'import_batch')).to.equal(0)
  })

  it('when no file, an empty file, an old .xls or a file over 10 MB is sent, then a clear message and nothing is stored', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const page = await agent.get('/assets/import').expect(200)
    const none = await agent.post('/assets/import').field('_csrf', csrfFrom(page.text))
    expect(none.status).to.equal(422)
    expect(none.text).to.include('กรุณาเลือกไฟล์ทะเบียน')
    const empty = await upload(agent, Buffer.alloc(0), 'empty.csv')
    expect(empty.status).to.equal(422)
    const xls = await upload(agent, Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]), 'old.xls')
    expect(xls.status).to.equal(422)
    expect(xls.text).to.include('บันทึกเป็น .xlsx หรือ CSV')
    const big = await upload(agent, Buffer.alloc(10 * 1024 * 1024 + 1, 0x41), 'big.csv')
    expect(big.status).to.equal(413)
    expect(big.text).to.include('ไฟล์ใหญ่เกิน 10 MB')
    expect(await count(t, 'import_batch')).to.equal(0)
  })

  it('when the register page is opened by finance, then it links to import and to both exports with the current filters', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const page = await agent.get('/assets?category=computer&loanable=0').expect(200)
    expect(page.text).to.include('href="/assets/import"')
    expect(decodeEntities(page.text))
      .to.include('/assets/export.csv?category=computer&loanable=0')
      .and.include('/assets/export.xlsx?category=computer&loanable=0')
  })
})

describe('asset register export', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  async function seed() {
    const actor = { id: null, label: 'test' }
    const office = await categoryId(t, 'office')
    const computer = await categoryId(t, 'computer')
    await createAsset(t.ctx, actor, {
      code: '416-66-0001',
      name: 'โต๊ะทำงาน "ผู้บริหาร", ไม้สัก',
      categoryId: office,
      departmentId: await departmentId(t, 'finance'),
      price: '7,900.00',
      acquiredOn: '2023-10-15',
      location: 'ห้องคลัง',
      notes: 'บรรทัดหนึ่ง\nบรรทัดสอง',
    })
    await createAsset(t.ctx, actor, {
      code: '416-66-0002',
      name: '=HYPERLINK("http://evil.example","คลิก")',
      categoryId: computer,
      brandModel: '+66 81 234 5678',
      serialNumber: '@SUM(A1)',
      loanable: false,
      maxLoanDays: 3,
    })
    await createAsset(t.ctx, actor, { code: '416-66-0003', name: '-ลบ', categoryId: computer, location: '=SUM(1,2)', usefulLifeYears: 4 })
  }

  it('when finance exports CSV, then it is UTF-8 with a BOM, CRLF, Thai headers, Thai intact, numbers plain and formula-like cells neutralised', async () => {
    await seed()
    const { agent } = await signedInAs(t, ['finance'])
    const res = await agent.get('/assets/export.csv').buffer(true).parse(binary)
    expect(res.status).to.equal(200)
    expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).to.match(/^attachment; filename="assets-2025-01-15\.csv"; filename\*=UTF-8''/)
    const body = res.body as Buffer
    expect([...body.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf])
    const text = body.subarray(3).toString('utf8')
    const lines = text.split('\r\n')
    expect(lines[0]).to.equal(
      'หมายเลขครุภัณฑ์,ชื่อครุภัณฑ์,หมวด,ยี่ห้อ/รุ่น,หมายเลขเครื่อง (Serial),หน่วยงานที่ดูแล,สถานที่เก็บ,วันที่ได้มา,ราคา (บาท),อายุการใช้งาน (ปี),แหล่งเงิน,สถานะ,ให้ยืมได้,ยืมได้สูงสุด (วัน),หมายเหตุ',
    )
    expect(lines[1]).to.equal('416-66-0001,"โต๊ะทำงาน ""ผู้บริหาร"", ไม้สัก",ครุภัณฑ์สำนักงาน,,,กองคลัง,ห้องคลัง,15/10/2566,7900.00,,,ว่าง,ได้,,"บรรทัดหนึ่ง\nบรรทัดสอง"')
    expect(text).to.include(`"'=HYPERLINK(""http://evil.example"",""คลิก"")"`)
    expect(text).to.include(",'+66 81 234 5678,'@SUM(A1),")
    expect(text).to.include("416-66-0003,'-ลบ,")
    expect(text).to.include(`,"'=SUM(1,2)",`)
    expect(text).to.include(',ไม่ได้,3,')
  })

  it('when the register is filtered, then both exports hold only the matching assets', async () => {
    await seed()
    const { agent } = await signedInAs(t, ['committee'])
    const csv = await agent.get('/assets/export.csv?category=computer&loanable=1').expect(200)
    const csvLines = csv.text
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n')
    expect(csvLines).to.have.length(2)
    expect(csvLines[1]).to.match(/^416-66-0003,/)
    const search = await agent.get('/assets/export.csv?q=%E0%B9%84%E0%B8%A1%E0%B9%89%E0%B8%AA%E0%B8%B1%E0%B8%81').expect(200) // ไม้สัก
    expect(search.text.trim().split('\r\n')).to.have.length(2)
    const none = await agent.get('/assets/export.csv?category=nosuch').expect(200)
    expect(none.text.trim().split('\r\n')).to.have.length(1)

    const xlsx = await agent.get('/assets/export.xlsx?status=available&department=finance').buffer(true).parse(binary).expect(200)
    expect(xlsx.headers['content-type']).to.equal('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    const rows = await readXlsx(xlsx.body as Buffer)
    expect(rows).to.have.length(2)
    expect(rows[0]![0]).to.equal('หมายเลขครุภัณฑ์')
    expect(rows[1]!.slice(0, 3)).to.deep.equal(['416-66-0001', 'โต๊ะทำงาน "ผู้บริหาร", ไม้สัก', 'ครุภัณฑ์สำนักงาน'])
    // The acquisition date is a real date cell, shown in the Buddhist era by its number format.
    expect(rows[1]![7]).to.be.instanceOf(Date)
    expect((rows[1]![7] as Date).toISOString()).to.equal('2023-10-15T00:00:00.000Z')
    expect(rows[1]![8]).to.equal(7900)
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(xlsx.body as unknown as ArrayBuffer)
    const cell = wb.worksheets[0]!.getRow(2).getCell(8)
    expect(cell.type).to.equal(ExcelJS.ValueType.Date)
    expect(cell.numFmt).to.equal('[$-1070000]d/mm/yyyy;@')
    expect(wb.worksheets[0]!.getRow(2).getCell(9).numFmt).to.equal('#,##0.00')
  })

  it('when staff asks for an export, then 403', async () => {
    const { agent } = await signedInAs(t, ['staff'])
    expect((await agent.get('/assets/export.csv')).status).to.equal(403)
    expect((await agent.get('/assets/export.xlsx')).status).to.equal(403)
  })

  it('when the exported CSV and XLSX are imported into an empty register, then every asset comes back the same', async () => {
    await seed()
    const { agent } = await signedInAs(t, ['finance'])
    const csv = (await agent.get('/assets/export.csv').buffer(true).parse(binary).expect(200)).body as Buffer
    const xlsx = (await agent.get('/assets/export.xlsx').buffer(true).parse(binary).expect(200)).body as Buffer
    const columns =
      'code, name, category_id, brand_model, serial_number, department_id, location, acquired_on, price_satang, useful_life_years, funding_source, status, loanable, max_loan_days, notes'
    const before = await query(t.ctx.db).all(`SELECT ${columns} FROM asset ORDER BY code`)

    for (const [data, name] of [
      [csv, 'export.csv'],
      [xlsx, 'export.xlsx'],
    ] as const) {
      const fresh = await createTestApp()
      try {
        const { agent: officer } = await signedInAs(fresh, ['finance'])
        const { path, html } = await preview(officer, data, name)
        expect(counts(html), name).to.deep.equal({ total: 3, good: 3, bad: 0 })
        expect(html).to.include('«สถานะ»')
        expect((await confirm(officer, path, html)).status).to.equal(303)
        expect(await query(fresh.ctx.db).all(`SELECT ${columns} FROM asset ORDER BY code`), name).to.deep.equal(before)
      } finally {
        await fresh.close()
      }
    }
  })
})
