import { expect } from 'chai'
import { writeTransaction } from '../../db/connection.js'
import { append, verifyChain } from '../../server/services/audit.service.js'
import { getSettings } from '../../server/services/settings.service.js'
import { createTestContext, onPostgres, type TestContext } from '../helpers/db.js'

/** Fails instead of hanging: the deadlock this guards against never returned at all. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms: deadlock`)), ms))])
}

const actor = { id: null, label: 'test' }
const count = async (ctx: TestContext) =>
  Number(
    (
      await ctx.db
        .selectFrom('audit_log')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

describe('no hidden deadlock: services called inside a write transaction (issue 14)', () => {
  let ctx: TestContext
  beforeEach(async () => {
    ctx = await createTestContext()
  })
  afterEach(() => ctx.close())

  it('when a service reads through ctx.db while a write transaction is open, then it joins the transaction and returns', async () => {
    const settings = await within(
      2000,
      writeTransaction(ctx.db, () => getSettings(ctx)),
    )
    expect(settings.expiryDays).to.be.a('number')
  })

  it('when a read through ctx.db inside the transaction follows a write, then it sees the uncommitted write', async () => {
    const seen = await within(
      2000,
      writeTransaction(ctx.db, async (trx) => {
        await append(trx, ctx.clock, actor, { action: 'test.inside', entity: 'thing' })
        return count(ctx)
      }),
    )
    expect(seen).to.equal(1)
  })

  it('when writeTransaction is called with the outer handle inside another, then it joins, and a failure rolls back both', async () => {
    await within(
      2000,
      writeTransaction(ctx.db, async (trx) => {
        await append(trx, ctx.clock, actor, { action: 'test.outer', entity: 'thing' })
        await writeTransaction(ctx.db, (inner) => append(inner, ctx.clock, actor, { action: 'test.inner', entity: 'thing' }))
        throw new Error('boom')
      }),
    ).catch((e: Error) => expect(e.message).to.equal('boom'))
    expect(await count(ctx)).to.equal(0)
    await writeTransaction(ctx.db, async () => {
      await writeTransaction(ctx.db, (inner) => append(inner, ctx.clock, actor, { action: 'test.inner', entity: 'thing' }))
    })
    expect(await count(ctx)).to.equal(1)
    expect((await verifyChain(ctx.db)).ok).to.equal(true)
  })

  it('when another request queries while a transaction is open, then it never sees uncommitted rows (SQLite: it waits for the commit)', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let inside!: () => void
    const started = new Promise<void>((r) => (inside = r))
    const tx = writeTransaction(ctx.db, async (trx) => {
      await append(trx, ctx.clock, actor, { action: 'test.slow', entity: 'thing' })
      inside()
      await gate
    })
    await started
    // Outside the transaction's call chain: a different request.
    const other = count(ctx)
    let answered = false
    void other.then(() => (answered = true))
    await new Promise((r) => setTimeout(r, 50))
    if (onPostgres) {
      // PostgreSQL: readers take no lock and read what was committed.
      expect(answered, 'a reader does not wait on PostgreSQL').to.equal(true)
      expect(await other).to.equal(0)
      release()
      await tx
      expect(await count(ctx)).to.equal(1)
      return
    }
    expect(answered, 'the other request waits for the lock').to.equal(false)
    release()
    await tx
    expect(await other).to.equal(1)
  })

  it('when a query started inside a transaction runs after it has ended, then it takes the connection normally', async () => {
    let late: Promise<number> | undefined
    await writeTransaction(ctx.db, async (trx) => {
      await append(trx, ctx.clock, actor, { action: 'test.a', entity: 'thing' })
      late = new Promise((resolve) => setTimeout(() => resolve(count(ctx)), 20))
    })
    await writeTransaction(ctx.db, (trx) => append(trx, ctx.clock, actor, { action: 'test.b', entity: 'thing' }))
    expect(await within(2000, late!)).to.be.oneOf([1, 2])
  })

  it("when Kysely's own transaction is begun inside a write transaction, then it fails at once with a clear error", async () => {
    const err = await within(
      2000,
      writeTransaction(ctx.db, () => ctx.db.transaction().execute(async () => 1)).then(
        () => undefined,
        (e: Error) => e,
      ),
    )
    expect(err?.message).to.include('already open')
  })
})
