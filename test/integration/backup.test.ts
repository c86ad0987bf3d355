import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { expect } from 'chai'
import { openDb } from '../../db/connection.js'
import { createMigrator, migrateToLatest } from '../../db/migrator.js'
import {
  backupBeforeMigrating,
  backupStatus,
  backupTarget,
  createBackup,
  listBackups,
  pruneBackups,
  startBackupTimer,
  type BackupTarget,
} from '../../server/services/backup.service.js'
import { checkDatabaseFile } from '../../server/services/backup-check.js'
import { restoreDatabase, RestoreRefused } from '../../server/services/backup-restore.service.js'
import { makeUser } from '../helpers/builders.js'
import { createTestContext, sqliteOnly, type TestContext } from '../helpers/db.js'

const DAY = 24 * 3600_000

function usernames(file: string): string[] {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true })
  try {
    return (db.prepare('SELECT username FROM app_user ORDER BY username').all() as { username: string }[]).map((r) => r.username)
  } finally {
    db.close()
  }
}

function rawUpdate(file: string, sqlText: string): void {
  const db = new BetterSqlite3(file)
  try {
    db.exec(sqlText)
  } finally {
    db.close()
  }
}

describe('backups (npm run backup, the daily timer, before migrations)', () => {
  before(function () {
    sqliteOnly(this) // copies of the SQLite file (PostgreSQL is backed up with pg_dump)
  })
  let dir: string
  let ctx: TestContext
  let target: BackupTarget
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-backup-'))
    const file = path.join(dir, 'data', 'yk.db')
    ctx = await createTestContext({ file, now: '2026-11-25T20:30:00.000Z', env: { DATABASE_PATH: file, BACKUP_KEEP: '3' } })
    target = backupTarget(ctx.config, ctx.clock)
  })
  afterEach(async () => {
    await ctx.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('when a backup is taken, then a timestamped, verified copy with its sidecar appears beside the database and the database gets no new rows', async () => {
    await makeUser(ctx, ['admin'], { username: 'somchai' })
    const auditBefore = await ctx.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    const r = await createBackup(ctx.handle, target, 'manual')
    expect(r.path).to.equal(path.join(dir, 'data', 'backups', 'yk-20261125T203000Z.sqlite'))
    expect(r.verified).to.equal(true)
    expect(r.size).to.equal(fs.statSync(r.path).size).and.be.greaterThan(0)
    const sidecar = JSON.parse(fs.readFileSync(`${r.path}.json`, 'utf8'))
    expect(sidecar).to.include({ kind: 'manual', verified: true, size: r.size, sha256: r.sha256, createdAt: '2026-11-25T20:30:00.000Z' })
    expect(sidecar.auditEntries).to.equal(Number(auditBefore.n))
    expect(usernames(r.path)).to.deep.equal(['somchai'])
    // self-contained: no -wal/-shm companions and no leftover temporary file
    expect(fs.readdirSync(path.dirname(r.path)).sort()).to.deep.equal(['yk-20261125T203000Z.sqlite', 'yk-20261125T203000Z.sqlite.json'])
    const auditAfter = await ctx.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    expect(auditAfter.n).to.equal(auditBefore.n)
  })

  it('when two backups are taken in the same second, then the second gets its own name instead of overwriting the first', async () => {
    const a = await createBackup(ctx.handle, target, 'manual')
    const b = await createBackup(ctx.handle, target, 'daily')
    expect(a.name).to.equal('yk-20261125T203000Z.sqlite')
    expect(b.name).to.equal('yk-20261125T203000Z-1.sqlite')
    expect(listBackups(target.dir, target.databasePath).map((e) => e.name)).to.deep.equal([b.name, a.name])
  })

  it('when the audit chain of the live database is broken, then the copy is kept but marked not verified', async () => {
    await makeUser(ctx, ['admin'])
    await ctx.db.updateTable('audit_log').set({ data: '{"tampered":true}' }).where('id', '=', 1).execute()
    const r = await createBackup(ctx.handle, target, 'manual')
    expect(r.verified).to.equal(false)
    expect(r.check.problems.map((p) => p.code)).to.deep.equal(['audit_chain'])
    expect(JSON.parse(fs.readFileSync(`${r.path}.json`, 'utf8')).verified).to.equal(false)
  })

  it('when there are more regular backups than BACKUP_KEEP, then retention removes the oldest regular ones and pre-migration copies older than 90 days except the newest', async () => {
    const made: Record<string, string> = {}
    ctx.clock.set('2026-01-01T00:00:00.000Z')
    made.oldPre = (await createBackup(ctx.handle, target, 'pre-migration')).name
    ctx.clock.set('2026-02-01T00:00:00.000Z')
    made.midPre = (await createBackup(ctx.handle, target, 'pre-migration')).name
    for (let d = 1; d <= 5; d++) {
      ctx.clock.set(new Date(Date.parse('2026-11-20T00:00:00.000Z') + d * DAY))
      made[`day${d}`] = (await createBackup(ctx.handle, target, 'daily')).name
    }
    ctx.clock.set('2026-11-25T12:00:00.000Z')
    made.recentPre = (await createBackup(ctx.handle, target, 'pre-migration')).name
    const left = listBackups(target.dir, target.databasePath).map((e) => e.name)
    // keep 3 regular (days 3–5); pre-migration: the recent one (within 90 days); Jan and Feb are older than 90 days
    expect(left).to.deep.equal([made.recentPre, made.day5, made.day4, made.day3])
    expect(fs.readdirSync(target.dir).filter((f) => f.endsWith('.json'))).to.have.length(4)
    expect(pruneBackups(target)).to.deep.equal([])
  })

  it('when every pre-migration copy is older than 90 days, then the newest of them is still kept', async () => {
    ctx.clock.set('2026-01-01T00:00:00.000Z')
    await createBackup(ctx.handle, target, 'pre-migration')
    ctx.clock.set('2026-02-01T00:00:00.000Z')
    const newest = await createBackup(ctx.handle, target, 'pre-migration')
    ctx.clock.set('2026-11-25T00:00:00.000Z')
    pruneBackups(target)
    expect(listBackups(target.dir, target.databasePath).map((e) => e.name)).to.deep.equal([newest.name])
  })

  it('when migrations are pending on a database with data, then a pre-migration backup is taken; when none are pending, then none is', async () => {
    await makeUser(ctx, ['admin'], { username: 'before' })
    expect(await backupBeforeMigrating(ctx, ctx.handle)).to.equal(undefined)
    await createMigrator(ctx.db).migrateDown()
    const r = await backupBeforeMigrating(ctx, ctx.handle)
    expect(r?.kind).to.equal('pre-migration')
    expect(r?.name).to.equal('yk-20261125T203000Z-pre-migration.sqlite')
    expect(r?.check.pending).to.have.length(1)
    expect(usernames(r!.path)).to.deep.equal(['before'])
    await migrateToLatest(ctx.db)
    expect(await backupBeforeMigrating(ctx, ctx.handle)).to.equal(undefined)
    expect(listBackups(target.dir, target.databasePath)).to.have.length(1)
  })

  it('when a fresh database has every migration pending, then no pre-migration backup is taken', async () => {
    const file = path.join(dir, 'fresh.db')
    const h = openDb(file)
    try {
      const freshCtx = { ...ctx, db: h.db, config: { ...ctx.config, databasePath: file } }
      expect(await backupBeforeMigrating(freshCtx, h)).to.equal(undefined)
      expect(fs.existsSync(target.dir)).to.equal(false)
    } finally {
      await h.close()
    }
  })

  it('when the daily timer checks, then it backs up only when the newest regular backup is older than BACKUP_EVERY_HOURS', async () => {
    const timer = startBackupTimer(ctx, ctx.handle, { firstCheckMs: 3_600_000, checkEveryMs: 3_600_000 })
    try {
      await timer.tick()
      expect(listBackups(target.dir, target.databasePath).map((e) => e.name)).to.deep.equal(['yk-20261125T203000Z.sqlite'])
      ctx.clock.advance(23 * 3600_000)
      await timer.tick()
      expect(listBackups(target.dir, target.databasePath)).to.have.length(1)
      ctx.clock.advance(1 * 3600_000)
      await timer.tick()
      const names = listBackups(target.dir, target.databasePath)
      expect(names.map((e) => e.name)).to.deep.equal(['yk-20261126T203000Z.sqlite', 'yk-20261125T203000Z.sqlite'])
      expect(names[0]!.sidecar?.kind).to.equal('daily')
    } finally {
      await timer.stop()
    }
    // stopped: a tick does nothing
    ctx.clock.advance(48 * 3600_000)
    await timer.tick()
    expect(listBackups(target.dir, target.databasePath)).to.have.length(2)
  })

  it('when the admin status is read, then it reports missing, then ok, then stale after two days', async () => {
    expect(backupStatus(ctx).state).to.equal('missing')
    const r = await createBackup(ctx.handle, target, 'manual')
    const ok = backupStatus(ctx)
    expect(ok.state).to.equal('ok')
    expect(ok.last).to.deep.include({ name: r.name, size: r.size, verified: true, kind: 'manual', at: '2026-11-25T20:30:00.000Z' })
    ctx.clock.advance(2 * DAY + 60_000)
    expect(backupStatus(ctx).state).to.equal('stale')
  })
})

