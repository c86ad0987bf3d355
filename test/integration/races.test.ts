import { TINY_PNG } from '../helpers/approvers.js'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { pino } from 'pino'
import type { OpenDb } from '../../db/connection.js'
import { systemClock } from '../../server/clock.js'
import { loadConfig } from '../../server/config.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { createTestDb, databaseUrlOf, onPostgres, query } from '../helpers/db.js'
import { ADMIN, apiAs, bangkokDay, startServer, tokenFor, userWithToken, type Reply, type ServerProcess } from '../helpers/server-process.js'

/*
 * Races against the real server process on a file database (or, on PostgreSQL, the test's database
 * by its DATABASE_URL): many separate HTTP requests fired together (Promise.all over fetch), each its
 * own connection. The database must let exactly one of the competing state changes through, and the
 * others get a clean 409.
 */

const N = 50

interface ApiLoan {
  id: number
  number: string
  status: string
}

interface Verify {
  ok: boolean
  entries: number
}

function tally(replies: Reply[]): Record<number, number> {
  const out: Record<number, number> = {}
  for (const r of replies) out[r.status] = (out[r.status] ?? 0) + 1
  return out
}

describe('races: concurrent requests against the server process', function () {
  this.timeout(60_000)
  let dir: string
  let file: string
  let server: ServerProcess
  let admin: ReturnType<typeof apiAs>
  let staff: ReturnType<typeof apiAs>
  let finance: ReturnType<typeof apiAs>
  let handler: ReturnType<typeof apiAs>
  /** PostgreSQL: the test's database, kept open (closing it drops it) until the server has stopped. */
  let pg: OpenDb | undefined

  /** The database as the server left it, read by a connection of the test's own. */
  async function inspect<T>(fn: (q: ReturnType<typeof query>) => Promise<T>): Promise<T> {
    if (pg) return fn(query(pg.db))
    const h = await createTestDb(file) // the file is already at the latest version
    try {
      return await fn(query(h.db))
    } finally {
      await h.close()
    }
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-races-'))
    file = path.join(dir, 'yk.db')
    // Uncollected approved loans stay collectable for 60 days (the setting's maximum), so that
    // fifty loans of one asset on fifty past days can all be waiting for their hand-over.
    const h = await createTestDb(onPostgres ? undefined : file)
    await updateSettings(
      { db: h.db, clock: systemClock, config: loadConfig({ DATABASE_PATH: file }), logger: pino({ level: 'silent' }) },
      { id: null, label: 'test' },
      {
        expiryDays: 60,
        // The paper approvals below name the ผอ.กองคลัง (no account: each comes with the slip's scan).
        financeDirector: { name: 'นายสมศักดิ์ ผู้อำนวยการกองคลัง', position: 'ผู้อำนวยการกองคลัง', username: '' },
      },
    )
    if (onPostgres) pg = h
    else await h.close()

    server = await startServer(file, pg ? { DATABASE_URL: await databaseUrlOf(pg.db) } : {})
    if (pg) expect(server.output(), 'the server runs on the PostgreSQL database').to.include('"database":"postgresql"')
    const adminToken = await tokenFor(server.base, ADMIN.username, ADMIN.password)
    admin = apiAs(server.base, adminToken)
    staff = apiAs(server.base, (await userWithToken(server.base, adminToken, 'somchai.s', ['staff'])).token)
    finance = apiAs(server.base, (await userWithToken(server.base, adminToken, 'kanya.f', ['finance'])).token)
    // The finance user who approved an in-premises loan does not hand it over (SPEC §1): another one does.
    handler = apiAs(server.base, (await userWithToken(server.base, adminToken, 'malee.f', ['finance'])).token)
  })

  after(async () => {
    try {
      if (server) expect((await server.stop()).code, server.output()).to.equal(0)
    } finally {
      await pg?.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  /** After each race: the server is alive, the audit chain verifies and the file agrees with itself. */
  afterEach(async function () {
    if (this.currentTest?.state !== 'passed') return
    const verify = await admin.get<Verify>('/api/v1/audit/verify')
    expect(verify.status).to.equal(200)
    expect(verify.body.ok, JSON.stringify(verify.body)).to.equal(true)
    await inspect(async (q) => {
      // An asset is on loan exactly when one handed-over item of it is not back.
      const assetMismatch = await q.all(
        `SELECT * FROM (SELECT a.code, a.status, (SELECT COUNT(*) FROM loan_item li WHERE li.asset_id = a.id AND li.handed_over_at IS NOT NULL AND li.returned_at IS NULL) AS outstanding
             FROM asset a) x WHERE (x.status = 'on_loan') <> (x.outstanding = 1) OR x.outstanding > 1`,
      )
      expect(assetMismatch).to.deep.equal([])
      // What a counted item has out is what its handed-over lines have not brought back, never more than owned.
      const stockMismatch = await q.all(
        `SELECT * FROM (SELECT s.code, s.quantity, s.in_repair, s.out_qty,
                  (SELECT COALESCE(SUM(l.handed_over_qty - l.returned_good - l.returned_damaged - l.returned_lost), 0) FROM loan_stock_line l WHERE l.stock_id = s.id) AS lent
             FROM stock_item s) x WHERE x.out_qty <> x.lent OR x.out_qty + x.in_repair > x.quantity`,
      )
      expect(stockMismatch).to.deep.equal([])
      // Every loan on loan was handed over once, and says so in the audit log once.
      const handovers = await q.all(
        `SELECT * FROM (SELECT l.id, l.status, (SELECT COUNT(*) FROM audit_log g WHERE g.entity = 'loan' AND g.entity_id = CAST(l.id AS TEXT) AND g.action = 'loan.handed_over') AS n
             FROM loan l) x WHERE (x.status = 'on_loan') <> (x.n = 1) OR x.n > 1`,
      )
      expect(handovers).to.deep.equal([])
    })
  })

  async function asset(code: string): Promise<void> {
    const r = await finance.post('/api/v1/assets', { code, name: `เครื่องขยายเสียง ${code}`, category: 'electrical', location: 'ห้องพัสดุ', price: '7,900.00' })
    expect(r.status, JSON.stringify(r.body)).to.equal(201)
  }

  async function stock(code: string, quantity: number): Promise<void> {
    const r = await finance.post('/api/v1/stock', { code, name: `เก้าอี้พลาสติก ${code}`, quantity, unit: 'ตัว' })
    expect(r.status, JSON.stringify(r.body)).to.equal(201)
  }

  const items = (what: { asset?: string; stock?: string }) => (what.asset ? { assetCodes: [what.asset] } : { stock: [{ code: what.stock!, quantity: 6 }] })

  /** A request by staff for themselves (pending). */
  function request(what: { asset?: string; stock?: string }, from: string, to: string) {
    return staff.post<ApiLoan>('/api/v1/loans', {
      ...items(what),
      purpose: 'ประชุมประจำเดือน',
      place: 'ห้องประชุม อบต.',
      kind: 'in_premises',
      startDate: from,
      dueDate: to,
    })
  }

  /** A paper loan finance brings in after the fact, approved on paper and waiting for its hand-over. */
  function paperLoan(what: { asset?: string; stock?: string }, day: string) {
    return finance.post<ApiLoan>('/api/v1/loans', {
      ...items(what),
      purpose: 'ประชุมประจำเดือน',
      place: 'ห้องประชุม อบต.',
      kind: 'in_premises',
      startDate: day,
      dueDate: day,
      borrower: 'somchai.s',
      afterTheFact: true,
      paperApproval: { approverName: 'นายสมศักดิ์ ผู้อำนวยการกองคลัง', date: day, scan: { fileName: 'slip.png', data: TINY_PNG.toString('base64') } },
    })
  }

  /** Fifty past days and today, one loan each: none overlaps another, so all can be approved. */
  async function approvedOnEachDay(what: { asset?: string; stock?: string }): Promise<ApiLoan[]> {
    const made = await Promise.all(Array.from({ length: N }, (_, i) => paperLoan(what, bangkokDay(-i))))
    for (const r of made) expect(r.status, JSON.stringify(r.body)).to.equal(201)
    const loans = made.map((r) => r.body)
    expect(loans.every((l) => l.status === 'approved')).to.equal(true)
    return loans
  }

  async function statusesOf(ids: number[]): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for (const id of ids) {
      const r = await finance.get<ApiLoan>(`/api/v1/loans/${id}`)
      out[r.body.status] = (out[r.body.status] ?? 0) + 1
    }
    return out
  }

  it('when fifty hand-overs of the same approved loan arrive together, then exactly one succeeds and the other forty-nine get 409', async () => {
    await asset('RACE-1')
    const created = await request({ asset: 'RACE-1' }, bangkokDay(0), bangkokDay(1))
    expect(created.status, JSON.stringify(created.body)).to.equal(201)
    const id = created.body.id
    const approved = await finance.post<ApiLoan>(`/api/v1/loans/${id}/approve`, {})
    expect(approved.body.status).to.equal('approved')

    const replies = await Promise.all(Array.from({ length: N }, () => handler.post(`/api/v1/loans/${id}/handover`, {})))
    expect(tally(replies)).to.deep.equal({ 200: 1, 409: N - 1 })
    expect((await finance.get<ApiLoan>(`/api/v1/loans/${id}`)).body.status).to.equal('on_loan')
    expect((await finance.get<{ status: string }>('/api/v1/assets/RACE-1')).body.status).to.equal('on_loan')
  })

  it('when fifty requests for the same asset and dates arrive together, then all are accepted as pending, and when their fifty approvals race, then exactly one is approved', async () => {
    await asset('RACE-2')
    const requests = await Promise.all(Array.from({ length: N }, () => request({ asset: 'RACE-2' }, bangkokDay(2), bangkokDay(3))))
    expect(tally(requests)).to.deep.equal({ 201: N })
    expect(requests.every((r) => r.body.status === 'pending')).to.equal(true)
    // Fifty numbers, none given twice.
    expect(new Set(requests.map((r) => r.body.number)).size).to.equal(N)

    const ids = requests.map((r) => r.body.id)
    const approvals = await Promise.all(ids.map((id) => finance.post(`/api/v1/loans/${id}/approve`, {})))
    expect(tally(approvals)).to.deep.equal({ 200: 1, 409: N - 1 })
    expect(approvals.filter((r) => r.status === 409).every((r) => (r.body as { error: { code: string } }).error.code === 'conflict')).to.equal(true)
    expect(await statusesOf(ids)).to.deep.equal({ approved: 1, pending: N - 1 })
  })

  it('when fifty approved loans of one asset on different days are handed over together, then the asset goes out exactly once', async () => {
    await asset('RACE-3')
    const loans = await approvedOnEachDay({ asset: 'RACE-3' })
    const replies = await Promise.all(loans.map((l) => handler.post(`/api/v1/loans/${l.id}/handover`, {})))
    expect(tally(replies)).to.deep.equal({ 200: 1, 409: N - 1 })
    expect(await statusesOf(loans.map((l) => l.id))).to.deep.equal({ on_loan: 1, approved: N - 1 })
    expect((await finance.get<{ status: string }>('/api/v1/assets/RACE-3')).body.status).to.equal('on_loan')
  })

  it('when fifty requests for six of ten chairs on the same dates race to approval, then exactly one is approved and the chairs free on those days stay four', async () => {
    await stock('CHAIR-1', 10)
    const requests = await Promise.all(Array.from({ length: N }, () => request({ stock: 'CHAIR-1' }, bangkokDay(2), bangkokDay(3))))
    expect(tally(requests)).to.deep.equal({ 201: N })
    const ids = requests.map((r) => r.body.id)
    const approvals = await Promise.all(ids.map((id) => finance.post(`/api/v1/loans/${id}/approve`, {})))
    expect(tally(approvals)).to.deep.equal({ 200: 1, 409: N - 1 })
    expect(await statusesOf(ids)).to.deep.equal({ approved: 1, pending: N - 1 })
    const free = await finance.get<{ quantity: number; available: number }>(`/api/v1/stock/CHAIR-1?from=${bangkokDay(2)}&to=${bangkokDay(3)}`)
    expect(free.body).to.include({ quantity: 10, available: 4 })
  })

  it('when fifty approved loans of six of ten chairs on different days are handed over together, then six go out once and never more than exist', async () => {
    await stock('CHAIR-2', 10)
    const loans = await approvedOnEachDay({ stock: 'CHAIR-2' })
    const replies = await Promise.all(loans.map((l) => handler.post(`/api/v1/loans/${l.id}/handover`, {})))
    expect(tally(replies)).to.deep.equal({ 200: 1, 409: N - 1 })
    expect(await statusesOf(loans.map((l) => l.id))).to.deep.equal({ on_loan: 1, approved: N - 1 })
    // The winner is whichever hand-over takes the write lock first: on SQLite the requests' order, so
    // today's loan (loans[0]); on PostgreSQL (a pool, the advisory lock) any of the fifty. A past
    // day's loan handed over late holds its six until today, beside today's approved six: then
    // nothing is free today (the hand-over checks only what is owned, not today's reservations).
    const winner = replies.findIndex((r) => r.status === 200)
    const now = await finance.get<{ quantity: number; available: number }>('/api/v1/stock/CHAIR-2')
    expect(now.body, `the hand-over of the loan of ${bangkokDay(-winner)} won`).to.include({ quantity: 10, available: winner === 0 ? 4 : 0 })
    if (!onPostgres) expect(winner, 'SQLite serves the hand-overs in their order').to.equal(0)
    expect(await inspect((q) => q.get("SELECT out_qty FROM stock_item WHERE code = 'CHAIR-2'"))).to.deep.equal({ out_qty: 6 })
  })
})
