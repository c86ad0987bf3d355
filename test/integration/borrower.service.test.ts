import { expect } from 'chai'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeStock } from '../helpers/stock.js'
import { approveLoan, createLoan, handOver, receiveReturn } from '../../server/services/loan.service.js'
import { borrowerStanding, externalBorrowerHistory, searchExternalBorrowers, searchTerms, userBorrowerHistory } from '../../server/services/borrower.service.js'
import { rejects } from '../helpers/expect.js'

describe('borrowers: reuse, standing and history', () => {
  let ctx: TestContext
  beforeEach(async () => {
    ctx = await createTestContext()
  })
  afterEach(() => ctx.close())

  const temple = { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '089-111-2222', villageNo: '3' }
  const req = (over: Record<string, unknown>) => ({
    purpose: 'งานบวช',
    place: 'วัดบ้านหนองบัว',
    kind: 'in_premises',
    startDate: '2025-01-15',
    dueDate: '2025-01-16',
    ...over,
  })

  it('when finance lends again by externalBorrowerId, then the record is reused; others may not, it excludes other borrowers, and an unknown id is 422', async () => {
    const finance = await makeUser(ctx, ['finance'])
    const staff = await makeUser(ctx, ['staff'])
    await makeStock(ctx, { code: 'CHAIR', quantity: 120 })
    const first = await createLoan(ctx, finance, req({ externalBorrower: temple, stock: [{ code: 'CHAIR', quantity: 10 }] }))
    const id = first.loan.external_borrower_id!
    const again = await createLoan(ctx, finance, req({ externalBorrowerId: id, stock: [{ code: 'CHAIR', quantity: 5 }] }))
    expect(again.loan).to.include({ external_borrower_id: id, borrower_type: 'public', borrower_user_id: null })
    expect(again.borrower).to.include({ kind: 'external', name: 'พระครูสุนทร', phone: '089-111-2222', villageNo: '3' })
    expect((await ctx.db.selectFrom('external_borrower').selectAll().execute()).length).to.equal(1)
    const audit = await ctx.db.selectFrom('audit_log').select('data').where('action', '=', 'loan.requested').orderBy('id', 'desc').executeTakeFirstOrThrow()
    expect(JSON.parse(audit.data)).to.include({ externalBorrowerId: id })

    await rejects(createLoan(ctx, staff, req({ externalBorrowerId: id, stock: [{ code: 'CHAIR', quantity: 1 }] })), 'forbidden')
    const both = await rejects(
      createLoan(ctx, finance, req({ externalBorrowerId: id, externalBorrower: temple, stock: [{ code: 'CHAIR', quantity: 1 }] })),
      'validation_failed',
    )
    expect(both.details!.map((d) => d.field)).to.include('externalBorrowerId')
    await rejects(
      createLoan(ctx, finance, req({ externalBorrowerId: id, borrower: staff.username, stock: [{ code: 'CHAIR', quantity: 1 }] })),
      'validation_failed',
    )
    const unknown = await rejects(createLoan(ctx, finance, req({ externalBorrowerId: 9999, stock: [{ code: 'CHAIR', quantity: 1 }] })), 'validation_failed')
    expect(unknown.details).to.deep.equal([{ field: 'externalBorrowerId', message: 'loan.unknownBorrower', params: undefined }])
  })

  it('when an agency on record borrows again, then the new letter number and date go on the new loan', async () => {
    const finance = await makeUser(ctx, ['finance'])
    await makeAsset(ctx, { code: 'TENT-1' })
    await makeAsset(ctx, { code: 'TENT-2' })
    const school = { type: 'agency', name: 'ผู้อำนวยการโรงเรียน', organisation: 'โรงเรียนบ้านหนองบัว', letterNumber: 'ศธ 001/12' }
    const first = await createLoan(ctx, finance, req({ kind: 'inter_agency', externalBorrower: school, assetCodes: ['TENT-1'] }))
    const again = await createLoan(
      ctx,
      finance,
      req({
        kind: 'inter_agency',
        externalBorrowerId: first.loan.external_borrower_id,
        letterNumber: 'ศธ 001/40',
        letterDate: '2025-01-10',
        assetCodes: ['TENT-2'],
      }),
    )
    expect(again.loan).to.include({ borrower_type: 'agency', letter_number: 'ศธ 001/40', letter_date: '2025-01-10' })
  })

  it('when a borrower has a loan overdue, counted units out, a late return and a compensation open, then the standing and the history show each', async () => {
    const finance = await makeUser(ctx, ['finance'])
    const finance2 = await makeUser(ctx, ['finance'])
    const finance3 = await makeUser(ctx, ['finance'])
    await makeStock(ctx, { code: 'CHAIR', quantity: 120 })
    await makeAsset(ctx, { code: 'AMP-1' })
    const out = async (over: Record<string, unknown>) => {
      const l = await createLoan(ctx, finance, req(over))
      await approveLoan(ctx, finance2, l.loan.id, {})
      await handOver(ctx, finance3, l.loan.id)
      return l
    }
    // loan A: 80 chairs, back two days late with 2 damaged
    const a = await out({ externalBorrower: temple, stock: [{ code: 'CHAIR', quantity: 80 }] })
    const id = a.loan.external_borrower_id!
    // loan B: the amplifier and 20 chairs, never back
    const b = await out({ externalBorrowerId: id, assetCodes: ['AMP-1'], stock: [{ code: 'CHAIR', quantity: 20 }] })
    ctx.clock.set('2025-01-18T03:00:00.000Z')
    await receiveReturn(ctx, finance2, a.loan.id, { stock: [{ code: 'CHAIR', good: 78, damaged: 2, lost: 0 }] })
    // a third loan entered the old way (a new record for the same person: same name and phone)
    const c = await createLoan(
      ctx,
      finance,
      req({ externalBorrower: { ...temple, phone: '0891112222' }, stock: [{ code: 'CHAIR', quantity: 1 }], startDate: '2025-01-20', dueDate: '2025-01-20' }),
    )
    expect(c.loan.external_borrower_id).to.not.equal(id)

    for (const who of [id, c.loan.external_borrower_id!]) {
      const s = await borrowerStanding(ctx, { externalBorrowerId: who })
      expect(s).to.deep.equal({
        overdueLoans: [{ id: b.loan.id, number: b.number, dueOn: '2025-01-16', daysOverdue: 2 }],
        outstandingItems: 1,
        outstandingUnits: 20,
        lateReturns: 1,
        openCompensations: 1,
      })
    }
    const h = await externalBorrowerHistory(ctx, finance, id, { page: 1, pageSize: 50 })
    expect(h.total).to.equal(3)
    expect(h.otherRecords.map((r) => r.id)).to.deep.equal([c.loan.external_borrower_id])
    const byId = new Map(h.loans.map((l) => [l.id, l]))
    expect(byId.get(a.loan.id)).to.include({ status: 'returned', daysLate: 2, overdue: false, outstandingUnits: 0 })
    expect(byId.get(a.loan.id)!.stock[0]).to.include({ code: 'CHAIR', quantity: 80, good: 78, damaged: 2, lost: 0, outstanding: 0 })
    expect(byId.get(b.loan.id)).to.include({ status: 'on_loan', overdue: true, daysOverdue: 2, outstandingItems: 1, outstandingUnits: 20 })
    expect(byId.get(c.loan.id)).to.include({ status: 'pending', daysLate: 0 })
    expect(h.openCompensations.map((x) => [x.number, x.incident, x.quantity, x.stock_code])).to.deep.equal([[a.number, 'damaged', 2, 'CHAIR']])

    const found = await searchExternalBorrowers(ctx, finance, '0891112222')
    expect(found).to.have.length(1)
    expect(found[0]).to.include({ id: c.loan.external_borrower_id, loans: 3, overdue: 1, records: 2 })
  })

  it('when a user borrows, then their standing counts their loans; they see their own history, other staff do not', async () => {
    const finance = await makeUser(ctx, ['finance'])
    const staff = await makeUser(ctx, ['staff'])
    const other = await makeUser(ctx, ['staff'])
    const committee = await makeUser(ctx, ['committee'])
    await makeAsset(ctx, { code: 'AMP-1' })
    await createLoan(ctx, finance, req({ borrower: staff.username, assetCodes: ['AMP-1'] }))
    expect(await borrowerStanding(ctx, { userId: staff.id })).to.include({ outstandingItems: 0, lateReturns: 0 })
    expect((await userBorrowerHistory(ctx, staff, staff.id, { page: 1, pageSize: 50 })).total).to.equal(1)
    expect((await userBorrowerHistory(ctx, committee, staff.id, { page: 1, pageSize: 50 })).profile).to.include({ kind: 'user', username: staff.username })
    await rejects(userBorrowerHistory(ctx, other, staff.id, { page: 1, pageSize: 50 }), 'not_found')
    await rejects(searchExternalBorrowers(ctx, other, 'x'), 'forbidden')
  })

  it('when a search is typed, then a phone-like text becomes its digits without 0 or +66, anything else stays text', () => {
    expect(searchTerms('089-111 2222')).to.deep.equal({ text: '', digits: '891112222' })
    expect(searchTerms('+66 89 111 2222')).to.deep.equal({ text: '', digits: '891112222' })
    expect(searchTerms('๐๘๙๑๑๑๒๒๒๒')).to.deep.equal({ text: '', digits: '891112222' })
    expect(searchTerms('2222')).to.deep.equal({ text: '', digits: '2222' })
    expect(searchTerms('วัด 100%')).to.deep.equal({ text: 'วัด 100%', digits: '' })
    expect(searchTerms(' หมู่ 5 ')).to.deep.equal({ text: 'หมู่ 5', digits: '' })
  })
})
