import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { pino } from 'pino'
import supertest from 'supertest'
import type { Role } from '../../db/schema.js'
import type { App } from '../../server/app.js'
import { addAttachment } from '../../server/services/attachment.service.js'
import { startImport } from '../../server/services/asset-import.service.js'
import { approveLoan, createLoan, handOver, receiveReturn, requestExtension } from '../../server/services/loan.service.js'
import { approvePublication, reviewReport, submitReport } from '../../server/services/publication.service.js'
import { issueToken } from '../../server/services/token.service.js'
import type { CurrentUser } from '../../server/services/user.service.js'
import { isApiPath, PERMISSION_ROLES, PERMISSIONS, renderPermissionsMarkdown, type Method, type RoutePermission } from '../../server/web/permissions.js'
import { apiToken, csrfFrom, csrfOf, createTestApp, signIn, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { query, tableNames } from '../helpers/db.js'
import { csvText, THAI_HEADER } from '../helpers/register-files.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { withApprovers } from '../helpers/approvers.js'
import { disputePaperApproval } from '../../server/services/loan-paper.service.js'

const DOC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'PERMISSIONS.md')

type Who = Role | 'anonymous'
type User = CurrentUser & { password: string }

/** Every route createApp serves, as `METHOD path` (mounted routers' prefixes joined), walking Express 5's router. */
// biome-ignore lint/suspicious/noExportsInTest: scripts/permissions-doc.ts builds docs/PERMISSIONS.md from the same walk
export function appRoutes(app: App): string[] {
  const out: string[] = []
  interface Layer {
    route?: { path: string | string[]; methods: Record<string, boolean> }
    handle?: { stack?: Layer[] }
    rawPath?: string | string[]
  }
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path]
        for (const p of paths) {
          for (const [m, on] of Object.entries(layer.route.methods)) if (on && m !== '_all') out.push(`${m.toUpperCase()} ${prefix}${p}`)
        }
      } else if (layer.handle?.stack) {
        // app.use(router) mounts at '/', app.use('/api/v1', router) at its prefix (router 2 keeps it as rawPath).
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : ''
        walk(layer.handle.stack, prefix + mount)
      }
    }
  }
  const router = (app as unknown as { router: { stack: Layer[] } }).router
  walk(router.stack, '')
  return out
}

const key = (r: { method: string; path: string }) => `${r.method} ${r.path}`

describe('permissions: one table for every route', () => {
  let t: TestApp
  before(async () => {
    t = await createTestApp()
  })
  after(() => t.close())

  it('when the router is walked, then it finds the routes of every area, the API under /api/v1 included', () => {
    const routes = appRoutes(t.app)
    expect(routes).to.include.members(['GET /login', 'GET /q/*code', 'POST /loans/:id/approve', 'POST /api/v1/tokens', 'GET /api/v1/loans/:id'])
    expect(routes.length).to.be.greaterThan(100)
  })

  it('when the app’s routes are compared with the table, then every route is in the table and the table lists none that does not exist', () => {
    const routes = new Set(appRoutes(t.app))
    const listed = new Set(PERMISSIONS.map(key))
    const missing = [...routes].filter((r) => !listed.has(r))
    const stale = [...listed].filter((r) => !routes.has(r))
    expect(missing, 'routes served but not in server/web/permissions.ts: add each with who may use it').to.deep.equal([])
    expect(stale, 'routes in server/web/permissions.ts that the app does not serve: remove or correct them').to.deep.equal([])
  })

  it('when the table is read, then each route appears once, with a grant for every role', () => {
    const seen = new Set<string>()
    for (const r of PERMISSIONS) {
      expect(seen.has(key(r)), `${key(r)} listed twice`).to.equal(false)
      seen.add(key(r))
      expect(Object.keys(r.grants).sort(), key(r)).to.deep.equal([...PERMISSION_ROLES].sort())
      if (r.public) expect(Object.values(r.grants), `${key(r)} is public, so every role may use it`).to.deep.equal(PERMISSION_ROLES.map(() => 'yes'))
    }
  })

  it('when docs/PERMISSIONS.md is compared with the table, then it is the table rendered (npx tsx scripts/permissions-doc.ts)', () => {
    expect(fs.readFileSync(DOC, 'utf8'), 'docs/PERMISSIONS.md is stale: run `npx tsx scripts/permissions-doc.ts`').to.equal(renderPermissionsMarkdown())
  })

  it('when a route has parameters, then the access test below knows a real value for each', () => {
    const without = PERMISSIONS.filter((r) => /[:*]/.test(r.path) && !(r.path in SAMPLES)).map(key)
    expect(without, 'add a sample to SAMPLES in test/http/permissions.test.ts').to.deep.equal([])
  })
})

