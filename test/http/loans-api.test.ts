import { expect } from 'chai'
import type { Role } from '../../db/schema.js'
import { approveLoan, createLoan, handOver, requestExtension } from '../../server/services/loan.service.js'
import type { CurrentUser } from '../../server/services/user.service.js'
import { createTestApp, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { apiAs, errorOf, loanBody, withToken } from '../helpers/loans.js'

/**
 * Every loan route × every role, and anonymous. `owner` is the staff member who borrows the loan
 * under test; `staff` is another staff member, for whom someone else's loan does not exist (404).
 * A wrong role is 403 whatever the loan; an allowed role gets 2xx, or 409 where the lifecycle
 * says "not yet" (the executive before finance's check).
 */
type Who = 'anonymous' | 'owner' | 'staff' | 'finance' | 'executive' | 'committee' | 'admin'
const WHO: Who[] = ['anonymous', 'owner', 'staff', 'finance', 'executive', 'committee', 'admin']

type State = 'none' | 'pending_in' | 'pending_out' | 'approved_in' | 'on_loan' | 'extension_out' | 'paper_out'

interface Route {
  method: 'get' | 'post'
  path: string // ':id' and ':extId' are filled from the loan set up for the case
  state: State
  expect: Record<Who, number>
  body?: (who: Who) => object
}

const only = (allowed: Partial<Record<Who, number>>, otherwise = 403): Record<Who, number> =>
  Object.fromEntries(WHO.map((w) => [w, w === 'anonymous' ? 401 : (allowed[w] ?? otherwise)])) as Record<Who, number>

const ROUTES: Route[] = [
  { method: 'post', path: '/api/v1/loans', state: 'none', expect: only({ owner: 201, staff: 201, finance: 201 }) },
  {
    method: 'get',
    path: '/api/v1/loans',
    state: 'pending_in',
    expect: only({ owner: 200, staff: 200, finance: 200, executive: 200, committee: 200, admin: 200 }),
  },
  {
    method: 'get',
    path: '/api/v1/loans/:id',
    state: 'pending_in',
    expect: only({ owner: 200, staff: 404, finance: 200, executive: 200, committee: 200, admin: 200 }),
  },
  // An unchecked off-premises loan: finance checks it; the executive is too early (409 invalid_state).
  {
    method: 'post',
    path: '/api/v1/loans/:id/approve',
    state: 'pending_out',
    expect: only({ finance: 200, executive: 409 }),
    body: () => ({ note: 'ตรวจแล้ว' }),
  },
  {
    method: 'post',
    path: '/api/v1/loans/:id/reject',
    state: 'pending_in',
    expect: only({ finance: 200, executive: 200 }),
    body: () => ({ reason: 'ช่วงนั้นต้องใช้ในงานของ อบต.' }),
  },
  {
    method: 'post',
    path: '/api/v1/loans/:id/cancel',
    state: 'pending_in',
    expect: only({ owner: 200, staff: 404, finance: 200 }),
    body: () => ({ reason: 'ผู้ยืมแจ้งยกเลิกทางโทรศัพท์' }),
  },
  { method: 'post', path: '/api/v1/loans/:id/handover', state: 'approved_in', expect: only({ finance: 200 }) },
  {
    method: 'post',
    path: '/api/v1/loans/:id/return',
    state: 'on_loan',
    expect: only({ finance: 200 }),
    body: () => ({ items: [{ assetCode: ':code', condition: 'good' }] }),
  },
  {
    method: 'post',
    path: '/api/v1/loans/:id/extensions',
    state: 'on_loan',
    expect: only({ owner: 200, staff: 404, finance: 200 }),
    body: () => ({ dueDate: '2025-01-19', reason: 'งานเลื่อนออกไปสองวัน' }),
  },
  // Off the premises the executive decides; finance may record the executive's decision given on paper.
  {
    method: 'post',
    path: '/api/v1/loans/:id/extensions/:extId/decision',
    state: 'extension_out',
    expect: only({ finance: 200, executive: 200 }),
    body: (who) => (who === 'finance' ? { approve: true, onPaper: true, note: 'นายกอนุมัติในบันทึกข้อความ' } : { approve: true }),
  },
  {
    method: 'post',
    path: '/api/v1/loans/:id/follow-ups',
    state: 'on_loan',
    expect: only({ finance: 201 }),
    body: () => ({ method: 'phone', note: 'โทรแจ้งแล้ว' }),
  },
  // A paper approval naming the executive under test: only the named approver answers it (finance,
  // who holds an allowed role, is refused by the rule `not_named_approver`); finance voids it.
  {
    method: 'post',
    path: '/api/v1/loans/:id/paper-approval/confirm',
    state: 'paper_out',
    expect: only({ executive: 200 }),
    body: () => ({ note: 'ลงนามจริง' }),
  },
  {
    method: 'post',
    path: '/api/v1/loans/:id/paper-approval/dispute',
    state: 'paper_out',
    expect: only({ executive: 200 }),
    body: () => ({ reason: 'ไม่ได้ลงนามในใบยืมนี้' }),
  },
  { method: 'post', path: '/api/v1/loans/:id/paper-approval/void', state: 'paper_out', expect: only({ finance: 200 }), body: () => ({ reason: 'บันทึกผิดคน' }) },
]

describe('loans API: every route × every role', () => {
  let t: TestApp
  let tokens: Record<Exclude<Who, 'anonymous'>, string>
  let owner: CurrentUser
  let executive: CurrentUser
  let setupFinance: CurrentUser
  let setupExec: CurrentUser

  before(async () => {
    t = await createTestApp()
    tokens = {} as typeof tokens
    for (const who of ['owner', 'staff', 'finance', 'executive', 'committee', 'admin'] as const) {
      const role: Role = who === 'owner' ? 'staff' : who
      const { user, token } = await withToken(t, [role], { username: `lr.${who}` })
      tokens[who] = token
      if (who === 'owner') owner = user
      if (who === 'executive') executive = user
    }
    // Others prepare each case's loan, so the person under test never meets a segregation rule.
    setupFinance = await makeUser(t.ctx, ['finance'], { username: 'lr.setup.finance' })
    setupExec = await makeUser(t.ctx, ['executive'], { username: 'lr.setup.exec' })
  })
  after(() => t.close())

  /** A fresh loan of the owner in the state the case needs, on a fresh asset. */
  async function prepare(state: State): Promise<{ id: number; extId: number; code: string }> {
    const asset = await makeAsset(t.ctx)
    const code = asset.code
    if (state === 'none') return { id: 0, extId: 0, code }
    const outside = state === 'pending_out' || state === 'extension_out' || state === 'paper_out'
    const loan = await createLoan(t.ctx, owner, loanBody([code], { kind: outside ? 'off_premises' : 'in_premises' }))
    const id = loan.loan.id
    if (state === 'pending_in' || state === 'pending_out') return { id, extId: 0, code }
    if (state === 'paper_out') {
      // The executive under test signed the slip; the setup officer records it (and the check with it).
      await approveLoan(t.ctx, setupFinance, id, { onPaper: { approverName: executive.name, date: '2025-01-15' } })
      return { id, extId: 0, code }
    }
    await approveLoan(t.ctx, setupFinance, id, {})
    if (outside) await approveLoan(t.ctx, setupExec, id, {})
    if (state === 'approved_in') return { id, extId: 0, code }
    // In the premises the approver may not hand over (agency setting), so the executive's
    // off-premises loan is handed over by the checking finance user, and the in-premises one
    // by the finance user under test would be a setup clash: use a second setup user.
    const hander = outside ? setupFinance : await makeUser(t.ctx, ['finance'])
    await handOver(t.ctx, hander, id, {})
    if (state === 'on_loan') return { id, extId: 0, code }
    const ext = await requestExtension(t.ctx, owner, id, { dueDate: '2025-01-19', reason: 'งานเลื่อนออกไปสองวัน' })
    return { id, extId: ext.extensions[0]!.id, code }
  }

  for (const route of ROUTES) {
    for (const who of WHO) {
      const expected = route.expect[who]
      it(`when ${who} calls ${route.method.toUpperCase()} ${route.path}, then ${expected}`, async () => {
        const { id, extId, code } = await prepare(route.state)
        const path = route.path.replace(':id', String(id)).replace(':extId', String(extId))
        const caller = apiAs(t, who === 'anonymous' ? undefined : tokens[who])
        let body: unknown = route.body?.(who)
        if (route.path === '/api/v1/loans') body = loanBody([code], { kind: 'in_premises' })
        if (body && JSON.stringify(body).includes(':code')) body = JSON.parse(JSON.stringify(body).replace(':code', code))
        const res = route.method === 'get' ? await caller.get(path) : await caller.post(path, body ?? {})
        expect(res.status, JSON.stringify(res.body)).to.equal(expected)
        expect(res.type).to.equal('application/json')
        const codeFor: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 409: 'invalid_state' }
        if (codeFor[expected]) {
          expect(errorOf(res).code).to.equal(codeFor[expected])
          if (expected === 404) expect(res.body).to.deep.equal({ error: { code: 'not_found', message: 'ไม่พบใบยืมนี้' } })
          // Finance holds a role the confirm and dispute routes accept, so the refusal is the policy's, naming its rule.
          if (who === 'finance' && /confirm|dispute/.test(route.path))
            expect((res.body as { error: { details: Array<{ rule: string }> } }).error.details[0]!.rule).to.equal('not_named_approver')
          return
        }
        const b = res.body as { id?: number; loanId?: number; items?: unknown[]; total?: number }
        if (route.path.endsWith('/follow-ups')) expect(b.loanId).to.equal(id)
        else if (route.path === '/api/v1/loans' && route.method === 'get') expect(b.items).to.be.an('array')
        else if (route.path === '/api/v1/loans') expect(b.id).to.be.a('number')
        else expect(b.id).to.equal(id)
      })
    }
  }

  it('when staff list loans, then they see only their own; everyone else sees all', async () => {
    const mine = await prepare('pending_in')
    const ownerList = await apiAs(t, tokens.owner).get('/api/v1/loans?pageSize=200').expect(200)
    const ownerIds = (ownerList.body as { items: Array<{ id: number; requestedBy: string }> }).items
    expect(ownerIds.map((l) => l.id)).to.include(mine.id)
    expect(ownerIds.every((l) => l.requestedBy === 'lr.owner' || l.requestedBy === 'lr.setup.finance')).to.equal(true)
    const other = await apiAs(t, tokens.staff).get('/api/v1/loans?pageSize=200').expect(200)
    expect((other.body as { items: Array<{ id: number }> }).items.map((l) => l.id)).to.not.include(mine.id)
    for (const who of ['finance', 'executive', 'committee', 'admin'] as const) {
      const res = await apiAs(t, tokens[who]).get('/api/v1/loans?pageSize=200').expect(200)
      expect(
        (res.body as { items: Array<{ id: number }> }).items.map((l) => l.id),
        who,
      ).to.include(mine.id)
    }
  })

  it('when a path id is not a positive integer, or names no loan, then 404 not_found on every route (never 400 or 500)', async () => {
    const { id, extId } = await prepare('extension_out')
    const bad = ['0', '-1', 'abc', '1.5', '1e3', '0x10', '007', '99999999999999999999', `${id}x`, `%20${String(id)}`, '999999']
    const paths = [
      '',
      '/approve',
      '/reject',
      '/cancel',
      '/handover',
      '/return',
      '/extensions',
      `/extensions/${extId}/decision`,
      '/follow-ups',
      '/paper-approval/confirm',
      '/paper-approval/dispute',
      '/paper-approval/void',
    ]
    for (const raw of bad) {
      for (const p of paths) {
        const url = `/api/v1/loans/${raw}${p}`
        const res = p === '' ? await apiAs(t, tokens.finance).get(url) : await apiAs(t, tokens.finance).post(url, {})
        expect(res.status, url).to.equal(404)
        expect(errorOf(res).code, url).to.equal('not_found')
      }
    }
    for (const raw of ['0', 'x', '-3', '999999']) {
      const res = await apiAs(t, tokens.executive).post(`/api/v1/loans/${id}/extensions/${raw}/decision`, { approve: true })
      expect(res.status, raw).to.equal(404)
      expect(errorOf(res).code).to.equal('not_found')
    }
  })
})
