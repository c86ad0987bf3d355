import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import Database from 'better-sqlite3'
import { createHmac } from 'node:crypto'
import supertest from 'supertest'
import { secretFromKeyFile } from '../../server/services/secret.service.js'
import { sessionKey } from '../../server/services/session.service.js'
import { createTestApp, csrfFrom, signIn, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { createEmptyTestDb, databaseUrlOf, onPostgres, query } from '../helpers/db.js'
import { startServer } from '../helpers/server-process.js'

/*
 * Nothing in the database or a backup lets anyone sign in (issue 13, SPEC §5): the session-signing
 * key lives in a key file beside the data (0600) or the environment, session rows are keyed by a hash
 * of the session id, and the files the server makes are its owner's only.
 */

const SECRET = 'test-secret-test-secret' // createTestApp's signing key

/** Signs in through the form and answers the session id inside the signed cookie (`s:<id>.<signature>`). */
async function signInForSid(app: TestApp['app'], username: string, password: string): Promise<{ agent: supertest.Agent; sid: string }> {
  const agent = supertest.agent(app)
  const page = await agent.get('/login').expect(200)
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), username, password, next: '/' })
  expect(res.status).to.equal(303)
  const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('yk.sid='))!
  const raw = decodeURIComponent(cookie.slice('yk.sid='.length).split(';')[0]!)
  return { agent, sid: raw.slice(2, raw.lastIndexOf('.')) }
}

/** express-session's cookie signature (cookie-signature: HMAC-SHA256, base64 without padding). */
const sign = (value: string, secret: string) => `${value}.${createHmac('sha256', secret).update(value).digest('base64').replace(/=+$/, '')}`

describe('secrets outside the database', () => {
  describe('the key file', () => {
    let dir: string
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-keys-'))
    })
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

    it('when no key file exists, then one is created with mode 0600 and 32 random bytes, and the next start reads the same', () => {
      const first = secretFromKeyFile(dir, 'session')
      expect(first.created).to.equal(true)
      expect(first.value).to.match(/^[A-Za-z0-9_-]{43}$/)
      expect(fs.statSync(path.join(dir, 'session.key')).mode & 0o777).to.equal(0o600)
      expect(secretFromKeyFile(dir, 'session')).to.deep.equal({ value: first.value, created: false })
    })

    it('when the key file is readable by others, then it is narrowed to its owner; when it is empty, then the start fails rather than replace it', () => {
      fs.writeFileSync(path.join(dir, 'session.key'), 'a-key-that-someone-made-by-hand\n', { mode: 0o644 })
      fs.chmodSync(path.join(dir, 'session.key'), 0o644)
      expect(secretFromKeyFile(dir, 'session').value).to.equal('a-key-that-someone-made-by-hand')
      expect(fs.statSync(path.join(dir, 'session.key')).mode & 0o777).to.equal(0o600)
      fs.writeFileSync(path.join(dir, 'empty.key'), '\n')
      expect(() => secretFromKeyFile(dir, 'empty')).to.throw(/no usable secret/)
    })
  })

  describe('session rows', () => {
    let t: TestApp
    beforeEach(async () => {
      t = await createTestApp()
    })
    afterEach(() => t.close())

    it('when someone signs in, then the session table holds the hash of their session id, never the id', async () => {
      const admin = await makeUser(t.ctx, ['admin'])
      const { agent, sid } = await signInForSid(t.app, admin.username, admin.password)
      const keys = (await t.ctx.db.selectFrom('session').select('sid').execute()).map((r) => r.sid)
      expect(keys).to.include(sessionKey(sid))
      expect(keys).to.not.include(sid)
      await agent.get('/admin/users').expect(200)
    })

    it('when a cookie is forged from what a backup holds (a stored session key), even signed with the real key, then it signs nobody in', async () => {
      const admin = await makeUser(t.ctx, ['admin'])
      await signIn(t.app, admin.username, admin.password)
      const stored = (await t.ctx.db.selectFrom('session').select('sid').where('user_id', '=', admin.id).executeTakeFirstOrThrow()).sid
      const forged = `yk.sid=${encodeURIComponent(`s:${sign(stored, SECRET)}`)}`
      const res = await supertest(t.app).get('/admin/users').set('Cookie', forged)
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.match(/^\/login/)
    })
  })

  describe('the server process', function () {
    this.timeout(60_000)
    it('when the server starts without SESSION_SECRET, then its key file and the audit anchor key and log are created 0600 beside the data, the database and its WAL are its owner’s only, and the database holds no secret', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-files-'))
      const db = path.join(dir, 'yk.db')
      // On PostgreSQL the data folder (key files, anchor) is still DATABASE_PATH's; the rows are in the test's database.
      const pg = onPostgres ? await createEmptyTestDb() : undefined
      const server = await startServer(db, {
        SESSION_SECRET: undefined as unknown as string,
        ...(pg ? { DATABASE_URL: await databaseUrlOf(pg.db) } : {}),
      }).catch(async (e: unknown) => {
        await pg?.close()
        fs.rmSync(dir, { recursive: true, force: true })
        throw e
      })
      try {
        if (pg) expect(server.output(), 'the server runs on the PostgreSQL database').to.include('"database":"postgresql"')
        const res = await fetch(`${server.base}/login`)
        expect(res.status).to.equal(200)
        const mode = (f: string) => fs.statSync(f).mode & 0o777
        expect(mode(path.join(dir, 'session.key'))).to.equal(0o600)
        // The audit anchor: its key and its log beside the data, owner-only, the first admin's entry anchored.
        expect(mode(path.join(dir, 'audit-anchor.key'))).to.equal(0o600)
        expect(mode(path.join(dir, 'audit-anchor.log'))).to.equal(0o600)
        const anchorLines = fs
          .readFileSync(path.join(dir, 'audit-anchor.log'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { kind: string; seq: number })
        expect(anchorLines[0]).to.deep.include({ kind: 'start', seq: 0 })
        expect(anchorLines.at(-1)!.seq).to.be.greaterThan(0)
        const key = fs.readFileSync(path.join(dir, 'session.key'), 'utf8').trim()
        if (pg) {
          // PostgreSQL keeps no file here: the database is the server's to guard.
          expect(fs.existsSync(db)).to.equal(false)
          const q = query(pg.db)
          expect(await q.all("SELECT key FROM setting WHERE key LIKE 'secret.%'")).to.deep.equal([])
          const values = (await q.all<{ value: string }>('SELECT value FROM setting')).map((r) => r.value)
          expect(values.join(',')).to.not.include(key)
        } else {
          expect(mode(db)).to.equal(0o600)
          if (fs.existsSync(`${db}-wal`)) expect(mode(`${db}-wal`)).to.equal(0o600)
          const raw = new Database(db, { readonly: true })
          try {
            const secrets = raw.prepare("SELECT key FROM setting WHERE key LIKE 'secret.%'").all()
            expect(secrets).to.deep.equal([])
            const dump = raw.prepare('SELECT group_concat(value) AS v FROM setting').get() as { v: string | null }
            expect(dump.v ?? '').to.not.include(key)
          } finally {
            raw.close()
          }
        }
      } finally {
        expect((await server.stop()).code, server.output()).to.equal(0)
        await pg?.close()
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })
  })
})
