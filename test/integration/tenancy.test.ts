import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'chai'
import type supertest from 'supertest'
import { qrSvg, qrUrl } from '../../server/services/label.service.js'
import { approveLoan, createLoan, handOver, receiveReturn } from '../../server/services/loan.service.js'
import { approvePublication, reviewReport, saveNarrative, submitReport } from '../../server/services/publication.service.js'
import { verifyChain } from '../../server/services/audit.service.js'
import type { CurrentUser } from '../../server/services/user.service.js'
import { csrfFrom } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { onPostgres, query } from '../helpers/db.js'
import { createTestHosting, type HostedAgency, type TestHosting } from '../helpers/hosting.js'

/*
 * The tenancy test (issue 20, SPEC §7): several agencies on one PostgreSQL server, told apart by the
 * request's host name (TENANCY=host). Each agency is added by the real `npm run agency -- add` and
 * served by the hosted server's front app (server/hosting.ts); every request below carries the Host
 * header a browser would send. Nothing of one agency — rows, pages, API answers, files, kept figures,
 * notifications, sessions, tokens, throttles — may reach another. PostgreSQL only: CI runs it in its
 * PostgreSQL pass.
 */

type User = CurrentUser & { password: string }

/** 15 Sep 2025, 10:00 in Bangkok: fiscal year 2568 (Oct 2024 – Sep 2025). */
const NOW = '2025-09-15T03:00:00.000Z'
const TODAY = '2025-09-15'

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')

interface People {
  finance: User
  staff: User
  executive: User
  committee: User
  /** A second finance officer: the one who hands over what the first approved (SPEC §1). */
  handler: User
}

/** The same people, made in the same order, in each agency: so their ids are the same numbers in both. */
async function people(a: HostedAgency): Promise<People> {
  return {
    finance: await makeUser(a.ctx, ['finance']),
    staff: await makeUser(a.ctx, ['staff']),
    executive: await makeUser(a.ctx, ['executive']),
    committee: await makeUser(a.ctx, ['committee']),
    handler: await makeUser(a.ctx, ['finance']),
  }
}

function loanRequest(code: string, purpose: string, over: Record<string, unknown> = {}) {
  return { assetCodes: [code], purpose, place: 'ศาลาหมู่บ้าน', kind: 'off_premises', startDate: TODAY, dueDate: '2025-09-17', ...over }
}

/** The `yk.sid=…` cookie a browser keeps after signing in on `host`'s form (and the raw Set-Cookie headers). */
async function signInCookie(h: TestHosting, host: string, username: string, password: string): Promise<{ cookie: string; setCookie: string[] }> {
  const page = await h.request(host).get('/login').expect(200)
  const first = ([] as string[]).concat(page.headers['set-cookie'] ?? [])
  const res = await h
    .request(host)
    .post('/login')
    .set('Cookie', first.map((c) => c.split(';')[0]!).join('; '))
    .type('form')
    .send({ _csrf: csrfFrom(page.text), username, password, next: '/' })
  expect(res.status, res.text.slice(0, 300)).to.equal(303)
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
  const sid = setCookie.find((c) => c.startsWith('yk.sid='))
  expect(sid, 'a session cookie after sign-in').to.be.a('string')
  return { cookie: sid!.split(';')[0]!, setCookie: [...first, ...setCookie] }
}

