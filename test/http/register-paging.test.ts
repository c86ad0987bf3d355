import { expect } from 'chai'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { loanBody } from '../helpers/loans.js'
import { createLoan } from '../../server/services/loan.service.js'
import { getCurrentUser } from '../../server/services/user.service.js'
import { REGISTER_PAGE_SIZE } from '../../server/web/routes/register.routes.js'

/* The register screen pages a large period; the summary, the print and the files hold every loan. */
describe('loan-return register: paging on screen', function () {
  this.timeout(30_000)
  let t: TestApp
  const N = REGISTER_PAGE_SIZE + 5
  before(async () => {
    t = await createTestApp({ now: '2025-01-15T03:00:00.000Z' })
    const staff = (await getCurrentUser(t.ctx, (await makeUser(t.ctx, ['staff'])).id))!
    const asset = await makeAsset(t.ctx, { code: 'TENT-P' })
    // Pending requests do not block one another: N requests of one tent on the same days.
    for (let i = 0; i < N; i++) await createLoan(t.ctx, staff, loanBody([asset.code], { startDate: '2025-01-20', dueDate: '2025-01-21' }))
  })
  after(() => t.close())

  const numbersOn = (html: string) => [...html.matchAll(/<strong>(\d+)\/2568<\/strong>/g)].map((m) => Number(m[1]))

  it(`when a period holds ${REGISTER_PAGE_SIZE + 5} loans, then page 1 shows the first ${REGISTER_PAGE_SIZE} in order, page 2 the rest, and the summary counts all`, async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const first = await agent.get('/register?fy=2568&period=year').expect(200)
    expect(numbersOn(first.text)).to.deep.equal(Array.from({ length: REGISTER_PAGE_SIZE }, (_, i) => i + 1))
    expect(first.text).to.include(`ใบยืม ${N} เลขที่`)
    expect(first.text).to.include('rel="next"').and.include('page=2')
    const second = await agent.get('/register?fy=2568&period=year&page=2').expect(200)
    expect(numbersOn(second.text)).to.deep.equal([101, 102, 103, 104, 105])
    // A page past the end shows the last one; the print holds every loan.
    expect(numbersOn((await agent.get('/register?fy=2568&period=year&page=99').expect(200)).text)).to.have.length(5)
    const print = await agent.get('/register/print?fy=2568&period=year&page=2').expect(200)
    // (Thai digits by default in documents: ๑/๒๕๖๘ …)
    // A slip number, not the month of a dd/mm/yyyy date (issue 17: the print's dates are numeric).
    expect(new Set([...print.text.matchAll(/(?<![๐-๙/])([๐-๙]+)\/๒๕๖๘/g)].map((m) => m[1])).size).to.equal(N)
  })
})