describe('restore (npm run restore)', () => {
  before(function () {
    sqliteOnly(this) // a SQLite file put back in place of the database file
  })
  let dir: string
  let ctx: TestContext
  let target: BackupTarget
  let good: string
  let dbFile: string
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-restore-'))
    dbFile = path.join(dir, 'data', 'yk.db')
    ctx = await createTestContext({ file: dbFile, now: '2026-11-25T20:30:00.000Z', env: { DATABASE_PATH: dbFile } })
    target = backupTarget(ctx.config, ctx.clock)
    await makeUser(ctx, ['admin'], { username: 'kept' })
    good = (await createBackup(ctx.handle, target, 'manual')).path
    await makeUser(ctx, ['staff'], { username: 'later' })
    ctx.clock.advance(60_000)
  })
  afterEach(async () => {
    await ctx.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  /** Copies the good backup to a new file and lets the test spoil it. */
  function spoiled(name: string, spoil: (file: string) => void): string {
    const file = path.join(dir, name)
    fs.copyFileSync(good, file)
    spoil(file)
    return file
  }

  async function expectRefused(file: string, code: string): Promise<void> {
    await ctx.close() // the server is stopped for a restore
    const before = fs.readFileSync(dbFile)
    let error: unknown
    try {
      await restoreDatabase(file, target)
    } catch (e) {
      error = e
    }
    expect(error).to.be.instanceOf(RestoreRefused)
    expect((error as RestoreRefused).problems.map((p) => p.code)).to.include(code)
    expect(fs.readFileSync(dbFile).equals(before), 'database unchanged').to.equal(true)
    expect(
      listBackups(target.dir, target.databasePath).map((e) => e.kind),
      'no safety backup taken',
    ).to.deep.equal(['regular'])
    expect(fs.readdirSync(path.dirname(dbFile)).filter((f) => f.endsWith('.tmp'))).to.deep.equal([])
  }

  it('when the file is not SQLite, then restore refuses and changes nothing', async () => {
    const file = path.join(dir, 'notes.sqlite')
    fs.writeFileSync(file, 'this is not a database, just text\n'.repeat(200))
    await expectRefused(file, 'not_sqlite')
  })

  it('when the file is corrupt, then restore refuses and changes nothing', async () => {
    const file = spoiled('corrupt.sqlite', (f) => {
      const size = fs.statSync(f).size
      const fd = fs.openSync(f, 'r+')
      // keep the header page, smash pages in the middle
      fs.writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, Math.floor(size / 2 / 4096) * 4096)
      fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096)
      fs.closeSync(fd)
    })
    expect((await checkDatabaseFile(file)).problems.map((p) => p.code)).to.deep.equal(['integrity'])
    await expectRefused(file, 'integrity')
  })

  it('when the audit chain in the file is broken, then restore refuses and changes nothing', async () => {
    const file = spoiled('tampered.sqlite', (f) => rawUpdate(f, `UPDATE app_user SET name = 'x'; UPDATE audit_log SET data = '{"forged":1}' WHERE id = 1`))
    await expectRefused(file, 'audit_chain')
  })

  it('when the file was made by a newer version (an unknown migration), then restore refuses and changes nothing', async () => {
    const file = spoiled('newer.sqlite', (f) =>
      rawUpdate(f, `INSERT INTO kysely_migration (name, timestamp) VALUES ('2099_01_01_0900_from_the_future', '2099-01-01T00:00:00.000Z')`),
    )
    await expectRefused(file, 'newer_schema')
  })

  it('when a SQLite file is not a Yuemkhuen database, then restore refuses', async () => {
    const file = path.join(dir, 'other.sqlite')
    rawUpdate(file, 'CREATE TABLE t (x); INSERT INTO t VALUES (1)')
    await expectRefused(file, 'not_ours')
  })

  it('when a file has the migration table and the audit log of a Yuemkhuen database but its other tables are gone, then restore refuses it as incomplete and changes nothing', async () => {
    const file = spoiled('two-tables.sqlite', (f) => {
      const db = new BetterSqlite3(f)
      try {
        const keep = new Set(['kysely_migration', 'kysely_migration_lock', 'audit_log'])
        db.pragma('foreign_keys = OFF')
        for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{
          name: string
        }>) {
          if (!keep.has(name)) db.exec(`DROP TABLE "${name}"`)
        }
      } finally {
        db.close()
      }
    })
    const check = await checkDatabaseFile(file)
    expect(check.problems.map((p) => p.code)).to.deep.equal(['incomplete_schema'])
    expect(check.problems[0]!.detail).to.include('app_user').and.include('loan')
    await expectRefused(file, 'incomplete_schema')
  })

  it('when the database is open in another connection (the server), then restore refuses and changes nothing', async () => {
    let error: unknown
    try {
      await restoreDatabase(good, target)
    } catch (e) {
      error = e
    }
    expect((error as RestoreRefused).problems.map((p) => p.code)).to.deep.equal(['in_use'])
    expect(usernames(dbFile)).to.deep.equal(['kept', 'later'])
  })

  it('when a good backup is restored, then its data is back, a safety backup holds the replaced data and stale -wal/-shm are gone', async () => {
    await ctx.close()
    fs.writeFileSync(`${dbFile}-shm`, Buffer.alloc(32768))
    fs.writeFileSync(`${dbFile}-wal`, Buffer.alloc(0))
    const r = await restoreDatabase(good, target)
    expect(r.databasePath).to.equal(dbFile)
    expect(usernames(dbFile)).to.deep.equal(['kept'])
    expect(fs.existsSync(`${dbFile}-wal`)).to.equal(false)
    expect(fs.existsSync(`${dbFile}-shm`)).to.equal(false)
    expect(r.safetyBackup).to.match(/yk-20261125T203100Z-pre-restore\.sqlite$/)
    expect(r.safetyVerified).to.equal(true)
    expect(usernames(r.safetyBackup!)).to.deep.equal(['kept', 'later'])
    // the restored database opens, verifies and takes new writes
    const h = openDb(dbFile)
    try {
      await migrateToLatest(h.db)
      expect((await h.db.selectFrom('app_user').select('username').execute()).map((u) => u.username)).to.deep.equal(['kept'])
    } finally {
      await h.close()
    }
    expect((await checkDatabaseFile(dbFile)).ok).to.equal(true)
  })
})
