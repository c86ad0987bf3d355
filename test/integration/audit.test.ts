import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { writeTransaction } from '../../db/connection.js'
import { isUniqueViolation } from '../../db/dialect.js'
import { append, GENESIS_HASH, verifyChain } from '../../server/services/audit.service.js'
import { createTestContext, onPostgres, openOtherHandle, query, type TestContext } from '../helpers/db.js'

const actor = { id: null, label: 'test' }

describe('audit chain', () => {
  let ctx: TestContext
  beforeEach(async () => {
    ctx = await createTestContext()
  })
  afterEach(() => ctx.close())

  async function appendN(n: number) {
    for (let i = 0; i < n; i++) {
      await writeTransaction(ctx.db, (trx) => append(trx, ctx.clock, actor, { action: 'test.event', entity: 'thing', entityId: i, data: { i, text: 'ทดสอบ' } }))
    }
  }

  it('when entries are appended, then each links to the one before and the chain verifies', async () => {
    await appendN(5)
    const rows = await ctx.db.selectFrom('audit_log').selectAll().orderBy('id').execute()
    expect(rows[0]!.prev_hash).to.equal(GENESIS_HASH)
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).to.equal(rows[i - 1]!.hash)
    expect(await verifyChain(ctx.db)).to.deep.equal({ ok: true, entries: 5, head: { seq: 5, hash: rows[4]!.hash } })
  })

  it('when the chain is longer than one chunk, then verification walks every chunk', async () => {
    await appendN(25)
    expect(await verifyChain(ctx.db, 7)).to.deep.include({ ok: true, entries: 25 })
  })

  it('when a change fails after its audit entry, then both roll back together', async () => {
    await appendN(1)
    await writeTransaction(ctx.db, async (trx) => {
      await append(trx, ctx.clock, actor, { action: 'doomed', entity: 'thing' })
      throw new Error('boom')
    }).catch(() => undefined)
    const n = await ctx.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    expect(Number(n.n)).to.equal(1)
    expect((await verifyChain(ctx.db)).ok).to.equal(true)
  })

  it("when one row's data is altered, then verification reports that row", async () => {
    await appendN(5)
    await query(ctx.db).run(`UPDATE audit_log SET data = '{"i":99}' WHERE id = 3`)
    expect(await verifyChain(ctx.db)).to.deep.include({ ok: false, brokenAt: 3, reason: 'hash_mismatch' })
  })

  it("when a row's hash is recomputed to hide an edit, then the next row breaks", async () => {
    await appendN(5)
    await query(ctx.db).run(`UPDATE audit_log SET actor_label = 'someone-else' WHERE id = 2`)
    const { hashEntry } = await import('../../server/services/audit.service.js')
    const row = await ctx.db.selectFrom('audit_log').selectAll().where('id', '=', 2).executeTakeFirstOrThrow()
    await query(ctx.db).run('UPDATE audit_log SET hash = ? WHERE id = 2', hashEntry(row))
    expect(await verifyChain(ctx.db)).to.deep.include({ ok: false, brokenAt: 3, reason: 'prev_mismatch' })
  })

  it('when a middle row is deleted, then the row after the gap is reported', async () => {
    await appendN(5)
    await query(ctx.db).run('DELETE FROM audit_log WHERE id = 3')
    expect(await verifyChain(ctx.db)).to.deep.include({ ok: false, brokenAt: 4 })
  })

  it('when a row no longer parses, then it is a break and not an error', async () => {
    await appendN(3)
    await query(ctx.db).run(`UPDATE audit_log SET data = '{not json' WHERE id = 2`)
    expect(await verifyChain(ctx.db)).to.deep.include({ ok: false, brokenAt: 2, reason: 'unparseable' })
  })

  it('when two entries claim the same predecessor, then the database refuses the fork', async () => {
    await appendN(2)
    const first = await ctx.db.selectFrom('audit_log').selectAll().where('id', '=', 1).executeTakeFirstOrThrow()
    const refused = await query(ctx.db)
      .run(
        'INSERT INTO audit_log (id, at, actor_id, actor_label, action, entity, entity_id, data, prev_hash, hash) VALUES (99, ?, NULL, ?, ?, ?, NULL, ?, ?, ?)',
        first.at,
        'x',
        'fork',
        'thing',
        '{}',
        first.prev_hash,
        'f'.repeat(64),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    expect(isUniqueViolation(refused), String(refused)).to.equal(true)
  })
})

describe('audit chain on a shared database', () => {
  it('when a row is tampered with by another connection (the SQLite file, or the PostgreSQL database), then a fresh verification finds it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-audit-'))
    const file = path.join(dir, 'yk.db')
    const ctx = await createTestContext(onPostgres ? {} : { file })
    try {
      for (let i = 0; i < 4; i++) {
        await writeTransaction(ctx.db, (trx) => append(trx, ctx.clock, actor, { action: 'test.event', entity: 'thing', data: { i } }))
      }
      expect((await verifyChain(ctx.db)).ok).to.equal(true)
      const other = await openOtherHandle(ctx.db, file)
      await query(other.db).run(`UPDATE audit_log SET action = 'test.changed' WHERE id = 2`)
      await other.close()
      expect(await verifyChain(ctx.db)).to.deep.include({ ok: false, brokenAt: 2 })
    } finally {
      await ctx.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
