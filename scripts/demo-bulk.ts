/**
 * The demo agency at benchmark scale (issue 7): tens of thousands of assets and hundreds of
 * thousands of loan items over five fiscal years, in seconds rather than hours.
 *
 * It runs on top of a database that `generateDemo` (scripts/demo-data.ts) has already filled at a
 * small scale: the people, settings, departments, counted stock, kits, community borrowers and a
 * few hundred loans with every outcome, all made through the real services. This bulk path then
 * adds assets and loans with plain prepared INSERTs in one transaction per table group.
 *
 * Same schema and the same invariants as the services keep:
 *  - loan numbers run per fiscal year (from the request date), continue after the demo's, and
 *    loan_number.last_seq is moved on;
 *  - an asset is never out on two loans at once (the database's loan_item_out_idx holds this too),
 *    a lost asset is never lent again, an asset is `on_loan` exactly while a loan holds it,
 *    `lost` after a loss, `in_repair` for 14 days after coming back damaged;
 *  - every status carries the columns the services set for it (checked/approved/handed over/
 *    returned/rejected/cancelled/expired at and by), off-premises and inter-agency loans have a
 *    check and an approval step in loan_approval, in-premises loans one approval;
 *  - a loan's returned_on is its last item's; items lost or damaged have a compensation record.
 *
 * What is different from loans made through the services (documented in README "Performance"):
 *  - audit entries are summarised: one `demo.bulk_loaded` entry per fiscal year with the counts
 *    (through audit.service, so the chain still verifies), not one entry per step;
 *  - no counted-item (stock) lines, extensions or attachments on bulk loans (the demo part has them);
 *  - asset_status_event (when the table exists) holds each bulk asset's first status and its last
 *    change only, not every hand-over and return;
 *  - follow-ups are one phone call two days after the due date for loans back more than two days late
 *    or still out overdue.
 */
import type BetterSqlite3 from 'better-sqlite3'
import type { AppContext } from '../server/context.js'
import { writeTransaction } from '../db/connection.js'
import { codeKey } from '../db/schema.js'
import { append, CLI_ACTOR } from '../server/services/audit.service.js'
import { bangkokDate, fiscalYearOf, fiscalYearRange } from '../server/i18n/calendar.js'
import { ASSET_TEMPLATES, Rng, TEMPLES, VILLAGES } from './demo-data.js'

export interface BulkOptions {
  seed: number
  /** Assets to add. */
  assets: number
  /** Loan items (rows of loan_item) to add, spread over `years` fiscal years ending today. */
  loanItems: number
  years?: number
  /** The last day of history; default the real time. */
  now?: Date | string
  log?: (line: string) => void
}

export interface BulkSummary {
  assets: number
  loans: number
  loanItems: number
  fiscalYears: number[]
  byStatus: Record<string, number>
}

const DAY_MS = 86_400_000
const dayNum = (iso: string) => Math.round(Date.parse(`${iso}T00:00:00Z`) / DAY_MS)
const isoOf = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10)
/** 09:00 Bangkok of day `n` plus some seconds: an ISO instant on the same Bangkok day. */
const at = (n: number, seconds: number) => new Date(n * DAY_MS + 2 * 3600_000 + Math.min(seconds, 10 * 3600) * 1000).toISOString()

type Status = 'pending' | 'approved' | 'on_loan' | 'returned' | 'rejected' | 'cancelled' | 'expired'
type Outcome = 'on_time' | 'late' | 'very_late' | 'damaged' | 'lost' | 'rejected' | 'cancelled' | 'expired' | 'never_returned'

const OUTCOMES: ReadonlyArray<readonly [Outcome, number]> = [
  ['on_time', 74],
  ['late', 9],
  ['very_late', 3],
  ['damaged', 2],
  ['lost', 0.5],
  ['rejected', 5],
  ['cancelled', 4],
  ['expired', 2],
  ['never_returned', 0.05],
]

const PURPOSES = [
  'ใช้ในการประชุมประชาคมหมู่บ้าน',
  'ใช้ในโครงการอบรมผู้สูงอายุ',
  'ออกหน่วยบริการเคลื่อนที่',
  'ใช้ในงานบุญประจำปี',
  'ใช้ในงานฌาปนกิจ',
  'ใช้ในงานทอดกฐิน',
  'ใช้ในการรณรงค์ป้องกันไข้เลือดออก',
]

