import { expect } from 'chai'
import supertest from 'supertest'
import ExcelJS from 'exceljs'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'
import { buildRegisterHistory } from '../helpers/register-history.js'
import { updateSettings } from '../../server/services/settings.service.js'

type BodyParser = Extract<Parameters<supertest.Test['parse']>[0], (res: never, callback: never) => void>
const binary: BodyParser = (res, callback) => {
  const chunks: Buffer[] = []
  const stream = res as unknown as NodeJS.ReadableStream
  stream.on('data', (c: Buffer) => chunks.push(c))
  stream.on('end', () => callback(null, Buffer.concat(chunks)))
}

describe('loan-return register (pages and files)', () => {
  let t: TestApp
  let finance: supertest.Agent
  before(async () => {
    t = await createTestApp({ now: '2024-09-30T03:00:00.000Z' })
    await buildRegisterHistory(t.ctx)
    finance = (await signedInAs(t, ['finance'])).agent
  })
  after(() => t.close())

  it('when finance opens the register of FY 2568, then every number is on the page in order with the filters and the download links', async () => {
    const res = await finance.get('/register?fy=2568').expect(200)
    const numbers = [...res.text.matchAll(/<strong>(\d+\/\d{4})<\/strong><\/a>/g)].map((m) => m[1])
    expect(numbers).to.deep.equal(['1/2568', '2/2568', '3/2568', '4/2568', '5/2568', '6/2568', '7/2568'])
    expect(res.text).to.include('href="/register/print?fy=2568"')
    expect(res.text).to.include('href="/register.csv?fy=2568"')
    expect(res.text).to.include('href="/register.xlsx?fy=2568"')
    expect(res.text).to.include('href="/register"') // the navigation link
    expect(res.text).to.include('เก้าอี้พลาสติก')
    const q1 = await finance.get('/register?fy=2568&period=q3').expect(200)
    expect([...q1.text.matchAll(/<strong>(\d+\/\d{4})<\/strong><\/a>/g)].map((m) => m[1])).to.deep.equal(['7/2568'])
  })

  it('when a filter value is unknown, then the page answers 422 naming the problem', async () => {
    const res = await finance.get('/register?fy=2568&period=range&from=2025-02-01&to=2025-01-01').expect(422)
    expect(res.text).to.include('วันที่สิ้นสุดต้องไม่ก่อนวันที่เริ่มต้น')
  })

  it('when the print version is opened, then it is A4 landscape with repeated headers, the agency, the period in BE and Thai digits per setting', async () => {
    const res = await finance.get('/register/print?fy=2568&period=h1').expect(200)
    expect(res.text).to.include('/css/print-register.css')
    expect(res.text).to.include('<thead>')
    expect(res.text).to.include('ปีงบประมาณ พ.ศ. ๒๕๖๘')
    expect(res.text).to.include('ตั้งแต่วันที่ ๑ ตุลาคม ๒๕๖๗ ถึงวันที่ ๓๑ มีนาคม ๒๕๖๘') // the period in BE, Thai digits (the default)
    expect(res.text).to.include('๖/๒๕๖๘')
    expect(res.text).to.not.include('๗/๒๕๖๘')
    const css = await supertest(t.app).get('/css/print-register.css').expect(200)
    expect(css.text).to.include('size: A4 landscape')
    expect(css.text).to.include('counter(page')
    expect(css.text).to.include('display: table-header-group')
    await updateSettings(t.ctx, { id: null, label: 'test' }, { thaiDigits: false })
    const arabic = await finance.get('/register/print?fy=2568').expect(200)
    expect(arabic.text).to.include('7/2568')
    await updateSettings(t.ctx, { id: null, label: 'test' }, { thaiDigits: true })
  })

  it('when the CSV is downloaded, then it is UTF-8 with a BOM, CRLF, Thai intact and the =1+1 purpose neutralised', async () => {
    const res = await finance.get('/register.csv?fy=2568').buffer(true).parse(binary).expect(200)
    expect(res.headers['content-type']).to.match(/^text\/csv; charset=utf-8/)
    expect(res.headers['content-disposition']).to.include('loan-register-2568-year.csv')
    const body = res.body as Buffer
    expect([...body.subarray(0, 3)]).to.deep.equal([0xef, 0xbb, 0xbf])
    const text = body.toString('utf8')
    expect(text).to.include('\r\n')
    expect(text).to.include('พระครูสุนทร')
    expect(text).to.include("'=1+1 ถ่ายภาพงาน")
    expect(text.split('\r\n')).to.have.length(10)
  })

  it('when the XLSX is downloaded, then exceljs opens it and it holds the same rows as the CSV', async () => {
    const res = await finance.get('/register.xlsx?fy=2568').buffer(true).parse(binary).expect(200)
    const wb = new ExcelJS.Workbook()
    await wb.xlsx.load(res.body as ArrayBuffer)
    const ws = wb.worksheets[0]!
    const rows: string[][] = []
    ws.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? '' : String(v)))))
    expect(rows).to.have.length(9)
    expect(rows[0]!.slice(0, 4)).to.deep.equal(['เลขที่', 'วันที่ยื่นคำขอ', 'สถานะ', 'ผู้ยืม'])
    expect(rows.slice(1).map((r) => r[0])).to.deep.equal(['1/2568', '1/2568', '2/2568', '3/2568', '4/2568', '5/2568', '6/2568', '7/2568'])
    expect(rows[7]![7]).to.equal('=1+1 ถ่ายภาพงาน') // a text cell, never a formula
    expect(ws.getRow(8).getCell(8).type).to.equal(ExcelJS.ValueType.String)
    const csv = (await finance.get('/register.csv?fy=2568').buffer(true).parse(binary)).body as Buffer
    const csvRows = csv.toString('utf8').slice(1).trimEnd().split('\r\n')
    expect(csvRows.map((l) => l.split(',')[0])).to.deep.equal(rows.map((r) => r[0]))
  })

  it('when staff or anonymous ask for the register or its files, then 403 and the sign-in', async () => {
    const { agent: staff } = await signedInAs(t, ['staff'])
    for (const path of ['/register', '/register/print', '/register.csv', '/register.xlsx']) {
      expect((await staff.get(path)).status, path).to.equal(403)
      const anon = await supertest(t.app).get(path)
      expect(anon.status, path).to.equal(303)
      expect(anon.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`)
    }
    for (const role of ['executive', 'committee', 'admin'] as const) {
      const { agent } = await signedInAs(t, [role])
      expect((await agent.get('/register.csv?fy=2568')).status, role).to.equal(200)
    }
  })
})
