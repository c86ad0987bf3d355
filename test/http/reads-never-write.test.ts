import { expect } from 'chai'
import { sql } from 'kysely'
import supertest from 'supertest'
import type { Role } from '../../db/schema.js'
import { approveLoan, createLoan, handOver } from '../../server/services/loan.service.js'
import { startScheduler } from '../../server/services/scheduler.service.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { apiToken, createTestApp, signIn, type TestApp } from '../helpers/app.js'
import { tableNames } from '../helpers/db.js'

/*
 * Issue 14: expiry of uncollected loans ran from seven GET handlers, from a service and from a timer.
 * Now one scheduler does it; reads never write, and show an approved loan past its collection deadline
 * as expired before the scheduler has got to it.
 */
describe('reads never write; one scheduler expires uncollected loans (issue 14)', function () {
  this.timeout(60_000)
  let t: TestApp
  let expiredId: number
  let onLoanId: number
  let pendingId: number
  const people: Partial<Record<Role, { username: string; password: string }>> = {}

  beforeEach(async () => {
    t = await createTestApp({ now: '2025-01-15T03:00:00.000Z' })
    for (const role of ['admin', 'finance', 'executive', 'committee', 'staff'] as Role[]) people[role] = await makeUser(t.ctx, [role])
    const finance = await makeUser(t.ctx, ['finance'])
    const issuer = await makeUser(t.ctx, ['finance'])
    const staff = await makeUser(t.ctx, ['staff'])
    for (const code of ['PRJ-1', 'PRJ-2', 'PRJ-3']) await makeAsset(t.ctx, { code })
    const request = (code: string, start: string, due: string) => ({
      assetCodes: [code],
      purpose: 'อบรมประจำเดือน',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: start,
      dueDate: due,
    })
    expiredId = (await createLoan(t.ctx, staff, request('PRJ-1', '2025-01-16', '2025-01-18'))).loan.id
    await approveLoan(t.ctx, finance, expiredId, {})
    onLoanId = (await createLoan(t.ctx, staff, request('PRJ-2', '2025-01-15', '2025-01-17'))).loan.id
    await approveLoan(t.ctx, finance, onLoanId, {})
    await handOver(t.ctx, issuer, onLoanId)
    pendingId = (await createLoan(t.ctx, staff, request('PRJ-3', '2025-02-01', '2025-02-02'))).loan.id
    // Ten days on: the first loan was never collected (start + 3 days < today), the second is overdue.
    t.ctx.clock.set('2025-01-26T03:00:00.000Z')
  })
  afterEach(() => t.close())

  /**
   * Everything a write would change: every table's row count, the loans' statuses and the audit head.
   * Left out: sessions (signing in and idle time are the session's own), and the kept figures of an
   * ended year's report (report_kept, report_epoch: a cache of what the loans compute to, filled by the
   * first reader and dropped by any write dated in that year — report.service "KEPT FIGURES").
   */
  async function fingerprint(): Promise<string> {
    const tables = (await tableNames(t.ctx.db)).filter((name) => !['session', 'report_kept', 'report_epoch'].includes(name)).map((name) => ({ name }))
    const counts: Record<string, number> = {}
    for (const { name } of tables) counts[name] = Number((await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(name)}`.execute(t.ctx.db)).rows[0]!.n)
    const statuses = await t.ctx.db.selectFrom('loan').select(['id', 'status', 'updated_at']).orderBy('id').execute()
    const head = await t.ctx.db.selectFrom('audit_log').select(['id', 'hash']).orderBy('id', 'desc').limit(1).executeTakeFirst()
    return JSON.stringify({ counts, statuses, head })
  }

  const PAGES = (id: { expired: number; onLoan: number; pending: number }) => [
    '/',
    '/loans',
    '/loans?status=approved',
    '/loans?status=expired',
    '/loans/queue',
    `/loans/${id.expired}`,
    `/loans/${id.onLoan}`,
    `/loans/${id.pending}`,
    `/loans/${id.expired}/handover`,
    `/loans/${id.onLoan}/return`,
    `/loans/${id.expired}/slip`,
    `/loans/${id.onLoan}/follow-up-letter`,
    '/q/PRJ-1',
    '/q/PRJ-2',
    '/assets',
    '/assets/PRJ-1',
    '/register',
    '/register/print',
    '/reports',
    '/audit',
    '/paper-approvals',
    '/borrowers',
    '/borrowers/standing',
    '/counter',
    '/cart',
    '/stock',
    '/kits',
    '/labels',
    '/scan',
    '/admin',
    '/admin/users',
    '/admin/settings',
    '/account',
    '/transparency',
  ]

  it('when every role opens every page and the API reads, then nothing is written — row counts, loan statuses and the audit head unchanged', async () => {
    const agents = []
    for (const role of Object.keys(people) as Role[])
      agents.push({
        role,
        agent: await signIn(t.app, people[role]!.username, people[role]!.password),
        token: await apiToken(t.app, people[role]!.username, people[role]!.password),
      })
    const before = await fingerprint()
    let pages = 0
    for (const { role, agent, token } of agents) {
      for (const path of PAGES({ expired: expiredId, onLoan: onLoanId, pending: pendingId })) {
        const res = await agent.get(path)
        expect(res.status, `${role} ${path}`).to.be.below(500)
        pages++
      }
      for (const path of [
        '/api/v1/me',
        '/api/v1/loans',
        `/api/v1/loans/${expiredId}`,
        `/api/v1/loans/${onLoanId}`,
        '/api/v1/assets',
        '/api/v1/assets/PRJ-1',
        '/api/v1/reports/fiscal-years/2568',
        '/api/v1/audit/verify',
      ]) {
        const res = await supertest(t.app).get(path).set('Authorization', `Bearer ${token}`)
        expect(res.status, `${role} ${path}`).to.be.below(500)
      }
    }
    expect(pages).to.be.greaterThan(100)
    expect(await fingerprint()).to.equal(before)
  })

  it('when an approved loan is past its collection deadline and the scheduler has not run, then the page and the API show it expired and it cannot be handed over', async () => {
    const finance = await signIn(t.app, people.finance!.username, people.finance!.password)
    const page = await finance.get(`/loans/${expiredId}`).expect(200)
    expect(page.text).to.include('หมดอายุ (ไม่มารับ)')
    const token = await apiToken(t.app, people.finance!.username, people.finance!.password)
    const api = await supertest(t.app).get(`/api/v1/loans/${expiredId}`).set('Authorization', `Bearer ${token}`).expect(200)
    expect(api.body.status).to.equal('expired')
    const queue = await finance.get('/loans/queue').expect(200)
    expect(queue.text, 'not on the list to hand over').to.not.match(new RegExp(`href="/loans/${expiredId}"`))
    const refused = await supertest(t.app).post(`/api/v1/loans/${expiredId}/handover`).set('Authorization', `Bearer ${token}`).send({})
    expect(refused.status).to.equal(409)
    expect(refused.body.error.code).to.equal('invalid_state')
    const row = await t.ctx.db.selectFrom('loan').select('status').where('id', '=', expiredId).executeTakeFirstOrThrow()
    expect(row.status, 'still approved in the database: only the scheduler writes').to.equal('approved')
  })

  it('when the scheduler ticks, then the uncollected loan expires once with its audit entry; a second tick changes nothing', async () => {
    const scheduler = startScheduler(t.ctx, { runNow: false })
    try {
      const first = await scheduler.tick()
      expect(first.find((r) => r.name === 'expireLoans')).to.deep.equal({ name: 'expireLoans', changed: 1 })
      const second = await scheduler.tick()
      expect(second.find((r) => r.name === 'expireLoans')).to.deep.equal({ name: 'expireLoans', changed: 0 })
      // The reminders are idempotent too (issue 18): the second tick makes none.
      expect(second.find((r) => r.name === 'reminders')).to.deep.equal({ name: 'reminders', changed: 0 })
    } finally {
      await scheduler.stop()
    }
    const row = await t.ctx.db.selectFrom('loan').select('status').where('id', '=', expiredId).executeTakeFirstOrThrow()
    expect(row.status).to.equal('expired')
    const entries = await t.ctx.db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'loan.expired')
      .where('entity_id', '=', String(expiredId))
      .execute()
    expect(entries).to.have.length(1)
  })

  it('when the Bangkok date changes, then the scheduler runs by itself within its check interval', async () => {
    t.ctx.clock.set('2025-01-15T03:00:00.000Z')
    const scheduler = startScheduler(t.ctx, { checkMs: 20, everyMs: 3_600_000 })
    try {
      await scheduler.tick()
      t.ctx.clock.set('2025-01-26T03:00:00.000Z')
      await new Promise((r) => setTimeout(r, 120))
      await scheduler.tick()
      const row = await t.ctx.db.selectFrom('loan').select('status').where('id', '=', expiredId).executeTakeFirstOrThrow()
      expect(row.status).to.equal('expired')
    } finally {
      await scheduler.stop()
    }
  })
})
