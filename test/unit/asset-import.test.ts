import { expect } from 'chai'
import ExcelJS from 'exceljs'
import JSZip from 'jszip'
import { fieldOfHeader, parseRegisterDate, parseYesNo, cleanPriceText, categoryKey, dateFromCell, EXPORT_HEADERS } from '../../server/i18n/register-file.js'
import { previewImport } from '../../server/services/asset-import.service.js'
import { decodeText, findHeaderRow, mapHeaders, readRegisterFile, type HeaderMap } from '../../server/services/asset-import-file.js'
import { checkRow, loadLookups } from '../../server/services/asset-import-rows.js'
import { createAsset } from '../../server/services/asset.service.js'
import { isAppError } from '../../server/errors.js'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { csvText, encodeWindows874, utf8Bom, xlsxOf } from '../helpers/register-files.js'
import { zipBomb } from '../helpers/hostile-xlsx.js'

describe('asset import: reading a register file', () => {
  it('when the bytes are UTF-8 with or without a BOM, Windows-874 or UTF-16, then the Thai text decodes the same', () => {
    const text = 'หมายเลขครุภัณฑ์,ชื่อ\r\nกค.0001,เก้าอี้\r\n'
    expect(decodeText(Buffer.from(text, 'utf8'))).to.deep.equal({ text, encoding: 'utf-8' })
    expect(decodeText(utf8Bom(text))).to.deep.equal({ text, encoding: 'utf-8-bom' })
    expect(decodeText(encodeWindows874(text))).to.deep.equal({ text, encoding: 'windows-874' })
    expect(decodeText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]))).to.deep.equal({ text, encoding: 'utf-16le' })
  })

  it('when headers are Thai or English synonyms, in any case, spacing or brackets, then each maps to its field', () => {
    const cases: Array<[string, string]> = [
      ['หมายเลขครุภัณฑ์', 'code'],
      ['รหัสครุภัณฑ์', 'code'],
      [' Code ', 'code'],
      ['ชื่อ', 'name'],
      ['รายการ', 'name'],
      ['ประเภท', 'category'],
      ['หมวด', 'category'],
      ['ยี่ห้อ/รุ่น', 'brandModel'],
      ['ยี่ห้อ - รุ่น', 'brandModel'],
      ['หมายเลขเครื่อง', 'serialNumber'],
      ['Serial No.', 'serialNumber'],
      ['หน่วยงาน', 'department'],
      ['กอง', 'department'],
      ['สถานที่', 'location'],
      ['ที่ตั้ง', 'location'],
      ['วันที่ได้มา', 'acquiredOn'],
      ['วันที่ซื้อ', 'acquiredOn'],
      ['Acquired', 'acquiredOn'],
      ['ราคา', 'price'],
      ['ราคาต่อหน่วย (บาท)', 'price'],
      ['แหล่งเงิน', 'fundingSource'],
      ['งบประมาณ', 'fundingSource'],
      ['ให้ยืม', 'loanable'],
      ['ยืมได้', 'loanable'],
      ['ยืมได้สูงสุด (วัน)', 'maxLoanDays'],
      ['หมายเหตุ', 'notes'],
      ['NOTES', 'notes'],
    ]
    for (const [header, field] of cases) expect(fieldOfHeader(header), header).to.equal(field)
    expect(fieldOfHeader('ลำดับที่')).to.equal(undefined)
    expect(fieldOfHeader('')).to.equal(undefined)
  })

  it('when the export writes its headers, then every one but the status reads back as its own field', () => {
    for (const [field, header] of Object.entries(EXPORT_HEADERS)) {
      expect(fieldOfHeader(header), header).to.equal(field === 'status' ? undefined : field)
    }
  })

  it('when a header row lacks a required column, then mapHeaders names it; extra columns are listed as ignored; ยี่ห้อ and รุ่น fill one field', () => {
    const m = mapHeaders(['ลำดับ', 'รหัสครุภัณฑ์', 'ยี่ห้อ', 'รุ่น', 'ราคา', null])
    expect(m.missing).to.deep.equal(['name', 'category'])
    expect(m.ignored).to.deep.equal(['ลำดับ'])
    expect(m.columns.brandModel).to.deep.equal([2, 3])
    expect(m.duplicate).to.equal(undefined)
    expect(mapHeaders(['code', 'name', 'ประเภท', 'หมวด']).duplicate).to.deep.equal({ field: 'category', headers: ['ประเภท', 'หมวด'] })
  })

  it('when a title line stands above the header, then the header row is found below it; without one the error names the missing columns', async () => {
    const table = await readRegisterFile(utf8Bom(csvText([['ทะเบียนครุภัณฑ์ อบต.'], [], ['code', 'name', 'category'], ['A-1', 'x', 'office']])), 'x.csv')
    expect(findHeaderRow(table)).to.include({ rowIndex: 2, line: 3 })
    const bad = await readRegisterFile(
      utf8Bom(
        csvText([
          ['code', 'name'],
          ['A-1', 'x'],
        ]),
      ),
      'x.csv',
    )
    try {
      findHeaderRow(bad)
      expect.fail('no error')
    } catch (e) {
      expect(isAppError(e) && e.messageKey).to.equal('assetImport.missingColumns')
      expect(isAppError(e) && e.details?.map((d) => d.field)).to.deep.equal(['category'])
    }
  })

  it('when a CSV has an unbalanced quote, then the file-level error names the line', async () => {
    try {
      await readRegisterFile(Buffer.from('code,name,category\r\nA-1,"broken,office\r\n'), 'x.csv')
      expect.fail('no error')
    } catch (e) {
      expect(isAppError(e) && e.messageKey).to.equal('assetImport.badCsv')
    }
  })
})

