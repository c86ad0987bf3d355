import ExcelJS from 'exceljs'

/**
 * Windows-874 (TIS-620 plus Windows extras) as Excel on Thai Windows saves plain "CSV". TextEncoder
 * writes only UTF-8, so the bytes are built here: ASCII stays, Thai U+0E01–U+0E5B is 0xA1–0xFB.
 */
export function encodeWindows874(text: string): Buffer {
  const bytes: number[] = []
  for (const ch of text) {
    const c = ch.codePointAt(0)!
    if (c < 0x80) bytes.push(c)
    else if (c >= 0x0e01 && c <= 0x0e5b) bytes.push(c - 0x0e01 + 0xa1)
    else throw new Error(`U+${c.toString(16)} has no Windows-874 byte in this helper`)
  }
  return Buffer.from(bytes)
}

/** CSV the way Excel writes it: CRLF, quotes only where needed. */
export function csvText(rows: Array<Array<string | number>>): string {
  return rows
    .map((r) =>
      r
        .map(String)
        .map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c))
        .join(','),
    )
    .join('\r\n')
    .concat('\r\n')
}

export function utf8Bom(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])
}

export async function xlsxOf(rows: ExcelJS.CellValue[][], sheetName = 'ทะเบียน'): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  const ws = wb.addWorksheet(sheetName)
  for (const r of rows) ws.addRow(r)
  return Buffer.from(await wb.xlsx.writeBuffer())
}

export async function readXlsx(buf: Buffer): Promise<ExcelJS.CellValue[][]> {
  const wb = new ExcelJS.Workbook()
  await wb.xlsx.load(buf as unknown as ArrayBuffer)
  const ws = wb.worksheets[0]!
  const out: ExcelJS.CellValue[][] = []
  ws.eachRow((row) => out.push((row.values as ExcelJS.CellValue[]).slice(1)))
  return out
}

export const THAI_HEADER = [
  'ลำดับ',
  'หมายเลขครุภัณฑ์',
  'รายการ',
  'ประเภท',
  'ยี่ห้อ/รุ่น',
  'หมายเลขเครื่อง',
  'หน่วยงาน',
  'สถานที่ตั้ง',
  'วันที่ได้มา',
  'ราคาต่อหน่วย',
  'แหล่งเงิน',
  'ให้ยืม',
  'หมายเหตุ',
]

export type Expected = { line: number; reasons: string[] }

/**
 * A 200-row register as a อบต. keeps it: a title line above the header, categories by Thai name
 * (with and without «ครุภัณฑ์») or code, prices like "7,900.00", BE dates, rows without price or
 * date, one blank row — and five mistakes, whose rows and Thai reasons are returned.
 */
export function register200(opts: { takenCode: string }): { rows: string[][]; bad: Expected[]; goodCodes: string[]; dataRows: number } {
  const categories = ['ครุภัณฑ์สำนักงาน', 'สำนักงาน', 'office', 'ครุภัณฑ์ คอมพิวเตอร์', 'computer', 'ครุภัณฑ์งานบ้านงานครัว', 'ไฟฟ้าและวิทยุ']
  const departments = ['กองคลัง', 'สำนักปลัด', 'works', '', 'กองช่าง']
  const names = ['เก้าอี้พลาสติก', 'โต๊ะทำงานเหล็ก, 4 ลิ้นชัก', 'เครื่องคอมพิวเตอร์โน้ตบุ๊ก', 'เต็นท์ผ้าใบ', 'เครื่องขยายเสียง']
  const rows: string[][] = [['ทะเบียนครุภัณฑ์ องค์การบริหารส่วนตำบลหนองบัว'], THAI_HEADER]
  const bad: Expected[] = []
  const goodCodes: string[] = []
  let line = 2
  for (let i = 1; i <= 200; i++) {
    if (i === 101) {
      rows.push(['', '', '', '']) // a blank row in the middle is skipped
      line++
    }
    line++
    let code = `416-66-${String(i).padStart(4, '0')}`
    let category = categories[i % categories.length]!
    let date = i % 4 === 0 ? '' : `${(i % 28) + 1}/${(i % 12) + 1}/25${60 + (i % 7)}`
    let price = i % 5 === 0 ? '' : i % 2 === 0 ? '7,900.00' : String(350 + i)
    const expected: string[] = []
    if (i === 50) {
      code = '416-66-0010'
      expected.push('หมายเลขครุภัณฑ์ 416-66-0010 ซ้ำกับแถวที่ 12 ในไฟล์')
    }
    if (i === 77) {
      category = 'ครุภัณฑ์ดาวเทียม'
      expected.push('ไม่พบหมวดครุภัณฑ์ «ครุภัณฑ์ดาวเทียม»')
    }
    if (i === 120) {
      date = '31/02/2567'
      expected.push('วันที่ «31/02/2567» ไม่มีวันที่นี้')
    }
    if (i === 150) {
      price = '7,9OO.00'
      expected.push('ราคา «7,9OO.00» ไม่ถูกต้อง')
    }
    if (i === 180) {
      code = opts.takenCode
      expected.push(`หมายเลขครุภัณฑ์ ${opts.takenCode} มีอยู่ในทะเบียนแล้ว`)
    }
    if (expected.length) bad.push({ line, reasons: expected })
    else goodCodes.push(code)
    rows.push([
      String(i),
      code,
      names[i % names.length]!,
      category,
      i % 3 === 0 ? 'Acer Aspire 5' : '',
      i % 3 === 0 ? `SN${1000 + i}` : '',
      departments[i % departments.length]!,
      `ห้อง ${i % 9}`,
      date,
      price,
      'งบประมาณ',
      i % 10 === 0 ? 'ไม่ได้' : i % 10 === 1 ? '' : 'ได้',
      '',
    ])
  }
  return { rows, bad, goodCodes, dataRows: 200 }
}
