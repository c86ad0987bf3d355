import { expect } from 'chai'
import supertest from 'supertest'
import { apiToken, csrfFrom, csrfOf, createTestApp, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { query } from '../helpers/db.js'

function setCookies(res: supertest.Response): string[] {
  const h: unknown = res.headers['set-cookie']
  return Array.isArray(h) ? (h as string[]) : typeof h === 'string' ? [h] : []
}

function cookieNamed(res: supertest.Response, name: string): string | undefined {
  return setCookies(res).find((c) => c.startsWith(`${name}=`))
}

/** The cookie's attributes, lower-cased names → values ('' for flags). */
function attributes(cookie: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of cookie.split(';').slice(1)) {
    const [k, ...v] = part.trim().split('=')
    out.set(k!.toLowerCase(), v.join('='))
  }
  return out
}

function cspDirectives(res: supertest.Response): Map<string, string[]> {
  const header = res.headers['content-security-policy'] as string | undefined
  expect(header, 'a Content-Security-Policy header').to.be.a('string')
  const out = new Map<string, string[]>()
  for (const d of header!.split(';')) {
    const [name, ...values] = d.trim().split(/\s+/)
    if (name) out.set(name.toLowerCase(), values)
  }
  return out
}

/** Everything a forged POST could change, read straight from the tables (each table's rows in one order on either database). */
async function snapshot(t: TestApp): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const table of ['app_user', 'user_role', 'api_token', 'department', 'setting', 'audit_log']) {
    out[table] = (await query(t.ctx.db).all(`SELECT * FROM ${table}`)).map((r) => JSON.stringify(r)).sort()
  }
  return out
}

/**
 * The cookie's lifetime in seconds: Max-Age when present, else Expires measured from the response's
 * Date header (express-session writes Expires only).
 */
function lifetimeSeconds(res: supertest.Response, cookie: string): number {
  const a = attributes(cookie)
  const maxAge = a.get('max-age')
  if (maxAge !== undefined) return Number(maxAge)
  const expires = a.get('expires')
  expect(expires, 'the cookie has Max-Age or Expires').to.be.a('string')
  const date = Date.parse(res.headers.date as string)
  return Math.round((Date.parse(expires!) - date) / 1000)
}

const RATE_LIMITED_TH = 'มีการพยายามเข้าสู่ระบบมากเกินไป'

