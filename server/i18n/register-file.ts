/**
 * How Thai offices write their asset register in a spreadsheet: the column headers they use
 * (Thai and English), the words for yes and no, dates with Thai month names, prices with «บาท»
 * or «.-». Pure functions and data only; the import and export services build on them.
 */
import { parseIsoDate, parseThaiDate, toCommonEraYear, BUDDHIST_YEAR_THRESHOLD, type DateParseResult } from './calendar.js'

/** The register's columns as files carry them; `status` is exported for reading but never imported. */
export const REGISTER_FIELDS = [
  'code',
  'name',
  'category',
  'brandModel',
  'serialNumber',
  'department',
  'location',
  'acquiredOn',
  'price',
  'usefulLifeYears',
  'fundingSource',
  'loanable',
  'maxLoanDays',
  'notes',
] as const
export type RegisterField = (typeof REGISTER_FIELDS)[number]

export const REQUIRED_FIELDS: readonly RegisterField[] = ['code', 'name', 'category']

/** Fields that several columns may fill together (a register with «ยี่ห้อ» and «รุ่น» apart). */
export const JOINED_FIELDS: readonly RegisterField[] = ['brandModel', 'notes']

/**
 * Headers people really use, compared after headerKey(): case, spaces, brackets and the usual
 * punctuation do not matter, so «ราคาต่อหน่วย (บาท)» and «ราคาต่อหน่วย» are one.
 */
const HEADER_SYNONYMS: Record<RegisterField, string[]> = {
  code: ['หมายเลขครุภัณฑ์', 'รหัสครุภัณฑ์', 'เลขครุภัณฑ์', 'เลขที่ครุภัณฑ์', 'หมายเลขทะเบียนครุภัณฑ์', 'รหัสทรัพย์สิน', 'รหัส', 'code', 'asset code', 'asset no', 'asset number'],
  name: ['ชื่อ', 'ชื่อครุภัณฑ์', 'ชื่อรายการ', 'รายการ', 'รายการครุภัณฑ์', 'ชื่อทรัพย์สิน', 'name', 'asset name', 'item', 'description'],
  category: ['ประเภท', 'ประเภทครุภัณฑ์', 'หมวด', 'หมวดครุภัณฑ์', 'หมวดหมู่', 'category', 'type'],
  brandModel: ['ยี่ห้อ', 'รุ่น', 'ยี่ห้อ/รุ่น', 'ยี่ห้อ รุ่น', 'ยี่ห้อ ชนิด แบบ ขนาดและลักษณะ', 'ชนิด แบบ ขนาดและลักษณะ', 'brand', 'model', 'brand/model', 'brand model'],
  serialNumber: ['หมายเลขเครื่อง', 'หมายเลขเครื่อง (Serial)', 'เลขเครื่อง', 'หมายเลขซีเรียล', 'serial', 'serial number', 'serial no', 's/n', 'sn'],
  department: ['หน่วยงาน', 'หน่วยงานที่ดูแล', 'หน่วยงานที่รับผิดชอบ', 'กอง', 'กอง/สำนัก', 'สำนัก/กอง', 'ส่วนราชการ', 'department', 'dept', 'owning department'],
  location: ['สถานที่', 'สถานที่เก็บ', 'สถานที่ตั้ง', 'ที่ตั้ง', 'ที่เก็บ', 'location'],
  acquiredOn: ['วันที่ได้มา', 'วันที่ซื้อ', 'วันที่จัดซื้อ', 'วันเดือนปีที่ได้มา', 'วัน เดือน ปี', 'วันที่รับ', 'acquired', 'acquired on', 'date acquired', 'purchase date', 'purchased'],
  price: ['ราคา', 'ราคา (บาท)', 'ราคาต่อหน่วย', 'ราคาต่อหน่วย (บาท)', 'ราคาต่อหน่วย/ชุด/กลุ่ม', 'มูลค่า', 'price', 'price (baht)', 'unit price', 'cost'],
  usefulLifeYears: ['อายุการใช้งาน', 'อายุการใช้งาน (ปี)', 'useful life', 'useful life (years)'],
  fundingSource: ['แหล่งเงิน', 'แหล่งงบประมาณ', 'งบประมาณ', 'ประเภทเงิน', 'funding source', 'funding', 'fund'],
  loanable: ['ให้ยืม', 'ยืมได้', 'ให้ยืมได้', 'loanable', 'lendable'],
  maxLoanDays: ['ยืมได้สูงสุด (วัน)', 'ยืมได้สูงสุด', 'จำนวนวันยืมสูงสุด', 'max loan days', 'maximum loan days'],
  notes: ['หมายเหตุ', 'notes', 'note', 'remarks', 'remark'],
}

