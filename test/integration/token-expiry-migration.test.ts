import { expect } from 'chai'
import type { OpenDb } from '../../db/connection.js'
import { createMigrator, migrateToLatest } from '../../db/migrator.js'
import { columnNames, createEmptyTestDb, query } from '../helpers/db.js'

/*
 * 2026_12_06_1000_token_expiry: besides the expiry column, the tokens that already outlived their
 * owner's password or account before this release (issue 13, finding 1) are revoked, as of the
 * moment they should have died.
 */
describe('migration 2026_12_06_1000_token_expiry', () => {
  let h: OpenDb
  beforeEach(async () => {
    h = await createEmptyTestDb()
    const r = await createMigrator(h.db).migrateTo('2026_12_06_0900_loan_policy')
    if (r.error) throw r.error
  })
  afterEach(() => h.close())

  async function addUser(username: string, o: { active?: number; passwordChangedAt: string; updatedAt: string }): Promise<number> {
    const r = await query(h.db).get<{ id: number }>(
      `INSERT INTO app_user (username, name, position, department_id, borrower_type, phone, password_hash, locale, active, must_change_password, created_at, updated_at, password_changed_at)
       VALUES (?, ?, '', NULL, 'employee', '', 'x', 'th', ?, 0, '2025-01-01T00:00:00.000Z', ?, ?) RETURNING id`,
      username,
      username,
      o.active ?? 1,
      o.updatedAt,
      o.passwordChangedAt,
    )
    return r!.id
  }

  async function addToken(userId: number, name: string, createdAt: string, revokedAt: string | null = null): Promise<void> {
    await query(h.db).run(
      'INSERT INTO api_token (user_id, name, token_hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      userId,
      name,
      `hash-${name}`,
      `ykt_${name}`,
      createdAt,
      revokedAt,
    )
  }

  it('when tokens outlived a password change or belong to an inactive account, then they are revoked as of then; the others stay live and gain no expiry', async () => {
    const changed = await addUser('changed', { passwordChangedAt: '2025-03-01T00:00:00.000Z', updatedAt: '2025-03-01T00:00:00.000Z' })
    const inactive = await addUser('inactive', { active: 0, passwordChangedAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-04-01T00:00:00.000Z' })
    const fine = await addUser('fine', { passwordChangedAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-05-01T00:00:00.000Z' })
    await addToken(changed, 'before-change', '2025-02-01T00:00:00.000Z')
    await addToken(changed, 'after-change', '2025-03-02T00:00:00.000Z')
    await addToken(inactive, 'of-inactive', '2025-02-01T00:00:00.000Z')
    await addToken(fine, 'fine', '2025-02-01T00:00:00.000Z')
    await addToken(fine, 'revoked-long-ago', '2025-02-01T00:00:00.000Z', '2025-02-02T00:00:00.000Z')

    await migrateToLatest(h.db)

    const rows = await query(h.db).all('SELECT name, revoked_at, expires_at FROM api_token ORDER BY id')
    expect(rows).to.deep.equal([
      { name: 'before-change', revoked_at: '2025-03-01T00:00:00.000Z', expires_at: null },
      { name: 'after-change', revoked_at: null, expires_at: null },
      { name: 'of-inactive', revoked_at: '2025-04-01T00:00:00.000Z', expires_at: null },
      { name: 'fine', revoked_at: null, expires_at: null },
      { name: 'revoked-long-ago', revoked_at: '2025-02-02T00:00:00.000Z', expires_at: null },
    ])
  })

  it('when migrated down, then the expiry column goes and the revocations stay', async () => {
    const changed = await addUser('changed', { passwordChangedAt: '2025-03-01T00:00:00.000Z', updatedAt: '2025-03-01T00:00:00.000Z' })
    await addToken(changed, 'before-change', '2025-02-01T00:00:00.000Z')
    await migrateToLatest(h.db)
    const r = await createMigrator(h.db).migrateTo('2026_12_06_0900_loan_policy')
    if (r.error) throw r.error
    expect(await columnNames(h.db, 'api_token')).to.not.include('expires_at')
    expect(await query(h.db).get('SELECT revoked_at FROM api_token')).to.deep.equal({ revoked_at: '2025-03-01T00:00:00.000Z' })
  })
})
