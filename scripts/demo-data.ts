/**
 * The demo agency: a made-up อบต. with departments, people, assets, counted stock, kits, community
 * borrowers and three fiscal years of loans with every outcome — all created through the real
 * services while a fixed clock walks through time, so that every date, number and audit entry is
 * consistent and the audit chain verifies. Paper approvals (SPEC §1) name approvers from the list —
 * the นายก and the ผอ.กองคลัง linked to their accounts, the ปลัด without one (so with the slip's
 * scan) — and stand confirmed, unconfirmed, disputed, voided and recorded again, or were made in one
 * sitting at the counter. Seeded: the same seed (and the same `now`) gives the
 * same data. `scale` multiplies assets, users, stock and loans (benchmarks use large scales).
 *
 * Every name here is invented (no real agency, person, temple or school is meant).
 */
import { deflateSync, crc32 } from 'node:zlib'
import type { Db } from '../db/connection.js'
import type { Role } from '../db/schema.js'
import { fixedClock } from '../server/clock.js'
import type { AppContext } from '../server/context.js'
import { isAppError } from '../server/errors.js'
import { addDays, bangkokDate, fiscalYearOf, fiscalYearRange, loanDays } from '../server/i18n/calendar.js'
import * as settingsRepo from '../server/repositories/setting.repository.js'
import { changeAssetStatus, createAsset } from '../server/services/asset.service.js'
import { CLI_ACTOR } from '../server/services/audit.service.js'
import { listCategories } from '../server/services/category.service.js'
import { createDepartment, listDepartments } from '../server/services/department.service.js'
import {
  approveLoan,
  addFollowUp,
  cancelLoan,
  createLoan,
  decideExtension,
  expireLoans,
  handOver,
  receiveReturn,
  rejectLoan,
  requestExtension,
  updateCompensation,
  type LoanView,
} from '../server/services/loan.service.js'
import { confirmPaperApproval, disputePaperApproval, voidPaperApproval } from '../server/services/loan-paper.service.js'
import type { NewAttachment } from '../server/services/attachment.service.js'
import { hashCost, setHashCostForTests } from '../server/services/password.js'
import { getSettings, updateSettings } from '../server/services/settings.service.js'
import { createKit, createStock, expandScanned, moveStock } from '../server/services/stock.service.js'
import { actorOf, createUser, type CurrentUser } from '../server/services/user.service.js'
import { publishDemoReports } from './demo-publications.js'

/** The setting row that marks a database as a demo one (the demo command overwrites only those). */
export const DEMO_MARK_KEY = 'demo.generated'
export const DEMO_PASSWORD = 'demo-pass-2568'

export interface DemoOptions {
  seed?: number
  scale?: number
  /** The demo's "today"; history ends here. Default: the real time. */
  now?: Date | string
  log?: (line: string) => void
}

export interface DemoSignIn {
  role: Role
  username: string
  password: string
  name: string
  position: string
  /** What this person does in the demo, in one short line. */
  does: string
}

/** The paper approvals the demo made (SPEC §1), by where they stand now. */
export interface DemoPaperCounts {
  /** Standing paper approvals (not voided). */
  total: number
  confirmed: number
  /** Named approver has an account and has not answered yet. */
  unconfirmed: number
  /** Of those, recorded at least 7 Bangkok days ago: on the committee's list. */
  unconfirmedOverAWeek: number
  disputed: number
  /** Disputed and still `approved`: the hand-over is blocked until finance voids it or cancels the loan. */
  disputedBlocked: number
  voided: number
  /** Named approver without an account (the scan is their evidence). */
  noAccount: number
  withoutScan: number
  /** Entered, paper-approved and handed over by one officer in one sitting, at the counter. */
  counter: number
  afterTheFact: number
}

export interface DemoSummary {
  agencyName: string
  signIns: DemoSignIn[]
  fiscalYears: number[]
  counts: { departments: number; users: number; assets: number; stock: number; kits: number; loans: number; skippedRequests: number }
  paperApprovals: DemoPaperCounts
}

// ---------------------------------------------------------------- seeded randomness

/** mulberry32: a tiny, fast, seedable PRNG (public domain). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Rng {
  private readonly next: () => number
  constructor(seed: number) {
    this.next = mulberry32(seed)
  }
  float(): number {
    return this.next()
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!
  }
  weighted<T>(xs: ReadonlyArray<readonly [T, number]>): T {
    const total = xs.reduce((s, [, w]) => s + w, 0)
    let r = this.next() * total
    for (const [x, w] of xs) {
      r -= w
      if (r < 0) return x
    }
    return xs[xs.length - 1]![0]
  }
  /** About `n` (a fractional count becomes floor + a chance of one more). */
  count(n: number): number {
    return Math.floor(n) + (this.chance(n - Math.floor(n)) ? 1 : 0)
  }
}

// ---------------------------------------------------------------- the made-up agency

const AGENCY = {
  name: 'องค์การบริหารส่วนตำบลหนองน้ำใส',
  tambon: 'หนองน้ำใส',
  address: 'เลขที่ 99 หมู่ 1 ตำบลหนองน้ำใส อำเภอโพธิ์งาม จังหวัดสุวรรณเขต 99150',
  province: 'สุวรรณเขต',
  phone: '0 4499 1234',
  letterPrefix: 'สข 71502',
}

/**
 * The fixed people. The นายก and the ผอ.กองคลัง are signatories linked to their accounts (paper
 * approvals in their name reach them to confirm); the ปลัด signs on paper only and has no account,
 * so a paper approval in her name comes with the signed slip's scan.
 */
const PEOPLE = {
  admin: { name: 'นายอนุชา นามวงศ์', position: 'นักวิชาการคอมพิวเตอร์' },
  suppliesOfficer: { name: 'นายธนากร พรหมวงศ์', position: 'เจ้าพนักงานพัสดุชำนาญงาน' },
  financeDirector: { name: 'นางสาวกาญจนา แก้วมณี', position: 'ผู้อำนวยการกองคลัง' },
  mayor: { name: 'นายประเสริฐ บุญเรือง', position: 'นายกองค์การบริหารส่วนตำบลหนองน้ำใส' },
  deputyMayor: { name: 'นายสุรชัย คำแสน', position: 'รองนายกองค์การบริหารส่วนตำบลหนองน้ำใส' },
  chiefAdministrator: { name: 'นางวิไลวรรณ ศรีสุข', position: 'ปลัดองค์การบริหารส่วนตำบลหนองน้ำใส' },
  committee: { name: 'นางสมศรี ชัยมงคล', position: 'นักวิเคราะห์นโยบายและแผน' },
  staff: { name: 'นายวีระพงษ์ ทองคำ', position: 'นักวิชาการศึกษา' },
} as const

/** The printed sign-ins, in order, and what each one does in the demo. */
const SIGN_INS: ReadonlyArray<{ username: string; role: Role; does: string }> = [
  { username: 'admin', role: 'admin', does: 'ผู้ดูแลระบบ: ผู้ใช้ การตั้งค่า ผู้ลงนาม สำรองข้อมูล (users, settings and signatories, backups)' },
  {
    username: 'finance',
    role: 'finance',
    does: 'เจ้าหน้าที่พัสดุ: เคาน์เตอร์ ส่งมอบ รับคืน บันทึกการอนุมัติในกระดาษ (counter, hand-over, returns, records paper approvals, voids disputed ones)',
  },
  {
    username: 'finance2',
    role: 'finance',
    does: 'ผอ.กองคลัง: อนุมัติการยืมใช้ในสถานที่ ยืนยัน/โต้แย้งการอนุมัติในกระดาษในนามตน (approves in-premises loans, confirms paper approvals in their name)',
  },
  {
    username: 'executive',
    role: 'executive',
    does: 'นายก: อนุมัติการยืมนอกสถานที่ ยืนยัน/โต้แย้งการอนุมัติในกระดาษ อนุมัติเผยแพร่รายงาน (approves off-premises loans, confirms/disputes paper approvals)',
  },
  { username: 'committee', role: 'committee', does: 'กรรมการตรวจสอบ: สถิติ รายงาน และ /paper-approvals (reviews statistics, the report and /paper-approvals)' },
  { username: 'staff', role: 'staff', does: 'บุคลากร: ขอยืมพัสดุให้ตนเอง (asks to borrow for themselves)' },
]

/**
 * The sign-ins as they stand in the database (names from the users table), for the table the demo
 * prints — after generating and when serving a kept demo database. Accounts missing or switched off
 * are left out.
 */
export async function demoSignIns(db: Db): Promise<DemoSignIn[]> {
  const rows = await db
    .selectFrom('app_user')
    .select(['username', 'name', 'position'])
    .where(
      'username',
      'in',
      SIGN_INS.map((s) => s.username),
    )
    .where('active', '=', 1)
    .execute()
  const out: DemoSignIn[] = []
  for (const s of SIGN_INS) {
    const u = rows.find((r) => r.username === s.username)
    if (u) out.push({ role: s.role, username: u.username, password: DEMO_PASSWORD, name: u.name, position: u.position, does: s.does })
  }
  return out
}