// ---------------------------------------------------------------- the world the requests act on

interface World {
  t: TestApp
  users: Record<Role, User>
  otherStaff: User
  finance2: User
  finance3: User
  executive2: User
  committee2: User
  assetId: number
  assetCode: string
  stockId: number
  stockCode: string
  kitId: number
  batchId: string
  departmentId: number
  categoryId: number
  externalBorrowerId: number
  /** Loans for the read-only requests: one borrowed by the staff role's user, one by someone else. */
  own: LoanFixture
  other: LoanFixture
  /** A spare token of each role's user, for the revocation route (their main token stays). */
  spareToken: Record<Role, number>
  otherToken: number
}

interface LoanFixture {
  id: number
  attachmentId: number
}

let assetSeq = 0

/** Published in the world, for /transparency and the documents; FY 2567 is left to the actions' own path. */
const PUBLISHED = { fy: 2566, period: 'year' }

const DAY = '2025-01-15' // the test clock's Bangkok day

async function freshAsset(w: Pick<World, 't'>): Promise<string> {
  assetSeq++
  const a = await makeAsset(w.t.ctx, { code: `PERM-${String(assetSeq).padStart(4, '0')}` })
  return a.code
}

type LoanState = 'pending' | 'approved' | 'on_loan' | 'extension' | 'damaged'

/**
 * A loan through the real services, `outside` the premises (finance checks, then the executive
 * approves: so are pending ones) or in them. finance2 checks or approves, executive2 approves,
 * finance3 hands over and receives: the role users under test are free of every segregation rule.
 */
async function loanIn(
  w: World,
  borrower: User,
  state: LoanState,
  outside = state === 'pending',
): Promise<{ id: number; extensionId?: number; compensationId?: number }> {
  const code = await freshAsset(w)
  const kind = outside ? 'off_premises' : 'in_premises'
  const loan = await createLoan(w.t.ctx, borrower, {
    assetCodes: [code],
    purpose: 'ประชุมประจำเดือน',
    place: 'ห้องประชุม อบต.',
    kind,
    startDate: DAY,
    dueDate: '2025-01-20',
  })
  const id = loan.loan.id
  if (state === 'pending') return { id }
  await approveLoan(w.t.ctx, w.finance2, id, {})
  if (kind === 'off_premises') await approveLoan(w.t.ctx, w.executive2, id, {})
  if (state === 'approved') return { id }
  await handOver(w.t.ctx, w.finance3, id, {})
  if (state === 'on_loan') return { id }
  if (state === 'extension') {
    const v = await requestExtension(w.t.ctx, borrower, id, { dueDate: '2025-01-25', reason: 'งานยังไม่เสร็จ' })
    return { id, extensionId: v.extensions[0]!.id }
  }
  await receiveReturn(w.t.ctx, w.finance3, id, { items: [{ assetCode: code, condition: 'damaged', note: 'ขาตั้งหัก' }] })
  const comp = await w.t.ctx.db.selectFrom('compensation').select('id').where('loan_id', '=', id).executeTakeFirstOrThrow()
  return { id, compensationId: comp.id }
}

// A 1×1 PNG: the smallest file the attachment service accepts.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')

async function attachTo(w: World, loanId: number): Promise<number> {
  const row = await addAttachment(w.t.ctx, w.finance2, loanId, { kind: 'signed_slip', note: '', fileName: 'slip.png', data: PNG })
  return row.id
}

