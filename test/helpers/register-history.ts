import type { AppContext } from '../../server/context.js'
import type { fixedClock } from '../../server/clock.js'
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
} from '../../server/services/loan.service.js'

type Ctx = AppContext & { clock: ReturnType<typeof fixedClock> }

/** 10:00 in Bangkok on a calendar day. */
const at = (ctx: Ctx, day: string) => ctx.clock.set(`${day}T03:00:00.000Z`)

/**
 * A small known history around fiscal year 2568 (1 Oct 2024 – 30 Sep 2025), built with the services:
 *  1/2567  requested 30 Sep 2024 (the year before), returned on time
 *  1/2568  1 Oct: a temple borrows 80 chairs + an amplifier off the premises, 5–7 Oct; chairs back
 *          7 Oct 76 good / 2 damaged / 2 lost; a follow-up on 9 Oct; the amplifier back 10 Oct (3 days late)
 *  2/2568  2 Oct: rejected      3/2568  3 Oct: cancelled      4/2568  4 Oct: approved, never collected → expired
 *  5/2568  20 Dec: staff in the premises, 20–22 Dec, extended to 27 Dec, back 28 Dec (1 day late)
 *  6/2568  10 Jan 2025: staff, purpose «=1+1 …», 10–12 Jan, still out (overdue)
 *  7/2568  2 Apr 2025 (Q3: outside the first half), returned on time 3 Apr
 *  1/2569  1 Oct 2025 (the next year)
 * The clock ends on 15 Apr 2025, so 6/2568 is 93 days late (12 Jan → 15 Apr).
 */