describe('asset import: Thai values', () => {
  it('when dates are BE or CE DD/MM/YYYY, ISO (also with a BE year), Thai month names or carry a time, then they parse; impossible days do not', () => {
    const ok: Array<[string, string]> = [
      ['15/10/2567', '2024-10-15'],
      ['1/3/2567', '2024-03-01'],
      ['15/10/2024', '2024-10-15'],
      ['15-10-2567', '2024-10-15'],
      ['๑๕/๑๐/๒๕๖๗', '2024-10-15'],
      ['2024-10-15', '2024-10-15'],
      ['2567-10-15', '2024-10-15'],
      ['15 ต.ค. 2567', '2024-10-15'],
      ['15 ตุลาคม พ.ศ. 2567', '2024-10-15'],
      ['29/2/2567', '2024-02-29'],
      ['15/10/2567 0:00', '2024-10-15'],
    ]
    for (const [text, iso] of ok) expect(parseRegisterDate(text), text).to.deep.equal({ ok: true, value: iso })
    for (const text of ['31/02/2567', '29/2/2566', '15/13/2567', '2567', 'เมื่อวาน', '15 ตค', '1/10/67']) expect(parseRegisterDate(text).ok, text).to.equal(false)
  })

  it('when an Excel date cell holds a CE date or a BE year typed into it, then it is that day', () => {
    expect(dateFromCell(new Date(Date.UTC(2023, 9, 15)))).to.deep.equal({ ok: true, value: '2023-10-15' })
    expect(dateFromCell(new Date(Date.UTC(2566, 9, 15)))).to.deep.equal({ ok: true, value: '2023-10-15' })
  })

  it('when loanable says ได้/ไม่ได้ or yes/no, then it is read; anything else is not', () => {
    for (const w of ['ได้', 'ให้ยืม', 'Yes', 'Y', '1', 'TRUE']) expect(parseYesNo(w), w).to.equal(true)
    for (const w of ['ไม่ได้', 'ไม่ให้ยืม', 'No', '0', 'false']) expect(parseYesNo(w), w).to.equal(false)
    expect(parseYesNo('บางที')).to.equal(undefined)
  })

  it('when a price has baht words or the «.-» ending, then they are taken off', () => {
    expect(cleanPriceText('7,900.-')).to.equal('7,900')
    expect(cleanPriceText(' 7,900.00 บาท')).to.equal('7,900.00')
    expect(cleanPriceText('฿350')).to.equal('350')
  })

  it('when a category is named with or without «ครุภัณฑ์», with spaces, then the key is the same', () => {
    expect(categoryKey('ครุภัณฑ์สำนักงาน')).to.equal(categoryKey('สำนักงาน'))
    expect(categoryKey('ครุภัณฑ์ สำนักงาน ')).to.equal(categoryKey('สำนักงาน'))
    expect(categoryKey('ครุภัณฑ์')).to.equal(categoryKey('ครุภัณฑ์'))
  })
})

