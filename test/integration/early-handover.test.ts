import { expect } from 'chai'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeStock } from '../helpers/stock.js'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'
import { stockAvailability, getStockByCode } from '../../server/services/stock.service.js'
import { updateSettings, getSettings } from '../../server/services/settings.service.js'
import { loanRegister, parseRegisterQuery } from '../../server/services/register.service.js'
import * as loanRepo from '../../server/repositories/loan.repository.js'
import { rejects } from '../helpers/expect.js'
import { withApprovers } from '../helpers/approvers.js'

/*
 * Early hand-over (issue 14, SPEC §3): an approved loan may be collected from its start less
 * `handOverEarlyDays` (default 3); the items are then held from the hand-over day, so a competing
 * request for the days between the hand-over and the start is refused, for assets and counted stock.
 *
 * The clock is Wednesday 15 Jan 2025, 10:00 in Bangkok; the event is on Saturday the 18th.
 */
describe('early hand-over', () => {
  let ctx: TestContext
  beforeEach(async () => {
    ctx = await createTestContext({ now: '2025-01-15T03:00:00.000Z' })
  })
  afterEach(() => ctx.close())

  const admin = { id: null, label: 'test' }
  const req = (over: Record<string, unknown> = {}) => ({
    assetCodes: ['AMP-1'],
    purpose: 'งานบุญประจำปีหมู่ 3',
    place: 'วัดบ้านหนองบัว',
    kind: 'in_premises',
    startDate: '2025-01-18',
    dueDate: '2025-01-19',
    ...over,
  })

  async function cast() {
    return {
      staff: await makeUser(ctx, ['staff']),
      other: await makeUser(ctx, ['staff']),
      approver: await makeUser(ctx, ['finance']),
      finance: await makeUser(ctx, ['finance']),
    }
  }

  /** An in-premises loan approved by one officer, to be handed over by another. */
  async function approved(people: Awaited<ReturnType<typeof cast>>, over: Record<string, unknown> = {}) {
    const loan = await createLoan(ctx, people.staff, req(over))
    await approveLoan(ctx, people.approver, loan.loan.id, {})
    return loan.loan.id
  }

  it('when the setting is not stored, then handOverEarlyDays is 3; a change is audited and bounded to 0–30', async () => {
    expect((await getSettings(ctx)).handOverEarlyDays).to.equal(3)
    await updateSettings(ctx, admin, { handOverEarlyDays: 1 })
    expect((await getSettings(ctx)).handOverEarlyDays).to.equal(1)
    const entry = await ctx.db
      .selectFrom('audit_log')
      .select(['action', 'data'])
      .where('action', '=', 'settings.updated')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow()
    expect(JSON.parse(entry.data).changed).to.deep.equal({ handOverEarlyDays: { from: 3, to: 1 } })
    await rejects(updateSettings(ctx, admin, { handOverEarlyDays: -1 }), 'validation_failed')
    await rejects(updateSettings(ctx, admin, { handOverEarlyDays: 31 }), 'validation_failed')
    await rejects(updateSettings(ctx, admin, { handOverEarlyDays: 1.5 }), 'validation_failed')
  })

  it('when an approved loan starting in 3 days is handed over today, then it is on loan and handed_over_on is today', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    const id = await approved(people)
    const out = await handOver(ctx, people.finance, id)
    expect(out.loan.status).to.equal('on_loan')
    expect(out.loan.handed_over_on).to.equal('2025-01-15')
    expect(out.loan.start_on).to.equal('2025-01-18')
  })

  it('when the hand-over is one day before the window, then 409 invalid_state saying from which date it can be collected', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    const id = await approved(people, { startDate: '2025-01-19', dueDate: '2025-01-20' })
    const e = await rejects(handOver(ctx, people.finance, id), 'invalid_state', 'loan.notStarted')
    expect(e.params).to.include({ date: '2025-01-16', start: '2025-01-19' })
    expect((await loanRepo.findById(ctx.db, id))!.status).to.equal('approved')
    ctx.clock.set('2025-01-16T01:00:00.000Z') // the next morning in Bangkok: the first day of the window
    expect((await handOver(ctx, people.finance, id)).loan.handed_over_on).to.equal('2025-01-16')
  })

  it('when the setting is 0, then the old rule holds: nothing is handed over before its start date', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    await updateSettings(ctx, admin, { handOverEarlyDays: 0 })
    const id = await approved(people, { startDate: '2025-01-16', dueDate: '2025-01-17' })
    const e = await rejects(handOver(ctx, people.finance, id), 'invalid_state', 'loan.notStarted')
    expect(e.params).to.include({ date: '2025-01-16' })
    ctx.clock.set('2025-01-16T01:00:00.000Z')
    expect((await handOver(ctx, people.finance, id)).loan.status).to.equal('on_loan')
  })

  it('when an item was handed over early, then a request by someone else for the days before the start is refused with 409 naming the loan', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    const id = await approved(people)
    const out = await handOver(ctx, people.finance, id)
    // 16–17 Jan: before the start on the 18th, but the amplifier is already out.
    const e = await rejects(createLoan(ctx, people.other, req({ startDate: '2025-01-16', dueDate: '2025-01-17' })), 'conflict', 'loan.overlap')
    expect(e.params).to.deep.include({ number: out.number, code: 'AMP-1', from: '2025-01-15', to: '2025-01-19' })
    // On its due date it is still out: still held.
    ctx.clock.set('2025-01-19T03:00:00.000Z')
    await rejects(createLoan(ctx, people.other, req({ startDate: '2025-01-19', dueDate: '2025-01-19' })), 'conflict', 'loan.overlap')
  })

  it('when the same loan is approved and not yet handed over, then the days before its start stay free for others (only the hand-over holds them)', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    await approved(people)
    const before = await createLoan(ctx, people.other, req({ startDate: '2025-01-16', dueDate: '2025-01-17' }))
    expect(before.loan.status).to.equal('pending')
  })

  it('when another approved loan holds the asset between today and the start, then the early hand-over is refused with 409 naming it', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    const id = await approved(people)
    // Someone else's loan for 16–17 Jan, approved while ours still waited for the 18th.
    const other = await createLoan(ctx, people.other, req({ startDate: '2025-01-16', dueDate: '2025-01-17' }))
    await approveLoan(ctx, people.approver, other.loan.id, {})
    const e = await rejects(handOver(ctx, people.finance, id), 'conflict', 'loan.overlap')
    expect(e.params).to.deep.include({ number: other.number, from: '2025-01-16', to: '2025-01-17' })
    expect((await loanRepo.findById(ctx.db, id))!.status).to.equal('approved')
  })

  it('when counted stock was handed over early, then it is held from the hand-over day: availability and a competing request count it', async () => {
    const people = await cast()
    await makeStock(ctx, { code: 'CHAIR-POOL', quantity: 100 })
    const loan = await createLoan(ctx, people.staff, req({ assetCodes: [], stock: [{ code: 'CHAIR-POOL', quantity: 80 }] }))
    await approveLoan(ctx, people.approver, loan.loan.id, {})
    const chairs = await getStockByCode(ctx, 'CHAIR-POOL')
    expect((await stockAvailability(ctx, chairs, '2025-01-16', '2025-01-17')).available, 'approved: held from the start only').to.equal(100)
    await handOver(ctx, people.finance, loan.loan.id)
    const after = await stockAvailability(ctx, await getStockByCode(ctx, 'CHAIR-POOL'), '2025-01-16', '2025-01-17')
    expect(after.available).to.equal(20)
    expect(after.busiest).to.deep.include({ number: loan.number, from: '2025-01-15', to: '2025-01-19' })
    const e = await rejects(
      createLoan(ctx, people.other, req({ assetCodes: [], stock: [{ code: 'CHAIR-POOL', quantity: 30 }], startDate: '2025-01-16', dueDate: '2025-01-17' })),
      'conflict',
      'loan.stockNotEnough',
    )
    expect(e.params).to.include({ available: 20, number: loan.number })
  })

  it('when another approved loan reserves counted units before the start, then an early hand-over that would take them is refused', async () => {
    const people = await cast()
    await makeStock(ctx, { code: 'CHAIR-POOL', quantity: 100 })
    const ours = await createLoan(ctx, people.staff, req({ assetCodes: [], stock: [{ code: 'CHAIR-POOL', quantity: 80 }] }))
    await approveLoan(ctx, people.approver, ours.loan.id, {})
    const theirs = await createLoan(
      ctx,
      people.other,
      req({ assetCodes: [], stock: [{ code: 'CHAIR-POOL', quantity: 50 }], startDate: '2025-01-15', dueDate: '2025-01-16' }),
    )
    await approveLoan(ctx, people.approver, theirs.loan.id, {})
    await rejects(handOver(ctx, people.finance, ours.loan.id), 'conflict', 'loan.stockNotEnough')
  })

  it('when a paper loan is keyed in with handedOverOn inside the window, then it is on loan from that day; one day earlier, then 422 on handedOverOn', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    await makeAsset(ctx, { code: 'AMP-2' })
    await withApprovers(ctx, { mayor: { name: 'นายสมปอง นายก อบต.', account: 'nayok.sompong' } })
    // After the fact: started on the 14th, collected on the 11th (3 days early), approved on the 10th.
    const body = (code: string, on: string) =>
      req({
        assetCodes: [code],
        kind: 'off_premises',
        externalBorrower: { type: 'public', name: 'นายบุญมี ใจงาม', organisation: 'กลุ่มแม่บ้านหมู่ 5', phone: '081-234-5678', villageNo: '5' },
        startDate: '2025-01-14',
        dueDate: '2025-01-16',
        afterTheFact: true,
        paperApproval: { approverName: 'นายสมปอง นายก อบต.', date: '2025-01-10' },
        handedOverOn: on,
      })
    const tooEarly = await rejects(createLoan(ctx, people.finance, body('AMP-1', '2025-01-10')), 'validation_failed')
    expect(tooEarly.details).to.deep.equal([{ field: 'handedOverOn', message: 'loan.badHandoverDate', params: { from: '2025-01-11', days: 3 } }])
    const ok = await createLoan(ctx, people.finance, body('AMP-2', '2025-01-11'))
    expect(ok.loan.status).to.equal('on_loan')
    expect(ok.loan.handed_over_on).to.equal('2025-01-11')
  })

  it('when an approved loan may be collected from today (start − early days), then the repository counts and lists it as to hand over with collectBy; without collectBy only from its start', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    const id = await approved(people)
    const input = { userId: people.finance.id, today: '2025-01-15', deadlineDueBefore: '2025-01-08', dueSoonTo: '2025-01-18', twoPersonRule: true }
    expect((await loanRepo.actionCounts(ctx.db, input)).toHandOver, 'from the start only').to.equal(0)
    const early = await loanRepo.actionCounts(ctx.db, { ...input, collectBy: '2025-01-18' })
    expect(early.toHandOver).to.equal(1)
    const borrower = await loanRepo.actionCounts(ctx.db, { ...input, userId: people.staff.id, collectBy: '2025-01-18' })
    expect(borrower.myToCollect).to.equal(1)
    const list = await loanRepo.list(ctx.db, { status: 'approved', startOnOrBefore: '2025-01-18', paperDisputed: false, limit: 10, offset: 0 })
    expect(list.rows.map((r) => r.id)).to.deep.equal([id])
  })

  it('when the early hand-over day is recorded, then the register shows it beside the later start date', async () => {
    const people = await cast()
    await makeAsset(ctx, { code: 'AMP-1' })
    const id = await approved(people)
    await handOver(ctx, people.finance, id)
    const register = await loanRegister(ctx, parseRegisterQuery(ctx, {}))
    const line = register.loans.find((l) => l.id === id)!
    expect(line.startOn).to.equal('2025-01-18')
    expect(line.handedOverOn).to.equal('2025-01-15')
    expect(line.lines[0]).to.include({ handedOverOn: '2025-01-15', out: true })
  })
})