export async function buildRegisterHistory(ctx: Ctx) {
  const dep = await ctx.db
    .insertInto('department')
    .values({ code: 'ENG', name: 'กองช่าง', created_at: new Date().toISOString() })
    .returning('id')
    .executeTakeFirstOrThrow()
  const finance = await makeUser(ctx, ['finance'], { name: 'นางสาวพัสดุ หนึ่ง' })
  const finance2 = await makeUser(ctx, ['finance'], { name: 'นายรับคืน สอง' })
  const exec = await makeUser(ctx, ['executive'], { name: 'นายก อบต.' })
  const staff = await makeUser(ctx, ['staff'], { name: 'นายช่าง ใจดี' })
  await ctx.db.updateTable('app_user').set({ department_id: dep.id }).where('id', '=', staff.id).execute()
  for (const code of ['AMP-1', 'PROJ-1', 'CAM-1', 'TAB-1', 'TAB-2', 'TAB-3', 'TAB-4', 'TAB-5', 'TAB-6']) await makeAsset(ctx, { code, name: `ครุภัณฑ์ ${code}` })
  await makeStock(ctx, { code: 'CHAIR', name: 'เก้าอี้พลาสติก', quantity: 120 })
  const temple = { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '089-111-2222' }
  const base = { purpose: 'งานบวช', place: 'วัดบ้านหนองบัว' }

  // 1/2567: the day before the fiscal year turns
  at(ctx, '2024-09-30')
  const prev = await createLoan(ctx, staff, { ...base, assetCodes: ['TAB-1'], kind: 'in_premises', startDate: '2024-09-30', dueDate: '2024-10-01' })
  await approveLoan(ctx, finance, prev.loan.id, {})
  await handOver(ctx, finance2, prev.loan.id)

  // 1/2568
  at(ctx, '2024-10-01')
  await receiveReturn(ctx, finance2, prev.loan.id, { items: [{ assetCode: 'TAB-1', condition: 'good' }] })
  const temp = await createLoan(ctx, finance, {
    ...base,
    assetCodes: ['AMP-1'],
    stock: [{ code: 'CHAIR', quantity: 80 }],
    kind: 'off_premises',
    startDate: '2024-10-05',
    dueDate: '2024-10-07',
    externalBorrower: temple,
  })
  await approveLoan(ctx, finance2, temp.loan.id, {})
  await approveLoan(ctx, exec, temp.loan.id, {})
  // 2/2568 rejected, 3/2568 cancelled, 4/2568 expired
  at(ctx, '2024-10-02')
  const rej = await createLoan(ctx, staff, { ...base, assetCodes: ['TAB-2'], kind: 'in_premises', startDate: '2024-10-03', dueDate: '2024-10-04' })
  await rejectLoan(ctx, finance, rej.loan.id, { reason: 'ของไม่ว่าง' })
  at(ctx, '2024-10-03')
  const can = await createLoan(ctx, staff, { ...base, assetCodes: ['TAB-3'], kind: 'in_premises', startDate: '2024-10-04', dueDate: '2024-10-05' })
  await cancelLoan(ctx, staff, can.loan.id, {})
  at(ctx, '2024-10-04')
  const exp = await createLoan(ctx, staff, { ...base, assetCodes: ['TAB-4'], kind: 'in_premises', startDate: '2024-10-04', dueDate: '2024-10-05' })
  await approveLoan(ctx, finance, exp.loan.id, {})
  at(ctx, '2024-10-05')
  await handOver(ctx, finance2, temp.loan.id)
  at(ctx, '2024-10-07')
  await receiveReturn(ctx, finance2, temp.loan.id, { stock: [{ code: 'CHAIR', good: 76, damaged: 2, lost: 2, returnedBy: 'นายสมหมาย' }] })
  at(ctx, '2024-10-09')
  await expireLoans(ctx)
  await addFollowUp(ctx, finance, temp.loan.id, { method: 'phone' })
  at(ctx, '2024-10-10')
  await receiveReturn(ctx, finance2, temp.loan.id, { items: [{ assetCode: 'AMP-1', condition: 'good', returnedBy: 'นายสมหมาย' }] })

  // 5/2568: extended, one day late
  at(ctx, '2024-12-20')
  const ext = await createLoan(ctx, staff, {
    ...base,
    purpose: 'ประชุมประชาคม',
    assetCodes: ['PROJ-1'],
    kind: 'in_premises',
    startDate: '2024-12-20',
    dueDate: '2024-12-22',
  })
  await approveLoan(ctx, finance, ext.loan.id, {})
  await handOver(ctx, finance2, ext.loan.id)
  at(ctx, '2024-12-21')
  const asked = await requestExtension(ctx, staff, ext.loan.id, { dueDate: '2024-12-27', reason: 'งานเลื่อน' })
  await decideExtension(ctx, finance, ext.loan.id, asked.extensions[0]!.id, { approve: true })
  at(ctx, '2024-12-28')
  await receiveReturn(ctx, finance2, ext.loan.id, { items: [{ assetCode: 'PROJ-1', condition: 'damaged', note: 'เลนส์ร้าว' }] })

  // 6/2568: still out
  at(ctx, '2025-01-10')
  const out = await createLoan(ctx, staff, {
    ...base,
    purpose: '=1+1 ถ่ายภาพงาน',
    assetCodes: ['CAM-1'],
    kind: 'in_premises',
    startDate: '2025-01-10',
    dueDate: '2025-01-12',
  })
  await approveLoan(ctx, finance, out.loan.id, {})
  await handOver(ctx, finance2, out.loan.id)

  // 7/2568: third quarter
  at(ctx, '2025-04-02')
  const q3 = await createLoan(ctx, staff, { ...base, assetCodes: ['TAB-5'], kind: 'in_premises', startDate: '2025-04-02', dueDate: '2025-04-03' })
  await approveLoan(ctx, finance, q3.loan.id, {})
  await handOver(ctx, finance2, q3.loan.id)
  at(ctx, '2025-04-03')
  await receiveReturn(ctx, finance2, q3.loan.id, { items: [{ assetCode: 'TAB-5', condition: 'good' }] })

  // 1/2569: made with a later clock, then the clock goes back to 15 Apr 2025 (the register's "today")
  at(ctx, '2025-10-01')
  await createLoan(ctx, staff, { ...base, assetCodes: ['TAB-6'], kind: 'in_premises', startDate: '2025-10-01', dueDate: '2025-10-02' })
  at(ctx, '2025-04-15')
  return { finance, finance2, exec, staff }
}
