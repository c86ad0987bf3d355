import { expect } from 'chai'
import { sql } from 'kysely'
import { openDb } from '../../db/connection.js'
import { migrateDownAll, migrateToLatest, pendingMigrations } from '../../db/migrator.js'
import { migrations } from '../../db/migrations/index.js'

async function tables(db: ReturnType<typeof openDb>['db']): Promise<string[]> {
  const r = await sql<{
    name: string
  }>`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' ORDER BY name`.execute(db)
  return r.rows.map((x) => x.name)
}

describe('migrations', () => {
  it('when run up, down and up again on a fresh database, then each step succeeds and the schema is the same', async () => {
    const h = openDb(':memory:')
    try {
      await migrateToLatest(h.db)
      const first = await tables(h.db)
      expect(first).to.include.members(['app_user', 'audit_log', 'department', 'session', 'setting', 'user_role', 'api_token'])
      await migrateDownAll(h.db)
      expect(await tables(h.db)).to.deep.equal([])
      await migrateToLatest(h.db)
      expect(await tables(h.db)).to.deep.equal(first)
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
    const h = openDb(':memory:')
    try {
      await migrateToLatest(h.db)
      const names = (await h.db.selectFrom('department').select('name').execute()).map((d) => d.name)
      expect(names).to.include.members(['สำนักปลัด', 'กองคลัง', 'กองช่าง'])
    } finally {
      await h.close()
    }
  })

  it('when a file database is opened, then WAL, foreign keys and a busy timeout are on', async () => {
    const fs = await import('node:fs')
    const os = await import('node:os')
    const path = await import('node:path')
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
