import { expect } from 'chai'
import supertest from 'supertest'
import { apiToken, createTestApp, csrfFrom, csrfOf, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { formFields, formsFor } from '../helpers/forms.js'
import { query } from '../helpers/db.js'

/*
 * API tokens live no longer than the credentials they were made with (issue 13, SPEC §5): a
 * password change, an admin's reset and a deactivation revoke them in the same transaction; an
 * account that must change its password gets no token and cannot use one; a token may be given an
 * expiry; an admin can revoke all of a person's tokens.
 */

const DAY = 24 * 60 * 60 * 1000
const PASSWORD_CHANGE_REQUIRED_TH = 'บัญชีนี้ต้องเปลี่ยนรหัสผ่านก่อน'

interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> }
}

type Agent = supertest.Agent

async function count(t: TestApp, table: string, where = '1 = 1', ...args: unknown[]): Promise<number> {
  return ((await query(t.ctx.db).get(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, ...args)) as { n: number }).n
}

async function auditOf(t: TestApp, action: string): Promise<Array<{ actor_label: string; entity: string; entity_id: string; data: string; at: string }>> {
  return (await query(t.ctx.db).all('SELECT actor_label, entity, entity_id, data, at FROM audit_log WHERE action = ? ORDER BY id', action)) as Array<{
    actor_label: string
    entity: string
    entity_id: string
    data: string
    at: string
  }>
}

async function tokenRows(t: TestApp, userId: number): Promise<Array<{ id: number; revoked_at: string | null; expires_at: string | null; created_at: string }>> {
  return (await query(t.ctx.db).all('SELECT id, revoked_at, expires_at, created_at FROM api_token WHERE user_id = ? ORDER BY id', userId)) as Array<{
    id: number
    revoked_at: string | null
    expires_at: string | null
    created_at: string
  }>
}

/** Submits the page's own form for `action` as a browser would, after `change` edits its fields. */
async function submitForm(agent: Agent, page: string, action: string, change: (pairs: Array<[string, string]>) => Array<[string, string]> = (p) => p) {
  const html = (await agent.get(page).expect(200)).text
  const [inner] = formsFor(html, action)
  expect(inner, `a form posting to ${action} on ${page}`).to.be.a('string')
  const pairs = change(formFields(inner!).map((f) => [f.name, f.value] as [string, string]))
  return agent.post(action).type('form').send(new URLSearchParams(pairs).toString())
}