/** The paper approvals of a demo database, by where they stand (for the summary and its tests). */
export async function demoPaperCounts(db: Db, now: Date): Promise<DemoPaperCounts> {
  // Recorded on a Bangkok day at least 7 days before today (as the committee's list counts them).
  const weekAgo = new Date(`${addDays(bangkokDate(now), -6)}T00:00:00+07:00`).toISOString()
  const rows = await db
    .selectFrom('loan_approval as pa')
    .innerJoin('loan as l', 'l.id', 'pa.loan_id')
    .select([
      'pa.by_user_id',
      'pa.recorded_by',
      'pa.at',
      'pa.confirmed_at',
      'pa.disputed_at',
      'pa.voided_at',
      'pa.evidence_id',
      'l.status',
      'l.requested_by',
      'l.handed_over_by',
      'l.handed_over_at',
      'l.entered_after_fact',
    ])
    .where('pa.step', '=', 'approve')
    .where('pa.on_paper', '=', 1)
    .execute()
  const standing = rows.filter((r) => r.voided_at === null)
  const unconfirmed = standing.filter((r) => r.by_user_id !== null && r.confirmed_at === null && r.disputed_at === null)
  const disputed = standing.filter((r) => r.disputed_at !== null)
  return {
    total: standing.length,
    confirmed: standing.filter((r) => r.confirmed_at !== null).length,
    unconfirmed: unconfirmed.length,
    unconfirmedOverAWeek: unconfirmed.filter((r) => r.at < weekAgo).length,
    disputed: disputed.length,
    disputedBlocked: disputed.filter((r) => r.status === 'approved').length,
    voided: rows.length - standing.length,
    noAccount: standing.filter((r) => r.by_user_id === null).length,
    withoutScan: standing.filter((r) => r.evidence_id === null).length,
    // One sitting: the hand-over written in the same step as the approval it follows.
    counter: standing.filter(
      (r) => r.entered_after_fact === 0 && r.requested_by === r.recorded_by && r.handed_over_by === r.recorded_by && r.handed_over_at === r.at,
    ).length,
    afterTheFact: standing.filter((r) => r.entered_after_fact === 1).length,
  }
}

// ---------------------------------------------------------------- the signed slip's scan

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

/**
 * A small greyscale PNG that looks a little like a scanned slip: a heading, lines of "text" and a
 * signature over its line, the lines and the signature varying with `n` (each scan its own hash).
 */
export function slipScan(n: number): Buffer {
  const w = 120
  const h = 84
  const stride = w + 1
  const raw = Buffer.alloc(stride * h, 0xff)
  for (let y = 0; y < h; y++) raw[y * stride] = 0 // filter: none
  const px = (x: number, y: number, v: number) => {
    if (x >= 0 && x < w && y >= 0 && y < h) raw[y * stride + 1 + x] = v
  }
  for (let y = 6; y < 9; y++) for (let x = 35; x < 85; x++) px(x, y, 40)
  for (let row = 0; row < 5; row++) {
    const y = 18 + row * 8
    const len = 50 + ((n * 7 + row * 13) % 50)
    for (let x = 8; x < 8 + len; x++) px(x, y, 120)
  }
  const f = 3 + (n % 4)
  for (let x = 62; x < 108; x++) {
    const y = Math.round(68 + 5 * Math.sin((x + n) / f))
    px(x, y, 20)
    px(x, y + 1, 20)
  }
  for (let x = 55; x < 115; x++) px(x, 76, 150)
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 0 // greyscale
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))])
}

const DEPARTMENTS = [
  ['office', 'สำนักปลัด'],
  ['finance', 'กองคลัง'],
  ['works', 'กองช่าง'],
  ['education', 'กองการศึกษา ศาสนาและวัฒนธรรม'],
  ['health', 'กองสาธารณสุขและสิ่งแวดล้อม'],
  ['welfare', 'กองสวัสดิการสังคม'],
] as const

export const VILLAGES = [
  'บ้านหนองน้ำใส',
  'บ้านโคกสะอาด',
  'บ้านดงเย็น',
  'บ้านหนองบัวทอง',
  'บ้านนาคำ',
  'บ้านโนนสว่าง',
  'บ้านห้วยทราย',
  'บ้านป่าหวาย',
  'บ้านคำเจริญ',
  'บ้านโพธิ์ศรี',
  'บ้านหนองแวง',
  'บ้านสร้างแก้ว',
]
export const TEMPLES = ['วัดศรีสว่างอารมณ์', 'วัดป่าโพธิ์ทอง', 'วัดบ้านโคกสะอาด', 'วัดดงเย็นวนาราม', 'วัดสระแก้วคงคา']
const SCHOOLS = ['โรงเรียนบ้านหนองน้ำใส', 'โรงเรียนบ้านโคกสะอาดวิทยา', 'โรงเรียนบ้านนาคำ', 'ศูนย์พัฒนาเด็กเล็ก อบต.หนองน้ำใส']
const AGENCIES = [
  'องค์การบริหารส่วนตำบลโคกกลาง',
  'องค์การบริหารส่วนตำบลห้วยยาง',
  'โรงพยาบาลส่งเสริมสุขภาพตำบลหนองน้ำใส',
  'สถานีตำรวจภูธรโพธิ์งาม',
  'โรงเรียนบ้านหนองน้ำใส',
  'ที่ว่าการอำเภอโพธิ์งาม',
]
const GIVEN_M = ['สมชาย', 'ประสิทธิ์', 'วีระพงษ์', 'อนุชา', 'ธนากร', 'สุรชัย', 'ณัฐพล', 'บุญมี', 'ทองดี', 'เกียรติศักดิ์', 'ชาญวิทย์', 'พงษ์ศักดิ์', 'อำนาจ', 'สมบัติ', 'วิชัย', 'จักรพันธ์']
const GIVEN_F = ['สมศรี', 'มาลัย', 'กาญจนา', 'วิไลวรรณ', 'นงลักษณ์', 'สุภาพร', 'พิมพ์ชนก', 'อรุณี', 'บัวผัน', 'จันทร์เพ็ญ', 'ปราณี', 'รัตนา', 'ศิริพร', 'ดวงใจ', 'ลำดวน', 'เพ็ญศรี']
const FAMILY = [
  'ใจดี',
  'ศรีสุข',
  'บุญเรือง',
  'แก้วมณี',
  'พรหมวงศ์',
  'ทองคำ',
  'สายสุวรรณ',
  'ชัยมงคล',
  'ภูมิสวัสดิ์',
  'วงศ์ใหญ่',
  'นามวงศ์',
  'คำแสน',
  'สีทา',
  'พันธ์ดี',
  'มูลมาตย์',
  'จันทร์หอม',
  'ดวงแก้ว',
  'อินทร์แปลง',
]

export interface AssetTemplate {
  name: string
  category: string
  prefix: string
  price: [number, number]
  brands: string[]
  weight: number
  loanable: boolean
}