interface Person {
  id: number
  department_id: number | null
  borrower_type: string
}

/**
 * Adds `assets` assets and about `loanItems` loan items over `years` fiscal years to a database
 * that generateDemo has filled. `raw` is the same file's better-sqlite3 handle (inserts go there,
 * prepared, for speed); nothing else may be using the database meanwhile.
 */
export async function generateBulk(ctx: AppContext, raw: BetterSqlite3.Database, opts: BulkOptions): Promise<BulkSummary> {
  const rng = new Rng(opts.seed * 7919 + 17)
  const log = opts.log ?? (() => undefined)
  const years = opts.years ?? 5
  const realNow = new Date(opts.now ?? new Date())
  const today = bangkokDate(realNow)
  const todayN = dayNum(today)
  const currentFy = fiscalYearOf(today)
  const firstN = dayNum(fiscalYearRange(currentFy - years + 1).from)

  const q = <T>(s: string, ...p: unknown[]) => raw.prepare(s).all(...p) as T[]
  const finance = q<Person>(
    `SELECT u.id, u.department_id, u.borrower_type FROM app_user u JOIN user_role r ON r.user_id = u.id AND r.role = 'finance' WHERE u.active = 1 ORDER BY u.id`,
  )
  const executives = q<Person>(
    `SELECT u.id, u.department_id, u.borrower_type FROM app_user u JOIN user_role r ON r.user_id = u.id AND r.role = 'executive' WHERE u.active = 1 ORDER BY u.id`,
  )
  const staff = q<Person>(
    `SELECT u.id, u.department_id, u.borrower_type FROM app_user u JOIN user_role r ON r.user_id = u.id AND r.role = 'staff' WHERE u.active = 1 ORDER BY u.id`,
  )
  const externals = q<{ id: number; type: string; organisation: string }>(`SELECT id, type, organisation FROM external_borrower ORDER BY id`)
  if (finance.length === 0 || executives.length === 0 || staff.length === 0) throw new Error('generateBulk needs the demo agency first (generateDemo)')
  const categories = new Map(q<{ id: number; code: string }>(`SELECT id, code FROM category`).map((c) => [c.code, c.id]))
  const departments = q<{ id: number }>(`SELECT id FROM department ORDER BY id`).map((d) => d.id)
  const hasStatusEvents = q(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'asset_status_event'`).length > 0
  const lastSeq = new Map(q<{ fiscal_year: number; last_seq: number }>(`SELECT fiscal_year, last_seq FROM loan_number`).map((r) => [r.fiscal_year, r.last_seq]))

  // ---- assets
  const t0 = Date.now()
  interface BulkAsset {
    id: number
    loanable: boolean
    /** The first day it is free again; Infinity once lost or never returned. */
    freeFrom: number
    status: 'available' | 'on_loan' | 'lost' | 'in_repair'
    changedAt: string | null
    price: number
  }
  const assets: BulkAsset[] = []
  const weighted = ASSET_TEMPLATES.map((t) => [t, t.weight] as const)
  const insertAsset = raw.prepare(
    `INSERT INTO asset (code, code_key, name, category_id, brand_model, serial_number, department_id, location, acquired_on, price_satang, useful_life_years, funding_source, status, loanable, max_loan_days, notes, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 'available', ?, NULL, '', ?, ?)`,
  )
  const seqs = new Map<string, number>()
  const firstCe = Number(isoOf(firstN).slice(0, 4))
  raw.transaction(() => {
    for (let i = 0; i < opts.assets; i++) {
      const t = rng.weighted(weighted)
      const acquired = `${rng.int(firstCe - 10, firstCe - 1)}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`
      const key = `${t.prefix}-${String(fiscalYearOf(acquired)).slice(2)}`
      const n = (seqs.get(key) ?? 50_000) + 1 // 5-digit numbers after 50000: never one of the demo's 4-digit codes
      seqs.set(key, n)
      const price = rng.int(t.price[0] / 100, t.price[1] / 100) * 100
      const created = `${acquired}T03:00:00.000Z`
      const r = insertAsset.run(
        `${key}-${n}`,
        codeKey(`${key}-${n}`),
        t.name,
        categories.get(t.category) ?? categories.get('other')!,
        rng.pick(t.brands),
        rng.chance(0.6) ? `SN${rng.int(100000, 999999)}` : '',
        rng.pick(departments),
        rng.pick(['ห้องพัสดุ อบต.', 'ห้องประชุม อบต.', 'อาคารเอนกประสงค์', 'โรงเก็บพัสดุ กองช่าง']),
        acquired,
        price * 100,
        rng.pick(['เงินงบประมาณ', 'เงินอุดหนุนทั่วไป', 'เงินสะสม']),
        t.loanable ? 1 : 0,
        created,
        created,
      )
      assets.push({ id: Number(r.lastInsertRowid), loanable: t.loanable, freeFrom: firstN, status: 'available', changedAt: null, price })
    }
  })()
  const loanable = assets.filter((a) => a.loanable)
  if (loanable.length === 0) throw new Error('generateBulk: no loanable asset')
  log(`  bulk: ${assets.length} assets (${((Date.now() - t0) / 1000).toFixed(1)} s)`)

  // ---- loans, day by day; items spread by weekday and season like the demo's requests
  const dayWeight = (n: number) => {
    const d = new Date(n * DAY_MS)
    const wd = d.getUTCDay()
    const m = d.getUTCMonth() + 1
    const season = [10, 11, 12, 4].includes(m) ? 1.4 : [5, 6, 7].includes(m) ? 0.8 : 1
    return wd === 0 || wd === 6 ? 0.15 : season
  }
  let totalWeight = 0
  for (let n = firstN; n <= todayN; n++) totalWeight += dayWeight(n)
  const perWeight = opts.loanItems / totalWeight

  const insLoan = raw.prepare(
    `INSERT INTO loan (fiscal_year, seq, status, kind, borrower_user_id, external_borrower_id, borrower_type, department_id, letter_number, letter_date, requested_by, requested_at, requested_on,
       purpose, place, start_on, due_on, original_due_on, entered_after_fact, checked_at, checked_by, approved_at, approved_by, approved_on_paper, rejected_at, rejected_by, rejection_reason,
       cancelled_at, cancelled_by, cancel_reason, expired_at, handed_over_at, handed_over_by, handed_over_on, returned_at, returned_on, updated_at)
     VALUES (@fiscal_year, @seq, @status, @kind, @borrower_user_id, @external_borrower_id, @borrower_type, @department_id, @letter_number, @letter_date, @requested_by, @requested_at, @requested_on,
       @purpose, @place, @start_on, @due_on, @due_on, 0, @checked_at, @checked_by, @approved_at, @approved_by, 0, @rejected_at, @rejected_by, @rejection_reason,
       @cancelled_at, @cancelled_by, @cancel_reason, @expired_at, @handed_over_at, @handed_over_by, @handed_over_on, @returned_at, @returned_on, @updated_at)`,
  )
  const insItem = raw.prepare(
    `INSERT INTO loan_item (loan_id, asset_id, handed_over_at, handed_over_by, returned_at, returned_on, received_by, returned_by_name, condition, note) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
  )
  const insApproval = raw.prepare(
    `INSERT INTO loan_approval (loan_id, step, by_user_id, by_name, recorded_by, at, note, on_paper, paper_date) VALUES (?, ?, ?, ?, ?, ?, ?, 0, NULL)`,
  )
  const insFollowUp = raw.prepare(
    `INSERT INTO follow_up (loan_id, on_date, method, letter_number, letter_date, note, created_by, created_at) VALUES (?, ?, 'phone', '', NULL, ?, ?, ?)`,
  )
  const insComp = raw.prepare(
    `INSERT INTO compensation (loan_id, loan_item_id, incident, incident_on, quantity, method, current_price_satang, proposed_satang, decided_satang, order_ref, police_ref, receipt_ref, settled_on, note, created_at, updated_at)
     VALUES (?, ?, ?, ?, 1, ?, ?, NULL, ?, ?, '', '', ?, '', ?, ?)`,
  )
  const names = new Map(q<{ id: number; name: string }>(`SELECT id, name FROM app_user`).map((u) => [u.id, u.name]))

  const byStatus: Record<string, number> = {}
  const byYear = new Map<number, { loans: number; items: number }>()
  let loans = 0
  let items = 0
  let budget = 0
  /** Someone from the pool who is none of `not` (when the pool allows). */
  const other = (pool: Person[], ...not: Array<number | null>) => {
    const start = Math.floor(rng.float() * pool.length)
    for (let i = 0; i < pool.length; i++) {
      const p = pool[(start + i) % pool.length]!
      if (!not.includes(p.id)) return p
    }
    return pool[start]!
  }
  const agencyExt = externals.filter((e) => e.type === 'agency')
  const publicExt = externals.filter((e) => e.type !== 'agency')

  const oneLoan = (d: number): number => {
    const outcome = rng.weighted(OUTCOMES)
    const who = rng.weighted([
      ['staff', 55],
      ['community', 35],
      ['agency', 10],
    ] as const)
    const lead = who === 'staff' ? rng.int(0, 3) : rng.int(2, 7)
    const start = d + lead
    const length = who === 'staff' ? rng.int(1, 7) : rng.int(2, 5)
    const due = start + length - 1
    const late = outcome === 'late' ? rng.int(1, 6) : outcome === 'very_late' ? rng.int(9, 20) : 0
    const back = outcome === 'never_returned' ? Infinity : due + late - (late === 0 && length > 1 && rng.chance(0.3) ? 1 : 0)
    // Where the day stands now decides how far the loan has got.
    const handedOver = !['rejected', 'cancelled', 'expired'].includes(outcome) && start <= todayN
    let status: Status
    if (outcome === 'rejected') status = d + 1 <= todayN ? 'rejected' : 'pending'
    else if (outcome === 'cancelled') status = 'cancelled'
    else if (outcome === 'expired') status = start + 3 < todayN ? 'expired' : start <= todayN + 7 && d < todayN ? 'approved' : 'pending'
    else if (!handedOver) status = d < todayN ? 'approved' : 'pending'
    else status = back <= todayN ? 'returned' : 'on_loan'

    const nItems = who === 'staff' ? rng.int(1, 4) : rng.int(1, 5)
    const holdUntil =
      status === 'on_loan'
        ? Infinity
        : status === 'returned'
          ? back + (outcome === 'damaged' ? 14 : 0)
          : status === 'approved' || status === 'pending'
            ? due
            : status === 'expired'
              ? start + 3
              : start - 1
    const chosen: BulkAsset[] = []
    for (let tries = 0; chosen.length < nItems && tries < 30; tries++) {
      const a = loanable[Math.floor(rng.float() * loanable.length)]!
      if (a.freeFrom <= start && !chosen.includes(a)) chosen.push(a)
    }
    if (chosen.length === 0) return 0
    for (const a of chosen) a.freeFrom = Math.max(a.freeFrom, holdUntil + 1)

    const fy = fiscalYearOf(isoOf(d))
    const seq = (lastSeq.get(fy) ?? 0) + 1
    lastSeq.set(fy, seq)
    const kind = who === 'staff' ? (rng.chance(0.55) ? 'in_premises' : 'off_premises') : who === 'community' ? 'off_premises' : 'inter_agency'
    const borrower = who === 'staff' ? rng.pick(staff) : undefined
    const extPool = who === 'agency' && agencyExt.length > 0 ? agencyExt : publicExt.length > 0 ? publicExt : externals
    const ext = who === 'staff' || extPool.length === 0 ? undefined : rng.pick(extPool)
    if (!borrower && !ext) return 0
    const requester = borrower && rng.chance(0.7) ? borrower : rng.pick(finance)
    const checker = other(finance, borrower?.id ?? null)
    const approver = kind === 'in_premises' ? checker : other(executives, borrower?.id ?? null)
    const hander = other(finance, borrower?.id ?? null, kind === 'in_premises' ? approver.id : null)
    const requestedAt = at(d, rng.int(0, 3600))
    const decidedAt = at(Math.min(d + (kind === 'in_premises' ? 0 : 1), Math.max(d, todayN)), 5000)
    const approved = ['approved', 'on_loan', 'returned', 'expired'].includes(status)
    const checked = kind !== 'in_premises' && (approved || status === 'rejected')
    const returnedOn = status === 'returned' ? isoOf(back) : null
    const returnedAt = status === 'returned' ? at(back, 20_000) : null
    const handedAt = status === 'on_loan' || status === 'returned' ? at(start, 10_000) : null
    const loan = {
      fiscal_year: fy,
      seq,
      status,
      kind,
      borrower_user_id: borrower?.id ?? null,
      external_borrower_id: borrower ? null : ext!.id,
      borrower_type: borrower ? borrower.borrower_type : ext!.type,
      department_id: borrower?.department_id ?? null,
      letter_number: who === 'agency' ? `${rng.int(1000, 9999)}/${seq}` : '',
      letter_date: who === 'agency' ? isoOf(d - rng.int(1, 5)) : null,
      requested_by: requester.id,
      requested_at: requestedAt,
      requested_on: isoOf(d),
      purpose: `${rng.pick(PURPOSES)} หมู่ ${rng.int(1, 12)}`,
      place: kind === 'in_premises' ? 'ห้องประชุม อบต.' : rng.pick([...TEMPLES, ...VILLAGES.map((v) => `ศาลากลาง${v}`)]),
      start_on: isoOf(start),
      due_on: isoOf(due),
      checked_at: checked ? at(d, 4000) : null,
      checked_by: checked ? checker.id : null,
      approved_at: approved ? decidedAt : null,
      approved_by: approved ? approver.id : null,
      rejected_at: status === 'rejected' ? decidedAt : null,
      rejected_by: status === 'rejected' ? approver.id : null,
      rejection_reason: status === 'rejected' ? 'พัสดุต้องใช้ในราชการในวันดังกล่าว' : null,
      cancelled_at: status === 'cancelled' ? at(d, 7000) : null,
      cancelled_by: status === 'cancelled' ? requester.id : null,
      cancel_reason: status === 'cancelled' ? 'ผู้ยืมแจ้งเลื่อนกำหนดการจัดงาน' : null,
      expired_at: status === 'expired' ? at(start + 3, 0) : null,
      handed_over_at: handedAt,
      handed_over_by: handedAt ? hander.id : null,
      handed_over_on: handedAt ? isoOf(start) : null,
      returned_at: returnedAt,
      returned_on: returnedOn,
      updated_at: returnedAt ?? handedAt ?? requestedAt,
    }
    const loanId = Number(insLoan.run(loan).lastInsertRowid)
    if (checked) insApproval.run(loanId, 'check', checker.id, names.get(checker.id) ?? '', checker.id, loan.checked_at, 'ตรวจสอบแล้ว พัสดุว่าง')
    if (approved) insApproval.run(loanId, 'approve', approver.id, names.get(approver.id) ?? '', approver.id, decidedAt, kind === 'in_premises' ? '' : 'อนุมัติ')
    const receiver = status === 'returned' ? other(finance, borrower?.id ?? null) : undefined
    for (const [i, a] of chosen.entries()) {
      const condition =
        status !== 'returned' ? null : outcome === 'damaged' && i === 0 ? 'damaged' : outcome === 'lost' && i === chosen.length - 1 ? 'lost' : 'good'
      const r = insItem.run(
        loanId,
        a.id,
        handedAt,
        handedAt ? hander.id : null,
        returnedAt,
        returnedOn,
        receiver?.id ?? null,
        condition,
        condition === 'damaged' ? 'ชำรุด ใช้งานไม่ได้' : condition === 'lost' ? 'สูญหายระหว่างการใช้งาน' : '',
      )
      if (status === 'on_loan') {
        a.status = 'on_loan'
        a.changedAt = handedAt
      } else if (status === 'returned') {
        if (condition === 'lost') {
          a.status = 'lost'
          a.freeFrom = Infinity
        } else if (condition === 'damaged') a.status = back + 14 > todayN ? 'in_repair' : 'available'
        else if (a.status !== 'lost') a.status = 'available'
        a.changedAt = returnedAt
        if (condition === 'damaged' || condition === 'lost') {
          const settle = back + rng.int(5, 20)
          const lost = condition === 'lost'
          insComp.run(
            loanId,
            Number(r.lastInsertRowid),
            condition,
            returnedOn,
            settle <= todayN ? (lost ? 'pay' : 'repair') : null,
            a.price * 100,
            settle <= todayN && lost ? Math.round(a.price * 60) : null,
            settle <= todayN ? `คำสั่ง อบต. ที่ ${seq}/${fy}` : '',
            settle <= todayN ? isoOf(settle) : null,
            returnedAt,
            returnedAt,
          )
        }
      }
    }
    const overdueOut = status === 'on_loan' && due + 2 < todayN
    if ((status === 'returned' && back > due + 2) || overdueOut) insFollowUp.run(loanId, isoOf(due + 2), 'โทรแจ้งผู้ยืมให้นำพัสดุมาส่งคืน', hander.id, at(due + 2, 1000))
    byStatus[status] = (byStatus[status] ?? 0) + 1
    const y = byYear.get(fy) ?? { loans: 0, items: 0 }
    y.loans++
    y.items += chosen.length
    byYear.set(fy, y)
    loans++
    items += chosen.length
    return chosen.length
  }

  const t1 = Date.now()
  // One transaction per month: the WAL stays small and a failure is plain.
  let monthStart = firstN
  while (monthStart <= todayN) {
    const nextFirst = dayNum(`${isoOf(dayNum(`${isoOf(monthStart).slice(0, 7)}-01`) + 40).slice(0, 7)}-01`)
    const endOfMonth = Math.min(todayN, nextFirst - 1)
    raw.transaction(() => {
      for (let d = monthStart; d <= endOfMonth; d++) {
        budget += dayWeight(d) * perWeight
        for (let misses = 0; budget > 0 && misses < 20; ) {
          const got = oneLoan(d)
          if (got === 0) misses++
          budget -= got
        }
      }
    })()
    if (isoOf(monthStart).endsWith('-10-01')) log(`  bulk: ${isoOf(monthStart)}: ${loans} loans, ${items} items`)
    monthStart = endOfMonth + 1
  }

  // ---- final states: asset status, status history, loan numbers
  raw.transaction(() => {
    const setStatus = raw.prepare(`UPDATE asset SET status = ?, updated_at = ? WHERE id = ?`)
    const ev = hasStatusEvents
      ? raw.prepare(`INSERT INTO asset_status_event (asset_id, from_status, to_status, on_date, at) VALUES (?, ?, ?, ?, ?)`)
      : undefined
    const created = raw.prepare(`SELECT created_at FROM asset WHERE id = ?`)
    for (const a of assets) {
      const c = (created.get(a.id) as { created_at: string }).created_at
      ev?.run(a.id, null, 'available', c.slice(0, 10), c)
      if (a.status !== 'available' && a.changedAt) {
        setStatus.run(a.status, a.changedAt, a.id)
        ev?.run(a.id, 'available', a.status, bangkokDate(new Date(a.changedAt)), a.changedAt)
      }
    }
    const seqUp = raw.prepare(
      `INSERT INTO loan_number (fiscal_year, last_seq) VALUES (?, ?) ON CONFLICT (fiscal_year) DO UPDATE SET last_seq = excluded.last_seq`,
    )
    for (const [fy, s] of lastSeq) seqUp.run(fy, s)
  })()
  log(`  bulk: ${loans} loans, ${items} loan items (${((Date.now() - t1) / 1000).toFixed(1)} s)`)

  // The summarised audit trail: one entry per fiscal year, through the chain like every other.
  const fiscalYears = [...byYear.keys()].sort()
  await writeTransaction(ctx.db, async (trx) => {
    await append(trx, ctx.clock, CLI_ACTOR, { action: 'demo.bulk_assets', entity: 'asset', entityId: null, data: { count: assets.length, seed: opts.seed } })
    for (const fy of fiscalYears) {
      await append(trx, ctx.clock, CLI_ACTOR, {
        action: 'demo.bulk_loaded',
        entity: 'loan',
        entityId: null,
        data: { fiscalYear: fy, ...byYear.get(fy)!, seed: opts.seed },
      })
    }
  })
  return { assets: assets.length, loans, loanItems: items, fiscalYears, byStatus }
}
