import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { openDb, type OpenDb } from '../../db/connection.js'
import { approveLoan, createLoan, decideExtension, handOver, rejectLoan, requestExtension } from '../../server/services/loan.service.js'
import { disputePaperApproval } from '../../server/services/loan-paper.service.js'
import { listNotifications, makeReminders, markNotificationsRead } from '../../server/services/notification.service.js'
import { backoffMs, MAX_BACKOFF_MS, startMailSender, type MailSender } from '../../server/services/mail-sender.service.js'
import { updateSettings } from '../../server/services/settings.service.js'
import { setOwnEmail, updateUser } from '../../server/services/user.service.js'
import { createTestContext, createTestDb, databaseUrlOf, onPostgres, openOtherHandle, sqliteOnly, type TestContext } from '../helpers/db.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { withApprovers } from '../helpers/approvers.js'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js'
import { ADMIN, startServer } from '../helpers/server-process.js'
import { backupTarget, createBackup } from '../../server/services/backup.service.js'
import { restoreDatabase } from '../../server/services/backup-restore.service.js'

/*
 * Issue 18 (SPEC §8): notifications for each event, written in the event's transaction; e-mail from the
 * outbox through a real SMTP server (smtp-server on a free localhost port) — once, Thai subject, link.
 */
describe('notifications and e-mail (issue 18)', function () {
  this.timeout(60_000)
  let smtp: TestSmtp
  let ctx: TestContext
  let sender: MailSender | undefined

  beforeEach(async () => {
    smtp = await startTestSmtp()
    ctx = await createTestContext({ now: '2025-01-15T03:00:00.000Z', env: { SMTP_URL: smtp.url, MAIL_FROM: 'พัสดุ อบต. <supplies@example.go.th>' } })
  })
  afterEach(async () => {
    await sender?.stop()
    sender = undefined
    await ctx.close()
    await smtp.stop()
  })

  const req = (codes: string[], over: Record<string, unknown> = {}) => ({
    assetCodes: codes,
    purpose: 'งานบุญประจำปีหมู่ 3',
    place: 'วัดบ้านหนองบัว',
    kind: 'in_premises',
    startDate: '2025-01-15',
    dueDate: '2025-01-17',
    ...over,
  })

  async function withEmail<T extends { id: number }>(user: T, email: string): Promise<T> {
    await ctx.db.updateTable('app_user').set({ email }).where('id', '=', user.id).execute()
    return user
  }

  const kinds = async (userId: number) =>
    (await ctx.db.selectFrom('notification').select('kind').where('user_id', '=', userId).orderBy('id').execute()).map((r) => r.kind)

  it('when a loan is requested, approved and rejected, then finance and the borrower each get one mail with a Thai subject, the loan number, the items and a link', async () => {
    const staff = await withEmail(await makeUser(ctx, ['staff'], { name: 'นางสาวสมใจ ใจดี' }), 'somjai@example.go.th')
    const finance = await withEmail(await makeUser(ctx, ['finance']), 'finance@example.go.th')
    await makeAsset(ctx, { code: 'AMP-1', name: 'เครื่องขยายเสียง' })
    await makeAsset(ctx, { code: 'TENT-1', name: 'เต็นท์' })
    sender = startMailSender(ctx, { pollMs: 50 })

    const loan = await createLoan(ctx, staff, req(['AMP-1']))
    await approveLoan(ctx, finance, loan.loan.id, {})
    const other = await createLoan(ctx, staff, req(['TENT-1']))
    await rejectLoan(ctx, finance, other.loan.id, { reason: 'ซ้ำกับงานอื่น' })

    const mails = await smtp.waitFor(4)
    await new Promise((r) => setTimeout(r, 300)) // and no more
    expect(mails).to.have.length(4)
    const toFinance = mails.filter((m) => m.to[0] === 'finance@example.go.th')
    const toStaff = mails.filter((m) => m.to[0] === 'somjai@example.go.th')
    expect(toFinance.map((m) => m.subject)).to.deep.equal([
      `[ยืม-คืน] คำขอยืมใหม่ เลขที่ ${loan.number} รอการตรวจสอบ`,
      `[ยืม-คืน] คำขอยืมใหม่ เลขที่ ${other.number} รอการตรวจสอบ`,
    ])
    expect(toStaff.map((m) => m.subject)).to.deep.equal([`[ยืม-คืน] ใบยืมเลขที่ ${loan.number} ได้รับอนุมัติแล้ว`, `[ยืม-คืน] ใบยืมเลขที่ ${other.number} ไม่ได้รับอนุมัติ`])
    const approved = toStaff[0]!
    expect(approved.text).to.include('เครื่องขยายเสียง (AMP-1)')
    expect(approved.text).to.include('17 มกราคม 2568') // the due date, Buddhist era
    expect(approved.text).to.include(`https://yk.example.go.th/loans/${loan.loan.id}`)
    expect(approved.from).to.equal('supplies@example.go.th')
    expect(toStaff[1]!.text).to.include('ซ้ำกับงานอื่น')
    const rows = await ctx.db.selectFrom('mail_outbox').select(['sent_at', 'attempts']).execute()
    expect(rows.every((r) => r.sent_at !== null && r.attempts === 1)).to.equal(true)
  })

  it('when each event of SPEC §8 and §1 happens, then the person it concerns gets a notification, and the actor none', async () => {
    const staff = await makeUser(ctx, ['staff'])
    const finance = await makeUser(ctx, ['finance'])
    const finance2 = await makeUser(ctx, ['finance'])
    const exec = await makeUser(ctx, ['executive'])
    const committee = await makeUser(ctx, ['committee'])
    const admin = await makeUser(ctx, ['admin'])
    await makeAsset(ctx, { code: 'AMP-1' })
    await makeAsset(ctx, { code: 'TENT-1' })

    // Off the premises: finance's check puts it before the executive.
    const off = await createLoan(ctx, staff, req(['AMP-1'], { kind: 'off_premises' }))
    expect((await kinds(finance.id)).filter((k) => k.startsWith('loan.'))).to.deep.equal(['loan.requested'])
    await approveLoan(ctx, finance, off.loan.id, {})
    expect((await kinds(exec.id)).filter((k) => k.startsWith('loan.'))).to.deep.equal(['loan.awaitingApproval'])
    expect(
      (await kinds(finance.id)).filter((k) => k.startsWith('loan.')),
      'the checker is not told of their own check',
    ).to.deep.equal(['loan.requested'])
    await approveLoan(ctx, exec, off.loan.id, {})
    expect(await kinds(staff.id)).to.deep.equal(['loan.approved'])
    await handOver(ctx, finance2, off.loan.id)
    await requestExtension(ctx, staff, off.loan.id, { dueDate: '2025-01-19', reason: 'งานเลื่อนออกไป' })
    expect((await kinds(finance2.id)).at(-1)).to.equal('loan.extensionRequested')
    expect((await kinds(exec.id)).at(-1), 'outside the premises the executive decides it').to.equal('loan.extensionRequested')
    const ext = (await ctx.db.selectFrom('loan_extension').select('id').executeTakeFirstOrThrow()).id
    await decideExtension(ctx, exec, off.loan.id, ext, { approve: true })
    expect((await kinds(staff.id)).at(-1)).to.equal('loan.extensionApproved')

    // A paper approval in the executive's name reaches them; their dispute reaches finance and the committee.
    const approvers = await withApprovers(ctx, { mayor: { name: 'นายใหญ่ ใจกว้าง', account: 'mayor1' } })
    const mayor = approvers.mayor!.user!
    const paper = await createLoan(ctx, staff, req(['TENT-1'], { kind: 'off_premises', startDate: '2025-01-20', dueDate: '2025-01-21' }))
    await approveLoan(ctx, finance, paper.loan.id, { onPaper: { approverName: 'นายใหญ่ ใจกว้าง', date: '2025-01-15' } })
    expect((await kinds(mayor.id)).at(-1)).to.equal('loan.paperRecorded')
    await disputePaperApproval(ctx, mayor, paper.loan.id, { reason: 'ไม่ได้ลงนาม' })
    expect((await kinds(committee.id)).at(-1)).to.equal('loan.paperDisputed')
    expect((await kinds(finance2.id)).at(-1)).to.equal('loan.paperDisputed')

    // SPEC §1: the two-person rule off, signatories changed, a watched role granted.
    const before = (await kinds(committee.id)).length
    await updateSettings(ctx, { id: admin.id, label: admin.username }, { twoPersonRule: false })
    await updateSettings(ctx, { id: admin.id, label: admin.username }, { chiefAdministrator: { name: 'นายรอง ปลัด', position: 'ปลัด อบต.', username: '' } })
    await updateUser(ctx, { id: admin.id, label: admin.username }, staff.id, { name: staff.name, roles: ['staff', 'finance'] })
    expect((await kinds(committee.id)).slice(before)).to.deep.equal(['settings.twoPersonOff', 'settings.signatoriesChanged', 'user.rolesChanged'])
    expect((await kinds(exec.id)).slice(-3)).to.deep.equal(['settings.twoPersonOff', 'settings.signatoriesChanged', 'user.rolesChanged'])
    expect((await kinds(staff.id)).at(-1), 'the person whose roles changed').to.equal('user.rolesChanged')
    expect(await kinds(admin.id), 'the admin acted: told nothing').to.deep.equal([])

    // The list renders each in the reader's language, newest first; reading marks only what is asked.
    const list = await listNotifications(ctx, { id: committee.id, locale: 'th' })
    expect(list.items[0]!.title).to.equal(`มีการเปลี่ยนบทบาทของ ${staff.name}`)
    expect(list.items[0]!.body).to.include('กองคลัง (พัสดุ)')
    expect(list.unread).to.equal(list.items.length)
    expect(await markNotificationsRead(ctx, committee.id, [list.items[0]!.id, 999_999])).to.equal(1)
    expect((await listNotifications(ctx, { id: committee.id, locale: 'en' })).items[1]!.title).to.equal('The signatories in the agency settings changed')
  })

  it('when a user has no address, or turned e-mail off, then they get the notification in the app and no mail', async () => {
    const noAddress = await makeUser(ctx, ['staff'])
    const off = await makeUser(ctx, ['staff'])
    await setOwnEmail(ctx, off, { email: 'off@example.go.th', emailEnabled: false })
    const on = await makeUser(ctx, ['staff'])
    await setOwnEmail(ctx, on, { email: 'on@example.go.th', emailEnabled: true })
    const finance = await makeUser(ctx, ['finance'])
    for (const [i, u] of [noAddress, off, on].entries()) {
      await makeAsset(ctx, { code: `A-${i}` })
      const loan = await createLoan(ctx, u, req([`A-${i}`]))
      await approveLoan(ctx, finance, loan.loan.id, {})
    }
    sender = startMailSender(ctx, { pollMs: 50 })
    await smtp.waitFor(1)
    await new Promise((r) => setTimeout(r, 300))
    expect(smtp.mails.map((m) => m.to[0])).to.deep.equal(['on@example.go.th'])
    for (const u of [noAddress, off]) expect(await kinds(u.id)).to.deep.equal(['loan.approved'])
  })

  it('when the mail server is down, then the request does not wait, the error is kept, and the mail arrives once after it comes back', async () => {
    const staff = await withEmail(await makeUser(ctx, ['staff']), 'staff@example.go.th')
    const finance = await makeUser(ctx, ['finance'])
    await makeAsset(ctx, { code: 'AMP-1' })
    const loan = await createLoan(ctx, staff, req(['AMP-1']))
    await smtp.stop()
    sender = startMailSender(ctx, { pollMs: 50, baseBackoffMs: 50, maxBackoffMs: 200 })
    const started = performance.now()
    await approveLoan(ctx, finance, loan.loan.id, {})
    const took = performance.now() - started
    // The mail server refuses at once: a generous bound, so that a loaded CI machine does not fail it (the outbox row, below, is the real proof).
    expect(took, 'the event does not wait for the mail server').to.be.below(2000)
    await new Promise((r) => setTimeout(r, 600))
    const waiting = await ctx.db.selectFrom('mail_outbox').selectAll().executeTakeFirstOrThrow()
    expect(waiting.sent_at).to.equal(null)
    expect(waiting.attempts).to.be.at.least(2)
    expect(waiting.last_error).to.match(/ECONNREFUSED|connect/i)
    await smtp.start()
    const mails = await smtp.waitFor(1)
    await new Promise((r) => setTimeout(r, 300))
    expect(mails).to.have.length(1)
    expect(mails[0]!.subject).to.include('ได้รับอนุมัติแล้ว')
    const sent = await ctx.db.selectFrom('mail_outbox').select(['sent_at', 'last_error']).executeTakeFirstOrThrow()
    expect(sent.sent_at).to.not.equal(null)
    expect(sent.last_error).to.equal('')
  })

  it('when retries back off, then the wait doubles and never exceeds 60 seconds', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffMs(n))).to.deep.equal([1000, 2000, 4000, 8000, 16000, 32000, 60000])
    expect(backoffMs(1000)).to.equal(MAX_BACKOFF_MS)
    expect(MAX_BACKOFF_MS).to.equal(60_000)
  })

  it('when two senders on two connections to one database (the file, or the PostgreSQL database) run at once, then each mail goes out once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-mail-'))
    const file = path.join(dir, 'two.db')
    const a = await createTestContext({ ...(onPostgres ? {} : { file }), env: { SMTP_URL: smtp.url } })
    const second = await openOtherHandle(a.db, file)
    const b = { ...a, db: second.db }
    const senders: MailSender[] = []
    try {
      const finance = await withEmailIn(a, await makeUser(a, ['finance']), 'finance@example.go.th')
      for (let i = 0; i < 30; i++) {
        const staff = await makeUser(a, ['staff'])
        await makeAsset(a, { code: `T-${i}` })
        await createLoan(a, staff, req([`T-${i}`]))
      }
      expect(finance.id).to.be.a('number')
      senders.push(startMailSender(a, { pollMs: 20, batch: 3 })!, startMailSender(b, { pollMs: 20, batch: 3 })!, startMailSender(a, { pollMs: 20, batch: 3 })!)
      await smtp.waitFor(30)
      await new Promise((r) => setTimeout(r, 400))
      expect(smtp.mails).to.have.length(30)
      expect(new Set(smtp.mails.map((m) => m.messageId)).size).to.equal(30)
    } finally {
      for (const s of senders) await s.stop()
      await second.close()
      await a.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
    async function withEmailIn<T extends { id: number }>(c: TestContext, user: T, email: string): Promise<T> {
      await c.db.updateTable('app_user').set({ email }).where('id', '=', user.id).execute()
      return user
    }
  })

  it('when two server processes share the database and the mail server, then each queued mail arrives once', async function () {
    this.timeout(120_000)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-mail2-'))
    const file = path.join(dir, 'procs.db')
    // The file, or the test's PostgreSQL database by its URL (kept open: closing it drops it).
    const pg = onPostgres ? await createTestDb() : undefined
    const env = { SMTP_URL: smtp.url, PUBLIC_BASE_URL: 'https://yk.example.go.th', ...(pg ? { DATABASE_URL: await databaseUrlOf(pg.db) } : {}) }
    const first = await startServer(file, env).catch(async (e: unknown) => {
      await pg?.close()
      throw e
    })
    const second = await startServer(file, env).catch(async (e: unknown) => {
      await first.stop('SIGTERM')
      await pg?.close()
      throw e
    })
    if (pg) expect(first.output() + second.output(), 'the servers run on the PostgreSQL database').to.include('"database":"postgresql"')
    const db: OpenDb = pg ?? openDb(file)
    try {
      const admin = await db.db.selectFrom('app_user').select('id').where('username', '=', ADMIN.username).executeTakeFirstOrThrow()
      const at = new Date().toISOString()
      for (let i = 0; i < 30; i++) {
        const n = await db.db
          .insertInto('notification')
          .values({ user_id: admin.id, kind: 'loan.requested', params: '{}', link: '/', created_at: at })
          .returning('id')
          .executeTakeFirstOrThrow()
        await db.db
          .insertInto('mail_outbox')
          .values({ notification_id: n.id, to_address: `p${i}@example.go.th`, subject: `ทดสอบ ${i}`, body: 'ทดสอบ', created_at: at, next_attempt_at: at })
          .execute()
      }
      // Neither process was told (another connection wrote): both find them by polling.
      await smtp.waitFor(30, 30_000)
      await new Promise((r) => setTimeout(r, 6_000)) // a further poll of each
      expect(smtp.mails).to.have.length(30)
      expect(new Set(smtp.mails.map((m) => m.to[0])).size).to.equal(30)
      const left = await db.db.selectFrom('mail_outbox').select('id').where('sent_at', 'is', null).execute()
      expect(left).to.have.length(0)
    } finally {
      await first.stop('SIGTERM')
      await second.stop('SIGTERM')
      await db.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('when the scheduler makes the daily reminders, then due-soon, overdue and follow-up-near reach the right people once per loan and day', async () => {
    const staff = await makeUser(ctx, ['staff'])
    const finance = await makeUser(ctx, ['finance'])
    const issuer = await makeUser(ctx, ['finance'])
    await makeAsset(ctx, { code: 'AMP-1' })
    const loan = await createLoan(ctx, staff, req(['AMP-1'], { startDate: '2025-01-15', dueDate: '2025-01-17' }))
    await approveLoan(ctx, finance, loan.loan.id, {})
    await handOver(ctx, issuer, loan.loan.id)
    const reminders = async (userId: number) =>
      (await kinds(userId)).filter((k) => ['loan.dueSoon', 'loan.overdue', 'loan.overdueStaff', 'loan.followUpNear'].includes(k))

    // 15 Jan: due on the 17th — in 2 days.
    expect(await makeReminders(ctx)).to.equal(1)
    expect(await makeReminders(ctx), 'idempotent').to.equal(0)
    expect(await reminders(staff.id)).to.deep.equal(['loan.dueSoon'])
    // 18 Jan (Bangkok): overdue — the borrower, and finance with the approver (finance approved it in the premises).
    ctx.clock.set('2025-01-18T01:00:00.000Z')
    await makeReminders(ctx)
    await makeReminders(ctx)
    expect(await reminders(staff.id)).to.deep.equal(['loan.dueSoon', 'loan.overdue'])
    expect(await reminders(finance.id)).to.deep.equal(['loan.overdueStaff'])
    expect(await reminders(issuer.id)).to.deep.equal(['loan.overdueStaff'])
    // 22 Jan: the borrower once more (a new day); ข้อ 211's deadline (17 + 7 = 24 Jan) is 2 days away.
    ctx.clock.set('2025-01-22T01:00:00.000Z')
    await makeReminders(ctx)
    await makeReminders(ctx)
    expect(await reminders(staff.id)).to.deep.equal(['loan.dueSoon', 'loan.overdue', 'loan.overdue'])
    expect(await reminders(finance.id)).to.deep.equal(['loan.overdueStaff', 'loan.followUpNear'])
    const near = (await listNotifications(ctx, { id: finance.id, locale: 'th' })).items[0]!
    expect(near.title).to.equal(`ใบยืมเลขที่ ${loan.number} ใกล้ครบกำหนดติดตามทวงคืน (24 มกราคม 2568)`)
  })

  it('when a backup is restored, then its unsent mail is dropped (marked, never sent twice) and its sent mail stays as it was', async function () {
    sqliteOnly(this) // the backup and the restore are of the SQLite file
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-mail-restore-'))
    const dbFile = path.join(dir, 'data', 'yk.db')
    const c = await createTestContext({ file: dbFile, now: '2026-11-25T20:30:00.000Z', env: { DATABASE_PATH: dbFile, SMTP_URL: smtp.url } })
    try {
      const staff = await makeUser(c, ['staff'])
      await c.db.updateTable('app_user').set({ email: 'staff@example.go.th' }).where('id', '=', staff.id).execute()
      const finance = await makeUser(c, ['finance'])
      for (const code of ['R-1', 'R-2']) {
        await makeAsset(c, { code })
        const loan = await createLoan(c, staff, req([code], { startDate: '2026-11-26', dueDate: '2026-11-27' }))
        await approveLoan(c, finance, loan.loan.id, {})
      }
      const first = await c.db.selectFrom('mail_outbox').select('id').orderBy('id').executeTakeFirstOrThrow()
      await c.db.updateTable('mail_outbox').set({ sent_at: '2026-11-25T20:30:01.000Z' }).where('id', '=', first.id).execute()
      const target = backupTarget(c.config, c.clock)
      const backup = (await createBackup(c.handle, target, 'manual')).path
      await c.close()
      await restoreDatabase(backup, target)
      const db = openDb(dbFile)
      try {
        const rows = await db.db.selectFrom('mail_outbox').select(['id', 'sent_at', 'failed_at', 'last_error']).orderBy('id').execute()
        expect(rows).to.have.length(2)
        expect(rows[0]).to.include({ sent_at: '2026-11-25T20:30:01.000Z', failed_at: null })
        expect(rows[1]!.sent_at).to.equal(null)
        expect(rows[1]!.failed_at).to.be.a('string')
        expect(rows[1]!.last_error).to.equal('dropped by a database restore')
      } finally {
        await db.close()
      }
    } finally {
      await c.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