export const ASSET_TEMPLATES: AssetTemplate[] = [
  {
    name: 'เครื่องขยายเสียงพร้อมลำโพง',
    category: 'advertising',
    prefix: '417',
    price: [8500, 25000],
    brands: ['NPE', 'Proplus', 'JBL'],
    weight: 12,
    loanable: true,
  },
  { name: 'ลำโพงเคลื่อนที่', category: 'advertising', prefix: '417', price: [4500, 12000], brands: ['Soundmilan', 'JBL'], weight: 10, loanable: true },
  { name: 'ไมโครโฟนไร้สาย', category: 'advertising', prefix: '417', price: [2500, 6500], brands: ['Shure', 'Sherman'], weight: 12, loanable: true },
  {
    name: 'โปรเจคเตอร์',
    category: 'advertising',
    prefix: '417',
    price: [14000, 32000],
    brands: ['Epson EB-X51', 'BenQ MX560', 'Optoma'],
    weight: 10,
    loanable: true,
  },
  { name: 'จอรับภาพแบบขาตั้ง', category: 'advertising', prefix: '417', price: [2500, 6000], brands: ['Vertex', 'Apollo'], weight: 8, loanable: true },
  {
    name: 'กล้องถ่ายภาพดิจิทัล',
    category: 'advertising',
    prefix: '417',
    price: [12000, 28000],
    brands: ['Canon EOS 250D', 'Nikon D3500'],
    weight: 8,
    loanable: true,
  },
  { name: 'กล้องถ่ายวีดีโอ', category: 'advertising', prefix: '417', price: [15000, 35000], brands: ['Sony HDR', 'Panasonic'], weight: 4, loanable: true },
  { name: 'เต็นท์ผ้าใบโครงเหล็ก ขนาด 4x8 เมตร', category: 'household', prefix: '414', price: [9000, 16000], brands: [''], weight: 14, loanable: true },
  { name: 'โต๊ะพับอเนกประสงค์', category: 'office', prefix: '401', price: [1200, 2800], brands: ['Sure', 'Lucky'], weight: 16, loanable: true },
  { name: 'เก้าอี้สำนักงาน', category: 'office', prefix: '401', price: [1500, 4500], brands: ['Modernform', 'Lucky'], weight: 16, loanable: false },
  { name: 'ตู้เหล็กเก็บเอกสาร', category: 'office', prefix: '401', price: [3500, 7500], brands: ['Lucky', 'Elephant'], weight: 14, loanable: false },
  { name: 'เครื่องคอมพิวเตอร์โน้ตบุ๊ก', category: 'computer', prefix: '416', price: [16000, 24000], brands: ['Acer', 'Lenovo', 'Asus'], weight: 14, loanable: true },
  { name: 'เครื่องคอมพิวเตอร์ตั้งโต๊ะ', category: 'computer', prefix: '416', price: [17000, 30000], brands: ['Dell', 'HP', 'Lenovo'], weight: 18, loanable: false },
  { name: 'เครื่องพิมพ์เลเซอร์', category: 'computer', prefix: '416', price: [3300, 9000], brands: ['Brother', 'HP', 'Canon'], weight: 10, loanable: false },
  { name: 'เครื่องตัดหญ้าแบบสะพาย', category: 'agriculture', prefix: '404', price: [9500, 13500], brands: ['Makita', 'Honda GX35'], weight: 10, loanable: true },
  { name: 'เครื่องพ่นหมอกควัน', category: 'agriculture', prefix: '404', price: [45000, 62000], brands: ['Swingfog', 'IGEBA'], weight: 5, loanable: true },
  { name: 'เครื่องสูบน้ำ', category: 'agriculture', prefix: '404', price: [12000, 35000], brands: ['Mitsubishi', 'Honda'], weight: 6, loanable: true },
  { name: 'สว่านไฟฟ้า', category: 'construction', prefix: '405', price: [2500, 6000], brands: ['Bosch', 'Makita'], weight: 6, loanable: true },
  { name: 'บันไดอะลูมิเนียม', category: 'construction', prefix: '405', price: [3500, 9000], brands: [''], weight: 6, loanable: true },
  { name: 'เครื่องกำเนิดไฟฟ้า', category: 'electrical', prefix: '406', price: [25000, 65000], brands: ['Honda', 'Kipor'], weight: 4, loanable: true },
  { name: 'พัดลมอุตสาหกรรม', category: 'electrical', prefix: '406', price: [2500, 4500], brands: ['Hatari', 'Mitsubishi'], weight: 12, loanable: true },
  { name: 'เครื่องปรับอากาศ', category: 'electrical', prefix: '406', price: [28000, 45000], brands: ['Daikin', 'Mitsubishi'], weight: 10, loanable: false },
  { name: 'รถเข็นผู้ป่วย', category: 'science', prefix: '411', price: [3500, 8500], brands: [''], weight: 8, loanable: true },
  { name: 'เครื่องวัดความดันโลหิต', category: 'science', prefix: '411', price: [2500, 4500], brands: ['Omron'], weight: 6, loanable: true },
  { name: 'เตียงผู้ป่วยแบบปรับระดับ', category: 'science', prefix: '411', price: [15000, 28000], brands: [''], weight: 4, loanable: true },
  { name: 'กลองยาว (ชุด)', category: 'music', prefix: '415', price: [12000, 25000], brands: [''], weight: 2, loanable: true },
  { name: 'ชุดโต๊ะเทนนิส', category: 'sports', prefix: '413', price: [9000, 16000], brands: ['Double Fish'], weight: 3, loanable: true },
  { name: 'กล้องระดับ', category: 'survey', prefix: '412', price: [18000, 35000], brands: ['Sokkia', 'Topcon'], weight: 2, loanable: true },
  { name: 'รถจักรยานยนต์', category: 'vehicle', prefix: '402', price: [45000, 60000], brands: ['Honda Wave 110i'], weight: 3, loanable: false },
]

const STOCK_ITEMS = [
  { code: '490-66-0001', name: 'เก้าอี้พลาสติก', unit: 'ตัว', quantity: 200, price: 180, category: 'office' },
  { code: '490-66-0002', name: 'เต็นท์ผ้าใบ (หลัง)', unit: 'หลัง', quantity: 12, price: 12500, category: 'household' },
  { code: '490-66-0003', name: 'จานกระเบื้อง', unit: 'ใบ', quantity: 300, price: 35, category: 'household' },
  { code: '490-66-0004', name: 'โต๊ะพับ (พับได้)', unit: 'ตัว', quantity: 40, price: 1500, category: 'office' },
  { code: '490-67-0005', name: 'ผ้าปูโต๊ะ', unit: 'ผืน', quantity: 60, price: 150, category: 'household' },
  { code: '490-67-0006', name: 'สายไมโครโฟน 10 เมตร', unit: 'เส้น', quantity: 20, price: 250, category: 'advertising' },
] as const

// ---------------------------------------------------------------- the simulation

type Outcome =
  | 'on_time'
  | 'late'
  | 'late_followed'
  | 'extended'
  | 'extension_refused'
  | 'damaged'
  | 'lost'
  | 'rejected'
  | 'cancelled_pending'
  | 'cancelled_approved'
  | 'expired'
  | 'never_returned'
  | 'after_fact'
  | 'partial'
  /** At the counter: entered, approved on paper (the approver signed the slip there) and handed over in one sitting. */
  | 'counter'
  /** Approved on paper, the named approver disputes it, finance voids it and records the ปลัด's signed slip instead. */
  | 'paper_voided'

/** Forced first in each fiscal year, so that even a tiny scale shows every outcome. */
const FORCED: Outcome[] = [
  'on_time',
  'never_returned',
  'late',
  'late_followed',
  'extended',
  'extension_refused',
  'damaged',
  'lost',
  'rejected',
  'cancelled_pending',
  'cancelled_approved',
  'expired',
  'after_fact',
  'partial',
  'counter',
  'paper_voided',
]

const WEIGHTS: ReadonlyArray<readonly [Outcome, number]> = [
  ['on_time', 48],
  ['late', 9],
  ['late_followed', 5],
  ['extended', 6],
  ['extension_refused', 1],
  ['damaged', 4],
  ['lost', 2],
  ['rejected', 5],
  ['cancelled_pending', 4],
  ['cancelled_approved', 3],
  ['expired', 3],
  ['after_fact', 7],
  ['partial', 3],
  ['never_returned', 0.4],
  ['counter', 3],
  ['paper_voided', 0.5],
]

type BorrowerKind = 'staff' | 'community' | 'agency'

interface Hold {
  from: string
  until: string
  qty: number
}

interface ExternalRef {
  id?: number
  input: { type: 'public' | 'agency'; name: string; organisation: string; phone: string; address: string; villageNo: string; letterNumber?: string }
}

