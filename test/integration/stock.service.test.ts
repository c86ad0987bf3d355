import { expect } from 'chai'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { approveLoan, createLoan, handOver, receiveReturn, updateCompensation } from '../../server/services/loan.service.js'
import { findKitByCode, moveStock, stockAvailability } from '../../server/services/stock.service.js'
import { createAsset } from '../../server/services/asset.service.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { rejects } from '../helpers/expect.js'

describe('counted stock and kits', () => {
  let ctx: TestContext
  beforeEach(async () => {
    ctx = await createTestContext({ now: '2025-01-15T03:00:00.000Z' })
  })
  afterEach(() => ctx.close())

  const temple = { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '089-111-2222', villageNo: '3' }
  const req = (over: Record<string, unknown>) => ({
    purpose: 'งานบวช',
    place: 'วัดบ้านหนองบัว',
    kind: 'off_premises',
    startDate: '2025-01-16',
    dueDate: '2025-01-18',
    externalBorrower: temple,
    ...over,
  })

  it('when a temple borrows 80 chairs and a kit and returns 76 good, 2 damaged, 2 lost, then the counts, compensation and loan state show it; 60 more on the same days are refused naming the first loan', async () => {
    const finance = await makeUser(ctx, ['finance'])
    const finance2 = await makeUser(ctx, ['finance'])
    const exec = await makeUser(ctx, ['executive'])
    const chairs = await makeStock(ctx, { code: 'CHAIR', quantity: 120 })
    await makeAsset(ctx, { code: 'AMP-9' })
    await makeStock(ctx, { code: 'MIC-POOL', name: 'ไมโครโฟน', unit: 'ตัว', quantity: 6 })
    await makeKit(ctx, 'KIT-SOUND', [{ code: 'AMP-9' }, { code: 'MIC-POOL', quantity: 2 }])
    const kit = await findKitByCode(ctx, 'KIT-SOUND')
    expect(kit!.parts.map((p) => [p.code, p.quantity])).to.deep.equal([
      ['AMP-9', 1],
      ['MIC-POOL', 2],
    ])

    const loan = await createLoan(
      ctx,
      finance,
      req({
        assetCodes: ['AMP-9'],
        stock: [
          { code: 'CHAIR', quantity: 80 },
          { code: 'MIC-POOL', quantity: 2 },
        ],
      }),
    )
    // a pending request never blocks; the approved one holds its 80 chairs
    await createLoan(ctx, finance, req({ stock: [{ code: 'CHAIR', quantity: 60 }] }))
    await approveLoan(ctx, finance2, loan.loan.id, {})
    await approveLoan(ctx, exec, loan.loan.id, {})
    const e = await rejects(createLoan(ctx, finance, req({ stock: [{ code: 'CHAIR', quantity: 60 }] })), 'conflict', 'loan.stockNotEnough')
    expect(e.params).to.include({ number: loan.number, available: 40 })
    await createLoan(ctx, finance, req({ stock: [{ code: 'CHAIR', quantity: 40 }] })) // exactly what is left fits
    await createLoan(ctx, finance, req({ stock: [{ code: 'CHAIR', quantity: 60 }], startDate: '2025-01-19', dueDate: '2025-01-19' })) // other days

    ctx.clock.set('2025-01-16T02:00:00.000Z')
    const out = await handOver(ctx, finance2, loan.loan.id)
    expect(out.loan.status).to.equal('on_loan')
    expect((await ctx.db.selectFrom('stock_item').select(['out_qty']).where('code', '=', 'CHAIR').executeTakeFirstOrThrow()).out_qty).to.equal(80)

    ctx.clock.set('2025-01-18T09:00:00.000Z')
    const partial = await receiveReturn(ctx, finance2, loan.loan.id, { stock: [{ code: 'CHAIR', good: 76, damaged: 2, lost: 2 }] })
    expect(partial.loan.status).to.equal('on_loan')
    await rejects(receiveReturn(ctx, finance2, loan.loan.id, { stock: [{ code: 'CHAIR', good: 1 }] }), 'validation_failed')
    const done = await receiveReturn(ctx, finance2, loan.loan.id, {
      items: [{ assetCode: 'AMP-9', condition: 'good' }],
      stock: [{ code: 'MIC-POOL', good: 2 }],
    })
    expect(done.loan.status).to.equal('returned')
    const after = await ctx.db.selectFrom('stock_item').select(['quantity', 'in_repair', 'out_qty']).where('code', '=', 'CHAIR').executeTakeFirstOrThrow()
    expect(after).to.deep.equal({ quantity: 118, in_repair: 2, out_qty: 0 })
    const line = done.stock.find((l) => l.code === 'CHAIR')!
    expect(line).to.include({ quantity: 80, handed_over_qty: 80, returned_good: 76, returned_damaged: 2, returned_lost: 2 })
    const comps = done.compensations.map((c) => [c.incident, c.quantity])
    expect(comps).to.deep.equal([
      ['damaged', 2],
      ['lost', 2],
    ])
    const lostComp = done.compensations.find((c) => c.incident === 'lost')!
    const priced = await updateCompensation(ctx, finance2, loan.loan.id, lostComp.id, { method: 'pay', currentPrice: '150' })
    expect(priced.compensations.find((c) => c.id === lostComp.id)!.proposed_satang).to.equal(30000)
    const a = await stockAvailability(
      ctx,
      await ctx.db.selectFrom('stock_item').selectAll().where('id', '=', chairs.id).executeTakeFirstOrThrow(),
      '2025-01-20',
      '2025-01-20',
    )
    expect(a.available).to.equal(116)
    expect((await verifyChain(ctx.db)).ok).to.equal(true)
  })

  it('when stock moves in, out to repair, back and is written off, then each is audited and the database refuses going below what is out', async () => {
    const finance = await makeUser(ctx, ['finance'])
    const tents = await makeStock(ctx, { code: 'TENT-SET', name: 'เต็นท์', unit: 'ชุด', quantity: 8 })
    const actor = { id: finance.id, label: finance.username }
    expect((await moveStock(ctx, actor, tents.id, { move: 'stock_in', quantity: 2, reason: 'จัดซื้อเพิ่ม' })).quantity).to.equal(10)
    expect((await moveStock(ctx, actor, tents.id, { move: 'to_repair', quantity: 3, reason: 'ผ้าขาด' })).in_repair).to.equal(3)
    await rejects(moveStock(ctx, actor, tents.id, { move: 'write_off', quantity: 8, reason: 'ชำรุด' }), 'conflict', 'stock.notEnoughOnHand')
    await rejects(moveStock(ctx, actor, tents.id, { move: 'write_off', quantity: 1, reason: '' }), 'validation_failed')
    const w = await moveStock(ctx, actor, tents.id, { move: 'write_off_repair', quantity: 1, reason: 'ซ่อมไม่ได้' })
    expect(w).to.include({ quantity: 9, in_repair: 2 })
    const actions = (await ctx.db.selectFrom('audit_log').select('action').where('entity', '=', 'stock').execute()).map((r) => r.action)
    expect(actions).to.deep.equal(['stock.created', 'stock.stock_in', 'stock.to_repair', 'stock.write_off_repair'])
  })

  it('when an asset, a counted item and a kit would share a code, then the second is refused', async () => {
    await makeStock(ctx, { code: 'SHARED-1' })
    await rejects(makeAsset(ctx, { code: 'SHARED-1' }), 'conflict')
    await rejects(makeKit(ctx, 'SHARED-1', [{ code: 'SHARED-1', quantity: 1 }]), 'conflict')
    void createAsset
  })

  it('when 30 hand-overs of loans for the same chairs race, then never more are out than exist', async () => {
    const finance = await makeUser(ctx, ['finance'])
    const finance2 = await makeUser(ctx, ['finance'])
    await makeStock(ctx, { code: 'CH', quantity: 10 })
    const ids: number[] = []
    for (let i = 0; i < 3; i++) {
      // different days, so all three are approved; each wants 6 of 10
      const day = `2025-01-${String(16 + i * 2).padStart(2, '0')}`
      const l = await createLoan(ctx, finance, req({ kind: 'in_premises', stock: [{ code: 'CH', quantity: 6 }], startDate: day, dueDate: day }))
      await approveLoan(ctx, finance2, l.loan.id, {})
      ids.push(l.loan.id)
    }
    ctx.clock.set('2025-01-25T00:00:00.000Z')
    // all three are now past start; only one set of 6 can physically be out at once
    const { updateSettings } = await import('../../server/services/settings.service.js')
    await updateSettings(ctx, { id: null, label: 'test' }, { expiryDays: 30 })
    const results = await Promise.allSettled(ids.flatMap((id) => Array.from({ length: 10 }, () => handOver(ctx, finance, id))))
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1)
    const row = await ctx.db.selectFrom('stock_item').select(['out_qty', 'quantity']).executeTakeFirstOrThrow()
    expect(row.out_qty).to.equal(6)
  })
})
