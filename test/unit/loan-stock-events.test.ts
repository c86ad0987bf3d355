import { expect } from 'chai'
import { decodeStockReturns } from '../../server/services/loan-stock-events.service.js'

const at = '2026-12-01T03:00:00.000Z'
const entry = (data: unknown) => ({ at, data: typeof data === 'string' ? data : JSON.stringify(data) })

describe('stock return events decoded from the audit log', () => {
  it('when an entry is as loan-return.service writes it, then every field is read and the step keys are ignored', () => {
    const { entries, skipped } = decodeStockReturns([
      entry({ number: '1/2570', code: 'CHAIR', good: 76, damaged: 2, lost: 2, note: 'ขาหัก', returnedBy: 'นายสมชาย', late: true, twoPersonRule: false }),
    ])
    expect(skipped).to.equal(0)
    expect(entries).to.deep.equal([{ at, index: 0, data: { code: 'CHAIR', good: 76, damaged: 2, lost: 2, note: 'ขาหัก', returnedBy: 'นายสมชาย', late: true } }])
  })

  it('when an old entry lacks the later fields, then counts are 0, texts empty and late false', () => {
    const { entries, skipped } = decodeStockReturns([entry({ code: 'TENT', good: 3 })])
    expect(skipped).to.equal(0)
    expect(entries[0]!.data).to.deep.equal({ code: 'TENT', good: 3, damaged: 0, lost: 0, note: '', returnedBy: '', late: false })
  })

  it('when entries are malformed (not JSON, no code, a count of the wrong type, null), then each is skipped and counted and the good ones keep their order', () => {
    const { entries, skipped } = decodeStockReturns([
      entry({ code: 'A', good: 1 }),
      entry('{not json'),
      entry({ good: 4 }),
      entry({ code: 'B', good: '4' }),
      entry('null'),
      entry({ code: 'C', lost: -1 }),
      entry({ code: 'D', damaged: 1 }),
    ])
    expect(skipped).to.equal(5)
    expect(entries.map((e) => [e.data.code, e.index])).to.deep.equal([
      ['A', 0],
      ['D', 6],
    ])
  })
})
