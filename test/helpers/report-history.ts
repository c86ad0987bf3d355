import type { TestContext } from './db.js'
import { makeUser } from './builders.js'
import { makeAsset } from './assets.js'
import { makeStock } from './stock.js'
import {
  addFollowUp,
  approveLoan,
  cancelLoan,
  createLoan,
  decideExtension,
  expireLoans,
  handOver,
  receiveReturn,
  rejectLoan,
  requestExtension,
  updateCompensation,
} from '../../server/services/loan.service.js'

/*
 * A small known history for the statistics report, built through the services with a moving clock
 * (each event at 10:00 Bangkok on its day). FY 2567 = 2023-10-01 … 2024-09-30,
 * FY 2568 = 2024-10-01 … 2025-09-30 (H1 to 2025-03-31, Q3 = 2025-04-01 … 06-30).
 *
 *  loan  requested   kind  borrower   items             handed over  due (final)   returned             note
 *  L0    2024-03-10  in    staff      AMP-1             2024-03-10   2024-03-12    2024-03-12           FY 2567, on time
 *  L0b   2024-09-28  off   temple     AMP-2             2024-09-28   2024-10-02    2024-10-01           crosses 30 Sep: FY 2567 outstanding
 *  L1    2024-09-28  in    staff      NB-1              2024-10-02   2024-10-04    2024-10-04           asked in FY 2567, lent in FY 2568; on time
 *  L2    2024-11-05  off   temple     AMP-1             2024-11-05   2024-11-07    2024-11-10           late; followed up 11-09 (in time)
 *  L3    2024-12-01  off   temple     CHAIR ×80         2024-12-01   2024-12-03    2024-12-03           on time; 76 good / 2 damaged / 2 lost;
 *                                                                                                        the 2 lost paid for, 300 baht, settled 2024-12-20
 *  L4    2025-03-28  in    staff      AMP-1, AMP-2      2025-03-28   2025-04-02    AMP-1 03-31, AMP-2 04-02   crosses 31 Mar; partial return; on time
 *  L5    2025-05-01  off   temple     NB-1              2025-05-01   05-03 → 05-06 2025-05-05           extension makes it on time
 *  L6    2025-06-10  in    staff      CAR-1 (vehicle)   2025-06-10   2025-06-10    2025-06-21           late; followed up 06-20 (after 06-17: not in time)
 *  L7    2025-06-12  in    staff      CAR-2 (vehicle)   —                                               rejected: an unlent vehicle, not counted
 *  L8    2025-07-01  in    staff      AMP-2             —                                               rejected
 *  L9    2025-07-02  in    staff      AMP-1             —                                               cancelled by the borrower before approval
 *  L10   2025-07-03  in    staff      AMP-2             —            (start 07-05)                      approved, never collected: expired
 *  L11   2025-09-28  off   temple     AMP-1 + CHAIR ×40 2025-09-28   2025-10-01    2025-10-01           crosses 30 Sep: FY 2568 outstanding
 *  L12   2025-09-29  in    staff      AMP-2             —            (start 10-05)                      still pending
 *
 * The clock ends at 2025-10-10 (Bangkok).
 */
export interface ReportHistory {
  departmentCode: string
  finance: Awaited<ReturnType<typeof makeUser>>
  finance2: Awaited<ReturnType<typeof makeUser>>
  executive: Awaited<ReturnType<typeof makeUser>>
  staff: Awaited<ReturnType<typeof makeUser>>
}