/** Case, spaces (also zero-width ones), brackets and . , : * / - _ do not tell two headers apart. */
export function headerKey(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\u200b\u200c\u200d\ufeff()[\]{}.,:;*/\\\-_'"]/g, '')
}

const HEADER_INDEX: Map<string, RegisterField> = new Map(
  REGISTER_FIELDS.flatMap((field) => HEADER_SYNONYMS[field].map((h) => [headerKey(h), field] as [string, RegisterField])),
)

/** The field a header names, or undefined for a column the import does not read. */
export function fieldOfHeader(header: string): RegisterField | undefined {
  const key = headerKey(header)
  return key ? HEADER_INDEX.get(key) : undefined
}

/** The columns of an exported register, Thai headers; every one reads back through fieldOfHeader. */
export const EXPORT_HEADERS: Record<RegisterField | 'status', string> = {
  code: 'หมายเลขครุภัณฑ์',
  name: 'ชื่อครุภัณฑ์',
  category: 'หมวด',
  brandModel: 'ยี่ห้อ/รุ่น',
  serialNumber: 'หมายเลขเครื่อง (Serial)',
  department: 'หน่วยงานที่ดูแล',
  location: 'สถานที่เก็บ',
  acquiredOn: 'วันที่ได้มา',
  price: 'ราคา (บาท)',
  usefulLifeYears: 'อายุการใช้งาน (ปี)',
  fundingSource: 'แหล่งเงิน',
  status: 'สถานะ',
  loanable: 'ให้ยืมได้',
  maxLoanDays: 'ยืมได้สูงสุด (วัน)',
  notes: 'หมายเหตุ',
}

export const EXPORT_ORDER: ReadonlyArray<RegisterField | 'status'> = [
  'code',
  'name',
  'category',
  'brandModel',
  'serialNumber',
  'department',
  'location',
  'acquiredOn',
  'price',
  'usefulLifeYears',
  'fundingSource',
  'status',
  'loanable',
  'maxLoanDays',
  'notes',
]

export const LOANABLE_WORDS = { yes: 'ได้', no: 'ไม่ได้' } as const

const YES = new Set(['ได้', 'ให้ยืม', 'ให้ยืมได้', 'ยืมได้', 'ใช่', 'yes', 'y', 'true', '1', '✓', '✔', '/'])
const NO = new Set(['ไม่ได้', 'ไม่ให้ยืม', 'ไม่', 'ไม่ใช่', 'ห้ามยืม', 'ยืมไม่ได้', 'no', 'n', 'false', '0', '✗', '✘', 'x'])

/** ได้/ไม่ได้ and their cousins; undefined when the word is neither. */
export function parseYesNo(text: string): boolean | undefined {
  const key = text.normalize('NFKC').toLowerCase().replace(/\s+/g, '')
  if (YES.has(key)) return true
  if (NO.has(key)) return false
  return undefined
}

/** A dash alone is how a paper register says "none". */
export function isNoValue(text: string): boolean {
  return /^[-–—]+$/.test(text.trim())
}

/** «7,900.-», «7,900 บาท», «฿7,900.00» → «7,900», «7,900», «7,900.00»; the rest is for the price rule. */
export function cleanPriceText(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/บาท|฿|thb/gi, '')
    .replace(/\s+/g, '')
    .replace(/\.-$/, '')
}

