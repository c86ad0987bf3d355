import { expect } from 'chai'
import { pino } from 'pino'
import supertest from 'supertest'
import { csrfFrom, csrfOf, createTestApp, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser, TEST_PASSWORD } from '../helpers/builders.js'

const INVALID_TH = 'ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง'

function setCookies(res: supertest.Response): string[] {
  const h: unknown = res.headers['set-cookie']
  return Array.isArray(h) ? (h as string[]) : typeof h === 'string' ? [h] : []
}

/** The value of a cookie set by a response (still URL-encoded, as a browser would send it back). */
function cookieValue(res: supertest.Response, name: string): string | undefined {
  for (const c of setCookies(res)) {
    const m = new RegExp(`^${name.replace('.', '\\.')}=([^;]*)`).exec(c)
    if (m) return m[1]
  }
  return undefined
}

async function auditRows(t: TestApp) {
  return t.ctx.db.selectFrom('audit_log').selectAll().orderBy('id').execute()
}

/** Posts the sign-in form from a fresh anonymous agent. */
async function postLogin(t: TestApp, body: { username: string; password: string; next?: string }, agent = supertest.agent(t.app)) {
  const page = await agent.get('/login').expect(200)
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), next: '/', ...body })
  return { agent, res }
}

describe('http: sign-in and sessions', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  describe('sign-in page', () => {
    it('when an anonymous person opens /login, then a Thai sign-in form with a CSRF field is shown', async () => {
      const res = await supertest(t.app).get('/login').expect(200)
      expect(res.headers['content-type']).to.match(/^text\/html/)
      expect(res.text).to.include('<html lang="th">')
      expect(res.text).to.include('เข้าสู่ระบบ')
      expect(res.text).to.match(/<form method="post" action="\/login"/)
      expect(csrfFrom(res.text)).to.have.length.greaterThan(10)
      expect(res.text).to.match(/name="username"/)
      expect(res.text).to.match(/name="password" type="password"/)
    })

    it('when the sign-in page is opened with ?next=, then the form carries that next path', async () => {
      const res = await supertest(t.app)
        .get(`/login?next=${encodeURIComponent('/admin/users')}`)
        .expect(200)
      expect(res.text).to.include('name="next" value="/admin/users"')
    })
  })

  describe('signing in', () => {
    it('when the username and password are right, then 303 to next and one auth.signed_in audit entry', async () => {
      const user = await makeUser(t.ctx, ['admin'])
      const before = await auditRows(t)
      const { agent, res } = await postLogin(t, { username: user.username, password: user.password, next: '/account' })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/account')
      const after = await auditRows(t)
      expect(after.length).to.equal(before.length + 1)
      const entry = after[after.length - 1]!
      expect(entry.action).to.equal('auth.signed_in')
      expect(entry.actor_id).to.equal(user.id)
      expect(entry.entity_id).to.equal(String(user.id))
      await agent.get('/account').expect(200)
    })

    it('when the username differs only in case and spaces, then the person still signs in', async () => {
      const user = await makeUser(t.ctx, ['staff'])
      const { res } = await postLogin(t, { username: `  ${user.username.toUpperCase()} `, password: user.password })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/')
    })

    it('when the password is wrong, the user unknown or the account deactivated, then the same 401 page and nothing in the audit log', async () => {
      const wrong = await makeUser(t.ctx, ['staff'])
      const inactive = await makeUser(t.ctx, ['staff'])
      await t.ctx.db.updateTable('app_user').set({ active: 0 }).where('id', '=', inactive.id).execute()
      const before = await auditRows(t)

      const agent = supertest.agent(t.app)
      const loginPage = await agent.get('/login').expect(200)
      const token = csrfFrom(loginPage.text)
      const sid = cookieValue(loginPage, 'yk.sid')
      const attempts = [
        { username: wrong.username, password: 'not-the-password-1' },
        { username: 'nobody-here', password: TEST_PASSWORD },
        { username: inactive.username, password: inactive.password },
      ]
      const bodies: string[] = []
      for (const a of attempts) {
        const res = await agent
          .post('/login')
          .type('form')
          .send({ _csrf: token, next: '/', ...a })
        expect(res.status, a.username).to.equal(401)
        expect(res.text, a.username).to.include(INVALID_TH)
        expect(res.text, a.username).to.include('<html lang="th">')
        const again = cookieValue(res, 'yk.sid')
        if (again !== undefined) expect(again, 'no new session id on failure').to.equal(sid)
        // The page echoes the username back into the form; apart from that the three answers must be identical.
        bodies.push(res.text.split(`value="${a.username}"`).join('value="?"'))
      }
      expect(bodies[1]).to.equal(bodies[0])
      expect(bodies[2]).to.equal(bodies[0])
      expect(await auditRows(t)).to.deep.equal(before)
      // Still anonymous.
      const home = await agent.get('/').expect(303)
      expect(home.headers.location).to.match(/^\/login/)
    })

    it('when a sign-in fails, then it goes to the ordinary log without the password', async () => {
      const lines: string[] = []
      t.ctx.logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) })
      const user = await makeUser(t.ctx, ['staff'])
      const { res } = await postLogin(t, { username: user.username, password: 'secret-guess-42' })
      expect(res.status).to.equal(401)
      const log = lines.join('\n')
      expect(log).to.include('sign-in failed')
      expect(log).to.include(user.username)
      expect(log).to.not.include('secret-guess-42')
    })
  })

  describe('?next= after sign-in', () => {
    const hostile = [
      '//evil.example',
      '//evil.example/path',
      'https://evil.example',
      'http://evil.example/',
      '/\\evil.example',
      '\\\\evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      ' //evil.example',
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      '%2F%2Fevil.example',
      '%2f%2fevil.example',
      'evil.example',
      '',
      // Encoded once more: harmless to a browser, but not to whatever decodes the path again.
      '/%2F%2Fevil.example',
      '/%2f%2fevil.example',
      '/%5Cevil.example',
      '/%5C%5Cevil.example',
      '/%252F%252Fevil.example',
      '/%09/evil.example',
      '/%0A/evil.example',
      '/%2Fevil.example',
      '/%6Cogout',
      '/%zz',
      'javascript:alert(1)//',
      '/\\evil.example',
    ]

    for (const next of hostile) {
      it(`when next is ${JSON.stringify(next)} on the form, then the person lands on /`, async () => {
        const user = await makeUser(t.ctx, ['staff'])
        const { res } = await postLogin(t, { username: user.username, password: user.password, next })
        expect(res.status).to.equal(303)
        expect(res.headers.location).to.equal('/')
      })
    }

    it('when a hostile next arrives in the query string (encoded), then the form and the redirect of a signed-in person use /', async () => {
      const { agent } = await signedInAs(t, ['staff'])
      for (const next of ['//evil.example', 'https://evil.example', '/\\evil', 'javascript:alert(1)', '/\t/evil.example']) {
        const anon = await supertest(t.app)
          .get(`/login?next=${encodeURIComponent(next)}`)
          .expect(200)
        expect(anon.text, next).to.include('name="next" value="/"')
        const res = await agent.get(`/login?next=${encodeURIComponent(next)}`)
        expect(res.status, next).to.equal(303)
        expect(res.headers.location, next).to.equal('/')
      }
      // Raw, unencoded forms in the query string too.
      for (const raw of [
        '//evil.example',
        '/%5Cevil.example',
        '%2F%2Fevil.example',
        'https:%2F%2Fevil.example',
        '/%252F%252Fevil.example',
        '%2F%5Cevil.example',
      ]) {
        const res = await agent.get(`/login?next=${raw}`)
        expect(res.status, raw).to.equal(303)
        expect(res.headers.location, raw).to.equal('/')
      }
    })

    it('when next is a same-site path with a Thai query, then the person is brought back to it', async () => {
      const user = await makeUser(t.ctx, ['admin'])
      const { agent, res } = await postLogin(t, { username: user.username, password: user.password, next: '/admin/users?q=ก' })
      expect(res.status).to.equal(303)
      expect(decodeURIComponent(res.headers.location as string)).to.equal('/admin/users?q=ก')
      expect(res.headers.location).to.equal(`/admin/users?q=${encodeURIComponent('ก')}`)
      await agent.get(res.headers.location as string).expect(200)
    })

    it('when next is a QR path whose asset code holds an encoded slash, then the person is brought back to it', async () => {
      const user = await makeUser(t.ctx, ['staff'])
      const { res } = await postLogin(t, { username: user.username, password: user.password, next: '/q/416%2F66-0001' })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/q/416%2F66-0001')
    })

    it('when next points back at /login or /logout, then the person lands on / instead of a loop', async () => {
      const user = await makeUser(t.ctx, ['staff'])
      for (const next of ['/login', '/login?next=/admin', '/logout']) {
        const { res } = await postLogin(t, { username: user.username, password: user.password, next })
        expect(res.headers.location, next).to.equal('/')
      }
    })
  })

  describe('sessions', () => {
    it('when a person signs in, then the yk.sid cookie gets a new value and the old one is worth nothing', async () => {
      const user = await makeUser(t.ctx, ['staff'])
      const agent = supertest.agent(t.app)
      const page = await agent.get('/login').expect(200)
      const planted = cookieValue(page, 'yk.sid')
      expect(planted, 'the sign-in page starts a session (for its CSRF token)').to.be.a('string')
      const res = await agent
        .post('/login')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), username: user.username, password: user.password, next: '/' })
      expect(res.status).to.equal(303)
      const fresh = cookieValue(res, 'yk.sid')
      expect(fresh).to.be.a('string')
      expect(fresh).to.not.equal(planted)

      const withOld = await supertest(t.app).get('/').set('Cookie', `yk.sid=${planted}`)
      expect(withOld.status).to.equal(303)
      expect(withOld.headers.location).to.equal('/login?next=%2F')
      await supertest(t.app).get('/').set('Cookie', `yk.sid=${fresh}`).expect(200)
    })

    it('when a person signs out, then the session is destroyed and the old cookie no longer reaches /', async () => {
      const user = await makeUser(t.ctx, ['staff'])
      const { agent, res: signedIn } = await postLogin(t, { username: user.username, password: user.password })
      const cookie = cookieValue(signedIn, 'yk.sid')!
      await supertest(t.app).get('/').set('Cookie', `yk.sid=${cookie}`).expect(200)

      const token = await csrfOf(agent, '/')
      const out = await agent.post('/logout').type('form').send({ _csrf: token })
      expect(out.status).to.equal(303)
      expect(out.headers.location).to.match(/^\/login/)
      expect(
        setCookies(out).some((c) => /^yk\.sid=;/.test(c) && /Expires=Thu, 01 Jan 1970/.test(c)),
        'the cookie is cleared',
      ).to.equal(true)

      const rows = await t.ctx.db.selectFrom('session').select('sid').where('user_id', '=', user.id).execute()
      expect(rows).to.have.length(0)
      const replay = await supertest(t.app).get('/').set('Cookie', `yk.sid=${cookie}`)
      expect(replay.status).to.equal(303)
      expect(replay.headers.location).to.equal('/login?next=%2F')
    })

    it('when an anonymous person opens a protected page, then 303 to /login?next=<the path>, and signing in brings them back', async () => {
      const user = await makeUser(t.ctx, ['admin'])
      const path = `/admin/users?q=${encodeURIComponent('ก')}&role=admin`
      const anon = supertest.agent(t.app)
      const res = await anon.get(path)
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`)
      for (const p of ['/', '/account', '/account/password', '/admin/settings', '/audit']) {
        const r = await supertest(t.app).get(p)
        expect(r.status, p).to.equal(303)
        expect(r.headers.location, p).to.equal(`/login?next=${encodeURIComponent(p)}`)
      }

      const page = await anon.get(res.headers.location as string).expect(200)
      const next = /name="next" value="([^"]*)"/.exec(page.text)?.[1]
      expect(next?.replace(/&amp;/g, '&')).to.equal(path)
      const signedIn = await anon
        .post('/login')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), username: user.username, password: user.password, next: next!.replace(/&amp;/g, '&') })
      expect(signedIn.status).to.equal(303)
      expect(signedIn.headers.location).to.equal(path)
    })

    it('when an anonymous person posts to a protected form, then 303 to /login (no next for a POST)', async () => {
      const agent = supertest.agent(t.app)
      const token = csrfFrom((await agent.get('/login')).text)
      const res = await agent.post('/account/tokens').type('form').send({ _csrf: token, name: 'x' })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/login')
    })
  })

  describe('must change password', () => {
    it('when the account must change its password, then every page sends it to /account/password until it does', async () => {
      const user = await makeUser(t.ctx, ['admin'], { mustChangePassword: true })
      const { agent, res } = await postLogin(t, { username: user.username, password: user.password, next: '/admin/users' })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/account/password')

      for (const p of ['/', '/account', '/admin/users', '/admin/settings', '/audit', '/login', '/no-such-page']) {
        const r = await agent.get(p)
        expect(r.status, p).to.equal(303)
        expect(r.headers.location, p).to.equal('/account/password')
      }
      const page = await agent.get('/account/password').expect(200)
      expect(page.text).to.include('กรุณาตั้งรหัสผ่านใหม่ของคุณก่อนใช้งาน')
      const token = csrfFrom(page.text)

      const sneak = await agent.post('/account/tokens').type('form').send({ _csrf: token, name: 'sneaky' })
      expect(sneak.status).to.equal(303)
      expect(sneak.headers.location).to.equal('/account/password')
      expect(await t.ctx.db.selectFrom('api_token').selectAll().execute()).to.have.length(0)

      const changed = await agent
        .post('/account/password')
        .type('form')
        .send({ _csrf: token, currentPassword: user.password, newPassword: 'my-own-pass-77', confirmPassword: 'my-own-pass-77' })
      expect(changed.status).to.equal(303)
      expect(changed.headers.location).to.equal('/account')
      await agent.get('/').expect(200)
      await agent.get('/admin/users').expect(200)
      const row = await t.ctx.db.selectFrom('app_user').select('must_change_password').where('id', '=', user.id).executeTakeFirstOrThrow()
      expect(row.must_change_password).to.equal(0)
    })

    it('when the account must change its password, then it can still sign out', async () => {
      const user = await makeUser(t.ctx, ['staff'], { mustChangePassword: true })
      const agent = await signIn(t.app, user.username, user.password)
      const token = await csrfOf(agent, '/account/password')
      const out = await agent.post('/logout').type('form').send({ _csrf: token })
      expect(out.status).to.equal(303)
      expect(out.headers.location).to.match(/^\/login/)
      const after = await agent.get('/')
      expect(after.headers.location).to.equal('/login?next=%2F')
    })
  })

  describe('password change', () => {
    it('when the current password is wrong, then 422 with the message and the password stays', async () => {
      const { agent, user } = await signedInAs(t, ['staff'])
      const token = await csrfOf(agent, '/account/password')
      const res = await agent
        .post('/account/password')
        .type('form')
        .send({ _csrf: token, currentPassword: 'wrong-current-1', newPassword: 'brand-new-pass-1', confirmPassword: 'brand-new-pass-1' })
      expect(res.status).to.equal(422)
      expect(res.text).to.include('รหัสผ่านปัจจุบันไม่ถูกต้อง')
      expect(res.text).to.include('<html lang="th">')
      await signIn(t.app, user.username, user.password)
    })

    it('when the two new passwords differ, then 422 with the message and the password stays', async () => {
      const { agent, user } = await signedInAs(t, ['staff'])
      const token = await csrfOf(agent, '/account/password')
      const res = await agent
        .post('/account/password')
        .type('form')
        .send({ _csrf: token, currentPassword: user.password, newPassword: 'brand-new-pass-1', confirmPassword: 'brand-new-pass-2' })
      expect(res.status).to.equal(422)
      expect(res.text).to.include('รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน')
      await signIn(t.app, user.username, user.password)
    })

    it('when the new password is too short, then 422 with the message', async () => {
      const { agent, user } = await signedInAs(t, ['staff'])
      const token = await csrfOf(agent, '/account/password')
      const res = await agent
        .post('/account/password')
        .type('form')
        .send({ _csrf: token, currentPassword: user.password, newPassword: 'short', confirmPassword: 'short' })
      expect(res.status).to.equal(422)
      expect(res.text).to.include('รหัสผ่านต้องยาวอย่างน้อย ๘ ตัวอักษร')
    })

    it('when the password is changed, then the other sessions of that user end and this one stays', async () => {
      const { agent, user } = await signedInAs(t, ['staff'])
      const other = await signIn(t.app, user.username, user.password)
      const bystander = await signedInAs(t, ['staff'])
      await other.get('/').expect(200)

      const token = await csrfOf(agent, '/account/password')
      const res = await agent
        .post('/account/password')
        .type('form')
        .send({ _csrf: token, currentPassword: user.password, newPassword: 'brand-new-pass-1', confirmPassword: 'brand-new-pass-1' })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/account')

      const account = await agent.get('/account').expect(200)
      expect(account.text).to.include('เปลี่ยนรหัสผ่านแล้ว')
      const gone = await other.get('/')
      expect(gone.status).to.equal(303)
      expect(gone.headers.location).to.equal('/login?next=%2F')
      await bystander.agent.get('/').expect(200)

      const { res: oldPw } = await postLogin(t, { username: user.username, password: user.password })
      expect(oldPw.status).to.equal(401)
      await signIn(t.app, user.username, 'brand-new-pass-1')
      const audit = await auditRows(t)
      expect(audit.some((r) => r.action === 'user.password_changed' && r.entity_id === String(user.id))).to.equal(true)
    })
  })

  describe('deactivation', () => {
    it('when an admin deactivates a user, then that user is signed out everywhere', async () => {
      const admin = await signedInAs(t, ['admin'])
      const { agent, user } = await signedInAs(t, ['staff'])
      const second = await signIn(t.app, user.username, user.password)
      await agent.get('/').expect(200)

      const token = await csrfOf(admin.agent, `/admin/users/${user.id}`)
      const res = await admin.agent.post(`/admin/users/${user.id}`).type('form').send({
        _csrf: token,
        name: user.name,
        position: user.position,
        phone: '',
        departmentId: '',
        borrowerType: 'employee',
        locale: 'th',
        roles: 'staff',
        // no "active": the checkbox is cleared
      })
      expect(res.status).to.equal(303)

      const rows = await t.ctx.db.selectFrom('session').select('sid').where('user_id', '=', user.id).execute()
      expect(rows, 'the sessions rows are gone').to.have.length(0)
      for (const a of [agent, second]) {
        const r = await a.get('/')
        expect(r.status).to.equal(303)
        expect(r.headers.location).to.equal('/login?next=%2F')
      }
      await admin.agent.get('/').expect(200)
      const { res: again } = await postLogin(t, { username: user.username, password: user.password })
      expect(again.status).to.equal(401)
      expect(again.text).to.include(INVALID_TH)
    })
  })

  describe('language switch', () => {
    it('when an anonymous person chooses English and then Thai, then the sign-in page follows', async () => {
      const agent = supertest.agent(t.app)
      const page = await agent.get('/login').expect(200)
      expect(page.text).to.include('<html lang="th">')
      const en = await agent
        .post('/language')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), locale: 'en', next: '/login' })
      expect(en.status).to.equal(303)
      expect(en.headers.location).to.equal('/login')
      expect(setCookies(en).some((c) => c.startsWith('lang=en;'))).to.equal(true)

      const english = await agent.get('/login').expect(200)
      expect(english.text).to.include('<html lang="en">')
      expect(english.text).to.include('Sign in')
      expect(english.text).to.not.include('ชื่อผู้ใช้</label>')

      const th = await agent
        .post('/language')
        .type('form')
        .send({ _csrf: csrfFrom(english.text), locale: 'th', next: '/login' })
      expect(th.status).to.equal(303)
      const thai = await agent.get('/login').expect(200)
      expect(thai.text).to.include('<html lang="th">')
      expect(thai.text).to.include('ชื่อผู้ใช้')
    })

    it('when an anonymous English reader fails to sign in, then the message is in English', async () => {
      const page = await supertest(t.app).get('/login').set('Cookie', 'lang=en').expect(200)
      expect(page.text).to.include('<html lang="en">')
      const sid = cookieValue(page, 'yk.sid')
      const failed = await supertest(t.app)
        .post('/login')
        .set('Cookie', `lang=en; yk.sid=${sid}`)
        .type('form')
        .send({ _csrf: csrfFrom(page.text), username: 'nobody', password: 'x-x-x-x-x', next: '/' })
      expect(failed.status).to.equal(401)
      expect(failed.text).to.include('Wrong username or password')
    })

    it('when a signed-in person chooses English, then it is saved in their profile and follows them to a new session; Thai switches back', async () => {
      const { agent, user } = await signedInAs(t, ['staff'])
      const token = await csrfOf(agent, '/account')
      const res = await agent.post('/language').type('form').send({ _csrf: token, locale: 'en', next: '/account' })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/account')
      const page = await agent.get('/account').expect(200)
      expect(page.text).to.include('<html lang="en">')
      expect(page.text).to.include('My account')
      const row = await t.ctx.db.selectFrom('app_user').select('locale').where('id', '=', user.id).executeTakeFirstOrThrow()
      expect(row.locale).to.equal('en')

      // A new session on another computer (no lang cookie) is English too.
      const elsewhere = await signIn(t.app, user.username, user.password)
      expect((await elsewhere.get('/account').expect(200)).text).to.include('<html lang="en">')

      const back = await agent
        .post('/language')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), locale: 'th', next: '/account' })
      expect(back.status).to.equal(303)
      const thai = await agent.get('/account').expect(200)
      expect(thai.text).to.include('<html lang="th">')
      expect(thai.text).to.include('บัญชีของฉัน')
    })

    it('when the language is switched on a sign-in page with ?next=, then that next survives the switch', async () => {
      const agent = supertest.agent(t.app)
      const page = await agent.get(`/login?next=${encodeURIComponent('/admin/users')}`).expect(200)
      const langNext = /action="\/language"[\s\S]*?name="next" value="([^"]*)"/.exec(page.text)?.[1]
      expect(langNext).to.be.a('string')
      const res = await agent
        .post('/language')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), locale: 'en', next: langNext!.replace(/&amp;/g, '&') })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal(`/login?next=${encodeURIComponent('/admin/users')}`)
      const english = await agent.get(res.headers.location as string).expect(200)
      expect(english.text).to.include('<html lang="en">')
      expect(english.text).to.include('name="next" value="/admin/users"')
    })

    it('when the language form carries a hostile next, then it goes to /', async () => {
      const agent = supertest.agent(t.app)
      const page = await agent.get('/login')
      const res = await agent
        .post('/language')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), locale: 'en', next: '//evil.example' })
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/')
    })
  })
})
