import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { run } from '../../scripts/user.js'
import { openDb, type OpenDb } from '../../db/connection.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { setHashCostForTests } from '../../server/services/password.js'
import { createTestDb, databaseUrlOf, onPostgres } from '../helpers/db.js'

describe('user CLI (npm run user)', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let out: string[]
  /** PostgreSQL: the test's database, which the CLI opens by its DATABASE_URL (closing it drops it). */
  let pg: OpenDb | undefined
  const say = (s: string) => out.push(s)
  before(() => setHashCostForTests(1024))
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-cli-'))
    // On SQLite the CLI makes the file; on PostgreSQL it opens the test's database (DATABASE_URL wins).
    env = { DATABASE_PATH: path.join(dir, 'yk.db') }
    if (onPostgres) {
      pg = await createTestDb()
      env.DATABASE_URL = await databaseUrlOf(pg.db)
    }
    out = []
  })
  afterEach(async () => {
    await pg?.close()
    pg = undefined
    fs.rmSync(dir, { recursive: true, force: true })
  })

  /** The database the CLI wrote to, opened by the test; closed after `fn` (on PostgreSQL it stays the test's own). */
  async function inspect(fn: (h: OpenDb) => Promise<void>): Promise<void> {
    if (pg) return fn(pg)
    const h = openDb(env.DATABASE_PATH!)
    try {
      await fn(h)
    } finally {
      await h.close()
    }
  }

  it('when a user is added without a password, then one is generated, shown once and the audit chain records the CLI as actor', async () => {
    expect(await run(['add', 'somchai', '--name', 'สมชาย ใจดี', '--roles', 'admin,finance', '--department', 'finance'], env, say)).to.equal(0)
    expect(out.join('\n')).to.match(/password: \S{10,}/)
    await inspect(async (h) => {
      const row = await h.db.selectFrom('audit_log').selectAll().where('action', '=', 'user.created').executeTakeFirstOrThrow()
      expect(row.actor_label).to.equal('cli')
      const user = await h.db.selectFrom('app_user').selectAll().where('username', '=', 'somchai').executeTakeFirstOrThrow()
      expect(user.must_change_password).to.equal(1)
      expect((await verifyChain(h.db)).ok).to.equal(true)
    })
  })

  it('when an admin lost their password, then reset-password sets a new one and deactivate/activate/roles work', async () => {
    await run(['add', 'admin1', '--name', 'ผู้ดูแล', '--roles', 'admin', '--password', 'first-pass-1'], env, say)
    expect(await run(['reset-password', 'admin1', '--password', 'second-pass-2'], env, say)).to.equal(0)
    await run(['add', 'staff1', '--name', 'พนักงาน', '--roles', 'staff', '--password', 'staff-pass-1'], env, say)
    expect(await run(['roles', 'staff1', '--roles', 'staff,finance'], env, say)).to.equal(0)
    expect(await run(['deactivate', 'staff1'], env, say)).to.equal(0)
    out = []
    expect(await run(['list'], env, say)).to.equal(0)
    expect(out.join('\n')).to.match(/x staff1\s+finance,staff/)
    expect(await run(['deactivate', 'admin1'], env, say)).to.equal(1)
    expect(out.join('\n')).to.include('At least one active administrator')
  })

  it('when the input is bad, then it says why, exits non-zero and writes nothing', async () => {
    expect(await run(['add', 'x', '--name', '', '--roles', 'wizard'], env, say)).to.equal(1)
    expect(out.join('\n')).to.include('username').and.include('Unknown role')
    expect(await run(['frobnicate'], env, say)).to.equal(2)
    expect(await run(['reset-password', 'nobody'], env, say)).to.equal(1)
    await inspect(async (h) => {
      expect(await h.db.selectFrom('app_user').selectAll().execute()).to.have.length(0)
    })
  })
})
