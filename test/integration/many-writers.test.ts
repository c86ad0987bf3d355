import { expect } from 'chai'
import { verifyChain } from '../../server/services/audit.service.js'
import { approveLoan, createLoan, handOver, receiveReturn } from '../../server/services/loan.service.js'
import { moveStock } from '../../server/services/stock.service.js'
import type { CurrentUser } from '../../server/services/user.service.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { createTestContext, query, type TestContext } from '../helpers/db.js'
import { makeStock } from '../helpers/stock.js'

/*
 * Many writers at once (issue 19), on whichever database the suite runs on: eight writers, each
 * taking its borrower's loans through request, approval, hand-over and return (and one stock-in on
 * the shared pool), all started together on the one database handle. On SQLite they queue for the
 * one connection's BEGIN IMMEDIATE; on PostgreSQL the pool gives them separate connections and
 * writeTransaction's advisory lock serialises them. Either way every read-then-write rule must hold:
 * the audit head + 1, the next loan number, the stock on hand — nothing lost, nothing twice, no error.
 */

const WRITERS = 8
/** Loans per writer: 4 write transactions each (request, approve, hand over, return), plus one stock-in: 25 per writer. */
const LOANS_EACH = 6
const CHAIRS_EACH = 2
const POOL = 120
const STOCK_IN = 5

interface Writer {
  borrower: CurrentUser
  assetCode: string
}