async function buildWorld(t: TestApp): Promise<World> {
  const users = {} as Record<Role, User>
  for (const role of PERMISSION_ROLES) users[role] = await makeUser(t.ctx, [role], { username: `perm.${role}` })
  const w = {
    t,
    users,
    otherStaff: await makeUser(t.ctx, ['staff'], { username: 'perm.other' }),
    finance2: await makeUser(t.ctx, ['finance'], { username: 'perm.finance2' }),
    finance3: await makeUser(t.ctx, ['finance'], { username: 'perm.finance3' }),
    executive2: await makeUser(t.ctx, ['executive'], { username: 'perm.executive2' }),
    committee2: await makeUser(t.ctx, ['committee'], { username: 'perm.committee2' }),
  } as World
  // The finance role's user is the ผอ.กองคลัง on the approver list (in-premises loans); the executive
  // role's user is on it as an active executive: paper approvals can be recorded in either's name.
  await withApprovers(t.ctx, { financeDirector: { name: users.finance.name, account: users.finance.username } })
  w.assetCode = await freshAsset(w)
  w.assetId = (await t.ctx.db.selectFrom('asset').select('id').where('code', '=', w.assetCode).executeTakeFirstOrThrow()).id
  const stock = await makeStock(t.ctx, { code: 'PERM-POOL', quantity: 50 })
  w.stockCode = stock.code
  w.stockId = stock.id
  await makeKit(t.ctx, 'PERM-KIT', [{ code: 'PERM-POOL', quantity: 2 }])
  w.kitId = (await t.ctx.db.selectFrom('kit').select('id').where('code', '=', 'PERM-KIT').executeTakeFirstOrThrow()).id
  w.departmentId = (await t.ctx.db.selectFrom('department').select('id').orderBy('id').executeTakeFirstOrThrow()).id
  w.categoryId = (await t.ctx.db.selectFrom('category').select('id').orderBy('id').executeTakeFirstOrThrow()).id
  const csv = csvText([THAI_HEADER, [1, 'PERM-IMP-1', 'โต๊ะพับ', 'office', '', '', '', 'ห้องพัสดุ', '2024-01-10', '1500', '', 'ใช่', '']])
  w.batchId = await startImport(t.ctx, users.finance.id, { name: 'register.csv', data: Buffer.from(csv) })
  const external = await createLoan(t.ctx, w.finance2, {
    assetCodes: [await freshAsset(w)],
    purpose: 'งานบุญประจำปี',
    place: 'วัดบ้านหนองบัว',
    kind: 'off_premises',
    startDate: DAY,
    dueDate: '2025-01-17',
    externalBorrower: { type: 'public', name: 'พระครูสุนทร', organisation: 'วัดบ้านหนองบัว', phone: '089-111-2222' },
  })
  w.externalBorrowerId = external.loan.external_borrower_id!
  const ownLoan = await loanIn(w, users.staff, 'on_loan')
  w.own = { id: ownLoan.id, attachmentId: await attachTo(w, ownLoan.id) }
  const otherLoan = await loanIn(w, w.otherStaff, 'on_loan')
  w.other = { id: otherLoan.id, attachmentId: await attachTo(w, otherLoan.id) }
  w.spareToken = {} as Record<Role, number>
  for (const role of PERMISSION_ROLES) w.spareToken[role] = (await issueToken(t.ctx, users[role], { name: 'spare' })).row.id
  w.otherToken = (await issueToken(t.ctx, w.otherStaff, { name: 'someone else' })).row.id
  // FY 2566 published, so that /transparency and the memo have something to show.
  await submitReport(t.ctx, w.finance2, PUBLISHED.fy, PUBLISHED.period, { memoNumber: 'อบ 0001/2566', memoDate: '2025-01-10' })
  await reviewReport(t.ctx, w.committee2, PUBLISHED.fy, PUBLISHED.period, { note: '' })
  await approvePublication(t.ctx, w.executive2, PUBLISHED.fy, PUBLISHED.period, { note: '' })
  return w
}

/**
 * A real value for each route's parameters. `mine` is whether the request should act on the
 * person's own record (staff's own loan, one's own token) or on someone else's. POST routes that
 * change a loan get a fresh loan in the state their action needs, so that one role's request
 * does not change what the next one meets.
 */
type Sample = (w: World, who: Who, mine: boolean) => string | Promise<string>

/**
 * A loan approved on paper, recorded by finance2. `named`: the approver is the user under test (the
 * finance role's user as the ผอ.กองคลัง on an in-premises loan, the executive role's user on an
 * off-premises one), so that their answer reaches the policy as the named approver; otherwise it is
 * executive2's, disputed by them (what finance voids).
 */
async function paperLoan(w: World, who: Who, mine: boolean, named: boolean): Promise<number> {
  const code = await freshAsset(w)
  const asFinance = named && who === 'finance'
  const approver = !named ? w.executive2 : asFinance ? w.users.finance : w.users.executive
  const kind = asFinance ? 'in_premises' : 'off_premises'
  const loan = await createLoan(w.t.ctx, borrowerFor(w, mine), {
    assetCodes: [code],
    purpose: 'ประชุมประจำเดือน',
    place: 'ห้องประชุม อบต.',
    kind,
    startDate: DAY,
    dueDate: '2025-01-20',
  })
  await approveLoan(w.t.ctx, w.finance2, loan.loan.id, { onPaper: { approverName: approver.name, date: DAY } })
  if (!named) await disputePaperApproval(w.t.ctx, w.executive2, loan.loan.id, { reason: 'ไม่ได้ลงนามในใบยืมนี้' })
  return loan.loan.id
}

