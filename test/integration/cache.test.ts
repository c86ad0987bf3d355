import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { writeTransaction, type OpenDb } from '../../db/connection.js'
import { fixedClock } from '../../server/clock.js'
import { cached, MAX_ENTRIES } from '../../server/lib/cache.js'
import { createTestDb, onPostgres, openOtherHandle } from '../helpers/db.js'

/** server/lib/cache.ts: kept until the next write to the database by any process, or the Bangkok day change. */
describe('cache (server/lib/cache.ts)', () => {
  let dir: string
  let main: OpenDb
  let other: OpenDb | undefined
  // 23:50 in Bangkok (UTC+7) on 15 January 2025.
  const clock = fixedClock('2025-01-15T16:50:00.000Z')
  const ctx = () => ({ db: main.db, clock })

  /** A read that counts how often it really ran. */
  function counter() {
    let runs = 0
    return {
      read: () => Promise.resolve(++runs),
      get runs() {
        return runs
      },
    }
  }

  const write = (h: OpenDb, key: string) =>
    h.db
      .insertInto('setting')
      .values({ key, value: '1', updated_at: '2025-01-15T00:00:00Z' })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: '2' }))
      .execute()

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-cache-'))
    // A database a second connection can open: the SQLite file, or the test's PostgreSQL database.
    main = await createTestDb(onPostgres ? undefined : path.join(dir, 'db.sqlite'))
    clock.set('2025-01-15T16:50:00.000Z')
  })

  afterEach(async () => {
    await other?.close()
    other = undefined
    await main.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('when nothing was written, then a value is read once and kept', async () => {
    const c = counter()
    expect(await cached(ctx(), 'k', c.read)).to.equal(1)
    expect(await cached(ctx(), 'k', c.read)).to.equal(1)
    clock.advance(5 * 60_000) // still the same Bangkok day
    expect(await cached(ctx(), 'k', c.read)).to.equal(1)
    expect(c.runs).to.equal(1)
  })

  it('when this connection writes, then every kept value is dropped', async () => {
    const a = counter()
    const b = counter()
    await cached(ctx(), 'a', a.read)
    await cached(ctx(), 'b', b.read)
    await write(main, 'x')
    expect(await cached(ctx(), 'a', a.read)).to.equal(2)
    expect(await cached(ctx(), 'b', b.read)).to.equal(2)
  })

  it('when another connection (another process) commits, then every kept value is dropped', async () => {
    // SQLite tells it by PRAGMA data_version; PostgreSQL by the change_counter table (db/migrator.ts).
    other = await openOtherHandle(main.db, path.join(dir, 'db.sqlite'))
    const c = counter()
    await cached(ctx(), 'k', c.read)
    await write(other, 'y')
    expect(await cached(ctx(), 'k', c.read)).to.equal(2)
    expect(await cached(ctx(), 'k', c.read)).to.equal(2)
  })

  it('when the Bangkok day changes, then every kept value is dropped', async () => {
    const c = counter()
    await cached(ctx(), 'k', c.read)
    clock.set('2025-01-15T16:59:59.000Z') // 23:59:59 in Bangkok
    expect(await cached(ctx(), 'k', c.read)).to.equal(1)
    clock.set('2025-01-15T17:00:00.000Z') // midnight in Bangkok, 16 January
    expect(await cached(ctx(), 'k', c.read)).to.equal(2)
    expect(await cached(ctx(), 'k', c.read)).to.equal(2)
  })

  it('when a transaction is open, then what is read is not kept, even by the outer handle, and a rollback leaves nothing behind', async () => {
    const c = counter()
    await writeTransaction(main.db, async (trx) => {
      await write(main, 'x')
      expect(await cached({ db: trx, clock }, 'k', c.read)).to.equal(1)
      expect(await cached(ctx(), 'k', c.read)).to.equal(2)
    })
    await writeTransaction(main.db, async () => {
      expect(await cached(ctx(), 'r', () => main.db.selectFrom('setting').select('value').where('key', '=', 'x').executeTakeFirstOrThrow())).to.deep.equal({
        value: '1',
      })
      await write(main, 'x') // value 2, rolled back below
      expect(await cached(ctx(), 'r', () => main.db.selectFrom('setting').select('value').where('key', '=', 'x').executeTakeFirstOrThrow())).to.deep.equal({
        value: '2',
      })
      throw new Error('roll back')
    }).catch(() => undefined)
    expect(await cached(ctx(), 'r', () => main.db.selectFrom('setting').select('value').where('key', '=', 'x').executeTakeFirstOrThrow())).to.deep.equal({
      value: '1',
    })
    expect(await cached(ctx(), 'k', c.read)).to.equal(3)
    expect(await cached(ctx(), 'k', c.read)).to.equal(3)
  })

  it('when calls overlap, then they share one read; a failed read is not kept', async () => {
    const c = counter()
    const [x, y] = await Promise.all([cached(ctx(), 'k', c.read), cached(ctx(), 'k', c.read)])
    expect([x, y, c.runs]).to.deep.equal([1, 1, 1])
    let fail = true
    const flaky = () => (fail ? Promise.reject(new Error('busy')) : Promise.resolve('ok'))
    await cached(ctx(), 'f', flaky).then(
      () => expect.fail('should reject'),
      (e: Error) => expect(e.message).to.equal('busy'),
    )
    fail = false
    expect(await cached(ctx(), 'f', flaky)).to.equal('ok')
  })

  it('when more values than the limit are kept, then the least recently used goes first', async () => {
    const first = counter()
    await cached(ctx(), 'first', first.read)
    const old = counter()
    await cached(ctx(), 'old', old.read)
    for (let i = 0; i < MAX_ENTRIES - 2; i++) await cached(ctx(), `fill-${i}`, () => Promise.resolve(i))
    await cached(ctx(), 'first', first.read) // used again: now the most recent
    await cached(ctx(), 'one-more', () => Promise.resolve(0)) // over the limit: 'old' goes
    expect(await cached(ctx(), 'first', first.read)).to.equal(1)
    expect(await cached(ctx(), 'old', old.read)).to.equal(2)
  })
})