describe('many writers at once: eight writers, two hundred write transactions touching loans, numbers, stock and the audit chain', function () {
  this.timeout(180_000)
  let ctx: TestContext
  let approver: CurrentUser
  let handler: CurrentUser
  let writers: Writer[]
  let poolId: number
  /** The audit actions one loan's journey writes (on the loan), and all its entries, counted once alone before the race. */
  let journeyActions: string[]
  let journeyEntries: number
  /** The audit entries one stock-in writes, counted once alone. */
  let stockInEntries: number

  const request = (w: Writer) => ({
    assetCodes: [w.assetCode],
    stock: [{ code: 'CHAIR-POOL', quantity: CHAIRS_EACH }],
    purpose: 'ประชุมประจำเดือน',
    place: 'ห้องประชุม อบต.',
    kind: 'in_premises',
    startDate: '2025-01-15',
    dueDate: '2025-01-16',
  })

  /** One loan's journey: four write transactions. */
  async function journey(w: Writer): Promise<number> {
    const loan = await createLoan(ctx, w.borrower, request(w))
    await approveLoan(ctx, approver, loan.loan.id, {})
    await handOver(ctx, handler, loan.loan.id, { confirmedCodes: [w.assetCode] })
    await receiveReturn(ctx, handler, loan.loan.id, {
      items: [{ assetCode: w.assetCode, condition: 'good' }],
      stock: [{ code: 'CHAIR-POOL', good: CHAIRS_EACH }],
    })
    return loan.loan.id
  }

  const auditCount = async () => Number(await query(ctx.db).value('SELECT count(*) AS n FROM audit_log'))
  const stockIn = (label: string) => moveStock(ctx, { id: null, label: 'test' }, poolId, { move: 'stock_in', quantity: STOCK_IN, reason: `ซื้อเพิ่ม ${label}` })

  async function actionsOf(loanId: number): Promise<string[]> {
    const rows = await query(ctx.db).all<{ action: string }>("SELECT action FROM audit_log WHERE entity = 'loan' AND entity_id = ? ORDER BY id", String(loanId))
    return rows.map((r) => r.action)
  }

  before(async () => {
    ctx = await createTestContext({ now: '2025-01-15T03:00:00.000Z' }) // 15 Jan 2025, 10:00 in Bangkok
    // The finance officer who approves an in-premises loan does not hand it over (SPEC §1): another one does.
    approver = await makeUser(ctx, ['finance'])
    handler = await makeUser(ctx, ['finance'])
    poolId = (await makeStock(ctx, { quantity: POOL })).id
    writers = []
    for (let i = 0; i < WRITERS; i++) {
      const borrower = await makeUser(ctx, ['staff'])
      writers.push({ borrower, assetCode: (await makeAsset(ctx, { code: `MW-${i + 1}` })).code })
    }
    // One journey and one stock-in alone first: what each writes to the audit log when nobody else writes.
    let n = await auditCount()
    const first = await journey(writers[0]!)
    journeyEntries = (await auditCount()) - n
    journeyActions = await actionsOf(first)
    expect(journeyActions.length, journeyActions.join(', ')).to.be.greaterThanOrEqual(4)
    n = await auditCount()
    await stockIn('ก่อนเริ่ม')
    stockInEntries = (await auditCount()) - n
    expect(stockInEntries).to.be.greaterThanOrEqual(1)
  })
  after(() => ctx?.close())

  it(`when ${WRITERS} writers run ${LOANS_EACH} loan journeys and a stock-in each, all at once on one database handle, then no error is thrown, nothing is lost or doubled, and the audit chain verifies`, async () => {
    const stockIns = async () => Number(await query(ctx.db).value("SELECT count(*) AS n FROM stock_movement WHERE stock_id = ? AND kind = 'stock_in'", poolId))
    const before = { audit: await auditCount(), loans: Number(await query(ctx.db).value('SELECT count(*) AS n FROM loan')), stockIns: await stockIns() }
    const made: number[][] = writers.map(() => [])
    const results = await Promise.allSettled(
      writers.map(async (w, i) => {
        for (let k = 0; k < LOANS_EACH; k++) {
          made[i]!.push(await journey(w))
          // Half-way, a stock-in on the pool every writer borrows from: a read-then-write of the quantity.
          if (k === LOANS_EACH / 2) await stockIn(`ชุดที่ ${i + 1}`)
        }
      }),
    )
    const errors = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`writer ${i + 1}: ${r.reason instanceof Error ? r.reason.stack : String(r.reason)}`] : [],
    )
    expect(errors, errors.join('\n')).to.deep.equal([])

    // Every loan is there once, returned, with its running number: 1…n in the fiscal year, none twice.
    const ids = made.flat()
    expect(ids).to.have.length(WRITERS * LOANS_EACH)
    expect(new Set(ids).size).to.equal(ids.length)
    const loans = await query(ctx.db).all<{ id: number; fiscal_year: number; seq: number; status: string }>(
      'SELECT id, fiscal_year, seq, status FROM loan ORDER BY seq',
    )
    expect(loans).to.have.length(before.loans + WRITERS * LOANS_EACH)
    expect(loans.filter((l) => l.status !== 'returned').map((l) => l.id)).to.deep.equal([])
    expect(new Set(loans.map((l) => Number(l.fiscal_year)))).to.deep.equal(new Set([2568]))
    expect(loans.map((l) => Number(l.seq))).to.deep.equal(loans.map((_, i) => i + 1))
    expect(Number(await query(ctx.db).value('SELECT last_seq FROM loan_number WHERE fiscal_year = 2568'))).to.equal(loans.length)

    // Every line went out and came back; the pool holds what it owned plus every stock-in, none of it out.
    const lines = await query(ctx.db).all<{ loan_id: number; handed_over_qty: number; returned_good: number }>(
      'SELECT loan_id, handed_over_qty, returned_good FROM loan_stock_line ORDER BY id',
    )
    expect(lines).to.have.length(loans.length)
    expect(lines.every((l) => Number(l.handed_over_qty) === CHAIRS_EACH && Number(l.returned_good) === CHAIRS_EACH)).to.equal(true)
    const items = await query(ctx.db).all<{ loan_id: number; returned_at: string | null }>('SELECT loan_id, returned_at FROM loan_item ORDER BY id')
    expect(items).to.have.length(loans.length)
    expect(items.filter((x) => x.returned_at === null)).to.deep.equal([])
    const pool = await query(ctx.db).get<{ quantity: number; out_qty: number }>('SELECT quantity, out_qty FROM stock_item WHERE id = ?', poolId)
    expect({ quantity: Number(pool!.quantity), out: Number(pool!.out_qty) }).to.deep.equal({ quantity: POOL + (WRITERS + 1) * STOCK_IN, out: 0 })
    expect(await stockIns()).to.equal(before.stockIns + WRITERS)
    const assets = await query(ctx.db).all<{ code: string; status: string }>("SELECT code, status FROM asset WHERE code LIKE 'MW-%' ORDER BY code")
    expect(assets.filter((a) => a.status !== 'available')).to.deep.equal([])

    // Every journey wrote the same audit entries as the one that ran alone, and the chain holds them all, unbroken.
    for (const id of ids) expect(await actionsOf(id), `loan ${id}`).to.deep.equal(journeyActions)
    const after = await auditCount()
    expect(after - before.audit, 'every journey and stock-in wrote what it writes alone').to.equal(
      WRITERS * LOANS_EACH * journeyEntries + WRITERS * stockInEntries,
    )
    const chain = await verifyChain(ctx.db)
    expect(chain, JSON.stringify(chain)).to.include({ ok: true, entries: after })
    expect(chain.head.seq).to.equal(after)
  })
})