describe('tenancy: two agencies on one PostgreSQL server, told apart by host name — nothing of one reaches the other', function () {
  this.timeout(120_000)
  let h: TestHosting
  let A: HostedAgency
  let B: HostedAgency
  let pa: People
  let pb: People
  /** Bearer tokens: finance and staff of each agency. */
  const tok = { aFinance: '', aStaff: '', bFinance: '', bStaff: '' }

  const api = (host: string, token: string) => ({
    get: (p: string) => h.request(host).get(p).set('Authorization', `Bearer ${token}`),
    post: (p: string, body?: object) => h.request(host).post(p).set('Authorization', `Bearer ${token}`).send(body),
  })

  before(async function () {
    if (!onPostgres) this.skip()
    h = await createTestHosting({
      agencies: [{ slug: 'nongbua' }, { slug: 'khoksung' }],
      now: NOW,
      signInLimits: { perAccountAndAddress: 3, perAddress: 1000 },
    })
    A = h.agency('nongbua')
    B = h.agency('khoksung')
    pa = await people(A)
    pb = await people(B)
    tok.aFinance = await h.token(A.host, pa.finance.username)
    tok.aStaff = await h.token(A.host, pa.staff.username)
    tok.bFinance = await h.token(B.host, pb.finance.username)
    tok.bStaff = await h.token(B.host, pb.staff.username)
  })
  after(async () => {
    await h?.close()
  })

  it('when two agencies are added, then each has its own schema, its own first administrator and its own folder under DATA_DIR', async () => {
    for (const a of [A, B]) {
      expect(a.runtime.agency).to.include({ slug: a.slug, host: a.host, baseUrl: a.baseUrl })
      expect(await query(a.ctx.db).value<string>('SELECT current_schema()')).to.equal(`agency_${a.slug}`)
      expect(path.dirname(path.resolve(a.ctx.config.databasePath))).to.equal(a.folder)
      expect(a.ctx.config.publicBaseUrl).to.equal(a.baseUrl)
      // Each agency's people are its own, numbered from 1: the administrator `agency add` made, then the test's.
      const users = await query(a.ctx.db).all<{ id: number; username: string }>('SELECT id, username FROM app_user ORDER BY id')
      expect(users.map((u) => Number(u.id))).to.deep.equal([1, 2, 3, 4, 5, 6])
      expect(users[0]!.username).to.equal('admin')
    }
    expect([pa.finance.id, pa.staff.id]).to.deep.equal([pb.finance.id, pb.staff.id])
    expect(pa.finance.username).to.not.equal(pb.finance.username)
  })

  it("when finance of A adds an asset on its page and another through the API, then both are in A — and in none of B's pages, API answers, register or QR pages; ids start at 1 in each", async () => {
    const fa = await h.signIn(A.host, pa.finance.username)
    const office = await query(A.ctx.db).value<number>("SELECT id FROM category WHERE code = 'office'")
    const form = await fa.get('/assets/new').expect(200)
    const made = await fa
      .post('/assets')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), code: 'NB-0001', name: 'เครื่องฉายภาพหนองบัว', categoryId: String(office), price: '12,500.00', loanable: '1' })
    expect(made.status, made.text.slice(0, 300)).to.equal(303)
    await api(A.host, tok.aFinance).post('/api/v1/assets', { code: 'NB-0002', name: 'เต็นท์หนองบัว', category: 'office', price: 4500, loanable: true }).expect(201)
    // B's first asset, after A's two: id 1 in B too.
    await api(B.host, tok.bFinance).post('/api/v1/assets', { code: 'KS-0001', name: 'เก้าอี้โคกสูง', category: 'office', price: 300, loanable: true }).expect(201)

    const ids = async (a: HostedAgency) =>
      (await query(a.ctx.db).all<{ id: number; code: string }>('SELECT id, code FROM asset ORDER BY id')).map((r) => [Number(r.id), r.code])
    expect(await ids(A)).to.deep.equal([
      [1, 'NB-0001'],
      [2, 'NB-0002'],
    ])
    expect(await ids(B)).to.deep.equal([[1, 'KS-0001']])

    // A sees its own.
    const fb = await h.signIn(B.host, pb.finance.username)
    const aList = await fa.get('/assets').expect(200)
    expect(aList.text).to.include('NB-0001').and.include('NB-0002').and.not.include('KS-0001')
    // B's pages, API, register and QR page know nothing of A's.
    const bList = await fb.get('/assets').expect(200)
    expect(bList.text).to.include('KS-0001').and.not.include('NB-000').and.not.include('หนองบัว')
    const bApi = await api(B.host, tok.bFinance).get('/api/v1/assets').expect(200)
    expect((bApi.body as { items: Array<{ code: string }> }).items.map((i) => i.code)).to.deep.equal(['KS-0001'])
    await api(B.host, tok.bFinance).get('/api/v1/assets/NB-0001').expect(404)
    // The asset register's export.
    const bExport = await fb.get('/assets/export.csv').expect(200)
    expect(bExport.text).to.include('KS-0001').and.not.include('NB-000')
    const aExport = await fa.get('/assets/export.csv').expect(200)
    expect(aExport.text).to.include('NB-0001').and.include('NB-0002').and.not.include('KS-0001')
    // The label resolver: A's code is A's; on B's host it is a code B does not have.
    const aQr = await fa.get('/q/NB-0001').expect(200)
    expect(aQr.text).to.include('เครื่องฉายภาพหนองบัว')
    const bQr = await fb.get('/q/NB-0001').expect(404)
    expect(bQr.text).to.not.include('เครื่องฉายภาพหนองบัว')
    await fb.get('/q/KS-0001').expect(200)
  })

  it("when A's administrator adds a user on A's page, then the user can sign in to A only, and B's user list does not show them", async () => {
    const admin = await h.signIn(A.host, 'admin')
    const form = await admin.get('/admin/users/new').expect(200)
    const res = await admin
      .post('/admin/users')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        username: 'somsri.nb',
        name: 'สมศรี หนองบัว',
        position: 'นักวิชาการพัสดุ',
        password: 'another-horse-7',
        roles: 'staff',
      })
    expect(res.status, res.text.slice(0, 500)).to.equal(303)
    expect(await query(A.ctx.db).value('SELECT count(*) AS n FROM app_user WHERE username = ?', 'somsri.nb')).to.equal(1)
    expect(await query(B.ctx.db).value('SELECT count(*) AS n FROM app_user WHERE username = ?', 'somsri.nb')).to.equal(0)
    // In A the password is right (the first sign-in must change it); in B there is no such person.
    const inA = await h.request(A.host).post('/api/v1/tokens').send({ username: 'somsri.nb', password: 'another-horse-7' }).expect(403)
    expect((inA.body as { error: { code: string } }).error.code).to.equal('password_change_required')
    await h.request(B.host).post('/api/v1/tokens').send({ username: 'somsri.nb', password: 'another-horse-7' }).expect(401)
    const bAdmin = await h.signIn(B.host, 'admin')
    const bUsers = await bAdmin.get('/admin/users').expect(200)
    expect(bUsers.text).to.not.include('somsri.nb').and.not.include('สมศรี หนองบัว')
    const aUsers = await admin.get('/admin/users').expect(200)
    expect(aUsers.text).to.include('somsri.nb')
  })

  it("when staff of each agency request loans, then loan numbers start at 1/2568 in each, and A's loans are in none of B's lists, loan pages or statistics", async () => {
    const a1 = await api(A.host, tok.aStaff).post('/api/v1/loans', loanRequest('NB-0001', 'งานบุญหนองบัว ครั้งที่หนึ่ง'))
    expect(a1.status, JSON.stringify(a1.body)).to.equal(201)
    const a2 = await api(A.host, tok.aStaff).post('/api/v1/loans', loanRequest('NB-0002', 'งานบุญหนองบัว ครั้งที่สอง')).expect(201)
    const b1 = await api(B.host, tok.bStaff).post('/api/v1/loans', loanRequest('KS-0001', 'ประชุมโคกสูง')).expect(201)
    const num = (r: supertest.Response) => [(r.body as { id: number }).id, (r.body as { number: string }).number]
    expect([num(a1), num(a2)]).to.deep.equal([
      [1, '1/2568'],
      [2, '2/2568'],
    ])
    expect(num(b1)).to.deep.equal([1, '1/2568'])

    const bLoans = await api(B.host, tok.bFinance).get('/api/v1/loans').expect(200)
    expect((bLoans.body as { items: Array<{ purpose: string }> }).items.map((l) => l.purpose)).to.deep.equal(['ประชุมโคกสูง'])
    // Loan 1 of B is B's own, whatever A's loan 1 is.
    const bLoan1 = await api(B.host, tok.bFinance).get('/api/v1/loans/1').expect(200)
    expect((bLoan1.body as { purpose: string }).purpose).to.equal('ประชุมโคกสูง')
    await api(B.host, tok.bFinance).get('/api/v1/loans/2').expect(404)
    const fb = await h.signIn(B.host, pb.finance.username)
    for (const p of ['/loans', '/loans/1', '/loans/queue', '/']) {
      const res = await fb.get(p).expect(200)
      expect(res.text, p).to.not.include('หนองบัว').and.not.include('NB-000')
    }
    await fb.get('/loans/2').expect(404)
    // The loan register (page and file) lists B's loan and none of A's; A's lists A's.
    for (const p of ['/register', '/register.csv']) {
      const res = await fb.get(p).expect(200)
      expect(res.text, p).to.include('KS-0001').and.not.include('NB-000').and.not.include('หนองบัว')
    }
    const fa = await h.signIn(A.host, pa.finance.username)
    const aRegister = (await fa.get('/register.csv').expect(200)).text
    expect(aRegister).to.include('งานบุญหนองบัว ครั้งที่หนึ่ง').and.include('งานบุญหนองบัว ครั้งที่สอง').and.not.include('โคกสูง')
    // Statistics: each agency counts its own requests.
    const aReport = await api(A.host, tok.aFinance).get('/api/v1/reports/fiscal-years/2568').expect(200)
    const bReport = await api(B.host, tok.bFinance).get('/api/v1/reports/fiscal-years/2568').expect(200)
    expect((aReport.body as { requests: { total: number } }).requests.total).to.equal(2)
    expect((bReport.body as { requests: { total: number } }).requests.total).to.equal(1)
    const bStats = await fb.get('/reports').expect(200)
    expect(bStats.text).to.not.include('NB-000').and.not.include('หนองบัว')
  })

  it("when A's session cookie is sent to B's host, then it is no session there (sign-in page); A's bearer token is 401 on B", async () => {
    const { cookie } = await signInCookie(h, A.host, pa.finance.username, pa.finance.password)
    const onA = await h.request(A.host).get('/').set('Cookie', cookie)
    expect(onA.status).to.equal(200)
    expect(onA.text).to.include(pa.finance.name)
    for (const p of ['/', '/assets', '/loans/1', '/notifications']) {
      const onB = await h.request(B.host).get(p).set('Cookie', cookie)
      expect(onB.status, p).to.equal(303)
      expect(onB.headers.location, p).to.match(/^\/login/)
    }
    await api(A.host, tok.aFinance).get('/api/v1/me').expect(200)
    for (const p of ['/api/v1/me', '/api/v1/assets', '/api/v1/loans/1']) {
      const res = await api(B.host, tok.aFinance).get(p)
      expect(res.status, p).to.equal(401)
    }
    // And the other way round.
    await api(A.host, tok.bStaff).get('/api/v1/me').expect(401)
  })

  it('when sign-ins to A are throttled for a username from an address, then the same username from the same address still signs in to B', async () => {
    await makeUser(A.ctx, ['staff'], { username: 'somchai' })
    await makeUser(B.ctx, ['staff'], { username: 'somchai' })
    for (let i = 0; i < 3; i++) await h.request(A.host).post('/api/v1/tokens').send({ username: 'somchai', password: 'wrong-password-1' }).expect(401)
    // A's limit is reached: even the right password waits.
    await h.request(A.host).post('/api/v1/tokens').send({ username: 'somchai', password: 'correct-horse-9' }).expect(429)
    const page = await h.request(A.host).get('/login').expect(200)
    const locked = await h
      .request(A.host)
      .post('/login')
      .set(
        'Cookie',
        ([] as string[]).concat(page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]!),
      )
      .type('form')
      .send({ _csrf: csrfFrom(page.text), username: 'somchai', password: 'correct-horse-9', next: '/' })
    expect(locked.status).to.equal(429)
    // B's throttle is B's own.
    await h.request(B.host).post('/api/v1/tokens').send({ username: 'somchai', password: 'correct-horse-9' }).expect(201)
    await h.signIn(B.host, 'somchai')
  })

  it("when finance of A attaches a file to A's loan, then it lands under DATA_DIR/<a>/ only and B's same loan and attachment numbers do not serve it", async () => {
    const fa = await h.signIn(A.host, pa.finance.username)
    const page = await fa.get('/loans/1').expect(200)
    const up = await fa
      .post('/loans/1/attachments')
      .field('_csrf', csrfFrom(page.text))
      .field('kind', 'signed_slip')
      .attach('file', PNG, { filename: 'ใบยืมหนองบัว.png', contentType: 'image/png' })
    expect(up.status, up.text.slice(0, 300)).to.equal(303)
    const row = await query(A.ctx.db).get<{ id: number; stored_name: string }>('SELECT id, stored_name FROM loan_attachment')
    expect(Number(row!.id)).to.equal(1)
    expect(A.ctx.config.attachmentsDir.startsWith(A.folder + path.sep)).to.equal(true)
    expect(fs.readFileSync(path.join(A.ctx.config.attachmentsDir, row!.stored_name)).equals(PNG)).to.equal(true)
    const bFiles = fs.existsSync(B.ctx.config.attachmentsDir) ? fs.readdirSync(B.ctx.config.attachmentsDir) : []
    expect(bFiles).to.deep.equal([])
    // Nothing else of the installation's folder holds it: only A's folder.
    const everywhere = fs
      .readdirSync(h.dataDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(row!.stored_name))
    expect(everywhere).to.deep.equal([path.join(A.slug, path.relative(A.folder, A.ctx.config.attachmentsDir), row!.stored_name)])

    const got = await fa.get('/loans/1/attachments/1').buffer(true).expect(200)
    expect(Buffer.from(got.body as Buffer).equals(PNG)).to.equal(true)
    // B has a loan 1 too, with no attachment: its attachment 1 is not found, and A's bytes never come back.
    const fb = await h.signIn(B.host, pb.finance.username)
    const fromB = await fb.get('/loans/1/attachments/1').buffer(true)
    expect(fromB.status).to.equal(404)
    expect(Buffer.isBuffer(fromB.body) && (fromB.body as Buffer).equals(PNG)).to.equal(false)
    // A's cookie on B's host does not reach A's file either.
    const { cookie } = await signInCookie(h, A.host, pa.finance.username, pa.finance.password)
    const crossed = await h.request(B.host).get('/loans/1/attachments/1').set('Cookie', cookie)
    expect(crossed.status).to.equal(303)
  })

  it("when each agency writes, then its audit anchor log and its keys (session, anchor) are its own files in its own folder, and only the writer's anchor log grows", async () => {
    for (const a of [A, B]) {
      for (const f of ['session.key', 'audit-anchor.key', 'audit-anchor.log']) expect(fs.existsSync(path.join(a.folder, f)), `${a.slug}/${f}`).to.equal(true)
    }
    const read = (a: HostedAgency, f: string) => fs.readFileSync(path.join(a.folder, f), 'utf8')
    expect(read(A, 'session.key')).to.not.equal(read(B, 'session.key'))
    expect(read(A, 'audit-anchor.key')).to.not.equal(read(B, 'audit-anchor.key'))
    // Nothing of an agency is kept at the top of DATA_DIR: only the agencies' folders.
    expect(fs.readdirSync(h.dataDir).sort()).to.deep.equal([A.slug, B.slug].sort())

    const before = { a: read(A, 'audit-anchor.log'), b: read(B, 'audit-anchor.log') }
    await makeAsset(A.ctx, { code: 'NB-ANCHOR' })
    const after = { a: read(A, 'audit-anchor.log'), b: read(B, 'audit-anchor.log') }
    expect(after.a.length).to.be.greaterThan(before.a.length)
    expect(after.b).to.equal(before.b)
    for (const a of [A, B]) {
      const chain = await verifyChain(a.ctx.db)
      expect(chain.ok, `${a.slug}: ${JSON.stringify(chain)}`).to.equal(true)
    }
  })

  it("when A writes, then A's kept figures (statistics, dashboard counts) change and B's stay exactly as they were — and the other way round", async () => {
    const report = async (host: string, token: string) =>
      (await api(host, token).get('/api/v1/reports/fiscal-years/2568').expect(200)).body as { requests: { total: number } }
    const dashboard = async (agent: supertest.Agent) => (await agent.get('/').expect(200)).text
    const fa = await h.signIn(A.host, pa.finance.username)
    const fb = await h.signIn(B.host, pb.finance.username)
    // Read twice each: the second answer is the kept one.
    for (let i = 0; i < 2; i++) {
      await report(A.host, tok.aFinance)
      await report(B.host, tok.bFinance)
      await dashboard(fa)
      await dashboard(fb)
    }
    const b0 = await report(B.host, tok.bFinance)
    const a0 = await report(A.host, tok.aFinance)
    const bHome0 = await dashboard(fb)
    await makeAsset(A.ctx, { code: 'NB-0003' })
    await api(A.host, tok.aStaff).post('/api/v1/loans', loanRequest('NB-0003', 'งานบุญหนองบัว ครั้งที่สาม')).expect(201)
    const a1 = await report(A.host, tok.aFinance)
    expect(a1.requests.total).to.equal(a0.requests.total + 1)
    expect(await report(B.host, tok.bFinance)).to.deep.equal(b0)
    const bHome1 = await dashboard(fb)
    expect(stripTokens(bHome1)).to.equal(stripTokens(bHome0))
    expect(stripTokens(await dashboard(fa))).to.include('3/2568')

    // The other way round: B writes, A's figures stay.
    const aKept = await report(A.host, tok.aFinance)
    const aHome = stripTokens(await dashboard(fa))
    await makeAsset(B.ctx, { code: 'KS-0002' })
    await api(B.host, tok.bStaff).post('/api/v1/loans', loanRequest('KS-0002', 'ประชุมโคกสูง ครั้งที่สอง')).expect(201)
    expect((await report(B.host, tok.bFinance)).requests.total).to.equal(b0.requests.total + 1)
    expect(stripTokens(await dashboard(fb))).to.include('2/2568')
    expect(await report(A.host, tok.aFinance)).to.deep.equal(aKept)
    expect(stripTokens(await dashboard(fa))).to.equal(aHome)
  })

  it("when a loan request in A notifies A's finance, then B's user of the same id has no notification and B's unread count is unchanged", async () => {
    const unread = async (host: string, token: string) =>
      (await api(host, token).get('/api/v1/me/notifications').expect(200)).body as { unread: number; items: Array<{ kind: string; url: string }> }
    const bBefore = await unread(B.host, tok.bFinance)
    const aBefore = await unread(A.host, tok.aFinance)
    await makeAsset(A.ctx, { code: 'NB-0004' })
    await api(A.host, tok.aStaff).post('/api/v1/loans', loanRequest('NB-0004', 'งานบุญหนองบัว ครั้งที่สี่')).expect(201)
    const aAfter = await unread(A.host, tok.aFinance)
    expect(aAfter.unread).to.equal(aBefore.unread + 1)
    expect(aAfter.items[0]!.kind).to.equal('loan.requested')
    // A's notification links carry A's own base URL.
    expect(aAfter.items[0]!.url.startsWith(`${A.baseUrl}/`)).to.equal(true)
    expect(pa.finance.id).to.equal(pb.finance.id)
    expect(await unread(B.host, tok.bFinance)).to.deep.equal(bBefore)
    expect(bBefore.items.every((n) => n.url.startsWith(`${B.baseUrl}/`))).to.equal(true)
    const fb = await h.signIn(B.host, pb.finance.username)
    const page = await fb.get('/notifications').expect(200)
    expect(page.text).to.not.include('หนองบัว').and.not.include('NB-000')
  })

  it("when each agency prints labels, then each label's QR carries that agency's own PUBLIC_BASE_URL from the registry", async () => {
    expect(A.baseUrl).to.not.equal(B.baseUrl)
    const fa = await h.signIn(A.host, pa.finance.username)
    const fb = await h.signIn(B.host, pb.finance.username)
    const aSheet = (await fa.get('/labels/sheet?ids=1').expect(200)).text
    const bSheet = (await fb.get('/labels/sheet?ids=1').expect(200)).text
    expect(aSheet).to.include(qrSvg(qrUrl(A.baseUrl, 'NB-0001')))
    expect(aSheet).to.not.include(qrSvg(qrUrl(B.baseUrl, 'NB-0001')))
    expect(bSheet).to.include(qrSvg(qrUrl(B.baseUrl, 'KS-0001')))
    expect(bSheet).to.not.include(qrSvg(qrUrl(A.baseUrl, 'KS-0001')))
    // The settings page shows each agency its own.
    const aSettings = (await (await h.signIn(A.host, 'admin')).get('/admin/settings').expect(200)).text
    const bSettings = (await (await h.signIn(B.host, 'admin')).get('/admin/settings').expect(200)).text
    expect(aSettings).to.include(`value="${A.baseUrl}"`).and.not.include(B.baseUrl)
    expect(bSettings).to.include(`value="${B.baseUrl}"`).and.not.include(A.baseUrl)
    // A label of A scanned in B is another site's label, not one of B's assets.
    const scan = await fb.get(`/scan?code=${encodeURIComponent(qrUrl(A.baseUrl, 'NB-0001'))}`)
    expect(scan.status).to.not.equal(303)
  })

  it('when a host is not registered, then a plain 404 page answers; /healthz answers 200 for any host; cookies are host-only (no Domain)', async () => {
    for (const host of ['unknown.example.go.th', 'nongbua.example.go.th.evil.test', 'example.go.th']) {
      const res = await h.request(host).get('/')
      expect(res.status, host).to.equal(404)
      expect(res.headers['content-type'], host).to.match(/^text\/html/)
      expect(res.text).to.include('ไม่พบหน่วยงานนี้')
      expect(res.headers['set-cookie'], host).to.equal(undefined)
      await h.request(host).get('/login').expect(404)
      await h.request(host).post('/api/v1/tokens').send({ username: 'admin', password: 'correct-horse-9' }).expect(404)
      await h.request(host).get('/q/NB-0001').expect(404)
    }
    for (const host of ['unknown.example.go.th', A.host, B.host, 'localhost']) {
      const res = await h.request(host).get('/healthz')
      expect(res.status, host).to.equal(200)
    }
    // A's host in another case and with a port is still A.
    const mixed = await h.request('NongBua.Example.go.th:8080').get('/transparency').expect(200)
    expect(mixed.text).to.include(A.name).and.not.include(B.name)
    const { setCookie } = await signInCookie(h, A.host, pa.finance.username, pa.finance.password)
    expect(setCookie.length).to.be.greaterThan(0)
    for (const c of setCookie) expect(c, c).to.not.match(/;\s*domain=/i)
  })

  it("when fiscal year 2568 is published in both, then each transparency JSON and CSV carries only its own agency's loans and assets", async () => {
    // Loan 1 of each goes out (checked, approved, handed over) while the year runs: its asset is among the year's top assets.
    for (const [a, p, code] of [
      [A, pa, 'NB-0001'],
      [B, pb, 'KS-0001'],
    ] as const) {
      await approveLoan(a.ctx, p.finance, 1, {})
      await approveLoan(a.ctx, p.executive, 1, {})
      await handOver(a.ctx, p.handler, 1, { confirmedCodes: [code] })
    }
    h.clock.set('2025-10-10T03:00:00.000Z')
    try {
      const narrative = { summary: 'สรุป', problems: 'ไม่มี', suggestions: 'ไม่มี' }
      for (const [a, p] of [
        [A, pa],
        [B, pb],
      ] as const) {
        await saveNarrative(a.ctx, p.finance, 2568, 'year', narrative)
        await submitReport(a.ctx, p.finance, 2568, 'year', { memoNumber: 'นม 0001/2568' })
        await reviewReport(a.ctx, p.committee, 2568, 'year', {})
        await approvePublication(a.ctx, p.executive, 2568, 'year', {})
      }
      const aJson = (await h.request(A.host).get('/transparency/2568.json').expect(200)).body as { requests: { total: number } }
      const bJson = (await h.request(B.host).get('/transparency/2568.json').expect(200)).body as { requests: { total: number } }
      expect(aJson.requests.total).to.equal(4)
      expect(bJson.requests.total).to.equal(2)
      const aText = JSON.stringify(aJson)
      const bText = JSON.stringify(bJson)
      expect(aText).to.include('NB-0001')
      expect(bText).to.include('KS-0001').and.not.include('NB-000').and.not.include('หนองบัว')
      expect(aText).to.not.include('KS-000').and.not.include('โคกสูง')
      const bCsv = (await h.request(B.host).get('/transparency/2568.csv').expect(200)).text
      expect(bCsv).to.not.include('NB-000').and.not.include('หนองบัว')
      const bPage = (await h.request(B.host).get('/transparency').expect(200)).text
      expect(bPage).to.include(B.name).and.not.include(A.name)
    } finally {
      h.clock.set(NOW)
    }
  })
})

