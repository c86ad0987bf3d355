import { expect } from 'chai'
import { pino } from 'pino'
import supertest from 'supertest'
import { apiToken, createTestApp, signedInAs, type TestApp } from '../helpers/app.js'

const APOLOGY_TH = 'ขออภัย ระบบขัดข้อง'

/** No trace of the code behind a 500: stack frames, file paths, the driver's own words. */
function expectNoInternals(text: string) {
  expect(text).to.not.match(/^\s*at\s/m)
  expect(text).to.not.match(/\bat\s+\S+\s+\([^)]*:\d+:\d+\)/)
  expect(text).to.not.match(/\.(ts|js|mjs|cjs):\d+/)
  expect(text).to.not.include('node_modules')
  expect(text).to.not.include('/work/')
  expect(text).to.not.match(/\b(TypeError|RangeError|SqliteError|Error:)/)
  expect(text.toLowerCase()).to.not.include('database connection')
}

function captureLog(t: TestApp): string[] {
  const lines: string[] = []
  t.ctx.logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) })
  return lines
}

describe('http: errors', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  describe('not found', () => {
    it('when an anonymous person opens an unknown page, then a Thai 404 page names the path', async () => {
      const res = await supertest(t.app).get('/no-such-page')
      expect(res.status).to.equal(404)
      expect(res.headers['content-type']).to.match(/^text\/html/)
      expect(res.text).to.include('<html lang="th">')
      expect(res.text).to.include('ไม่พบหน้านี้')
      expect(res.text).to.include('/no-such-page')
      expect(res.text).to.include('href="/"')
    })

    it('when a signed-in person opens an unknown page, then the 404 page keeps their navigation', async () => {
      const { agent, user } = await signedInAs(t, ['admin'])
      const res = await agent.get('/admin/nothing-here')
      expect(res.status).to.equal(404)
      expect(res.text).to.include('ไม่พบหน้านี้')
      expect(res.text).to.include('/admin/nothing-here')
      expect(res.text).to.include(user.name)
      expect(res.text).to.include('action="/logout"')
    })

    it('when the unknown path is in Thai, then the 404 page shows it readably', async () => {
      const res = await supertest(t.app).get(`/${encodeURIComponent('ครุภัณฑ์')}`)
      expect(res.status).to.equal(404)
      expect(res.text).to.include('/ครุภัณฑ์')
    })

    it('when the unknown path carries markup, then the 404 page escapes it', async () => {
      const res = await supertest(t.app).get(`/${encodeURIComponent('<script>alert(1)</script>')}`)
      expect(res.status).to.equal(404)
      expect(res.text).to.not.include('<script>alert(1)')
    })

    it('when a missing record is asked for, then 404 (not 500)', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      for (const p of ['/admin/users/999999', '/admin/users/abc', '/admin/departments/999999']) {
        const res = await agent.get(p)
        expect(res.status, p).to.equal(404)
        expect(res.text, p).to.include('<html lang="th">')
      }
    })

    it('when an English reader opens an unknown page, then the 404 page is in English', async () => {
      const res = await supertest(t.app).get('/no-such-page').set('Cookie', 'lang=en')
      expect(res.status).to.equal(404)
      expect(res.text).to.include('<html lang="en">')
      expect(res.text).to.not.include('ไม่พบหน้านี้')
    })

    it('when an unknown API route is called, then 404 JSON {error: {code: not_found}}', async () => {
      const { user } = await signedInAs(t, ['admin'])
      const token = await apiToken(t.app, user.username, user.password)
      for (const [method, path] of [
        ['get', '/api/v1/nope'],
        ['post', '/api/v1/nope'],
        ['get', '/api/v2/me'],
      ] as const) {
        const res = await supertest(t.app)[method](path).set('Authorization', `Bearer ${token}`)
        expect(res.status, path).to.equal(404)
        expect(res.headers['content-type'], path).to.match(/^application\/json/)
        expect(res.body.error.code, path).to.equal('not_found')
        expect(res.body.error.message, path).to.be.a('string').and.not.equal('')
      }
    })
  })

  describe('bad requests', () => {
    it('when a page URL has a malformed percent escape, then a 400 page, not 500', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const res = await agent.get('/admin/users/%E0%A4%A')
      expect(res.status).to.equal(400)
      expect(res.headers['content-type']).to.match(/^text\/html/)
      expect(res.text).to.include('<html lang="th">')
      expect(res.text).to.include('คำขอไม่ถูกต้อง')
      expect(res.text).to.include('ที่อยู่หน้าเว็บไม่ถูกต้อง')
      expectNoInternals(res.text)
    })

    it('when a query string has a malformed percent escape, then no 500', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const res = await agent.get('/admin/users?q=%E0%A4%A')
      expect(res.status).to.be.oneOf([200, 400])
    })

    it('when the API gets unparseable JSON, then 400 bad_request', async () => {
      const res = await supertest(t.app).post('/api/v1/tokens').set('Content-Type', 'application/json').send('{"username": "a", ')
      expect(res.status).to.equal(400)
      expect(res.headers['content-type']).to.match(/^application\/json/)
      expect(res.body.error.code).to.equal('bad_request')
      expect(res.body.error.message).to.be.a('string').and.not.equal('')
      expect(res.body.error).to.not.have.property('details')
      expectNoInternals(JSON.stringify(res.body))
    })

    it('when the API gets a JSON body over 1 MB, then 413 payload_too_large', async () => {
      const big = JSON.stringify({ username: 'a', password: 'b', padding: 'x'.repeat(1_100_000) })
      const res = await supertest(t.app).post('/api/v1/tokens').set('Content-Type', 'application/json').send(big)
      expect(res.status).to.equal(413)
      expect(res.headers['content-type']).to.match(/^application\/json/)
      expect(res.body.error.code).to.equal('payload_too_large')
      expect(res.body.error.message).to.be.a('string').and.not.equal('')
    })

    it('when the API gets a JSON body just under 1 MB, then it is read (not 413)', async () => {
      const body = JSON.stringify({ username: 'nobody', password: 'x'.repeat(100), padding: 'x'.repeat(900_000) })
      const res = await supertest(t.app).post('/api/v1/tokens').set('Content-Type', 'application/json').send(body)
      expect(res.status).to.equal(401)
      expect(res.body.error.code).to.equal('unauthenticated')
    })

    it('when a page form body is far too large, then a 413 page, not 500', async () => {
      const res = await supertest(t.app)
        .post('/login')
        .type('form')
        .send({ username: 'a', password: 'x'.repeat(300_000) })
      expect(res.status).to.equal(413)
      expect(res.text).to.include('<html lang="th">')
      expect(res.text).to.include('ข้อมูลที่ส่งมีขนาดใหญ่เกินไป')
    })
  })

  describe('server errors', () => {
    it('when the database is gone, then /healthz is 500 with the apology and the request id of X-Request-Id, and no stack trace', async () => {
      const log = captureLog(t)
      await t.ctx.handle.close()
      const res = await supertest(t.app).get('/healthz')
      expect(res.status).to.equal(500)
      const requestId = res.headers['x-request-id'] as string
      expect(requestId).to.match(/^[0-9a-f-]{36}$/)
      expect(res.text).to.include(APOLOGY_TH)
      expect(res.text).to.include(requestId)
      expect(res.text).to.include('<html lang="th">')
      expectNoInternals(res.text)
      // The cause goes to the log, under the same request id.
      const logged = log.map((l) => JSON.parse(l) as { level: number; requestId?: string; err?: { stack?: string } })
      const entry = logged.find((l) => l.requestId === requestId && l.level >= 50)
      expect(entry, 'the cause is logged as an error with the request id').to.not.equal(undefined)
      expect(entry!.err?.stack).to.be.a('string')
    })

    it('when the database is gone under a signed-in person, then the page is a 500 apology with the request id, and no stack trace', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      await agent.get('/admin/users').expect(200)
      await t.ctx.handle.close()
      for (const p of ['/', '/admin/users', '/account']) {
        const res = await agent.get(p)
        expect(res.status, p).to.equal(500)
        expect(res.headers['content-type'], p).to.match(/^text\/html/)
        const requestId = res.headers['x-request-id'] as string
        expect(requestId, p).to.match(/^[0-9a-f-]{36}$/)
        expect(res.text, p).to.include(APOLOGY_TH)
        expect(res.text, p).to.include(`รหัสอ้างอิง: ${requestId}`)
        expect(res.headers['cache-control'], p).to.include('no-store')
        expectNoInternals(res.text)
      }
    })

    it('when two requests fail, then each page shows its own request id', async () => {
      await t.ctx.handle.close()
      const a = await supertest(t.app).get('/healthz')
      const b = await supertest(t.app).get('/healthz')
      expect(a.headers['x-request-id']).to.not.equal(b.headers['x-request-id'])
      expect(a.text).to.include(a.headers['x-request-id'] as string)
      expect(b.text).to.include(b.headers['x-request-id'] as string)
    })

    it('when the API fails inside, then 500 {error: {code: internal, message}} with no details and an X-Request-Id', async () => {
      const { user } = await signedInAs(t, ['admin'])
      const token = await apiToken(t.app, user.username, user.password)
      await t.ctx.handle.close()
      for (const req of [
        supertest(t.app).get('/api/v1/me').set('Authorization', `Bearer ${token}`),
        supertest(t.app).post('/api/v1/tokens').send({ username: user.username, password: user.password }),
        supertest(t.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${token}`),
      ]) {
        const res = await req
        expect(res.status).to.equal(500)
        expect(res.headers['content-type']).to.match(/^application\/json/)
        expect(res.body).to.have.all.keys('error')
        expect(res.body.error).to.have.all.keys('code', 'message')
        expect(res.body.error.code).to.equal('internal')
        expect(res.body.error.message).to.include(APOLOGY_TH)
        expect(res.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/)
        expectNoInternals(res.text)
      }
    })

    it('when an English API caller hits a 500, then the message is in English', async () => {
      await t.ctx.handle.close()
      const res = await supertest(t.app).post('/api/v1/tokens').set('Accept-Language', 'en-GB,en;q=0.9').send({ username: 'someone', password: 'x-x-x-x-x' })
      expect(res.status).to.equal(500)
      expect(res.body.error.code).to.equal('internal')
      expect(res.body.error.message).to.not.include(APOLOGY_TH)
      expect(res.body.error.message).to.be.a('string').and.not.equal('')
    })
  })
})
