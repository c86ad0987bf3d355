import { expect } from 'chai'
import { openDb, type OpenDb } from '../../db/connection.js'
import { createMigrator, migrateToLatest } from '../../db/migrator.js'

/*
 * 2026_12_06_1000_token_expiry: besides the expiry column, the tokens that already outlived their
 * owner's password or account before this release (issue 13, finding 1) are revoked, as of the
 * moment they should have died.
 */
describe('migration 2026_12_06_1000_token_expiry', () => {
  let h: OpenDb
  beforeEach(async () => {
    h = openDb(':memory:')
    const r = await createMigrator(h.db).migrateTo('2026_12_06_0900_loan_policy')
    if (r.error) throw r.error
  })
  afterEach(() => h.close())

  function addUser(username: string, o: { active?: number; passwordChangedAt: string; updatedAt: string }): number {
    const r = h.raw
      .prepare(
        `INSERT INTO app_user (username, name, position, department_id, borrower_type, phone, password_hash, locale, active, must_change_password, created_at, updated_at, password_changed_at)
         VALUES (?, ?, '', NULL, 'employee', '', 'x', 'th', ?, 0, '2025-01-01T00:00:00.000Z', ?, ?)`,
      )
      .run(username, username, o.active ?? 1, o.updatedAt, o.passwordChangedAt)
    return Number(r.lastInsertRowid)
  }

  function addToken(userId: number, name: string, createdAt: string, revokedAt: string | null = null): void {
    h.raw
      .prepare('INSERT INTO api_token (user_id, name, token_hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(userId, name, `hash-${name}`, `ykt_${name}`, createdAt, revokedAt)
  }

  it('when tokens outlived a password change or belong to an inactive account, then they are revoked as of then; the others stay live and gain no expiry', async () => {
    const changed = addUser('changed', { passwordChangedAt: '2025-03-01T00:00:00.000Z', updatedAt: '2025-03-01T00:00:00.000Z' })
    const inactive = addUser('inactive', { active: 0, passwordChangedAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-04-01T00:00:00.000Z' })
    const fine = addUser('fine', { passwordChangedAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-05-01T00:00:00.000Z' })
    addToken(changed, 'before-change', '2025-02-01T00:00:00.000Z')
    addToken(changed, 'after-change', '2025-03-02T00:00:00.000Z')
    addToken(inactive, 'of-inactive', '2025-02-01T00:00:00.000Z')
    addToken(fine, 'fine', '2025-02-01T00:00:00.000Z')
    addToken(fine, 'revoked-long-ago', '2025-02-01T00:00:00.000Z', '2025-02-02T00:00:00.000Z')

    await migrateToLatest(h.db)

    const rows = h.raw.prepare('SELECT name, revoked_at, expires_at FROM api_token ORDER BY id').all()
    expect(rows).to.deep.equal([
      { name: 'before-change', revoked_at: '2025-03-01T00:00:00.000Z', expires_at: null },
      { name: 'after-change', revoked_at: null, expires_at: null },
      { name: 'of-inactive', revoked_at: '2025-04-01T00:00:00.000Z', expires_at: null },
      { name: 'fine', revoked_at: null, expires_at: null },
      { name: 'revoked-long-ago', revoked_at: '2025-02-02T00:00:00.000Z', expires_at: null },
    ])
  })

  it('when migrated down, then the expiry column goes and the revocations stay', async () => {
    const changed = addUser('changed', { passwordChangedAt: '2025-03-01T00:00:00.000Z', updatedAt: '2025-03-01T00:00:00.000Z' })
    addToken(changed, 'before-change', '2025-02-01T00:00:00.000Z')
    await migrateToLatest(h.db)
    const r = await createMigrator(h.db).migrateTo('2026_12_06_0900_loan_policy')
    if (r.error) throw r.error
    const cols = (h.raw.prepare('PRAGMA table_info(api_token)').all() as Array<{ name: string }>).map((c) => c.name)
    expect(cols).to.not.include('expires_at')
    expect(h.raw.prepare('SELECT revoked_at FROM api_token').get()).to.deep.equal({ revoked_at: '2025-03-01T00:00:00.000Z' })
  })
})