describe('asset import: checking rows', () => {
  let ctx: TestContext
  beforeEach(async () => {
    ctx = await createTestContext()
  })
  afterEach(() => ctx.close())

  const header = ['code', 'name', 'category', 'department', 'acquired', 'price', 'loanable', 'useful life']
  const map = (): HeaderMap => ({ rowIndex: 0, line: 1, columns: mapHeaders(header).columns, ignored: [] })

  async function check(cells: Array<string | number | Date | null>) {
    return checkRow({ line: 2, cells }, map(), await loadLookups(ctx))
  }

  it('when a row is right, then its input follows createAsset: the code as read, category and department ids, ISO date, price text', async () => {
    const row = await check(['  ４１６-66-0001 ', 'โต๊ะ', 'ครุภัณฑ์  สำนักงาน', 'กองคลัง', '15/10/2567', '7,900.-', 'ไม่ได้', '8'])
    expect(row.errors).to.deep.equal([])
    expect(row.input).to.include({ code: '４１６-66-0001', acquiredOn: '2024-10-15', price: '7,900', loanable: false, usefulLifeYears: 8 })
    expect(row.input!.categoryId).to.be.a('number')
    expect(row.input!.departmentId).to.be.a('number')
  })

  it('when a category, department, date, price, loanable word or name is wrong, then each is a reason with the value', async () => {
    const row = await check(['A-1', '', 'ดาวเทียม', 'กองอวกาศ', '31/02/2567', '1.234', 'บางที', 'x'])
    expect(row.input).to.equal(undefined)
    expect(row.errors.map((e) => [e.field, e.message, e.params?.value])).to.deep.equal([
      ['category', 'assetImport.row.unknownCategory', 'ดาวเทียม'],
      ['department', 'assetImport.row.unknownDepartment', 'กองอวกาศ'],
      ['acquiredOn', 'assetImport.row.noSuchDate', '31/02/2567'],
      ['loanable', 'assetImport.row.badLoanable', 'บางที'],
      ['name', 'validation.required', undefined],
      ['price', 'assetImport.row.priceDecimals', '1.234'],
      ['usefulLifeYears', 'validation.integer', undefined],
    ])
  })

  it('when a code breaks the code rule, then the rule of createAsset refuses it', async () => {
    const row = await check(['ab cd!', 'โต๊ะ', 'office', '', '', '', '', ''])
    expect(row.errors).to.deep.equal([{ field: 'code', message: 'asset.codeFormat' }])
  })

  it('when price and date are empty or a dash, then the row is good without them', async () => {
    const row = await check(['A-1', 'โต๊ะ', 'office', '-', '', '-', '', ''])
    expect(row.errors).to.deep.equal([])
    expect(row.input).to.include({ price: null, acquiredOn: null, departmentId: null })
  })

  it('when a file repeats a code (after NFKC) or names one already registered, then those rows are refused and the rest pass', async () => {
    await createAsset(ctx, { id: null, label: 'test' }, { code: 'B-9', name: 'มีแล้ว', categoryId: 1 })
    const file = utf8Bom(
      csvText([['code', 'name', 'category'], ['A-1', 'x', 'office'], ['Ａ-1', 'y', 'office'], ['B-9', 'z', 'office'], [], ['C-1', 'w', 'computer']]),
    )
    const p = await previewImport(ctx, { name: 'x.csv', data: file })
    expect(p.emptyRows).to.equal(1)
    expect(p.rows.map((r) => [r.line, r.errors.map((e) => e.message)])).to.deep.equal([
      [2, []],
      [3, ['assetImport.row.duplicateInFile']],
      [4, ['assetImport.row.codeInRegister']],
      [6, []],
    ])
    expect(p.rows[1]!.errors[0]!.params).to.deep.equal({ code: 'A-1', line: 2 })
    expect({ good: p.good, bad: p.bad }).to.deep.equal({ good: 2, bad: 2 })
  })

  it('when an XLSX has formula, rich-text and date cells, then their values are read', async () => {
    const data = await xlsxOf([
      ['code', 'name', 'category', 'acquired', 'price'],
      [
        'F-1',
        { richText: [{ text: 'เก้า' }, { text: 'อี้' }] },
        { formula: 'LOWER("OFFICE")', result: 'office' },
        new Date(Date.UTC(2024, 0, 31)),
        { formula: '1000*1.1', result: 1100.0000000000002 },
      ],
    ])
    const p = await previewImport(ctx, { name: 'x.xlsx', data })
    expect(p.rows[0]!.errors).to.deep.equal([])
    expect(p.rows[0]!.input).to.include({ name: 'เก้าอี้', acquiredOn: '2024-01-31', price: '1100.00' })
  })
})

