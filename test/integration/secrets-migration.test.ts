import { expect } from 'chai'
import { openDb, type OpenDb } from '../../db/connection.js'
import { createMigrator, migrateToLatest } from '../../db/migrator.js'

/* 2026_12_06_1100_secrets_out_of_db: an older database loses the session key it kept and its raw-id session rows. */
describe('migration 2026_12_06_1100_secrets_out_of_db', () => {
  let h: OpenDb
  beforeEach(async () => {
    h = openDb(':memory:')
    const r = await createMigrator(h.db).migrateTo('2026_12_06_1000_token_expiry')
    if (r.error) throw r.error
  })
  afterEach(() => h.close())

  it('when a database kept its session key in the settings and sessions by raw id, then both are gone after the upgrade and other settings stay', async () => {
    const at = '2025-01-01T00:00:00.000Z'
    h.raw
      .prepare('INSERT INTO setting (key, value, updated_at) VALUES (?, ?, ?)')
      .run('secret.session', JSON.stringify('an-old-signing-key-kept-in-the-db'), at)
    h.raw.prepare('INSERT INTO setting (key, value, updated_at) VALUES (?, ?, ?)').run('agencyName', JSON.stringify('อบต.หนองบัว'), at)
    h.raw.prepare('INSERT INTO session (sid, user_id, data, expires_at) VALUES (?, NULL, ?, ?)').run('raw-session-id', '{}', Date.now() + 60_000)
    await migrateToLatest(h.db)
    expect(h.raw.prepare("SELECT key FROM setting WHERE key LIKE 'secret.%'").all()).to.deep.equal([])
    expect(h.raw.prepare('SELECT COUNT(*) AS n FROM session').get()).to.deep.equal({ n: 0 })
    expect(h.raw.prepare("SELECT value FROM setting WHERE key = 'agencyName'").get()).to.deep.equal({ value: JSON.stringify('อบต.หนองบัว') })
  })
})
