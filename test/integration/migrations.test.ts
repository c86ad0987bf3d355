import { expect } from 'chai'
import { migrateDownAll, migrateToLatest, pendingMigrations } from '../../db/migrator.js'
import { migrations } from '../../db/migrations/index.js'
import { createEmptyTestDb, sqliteOnly, tableNames } from '../helpers/db.js'

describe('migrations', () => {
  it('when run up, down and up again on a fresh database, then each step succeeds and the schema is the same', async () => {
    const h = await createEmptyTestDb()
    try {
      await migrateToLatest(h.db)
      const first = await tableNames(h.db)
      expect(first).to.include.members(['app_user', 'audit_log', 'department', 'session', 'setting', 'user_role', 'api_token'])
      await migrateDownAll(h.db)
      expect(await tableNames(h.db)).to.deep.equal([])
      await migrateToLatest(h.db)
      expect(await tableNames(h.db)).to.deep.equal(first)
      expect(await pendingMigrations(h.db)).to.deep.equal([])
    } finally {
      await h.close()
    }
  })

  it('when listed, then every migration name is date-prefixed and in order', () => {
    const names = Object.keys(migrations)
    for (const n of names) expect(n).to.match(/^\d{4}_\d{2}_\d{2}_\d{4}_[a-z0-9_]+$/)
    expect([...names].sort()).to.deep.equal(names)
  })

  it('when the database is new, then the usual departments of an อบต. are seeded', async () => {
    const h = await createEmptyTestDb()
    try {
      await migrateToLatest(h.db)
      const names = (await h.db.selectFrom('department').select('name').execute()).map((d) => d.name)
      expect(names).to.include.members(['สำนักปลัด', 'กองคลัง', 'กองช่าง'])
    } finally {
      await h.close()
    }
  })

  it('when a file database is opened, then WAL, foreign keys and a busy timeout are on', async function () {
    sqliteOnly(this) // the SQLite file's pragmas
    const fs = await import('node:fs')
    const os = await import('node:os')
    const path = await import('node:path')
    const { openDb } = await import('../../db/connection.js')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-'))
    const h = openDb(path.join(dir, 'sub', 'x.db'))
    try {
      expect(h.raw.pragma('journal_mode', { simple: true })).to.equal('wal')
      expect(h.raw.pragma('foreign_keys', { simple: true })).to.equal(1)
      expect(Number(h.raw.pragma('busy_timeout', { simple: true }))).to.be.greaterThan(0)
    } finally {
      await h.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