describe('http: security', () => {
  let t: TestApp
  afterEach(() => t.close())

  describe('session cookie', () => {
    it('when the session cookie is set over plain HTTP, then it is HttpOnly, SameSite=Lax, Path=/ and not Secure', async () => {
      t = await createTestApp()
      const res = await supertest(t.app).get('/login').expect(200)
      const cookie = cookieNamed(res, 'yk.sid')
      expect(cookie, 'yk.sid is set').to.be.a('string')
      const a = attributes(cookie!)
      expect(a.has('httponly')).to.equal(true)
      expect(a.get('samesite')).to.equal('Lax')
      expect(a.get('path')).to.equal('/')
      expect(a.has('secure')).to.equal(false)
      expect(a.has('domain'), 'host-only').to.equal(false)
    })

    it('when a person signs in over plain HTTP, then the signed-in cookie is HttpOnly, SameSite=Lax and not Secure', async () => {
      t = await createTestApp()
      const user = await makeUser(t.ctx, ['staff'])
      const agent = supertest.agent(t.app)
      const page = await agent.get('/login')
      const res = await agent
        .post('/login')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), username: user.username, password: user.password, next: '/' })
      expect(res.status).to.equal(303)
      const a = attributes(cookieNamed(res, 'yk.sid')!)
      expect(a.has('httponly')).to.equal(true)
      expect(a.get('samesite')).to.equal('Lax')
      expect(a.has('secure')).to.equal(false)
    })

    it('when TRUST_PROXY=1 and the proxy says HTTPS, then the cookies are Secure; without the proxy header they are not', async () => {
      t = await createTestApp({ env: { TRUST_PROXY: '1' } })
      const https = await supertest(t.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200)
      const a = attributes(cookieNamed(https, 'yk.sid')!)
      expect(a.has('secure')).to.equal(true)
      expect(a.has('httponly')).to.equal(true)
      expect(a.get('samesite')).to.equal('Lax')

      const lang = await supertest(t.app)
        .post('/language')
        .set('X-Forwarded-Proto', 'https')
        .set('Cookie', `yk.sid=${/^yk\.sid=([^;]*)/.exec(cookieNamed(https, 'yk.sid')!)![1]}`)
        .type('form')
        .send({ _csrf: csrfFrom(https.text), locale: 'en', next: '/login' })
      expect(lang.status).to.equal(303)
      expect(attributes(cookieNamed(lang, 'lang')!).has('secure'), 'the lang cookie is Secure over HTTPS').to.equal(true)

      const plain = await supertest(t.app).get('/login').expect(200)
      expect(attributes(cookieNamed(plain, 'yk.sid')!).has('secure')).to.equal(false)
    })

    it('when TRUST_PROXY is not set, then an X-Forwarded-Proto header does not make the cookie Secure', async () => {
      t = await createTestApp()
      const res = await supertest(t.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200)
      expect(attributes(cookieNamed(res, 'yk.sid')!).has('secure')).to.equal(false)
    })
  })

  describe('idle timeout', () => {
    it('when SESSION_IDLE_MINUTES is 20, then the session cookie lives 1200 seconds and the page says 20 minutes', async () => {
      t = await createTestApp({ env: { SESSION_IDLE_MINUTES: '20' } })
      const res = await supertest(t.app).get('/login').expect(200)
      expect(lifetimeSeconds(res, cookieNamed(res, 'yk.sid')!)).to.be.within(1199, 1201)
      expect(res.text).to.include('20 นาที')
    })

    it('when SESSION_IDLE_MINUTES is not set, then the session cookie lives 30 minutes, restarted by each request', async () => {
      t = await createTestApp()
      const { agent } = await signedInAs(t, ['staff'])
      const res = await agent.get('/').expect(200)
      const cookie = cookieNamed(res, 'yk.sid')
      expect(cookie, 'a rolling session re-sends its cookie').to.be.a('string')
      expect(lifetimeSeconds(res, cookie!)).to.be.within(1799, 1801)
    })

    it('when a signed-in person makes several requests within a minute, then the cookie is re-sent once, and again with a full lifetime once the minute has passed', async () => {
      t = await createTestApp()
      const { agent } = await signedInAs(t, ['staff'])
      t.ctx.clock.advance(60_000)
      const first = await agent.get('/').expect(200)
      expect(cookieNamed(first, 'yk.sid'), 'first request of the minute').to.be.a('string')
      const second = await agent.get('/account').expect(200)
      expect(cookieNamed(second, 'yk.sid'), 'same minute: no new cookie (no signature to compute)').to.equal(undefined)
      t.ctx.clock.advance(61_000)
      const later = await agent.get('/').expect(200)
      const cookie = cookieNamed(later, 'yk.sid')
      expect(cookie, 'a minute later').to.be.a('string')
      expect(lifetimeSeconds(later, cookie!)).to.be.within(1799, 1801)
    })

    it('when a signed-in person is idle longer than the timeout, then the session is over; activity within it keeps it alive', async () => {
      t = await createTestApp({ env: { SESSION_IDLE_MINUTES: '20' } })
      const { agent, user } = await signedInAs(t, ['staff'])
      // Each request restarts the idle time: 3 × 15 minutes of activity is fine.
      for (let i = 0; i < 3; i++) {
        t.ctx.clock.advance(15 * 60_000)
        await agent.get('/').expect(200)
      }
      const row = await t.ctx.db.selectFrom('session').select('expires_at').where('user_id', '=', user.id).executeTakeFirstOrThrow()
      expect(row.expires_at).to.equal(t.ctx.clock.now().getTime() + 20 * 60_000)

      t.ctx.clock.advance(20 * 60_000 + 1000)
      const res = await agent.get('/')
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/login?next=%2F')
    })

    it('when the session row has expired in the database, then the person is signed out', async () => {
      t = await createTestApp()
      const { agent, user } = await signedInAs(t, ['staff'])
      await agent.get('/').expect(200)
      await t.ctx.db
        .updateTable('session')
        .set({ expires_at: t.ctx.clock.now().getTime() - 1 })
        .where('user_id', '=', user.id)
        .execute()
      const res = await agent.get('/account')
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/login?next=%2Faccount')
    })
  })

  describe('caching', () => {
    it('when a signed-in page or the sign-in page is served, then Cache-Control is no-store', async () => {
      t = await createTestApp()
      const login = await supertest(t.app).get('/login').expect(200)
      expect(login.headers['cache-control']).to.include('no-store')
      const { agent } = await signedInAs(t, ['admin'])
      for (const p of ['/', '/account', '/account/password', '/admin/users', '/admin/settings', '/audit']) {
        const res = await agent.get(p).expect(200)
        expect(res.headers['cache-control'], p).to.include('no-store')
      }
      const notFound = await agent.get('/no-such-page').expect(404)
      expect(notFound.headers['cache-control']).to.include('no-store')
    })

    it('when the style sheet is served, then it is not no-store', async () => {
      t = await createTestApp()
      const res = await supertest(t.app).get('/css/app.css').expect(200)
      expect(res.headers['content-type']).to.match(/^text\/css/)
      expect(res.headers['cache-control'] ?? '').to.not.include('no-store')
    })
  })

  describe('CSRF', () => {
    interface Case {
      path: string
      body: Record<string, string>
      /** Anonymous forms (sign-in, language) are posted by an anonymous agent. */
      anonymous?: boolean
    }

    async function setUp() {
      t = await createTestApp()
      const admin = await signedInAs(t, ['admin'])
      const target = await makeUser(t.ctx, ['staff'])
      const foreignToken = csrfFrom((await supertest(t.app).get('/login')).text)
      const cases: Case[] = [
        { path: '/login', anonymous: true, body: { username: target.username, password: target.password, next: '/' } },
        { path: '/language', anonymous: true, body: { locale: 'en', next: '/' } },
        { path: '/logout', body: {} },
        { path: '/language', body: { locale: 'en', next: '/' } },
        { path: '/account/password', body: { currentPassword: admin.user.password, newPassword: 'forged-pass-123', confirmPassword: 'forged-pass-123' } },
        { path: '/account/tokens', body: { name: 'forged' } },
        {
          path: '/admin/users',
          body: { username: 'forged1', password: 'forged-pass-123', name: 'ปลอม', roles: 'admin', borrowerType: 'employee', locale: 'th' },
        },
        { path: `/admin/users/${target.id}`, body: { name: 'ปลอม', roles: 'admin', borrowerType: 'employee', locale: 'th' } },
        { path: `/admin/users/${target.id}/reset-password`, body: { password: 'forged-pass-123' } },
        { path: '/admin/departments', body: { code: 'forged', name: 'กองปลอม', sortOrder: '1' } },
        { path: '/admin/departments/1', body: { code: 'forged', name: 'กองปลอม', sortOrder: '1' } },
        { path: '/admin/settings', body: { agencyName: 'อบต.ปลอม' } },
      ]
      return { admin, target, foreignToken, cases }
    }

    const variants: Array<{ name: string; token: (foreign: string) => string | undefined }> = [
      { name: 'no _csrf', token: () => undefined },
      { name: 'an empty _csrf', token: () => '' },
      { name: 'a made-up _csrf', token: () => 'not-a-real-token-0123456789abcdef' },
      { name: "another session's _csrf", token: (foreign) => foreign },
    ]

    for (const v of variants) {
      it(`when a state-changing form is posted with ${v.name}, then 403 with the Thai message and nothing changes`, async () => {
        const { admin, target, foreignToken, cases } = await setUp()
        for (const c of cases) {
          const agent = c.anonymous ? supertest.agent(t.app) : admin.agent
          if (c.anonymous) await agent.get('/login').expect(200)
          const before = await snapshot(t)
          const token = v.token(foreignToken)
          const body = token === undefined ? c.body : { ...c.body, _csrf: token }
          const res = await agent.post(c.path).type('form').send(body)
          expect(res.status, `${c.path}${c.anonymous ? ' (anonymous)' : ''}`).to.equal(403)
          expect(res.text, c.path).to.include('แบบฟอร์มหมดอายุหรือไม่ถูกต้อง')
          expect(res.text, c.path).to.include('<html lang="th">')
          expect(cookieNamed(res, 'lang'), `${c.path} sets no language`).to.equal(undefined)
          expect(await snapshot(t), c.path).to.deep.equal(before)
          if (c.anonymous) {
            const home = await agent.get('/')
            expect(home.status, `${c.path}: still anonymous`).to.equal(303)
          }
        }
        // The admin is still signed in (the forged sign-out did nothing), in Thai, and the target still signs in.
        const home = await admin.agent.get('/').expect(200)
        expect(home.text).to.include('<html lang="th">')
        await signIn(t.app, target.username, target.password)
        await signIn(t.app, admin.user.username, admin.user.password)
      })
    }

    it('when a token revocation is posted without a valid _csrf, then 403 and the token stays', async () => {
      const { admin } = await setUp()
      const token = await csrfOf(admin.agent, '/account')
      await admin.agent.post('/account/tokens').type('form').send({ _csrf: token, name: 'real' }).expect(303)
      const row = await t.ctx.db.selectFrom('api_token').select(['id', 'revoked_at']).executeTakeFirstOrThrow()
      const res = await admin.agent.post(`/account/tokens/${row.id}/revoke`).type('form').send({ _csrf: 'wrong' })
      expect(res.status).to.equal(403)
      const after = await t.ctx.db.selectFrom('api_token').select('revoked_at').where('id', '=', row.id).executeTakeFirstOrThrow()
      expect(after.revoked_at).to.equal(null)
    })

    it('when the same forms are posted with the right _csrf, then they are accepted (the 403 above is CSRF, not something else)', async () => {
      const { admin } = await setUp()
      const token = await csrfOf(admin.agent, '/account')
      const res = await admin.agent.post('/account/tokens').type('form').send({ _csrf: token, name: 'real' })
      expect(res.status).to.equal(303)
      const dep = await admin.agent.post('/admin/departments').type('form').send({ _csrf: token, code: 'newdep', name: 'กองใหม่', sortOrder: '9' })
      expect(dep.status).to.equal(303)
      const lang = await admin.agent.post('/language').type('form').send({ _csrf: token, locale: 'en', next: '/' })
      expect(lang.status).to.equal(303)
    })

    it('when a form is posted as JSON to a page route, then it is refused like any forged form', async () => {
      const { admin } = await setUp()
      const token = await csrfOf(admin.agent, '/account')
      const res = await admin.agent
        .post('/account/tokens')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ _csrf: token, name: 'json' }))
      expect(res.status).to.equal(403)
      expect(await t.ctx.db.selectFrom('api_token').selectAll().execute()).to.have.length(0)
    })
  })

  describe('headers', () => {
    it('when any page is served, then helmet headers are set and the CSP has no inline script and no upgrade-insecure-requests', async () => {
      t = await createTestApp()
      const { agent } = await signedInAs(t, ['admin'])
      const responses: Array<[string, supertest.Response]> = [
        ['/login', await supertest(t.app).get('/login')],
        ['/', await agent.get('/')],
        ['/admin/users', await agent.get('/admin/users')],
        ['404 page', await agent.get('/no-such-page')],
        ['API 404', await supertest(t.app).get('/api/v1/nope')],
      ]
      for (const [where, res] of responses) {
        expect(res.headers['x-content-type-options'], where).to.equal('nosniff')
        expect(res.headers['x-frame-options'], where).to.equal('SAMEORIGIN')
        expect(res.headers['referrer-policy'], where).to.equal('no-referrer')
        expect(res.headers['cross-origin-opener-policy'], where).to.equal('same-origin')
        expect(res.headers['x-powered-by'], where).to.equal(undefined)
        const csp = cspDirectives(res)
        expect(csp.get('default-src'), where).to.deep.equal(["'self'"])
        expect(csp.get('script-src'), where).to.deep.equal(["'self'"])
        expect(csp.get('script-src-attr'), where).to.deep.equal(["'none'"])
        expect(csp.get('object-src'), where).to.deep.equal(["'none'"])
        expect(csp.get('base-uri'), where).to.deep.equal(["'self'"])
        expect(csp.get('form-action'), where).to.deep.equal(["'self'"])
        expect(csp.get('frame-ancestors'), where).to.deep.equal(["'self'"])
        expect(csp.has('upgrade-insecure-requests'), where).to.equal(false)
        for (const [name, values] of csp) {
          if (name.startsWith('script-src')) expect(values, `${where} ${name}`).to.not.include("'unsafe-inline'")
          if (name.startsWith('script-src')) expect(values, `${where} ${name}`).to.not.include("'unsafe-eval'")
        }
      }
    })

    it('when pages are rendered, then they carry no inline script or inline event handler (the CSP would block them)', async () => {
      t = await createTestApp()
      const { agent } = await signedInAs(t, ['admin'])
      const pages = [(await supertest(t.app).get('/login')).text]
      for (const p of [
        '/',
        '/account',
        '/account/password',
        '/admin/users',
        '/admin/users/new',
        '/admin/departments',
        '/admin/settings',
        '/audit',
        '/no-such-page',
      ]) {
        pages.push((await agent.get(p)).text)
      }
      for (const html of pages) {
        expect(html).to.not.match(/<script(?![^>]*\bsrc=)[^>]*>/i)
        expect(html).to.not.match(/\son[a-z]+\s*=/i)
        expect(html).to.not.match(/href\s*=\s*["']?\s*javascript:/i)
      }
    })

    it('when the request is plain HTTP, then there is no HSTS header', async () => {
      t = await createTestApp()
      const res = await supertest(t.app).get('/login').expect(200)
      expect(res.headers['strict-transport-security']).to.equal(undefined)
    })

    it('when TRUST_PROXY=1 and the proxy says HTTPS, then HSTS is set; over plain HTTP it is not', async () => {
      t = await createTestApp({ env: { TRUST_PROXY: '1' } })
      const https = await supertest(t.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200)
      expect(https.headers['strict-transport-security']).to.match(/^max-age=\d{7,}/)
      const plain = await supertest(t.app).get('/login').expect(200)
      expect(plain.headers['strict-transport-security']).to.equal(undefined)
    })

    it('when TRUST_PROXY is not set, then X-Forwarded-Proto: https does not bring HSTS', async () => {
      t = await createTestApp()
      const res = await supertest(t.app).get('/login').set('X-Forwarded-Proto', 'https').expect(200)
      expect(res.headers['strict-transport-security']).to.equal(undefined)
    })
  })

  describe('sign-in rate limits', () => {
    async function attempt(agent: supertest.Agent, username: string, password: string) {
      const page = await agent.get('/login')
      const token = csrfFrom(page.text)
      return agent.post('/login').type('form').send({ _csrf: token, username, password, next: '/' })
    }

    it('when one account has had N failed sign-ins from one address, then the next attempt from there — even with the right password — gets 429 in Thai with Retry-After', async () => {
      t = await createTestApp({ signInLimits: { perAccountAndAddress: 3, perAddress: 10 } })
      const victim = await makeUser(t.ctx, ['staff'])
      const other = await makeUser(t.ctx, ['staff'])
      const agent = supertest.agent(t.app)
      // Case and spaces do not make a new account for the limiter.
      for (const name of [victim.username, victim.username.toUpperCase(), ` ${victim.username} `]) {
        const res = await attempt(agent, name, 'wrong-password-1')
        expect(res.status).to.equal(401)
      }
      const blocked = await attempt(agent, victim.username, victim.password)
      expect(blocked.status).to.equal(429)
      expect(blocked.text).to.include(RATE_LIMITED_TH)
      expect(blocked.text).to.include('<html lang="th">')
      const retry = Number(blocked.headers['retry-after'])
      expect(retry).to.be.greaterThan(0)
      expect(retry).to.be.at.most(15 * 60)
      expect(await t.ctx.db.selectFrom('session').select('sid').where('user_id', '=', victim.id).execute()).to.have.length(0)

      // Another account from the same address is not locked out.
      const res = await attempt(supertest.agent(t.app), other.username, other.password)
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/')
    })

    it('when one address has had too many failed sign-ins across accounts, then it gets 429', async () => {
      t = await createTestApp({ signInLimits: { perAccountAndAddress: 3, perAddress: 10 } })
      const user = await makeUser(t.ctx, ['staff'])
      const agent = supertest.agent(t.app)
      for (let i = 0; i < 10; i++) {
        const res = await attempt(agent, `guess${i}`, 'wrong-password-1')
        expect(res.status, `attempt ${i + 1}`).to.equal(401)
      }
      const blocked = await attempt(agent, user.username, user.password)
      expect(blocked.status).to.equal(429)
      expect(blocked.text).to.include(RATE_LIMITED_TH)
      expect(Number(blocked.headers['retry-after'])).to.be.greaterThan(0)
    })

    it('when a client rotates X-Forwarded-For without TRUST_PROXY, then it is still the same address', async () => {
      t = await createTestApp({ signInLimits: { perAccountAndAddress: 100, perAddress: 3 } })
      const agent = supertest.agent(t.app)
      for (let i = 0; i < 3; i++) {
        const page = await agent.get('/login')
        const res = await agent
          .post('/login')
          .set('X-Forwarded-For', `10.0.0.${i + 1}`)
          .type('form')
          .send({ _csrf: csrfFrom(page.text), username: `guess${i}`, password: 'wrong-password-1', next: '/' })
        expect(res.status).to.equal(401)
      }
      const page = await agent.get('/login')
      const res = await agent
        .post('/login')
        .set('X-Forwarded-For', '10.0.0.99')
        .type('form')
        .send({ _csrf: csrfFrom(page.text), username: 'guess9', password: 'wrong-password-1', next: '/' })
      expect(res.status).to.equal(429)
    })

    // Changed with issue 13: a successful sign-in now clears that account's failures from that address
    // (it used to give back only its own slot, so earlier failures still counted).
    it('when a sign-in succeeds, then it does not count and it clears that account’s failures from that address', async () => {
      t = await createTestApp({ signInLimits: { perAccountAndAddress: 3, perAddress: 10 } })
      const user = await makeUser(t.ctx, ['staff'])
      const agent = supertest.agent(t.app)
      for (let i = 0; i < 2; i++) expect((await attempt(agent, user.username, 'wrong-password-1')).status).to.equal(401)
      for (let i = 0; i < 6; i++) await signIn(t.app, user.username, user.password)
      // Cleared: three more failures are plain 401s, the fourth attempt is blocked.
      for (let i = 0; i < 3; i++) expect((await attempt(agent, user.username, 'wrong-password-1')).status, `failure ${i + 1}`).to.equal(401)
      expect((await attempt(agent, user.username, user.password)).status).to.equal(429)
    })

    it('when POST /api/v1/tokens fails N times for one account from one address, then 429 rate_limited JSON with Retry-After; another account still gets a token', async () => {
      t = await createTestApp({ signInLimits: { perAccountAndAddress: 3, perAddress: 10 } })
      const victim = await makeUser(t.ctx, ['staff'])
      const other = await makeUser(t.ctx, ['staff'])
      for (let i = 0; i < 3; i++) {
        const res = await supertest(t.app).post('/api/v1/tokens').send({ username: victim.username, password: 'wrong-password-1' })
        expect(res.status).to.equal(401)
        expect(res.body.error.code).to.equal('unauthenticated')
      }
      const blocked = await supertest(t.app).post('/api/v1/tokens').send({ username: victim.username, password: victim.password })
      expect(blocked.status).to.equal(429)
      expect(blocked.headers['content-type']).to.match(/^application\/json/)
      expect(blocked.body.error.code).to.equal('rate_limited')
      expect(blocked.body.error.message).to.include(RATE_LIMITED_TH)
      expect(blocked.body.error).to.not.have.property('details')
      expect(Number(blocked.headers['retry-after'])).to.be.greaterThan(0)
      expect(await t.ctx.db.selectFrom('api_token').selectAll().where('user_id', '=', victim.id).execute()).to.have.length(0)

      await apiToken(t.app, other.username, other.password)
    })

    it('when POST /api/v1/tokens fails too often from one address, then 429 rate_limited', async () => {
      t = await createTestApp({ signInLimits: { perAccountAndAddress: 3, perAddress: 10 } })
      const user = await makeUser(t.ctx, ['staff'])
      for (let i = 0; i < 10; i++) {
        const res = await supertest(t.app)
          .post('/api/v1/tokens')
          .send({ username: `guess${i}`, password: 'wrong-password-1' })
        expect(res.status).to.equal(401)
      }
      const blocked = await supertest(t.app).post('/api/v1/tokens').send({ username: user.username, password: user.password })
      expect(blocked.status).to.equal(429)
      expect(blocked.body.error.code).to.equal('rate_limited')
      expect(Number(blocked.headers['retry-after'])).to.be.greaterThan(0)
    })

    it('when tokens are issued successfully, then they do not count towards the limits', async () => {
      t = await createTestApp({ signInLimits: { perAccountAndAddress: 2, perAddress: 3 } })
      const user = await makeUser(t.ctx, ['staff'])
      for (let i = 0; i < 6; i++) await apiToken(t.app, user.username, user.password)
      const failed = await supertest(t.app).post('/api/v1/tokens').send({ username: user.username, password: 'wrong-password-1' })
      expect(failed.status).to.equal(401)
    })
  })
})