export async function buildReportHistory(ctx: TestContext): Promise<ReportHistory> {
  const on = (date: string) => ctx.clock.set(`${date}T03:00:00.000Z`)
  on('2024-03-01')
  const finance = await makeUser(ctx, ['finance'])
  const finance2 = await makeUser(ctx, ['finance'])
  const executive = await makeUser(ctx, ['executive'])
  const staff = await makeUser(ctx, ['staff'])
  const dept = await ctx.db.selectFrom('department').select(['id', 'code']).orderBy('sort_order').executeTakeFirstOrThrow()
  await ctx.db.updateTable('app_user').set({ department_id: dept.id }).where('id', '=', staff.id).execute()

  await makeAsset(ctx, { code: 'AMP-1', category: 'electrical' })
  await makeAsset(ctx, { code: 'AMP-2', category: 'electrical' })
  await makeAsset(ctx, { code: 'NB-1', category: 'computer' })
  await makeAsset(ctx, { code: 'CAR-1', category: 'vehicle', loanable: true })
  await makeAsset(ctx, { code: 'CAR-2', category: 'vehicle', loanable: true })
  await makeStock(ctx, { code: 'CHAIR', quantity: 120 })

  const temple = { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '089-111-2222', villageNo: '3' }
  const ask = async (kind: 'in' | 'off', start: string, due: string, items: { assets?: string[]; stock?: Array<{ code: string; quantity: number }> }) => {
    const body = {
      purpose: 'งานประจำปี',
      place: kind === 'in' ? 'ห้องประชุม อบต.' : 'วัดบ้านหนองบัว',
      kind: kind === 'in' ? 'in_premises' : 'off_premises',
      startDate: start,
      dueDate: due,
      assetCodes: items.assets ?? [],
      stock: items.stock ?? [],
      ...(kind === 'in' ? { borrower: staff.username } : { externalBorrower: temple }),
    }
    return (await createLoan(ctx, finance, body)).loan.id
  }
  const approve = async (id: number, kind: 'in' | 'off') => {
    await approveLoan(ctx, finance2, id, {})
    if (kind === 'off') await approveLoan(ctx, executive, id, {})
  }
  /** Asked, approved and handed over on the same day. */
  const lend = async (day: string, kind: 'in' | 'off', due: string, items: Parameters<typeof ask>[3]) => {
    on(day)
    const id = await ask(kind, day, due, items)
    await approve(id, kind)
    await handOver(ctx, finance, id)
    return id
  }
  const giveBack = async (day: string, id: number, body: object) => {
    on(day)
    await receiveReturn(ctx, finance, id, body)
  }
  const good = (codes: string[]) => ({ items: codes.map((assetCode) => ({ assetCode, condition: 'good' })) })

  // FY 2567
  const l0 = await lend('2024-03-10', 'in', '2024-03-12', { assets: ['AMP-1'] })
  await giveBack('2024-03-12', l0, good(['AMP-1']))
  const l0b = await lend('2024-09-28', 'off', '2024-10-02', { assets: ['AMP-2'] })
  on('2024-09-28')
  const l1 = await ask('in', '2024-10-02', '2024-10-04', { assets: ['NB-1'] })
  await approve(l1, 'in')
  await giveBack('2024-10-01', l0b, good(['AMP-2']))
  on('2024-10-02')
  await handOver(ctx, finance, l1)
  await giveBack('2024-10-04', l1, good(['NB-1']))

  // FY 2568, H1
  const l2 = await lend('2024-11-05', 'off', '2024-11-07', { assets: ['AMP-1'] })
  on('2024-11-09')
  await addFollowUp(ctx, finance, l2, { method: 'phone' })
  await giveBack('2024-11-10', l2, good(['AMP-1']))
  const l3 = await lend('2024-12-01', 'off', '2024-12-03', { stock: [{ code: 'CHAIR', quantity: 80 }] })
  await giveBack('2024-12-03', l3, { stock: [{ code: 'CHAIR', good: 76, damaged: 2, lost: 2 }] })
  on('2024-12-20')
  const lostChairs = await ctx.db.selectFrom('compensation').select('id').where('loan_id', '=', l3).where('incident', '=', 'lost').executeTakeFirstOrThrow()
  await updateCompensation(ctx, finance, l3, lostChairs.id, { method: 'pay', currentPrice: '150', decidedAmount: '300', settledOn: '2024-12-20' })
  const l4 = await lend('2025-03-28', 'in', '2025-04-02', { assets: ['AMP-1', 'AMP-2'] })
  await giveBack('2025-03-31', l4, good(['AMP-1']))
  await giveBack('2025-04-02', l4, good(['AMP-2']))

  // FY 2568, H2
  const l5 = await lend('2025-05-01', 'off', '2025-05-03', { assets: ['NB-1'] })
  on('2025-05-02')
  const ext = await requestExtension(ctx, finance, l5, { dueDate: '2025-05-06', reason: 'งานเลื่อนออกไป' })
  await decideExtension(ctx, executive, l5, ext.extensions[0]!.id, { approve: true })
  await giveBack('2025-05-05', l5, good(['NB-1']))
  const l6 = await lend('2025-06-10', 'in', '2025-06-10', { assets: ['CAR-1'] })
  on('2025-06-12')
  const l7 = await ask('in', '2025-06-12', '2025-06-12', { assets: ['CAR-2'] })
  await rejectLoan(ctx, finance2, l7, { reason: 'รถราชการใช้ตามระเบียบของรถ' })
  on('2025-06-20')
  await addFollowUp(ctx, finance, l6, { method: 'letter', letterNumber: 'ชย 0001/123' })
  await giveBack('2025-06-21', l6, good(['CAR-1']))
  on('2025-07-01')
  const l8 = await ask('in', '2025-07-01', '2025-07-02', { assets: ['AMP-2'] })
  await rejectLoan(ctx, finance2, l8, { reason: 'ไม่ว่าง' })
  on('2025-07-02')
  const l9 = (
    await createLoan(ctx, staff, {
      purpose: 'ประชุมหมู่บ้าน',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: '2025-07-02',
      dueDate: '2025-07-03',
      assetCodes: ['AMP-1'],
    })
  ).loan.id
  await cancelLoan(ctx, staff, l9, {})
  on('2025-07-03')
  const l10 = await ask('in', '2025-07-05', '2025-07-06', { assets: ['AMP-2'] })
  await approve(l10, 'in')
  on('2025-08-01')
  await expireLoans(ctx)
  const l11 = await lend('2025-09-28', 'off', '2025-10-01', { assets: ['AMP-1'], stock: [{ code: 'CHAIR', quantity: 40 }] })
  on('2025-09-29')
  await ask('in', '2025-10-05', '2025-10-06', { assets: ['AMP-2'] })
  await giveBack('2025-10-01', l11, { ...good(['AMP-1']), stock: [{ code: 'CHAIR', good: 40, damaged: 0, lost: 0 }] })
  on('2025-10-10')
  return { departmentCode: dept.code, finance, finance2, executive, staff }
}