const paper =
  (suffix: string, named: boolean, api = false) =>
  async (w: World, who: Who, mine: boolean) =>
    `${api ? '/api/v1' : ''}/loans/${await paperLoan(w, who, mine, named)}${suffix}`

const loanOf = (w: World, mine: boolean) => (mine ? w.own : w.other)
const borrowerFor = (w: World, mine: boolean) => (mine ? w.users.staff : w.otherStaff)
const fresh =
  (state: LoanState, suffix: string, api = false) =>
  async (w: World, _who: Who, mine: boolean) =>
    `${api ? '/api/v1' : ''}/loans/${(await loanIn(w, borrowerFor(w, mine), state)).id}${suffix}`

// biome-ignore lint/suspicious/noExportsInTest: the permissions document uses the same samples
export const SAMPLES: Record<string, Sample> = {
  '/account/tokens/:id/revoke': (w, who, mine) => `/account/tokens/${mine && who !== 'anonymous' ? w.spareToken[who] : w.otherToken}/revoke`,
  '/admin/users/:id': (w) => `/admin/users/${w.otherStaff.id}`,
  '/admin/users/:id/reset-password': (w) => `/admin/users/${w.otherStaff.id}/reset-password`,
  '/admin/users/:id/revoke-tokens': (w) => `/admin/users/${w.otherStaff.id}/revoke-tokens`,
  '/admin/departments/:id': (w) => `/admin/departments/${w.departmentId}`,
  '/admin/categories/:id': (w) => `/admin/categories/${w.categoryId}`,
  '/assets/:id': (w) => `/assets/${w.assetId}`,
  '/assets/:id/edit': (w) => `/assets/${w.assetId}/edit`,
  '/assets/:id/status': (w) => `/assets/${w.assetId}/status`,
  '/assets/import/:batchId': (w) => `/assets/import/${w.batchId}`,
  '/assets/import/:batchId/confirm': (w) => `/assets/import/${w.batchId}/confirm`,
  '/q/*code': (w) => `/q/${encodeURIComponent(w.assetCode)}`,
  '/stock/:id': (w) => `/stock/${w.stockId}`,
  '/stock/:id/move': (w) => `/stock/${w.stockId}/move`,
  '/kits/:id': (w) => `/kits/${w.kitId}`,
  '/borrowers/users/:id': (w) => `/borrowers/users/${w.otherStaff.id}`,
  '/borrowers/:id': (w) => `/borrowers/${w.externalBorrowerId}`,
  '/loans/:id': (w, _who, mine) => `/loans/${loanOf(w, mine).id}`,
  '/loans/:id/slip': (w, _who, mine) => `/loans/${loanOf(w, mine).id}/slip`,
  '/loans/:id/follow-up-letter': (w, _who, mine) => `/loans/${loanOf(w, mine).id}/follow-up-letter`,
  '/loans/:id/attachments': (w, _who, mine) => `/loans/${loanOf(w, mine).id}/attachments`,
  '/loans/:id/attachments/:attId': (w, _who, mine) => `/loans/${loanOf(w, mine).id}/attachments/${loanOf(w, mine).attachmentId}`,
  '/loans/:id/approve': fresh('pending', '/approve'),
  '/loans/:id/approve-paper': fresh('pending', '/approve-paper'),
  '/loans/:id/reject': fresh('pending', '/reject'),
  '/loans/:id/paper/confirm': paper('/paper/confirm', true),
  '/loans/:id/paper/dispute': paper('/paper/dispute', true),
  '/loans/:id/paper/void': paper('/paper/void', false),
  '/loans/:id/cancel': fresh('pending', '/cancel'),
  '/loans/:id/extensions': fresh('on_loan', '/extensions'),
  '/loans/:id/extensions/:extId': async (w, who, mine) => {
    // An extension is decided at the loan's level: the executive's are those of loans outside the premises.
    const l = await loanIn(w, borrowerFor(w, mine), 'extension', who === 'executive')
    return `/loans/${l.id}/extensions/${l.extensionId}`
  },
  '/loans/:id/follow-ups': fresh('on_loan', '/follow-ups'),
  '/loans/:id/compensations/:compId': async (w, _who, mine) => {
    const l = await loanIn(w, borrowerFor(w, mine), 'damaged')
    return `/loans/${l.id}/compensations/${l.compensationId}`
  },
  '/loans/:id/handover': fresh('approved', '/handover'),
  '/loans/:id/return': fresh('on_loan', '/return'),
  '/api/v1/assets/*code': (w) => `/api/v1/assets/${encodeURIComponent(w.assetCode)}`,
  '/api/v1/stock/*code': (w) => `/api/v1/stock/${encodeURIComponent(w.stockCode)}`,
  '/api/v1/loans/:id': (w, _who, mine) => `/api/v1/loans/${loanOf(w, mine).id}`,
  '/api/v1/loans/:id/approve': fresh('pending', '/approve', true),
  '/api/v1/loans/:id/reject': fresh('pending', '/reject', true),
  '/api/v1/loans/:id/paper-approval/confirm': paper('/paper-approval/confirm', true, true),
  '/api/v1/loans/:id/paper-approval/dispute': paper('/paper-approval/dispute', true, true),
  '/api/v1/loans/:id/paper-approval/void': paper('/paper-approval/void', false, true),
  '/api/v1/loans/:id/cancel': fresh('pending', '/cancel', true),
  '/api/v1/loans/:id/handover': fresh('approved', '/handover', true),
  '/api/v1/loans/:id/return': fresh('on_loan', '/return', true),
  '/api/v1/loans/:id/extensions': fresh('on_loan', '/extensions', true),
  '/api/v1/loans/:id/extensions/:extId/decision': async (w, who, mine) => {
    // An extension is decided at the loan's level: the executive's are those of loans outside the premises.
    const l = await loanIn(w, borrowerFor(w, mine), 'extension', who === 'executive')
    return `/api/v1/loans/${l.id}/extensions/${l.extensionId}/decision`
  },
  '/api/v1/loans/:id/follow-ups': fresh('on_loan', '/follow-ups', true),
  '/api/v1/reports/fiscal-years/:year': () => '/api/v1/reports/fiscal-years/2568',
  '/transparency/:year.json': () => `/transparency/${PUBLISHED.fy}.json`,
  '/transparency/:year.csv': () => `/transparency/${PUBLISHED.fy}.csv`,
  '/transparency/:year/:period.snapshot.json': () => `/transparency/${PUBLISHED.fy}/${PUBLISHED.period}.snapshot.json`,
  '/transparency/:year/:period.json': () => `/transparency/${PUBLISHED.fy}/${PUBLISHED.period}.json`,
  '/transparency/:year/:period.csv': () => `/transparency/${PUBLISHED.fy}/${PUBLISHED.period}.csv`,
  '/transparency/:year/:period': () => `/transparency/${PUBLISHED.fy}/${PUBLISHED.period}`,
  // FY 2567 has ended on the test clock: the POSTs walk its path (narrative → submit → review → approve).
  '/reports/publications/:fy/:period/narrative': () => '/reports/publications/2567/year/narrative',
  '/reports/publications/:fy/:period/submit': () => '/reports/publications/2567/year/submit',
  '/reports/publications/:fy/:period/review': () => '/reports/publications/2567/year/review',
  '/reports/publications/:fy/:period/approve': () => '/reports/publications/2567/year/approve',
  '/reports/publications/:fy/:period/return': () => '/reports/publications/2567/year/return',
  // The documents exist once a report is submitted: FY 2566's, published in the world.
  '/reports/publications/:fy/:period/memo': () => `/reports/publications/${PUBLISHED.fy}/${PUBLISHED.period}/memo`,
  '/reports/publications/:fy/:period/publish-request': () => `/reports/publications/${PUBLISHED.fy}/${PUBLISHED.period}/publish-request`,
}

