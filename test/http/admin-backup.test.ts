import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'
import { sqliteOnly } from '../helpers/db.js'
import { backupTarget, createBackup } from '../../server/services/backup.service.js'

/** The backup section of the admin hub, as text. */
function backupSection(html: string): string {
  const m = /<section class="card backup-status"[\s\S]*?<\/section>/.exec(html)
  if (!m) throw new Error('no backup section on the page')
  return m[0].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')
}

describe('admin hub: the last backup', () => {
  // The server's own backups are SQLite file copies; on PostgreSQL the card says pg_dump (admin-postgres.test.ts).
  before(function () {
    sqliteOnly(this)
  })
  let t: TestApp
  let dir: string
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-admin-backup-'))
    t = await createTestApp({ now: '2026-11-25T03:00:00.000Z', env: { DATABASE_PATH: path.join(dir, 'yuemkhuen.db'), BACKUP_DIR: path.join(dir, 'backups') } })
  })
  afterEach(async () => {
    await t.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('when there is no backup yet, then the admin page warns and names the backup folder', async () => {
    const { agent } = await signedInAs(t, ['admin'])
    const text = backupSection((await agent.get('/admin').expect(200)).text)
    expect(text).to.include('ยังไม่เคยสำรองข้อมูล').and.include(path.join(dir, 'backups'))
  })

  it('when a verified backup was made today, then the admin page shows its time, size, kind and path without a warning', async () => {
    const { agent } = await signedInAs(t, ['admin'])
    const r = await createBackup(t.ctx.handle, backupTarget(t.ctx.config, t.ctx.clock), 'manual')
    const html = (await agent.get('/admin').expect(200)).text
    const text = backupSection(html)
    expect(text).to.include('25 พ.ย. 2569 10:00 น.').and.include(' KB').and.include('ตรวจแล้ว ถูกต้อง').and.include('npm run backup')
    expect(text).to.include(r.path)
    expect(html).to.not.match(/backup-status[\s\S]*role="alert"[\s\S]*<\/section>/)
  })

  it('when the last backup is more than two days old, then the admin page warns that it is stale', async () => {
    await createBackup(t.ctx.handle, backupTarget(t.ctx.config, t.ctx.clock), 'daily')
    t.ctx.clock.advance(2 * 24 * 3600_000 + 3600_000)
    const { agent } = await signedInAs(t, ['admin'], { locale: 'en' })
    const text = backupSection((await agent.get('/admin').expect(200)).text)
    expect(text).to.include('more than 2 days old')
  })

  it('when the last backup failed its check (a broken audit chain), then the admin page says it is not verified and warns', async () => {
    const { agent } = await signedInAs(t, ['admin'])
    await t.ctx.db.updateTable('audit_log').set({ data: '{"forged":true}' }).where('id', '=', 1).execute()
    await createBackup(t.ctx.handle, backupTarget(t.ctx.config, t.ctx.clock), 'daily')
    const text = backupSection((await agent.get('/admin').expect(200)).text)
    expect(text).to.include('ยังไม่ผ่านการตรวจ').and.include('ไฟล์สำรองล่าสุดตรวจไม่ผ่าน')
  })

  it('when a finance user opens the admin hub, then it is refused and no backup facts are shown', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const res = await agent.get('/admin')
    expect(res.status).to.equal(403)
    expect(res.text).to.not.include('backup-status')
  })
})
