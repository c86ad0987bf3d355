import { expect } from 'chai'
import supertest from 'supertest'
import { ROLES, type Role } from '../../db/schema.js'
import { ensureFirstAdmin } from '../../server/services/user.service.js'
import { apiToken, createTestApp, csrfFrom, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { query } from '../helpers/db.js'

type Who = Role | 'anonymous'
const EVERYONE: Role[] = [...ROLES]

/**
 * Who may open each page that exists now. Anonymous is never allowed on these (they go to sign-in);
 * a signed-in person is allowed exactly when they hold one of the listed roles.
 */
const PAGES: Array<{ path: string; roles: Role[]; needs?: string }> = [
  { path: '/', roles: EVERYONE },
  { path: '/account', roles: EVERYONE },
  { path: '/account/password', roles: EVERYONE },
  { path: '/admin/users', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/admin/users/new', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/admin/users/1', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/admin/departments', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/admin/departments/1', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/admin/settings', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/audit', roles: ['admin', 'committee'], needs: 'ผู้ดูแลระบบ, คณะกรรมการ' },
  { path: '/admin', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/admin/categories', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/admin/categories/1', roles: ['admin'], needs: 'ผู้ดูแลระบบ' },
  { path: '/assets', roles: EVERYONE },
  { path: '/assets/new', roles: ['finance'], needs: 'กองคลัง (พัสดุ)' },
  { path: '/assets/import', roles: ['finance'], needs: 'กองคลัง (พัสดุ)' },
  { path: '/labels', roles: ['finance'], needs: 'กองคลัง (พัสดุ)' },
  { path: '/stock', roles: EVERYONE },
  { path: '/stock/new', roles: ['finance'], needs: 'กองคลัง (พัสดุ)' },
  { path: '/kits', roles: ['finance'], needs: 'กองคลัง (พัสดุ)' },
  { path: '/scan', roles: EVERYONE },
  { path: '/counter', roles: ['finance'], needs: 'กองคลัง (พัสดุ)' },
  { path: '/borrowers', roles: ['finance', 'executive', 'committee', 'admin'], needs: 'กองคลัง (พัสดุ), ผู้บริหาร, คณะกรรมการ, ผู้ดูแลระบบ' },
  { path: '/borrowers/users/1', roles: ['finance', 'executive', 'committee', 'admin'], needs: 'กองคลัง (พัสดุ), ผู้บริหาร, คณะกรรมการ, ผู้ดูแลระบบ' },
  { path: '/borrowers/me', roles: EVERYONE },
  { path: '/register', roles: ['finance', 'executive', 'committee', 'admin'], needs: 'กองคลัง (พัสดุ), ผู้บริหาร, คณะกรรมการ, ผู้ดูแลระบบ' },
  { path: '/register/print', roles: ['finance', 'executive', 'committee', 'admin'], needs: 'กองคลัง (พัสดุ), ผู้บริหาร, คณะกรรมการ, ผู้ดูแลระบบ' },
  { path: '/reports', roles: ['finance', 'executive', 'committee'], needs: 'กองคลัง (พัสดุ), ผู้บริหาร, คณะกรรมการ' },
  { path: '/reports/print', roles: ['finance', 'executive', 'committee'], needs: 'กองคลัง (พัสดุ), ผู้บริหาร, คณะกรรมการ' },
]

/** The same for the API: anonymous → 401, without the role → 403, allowed → the status given. */
const API: Array<{ method: 'get' | 'post'; path: string; roles: Role[]; ok: number; body?: (who: Role) => object }> = [
  { method: 'get', path: '/api/v1/me', roles: EVERYONE, ok: 200 },
  {
    method: 'post',
    path: '/api/v1/users',
    roles: ['admin'],
    ok: 201,
    body: (who) => ({ username: `made.by.${who}`, password: 'Welcome-2568', name: 'ผู้ใช้ใหม่', roles: ['staff'] }),
  },
  { method: 'get', path: '/api/v1/audit/verify', roles: ['admin', 'committee'], ok: 200 },
  { method: 'get', path: '/api/v1/assets', roles: EVERYONE, ok: 200 },
  {
    method: 'post',
    path: '/api/v1/assets',
    roles: ['finance'],
    ok: 201,
    body: (who) => ({ code: `R-${who}`, name: 'ครุภัณฑ์ทดสอบ', category: 'office' }),
  },
]

const ROLE_TH: Record<Role, string> = {
  staff: 'พนักงาน/ผู้ยืม',
  finance: 'กองคลัง (พัสดุ)',
  executive: 'ผู้บริหาร',
  committee: 'คณะกรรมการ',
  admin: 'ผู้ดูแลระบบ',
}

const CAN_TH: Record<Role, string> = {
  staff: 'ค้นหาครุภัณฑ์ที่ให้ยืม สแกนป้าย ยื่นคำขอยืม และติดตามการยืมของตนเอง',
  finance: 'ดูแลทะเบียนครุภัณฑ์ ตรวจสอบและอนุมัติการยืม ส่งมอบ รับคืน ติดตามทวงคืน และออกรายงาน',
  executive: 'อนุมัติการยืมนอกสถานที่และระหว่างหน่วยงาน และอนุมัติเผยแพร่รายงาน',
  committee: 'ตรวจสอบทะเบียน การยืม บันทึกการตรวจสอบ และรายงาน',
  admin: 'จัดการผู้ใช้ หน่วยงานภายใน หมวดครุภัณฑ์ และการตั้งค่าหน่วยงาน',
}

describe('who may open what (roles)', () => {
  let t: TestApp
  // Read-only requests: one app and one signed-in person per role serve the whole table.
  let agents: Record<Role, supertest.Agent>
  let tokens: Record<Role, string>
  before(async () => {
    t = await createTestApp()
    agents = {} as typeof agents
    tokens = {} as typeof tokens
    // Admin first, so that /admin/users/1 is a real user.
    for (const role of ['admin', 'staff', 'finance', 'executive', 'committee'] as const) {
      const { agent, user } = await signedInAs(t, [role], { username: `only.${role}` })
      agents[role] = agent
      tokens[role] = await apiToken(t.app, user.username, user.password)
    }
  })
  after(() => t.close())

  describe('pages', () => {
    for (const page of PAGES) {
      for (const who of ['anonymous', ...ROLES] as Who[]) {
        const allowed = who !== 'anonymous' && page.roles.includes(who)
        const expected = who === 'anonymous' ? `303 to /login?next=${page.path}` : allowed ? '200' : '403'
        it(`when ${who} opens ${page.path}, then ${expected}`, async () => {
          if (who === 'anonymous') {
            const res = await supertest(t.app).get(page.path)
            expect(res.status).to.equal(303)
            expect(res.headers.location).to.equal(`/login?next=${encodeURIComponent(page.path)}`)
            return
          }
          const res = await agents[who].get(page.path)
          if (allowed) {
            expect(res.status).to.equal(200)
            expect(res.text).to.include('lang="th"')
            return
          }
          expect(res.status).to.equal(403)
          expect(res.text).to.include('ไม่มีสิทธิ์เข้าถึง')
          expect(res.text).to.include(`หน้านี้สำหรับผู้มีบทบาท: ${page.needs}`)
          expect(res.text).to.include(`บทบาทของคุณ: ${ROLE_TH[who]}`)
          expect(res.text).to.include('สิ่งที่คุณทำได้')
          expect(res.text).to.include(CAN_TH[who])
          // Nothing of the admin page leaks into the refusal.
          expect(res.text).to.not.include('<form method="post" action="/admin')
        })
      }
    }

    it('when the anonymous path carries a query, then next= keeps it, encoded', async () => {
      const res = await supertest(t.app).get('/audit?entity=user&action=user.created')
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal(`/login?next=${encodeURIComponent('/audit?entity=user&action=user.created')}`)
    })
  })

  describe('API', () => {
    for (const route of API) {
      for (const who of ['anonymous', ...ROLES] as Who[]) {
        const allowed = who !== 'anonymous' && route.roles.includes(who)
        const expected = who === 'anonymous' ? 401 : allowed ? route.ok : 403
        it(`when ${who} calls ${route.method.toUpperCase()} ${route.path}, then ${expected}`, async () => {
          const req = supertest(t.app)[route.method](route.path)
          if (who !== 'anonymous') req.set('Authorization', `Bearer ${tokens[who]}`)
          const res = route.body ? await req.send(route.body(who === 'anonymous' ? 'staff' : who)) : await req
          expect(res.status).to.equal(expected)
          expect(res.type).to.equal('application/json')
          if (expected === 401) expect((res.body as { error: { code: string } }).error.code).to.equal('unauthenticated')
          if (expected === 403) expect((res.body as { error: { code: string } }).error.code).to.equal('forbidden')
        })
      }
    }
  })
})

describe('done: the first admin sets up users, roles hold, and the audit chain tells the truth', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  it('when the first admin creates a finance and a staff user, then staff is refused admin pages and the API, verify is ok, and a tampered row is named', async () => {
    // The process creates the first admin on an empty database (SPEC §5).
    const first = await ensureFirstAdmin(t.ctx, { username: 'admin', password: 'First-admin-2568' })
    expect(first).to.include({ created: true, username: 'admin' })
    const admin = await signIn(t.app, 'admin', 'First-admin-2568')

    const made: Record<string, number> = {}
    for (const [username, role] of [
      ['kanya.f', 'finance'],
      ['somsak.s', 'staff'],
    ] as const) {
      const page = await admin.get('/admin/users/new').expect(200)
      const res = await admin
        .post('/admin/users')
        .type('form')
        .send(new URLSearchParams({ _csrf: csrfFrom(page.text), username, password: 'Initial-pass-1', name: `ผู้ใช้ ${username}`, roles: role }).toString())
      expect(res.status, username).to.equal(303)
      made[username] = Number(/^\/admin\/users\/(\d+)$/.exec(res.headers.location as string)![1])
    }
    const roles = await query(t.ctx.db).all('SELECT u.username, r.role FROM user_role r JOIN app_user u ON u.id = r.user_id ORDER BY u.username')
    expect(roles).to.deep.equal([
      { username: 'admin', role: 'admin' },
      { username: 'kanya.f', role: 'finance' },
      { username: 'somsak.s', role: 'staff' },
    ])

    // The staff member signs in, must first choose their own password, then meets the limits of the role.
    const staff = await signIn(t.app, 'somsak.s', 'Initial-pass-1')
    const pw = await staff.get('/account/password').expect(200)
    const changed = await staff
      .post('/account/password')
      .type('form')
      .send({ _csrf: csrfFrom(pw.text), currentPassword: 'Initial-pass-1', newPassword: 'Somsak-own-77', confirmPassword: 'Somsak-own-77' })
    expect(changed.status).to.equal(303)
    for (const path of ['/admin/users', '/admin/users/new', '/admin/settings', '/admin/departments', '/audit']) {
      const res = await staff.get(path)
      expect(res.status, path).to.equal(403)
      expect(res.text, path).to.include('หน้านี้สำหรับผู้มีบทบาท')
    }
    const staffToken = await apiToken(t.app, 'somsak.s', 'Somsak-own-77')
    const users = ((await query(t.ctx.db).get('SELECT COUNT(*) AS n FROM app_user')) as { n: number }).n
    const refused = await supertest(t.app)
      .post('/api/v1/users')
      .set('Authorization', `Bearer ${staffToken}`)
      .send({ username: 'sneaky', password: 'Sneaky-pass-1', name: 'แอบสร้าง', roles: ['admin'] })
    expect(refused.status).to.equal(403)
    expect((refused.body as { error: { code: string } }).error.code).to.equal('forbidden')
    expect(((await query(t.ctx.db).get('SELECT COUNT(*) AS n FROM app_user')) as { n: number }).n).to.equal(users)

    // The audit chain verifies, then names the one row altered behind the application.
    const adminToken = await apiToken(t.app, 'admin', 'First-admin-2568')
    const n = ((await query(t.ctx.db).get('SELECT COUNT(*) AS n FROM audit_log')) as { n: number }).n
    const ok = await supertest(t.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${adminToken}`).expect(200)
    expect(ok.body).to.deep.equal({ ok: true, entries: n })

    const target = (await query(t.ctx.db).get("SELECT id FROM audit_log WHERE action = 'user.created' AND entity_id = ?", String(made['somsak.s']))) as {
      id: number
    }
    await query(t.ctx.db).run('UPDATE audit_log SET data = ? WHERE id = ?', JSON.stringify({ username: 'somsak.s', roles: ['admin'] }), target.id)
    const broken = await supertest(t.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${adminToken}`).expect(200)
    expect(broken.body).to.deep.include({ ok: false, brokenAt: target.id })
    const page = await admin.get('/audit').expect(200)
    expect(page.text).to.include(`data-broken-at="${target.id}"`)
  })
})