/**
 * A valid body for routes whose access is decided past the input check: without it a missing reason
 * would answer 422 before the policy (named approver, state) is asked, and "allowed" would prove nothing.
 */
const BODIES: Record<string, Record<string, string>> = {
  '/loans/:id/paper/confirm': { note: 'ลงนามจริง' },
  '/loans/:id/paper/dispute': { reason: 'ข้าพเจ้าไม่ได้ลงนามในใบยืมนี้' },
  '/loans/:id/paper/void': { reason: 'ผู้อนุมัติโต้แย้ง บันทึกการอนุมัติใหม่' },
  '/api/v1/loans/:id/paper-approval/confirm': { note: 'ลงนามจริง' },
  '/api/v1/loans/:id/paper-approval/dispute': { reason: 'ข้าพเจ้าไม่ได้ลงนามในใบยืมนี้' },
  '/api/v1/loans/:id/paper-approval/void': { reason: 'ผู้อนุมัติโต้แย้ง บันทึกการอนุมัติใหม่' },
}

/** Routes whose allowed request must really succeed (a 303 back to the loan page, or the API's 200), not merely escape a 403. */
const MUST_SUCCEED = new Set(Object.keys(BODIES))

// ---------------------------------------------------------------- every route × every role

interface Caller {
  agent: supertest.Agent
  csrf: string
  token: string
}

