import { expect } from 'chai'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { makeAsset } from '../helpers/assets.js'
import { makeStock } from '../helpers/stock.js'
import { changeAssetStatus } from '../../server/services/asset.service.js'
import { moveStock } from '../../server/services/stock.service.js'
import { computeReport } from '../../server/services/report.service.js'

/*
 * Items lost and in repair at the end of 30 September (ข้อ 213) come from the status history: a
 * change after that day does not move the figure, a change before it does, whether on loan or not.
 */
describe('report: items at the fiscal year end from the status history', () => {
  let ctx: TestContext
  const system = { id: null, label: 'test' }
  const on = (day: string) => ctx.clock.set(`${day}T03:00:00.000Z`)
  before(async () => {
    ctx = await createTestContext()
    on('2024-06-01')
    const tent = await makeAsset(ctx, { code: 'TENT-1' })
    const amp = await makeAsset(ctx, { code: 'AMP-9' })
    const cam = await makeAsset(ctx, { code: 'CAM-1' })
    const pool = await makeStock(ctx, { code: 'TABLE', quantity: 30 })
    on('2025-09-15')
    await changeAssetStatus(ctx, system, tent.id, { status: 'in_repair', reason: 'ผ้าใบขาด' })
    await changeAssetStatus(ctx, system, amp.id, { status: 'lost', reason: 'หายจากห้องเก็บของ' })
    await moveStock(ctx, system, pool.id, { move: 'to_repair', quantity: 5, reason: 'ขาโต๊ะหัก' })
    on('2025-09-20')
    await moveStock(ctx, system, pool.id, { move: 'from_repair', quantity: 1, reason: 'ซ่อมเสร็จ' })
    await moveStock(ctx, system, pool.id, { move: 'write_off_repair', quantity: 1, reason: 'ซ่อมไม่ได้' })
    // After 30 September: none of this changes the year-end state of FY 2568.
    on('2025-10-02')
    await changeAssetStatus(ctx, system, tent.id, { status: 'available', reason: 'ซ่อมเสร็จ' })
    await changeAssetStatus(ctx, system, cam.id, { status: 'lost', reason: 'หาไม่พบในการตรวจนับ' })
    await moveStock(ctx, system, pool.id, { move: 'to_repair', quantity: 4, reason: 'ขาโต๊ะหัก' })
    on('2025-11-01')
  })
  after(() => ctx.close())

  it('when FY 2568 is asked for, then the tent and 3 tables are in repair and the amplifier lost at 30 Sep', async () => {
    const r = await computeReport(ctx, { fiscalYear: 2568, period: 'year' })
    expect(r.itemsAtYearEnd).to.deep.include({ lost: 1, lostAssets: 1, lostUnits: 0, inRepair: 4, inRepairAssets: 1, inRepairUnits: 3 })
  })

  it('when FY 2567 is asked for, then nothing was lost or in repair at its end', async () => {
    const r = await computeReport(ctx, { fiscalYear: 2567, period: 'year' })
    expect(r.itemsAtYearEnd).to.deep.include({ lost: 0, inRepair: 0 })
  })
})
