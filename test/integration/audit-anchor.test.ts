import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { expect } from 'chai'
import { Kysely, SqliteDialect } from 'kysely'
import { type Db, writeTransaction } from '../../db/connection.js'
import type { Database } from '../../db/schema.js'
import { append, hashEntry, verifyAudit, verifyChain, GENESIS_HASH, type AuditProblem } from '../../server/services/audit.service.js'
import { AuditAnchor, startAnchoring, stopAnchoring } from '../../server/services/audit-anchor.service.js'
import { createBackup, type BackupTarget } from '../../server/services/backup.service.js'
import { restoreDatabase, RestoreRefused } from '../../server/services/backup-restore.service.js'
import { createTestContext, onPostgres, openOtherHandle, query, sqliteOnly, type TestContext } from '../helpers/db.js'

const actor = { id: null, label: 'test' }
const KEY = 'anchor-key-for-tests-0123456789'

async function appendN(ctx: TestContext, n: number, label = 'test.event'): Promise<void> {
  for (let i = 0; i < n; i++) {
    await writeTransaction(ctx.db, (trx) => append(trx, ctx.clock, actor, { action: label, entity: 'thing', entityId: i, data: { i, text: 'ทดสอบ' } }))
  }
}

/** What an attacker with the database but not the key can do: rewrite entry `from` on and re-hash every entry after it. */
async function rewriteAndRehash(db: Db, from: number): Promise<void> {
  const q = query(db)
  const rows = await q.all('SELECT * FROM audit_log WHERE id >= ? ORDER BY id', from)
  let prev = (await q.value<string | undefined>('SELECT hash FROM audit_log WHERE id = ?', from - 1)) ?? GENESIS_HASH
  // Dropping the UNIQUE constraint's conflicts: move every hash out of the way first.
  await q.run("UPDATE audit_log SET hash = 'x' || id, prev_hash = 'y' || id WHERE id >= ?", from)
  for (const r of rows) {
    const row = { ...r, prev_hash: prev, ...(r.id === from ? { actor_label: 'someone-else' } : {}) } as Parameters<typeof hashEntry>[0]
    const hash = hashEntry(row)
    await q.run('UPDATE audit_log SET actor_label = ?, prev_hash = ?, hash = ? WHERE id = ?', row.actor_label, prev, hash, r.id)
    prev = hash
  }
}

/** The attacker on a SQLite file (a backup) opened on its own, as it is: no pragma of the app's. */
async function rewriteFileAndRehash(file: string, from: number): Promise<void> {
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new BetterSqlite3(file) }) })
  try {
    await rewriteAndRehash(db, from)
  } finally {
    await db.destroy()
  }
}

function codes(problems: AuditProblem[]): string[] {
  return problems.map((p) => p.code)
}

