import { expect } from 'chai'
import type { OpenDb } from '../../db/connection.js'
import { isUniqueViolation } from '../../db/dialect.js'
import { createMigrator, migrateToLatest } from '../../db/migrator.js'
import { findAssetByCode, getAssetByCode, listAssets } from '../../server/services/asset.service.js'
import { findKitByCode, findStockByCode } from '../../server/services/stock.service.js'
import { append, verifyChain } from '../../server/services/audit.service.js'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { qrUrl } from '../../server/services/label.service.js'
import { createEmptyTestDb, query } from '../helpers/db.js'

/*
 * Issue 16, item 3 (SPEC §2): codes are stored as entered (trimmed, NFC) and compared by a key
 * that folds NFKC forms, Thai digits, case and spaces. NFKC turned ำ into ํา.
 */
const TYPED = 'สำนัก.01/2566' // ส + SARA AM, as a Thai keyboard types it
const NFKC = TYPED.normalize('NFKC') // ส + NIKHAHIT + SARA AA: what the old code stored and printed

describe('asset codes stored as entered, compared by key (issue 16)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  it('when a code with ำ is registered, then it is stored, listed and labelled exactly as typed', async () => {
    expect(NFKC).to.not.equal(TYPED)
    const a = await makeAsset(t.ctx, { code: TYPED })
    expect(a.code).to.equal(TYPED)
    const stored = await query(t.ctx.db).value<string>('SELECT code FROM asset WHERE id = ?', a.id)
    expect(stored).to.equal(TYPED)
  })

  it('when either form, another case or Thai digits are looked up or searched, then the one asset is found; the other form is taken', async () => {
    const a = await makeAsset(t.ctx, { code: TYPED })
    for (const form of [TYPED, NFKC, ` ${NFKC} `, 'สำนัก.๐๑/๒๕๖๖']) {
      expect((await findAssetByCode(t.ctx, form))?.id, form).to.equal(a.id)
    }
    const b = await makeAsset(t.ctx, { code: 'ab-1' })
    expect((await getAssetByCode(t.ctx, 'AB-1')).id).to.equal(b.id)
    const found = await listAssets(t.ctx, { q: 'ส\u0E4D\u0E32นัก', page: 1, pageSize: 20 } as Parameters<typeof listAssets>[1])
    expect(found.items.map((r) => r.id)).to.deep.equal([a.id])
    let error: unknown
    try {
      await makeAsset(t.ctx, { code: NFKC })
    } catch (e) {
      error = e
    }
    expect(error).to.have.property('messageKey', 'asset.codeTaken')
  })

  it('when an old label printed with the NFKC form is opened, then /q/ shows the asset; a new label carries the typed form', async () => {
    const a = await makeAsset(t.ctx, { code: TYPED })
    const { agent } = await signedInAs(t, ['staff'])
    for (const form of [TYPED, NFKC]) {
      const res = await agent.get(new URL(qrUrl(t.ctx.config.publicBaseUrl, form)).pathname)
      expect(res.status, form).to.equal(200)
      expect(res.text, form).to.include(a.name)
    }
    expect(qrUrl(t.ctx.config.publicBaseUrl, a.code)).to.equal(`${t.ctx.config.publicBaseUrl}/q/${encodeURIComponent(TYPED)}`)
    const scan = await agent.get(`/scan?code=${encodeURIComponent(NFKC)}`)
    expect(scan.status).to.equal(303)
    expect(scan.headers.location).to.equal(`/q/${encodeURIComponent(TYPED)}`)
  })

  it('when stock items and kits have codes with ำ, then they are stored as typed and found by either form', async () => {
    const s = await makeStock(t.ctx, { code: 'เก้าอี้-ทำ-01' })
    expect(s.code).to.equal('เก้าอี้-ทำ-01')
    expect((await findStockByCode(t.ctx, 'เก้าอี้-ทำ-01'.normalize('NFKC')))?.id).to.equal(s.id)
    await makeKit(t.ctx, 'ชุดคำ-1', [{ code: s.code, quantity: 2 }])
    const k = await findKitByCode(t.ctx, 'ชุดคำ-1'.normalize('NFKC'))
    expect(k?.kit.code).to.equal('ชุดคำ-1')
  })
})

