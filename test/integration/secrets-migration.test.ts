import { expect } from 'chai'
import type { OpenDb } from '../../db/connection.js'
import { createMigrator, migrateToLatest } from '../../db/migrator.js'
import { createEmptyTestDb, query } from '../helpers/db.js'

/* 2026_12_06_1100_secrets_out_of_db: an older database loses the session key it kept and its raw-id session rows. */
describe('migration 2026_12_06_1100_secrets_out_of_db', () => {
  let h: OpenDb
  beforeEach(async () => {
    h = await createEmptyTestDb()
    const r = await createMigrator(h.db).migrateTo('2026_12_06_1000_token_expiry')
    if (r.error) throw r.error
  })
  afterEach(() => h.close())

  it('when a database kept its session key in the settings and sessions by raw id, then both are gone after the upgrade and other settings stay', async () => {
    const at = '2025-01-01T00:00:00.000Z'
    const q = query(h.db)
    await q.run('INSERT INTO setting (key, value, updated_at) VALUES (?, ?, ?)', 'secret.session', JSON.stringify('an-old-signing-key-kept-in-the-db'), at)
    await q.run('INSERT INTO setting (key, value, updated_at) VALUES (?, ?, ?)', 'agencyName', JSON.stringify('อบต.หนองบัว'), at)
    await q.run('INSERT INTO session (sid, user_id, data, expires_at) VALUES (?, NULL, ?, ?)', 'raw-session-id', '{}', Date.now() + 60_000)
    await migrateToLatest(h.db)
    expect(await q.all("SELECT key FROM setting WHERE key LIKE 'secret.%'")).to.deep.equal([])
    expect(await q.get('SELECT COUNT(*) AS n FROM session')).to.deep.equal({ n: 0 })
    expect(await q.get("SELECT value FROM setting WHERE key = 'agencyName'")).to.deep.equal({ value: JSON.stringify('อบต.หนองบัว') })
  })
})