describe('audit anchor outside the database (issue 13)', function () {
  this.timeout(30_000)
  let dir: string
  let file: string
  let anchor: AuditAnchor
  let ctx: TestContext

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-anchor-'))
    file = path.join(dir, 'yk.db')
    anchor = new AuditAnchor(path.join(dir, 'audit-anchor.log'), KEY)
    // A database another connection can open too: the SQLite file, or the test's PostgreSQL database.
    ctx = await createTestContext(onPostgres ? {} : { file })
    await startAnchoring(ctx.db, anchor, ctx.clock)
  })

  /** The attacker works on another connection to the database, as with the file or a psql session. */
  async function rewriteElsewhere(from: number): Promise<void> {
    const other = await openOtherHandle(ctx.db, file)
    try {
      await rewriteAndRehash(other.db, from)
    } finally {
      await other.close()
    }
  }
  afterEach(async () => {
    stopAnchoring(ctx.db)
    await ctx.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('when changes commit, then every new head is anchored with a MAC, the file is owner-only and verification is ok', async () => {
    await appendN(ctx, 5)
    const log = anchor.read()
    expect(log.records.map((r) => [r.kind, r.seq])).to.deep.equal([
      ['start', 0],
      ['anchor', 1],
      ['anchor', 2],
      ['anchor', 3],
      ['anchor', 4],
      ['anchor', 5],
    ])
    expect(log.forged).to.deep.equal([])
    expect(fs.statSync(anchor.file).mode & 0o077).to.equal(0)
    const v = await verifyAudit(ctx.db, anchor)
    expect(v.ok, JSON.stringify(v.problems)).to.equal(true)
    expect(v.anchor).to.deep.include({
      since: { seq: 0, at: ctx.clock.now().toISOString(), kind: 'start' },
      last: { seq: 5, at: ctx.clock.now().toISOString() },
    })
  })

  it('when a transaction rolls back, then nothing is anchored for it', async () => {
    await appendN(ctx, 1)
    await writeTransaction(ctx.db, async (trx) => {
      await append(trx, ctx.clock, actor, { action: 'doomed', entity: 'thing' })
      throw new Error('boom')
    }).catch(() => undefined)
    expect(anchor.read().records.map((r) => r.seq)).to.deep.equal([0, 1])
  })

  it('when entries are cut off the end of the log, then the chain alone still verifies but verification reports the truncation', async () => {
    await appendN(ctx, 30)
    await query(ctx.db).run('DELETE FROM audit_log WHERE id > 25')
    expect((await verifyChain(ctx.db)).ok).to.equal(true)
    const v = await verifyAudit(ctx.db, ctx.anchor ?? anchor)
    expect(v.ok).to.equal(false)
    expect(v.problems).to.deep.include({ code: 'audit_truncated', anchored: 30, anchoredAt: ctx.clock.now().toISOString(), head: 25 })
  })

  it('when an entry is edited and every entry after it re-hashed, then verification names the first rewritten entry', async () => {
    await appendN(ctx, 12)
    await rewriteElsewhere(7)
    expect((await verifyChain(ctx.db)).ok, 'the chain itself is consistent again').to.equal(true)
    const v = await verifyAudit(ctx.db, anchor)
    expect(v.ok).to.equal(false)
    expect(v.problems).to.deep.include({ code: 'audit_rehashed', seq: 7, anchoredAt: ctx.clock.now().toISOString(), after: 6 })
  })

  it('when the log is rewritten, cut and the server restarts and keeps writing, then the rewrite is still found', async () => {
    await appendN(ctx, 10)
    stopAnchoring(ctx.db)
    await query(ctx.db).run('DELETE FROM audit_log WHERE id > 8')
    await rewriteElsewhere(4)
    // A restart anchors the head it finds; new entries then run past the old end.
    await startAnchoring(ctx.db, anchor, ctx.clock)
    await appendN(ctx, 5)
    const v = await verifyAudit(ctx.db, anchor)
    expect(codes(v.problems)).to.include('audit_rehashed')
    expect(v.problems.find((p) => p.code === 'audit_rehashed')).to.deep.include({ seq: 4, after: 3 })
  })

  it('when a line of the anchor log is altered, or one is written under another key, then it is reported as forged and proves nothing', async () => {
    await appendN(ctx, 3)
    const lines = fs.readFileSync(anchor.file, 'utf8').split('\n')
    const third = JSON.parse(lines[2]!) as { hash: string }
    lines[2] = JSON.stringify({ ...third, hash: 'f'.repeat(64) })
    fs.writeFileSync(anchor.file, lines.join('\n'))
    new AuditAnchor(anchor.file, 'another-key-another-key-000').append({ kind: 'anchor', seq: 99, hash: 'a'.repeat(64), at: ctx.clock.now().toISOString() })
    const v = await verifyAudit(ctx.db, anchor)
    expect(v.ok).to.equal(false)
    expect(v.problems).to.deep.include({ code: 'anchor_forged', lines: [3, 5] })
    expect(codes(v.problems)).to.not.include('audit_truncated')
  })

  it('when the anchor log is deleted, then verification says it is missing', async () => {
    await appendN(ctx, 2)
    fs.rmSync(anchor.file)
    const v = await verifyAudit(ctx.db, anchor)
    expect(v.ok).to.equal(false)
    expect(v.problems).to.deep.include({ code: 'anchor_missing', file: anchor.file })
  })

  it('when a crash tore the last line, then the next start ends it and later lines stay readable; the torn line is counted, not an alarm', async () => {
    await appendN(ctx, 2)
    stopAnchoring(ctx.db)
    fs.appendFileSync(anchor.file, '{"kind":"anchor","seq":3,"ha')
    await startAnchoring(ctx.db, anchor, ctx.clock)
    await appendN(ctx, 2)
    const log = anchor.read()
    expect(log.damaged).to.have.length(1)
    expect(log.records.map((r) => r.seq)).to.deep.equal([0, 1, 2, 3, 4])
    const v = await verifyAudit(ctx.db, anchor)
    expect(v.ok, JSON.stringify(v.problems)).to.equal(true)
    expect(v.anchor!.damaged).to.equal(1)
  })

  it('when a second process (a CLI) writes to the same database and anchor, then both anchor their commits and verification is ok', async () => {
    const other = await openOtherHandle(ctx.db, file)
    try {
      await startAnchoring(other.db, anchor, ctx.clock)
      for (let i = 0; i < 5; i++) {
        await appendN(ctx, 1)
        await writeTransaction(other.db, (trx) => append(trx, ctx.clock, actor, { action: 'cli.event', entity: 'thing' }))
      }
      const v = await verifyAudit(ctx.db, anchor)
      expect(v.ok, JSON.stringify(v.problems)).to.equal(true)
      expect(v.anchor!.last!.seq).to.equal(10)
    } finally {
      stopAnchoring(other.db)
      await other.close()
    }
  })

  it('when the anchor cannot be written after a commit, then the change stays committed and verification reports the failure', async () => {
    await appendN(ctx, 1)
    fs.rmSync(anchor.file)
    fs.mkdirSync(anchor.file) // a folder where the log should be: appending fails
    await appendN(ctx, 1)
    expect(await query(ctx.db).value('SELECT count(*) AS n FROM audit_log')).to.equal(2)
    const v = await verifyAudit(ctx.db, anchor)
    expect(codes(v.problems)).to.include('anchor_write_failed').and.include('anchor_unreadable')
  })
})

