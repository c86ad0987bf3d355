import { expect } from 'chai'
import supertest from 'supertest'
import { watchQueries } from '../../db/connection.js'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { loanBody } from '../helpers/loans.js'
import { approveLoan, createLoan } from '../../server/services/loan.service.js'

/*
 * Issue 19, "fewer round trips": on PostgreSQL every statement is a network round trip. The QR page,
 * the most frequent page, takes at most 4 (it took 10); a page's statements don't grow with the rows
 * it lists. Counted on whichever database the suite runs on: the code path is the same.
 */
describe('round trips per page (issue 19)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  async function statements(agent: supertest.Agent | supertest.Agent, path: string, status = 200): Promise<number> {
    await agent.get(path).expect(status) // first visit: fills what the app keeps between requests
    await agent.get(path).expect(status)
    const w = watchQueries(t.ctx.db, (s) => process.env.SHOW_SQL && console.log(s))
    try {
      await agent.get(path).expect(status)
      return w.count()
    } finally {
      w.stop()
    }
  }

  it('when staff open a QR label a second time, then the page takes at most 4 statements', async () => {
    const asset = await makeAsset(t.ctx, { code: 'PJ-001' })
    const { agent } = await signedInAs(t, ['staff'])
    const n = await statements(agent, `/q/${asset.code}`)
    expect(n).to.be.at.most(4)
  })

  it('when an anonymous visitor opens a QR label, then it is sent to sign in with at most 4 statements', async () => {
    const asset = await makeAsset(t.ctx, { code: 'PJ-001' })
    const n = await statements(supertest.agent(t.app), `/q/${asset.code}`, 303)
    expect(n).to.be.at.most(4)
  })
})

describe('statements per page do not grow with the rows listed (issue 19)', () => {
  const PAGES = ['/', '/assets', '/loans', '/register', '/borrowers', '/stock', '/audit', '/notifications', '/reports', '/counter']

  /** The statements of each page for a finance officer (who sees every list), with `loans` loans on record. */
  async function statementsWith(loans: number): Promise<Record<string, number>> {
    const t = await createTestApp()
    try {
      const { agent, user } = await signedInAs(t, ['finance', 'staff', 'committee'])
      const borrower = await makeUser(t.ctx, ['staff'])
      for (let i = 0; i < loans; i++) {
        const asset = await makeAsset(t.ctx)
        const loan = await createLoan(t.ctx, borrower, loanBody([asset.code], { kind: 'in_premises' }))
        if (i % 2 === 0) await approveLoan(t.ctx, user, loan.loan.id, {})
      }
      const out: Record<string, number> = {}
      for (const path of PAGES) {
        await agent.get(path).expect(200)
        const w = watchQueries(t.ctx.db)
        await agent.get(path).expect(200)
        w.stop()
        out[path] = w.count()
      }
      return out
    } finally {
      await t.close()
    }
  }

  it('when there are 12 loans instead of 3, then every list page runs as many statements as before', async function () {
    this.timeout(120_000)
    const few = await statementsWith(3)
    const many = await statementsWith(12)
    expect(many).to.deep.equal(few)
  })
})
