import { expect } from 'chai'
import supertest from 'supertest'
import { approveLoan, createLoan } from '../../server/services/loan.service.js'
import { startMailSender } from '../../server/services/mail-sender.service.js'
import { apiToken, createTestApp, csrfFrom, csrfOf, postForm, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { startTestSmtp } from '../helpers/smtp.js'

/* Issue 18: the header's count on every page, /notifications, the API, e-mail settings and the admin's mail queue. */
describe('notification pages and API (issue 18)', function () {
  this.timeout(60_000)
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp({ now: '2025-01-15T03:00:00.000Z' })
  })
  afterEach(() => t.close())

  const req = (code: string, over: Record<string, unknown> = {}) => ({
    assetCodes: [code],
    purpose: 'ประชุมประจำเดือน',
    place: 'ห้องประชุม',
    kind: 'in_premises',
    startDate: '2025-01-15',
    dueDate: '2025-01-17',
    ...over,
  })

  /** A borrower with `n` approved loans, so `n` notifications ("approved"); one made yesterday (Bangkok). */
  async function borrowerWithNotifications(n: number) {
    const { agent, user } = await signedInAs(t, ['staff'])
    const finance = await makeUser(t.ctx, ['finance'])
    for (let i = 0; i < n; i++) {
      if (i === 0) t.ctx.clock.set('2025-01-14T03:00:00.000Z')
      else t.ctx.clock.set('2025-01-15T03:00:00.000Z')
      await makeAsset(t.ctx, { code: `N-${i}`, name: `โต๊ะพับ ${i}` })
      const loan = await createLoan(t.ctx, user, req(`N-${i}`, { startDate: '2025-01-16', dueDate: '2025-01-18' }))
      await approveLoan(t.ctx, finance, loan.loan.id, {})
    }
    return { agent, user, finance }
  }

  const badge = (html: string) => /class="notif-bell"[^\n]*?data-unread="(\d+)"/.exec(html)?.[1]

  it('when a person has unread notifications, then every page shows the count in the header, and none without', async () => {
    const { agent } = await borrowerWithNotifications(3)
    for (const path of ['/', '/loans', '/assets', '/account']) {
      const page = await agent.get(path).expect(200)
      expect(page.text, path).to.match(/class="notif-bell" href="\/notifications" aria-label="การแจ้งเตือน ยังไม่ได้อ่าน 3 รายการ"/)
      expect(badge(page.text), path).to.equal('3')
    }
    const { agent: other } = await signedInAs(t, ['committee'])
    const page = await other.get('/').expect(200)
    expect(page.text).to.include('class="notif-bell"')
    expect(page.text).to.not.include('data-unread=')
  })

  it('when /notifications is opened, then it lists newest first grouped by day, marks what it shows read, and the header count drops', async () => {
    const { agent } = await borrowerWithNotifications(3)
    const page = await agent.get('/notifications').expect(200)
    const titles = [...page.text.matchAll(/class="notification-title">(?:<span class="badge notification-new">ใหม่<\/span> )?([^<]+)</g)].map((m) => m[1])
    expect(titles).to.deep.equal(['ใบยืมเลขที่ 3/2568 ได้รับอนุมัติแล้ว', 'ใบยืมเลขที่ 2/2568 ได้รับอนุมัติแล้ว', 'ใบยืมเลขที่ 1/2568 ได้รับอนุมัติแล้ว'])
    expect(page.text.match(/<section class="notification-day"/g)).to.have.length(2)
    expect(page.text).to.include('วันนี้ · ')
    expect(page.text).to.include('เมื่อวาน · ')
    expect(page.text.match(/notification unread/g), 'shown as new this time').to.have.length(3)
    expect(page.text, 'the header already counts them read').to.not.include('data-unread=')
    expect(page.text).to.match(/href="\/loans\/\d+"/)
    const again = await agent.get('/notifications').expect(200)
    expect(again.text).to.not.include('notification unread')
    expect((await agent.get('/').expect(200)).text).to.not.include('data-unread=')
  })

  it('when "mark all read" is posted, then all are read; without the CSRF token, 403 and nothing changes', async () => {
    const { agent, user } = await borrowerWithNotifications(2)
    const refused = await agent.post('/notifications/read').type('form').send({})
    expect(refused.status).to.equal(403)
    const unread = () => t.ctx.db.selectFrom('notification').select('id').where('user_id', '=', user.id).where('read_at', 'is', null).execute()
    expect(await unread()).to.have.length(2)
    const res = await agent
      .post('/notifications/read')
      .type('form')
      .send({ _csrf: await csrfOf(agent, '/account') })
    expect(res.status).to.equal(303)
    expect(res.headers.location).to.equal('/notifications')
    expect(await unread()).to.have.length(0)
  })

  it('when the API lists notifications, then it never marks them read; POST …/read marks the ids given (only the caller’s) or all', async () => {
    const { user } = await borrowerWithNotifications(3)
    const token = await apiToken(t.app, user.username, 'correct-horse-9')
    const api = (m: 'get' | 'post', path: string) => supertest(t.app)[m](path).set('Authorization', `Bearer ${token}`)
    const first = await api('get', '/api/v1/me/notifications').expect(200)
    expect(first.body.unread).to.equal(3)
    expect(first.body.items).to.have.length(3)
    expect(first.body.items[0]).to.include({ kind: 'loan.approved', title: 'ใบยืมเลขที่ 3/2568 ได้รับอนุมัติแล้ว', readAt: null })
    expect(first.body.items[0].url).to.match(/^https:\/\/yk\.example\.go\.th\/loans\/\d+$/)
    expect((await api('get', '/api/v1/me/notifications').expect(200)).body.unread, 'a GET marks nothing').to.equal(3)

    // Someone else's notification id is ignored.
    const stranger = await makeUser(t.ctx, ['finance'])
    const theirs = await t.ctx.db.selectFrom('notification').select('id').where('user_id', '!=', user.id).executeTakeFirst()
    const ids = [first.body.items[0].id, ...(theirs ? [theirs.id] : [])]
    const marked = await api('post', '/api/v1/me/notifications/read').send({ ids }).expect(200)
    expect(marked.body).to.deep.equal({ marked: 1, unread: 2 })
    expect(stranger.id).to.be.a('number')
    await api('post', '/api/v1/me/notifications/read')
      .send({ ids: ['x'] })
      .expect(422)
    expect((await api('post', '/api/v1/me/notifications/read').send({}).expect(200)).body).to.deep.equal({ marked: 2, unread: 0 })
    const unreadOnly = await api('get', '/api/v1/me/notifications?unread=true').expect(200)
    expect(unreadOnly.body.items).to.have.length(0)
    await supertest(t.app).get('/api/v1/me/notifications').expect(401)
  })

  it('when a person sets their e-mail on /account, then it is kept with the switch; a malformed address answers 422 on the field', async () => {
    const { agent, user } = await signedInAs(t, ['staff'])
    const bad = await postForm(agent, '/account', '/account/email', { email: 'not an address', emailEnabled: '1' })
    expect(bad.status).to.equal(422)
    expect(bad.text).to.include('รูปแบบอีเมลไม่ถูกต้อง')
    expect(bad.text).to.include('aria-invalid="true"')
    const ok = await postForm(agent, '/account', '/account/email', { email: 'somchai@example.go.th' })
    expect(ok.status).to.equal(303)
    const row = await t.ctx.db.selectFrom('app_user').select(['email', 'email_enabled']).where('id', '=', user.id).executeTakeFirstOrThrow()
    expect(row).to.deep.equal({ email: 'somchai@example.go.th', email_enabled: 0 })
    const page = await agent.get('/account').expect(200)
    expect(page.text).to.include('value="somchai@example.go.th"')
    expect(page.text).to.not.match(/name="emailEnabled" value="1" checked/)
  })

  it('when the admin sets a user’s e-mail on /admin/users/:id, then it is stored and shown', async () => {
    const { agent } = await signedInAs(t, ['admin'])
    const staff = await makeUser(t.ctx, ['staff'])
    const form = await agent.get(`/admin/users/${staff.id}`).expect(200)
    expect(form.text).to.include('name="email"')
    const res = await agent
      .post(`/admin/users/${staff.id}`)
      .type('form')
      .send({ _csrf: csrfFrom(form.text), name: staff.name, roles: 'staff', borrowerType: 'employee', locale: 'th', active: '1', email: 'staff@example.go.th' })
    expect(res.status).to.equal(303)
    expect((await agent.get(`/admin/users/${staff.id}`).expect(200)).text).to.include('value="staff@example.go.th"')
  })

  it('when the mail server is down, then a request that notifies stays fast, the admin page shows the queue and the last error, and the mail goes out when it is back', async () => {
    const smtp = await startTestSmtp()
    const port = smtp.port
    await smtp.stop()
    await t.close()
    t = await createTestApp({ now: '2025-01-15T03:00:00.000Z', env: { SMTP_URL: `smtp://127.0.0.1:${port}` } })
    const sender = startMailSender(t.ctx, { pollMs: 50, baseBackoffMs: 50, maxBackoffMs: 200 })!
    try {
      const staff = await makeUser(t.ctx, ['staff'])
      await t.ctx.db.updateTable('app_user').set({ email: 'staff@example.go.th' }).where('id', '=', staff.id).execute()
      await makeAsset(t.ctx, { code: 'AMP-1' })
      const loan = await createLoan(t.ctx, staff, req('AMP-1'))
      const { agent } = await signedInAs(t, ['finance'])
      const page = await agent.get(`/loans/${loan.loan.id}`).expect(200)
      const started = performance.now()
      const res = await agent
        .post(`/loans/${loan.loan.id}/approve`)
        .type('form')
        .send({ _csrf: csrfFrom(page.text) })
      const took = performance.now() - started
      expect(res.status).to.equal(303)
      expect(took, 'the approval does not wait for the mail server').to.be.below(500)
      await new Promise((r) => setTimeout(r, 400))
      const { agent: admin } = await signedInAs(t, ['admin'])
      const hub = await admin.get('/admin').expect(200)
      expect(hub.text).to.include('คิวอีเมลแจ้งเตือน')
      expect(hub.text).to.match(/<dt>รอส่ง<\/dt><dd>1/)
      expect(hub.text).to.match(/ECONNREFUSED/)
      await smtp.start()
      await smtp.waitFor(1)
      expect(smtp.mails[0]!.subject).to.equal('[ยืม-คืน] ใบยืมเลขที่ 1/2568 ได้รับอนุมัติแล้ว')
      await new Promise((r) => setTimeout(r, 100))
      const after = await admin.get('/admin').expect(200)
      expect(after.text).to.match(/<dt>รอส่ง<\/dt><dd>0/)
      expect(after.text).to.match(/<dt>ส่งแล้ว<\/dt><dd>1/)
    } finally {
      await sender.stop()
      await smtp.stop()
    }
  })
})