describe('restoring a backup against the audit anchor (issue 13)', function () {
  this.timeout(30_000)
  before(function () {
    sqliteOnly(this) // the backup and the restore are of the SQLite file
  })
  let dir: string
  let file: string
  let anchor: AuditAnchor
  let ctx: TestContext
  let target: BackupTarget

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-anchor-restore-'))
    file = path.join(dir, 'yk.db')
    anchor = new AuditAnchor(path.join(dir, 'audit-anchor.log'), KEY)
    ctx = await createTestContext({ file })
    await startAnchoring(ctx.db, anchor, ctx.clock)
    target = { databasePath: file, dir: path.join(dir, 'backups'), keep: 10, clock: ctx.clock }
  })
  afterEach(async () => {
    stopAnchoring(ctx.db)
    await ctx.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  /** Stops "the server": restore refuses while the database is open. */
  async function stop(): Promise<void> {
    stopAnchoring(ctx.db)
    await ctx.handle.close()
  }

  async function reopen(): Promise<TestContext> {
    ctx = await createTestContext({ file })
    await startAnchoring(ctx.db, anchor, ctx.clock)
    return ctx
  }

  function entry(db: string, id: number): { action: string; data: Record<string, unknown> } {
    const raw = new BetterSqlite3(db, { readonly: true })
    try {
      const r = raw.prepare('SELECT action, data FROM audit_log WHERE id = ?').get(id) as { action: string; data: string }
      return { action: r.action, data: JSON.parse(r.data) as Record<string, unknown> }
    } finally {
      raw.close()
    }
  }

  it("when yesterday's backup is restored, then it matches an earlier anchor line, the lost entries are audited, a new epoch is anchored and verification is ok", async () => {
    await appendN(ctx, 10)
    const backup = await createBackup(ctx.handle, target, 'daily')
    await appendN(ctx, 7)
    await stop()

    const r = await restoreDatabase(backup.path, target, { anchor })
    expect(r.anchor).to.deep.include({ fileSeq: 10, lostFrom: 11, lostTo: 17, override: false })
    expect(entry(file, 11)).to.deep.include({ action: 'database.restore' })
    expect(entry(file, 11).data).to.deep.include({ fileSeq: 10, lostFrom: 11, lostTo: 17, override: false })
    const last = anchor.read().records.at(-1)!
    expect(last).to.deep.include({ kind: 'restore', seq: 11 })

    await reopen()
    await appendN(ctx, 3)
    const v = await verifyAudit(ctx.db, anchor)
    expect(v.ok, JSON.stringify(v.problems)).to.equal(true)
    expect(v.entries).to.equal(14)
    expect(v.anchor!.restores).to.have.length(1)
    expect(v.anchor!.restores[0]).to.deep.include({ seq: 11, fileSeq: 10, lostFrom: 11, lostTo: 17, override: false })
  })

  it('when a backup from before an earlier restore is restored, then it still matches its own epoch', async () => {
    await appendN(ctx, 4)
    const older = await createBackup(ctx.handle, target, 'daily')
    await appendN(ctx, 4)
    const newer = await createBackup(ctx.handle, target, 'daily')
    await appendN(ctx, 2)
    await stop()
    await restoreDatabase(newer.path, target, { anchor })
    await reopen()
    await appendN(ctx, 2)
    await stop()
    const r = await restoreDatabase(older.path, target, { anchor })
    expect(r.anchor).to.deep.include({ fileSeq: 4, override: false })
    await reopen()
    expect((await verifyAudit(ctx.db, anchor)).ok).to.equal(true)
  })

  it('when a backup was rewritten and re-hashed, then the restore is refused and nothing changes; with an override and a reason it is restored and the override audited', async () => {
    await appendN(ctx, 8)
    const backup = await createBackup(ctx.handle, target, 'daily')
    await stop()
    await rewriteFileAndRehash(backup.path, 5)
    const before = fs.readFileSync(file)

    let refused: RestoreRefused | undefined
    await restoreDatabase(backup.path, target, { anchor }).catch((e: unknown) => (refused = e as RestoreRefused))
    expect(refused).to.be.instanceOf(RestoreRefused)
    expect(refused!.problems.map((p) => p.code)).to.deep.equal(['anchor_mismatch'])
    expect(refused!.problems[0]!.detail).to.include('#8').and.include('matches no line')
    expect(fs.readFileSync(file).equals(before)).to.equal(true)
    expect(anchor.read().records.some((r) => r.kind === 'restore')).to.equal(false)

    const r = await restoreDatabase(backup.path, target, { anchor, override: 'ตรวจแล้วว่าไฟล์นี้มาจากเครื่องสำรอง' })
    expect(r.anchor).to.deep.include({ fileSeq: 8, override: true })
    expect(entry(file, 9).data).to.deep.include({ override: true, reason: 'ตรวจแล้วว่าไฟล์นี้มาจากเครื่องสำรอง' })
    await reopen()
    const v = await verifyAudit(ctx.db, anchor)
    expect(v.ok, JSON.stringify(v.problems)).to.equal(true)
    expect(v.anchor!.restores[0]).to.deep.include({ override: true })
  })

  it('when there is no anchor log (a new machine), then a restore needs the override', async () => {
    await appendN(ctx, 3)
    const backup = await createBackup(ctx.handle, target, 'daily')
    await stop()
    fs.rmSync(anchor.file)
    let refused: RestoreRefused | undefined
    await restoreDatabase(backup.path, target, { anchor }).catch((e: unknown) => (refused = e as RestoreRefused))
    expect(refused!.problems[0]).to.deep.include({ code: 'anchor_mismatch' })
    expect(refused!.problems[0]!.detail).to.include('no audit anchor')
    const r = await restoreDatabase(backup.path, target, { anchor, override: 'new server after the disk failed' })
    expect(r.anchor).to.deep.include({ override: true })
    await reopen()
    expect((await verifyAudit(ctx.db, anchor)).ok).to.equal(true)
  })
})