function expectedFor(r: RoutePermission, who: Who): string {
  const api = isApiPath(r.path)
  if (who === 'anonymous') return r.public ? 'allowed' : api ? '401' : r.method === 'GET' ? '303 to /login?next=…' : '303 to /login'
  const g = r.grants[who]
  if (g === 'no') return '403'
  return g === 'own' ? 'allowed on their own, 404 on another’s' : 'allowed'
}

/** Allowed: anything but a refusal of rights (401, 403, a redirect to sign in) — and never a 500. */
function expectAllowed(r: RoutePermission, res: supertest.Response, what: string) {
  const body = (res.text ?? '').slice(0, 300)
  expect(res.status, `${what}: ${res.status} ${body}`).to.be.below(500)
  expect(res.status, what).to.not.equal(403)
  // The sign-in form and the token endpoint answer wrong credentials with 401: that is their job, not a refusal.
  if (!(r.public && r.method === 'POST')) expect(res.status, what).to.not.equal(401)
  if (res.status === 303) expect(String(res.headers.location), what).to.not.match(/^\/login(\?next=|$)/)
  // A read of a real record is an answer, not an error.
  if (r.method === 'GET') expect(res.status, `${what}: ${body}`).to.be.below(400)
}

function expectRefused(r: RoutePermission, res: supertest.Response, what: string) {
  expect(res.status, `${what}: ${(res.text ?? '').slice(0, 200)}`).to.equal(403)
  if (isApiPath(r.path)) expect((res.body as { error: { code: string } }).error.code, what).to.equal('forbidden')
  else expect(res.text, what).to.include('lang="th"')
}