const CATEGORY_PREFIX = 'ครุภัณฑ์'

/** Category and department names compare without spaces, case or form (NFKC unifies ำ and ํา). */
export function nameKey(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\u200b\u200c\u200d\ufeff]/g, '')
}

/** «ครุภัณฑ์สำนักงาน» and «สำนักงาน» name the same category. */
export function categoryKey(text: string): string {
  const key = nameKey(text)
  const prefix = nameKey(CATEGORY_PREFIX)
  return key.startsWith(prefix) && key.length > prefix.length ? key.slice(prefix.length) : key
}

const THAI_MONTHS: Array<[string[], number]> = [
  [['มกราคม', 'มค'], 1],
  [['กุมภาพันธ์', 'กพ'], 2],
  [['มีนาคม', 'มีค'], 3],
  [['เมษายน', 'เมย'], 4],
  [['พฤษภาคม', 'พค'], 5],
  [['มิถุนายน', 'มิย'], 6],
  [['กรกฎาคม', 'กค'], 7],
  [['สิงหาคม', 'สค'], 8],
  [['กันยายน', 'กย'], 9],
  [['ตุลาคม', 'ตค'], 10],
  [['พฤศจิกายน', 'พย'], 11],
  [['ธันวาคม', 'ธค'], 12],
]
const MONTH_INDEX = new Map(THAI_MONTHS.flatMap(([names, m]) => names.map((n) => [n.normalize('NFKC'), m] as [string, number])))

function thaiDigitsToAscii(s: string): string {
  return s.replace(/[๐-๙]/g, (d) => String(d.charCodeAt(0) - 0x0e50))
}

function pad2(n: number): string {
  return String(n).padStart(2, '0')
}

/**
 * A date as a register file has it: DD/MM/YYYY in the Buddhist era or the Common Era (also with
 * - or . between), 'YYYY-MM-DD' (a Buddhist year there too), «15 ต.ค. 2567» or «15 ตุลาคม พ.ศ. 2567»;
 * a time of day after it («15/10/2567 0:00», as Excel writes a date cell to CSV) is ignored.
 */
export function parseRegisterDate(input: string): DateParseResult {
  const text = thaiDigitsToAscii(input.normalize('NFKC'))
    .trim()
    .replace(/\s+\d{1,2}:\d{2}(:\d{2})?(\s*น\.?)?$/, '')
  const dmy = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text)
  if (dmy) return parseThaiDate(`${dmy[1]}/${dmy[2]}/${dmy[3]}`)
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text)
  if (iso) {
    let year = Number(iso[1])
    if (year >= BUDDHIST_YEAR_THRESHOLD) year = toCommonEraYear(year)
    return parseIsoDate(`${String(year).padStart(4, '0')}-${pad2(Number(iso[2]))}-${pad2(Number(iso[3]))}`)
  }
  const named = /^(\d{1,2})\s*([^\d\s][^\d]*?)\s*(?:พ\s*\.?\s*ศ\s*\.?)?\s*(\d{4})$/.exec(text)
  if (named) {
    const month = MONTH_INDEX.get(named[2]!.replace(/[.\s]/g, ''))
    if (month !== undefined) return parseThaiDate(`${named[1]}/${month}/${named[3]}`)
  }
  return { ok: false, reason: 'format' }
}

/** An Excel date cell: a serial shown as a date. A year typed as พ.ศ. into a CE cell (2567) is read as พ.ศ. */
export function dateFromCell(d: Date): DateParseResult {
  if (Number.isNaN(d.getTime())) return { ok: false, reason: 'invalid' }
  // exceljs reads a serial as UTC midnight of that day; a time of day is dropped.
  let year = d.getUTCFullYear()
  if (year >= BUDDHIST_YEAR_THRESHOLD) year = toCommonEraYear(year)
  return parseIsoDate(`${String(year).padStart(4, '0')}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`)
}
