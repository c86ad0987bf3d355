import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import supertest from 'supertest'
import { writeTransaction } from '../../db/connection.js'
import { append, shortHash } from '../../server/services/audit.service.js'
import { AuditAnchor, startAnchoring, stopAnchoring } from '../../server/services/audit-anchor.service.js'
import { makeUser } from '../helpers/builders.js'
import { query } from '../helpers/db.js'
import { apiToken, createTestApp, signIn, type TestApp } from '../helpers/app.js'

/*
 * Issue 13, finding 5: cutting the end off the audit log, or editing an entry and re-hashing the
 * rest, passed verification. With the anchor kept outside the database the API and the /audit page
 * say what happened, in Thai; a head printed on paper can be checked against the log.
 */
describe('audit verification against the anchor: API and /audit page', function () {
  this.timeout(30_000)
  let t: TestApp
  let dir: string
  let anchor: AuditAnchor
  let committee: Awaited<ReturnType<typeof makeUser>>

  beforeEach(async () => {
    t = await createTestApp()
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-anchor-http-'))
    anchor = new AuditAnchor(path.join(dir, 'audit-anchor.log'), 'anchor-key-for-tests-0123456789')
    await startAnchoring(t.ctx.db, anchor, t.ctx.clock)
    t.ctx.anchor = anchor
    committee = await makeUser(t.ctx, ['committee'])
    for (let i = 0; i < 20; i++) {
      await writeTransaction(t.ctx.db, (trx) => append(trx, t.ctx.clock, { id: null, label: 'test' }, { action: 'test.event', entity: 'thing', entityId: i }))
    }
  })
  afterEach(async () => {
    stopAnchoring(t.ctx.db)
    await t.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const head = async (): Promise<{ id: number; hash: string }> =>
    (await query(t.ctx.db).get('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1')) as { id: number; hash: string }

  it('when nothing was tampered with, then the API says ok and the page shows since when the chain is anchored', async () => {
    const token = await apiToken(t.app, committee.username, committee.password)
    const res = await supertest(t.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${token}`).expect(200)
    expect(res.body).to.deep.equal({ ok: true, entries: (await head()).id })
    const agent = await signIn(t.app, committee.username, committee.password)
    const page = await agent.get('/audit').expect(200)
    expect(page.text).to.include('data-verify="ok"').and.include('data-anchor="kept"').and.include('หลักฐานกำกับนอกฐานข้อมูล: เริ่มกำกับที่รายการที่')
  })

  it('when the end of the log is cut off, then the API answers ok:false with audit_truncated and the page says which entries are gone', async () => {
    const token = await apiToken(t.app, committee.username, committee.password)
    const agent = await signIn(t.app, committee.username, committee.password)
    const top = (await head()).id
    await query(t.ctx.db).run('DELETE FROM audit_log WHERE id > ?', top - 5)
    const res = await supertest(t.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${token}`).expect(200)
    expect(res.body.ok).to.equal(false)
    expect(res.body.problems).to.deep.include({ code: 'audit_truncated', anchored: top, anchoredAt: t.ctx.clock.now().toISOString(), head: top - 5 })
    const page = await agent.get('/audit').expect(200)
    expect(page.text)
      .to.include('data-problem="audit_truncated"')
      .and.include('บันทึกการตรวจสอบถูกตัดท้าย')
      .and.include(`รายการที่ ${top - 4}–${top} หายไป`)
  })

  it('when an entry was edited and the rest re-hashed, then the page says the log was rewritten after the entry before it', async () => {
    const agent = await signIn(t.app, committee.username, committee.password)
    const { hashEntry, GENESIS_HASH } = await import('../../server/services/audit.service.js')
    const from = (await head()).id - 10
    const rows = (await query(t.ctx.db).all('SELECT * FROM audit_log WHERE id >= ? ORDER BY id', from)) as Array<Parameters<typeof hashEntry>[0]>
    let prev = ((await query(t.ctx.db).get('SELECT hash FROM audit_log WHERE id = ?', from - 1)) as { hash: string } | undefined)?.hash ?? GENESIS_HASH
    await query(t.ctx.db).run("UPDATE audit_log SET hash = 'x' || id, prev_hash = 'y' || id WHERE id >= ?", from)
    for (const r of rows) {
      const row = { ...r, prev_hash: prev, data: r.id === from ? '{"i":"rewritten"}' : r.data }
      const hash = hashEntry(row)
      await query(t.ctx.db).run('UPDATE audit_log SET data = ?, prev_hash = ?, hash = ? WHERE id = ?', row.data, prev, hash, r.id)
      prev = hash
    }
    const page = await agent.get('/audit').expect(200)
    expect(page.text)
      .to.include('data-problem="audit_rehashed"')
      .and.include(`รายการที่ ${from} ไม่ตรงกับค่าแฮชที่กำกับไว้นอกฐานข้อมูล`)
      .and.include(`รายการหลังลำดับที่ ${from - 1} ถูกแก้ไขแล้วคำนวณแฮชใหม่`)
  })

  it('when a head printed on a document is typed into /audit, then it says match, mismatch, missing or what to type', async () => {
    const agent = await signIn(t.app, committee.username, committee.password)
    const h = await head()
    const match = await agent
      .get('/audit')
      .query({ seq: String(h.id), hash: shortHash(h.hash).toUpperCase() })
      .expect(200)
    expect(match.text).to.include('data-witness="match"').and.include('ตรงกัน')
    const thaiDigits = String(h.id).replace(/\d/g, (d) => String.fromCharCode(0x0e50 + Number(d)))
    const printed = await agent
      .get('/audit')
      .query({ seq: thaiDigits, hash: shortHash(h.hash) })
      .expect(200)
    expect(printed.text, 'Thai digits as printed').to.include('data-witness="match"')
    const mismatch = await agent
      .get('/audit')
      .query({ seq: String(h.id - 1), hash: shortHash(h.hash) })
      .expect(200)
    expect(mismatch.text).to.include('data-witness="mismatch"').and.include('ไม่ตรงกัน')
    const missing = await agent
      .get('/audit')
      .query({ seq: String(h.id + 100), hash: shortHash(h.hash) })
      .expect(200)
    expect(missing.text).to.include('data-witness="missing"')
    const invalid = await agent.get('/audit').query({ seq: 'abc', hash: 'xyz' }).expect(200)
    expect(invalid.text).to.include('data-witness="invalid"').and.include('กรอกเลขรายการ')
  })

  it('when staff open /audit or the verify API, then they are refused as before', async () => {
    const staff = await makeUser(t.ctx, ['staff'])
    const agent = await signIn(t.app, staff.username, staff.password)
    await agent.get('/audit').query({ seq: '1', hash: '00000000' }).expect(403)
    const token = await apiToken(t.app, staff.username, staff.password)
    await supertest(t.app).get('/api/v1/audit/verify').set('Authorization', `Bearer ${token}`).expect(403)
  })
})
