import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { run } from '../../scripts/user.js'
import { openDb } from '../../db/connection.js'
import { verifyChain } from '../../server/services/audit.service.js'
import { setHashCostForTests } from '../../server/services/password.js'

describe('user CLI (npm run user)', () => {
  let dir: string
  let env: NodeJS.ProcessEnv
  let out: string[]
  const say = (s: string) => out.push(s)
  before(() => setHashCostForTests(1024))
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-cli-'))
    env = { DATABASE_PATH: path.join(dir, 'yk.db') }
    out = []
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('when a user is added without a password, then one is generated, shown once and the audit chain records the CLI as actor', async () => {
    expect(await run(['add', 'somchai', '--name', 'สมชาย ใจดี', '--roles', 'admin,finance', '--department', 'finance'], env, say)).to.equal(0)
    expect(out.join('\n')).to.match(/password: \S{10,}/)
    const h = openDb(env.DATABASE_PATH!)
    try {
      const row = await h.db.selectFrom('audit_log').selectAll().where('action', '=', 'user.created').executeTakeFirstOrThrow()
      expect(row.actor_label).to.equal('cli')
      const user = await h.db.selectFrom('app_user').selectAll().where('username', '=', 'somchai').executeTakeFirstOrThrow()
      expect(user.must_change_password).to.equal(1)
      expect((await verifyChain(h.db)).ok).to.equal(true)
    } finally {
      await h.close()
    }
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
    const h = openDb(env.DATABASE_PATH!)
    try {
      expect(await h.db.selectFrom('app_user').selectAll().execute()).to.have.length(0)
    } finally {
      await h.close()
    }
  })
})
