import { expect } from 'chai'
import { createTestContext, type TestContext } from '../helpers/db.js'
import { buildRegisterHistory } from '../helpers/register-history.js'
import { loanRegister, loanRegisterCsv, loanRegisterPage, parseRegisterQuery, registerRows } from '../../server/services/register.service.js'
import { rejects } from '../helpers/expect.js'

describe('loan-return register (service)', () => {
  let ctx: TestContext
  before(async () => {
    ctx = await createTestContext({ now: '2024-09-30T03:00:00.000Z' })
    await buildRegisterHistory(ctx)
  })
  after(() => ctx.close())

  const reg = async (q: Record<string, unknown>) => loanRegister(ctx, parseRegisterQuery(ctx, q))

  it('when the register of FY 2568 is read, then it lists 1/2568 … 7/2568 in order, rejected, cancelled and expired included, and nothing of 2567 or 2569', async () => {
    const r = await reg({ fy: '2568' })
    expect(r.query).to.include({ fiscalYear: 2568, period: 'year', from: '2024-10-01', to: '2025-09-30' })
    expect(r.loans.map((l) => [l.number, l.status])).to.deep.equal([
      ['1/2568', 'returned'],
      ['2/2568', 'rejected'],
      ['3/2568', 'cancelled'],
      ['4/2568', 'expired'],
      ['5/2568', 'returned'],
      ['6/2568', 'on_loan'],
      ['7/2568', 'returned'],
    ])
    expect(r.lastNumber).to.equal(7)
    expect(r.missingNumbers).to.deep.equal([])
    expect(r.lineCount).to.equal(8)
  })

  it('when a loan has an asset and counted chairs, a partial and a late return and a follow-up, then its lines say so', async () => {
    const r = await reg({ fy: '2568' })
    const temple = r.loans[0]!
    expect(temple).to.include({
      borrowerName: 'พระครูสุนทร',
      unit: 'วัดบ้านหนองบัว',
      borrowerType: 'public',
      kind: 'off_premises',
      startOn: '2024-10-05',
      dueOn: '2024-10-07',
      originalDueOn: null,
      handedOverOn: '2024-10-05',
    })
    expect(temple.followUps).to.deep.equal(['2024-10-09'])
    const [amp, chairs] = temple.lines
    expect(amp).to.include({
      type: 'asset',
      code: 'AMP-1',
      returnedOn: '2024-10-10',
      condition: 'good',
      returnedBy: 'นายสมหมาย',
      receivedBy: 'นายรับคืน สอง',
      out: false,
      daysLate: 3,
      handedOverOn: '2024-10-05',
    })
    expect(chairs).to.include({
      type: 'stock',
      code: 'CHAIR',
      name: 'เก้าอี้พลาสติก',
      quantity: 80,
      good: 76,
      damaged: 2,
      lost: 2,
      returnedOn: '2024-10-07',
      out: false,
      daysLate: 0,
    })
  })

  it('when requests never went out, then their lines have no dates and no days late; the extended loan shows both due dates; the loan still out counts to today', async () => {
    const r = await reg({ fy: '2568' })
    for (const l of r.loans.slice(1, 4))
      expect(l.lines.map((x) => [x.handedOverOn, x.returnedOn, x.daysLate, x.out])).to.deep.equal([[null, null, null, false]])
    const ext = r.loans[4]!
    expect(ext).to.include({ dueOn: '2024-12-27', originalDueOn: '2024-12-22', borrowerName: 'นายช่าง ใจดี', unit: 'กองช่าง', borrowerType: 'employee' })
    expect(ext.lines[0]).to.include({ code: 'PROJ-1', returnedOn: '2024-12-28', condition: 'damaged', daysLate: 1 })
    const out = r.loans[5]!
    expect(out.lines[0]).to.include({ code: 'CAM-1', out: true, returnedOn: null, daysLate: 93 })
    expect(r.loans[6]!.lines[0]).to.include({ code: 'TAB-5', daysLate: 0 })
  })

  it("when the screen reads one page, then it holds that slice of the whole register, the whole period's counts, and a page past the end is the last", async () => {
    const whole = await reg({ fy: '2568' })
    const q = parseRegisterQuery(ctx, { fy: '2568' })
    const second = await loanRegisterPage(ctx, q, 2, 3)
    expect(second).to.include({ page: 2, pages: 3, loanCount: 7, lineCount: whole.lineCount, lastNumber: 7 })
    expect(second.loans).to.deep.equal(whole.loans.slice(3, 6))
    expect(second.missingNumbers).to.deep.equal([])
    const last = await loanRegisterPage(ctx, q, 99, 3)
    expect(last).to.include({ page: 3, pages: 3 })
    expect(last.loans).to.deep.equal(whole.loans.slice(6))
    const none = await loanRegisterPage(ctx, parseRegisterQuery(ctx, { period: 'range', from: '2020-01-01', to: '2020-01-02' }), 1, 3)
    expect(none).to.include({ page: 1, pages: 1, loanCount: 0, lineCount: 0 })
    expect(none.loans).to.deep.equal([])
  })

  it('when a number of the year were ever missing, then the screen page names the same numbers as the whole register', async () => {
    await ctx.db.updateTable('loan_number').set({ last_seq: 9 }).where('fiscal_year', '=', 2568).execute()
    try {
      const q = parseRegisterQuery(ctx, { fy: '2568' })
      expect((await loanRegister(ctx, q)).missingNumbers).to.deep.equal([8, 9])
      expect((await loanRegisterPage(ctx, q, 1, 3)).missingNumbers).to.deep.equal([8, 9])
    } finally {
      await ctx.db.updateTable('loan_number').set({ last_seq: 7 }).where('fiscal_year', '=', 2568).execute()
    }
  })

  it('when the period is the first half, a quarter or a range, then only the slips requested in it are listed', async () => {
    expect((await reg({ fy: '2568', period: 'h1' })).loans.map((l) => l.number)).to.deep.equal(['1/2568', '2/2568', '3/2568', '4/2568', '5/2568', '6/2568'])
    expect((await reg({ fy: '2568', period: 'q1' })).loans.map((l) => l.number)).to.deep.equal(['1/2568', '2/2568', '3/2568', '4/2568', '5/2568'])
    expect((await reg({ fy: '2568', period: 'q3' })).loans.map((l) => l.number)).to.deep.equal(['7/2568'])
    const range = await reg({ period: 'range', from: '2024-09-30', to: '2024-10-02' })
    expect(range.loans.map((l) => l.number)).to.deep.equal(['1/2567', '1/2568', '2/2568'])
    expect(range.lastNumber).to.equal(null)
  })

  it('when filters are given, then status, kind, borrower type, department and overdue narrow the list', async () => {
    const n = async (q: Record<string, unknown>) => (await reg({ fy: '2568', ...q })).loans.map((l) => l.number)
    expect(await n({ status: 'rejected' })).to.deep.equal(['2/2568'])
    expect(await n({ kind: 'off_premises' })).to.deep.equal(['1/2568'])
    expect(await n({ borrowerType: 'public' })).to.deep.equal(['1/2568'])
    expect(await n({ department: 'ENG' })).to.deep.equal(['2/2568', '3/2568', '4/2568', '5/2568', '6/2568', '7/2568'])
    expect(await n({ overdue: '1' })).to.deep.equal(['1/2568', '5/2568', '6/2568'])
    await rejects(reg({ fy: '2568', status: 'lost' }), 'validation_failed')
    await rejects(reg({ fy: '2568', department: 'NOPE' }), 'validation_failed')
    await rejects(reg({ period: 'range', from: '2025-01-10' }), 'validation_failed')
    await rejects(reg({ period: 'range', from: '2025-01-10', to: '2025-01-01' }), 'validation_failed')
  })

  it('when written as CSV, then it has the BOM, CRLF, Thai headers and text, and a formula-like purpose is neutralised', async () => {
    const r = await reg({ fy: '2568' })
    const csv = loanRegisterCsv(r)
    expect(csv.startsWith('\ufeffเลขที่,วันที่ยื่นคำขอ,สถานะ,ผู้ยืม')).to.equal(true)
    const lines = csv.split('\r\n')
    expect(lines).to.have.length(1 + 8 + 1) // header, 8 lines, the final CRLF
    expect(csv).to.include(",'=1+1 ถ่ายภาพงาน,")
    expect(csv).to.not.match(/,=1\+1/)
    expect(lines[2]).to.include('CHAIR,เก้าอี้พลาสติก,80,')
    expect(lines[2]).to.include(',76,2,2,')
    expect(registerRows(r)).to.have.length(8)
  })
})
