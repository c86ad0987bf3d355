import { expect } from 'chai'
import supertest from 'supertest'
import { DEFAULT_SIGN_IN_LIMITS } from '../../server/http/middleware/rate-limit.js'
import { createTestApp, csrfFrom, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'

/*
 * Sign-in throttling with the limits main.ts uses (issue 13): an account from one address is held
 * hard, an address only loosely (an office shares one NAT address), and no account is ever locked
 * for everyone. Addresses are told apart through X-Forwarded-For, so TRUST_PROXY is on.
 */
describe('sign-in throttling (the limits in use)', function () {
  this.timeout(60_000)
  let t: TestApp
  afterEach(() => t?.close())

  const OFFICE = '203.0.113.10'
  const HOME = '198.51.100.20'

  async function pageAttempt(ip: string, username: string, password: string) {
    const agent = supertest.agent(t.app)
    const page = await agent.get('/login').set('X-Forwarded-For', ip)
    return agent
      .post('/login')
      .set('X-Forwarded-For', ip)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), username, password, next: '/' })
  }

  function apiAttempt(ip: string, username: string, password: string) {
    return supertest(t.app).post('/api/v1/tokens').set('X-Forwarded-For', ip).send({ username, password })
  }

  beforeEach(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: '1' }, signInLimits: { ...DEFAULT_SIGN_IN_LIMITS } })
  })

  it('when the limits are the defaults, then an account from one address gets 5 failures and an address 100', () => {
    expect(DEFAULT_SIGN_IN_LIMITS).to.deep.equal({ perAccountAndAddress: 5, perAddress: 100 })
  })

  it('when one account fails 40 times from an address, then another account from the same address still signs in (page and API)', async () => {
    const victim = await makeUser(t.ctx, ['executive', 'admin'])
    const colleague = await makeUser(t.ctx, ['staff'])
    const other = await makeUser(t.ctx, ['finance'])
    for (let i = 0; i < 40; i++) {
      const res =
        i % 2 === 0 ? await pageAttempt(OFFICE, victim.username, `wrong-password-${i}`) : await apiAttempt(OFFICE, victim.username, `wrong-password-${i}`)
      expect(res.status, `attempt ${i + 1}`).to.equal(i < 5 ? 401 : 429)
    }
    const page = await pageAttempt(OFFICE, colleague.username, colleague.password)
    expect(page.status).to.equal(303)
    const api = await apiAttempt(OFFICE, other.username, other.password)
    expect(api.status).to.equal(201)
  })

  it('when an account is throttled from one address, then its owner signs in from another address (page and API)', async () => {
    const victim = await makeUser(t.ctx, ['executive', 'admin'])
    for (let i = 0; i < 12; i++) await apiAttempt(OFFICE, victim.username, 'wrong-password-1')
    expect((await pageAttempt(OFFICE, victim.username, victim.password)).status).to.equal(429)

    const page = await pageAttempt(HOME, victim.username, victim.password)
    expect(page.status).to.equal(303)
    expect(page.headers.location).to.equal('/')
    expect((await apiAttempt(HOME, victim.username, victim.password)).status).to.equal(201)
  })

  it('when guesses at one account come from many addresses, then each address gets its own budget and the owner is never locked out', async () => {
    const victim = await makeUser(t.ctx, ['executive', 'admin'])
    for (let a = 1; a <= 10; a++) {
      for (let i = 0; i < 5; i++) expect((await apiAttempt(`192.0.2.${a}`, victim.username, 'wrong-password-1')).status).to.equal(401)
      expect((await apiAttempt(`192.0.2.${a}`, victim.username, 'wrong-password-1')).status).to.equal(429)
    }
    expect((await pageAttempt(HOME, victim.username, victim.password)).status).to.equal(303)
  })

  it('when an account fails 5 times from an address, then the next attempt there — right password or not, page or API — is 429 with Retry-After in Thai', async () => {
    const user = await makeUser(t.ctx, ['staff'])
    for (let i = 0; i < 5; i++) expect((await pageAttempt(OFFICE, user.username, 'wrong-password-1')).status).to.equal(401)

    const page = await pageAttempt(OFFICE, ` ${user.username.toUpperCase()} `, user.password)
    expect(page.status).to.equal(429)
    expect(page.text).to.include('มีการพยายามเข้าสู่ระบบมากเกินไป')
    const pageRetry = Number(page.headers['retry-after'])
    expect(pageRetry)
      .to.be.greaterThan(0)
      .and.at.most(15 * 60)

    const api = await apiAttempt(OFFICE, user.username, user.password)
    expect(api.status).to.equal(429)
    expect(api.body.error.code).to.equal('rate_limited')
    expect(api.body.error.message).to.include('มีการพยายามเข้าสู่ระบบมากเกินไป')
    expect(Number(api.headers['retry-after']))
      .to.be.greaterThan(0)
      .and.at.most(15 * 60)
    expect(await t.ctx.db.selectFrom('api_token').select('id').where('user_id', '=', user.id).execute()).to.have.length(0)
  })

  it('when the limit is reached, then Retry-After is the rest of the 15-minute window that began with the first failure', async () => {
    const user = await makeUser(t.ctx, ['staff'])
    for (let i = 0; i < 6; i++) await apiAttempt(OFFICE, user.username, 'wrong-password-1')
    const blocked = await apiAttempt(OFFICE, user.username, user.password)
    expect(blocked.status).to.equal(429)
    expect(Number(blocked.headers['retry-after'])).to.be.within(15 * 60 - 5, 15 * 60)
  })

  it('when one account signs in successfully, then its earlier failures from that address are forgotten', async () => {
    const user = await makeUser(t.ctx, ['staff'])
    for (let i = 0; i < 4; i++) expect((await pageAttempt(OFFICE, user.username, 'wrong-password-1')).status).to.equal(401)
    expect((await apiAttempt(OFFICE, user.username, user.password)).status).to.equal(201)
    for (let i = 0; i < 5; i++) expect((await pageAttempt(OFFICE, user.username, 'wrong-password-1')).status, `failure ${i + 1}`).to.equal(401)
    expect((await pageAttempt(OFFICE, user.username, user.password)).status).to.equal(429)
  })

  it('when one address guesses at 100 different accounts, then that address is refused (429) and another address is not', async () => {
    const user = await makeUser(t.ctx, ['staff'])
    for (let i = 0; i < 100; i++) expect((await apiAttempt(OFFICE, `guess${i}`, 'wrong-password-1')).status, `guess ${i + 1}`).to.equal(401)
    const blocked = await pageAttempt(OFFICE, user.username, user.password)
    expect(blocked.status).to.equal(429)
    expect(Number(blocked.headers['retry-after'])).to.be.greaterThan(0)
    expect((await pageAttempt(HOME, user.username, user.password)).status).to.equal(303)
  })

  it('when the right password meets 403 password_change_required on the API, then that is no failed guess: the page sign-in still works from there', async () => {
    const user = await makeUser(t.ctx, ['staff'], { mustChangePassword: true })
    for (let i = 0; i < 8; i++) {
      const res = await apiAttempt(OFFICE, user.username, user.password)
      expect(res.status, `attempt ${i + 1}`).to.equal(403)
      expect(res.body.error.code).to.equal('password_change_required')
    }
    const page = await pageAttempt(OFFICE, user.username, user.password)
    expect(page.status).to.equal(303)
    expect(page.headers.location).to.equal('/account/password')
  })

  it('when sign-ins fail, then each failure is written to the log with the account and the address', async () => {
    const user = await makeUser(t.ctx, ['staff'])
    const logged: unknown[] = []
    const warn = t.ctx.logger.warn.bind(t.ctx.logger)
    t.ctx.logger.warn = ((obj: unknown, ...rest: unknown[]) => {
      logged.push(obj)
      return (warn as (...a: unknown[]) => void)(obj, ...rest)
    }) as typeof t.ctx.logger.warn
    await pageAttempt(OFFICE, user.username, 'wrong-password-1')
    await apiAttempt(OFFICE, user.username, 'wrong-password-1')
    const failures = logged.filter((l) => (l as { username?: string; ip?: string }).username === user.username && (l as { ip?: string }).ip === OFFICE)
    expect(failures).to.have.length(2)
  })
})