export async function generateDemo(base: AppContext, opts: DemoOptions = {}): Promise<DemoSummary> {
  const seed = opts.seed ?? 2568
  const scale = opts.scale ?? 1
  if (!(scale > 0)) throw new RangeError('scale must be positive')
  const log = opts.log ?? (() => undefined)
  const rng = new Rng(seed)
  const realNow = new Date(opts.now ?? new Date())
  const today = bangkokDate(realNow)
  const currentFy = fiscalYearOf(today)
  const firstDay = fiscalYearRange(currentFy - 2).from
  const clock = fixedClock(`${addDays(firstDay, -14)}T01:30:00.000Z`)
  const ctx: AppContext = { ...base, clock }

  let tick = 0
  let day = addDays(firstDay, -14)
  /**
   * When the day's actions begin: 08:30 in Bangkok — but on today's date no later than two hours before
   * now (nor before Bangkok midnight), so that a demo made early in the morning has no entry stamped
   * after the moment it was made.
   */
  const dayStart = (d: string): number => {
    const office = Date.parse(`${d}T01:30:00.000Z`)
    if (d !== today) return office
    const midnight = Date.parse(`${d}T00:00:00+07:00`)
    return Math.min(office, Math.max(midnight, realNow.getTime() - 2 * 3600_000))
  }
  /** Today's actions never pass the real now (the clock of the finished demo). */
  const notAfterNow = (t: number): number => (day === today ? Math.min(t, realNow.getTime() - 1000) : t)
  const setDay = (d: string) => {
    day = d
    tick = 0
    clock.set(new Date(notAfterNow(dayStart(d))))
  }
  /** Each action a little later than the one before, all within the Bangkok day. */
  const step = () => {
    tick++
    clock.set(new Date(notAfterNow(dayStart(day) + Math.min(tick * 20_000, 14 * 3600_000 + tick))))
  }

  await settingsRepo.put(ctx.db, DEMO_MARK_KEY, JSON.stringify({ seed, scale }), clock.now().toISOString())

  // ---- settings and departments (the signatories are linked to their accounts once these exist)
  await updateSettings(ctx, CLI_ACTOR, {
    ...(await getSettings(ctx)),
    agencyName: AGENCY.name,
    agencyAddress: AGENCY.address,
    province: AGENCY.province,
    agencyPhone: AGENCY.phone,
    mayor: { ...PEOPLE.mayor, username: '' },
    chiefAdministrator: { ...PEOPLE.chiefAdministrator, username: '' },
    financeDirector: { ...PEOPLE.financeDirector, username: '' },
    suppliesOfficer: { ...PEOPLE.suppliesOfficer, username: '' },
    delegationLine: 'ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบลหนองน้ำใส',
  })
  // The usual departments come with the first migration; add any that are missing.
  const deps = new Map((await listDepartments(ctx)).map((d) => [d.code, d.id]))
  for (const [i, [code, name]] of DEPARTMENTS.entries()) {
    if (deps.has(code)) continue
    step()
    deps.set(code, (await createDepartment(ctx, CLI_ACTOR, { code, name, sortOrder: (i + 1) * 10 })).id)
  }

  // ---- people
  const usedNames = new Set<string>()
  // Nobody else bears a fixed person's name: a borrower named like an approver could not be approved by them.
  const reserved = new Set<string>(Object.values(PEOPLE).map((p) => p.name))
  const personName = (female = rng.chance(0.5)): string => {
    for (;;) {
      const title = female ? rng.pick(['นาง', 'นางสาว']) : 'นาย'
      const n = `${title}${rng.pick(female ? GIVEN_F : GIVEN_M)} ${rng.pick(FAMILY)}`
      if (reserved.has(n)) continue
      if (!usedNames.has(n) || usedNames.size > 500) {
        usedNames.add(n)
        return n
      }
    }
  }
  const toCurrent = (row: Awaited<ReturnType<typeof createUser>>, roles: Role[]): CurrentUser => ({
    id: row.id,
    username: row.username,
    name: row.name,
    position: row.position,
    departmentId: row.department_id,
    borrowerType: row.borrower_type,
    locale: 'th',
    roles: [...roles].sort(),
    mustChangePassword: false,
  })
  const makePerson = async (
    username: string,
    roles: Role[],
    name: string,
    position: string,
    dep: string,
    borrowerType: CurrentUser['borrowerType'] = 'employee',
  ) => {
    step()
    const row = await createUser(
      ctx,
      CLI_ACTOR,
      {
        username,
        password: DEMO_PASSWORD,
        name,
        position,
        roles,
        departmentId: deps.get(dep) ?? null,
        borrowerType,
        phone: `08${rng.int(10000000, 99999999)}`,
      },
      { mustChangePassword: false },
    )
    return toCurrent(row, roles)
  }
  // The printed sign-ins keep the full password cost.
  await makePerson('admin', ['admin'], PEOPLE.admin.name, PEOPLE.admin.position, 'office')
  // finance: the supplies officer at the counter; finance2: the ผอ.กองคลัง, who approves in the premises.
  const finance = [
    await makePerson('finance', ['finance'], PEOPLE.suppliesOfficer.name, PEOPLE.suppliesOfficer.position, 'finance'),
    await makePerson('finance2', ['finance'], PEOPLE.financeDirector.name, PEOPLE.financeDirector.position, 'finance'),
  ]
  const executives = [await makePerson('executive', ['executive'], PEOPLE.mayor.name, PEOPLE.mayor.position, 'office')]
  const committee = [await makePerson('committee', ['committee'], PEOPLE.committee.name, PEOPLE.committee.position, 'office')]
  const staff = [await makePerson('staff', ['staff'], PEOPLE.staff.name, PEOPLE.staff.position, 'education')]
  // The rest of the people: a cheaper hash (demo only; stored hashes carry their own cost).
  const cost = hashCost()
  setHashCostForTests(Math.min(cost, 1024))
  try {
    const k = Math.max(1, Math.round(scale))
    for (let i = 3; i <= 1 + 2 * k; i++)
      finance.push(
        await makePerson(`finance${i}`, ['finance'], personName(), rng.pick(['นักวิชาการพัสดุ', 'เจ้าพนักงานการเงินและบัญชี', 'ผู้ช่วยเจ้าพนักงานพัสดุ']), 'finance'),
      )
    executives.push(await makePerson('executive2', ['executive'], PEOPLE.deputyMayor.name, PEOPLE.deputyMayor.position, 'office'))
    for (let i = 2; i <= 1 + 2 * k; i++)
      committee.push(
        await makePerson(
          `committee${i}`,
          ['committee', 'staff'],
          personName(),
          rng.pick(['นักจัดการงานทั่วไป', 'นายช่างโยธา', 'นักพัฒนาชุมชน']),
          rng.pick(DEPARTMENTS)[0],
        ),
      )
    const nStaff = Math.max(4, Math.round(20 * scale))
    const types: ReadonlyArray<readonly [CurrentUser['borrowerType'], number]> = [
      ['employee', 10],
      ['contract', 5],
      ['teacher', 3],
      ['volunteer', 2],
      ['council', 2],
    ]
    for (let i = 2; i <= nStaff; i++) {
      const type = rng.weighted(types)
      const dep = type === 'teacher' ? 'education' : type === 'volunteer' ? 'health' : rng.pick(DEPARTMENTS)[0]
      const positions: Record<string, string> = {
        employee: 'นักวิชาการ',
        contract: 'พนักงานจ้างตามภารกิจ',
        teacher: 'ครูผู้ดูแลเด็ก',
        volunteer: 'อาสาสมัครสาธารณสุข',
        council: 'สมาชิกสภา อบต.',
      }
      const position = positions[type] ?? ''
      staff.push(await makePerson(`staff${i}`, i % 7 === 0 ? ['staff', 'admin'] : ['staff'], personName(), position, dep, type))
    }
  } finally {
    setHashCostForTests(cost)
  }
  const userCount = 1 + finance.length + executives.length + committee.length + staff.length
  // The นายก and the ผอ.กองคลัง are linked to their accounts; the ปลัด has none.
  step()
  await updateSettings(ctx, CLI_ACTOR, {
    mayor: { ...PEOPLE.mayor, username: executives[0]!.username },
    chiefAdministrator: { ...PEOPLE.chiefAdministrator, username: '' },
    financeDirector: { ...PEOPLE.financeDirector, username: finance[1]!.username },
  })

  // ---- the register
  const categories = new Map((await listCategories(ctx)).map((c) => [c.code, c.id]))
  const seqs = new Map<string, number>()
  const nextCode = (prefix: string, beYear: number) => {
    const key = `${prefix}-${String(beYear).slice(2)}`
    const n = (seqs.get(key) ?? 0) + 1
    seqs.set(key, n)
    return `${key}-${String(n).padStart(4, '0')}`
  }
  interface DemoAsset {
    id: number
    code: string
    name: string
    loanable: boolean
    price: number
    holds: Hold[]
    gone: boolean
  }
  const assetsList: DemoAsset[] = []
  const nAssets = Math.max(40, Math.round(300 * scale))
  const firstYearCe = Number(firstDay.slice(0, 4))
  const picks: AssetTemplate[] = []
  for (let i = 0; i < nAssets; i++)
    picks.push(i < ASSET_TEMPLATES.length ? ASSET_TEMPLATES[i]! : rng.weighted(ASSET_TEMPLATES.map((t) => [t, t.weight] as const)))
  const dated = picks
    .map((t) => ({
      t,
      acquired: `${rng.int(firstYearCe - 12, firstYearCe)}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`,
    }))
    .sort((a, b) => (a.acquired < b.acquired ? -1 : a.acquired > b.acquired ? 1 : 0))
  setDay(addDays(firstDay, -10))
  for (const { t, acquired } of dated) {
    step()
    const be = fiscalYearOf(acquired)
    const price = rng.int(t.price[0] / 100, t.price[1] / 100) * 100
    const row = await createAsset(ctx, actorOf(finance[0]!), {
      code: nextCode(t.prefix, be),
      name: t.name,
      categoryId: categories.get(t.category) ?? categories.get('other')!,
      brandModel: rng.pick(t.brands),
      serialNumber: rng.chance(0.6) ? `SN${rng.int(100000, 999999)}` : '',
      departmentId: deps.get(rng.pick(DEPARTMENTS)[0]) ?? null,
      location: rng.pick(['ห้องพัสดุ อบต.', 'ห้องประชุม อบต.', 'อาคารเอนกประสงค์', 'โรงเก็บพัสดุ กองช่าง', 'ศูนย์พัฒนาเด็กเล็ก']),
      acquiredOn: acquired,
      price: String(price),
      fundingSource: rng.pick(['เงินงบประมาณ', 'เงินอุดหนุนทั่วไป', 'เงินสะสม']),
      loanable: t.loanable,
    })
    assetsList.push({ id: row.id, code: row.code, name: row.name, loanable: t.loanable, price, holds: [], gone: false })
  }

  // ---- counted stock and kits
  interface DemoStock {
    id: number
    code: string
    owned: number
    inRepair: number
    price: number
    holds: Hold[]
  }
  const stockList: DemoStock[] = []
  for (const s of STOCK_ITEMS) {
    step()
    const quantity = Math.max(1, Math.round(s.quantity * Math.max(1, scale)))
    const row = await createStock(ctx, actorOf(finance[0]!), {
      code: s.code,
      name: s.name,
      unit: s.unit,
      quantity,
      categoryId: categories.get(s.category) ?? null,
      location: 'โรงเก็บพัสดุ อบต.',
    })
    stockList.push({ id: row.id, code: row.code, owned: quantity, inRepair: 0, price: s.price, holds: [] })
  }
  const byName = (n: string) => assetsList.filter((a) => a.name === n && a.loanable)
  const soundParts = [byName('เครื่องขยายเสียงพร้อมลำโพง')[0], ...byName('ไมโครโฟนไร้สาย').slice(0, 2)].filter((a): a is DemoAsset => a !== undefined)
  const kitAssetIds = new Set(soundParts.map((a) => a.id))
  const kits: Array<{ code: string; assets: DemoAsset[] }> = []
  step()
  await createKit(ctx, actorOf(finance[0]!), {
    code: 'ชุด-001',
    name: 'ชุดเครื่องเสียงงานบุญ',
    parts: [...soundParts.map((a) => ({ code: a.code, quantity: 1 })), { code: '490-67-0006', quantity: 2 }],
  })
  kits.push({ code: 'ชุด-001', assets: soundParts })
  step()
  await createKit(ctx, actorOf(finance[0]!), {
    code: 'ชุด-002',
    name: 'ชุดจัดงานกลางแจ้ง (เต็นท์ 2 หลัง เก้าอี้ 50 ตัว โต๊ะ 6 ตัว)',
    parts: [
      { code: '490-66-0002', quantity: 2 },
      { code: '490-66-0001', quantity: 50 },
      { code: '490-66-0004', quantity: 6 },
    ],
  })
  kits.push({ code: 'ชุด-002', assets: [] })

  // ---- community borrowers (created with their first loan, then reused)
  const community: ExternalRef[] = []
  const nCommunity = Math.max(8, Math.round(40 * scale))
  for (let i = 0; i < nCommunity; i++) {
    const v = rng.int(1, 12)
    const org = rng.weighted([
      ['', 5],
      [rng.pick(TEMPLES), 3],
      [`กลุ่มแม่บ้าน${VILLAGES[v - 1]!} หมู่ ${v}`, 2],
      [`คณะกรรมการหมู่บ้าน${VILLAGES[v - 1]!}`, 2],
      [rng.pick(SCHOOLS), 1],
    ] as const)
    community.push({
      input: {
        type: 'public',
        name: personName(),
        organisation: org,
        phone: `08${rng.int(1, 9)}-${rng.int(100, 999)}-${rng.int(1000, 9999)}`,
        address: `${rng.int(1, 250)} หมู่ ${v} ${VILLAGES[v - 1]!} ตำบล${AGENCY.tambon}`,
        villageNo: String(v),
      },
    })
  }
  const agencies: ExternalRef[] = AGENCIES.map((org) => ({
    input: {
      type: 'agency',
      name: personName(),
      organisation: org,
      phone: `0 4499 ${rng.int(1000, 9999)}`,
      address: `อำเภอโพธิ์งาม จังหวัด${AGENCY.province}`,
      villageNo: '',
    },
  }))

  // ---- the agenda: what happens on which day
  const agenda = new Map<string, Array<() => Promise<void>>>()
  const on = (when: string, fn: () => Promise<void>) => {
    // Never in the past: a step planned for a day already gone happens today.
    const d = when < day ? day : when
    if (d > today) return
    const list = agenda.get(d) ?? []
    list.push(fn)
    agenda.set(d, list)
  }
  const other = <T extends { id: number }>(pool: T[], ...not: Array<number | null | undefined>): T => {
    const ok = pool.filter((u) => !not.includes(u.id))
    return rng.pick(ok)
  }
  // ---- who may be named on a paper approval (the list of the settings' signatories and the executives)
  interface PaperApprover {
    name: string
    /** The account a paper approval in their name reaches; null for one who signs on paper only. */
    user: CurrentUser | null
  }
  const MAYOR: PaperApprover = { name: PEOPLE.mayor.name, user: executives[0]! }
  const DEPUTY: PaperApprover = { name: PEOPLE.deputyMayor.name, user: executives[1]! }
  const DIRECTOR: PaperApprover = { name: PEOPLE.financeDirector.name, user: finance[1]! }
  const CHIEF: PaperApprover = { name: PEOPLE.chiefAdministrator.name, user: null }
  /** In the premises: the ผอ.กองคลัง or higher; outside: the นายก, the ปลัด (delegated) or another executive. */
  const pickApprover = (kind: string): PaperApprover =>
    kind === 'in_premises'
      ? rng.weighted([
          [DIRECTOR, 6],
          [CHIEF, 2],
          [MAYOR, 1],
        ] as const)
      : rng.weighted([
          [MAYOR, 6],
          [CHIEF, 3],
          [DEPUTY, 1],
        ] as const)
  let scans = 0
  const slip = (): NewAttachment => {
    scans++
    return { kind: 'signed_slip', fileName: `ใบยืมลงนาม-${scans}.png`, data: slipScan(scans) }
  }
  // An approver without an account always comes with the scan; one with an account mostly does, and
  // the first of each fiscal year does not (the committee's list has a "no scan" entry to show).
  const noScanShown = new Set<number>()
  const scanFor = (fy: number, a: PaperApprover): NewAttachment | undefined => {
    if (a.user === null) return slip()
    if (!noScanShown.has(fy)) {
      noScanShown.add(fy)
      return undefined
    }
    return rng.chance(0.75) ? slip() : undefined
  }
  type Answer = 'confirm' | 'none' | 'dispute'
  // Each fiscal year shows every answer first (a dispute only where the items are already out: after
  // the fact or at the counter); then mostly confirmed, some never answered, a few disputed.
  const answersLeft = new Map<number, Answer[]>()
  const answersOf = (fy: number): Answer[] => {
    if (!answersLeft.has(fy)) answersLeft.set(fy, ['confirm', 'none', 'dispute'])
    return answersLeft.get(fy)!
  }
  /** Until a fiscal year has shown every answer, its paper loans entered by finance name an approver with an account. */
  const approverFor = (fy: number, kind: string): PaperApprover => (answersOf(fy).length > 0 ? (kind === 'in_premises' ? DIRECTOR : MAYOR) : pickApprover(kind))
  const answerFor = (fy: number, mayDispute: boolean): Answer => {
    const left = answersOf(fy)
    const i = left.findIndex((a) => mayDispute || a !== 'dispute')
    if (i >= 0) return left.splice(i, 1)[0]!
    return rng.weighted<Answer>(
      mayDispute
        ? [
            ['confirm', 80],
            ['none', 15],
            ['dispute', 5],
          ]
        : [
            ['confirm', 85],
            ['none', 15],
          ],
    )
  }
  const DISPUTES = ['ข้าพเจ้าไม่ได้ลงนามในใบยืมฉบับนี้', 'ลายมือชื่อในใบยืมไม่ใช่ของข้าพเจ้า', 'ไม่ได้อนุมัติ เนื่องจากพัสดุต้องใช้ในราชการ']
  /** The named approver answers in the app, some days later (nothing for one without an account). */
  const answerLater = (a: PaperApprover, loanId: number, when: string, answer: Answer) => {
    const who = a.user
    if (!who || answer === 'none') return
    on(when, async () => {
      step()
      if (answer === 'confirm') await confirmPaperApproval(ctx, who, loanId, { note: rng.chance(0.3) ? 'ลงนามอนุมัติจริง' : '' })
      else await disputePaperApproval(ctx, who, loanId, { reason: rng.pick(DISPUTES) })
    })
  }

  let letterNo = 100
  let orderNo = 1
  let skipped = 0
  let loansMade = 0
  const forcedLeft = new Map<number, Outcome[]>()
  const outcomeFor = (fy: number): Outcome => {
    if (!forcedLeft.has(fy)) forcedLeft.set(fy, [...FORCED])
    const left = forcedLeft.get(fy)!
    return left.length > 0 ? left.shift()! : rng.weighted(WEIGHTS)
  }

  const freeAsset = (a: DemoAsset, from: string) => !a.gone && a.loanable && !kitAssetIds.has(a.id) && a.holds.every((h) => h.until < from)
  const stockFree = (s: DemoStock, from: string, until: string) =>
    s.owned - s.inRepair - s.holds.filter((h) => h.until >= from && h.from <= until).reduce((n, h) => n + h.qty, 0)

  const PURPOSE_STAFF = [
    'ใช้ในการประชุมประชาคมหมู่บ้าน',
    'ใช้ในโครงการอบรมผู้สูงอายุ',
    'ออกหน่วยบริการเคลื่อนที่',
    'ใช้ในโครงการวันเด็กแห่งชาติ',
    'ใช้ในการประชุมสภา อบต.',
    'ใช้ถ่ายภาพกิจกรรมโครงการ',
    'ตัดหญ้าริมทางสาธารณะ',
    'ใช้ในการรณรงค์ป้องกันไข้เลือดออก',
  ]
  const PURPOSE_COMMUNITY = [
    'ใช้ในงานบุญประจำปี',
    'ใช้ในงานฌาปนกิจ',
    'ใช้ในงานมงคลสมรส',
    'ใช้ในงานทอดกฐิน',
    'ใช้ในงานบุญบั้งไฟ',
    'ใช้ในงานประเพณีสงกรานต์',
    'ใช้ในการประชุมกลุ่มอาชีพ',
  ]

  const endHolds = (holds: Hold[], d: string) => {
    for (const h of holds) h.until = d
  }

  /** One request, and every later step of its life put on the agenda. */
  /**
   * Today's open work (`open`): waiting for a check or an approval, approved in the app, approved on
   * paper and waiting for the named approver (the นายก; the ผอ.กองคลัง in the premises), approved on
   * paper and disputed (left `approved`, its hand-over blocked), and a loan at the counter.
   */
  type Open = 'pending' | 'unchecked' | 'checked' | 'approved' | 'paper_unconfirmed' | 'paper_unconfirmed_in' | 'paper_disputed' | 'counter'
  /** True when the loan was made (a request with nothing free to lend is skipped). */
  const request = async (d: string, open?: Open): Promise<boolean> => {
    const fy = fiscalYearOf(d)
    let outcome: Outcome = open === 'counter' ? 'counter' : open ? 'on_time' : outcomeFor(fy)
    // Items out for years are unusual: never-returned loans only in the last and the current fiscal year.
    if (outcome === 'never_returned' && d < fiscalYearRange(currentFy - 1).from) outcome = 'late_followed'
    const paperOpen = open === 'paper_unconfirmed' || open === 'paper_unconfirmed_in' || open === 'paper_disputed'
    const kindOf: BorrowerKind =
      open === 'checked' || open === 'paper_unconfirmed' || open === 'paper_disputed' || open === 'counter'
        ? 'community'
        : open
          ? 'staff'
          : rng.weighted([
              ['staff', 55],
              ['community', 35],
              ['agency', 10],
            ] as const)
    const afterFact = outcome === 'after_fact'
    const atCounter = outcome === 'counter'
    const lead = open
      ? open === 'approved' || open === 'counter'
        ? 0
        : rng.int(1, 3)
      : afterFact
        ? -rng.int(2, 6)
        : atCounter
          ? 0
          : kindOf === 'staff'
            ? rng.int(0, 3)
            : rng.int(2, 7)
    const start = addDays(d, lead)
    const length = kindOf === 'staff' ? rng.int(1, 7) : rng.int(2, 5)
    let due = addDays(start, length - 1)
    if (afterFact && due < d) due = addDays(d, rng.int(0, 3))
    const late = outcome === 'late' ? rng.int(1, 6) : outcome === 'late_followed' ? rng.int(9, 20) : outcome === 'partial' ? rng.int(2, 5) : 0
    const extendTo = outcome === 'extended' ? addDays(due, rng.int(2, 7)) : null
    const holdUntil = addDays(extendTo ?? due, late + 2 + (outcome === 'never_returned' ? 100_000 : 0))
    const hold: Hold = { from: start, until: outcome === 'never_returned' ? '9999-12-31' : holdUntil, qty: 0 }
    const kind =
      open === 'unchecked'
        ? 'off_premises'
        : open
          ? kindOf === 'staff'
            ? 'in_premises'
            : 'off_premises'
          : kindOf === 'staff'
            ? rng.chance(0.55)
              ? 'in_premises'
              : 'off_premises'
            : kindOf === 'community'
              ? 'off_premises'
              : 'inter_agency'

    // What is lent
    const assetCodes: string[] = []
    const stockLines: Array<{ code: string; quantity: number }> = []
    const holdsOf: Hold[] = []
    const lentAssets: DemoAsset[] = []
    const wantAssets = kindOf === 'staff' ? rng.int(1, 2) : rng.chance(0.35) ? 1 : 0
    // A few random draws rather than a scan of the register: stays quick at large scales.
    for (let tries = 0; lentAssets.length < wantAssets && tries < 40; tries++) {
      const a = assetsList[Math.floor(rng.float() * assetsList.length)]!
      if (!freeAsset(a, start) || lentAssets.includes(a)) continue
      lentAssets.push(a)
      assetCodes.push(a.code)
    }
    let kit: (typeof kits)[number] | undefined
    if (kindOf !== 'staff') {
      if (rng.chance(0.25)) {
        const k = rng.pick(kits)
        if (k.assets.every((a) => !a.gone && a.holds.every((h) => h.until < start))) kit = k
      }
      const lines = rng.int(1, 3)
      const seen = new Set<string>()
      for (let i = 0; i < lines; i++) {
        const s = rng.pick(stockList.slice(0, 5))
        if (seen.has(s.code)) continue
        seen.add(s.code)
        const want = s.code.endsWith('0001')
          ? rng.int(20, 120)
          : s.code.endsWith('0003')
            ? rng.int(50, 200)
            : s.code.endsWith('0002')
              ? rng.int(1, 4)
              : rng.int(4, 20)
        stockLines.push({ code: s.code, quantity: want })
      }
    }
    let scanned = { assetCodes, stock: stockLines }
    if (kit) {
      const expanded = await expandScanned(ctx, [{ code: kit.code }])
      const merged = new Map(stockLines.map((l) => [l.code, l.quantity]))
      for (const l of expanded.stock) merged.set(l.code, (merged.get(l.code) ?? 0) + l.quantity)
      scanned = { assetCodes: [...assetCodes, ...expanded.assetCodes], stock: [...merged].map(([code, quantity]) => ({ code, quantity })) }
      lentAssets.push(...kit.assets)
    }
    // Counted items: never more than the model says is free over the dates.
    const stockFinal: Array<{ code: string; quantity: number; item: DemoStock }> = []
    for (const l of scanned.stock) {
      const item = stockList.find((s) => s.code === l.code)!
      const q = Math.min(l.quantity, stockFree(item, start, hold.until))
      if (q > 0) stockFinal.push({ code: l.code, quantity: q, item })
    }
    if (scanned.assetCodes.length === 0 && stockFinal.length === 0) {
      skipped++
      return false
    }

    // How it is approved: on paper after the fact, at the counter, or in the usual course (some loans).
    const paperWay: 'none' | 'entered' | 'course' =
      afterFact || atCounter
        ? 'entered'
        : paperOpen || outcome === 'paper_voided' || (!open && outcome !== 'rejected' && outcome !== 'cancelled_pending' && rng.chance(0.1))
          ? 'course'
          : 'none'
    // Who signed it: the นายก or the ผอ.กองคลัง where their answer in the app is the point (waiting,
    // disputed), else someone from the list for the loan's level.
    const signer: PaperApprover | null =
      paperWay === 'none'
        ? null
        : open === 'paper_unconfirmed_in'
          ? DIRECTOR
          : paperOpen
            ? MAYOR
            : outcome === 'paper_voided'
              ? kind === 'in_premises'
                ? DIRECTOR
                : MAYOR
              : paperWay === 'entered'
                ? approverFor(fy, kind)
                : pickApprover(kind)

    // Who asks (never the one named on its paper approval)
    const borrowerUser = kindOf === 'staff' ? rng.pick(staff) : undefined
    const selfService = borrowerUser !== undefined && !afterFact && !atCounter && rng.chance(0.7)
    const requester = selfService ? borrowerUser! : other(finance, signer?.user?.id)
    let ext: ExternalRef | undefined
    if (kindOf === 'community') ext = rng.pick(community)
    if (kindOf === 'agency') ext = rng.pick(agencies)
    const input: Record<string, unknown> = {
      assetCodes: scanned.assetCodes,
      stock: stockFinal.map((l) => ({ code: l.code, quantity: l.quantity })),
      purpose:
        kindOf === 'staff'
          ? `${rng.pick(PURPOSE_STAFF)} หมู่ ${rng.int(1, 12)}`
          : `${rng.pick(PURPOSE_COMMUNITY)} ${ext?.input.organisation || `หมู่ ${ext?.input.villageNo ?? 1}`}`,
      place:
        kind === 'in_premises'
          ? rng.pick(['ห้องประชุม อบต.หนองน้ำใส', 'อาคารเอนกประสงค์ อบต.', 'ลานหน้าที่ทำการ อบต.'])
          : kindOf === 'agency'
            ? (ext?.input.organisation ?? '')
            : `${rng.pick([...TEMPLES, ...VILLAGES.map((v, i) => `ศาลากลาง${v} หมู่ ${i + 1}`)])}`,
      kind,
      startDate: start,
      dueDate: due,
    }
    if (borrowerUser && !selfService) input.borrower = borrowerUser.username
    if (ext) {
      if (ext.id !== undefined) {
        input.externalBorrowerId = ext.id
        if (kindOf === 'agency') {
          input.letterNumber = `${ext.input.organisation.slice(0, 2)} ${rng.int(1000, 9999)}/${letterNo++}`
          input.letterDate = addDays(d, -rng.int(1, 5))
        }
      } else {
        input.externalBorrower = {
          ...ext.input,
          ...(kindOf === 'agency' ? { letterNumber: `${rng.int(1000, 9999)}/${letterNo++}`, letterDate: addDays(d, -rng.int(1, 5)) } : {}),
        }
      }
    }
    let scan: NewAttachment | undefined
    if (afterFact) {
      input.afterTheFact = true
      input.paperApproval = { approverName: signer!.name, date: addDays(start, -1), note: 'อนุมัติในบันทึกข้อความ (ฉบับกระดาษ)' }
      input.handedOverOn = start
      scan = scanFor(fy, signer!)
    }
    if (atCounter) {
      // One sitting: the approver signs the slip at the counter, the officer records it and hands over.
      input.paperApproval = { approverName: signer!.name, date: start, note: 'ลงนามอนุมัติในใบยืมที่จุดบริการ' }
      input.handedOverOn = start
      scan = scanFor(fy, signer!)
    }

    step()
    let view: LoanView
    try {
      view = await createLoan(ctx, requester, input, scan ? { scan } : {})
    } catch (e) {
      // Dates or stock that do not fit are skipped; a paper approval the services refuse is the demo's own mistake.
      const paperField = isAppError(e) && (e.details ?? []).some((x) => x.field.startsWith('paperApproval'))
      if (isAppError(e) && (e.code === 'conflict' || (e.code === 'validation_failed' && !paperField))) {
        skipped++
        return false
      }
      throw e
    }
    loansMade++
    if (ext && ext.id === undefined) ext.id = view.loan.external_borrower_id ?? undefined
    for (const a of lentAssets) a.holds.push(hold)
    holdsOf.push(hold)
    for (const l of stockFinal) {
      const h: Hold = { from: start, until: hold.until, qty: l.quantity }
      l.item.holds.push(h)
      holdsOf.push(h)
    }
    const id = view.loan.id
    const borrowerId = view.loan.borrower_user_id
    const release = (when: string) => endHolds(holdsOf, when)

    if (afterFact || atCounter) {
      answerLater(signer!, id, addDays(d, rng.int(0, 3)), answerFor(fy, true))
      scheduleReturn(id, view, due, borrowerId, lentAssets, stockFinal, 'on_time', release)
      return true
    }

    // Approval
    const approveDay = kind === 'in_premises' || open ? d : d < start ? addDays(d, 1) : d
    const checker = other(finance, requester.id, borrowerId)
    if (outcome === 'rejected') {
      on(approveDay, async () => {
        step()
        const by = kind === 'in_premises' || rng.chance(0.5) ? checker : other(executives, requester.id, borrowerId)
        await rejectLoan(ctx, by, id, { reason: rng.pick(['พัสดุต้องใช้ในราชการในวันดังกล่าว', 'เป็นการยืมเพื่อประโยชน์ส่วนตัว ไม่เป็นไปตามข้อ ๒๐๗', 'ผู้ยืมยังค้างส่งคืนพัสดุครั้งก่อน']) })
        release(approveDay)
      })
      return true
    }
    if (outcome === 'cancelled_pending') {
      on(d, async () => {
        step()
        const by = selfService ? borrowerUser! : requester
        await cancelLoan(ctx, by, id, { reason: 'ผู้ยืมแจ้งเลื่อนกำหนดการจัดงาน' })
        release(d)
      })
      return true
    }
    if (open === 'pending' || open === 'unchecked') return true
    if (open === 'checked') {
      on(d, async () => {
        step()
        await approveLoan(ctx, checker, id, { note: 'ตรวจสอบแล้ว พัสดุว่าง' })
      })
      return true
    }
    if (paperWay === 'course') {
      // The approver signed the slip; a finance officer records it (the check with it, outside the premises).
      const a = signer!
      const recorder = other(finance, borrowerId, a.user?.id)
      const disputed = outcome === 'paper_voided' || open === 'paper_disputed'
      const firstScan = scanFor(fy, a)
      on(approveDay, async () => {
        step()
        await approveLoan(
          ctx,
          recorder,
          id,
          { onPaper: { approverName: a.name, date: approveDay, note: 'อนุมัติในใบยืม (ฉบับกระดาษ)' } },
          firstScan ? { scan: firstScan } : {},
        )
        if (!disputed) return
        step()
        await disputePaperApproval(ctx, a.user!, id, { reason: rng.pick(DISPUTES) })
        // Left as it is today: finance sees it blocked on its queue, the committee on its list.
        if (open) return
        // Finance voids it and records the ปลัด's signed slip instead, before the hand-over.
        step()
        await voidPaperApproval(ctx, other(finance, borrowerId), id, { reason: 'ผู้อนุมัติแจ้งว่าไม่ได้ลงนาม เสนอปลัดลงนามอนุมัติใหม่' })
        step()
        await approveLoan(
          ctx,
          other(finance, borrowerId),
          id,
          { onPaper: { approverName: CHIEF.name, date: day, note: 'ปลัดลงนามอนุมัติแทนตามคำสั่งมอบอำนาจ' } },
          { scan: slip() },
        )
      })
      if (!disputed) answerLater(a, id, addDays(approveDay, rng.int(0, 2)), open ? 'none' : answerFor(fy, false))
      if (open) return true
    } else if (kind === 'in_premises') {
      on(approveDay, async () => {
        step()
        await approveLoan(ctx, checker, id, { note: '' })
      })
    } else {
      on(d, async () => {
        step()
        await approveLoan(ctx, checker, id, { note: 'ตรวจสอบแล้ว พัสดุว่าง' })
      })
      const approver = other(executives, requester.id, borrowerId)
      on(approveDay, async () => {
        step()
        await approveLoan(ctx, approver, id, { note: 'อนุมัติ' })
      })
    }
    if (open === 'approved') return true
    if (outcome === 'cancelled_approved') {
      on(start, async () => {
        step()
        await cancelLoan(ctx, other(finance, borrowerId), id, { reason: 'ผู้ยืมแจ้งยกเลิกงาน ไม่มารับพัสดุ' })
        release(start)
      })
      return true
    }
    if (outcome === 'expired') {
      // Nobody comes to collect: the daily expiry run closes it.
      release(addDays(start, 4))
      return true
    }
    // Hand-over on the first day (in the premises, never by its approver — in the app or named on the paper)
    const hander = kind === 'in_premises' ? other(finance, borrowerId, checker.id, signer?.user?.id) : other(finance, borrowerId)
    on(start, async () => {
      step()
      await handOver(ctx, hander, id, {})
    })
    scheduleReturn(id, view, due, borrowerId, lentAssets, stockFinal, outcome, release, { late, extendTo, requester, kind })
    return true
  }

  const scheduleReturn = (
    id: number,
    view: LoanView,
    due: string,
    borrowerId: number | null,
    lentAssets: DemoAsset[],
    stockFinal: Array<{ code: string; quantity: number; item: DemoStock }>,
    outcome: Outcome,
    release: (d: string) => void,
    more: { late: number; extendTo: string | null; requester: CurrentUser; kind: string } = {
      late: 0,
      extendTo: null,
      requester: finance[0]!,
      kind: 'in_premises',
    },
  ) => {
    let finalDue = due
    if (outcome === 'extended' || outcome === 'extension_refused') {
      const ask = addDays(due, -1) < view.loan.start_on ? due : addDays(due, -1)
      const to = more.extendTo ?? addDays(due, 3)
      const asker =
        borrowerId !== null
          ? view.loan.requested_by === borrowerId || rng.chance(0.5)
            ? (staff.find((s) => s.id === borrowerId) ?? more.requester)
            : more.requester
          : other(finance, view.loan.requested_by)
      const decider =
        more.kind === 'in_premises'
          ? other(finance, asker.id, view.loan.requested_by, borrowerId)
          : other(executives, asker.id, view.loan.requested_by, borrowerId)
      if (loanDays(view.loan.start_on, to) <= 30) {
        const approve = outcome === 'extended'
        if (approve) finalDue = to
        on(ask, async () => {
          step()
          const v = await requestExtension(ctx, asker, id, {
            dueDate: to,
            reason: rng.pick(['งานเลื่อนออกไป', 'ยังใช้งานไม่แล้วเสร็จ', 'รอคณะกรรมการหมู่บ้านมาส่งคืนพร้อมกัน']),
          })
          const extId = v.extensions[v.extensions.length - 1]!.id
          step()
          await decideExtension(ctx, decider, id, extId, { approve, note: approve ? 'อนุญาตขยายเวลา' : 'พัสดุมีผู้ขอยืมต่อ ไม่อนุญาต' })
        })
      }
    }
    const receiver = () => other(finance, borrowerId)
    /** A follow-up of a loan that has come back meanwhile is simply not needed. */
    const followUp = async (loanId: number, input: Record<string, unknown>) => {
      try {
        await addFollowUp(ctx, receiver(), loanId, input)
      } catch (e) {
        if (!(isAppError(e) && e.code === 'invalid_state')) throw e
      }
    }
    if (outcome === 'never_returned') {
      for (const [after, method] of [
        [2, 'phone'],
        [8, 'letter'],
        [30, 'letter'],
        [60, 'in_person'],
      ] as const) {
        on(addDays(finalDue, after), async () => {
          step()
          await addFollowUp(
            ctx,
            receiver(),
            id,
            method === 'letter'
              ? { method, letterNumber: `${AGENCY.letterPrefix}/${letterNo++}`, letterDate: addDays(finalDue, after), note: 'ทวงถามให้ส่งคืนพัสดุ' }
              : { method, note: 'ติดตามทวงถาม' },
          )
        })
      }
      return
    }
    const late = outcome === 'late' || outcome === 'late_followed' || outcome === 'partial' ? Math.max(1, more.late) : 0
    const returnDay = late > 0 ? addDays(finalDue, late) : rng.chance(0.3) && finalDue > view.loan.start_on ? addDays(finalDue, -1) : finalDue
    if (late > 2) {
      on(addDays(finalDue, 2), async () => {
        step()
        await followUp(id, { method: 'phone', note: 'โทรแจ้งผู้ยืมให้นำพัสดุมาส่งคืน' })
      })
    }
    if (late > 8) {
      on(addDays(finalDue, 8), async () => {
        step()
        await followUp(id, {
          method: 'letter',
          letterNumber: `${AGENCY.letterPrefix}/${letterNo++}`,
          letterDate: addDays(finalDue, 8),
          note: 'หนังสือทวงถามครั้งที่ ๑',
        })
      })
    }
    const damagedAsset = outcome === 'damaged' && lentAssets.length > 0 ? lentAssets[0] : undefined
    const lostAsset = outcome === 'lost' && lentAssets.length > 0 ? lentAssets[lentAssets.length - 1] : undefined
    const stockDamage = (outcome === 'damaged' && !damagedAsset) || (outcome === 'partial' && rng.chance(0.5))
    const stockLoss = (outcome === 'lost' && !lostAsset) || outcome === 'partial'
    const returnedBy = view.loan.external_borrower_id ? (rng.chance(0.3) ? personName() : undefined) : undefined

    // A partial return: part on the due date, the rest (late) later; needs something left for the second visit.
    const isPartial = outcome === 'partial' && (view.items.length > 1 || stockFinal.some((l) => l.quantity > 2))
    let restAssets = isPartial && view.items.length > 1 && stockFinal.length === 0 ? view.items.slice(-1) : []
    const partialRest = new Map<string, number>()
    const firstDay = isPartial ? finalDue : returnDay
    on(firstDay, async () => {
      step()
      const r = receiver()
      const stock = stockFinal.map((l, i) => {
        const damaged = stockDamage && i === 0 ? Math.max(1, Math.floor(l.quantity / 20)) : 0
        const lost = stockLoss && i === stockFinal.length - 1 && l.quantity - damaged > 1 ? Math.max(1, Math.floor(l.quantity / 40)) : 0
        const rest = l.quantity - damaged - lost
        // A partial return: part now, the rest later.
        const good = isPartial && rest >= 2 ? Math.ceil(rest / 2) : rest
        return { code: l.code, good, damaged, lost, note: damaged + lost > 0 ? 'ชำรุด/สูญหายบางส่วน' : '', ...(returnedBy ? { returnedBy } : {}) }
      })
      const unitsLeft = stockFinal.reduce((n, l, i) => n + l.quantity - stock[i]!.good - stock[i]!.damaged - stock[i]!.lost, 0)
      if (isPartial && unitsLeft === 0 && restAssets.length === 0 && view.items.length > 1) restAssets = view.items.slice(-1)
      const items = view.items
        .filter((i) => !restAssets.some((x) => x.id === i.id))
        .map((i) => ({
          assetCode: i.asset_code,
          condition: damagedAsset?.id === i.asset_id ? 'damaged' : lostAsset?.id === i.asset_id ? 'lost' : 'good',
          note: damagedAsset?.id === i.asset_id ? 'ชำรุด ใช้งานไม่ได้' : lostAsset?.id === i.asset_id ? 'สูญหายระหว่างการใช้งาน' : '',
          ...(returnedBy ? { returnedBy } : {}),
        }))
      const v = await receiveReturn(ctx, r, id, { items, stock: stock.filter((s) => s.good + s.damaged + s.lost > 0) })
      for (const l of v.stock) partialRest.set(l.code, l.handed_over_qty - l.returned_good - l.returned_damaged - l.returned_lost)
      for (const [n, l] of stockFinal.entries()) {
        const s = stock[n]!
        l.item.inRepair += s.damaged
        l.item.owned -= s.lost
        if (s.damaged > 0) {
          const qty = s.damaged
          on(addDays(firstDay, 14), async () => {
            step()
            await moveStock(ctx, actorOf(r), l.item.id, { move: 'from_repair', quantity: qty, reason: 'ซ่อมเสร็จแล้ว' })
            l.item.inRepair -= qty
          })
        }
        if (s.lost > 0) {
          const qty = s.lost
          on(addDays(firstDay, 30), async () => {
            step()
            await moveStock(ctx, actorOf(r), l.item.id, { move: 'stock_in', quantity: qty, reason: 'ผู้ยืมชดใช้เป็นพัสดุชนิดเดียวกัน' })
            l.item.owned += qty
          })
        }
      }
      if (damagedAsset) {
        // Three weeks in repair — or less, when it was already booked again (the repair is hurried for it).
        const booked = damagedAsset.holds
          .filter((h) => h.from > firstDay)
          .map((h) => h.from)
          .sort()[0]
        const repaired = booked !== undefined && booked <= addDays(firstDay, 21) ? addDays(booked, -1) : addDays(firstDay, 21)
        damagedAsset.holds.push({ from: firstDay, until: repaired, qty: 0 })
        on(repaired, async () => {
          step()
          await changeAssetStatus(ctx, actorOf(r), damagedAsset.id, { status: 'available', reason: 'ซ่อมแซมเรียบร้อย ใช้งานได้ตามปกติ' })
        })
      }
      if (lostAsset) lostAsset.gone = true
      for (const c of v.compensations) {
        const settle = addDays(firstDay, rng.int(5, 20))
        const price =
          c.loan_stock_line_id !== null
            ? (stockFinal.find((l) => v.stock.some((s) => s.id === c.loan_stock_line_id && s.code === l.code))?.item.price ?? 100)
            : ((lostAsset ?? damagedAsset)?.price ?? 1000)
        on(settle, async () => {
          step()
          const lost = c.incident === 'lost'
          await updateCompensation(ctx, other(finance, borrowerId), id, c.id, {
            method: lost ? (c.loan_stock_line_id !== null ? 'replace' : 'pay') : 'repair',
            currentPrice: String(price),
            decidedAmount: lost && c.loan_stock_line_id === null ? String(Math.round(price * 0.6)) : null,
            orderRef: `คำสั่ง อบต. ที่ ${orderNo++}/${fiscalYearOf(settle)}`,
            policeRef: lost && c.loan_stock_line_id === null && rng.chance(0.5) ? `ปจว. ข้อ ${rng.int(10, 99)} สภ.โพธิ์งาม` : '',
            receiptRef: lost && c.loan_stock_line_id === null ? `ใบเสร็จ ${rng.int(100, 999)}/${rng.int(1000, 9999)}` : '',
            settledOn: settle,
            note: lost ? 'ผู้ยืมชดใช้แล้ว' : 'ผู้ยืมซ่อมแซมให้คงสภาพเดิม',
          })
        })
      }
      if (!isPartial) release(firstDay)
    })
    if (isPartial) {
      on(returnDay, async () => {
        step()
        if (restAssets.length === 0 && [...partialRest.values()].every((n) => n === 0)) return release(returnDay)
        const items = restAssets.map((i) => ({ assetCode: i.asset_code, condition: 'good' as const, note: '' }))
        const stock = [...partialRest].filter(([, n]) => n > 0).map(([code, good]) => ({ code, good, note: 'ส่งคืนส่วนที่เหลือ' }))
        await receiveReturn(ctx, receiver(), id, { items, stock })
        release(returnDay)
      })
    }
  }

  const runAgendaOf = async (d: string) => {
    const list = agenda.get(d) ?? []
    for (let i = 0; i < list.length; i++) await list[i]!()
    agenda.delete(d)
  }

  // ---- walk through the days
  setDay(firstDay)
  const perWeekday = 0.85 * scale
  for (let d = firstDay; d <= today; d = addDays(d, 1)) {
    setDay(d)
    step()
    await expireLoans(ctx)
    const weekday = new Date(`${d}T00:00:00Z`).getUTCDay()
    const month = Number(d.slice(5, 7))
    const season = [10, 11, 12, 4].includes(month) ? 1.4 : [5, 6, 7].includes(month) ? 0.8 : 1
    const n = weekday === 0 || weekday === 6 ? rng.count(perWeekday * 0.15) : rng.count(perWeekday * season)
    // Events first (approvals and returns happen in the morning), then the day's new requests.
    let done = 0
    const runDue = async () => {
      for (let list = agenda.get(d) ?? []; done < list.length; list = agenda.get(d) ?? []) await list[done++]!()
    }
    await runDue()
    for (let i = 0; i < n; i++) await request(d)
    await runDue()
    agenda.delete(d)
    if (d.endsWith('-01')) {
      log(`  ${d}: ${loansMade} loans`)
      // Holds long over no longer matter (a request starts at most a week in the past).
      const cutoff = addDays(d, -30)
      for (const x of [...assetsList, ...stockList]) x.holds = x.holds.filter((h) => h.until >= cutoff)
    }
  }
  // Today's open work, so that every queue has something to show.
  // (A request with nothing free to lend is tried again with other items.)
  for (const open of [
    'pending',
    'unchecked',
    'checked',
    'approved',
    'approved',
    'paper_unconfirmed',
    'paper_unconfirmed_in',
    'paper_disputed',
    'counter',
  ] as const) {
    for (let tries = 0; tries < 5; tries++) if (await request(today, open)) break
  }
  await runAgendaOf(today)
  const due = await ctx.db
    .selectFrom('loan')
    .select(['id', 'borrower_user_id', 'start_on', 'due_on'])
    .where('status', '=', 'on_loan')
    .where('due_on', '>=', today)
    .where('borrower_user_id', 'is not', null)
    .orderBy('id')
    .limit(1)
    .execute()
  for (const l of due) {
    const who = staff.find((u) => u.id === l.borrower_user_id)
    const to = addDays(l.due_on, 3)
    if (!who || loanDays(l.start_on, to) > 30) continue
    step()
    await requestExtension(ctx, who, l.id, { dueDate: to, reason: 'งานยังไม่แล้วเสร็จ ขอใช้ต่ออีก ๓ วัน' })
  }
  await publishDemoReports(ctx, currentFy - 2, { finance: finance[0]!, committee: committee[0]!, executive: executives[0]! })
  clock.set(realNow)

  return {
    agencyName: AGENCY.name,
    signIns: await demoSignIns(ctx.db),
    paperApprovals: await demoPaperCounts(ctx.db, realNow),
    fiscalYears: [currentFy - 2, currentFy - 1, currentFy],
    counts: {
      departments: deps.size,
      users: userCount,
      assets: assetsList.length,
      stock: stockList.length,
      kits: kits.length,
      loans: loansMade,
      skippedRequests: skipped,
    },
  }
}