describe('migration 2026_12_07_1000_code_key', () => {
  let h: OpenDb
  beforeEach(async () => {
    h = await createEmptyTestDb()
    const r = await createMigrator(h.db).migrateTo('2026_12_06_1100_secrets_out_of_db')
    if (r.error) throw r.error
  })
  afterEach(() => h.close())

  const clock = { now: () => new Date('2025-03-01T03:00:00.000Z') }
  const at = '2025-01-01T00:00:00.000Z'

  async function addAsset(code: string): Promise<number> {
    const q = query(h.db)
    const cat = await q.value<number>("SELECT id FROM category WHERE code = 'office'")
    return q.value<number>(
      "INSERT INTO asset (code, name, category_id, status, loanable, created_at, updated_at) VALUES (?, 'โต๊ะ', ?, 'available', 1, ?, ?) RETURNING id",
      code,
      cat,
      at,
      at,
    )
  }

  it('when the old NFKC codes have their original in a kept import file or the audit log, then they are restored, audited and the chain verifies', async () => {
    const fromFile = await addAsset('สํานัก.01/2566'.normalize('NFKC'))
    const fromAudit = await addAsset('กองคลัง.จํา-7'.normalize('NFKC'))
    const noEvidence = await addAsset('ทํา-9'.normalize('NFKC'))
    const plain = await addAsset('416-66-0001')
    const q = query(h.db)
    const user = await q.value<number>(
      "INSERT INTO app_user (username, name, position, department_id, borrower_type, phone, password_hash, locale, active, must_change_password, created_at, updated_at, password_changed_at) VALUES ('u', 'u', '', NULL, 'employee', '', 'x', 'th', 1, 0, ?, ?, ?) RETURNING id",
      at,
      at,
      at,
    )
    await q.run(
      "INSERT INTO import_batch (id, user_id, file_name, meta, total_rows, good_rows, bad_rows, created_at, expires_at) VALUES ('b1', ?, 'r.xlsx', '{}', 1, 1, 0, ?, ?)",
      user,
      at,
      '2099-01-01T00:00:00.000Z',
    )
    await q.run(
      "INSERT INTO import_batch_row (batch_id, line, ok, data) VALUES ('b1', 2, 1, ?)",
      JSON.stringify({ values: { code: 'สำนัก.01/2566' }, errors: [], input: { code: 'สำนัก.01/2566' } }),
    )
    await append(h.db, clock, { id: null, label: 'test' }, { action: 'loan.requested', entity: 'loan', entityId: 1, data: { typed: ['กองคลัง.จำ-7'] } })

    await migrateToLatest(h.db)

    const codes = Object.fromEntries(
      (await q.all<{ id: number; code: string; code_key: string }>('SELECT id, code, code_key FROM asset')).map((r) => [r.id, r]),
    )
    expect(codes[fromFile]!.code).to.equal('สำนัก.01/2566')
    expect(codes[fromAudit]!.code).to.equal('กองคลัง.จำ-7')
    expect(codes[noEvidence]!.code).to.equal('ทํา-9'.normalize('NFKC'))
    expect(codes[plain]).to.include({ code: '416-66-0001', code_key: '416-66-0001' })
    expect(codes[fromFile]!.code_key).to.equal(codes[fromFile]!.code.normalize('NFKC'))
    const restored = await q.all("SELECT entity_id, actor_label, data FROM audit_log WHERE action = 'asset.code_restored' ORDER BY id")
    expect(restored).to.deep.equal([
      { entity_id: String(fromFile), actor_label: 'system', data: JSON.stringify({ from: 'สํานัก.01/2566'.normalize('NFKC'), to: 'สำนัก.01/2566' }) },
      { entity_id: String(fromAudit), actor_label: 'system', data: JSON.stringify({ from: 'กองคลัง.จํา-7'.normalize('NFKC'), to: 'กองคลัง.จำ-7' }) },
    ])
    expect(await verifyChain(h.db)).to.deep.include({ ok: true, entries: 3 })
  })

  it('when two existing codes differ only by case, then both stay findable by their exact code and the clash is audited', async () => {
    const upper = await addAsset('AB-1')
    const lower = await addAsset('ab-1')
    await migrateToLatest(h.db)
    const q = query(h.db)
    const keys = await q.all('SELECT id, code_key FROM asset ORDER BY id')
    expect(keys).to.deep.equal([
      { id: upper, code_key: 'ab-1' },
      { id: lower, code_key: `ab-1#${lower}` },
    ])
    expect(await q.get("SELECT count(*) AS n FROM audit_log WHERE action = 'asset.code_key_conflict'")).to.deep.equal({ n: 1 })
    const refused = await q.run("UPDATE asset SET code_key = 'ab-1' WHERE id = ?", lower).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(isUniqueViolation(refused), String(refused)).to.equal(true)
  })
})