describe('API tokens: their life and death', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  const me = (token: string) => supertest(t.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`)

  async function expectDead(token: string, what: string) {
    const res = await me(token)
    expect(res.status, what).to.equal(401)
    expect((res.body as ErrorBody).error.code, what).to.equal('unauthenticated')
  }

  describe('they die with the credentials', () => {
    it('when a person changes their own password, then every token of theirs is refused 401, revoked at that moment and audited; another person’s token still works', async () => {
      const { agent, user } = await signedInAs(t, ['staff'])
      const other = await makeUser(t.ctx, ['staff'])
      const tokens = [await apiToken(t.app, user.username, user.password), await apiToken(t.app, user.username, user.password)]
      const othersToken = await apiToken(t.app, other.username, other.password)
      for (const tk of tokens) await me(tk).expect(200)

      t.ctx.clock.advance(60_000)
      const res = await submitForm(agent, '/account/password', '/account/password', (p) => [
        ...p.filter(([n]) => n === '_csrf'),
        ['currentPassword', user.password],
        ['newPassword', 'my-own-pass-77'],
        ['confirmPassword', 'my-own-pass-77'],
      ])
      expect(res.status).to.equal(303)

      for (const [i, tk] of tokens.entries()) await expectDead(tk, `token ${i}`)
      await me(othersToken).expect(200)
      const changedAt = ((await query(t.ctx.db).get('SELECT password_changed_at FROM app_user WHERE id = ?', user.id)) as { password_changed_at: string })
        .password_changed_at
      expect((await tokenRows(t, user.id)).map((r) => r.revoked_at)).to.deep.equal([changedAt, changedAt])
      const [entry, ...more] = await auditOf(t, 'token.revoked_all')
      expect(more).to.have.length(0)
      expect(entry!.entity).to.equal('user')
      expect(entry!.entity_id).to.equal(String(user.id))
      expect(entry!.actor_label).to.equal(user.username)
      const data = JSON.parse(entry!.data) as { reason: string; tokens: unknown[] }
      expect(data.reason).to.equal('password_changed')
      expect(data.tokens).to.have.length(2)
      for (const tk of tokens) expect(entry!.data).to.not.include(tk)

      // The page session stays (their own choice); a new token works with the new password.
      await agent.get('/account').expect(200)
      await me(await apiToken(t.app, user.username, 'my-own-pass-77')).expect(200)
    })

    it('when an admin resets a person’s password, then their tokens are refused 401 and stay dead after the person chooses their own password', async () => {
      const { agent: admin, user: adminUser } = await signedInAs(t, ['admin'])
      const staff = await makeUser(t.ctx, ['staff'])
      const token = await apiToken(t.app, staff.username, staff.password)
      await me(token).expect(200)

      const res = await submitForm(admin, `/admin/users/${staff.id}`, `/admin/users/${staff.id}/reset-password`, (p) => [...p, ['password', 'Temporary-2568']])
      expect(res.status).to.equal(303)
      await expectDead(token, 'after the reset')
      const [entry] = await auditOf(t, 'token.revoked_all')
      expect(entry!.actor_label).to.equal(adminUser.username)
      expect(JSON.parse(entry!.data)).to.include({ reason: 'password_reset', username: staff.username })

      const own = await signIn(t.app, staff.username, 'Temporary-2568')
      const changed = await own
        .post('/account/password')
        .type('form')
        .send({
          _csrf: await csrfOf(own, '/account/password'),
          currentPassword: 'Temporary-2568',
          newPassword: 'mine-at-last-42',
          confirmPassword: 'mine-at-last-42',
        })
      expect(changed.status).to.equal(303)
      await expectDead(token, 'after the person’s own password')
    })

    it('when an admin deactivates an account, then its tokens are refused 401, and a reactivation does not bring them back', async () => {
      const { agent: admin } = await signedInAs(t, ['admin'])
      const staff = await makeUser(t.ctx, ['staff'])
      const token = await apiToken(t.app, staff.username, staff.password)
      await me(token).expect(200)

      const off = await submitForm(admin, `/admin/users/${staff.id}`, `/admin/users/${staff.id}`, (p) => p.filter(([n]) => n !== 'active'))
      expect(off.status).to.equal(303)
      await expectDead(token, 'while inactive')
      expect((await tokenRows(t, staff.id))[0]!.revoked_at).to.be.a('string')
      expect(JSON.parse((await auditOf(t, 'token.revoked_all'))[0]!.data)).to.include({ reason: 'deactivated' })

      const on = await submitForm(admin, `/admin/users/${staff.id}`, `/admin/users/${staff.id}`, (p) => [...p.filter(([n]) => n !== 'active'), ['active', '1']])
      expect(on.status).to.equal(303)
      expect(await count(t, 'app_user', 'id = ? AND active = 1', staff.id)).to.equal(1)
      await expectDead(token, 'after the reactivation')
      await me(await apiToken(t.app, staff.username, staff.password)).expect(200)
    })

    it('when a deactivation is refused (the last admin), then nothing of it happens: the admin’s tokens still work and nothing is audited', async () => {
      const { agent, user } = await signedInAs(t, ['admin'])
      const token = await apiToken(t.app, user.username, user.password)
      const audits = await count(t, 'audit_log')
      const res = await submitForm(agent, `/admin/users/${user.id}`, `/admin/users/${user.id}`, (p) => p.filter(([n]) => n !== 'active'))
      expect(res.status).to.equal(409)
      await me(token).expect(200)
      expect((await tokenRows(t, user.id))[0]!.revoked_at).to.equal(null)
      expect(await count(t, 'audit_log')).to.equal(audits)
    })

    it('when a password change or reset finds no live token, then no token entry is audited (only the change itself)', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const staff = await makeUser(t.ctx, ['staff'])
      const res = await submitForm(agent, `/admin/users/${staff.id}`, `/admin/users/${staff.id}/reset-password`)
      expect(res.status).to.equal(303)
      expect(await auditOf(t, 'user.password_reset')).to.have.length(1)
      expect(await auditOf(t, 'token.revoked_all')).to.have.length(0)
    })
  })

  describe('while the account must change its password', () => {
    it('when such an account asks POST /api/v1/tokens with its right password, then 403 password_change_required, no token and no sign-in recorded', async () => {
      const user = await makeUser(t.ctx, ['admin'], { mustChangePassword: true })
      const audits = await count(t, 'audit_log')
      const res = await supertest(t.app).post('/api/v1/tokens').send({ username: user.username, password: user.password })
      expect(res.status).to.equal(403)
      expect((res.body as ErrorBody).error.code).to.equal('password_change_required')
      expect((res.body as ErrorBody).error.message).to.include(PASSWORD_CHANGE_REQUIRED_TH)
      expect(await count(t, 'api_token')).to.equal(0)
      expect(await count(t, 'audit_log')).to.equal(audits)

      const en = await supertest(t.app)
        .post('/api/v1/tokens')
        .set('Accept-Language', 'en')
        .send({ username: user.username, password: user.password, expiresInDays: 30 })
      expect(en.status).to.equal(403)
      expect((en.body as ErrorBody).error.message).to.match(/must change its password/)
    })

    it('when such an account asks with a wrong password, then the same 401 as anyone: the flag is never revealed without the password', async () => {
      const flagged = await makeUser(t.ctx, ['staff'], { mustChangePassword: true })
      const res = await supertest(t.app).post('/api/v1/tokens').send({ username: flagged.username, password: 'wrong-password-1' })
      expect(res.status).to.equal(401)
      expect(res.body).to.deep.equal({ error: { code: 'unauthenticated', message: 'ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง' } })
    })

    it('when a token’s owner must change their password, then the token is refused 403 password_change_required for reads and writes, nothing changes, and once the password is changed the token is dead', async () => {
      const user = await makeUser(t.ctx, ['finance', 'staff'])
      const asset = await makeAsset(t.ctx)
      const token = await apiToken(t.app, user.username, user.password)
      // A token from before the flag was set (an older install, a flag set by hand).
      await query(t.ctx.db).run('UPDATE app_user SET must_change_password = 1 WHERE id = ?', user.id)
      const before = { loans: await count(t, 'loan'), audits: await count(t, 'audit_log') }

      const read = await me(token)
      expect(read.status).to.equal(403)
      expect((read.body as ErrorBody).error).to.deep.equal({ code: 'password_change_required', message: read.body.error.message })
      expect((read.body as ErrorBody).error.message).to.include(PASSWORD_CHANGE_REQUIRED_TH)
      const write = await supertest(t.app)
        .post('/api/v1/loans')
        .set('Authorization', `Bearer ${token}`)
        .send({ assetCodes: [asset.code], purpose: 'ประชุม', place: 'ห้องประชุม', kind: 'in_premises', startDate: '2025-01-15', dueDate: '2025-01-16' })
      expect(write.status).to.equal(403)
      expect((write.body as ErrorBody).error.code).to.equal('password_change_required')
      expect({ loans: await count(t, 'loan'), audits: await count(t, 'audit_log') }).to.deep.equal(before)
      expect((await tokenRows(t, user.id))[0]!.revoked_at).to.equal(null)

      const agent = await signIn(t.app, user.username, user.password)
      const changed = await agent
        .post('/account/password')
        .type('form')
        .send({
          _csrf: await csrfOf(agent, '/account/password'),
          currentPassword: user.password,
          newPassword: 'my-own-pass-77',
          confirmPassword: 'my-own-pass-77',
        })
      expect(changed.status).to.equal(303)
      await expectDead(token, 'after the change')
    })

    it('when an admin creates an account with a temporary password, then it gets no token until its holder has chosen their own', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/users/new').expect(200)
      const created = await agent
        .post('/admin/users')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), username: 'somsri', password: 'temporary-pass-42', name: 'นางสมศรี ใจดี', roles: 'staff' })
      expect(created.status).to.equal(303)
      const first = await supertest(t.app).post('/api/v1/tokens').send({ username: 'somsri', password: 'temporary-pass-42' })
      expect(first.status).to.equal(403)
      expect((first.body as ErrorBody).error.code).to.equal('password_change_required')

      const own = await signIn(t.app, 'somsri', 'temporary-pass-42')
      await own
        .post('/account/password')
        .type('form')
        .send({
          _csrf: await csrfOf(own, '/account/password'),
          currentPassword: 'temporary-pass-42',
          newPassword: 'somsri-own-pass-1',
          confirmPassword: 'somsri-own-pass-1',
        })
        .expect(303)
      await me(await apiToken(t.app, 'somsri', 'somsri-own-pass-1')).expect(200)
    })
  })

  describe('expiry', () => {
    it('when a token is made with expiresInDays 30, then expires_at is 30 days on, it works until then and is refused 401 unauthenticated from that moment', async () => {
      const user = await makeUser(t.ctx, ['staff'])
      const made = t.ctx.clock.now()
      const res = await supertest(t.app).post('/api/v1/tokens').send({ username: user.username, password: user.password, expiresInDays: 30 })
      expect(res.status).to.equal(201)
      const token = (res.body as { token: string }).token
      expect((await tokenRows(t, user.id))[0]!.expires_at).to.equal(new Date(made.getTime() + 30 * DAY).toISOString())
      expect(JSON.parse((await auditOf(t, 'token.issued'))[0]!.data)).to.include({ expiresAt: new Date(made.getTime() + 30 * DAY).toISOString() })

      t.ctx.clock.advance(30 * DAY - 1000)
      await me(token).expect(200)
      t.ctx.clock.advance(1000)
      await expectDead(token, 'at its expiry')
      t.ctx.clock.advance(400 * DAY)
      await expectDead(token, 'long after')
    })

    it('when a token is made without expiresInDays (or with null), then it has no expiry and still works years later', async () => {
      const user = await makeUser(t.ctx, ['staff'])
      const a = await apiToken(t.app, user.username, user.password)
      const b = await supertest(t.app).post('/api/v1/tokens').send({ username: user.username, password: user.password, expiresInDays: null }).expect(201)
      expect((await tokenRows(t, user.id)).map((r) => r.expires_at)).to.deep.equal([null, null])
      t.ctx.clock.advance(5 * 365 * DAY)
      await me(a).expect(200)
      await me((b.body as { token: string }).token).expect(200)
    })

    it('when expiresInDays is 0, 366, "abc", 1.5, -1 or text "30", then 422 validation_failed naming expiresInDays and nothing is written — even before the password is checked', async () => {
      const user = await makeUser(t.ctx, ['staff'])
      const before = { tokens: await count(t, 'api_token'), audits: await count(t, 'audit_log') }
      for (const value of [0, 366, 'abc', 1.5, -1, '30', [30], { days: 30 }]) {
        for (const password of [user.password, 'wrong-password-1']) {
          const res = await supertest(t.app).post('/api/v1/tokens').send({ username: user.username, password, expiresInDays: value })
          const what = `${JSON.stringify(value)} with ${password === user.password ? 'the right' : 'a wrong'} password`
          expect(res.status, what).to.equal(422)
          const err = (res.body as ErrorBody).error
          expect(err.code, what).to.equal('validation_failed')
          expect(
            err.details?.map((d) => d.field),
            what,
          ).to.deep.equal(['expiresInDays'])
          expect(err.details![0]!.message, what).to.match(/[\u0E00-\u0E7F]/)
        }
      }
      expect({ tokens: await count(t, 'api_token'), audits: await count(t, 'audit_log') }).to.deep.equal(before)
      // The edges are allowed.
      for (const days of [1, 365])
        await supertest(t.app).post('/api/v1/tokens').send({ username: user.username, password: user.password, expiresInDays: days }).expect(201)
    })

    it('when a token is made on /account with a life chosen, then the list shows its expiry, "ไม่มีกำหนด" for one without, and "หมดอายุแล้ว" once it has passed', async () => {
      const { agent, user } = await signedInAs(t, ['staff'])
      const page = await agent.get('/account').expect(200)
      const [inner] = formsFor(page.text, '/account/tokens')
      const life = formFields(inner!).find((f) => f.name === 'expiresInDays')
      expect(life, 'a choice of life on the form').to.include({ type: 'enum', value: '90' })
      for (const v of ['30', '90', '365', '']) expect(inner).to.include(`<option value="${v}"`)

      const made = t.ctx.clock.now()
      await submitForm(agent, '/account', '/account/tokens', (p) => [
        ...p.filter(([n]) => n !== 'name' && n !== 'expiresInDays'),
        ['name', 'สามสิบวัน'],
        ['expiresInDays', '30'],
      ]).then((r) => expect(r.status).to.equal(303))
      await submitForm(agent, '/account', '/account/tokens', (p) => [
        ...p.filter(([n]) => n !== 'name' && n !== 'expiresInDays'),
        ['name', 'ถาวร'],
        ['expiresInDays', ''],
      ]).then((r) => expect(r.status).to.equal(303))
      expect((await tokenRows(t, user.id)).map((r) => r.expires_at)).to.deep.equal([new Date(made.getTime() + 30 * DAY).toISOString(), null])

      const listed = await agent.get('/account').expect(200)
      expect(listed.text).to.include(`data-expires="${new Date(made.getTime() + 30 * DAY).toISOString()}"`)
      expect(listed.text).to.include('ไม่มีกำหนด')
      expect(listed.text).to.include('14 ก.พ. 2568') // 30 days after 15 January 2568, in Bangkok
      expect(listed.text).to.not.include('หมดอายุแล้ว')

      t.ctx.clock.advance(31 * DAY)
      // The page session has long timed out by then: a fresh sign-in reads the list.
      const later = await (await signIn(t.app, user.username, user.password)).get('/account').expect(200)
      expect(later.text).to.include('หมดอายุแล้ว')
      expect(formsFor(later.text, `/account/tokens/${(await tokenRows(t, user.id))[0]!.id}/revoke`)).to.have.length(0)
      expect(formsFor(later.text, `/account/tokens/${(await tokenRows(t, user.id))[1]!.id}/revoke`)).to.have.length(1)
    })

    it('when the page is sent a life of 0, 366 or "abc", then 422 with the message beside the choice and no token is made', async () => {
      const { agent } = await signedInAs(t, ['staff'])
      const before = { tokens: await count(t, 'api_token'), audits: await count(t, 'audit_log') }
      for (const v of ['0', '366', 'abc']) {
        const res = await submitForm(agent, '/account', '/account/tokens', (p) => [
          ...p.filter(([n]) => n !== 'name' && n !== 'expiresInDays'),
          ['name', 'ทดสอบ'],
          ['expiresInDays', v],
        ])
        expect(res.status, v).to.equal(422)
        expect(res.text, v).to.include('id="expiresInDays-error"')
        expect(res.text, v).to.include('aria-invalid="true" aria-describedby="expiresInDays-error"')
      }
      expect({ tokens: await count(t, 'api_token'), audits: await count(t, 'audit_log') }).to.deep.equal(before)
    })
  })

  describe('an admin revokes a person’s tokens', () => {
    it('when an admin presses "revoke all API tokens" on the person’s page, then 303 back with a confirmation, every token of theirs is refused 401, others still work, and it is audited', async () => {
      const { agent: admin, user: adminUser } = await signedInAs(t, ['admin'])
      const staff = await makeUser(t.ctx, ['staff'])
      const other = await makeUser(t.ctx, ['staff'])
      const tokens = [await apiToken(t.app, staff.username, staff.password), await apiToken(t.app, staff.username, staff.password)]
      const othersToken = await apiToken(t.app, other.username, other.password)
      const adminToken = await apiToken(t.app, adminUser.username, adminUser.password)

      const page = await admin.get(`/admin/users/${staff.id}`).expect(200)
      expect(page.text).to.include('เพิกถอนโทเคน API ทั้งหมด')
      expect(page.text).to.include('โทเคนที่ยังใช้งานได้: 2 อัน')
      const res = await submitForm(admin, `/admin/users/${staff.id}`, `/admin/users/${staff.id}/revoke-tokens`)
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal(`/admin/users/${staff.id}`)

      const shown = await admin.get(`/admin/users/${staff.id}`).expect(200)
      expect(shown.text).to.include(`เพิกถอนโทเคน API ของ ${staff.username} แล้ว 2 อัน`)
      expect(shown.text).to.include('โทเคนที่ยังใช้งานได้: 0 อัน')
      expect(shown.text).to.include('token.revoked_all')
      for (const [i, tk] of tokens.entries()) await expectDead(tk, `token ${i}`)
      await me(othersToken).expect(200)
      await me(adminToken).expect(200)

      const [entry] = await auditOf(t, 'token.revoked_all')
      expect(entry!.actor_label).to.equal(adminUser.username)
      expect(entry!.entity_id).to.equal(String(staff.id))
      expect(JSON.parse(entry!.data)).to.include({ reason: 'revoked_by_admin', username: staff.username })

      // Pressed again with nothing left: still recorded (a deliberate act), and it says none was revoked.
      await submitForm(admin, `/admin/users/${staff.id}`, `/admin/users/${staff.id}/revoke-tokens`).then((r) => expect(r.status).to.equal(303))
      expect((await admin.get(`/admin/users/${staff.id}`)).text).to.include(`เพิกถอนโทเคน API ของ ${staff.username} แล้ว 0 อัน`)
      expect(await auditOf(t, 'token.revoked_all')).to.have.length(2)
    })

    it('when the revocation is posted without a valid _csrf, then 403 and the tokens keep working', async () => {
      const { agent: admin } = await signedInAs(t, ['admin'])
      const staff = await makeUser(t.ctx, ['staff'])
      const token = await apiToken(t.app, staff.username, staff.password)
      const res = await admin.post(`/admin/users/${staff.id}/revoke-tokens`).type('form').send({ _csrf: 'forged' })
      expect(res.status).to.equal(403)
      await me(token).expect(200)
      expect(await auditOf(t, 'token.revoked_all')).to.have.length(0)
    })

    it('when a non-admin posts the revocation, then 403 and the tokens keep working; an unknown person is 404', async () => {
      const { agent: finance } = await signedInAs(t, ['finance', 'executive', 'committee', 'staff'])
      const staff = await makeUser(t.ctx, ['staff'])
      const token = await apiToken(t.app, staff.username, staff.password)
      const res = await finance
        .post(`/admin/users/${staff.id}/revoke-tokens`)
        .type('form')
        .send({ _csrf: await csrfOf(finance) })
      expect(res.status).to.equal(403)
      await me(token).expect(200)

      const { agent: admin } = await signedInAs(t, ['admin'])
      const missing = await admin
        .post('/admin/users/999999/revoke-tokens')
        .type('form')
        .send({ _csrf: await csrfOf(admin) })
      expect(missing.status).to.equal(404)
      expect(await auditOf(t, 'token.revoked_all')).to.have.length(0)
    })
  })
})