describe('asset import: reading XLSX as it streams (issue 13)', () => {
  let ctx: TestContext
  beforeEach(async () => {
    ctx = await createTestContext()
  })
  afterEach(() => ctx.close())

  async function refusal(data: Buffer): Promise<unknown> {
    try {
      await readRegisterFile(data, 'x.xlsx')
    } catch (e) {
      return e
    }
    return expect.fail('no error')
  }

  it('when a workbook opens on an empty cover sheet, its sheet stored before its shared strings, then the register sheet is read with Excel line numbers and its blank rows counted', async () => {
    const wb = new ExcelJS.Workbook()
    wb.addWorksheet('ปก').getCell('A1').fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFFF00' } }
    const ws = wb.addWorksheet('ทะเบียน')
    ws.addRow(['ทะเบียนครุภัณฑ์'])
    ws.addRow(['code', 'name', 'category', 'acquired'])
    ws.addRow(['S-1', { richText: [{ text: 'เก้า' }, { text: 'อี้' }] }, 'office', new Date(Date.UTC(2024, 0, 31))])
    ws.addRow([])
    ws.addRow(['S-2', 'โต๊ะ', 'office', null])
    ws.getCell('A9').fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFFF00' } } // a formatted, empty row
    const data = Buffer.from(await wb.xlsx.writeBuffer())
    const order = Object.keys((await JSZip.loadAsync(data)).files)
    expect(order.indexOf('xl/worksheets/sheet2.xml'), 'as Excel writes it').to.be.below(order.indexOf('xl/sharedStrings.xml'))

    const p = await previewImport(ctx, { name: 'x.xlsx', data })
    expect(p.headerLine).to.equal(2)
    expect(p.rows.map((r) => [r.line, r.errors])).to.deep.equal([
      [3, []],
      [5, []],
    ])
    expect(p.rows[0]!.input).to.include({ code: 'S-1', name: 'เก้าอี้', acquiredOn: '2024-01-31' })
    expect(p.emptyRows, 'line 4, and 6 to 9').to.equal(5)
  })

  it('when a row has a value in the last column Excel allows (XFD), then the row is read without being made 16,384 cells wide', async () => {
    const wb = new ExcelJS.Workbook()
    const ws = wb.addWorksheet('ทะเบียน')
    ws.addRow(['code', 'name', 'category'])
    ws.addRow(['W-1', 'โต๊ะ', 'office'])
    ws.getCell('XFD2').value = 'far away'
    const table = await readRegisterFile(Buffer.from(await wb.xlsx.writeBuffer()), 'x.xlsx')
    expect(table.rows.map((r) => r.cells)).to.deep.equal([
      ['code', 'name', 'category'],
      ['W-1', 'โต๊ะ', 'office'],
    ])
  })

  it('when a part unpacks to over a thousand times its size, then the file is refused as too large once unpacked, before it is inflated', async () => {
    const e = await refusal(await zipBomb(4))
    expect(isAppError(e) && [e.code, e.messageKey, e.params]).to.deep.equal(['payload_too_large', 'assetImport.unpackedTooLarge', { mb: 64 }])
  })

  it("when a ZIP holds no workbook, its sheet's bytes are damaged or it is cut short, then it is unreadable", async () => {
    const zip = new JSZip()
    zip.file('hello.txt', 'not a workbook')
    const notBook = await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' })
    expect((await refusal(notBook)) as object).to.include({ messageKey: 'assetImport.unreadable' })
    const good = await xlsxOf([
      ['code', 'name', 'category'],
      ['A-1', 'x', 'office'],
    ])
    const damaged = Buffer.from(good)
    const sheetData = good.indexOf('xl/worksheets/sheet1.xml') + 40 // past its local header
    damaged.fill(0x55, sheetData, sheetData + 64)
    expect((await refusal(damaged)) as object).to.include({ messageKey: 'assetImport.unreadable' })
    expect((await refusal(good.subarray(0, good.length - 30))) as object, 'cut short').to.include({ messageKey: 'assetImport.unreadable' })
  })
})