describe('permissions: every route × every role, as the table says', function () {
  this.timeout(120_000)
  let t: TestApp
  let w: World
  const callers = {} as Record<Role, Caller>
  let anonymous: Caller

  async function callerFor(user: User): Promise<Caller> {
    const agent = await signIn(t.app, user.username, user.password)
    return { agent, csrf: await csrfOf(agent), token: await apiToken(t.app, user.username, user.password) }
  }

  async function anonymousCaller(): Promise<Caller> {
    const agent = supertest.agent(t.app)
    return { agent, csrf: csrfFrom((await agent.get('/login')).text), token: '' }
  }

  /** What the app logged as errors: a 500's cause, shown in the failure. */
  const logged: string[] = []

  before(async () => {
    t = await createTestApp()
    t.ctx.logger = pino({ level: 'error' }, { write: (line: string) => void logged.push(line) })
    w = await buildWorld(t)
    for (const role of PERMISSION_ROLES) callers[role] = await callerFor(w.users[role])
    anonymous = await anonymousCaller()
  })
  after(() => t.close())

  async function send(r: RoutePermission, who: Who, url: string): Promise<supertest.Response> {
    // Signing out ends the session: that request gets a session of its own.
    const caller =
      r.path !== '/logout' ? (who === 'anonymous' ? anonymous : callers[who]) : who === 'anonymous' ? await anonymousCaller() : await callerFor(w.users[who])
    const api = isApiPath(r.path)
    const method = r.method.toLowerCase() as Lowercase<Method>
    const body = BODIES[r.path] ?? {}
    if (api) {
      const req = supertest(t.app)[method](url)
      if (who !== 'anonymous') req.set('Authorization', `Bearer ${caller.token}`)
      return r.method === 'POST' ? req.send(body) : req
    }
    if (r.method === 'GET') return caller.agent.get(url)
    return caller.agent
      .post(url)
      .type('form')
      .send({ _csrf: caller.csrf, ...body })
  }

  for (const r of PERMISSIONS) {
    for (const who of ['anonymous', ...PERMISSION_ROLES] as Who[]) {
      it(`when ${who} ${r.method} ${r.path}, then ${expectedFor(r, who)}`, async () => {
        const sample = SAMPLES[r.path]
        const grant = who === 'anonymous' ? undefined : r.grants[who]
        // Staff are refused or allowed on their own loan; another's is tried separately below.
        const url = sample ? await sample(w, who, true) : r.path
        const what = `${who} ${r.method} ${url}`
        logged.length = 0
        const res = await send(r, who, url)
        expect(res.status, `${what}: never a 500 — ${logged.join('').slice(0, 1500)}`).to.not.equal(500)

        if (who === 'anonymous') {
          if (r.public) return expectAllowed(r, res, what)
          if (isApiPath(r.path)) {
            expect(res.status, what).to.equal(401)
            expect((res.body as { error: { code: string } }).error.code).to.equal('unauthenticated')
            return
          }
          expect(res.status, what).to.equal(303)
          expect(res.headers.location, what).to.equal(r.method === 'GET' ? `/login?next=${encodeURIComponent(url)}` : '/login')
          return
        }
        if (grant === 'no') return expectRefused(r, res, what)
        expectAllowed(r, res, what)
        if (MUST_SUCCEED.has(r.path)) {
          expect(res.status, `${what}: ${(res.text ?? '').slice(0, 300)}`).to.equal(isApiPath(r.path) ? 200 : 303)
          if (!isApiPath(r.path)) expect(String(res.headers.location), what).to.match(/^\/loans\/\d+$/)
        }
        // A list ('own' without parameters) shows only their own: there is no one else's record to ask for.
        if (grant === 'own' && sample) {
          const otherUrl = await sample(w, who, false)
          const other = await send(r, who, otherUrl)
          expect(other.status, `${who} ${r.method} ${otherUrl} (someone else's)`).to.equal(404)
        }
      })
    }
  }

  describe('loan requests are for staff and finance', () => {
    const pages = (w: World) => [
      `/assets`,
      `/assets/${w.assetId}`,
      `/q/${encodeURIComponent(w.assetCode)}`,
      `/stock/${w.stockId}`,
      `/q/${w.stockCode}`,
      `/q/PERM-KIT`,
    ]

    for (const role of ['executive', 'committee', 'admin'] as const) {
      it(`when ${role} opens the asset, stock and QR pages, then no "add to my request" form and no cart in the navigation`, async () => {
        for (const url of pages(w)) {
          const res = await callers[role].agent.get(url)
          expect(res.status, url).to.equal(200)
          expect(res.text, url).to.not.include('action="/cart/add"')
          expect(res.text, url).to.not.include('href="/cart"')
        }
      })
    }

    it('when staff open the same pages, then each offers "add to my request" and the navigation links the cart', async () => {
      for (const url of pages(w)) {
        const res = await callers.staff.agent.get(url)
        expect(res.status, url).to.equal(200)
        expect(res.text, url).to.include('action="/cart/add"')
        expect(res.text, url).to.include('href="/cart"')
      }
    })
  })

  describe('lists marked own', () => {
    it('when staff list loans on the page and through the API, then only their own appear; finance sees the other person’s too', async () => {
      const numberOf = async (id: number) => {
        const row = await t.ctx.db.selectFrom('loan').select(['seq', 'fiscal_year']).where('id', '=', id).executeTakeFirstOrThrow()
        return `${row.seq}/${row.fiscal_year}`
      }
      const ownNumber = await numberOf(w.own.id)
      const otherNumber = await numberOf(w.other.id)
      const api = await supertest(t.app).get('/api/v1/loans?pageSize=200').set('Authorization', `Bearer ${callers.staff.token}`).expect(200)
      const items = (api.body as { items: Array<{ id: number; borrower: { username?: string } }> }).items
      expect(items.length).to.be.greaterThan(0)
      expect(
        items.every((l) => l.borrower.username === w.users.staff.username),
        'only their own',
      ).to.equal(true)
      // The page is searched by number: the suite's many loans run to several pages.
      const own = await callers.staff.agent.get(`/loans?q=${encodeURIComponent(ownNumber)}`).expect(200)
      expect(own.text).to.include(`href="/loans/${w.own.id}"`)
      const other = await callers.staff.agent.get(`/loans?q=${encodeURIComponent(otherNumber)}`).expect(200)
      expect(other.text).to.not.include(`href="/loans/${w.other.id}"`)
      const seen = await callers.finance.agent.get(`/loans?q=${encodeURIComponent(otherNumber)}`).expect(200)
      expect(seen.text, 'finance finds it by the same search').to.include(`href="/loans/${w.other.id}"`)

      const ids: number[] = []
      for (let page = 1; ; page++) {
        const res = await supertest(t.app).get(`/api/v1/loans?pageSize=200&page=${page}`).set('Authorization', `Bearer ${callers.finance.token}`).expect(200)
        const body = res.body as { items: Array<{ id: number }>; total: number }
        ids.push(...body.items.map((l) => l.id))
        if (body.items.length === 0 || ids.length >= body.total) break
      }
      expect(ids).to.include(w.other.id)
    })
  })

  describe('roles combined', () => {
    it('when a committee member who also holds finance records the review of a report someone else submitted, then it is refused for segregation of duties; a committee member without finance may', async () => {
      await submitReport(t.ctx, w.finance2, 2566, 'h1', { memoNumber: 'อบ 0002/2566', memoDate: '2025-01-10' })
      const both = await callerFor(await makeUser(t.ctx, ['committee', 'finance'], { username: 'perm.both' }))
      const status = async () =>
        (await t.ctx.db.selectFrom('report_publication').select('status').where('fiscal_year', '=', 2566).where('period', '=', 'h1').executeTakeFirstOrThrow())
          .status
      const refused = await both.agent.post('/reports/publications/2566/h1/review').type('form').send({ _csrf: both.csrf, note: 'ตรวจแล้ว' })
      expect(refused.status).to.equal(303)
      const back = await both.agent.get(String(refused.headers.location))
      expect(back.text).to.include('แบ่งแยกหน้าที่: ผู้ที่มีบทบาทกองคลังบันทึกผลการพิจารณารายงานของคณะกรรมการไม่ได้')
      expect(await status()).to.equal('submitted')

      const ok = await callers.committee.agent
        .post('/reports/publications/2566/h1/review')
        .type('form')
        .send({ _csrf: callers.committee.csrf, note: 'ตรวจแล้ว' })
      expect(ok.status).to.equal(303)
      expect(await status()).to.equal('reviewed')
    })
  })

  describe('CSRF on every state-changing page', () => {
    /** Every table's rows, as stored — sessions aside (a rolling session's expiry moves with each request). */
    async function snapshot(): Promise<Record<string, string[]>> {
      const out: Record<string, string[]> = {}
      for (const name of await tableNames(t.ctx.db)) {
        if (name === 'session') continue
        // Each table's rows in one order on either database (PostgreSQL has no rowid).
        out[name] = (await query(t.ctx.db).all(`SELECT * FROM "${name}"`)).map((r) => JSON.stringify(r)).sort()
      }
      return out
    }

    const posts = PERMISSIONS.filter((r) => r.method === 'POST' && !isApiPath(r.path))

    it('when the table is read, then it has state-changing pages to check', () => {
      expect(posts.length).to.be.greaterThan(40)
    })

    for (const r of posts) {
      // Someone the table allows: the forged form would otherwise have worked.
      // A forged sign-out matters against someone signed in.
      const who: Who = r.path === '/logout' ? 'staff' : r.public ? 'anonymous' : PERMISSION_ROLES.find((role) => r.grants[role] !== 'no')!
      for (const variant of ['no _csrf', 'a made-up _csrf'] as const) {
        it(`when ${who} posts ${r.path} with ${variant}, then 403 with the Thai message and nothing changes`, async () => {
          const sample = SAMPLES[r.path]
          const url = sample ? await sample(w, who, true) : r.path
          const caller = who === 'anonymous' ? await anonymousCaller() : r.path === '/logout' ? await callerFor(w.users[who]) : callers[who]
          const before = await snapshot()
          const body =
            variant === 'no _csrf'
              ? { note: 'ปลอม', reason: 'ปลอมแปลง', name: 'ปลอม' }
              : { _csrf: 'not-a-real-token-0123456789abcdef', note: 'ปลอม', reason: 'ปลอมแปลง', name: 'ปลอม' }
          const res = await caller.agent.post(url).type('form').send(body)
          expect(res.status, url).to.equal(403)
          expect(res.text, url).to.include('แบบฟอร์มหมดอายุหรือไม่ถูกต้อง')
          expect(res.text, url).to.include('<html lang="th">')
          expect(await snapshot(), `${url}: nothing changed`).to.deep.equal(before)
          if (r.path === '/logout') await caller.agent.get('/').expect(200) // still signed in
        })
      }
    }
  })
})