/** A page without its per-request tokens (CSRF), so that two renderings of the same state compare equal. */
function stripTokens(html: string): string {
  return html.replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf"').replace(/<meta name="csrf-token" content="[^"]+"/g, '<meta name="csrf-token"')
}

describe('tenancy: writers in three agencies at once — nothing lost, each numbers its own loans 1…n, every chain verifies', function () {
  this.timeout(300_000)
  const AGENCIES = 3
  const WRITERS = 4
  /** Four write transactions each (request, approval, hand-over, return): 16 per writer, 64 per agency, 192 in all. */
  const LOANS_EACH = 4
  let h: TestHosting
  interface Writer {
    borrower: User
    code: string
  }
  interface Side {
    agency: HostedAgency
    approver: User
    handler: User
    writers: Writer[]
    /** What one journey writes to the audit log when nobody else writes, and its loan's actions. */
    journeyEntries: number
    journeyActions: string[]
  }
  let sides: Side[]

  const auditCount = async (s: Side) => Number(await query(s.agency.ctx.db).value('SELECT count(*) AS n FROM audit_log'))
  async function actionsOf(s: Side, loanId: number): Promise<string[]> {
    const rows = await query(s.agency.ctx.db).all<{ action: string }>(
      "SELECT action FROM audit_log WHERE entity = 'loan' AND entity_id = ? ORDER BY id",
      String(loanId),
    )
    return rows.map((r) => r.action)
  }

  /** One loan's journey in its agency, through the services on the agency's own context: four write transactions. */
  async function journey(s: Side, w: Writer): Promise<number> {
    const ctx = s.agency.ctx
    const loan = await createLoan(ctx, w.borrower, {
      assetCodes: [w.code],
      purpose: `ประชุม ${s.agency.slug}`,
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: TODAY,
      dueDate: '2025-09-16',
    })
    await approveLoan(ctx, s.approver, loan.loan.id, {})
    await handOver(ctx, s.handler, loan.loan.id, { confirmedCodes: [w.code] })
    await receiveReturn(ctx, s.handler, loan.loan.id, { items: [{ assetCode: w.code, condition: 'good' }] })
    return loan.loan.id
  }

  before(async function () {
    if (!onPostgres) this.skip()
    h = await createTestHosting({ agencies: ['north', 'middle', 'south'].slice(0, AGENCIES).map((s) => ({ slug: `village_${s}` })), now: NOW })
    sides = []
    for (const agency of h.agencies) {
      // The finance officer who approves an in-premises loan does not hand it over (SPEC §1): another one does.
      const side: Side = {
        agency,
        approver: await makeUser(agency.ctx, ['finance']),
        handler: await makeUser(agency.ctx, ['finance']),
        writers: [],
        journeyEntries: 0,
        journeyActions: [],
      }
      for (let i = 0; i < WRITERS; i++) {
        side.writers.push({
          borrower: await makeUser(agency.ctx, ['staff']),
          code: (await makeAsset(agency.ctx, { code: `${agency.slug.toUpperCase().replace(/_/g, '-')}-${i + 1}` })).code,
        })
      }
      // One journey alone first: what it writes to the audit log when nobody else writes.
      const n = await auditCount(side)
      const first = await journey(side, side.writers[0]!)
      side.journeyEntries = (await auditCount(side)) - n
      side.journeyActions = await actionsOf(side, first)
      expect(side.journeyActions.length, side.journeyActions.join(', ')).to.be.greaterThanOrEqual(4)
      sides.push(side)
    }
  })
  after(async () => {
    await h?.close()
  })

  it(`when ${WRITERS} writers in each of ${AGENCIES} agencies run ${LOANS_EACH} loan journeys each, all at once, then no error, every loan is returned in its own agency, numbered 1…n there, and every agency's audit chain verifies`, async () => {
    const before = await Promise.all(sides.map(auditCount))
    const made = sides.map((s) => s.writers.map(() => [] as number[]))
    const results = await Promise.allSettled(
      sides.flatMap((s, si) =>
        s.writers.map(async (w, wi) => {
          for (let k = 0; k < LOANS_EACH; k++) made[si]![wi]!.push(await journey(s, w))
        }),
      ),
    )
    const errors = results.flatMap((r, i) =>
      r.status === 'rejected' ? [`writer ${i + 1}: ${r.reason instanceof Error ? r.reason.stack : String(r.reason)}`] : [],
    )
    expect(errors, errors.join('\n')).to.deep.equal([])

    for (const [si, s] of sides.entries()) {
      const db = s.agency.ctx.db
      const slug = s.agency.slug
      const ids = made[si]!.flat()
      expect(ids, slug).to.have.length(WRITERS * LOANS_EACH)
      expect(new Set(ids).size, slug).to.equal(ids.length)
      // The solo journey's loan and the race's, each once, returned, numbered 1…n in this agency — none of another's.
      const total = 1 + WRITERS * LOANS_EACH
      const loans = await query(db).all<{ id: number; seq: number; fiscal_year: number; status: string; purpose: string }>(
        'SELECT id, seq, fiscal_year, status, purpose FROM loan ORDER BY seq',
      )
      expect(loans, slug).to.have.length(total)
      expect(
        loans.map((l) => Number(l.seq)),
        slug,
      ).to.deep.equal(loans.map((_, i) => i + 1))
      expect(loans.map((l) => Number(l.id)).sort((x, y) => x - y)).to.deep.equal(loans.map((_, i) => i + 1))
      expect(new Set(loans.map((l) => Number(l.fiscal_year)))).to.deep.equal(new Set([2568]))
      expect(loans.filter((l) => l.status !== 'returned')).to.deep.equal([])
      expect(new Set(loans.map((l) => l.purpose))).to.deep.equal(new Set([`ประชุม ${slug}`]))
      expect(Number(await query(db).value('SELECT last_seq FROM loan_number WHERE fiscal_year = 2568'))).to.equal(total)
      const assets = await query(db).all<{ code: string; status: string }>('SELECT code, status FROM asset ORDER BY code')
      expect(assets.map((a) => a.code)).to.deep.equal(s.writers.map((w) => w.code).sort())
      expect(assets.filter((a) => a.status !== 'available')).to.deep.equal([])
      // Every journey wrote what it writes alone, into its own agency's chain, which verifies unbroken.
      for (const id of ids) expect(await actionsOf(s, id), `${slug} loan ${id}`).to.deep.equal(s.journeyActions)
      const after = await auditCount(s)
      expect(after - before[si]!, slug).to.equal(WRITERS * LOANS_EACH * s.journeyEntries)
      const chain = await verifyChain(db)
      expect(chain, `${slug}: ${JSON.stringify(chain)}`).to.include({ ok: true, entries: after })
      expect(chain.head.seq).to.equal(after)
    }
  })
})
