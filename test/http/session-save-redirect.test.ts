import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { expect } from 'chai'
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely'
import { createApp } from '../../server/app.js'
import { makeUser } from '../helpers/builders.js'
import { csrfFrom } from '../helpers/app.js'
import { createTestContext, type TestContext } from '../helpers/db.js'

/** Holds back the answer of every session write by `ms` and notes when it came: a slow database round trip. */
class SlowSessionWrites implements KyselyPlugin {
  readonly stored: number[] = []
  readonly #writes = new WeakSet<object>()
  constructor(private readonly ms: number) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const n = args.node
    if (n.kind === 'InsertQueryNode' && n.into?.table.identifier.name === 'session') this.#writes.add(args.queryId)
    return n
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.#writes.has(args.queryId)) {
      await delay(this.ms)
      this.stored.push(Date.now())
    }
    return args.result
  }
}

/** A raw request: when its status and headers arrived, and what they were. */
function request(base: string, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; headersAt: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      const headersAt = Date.now()
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headersAt, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('sessions: a redirect leaves only once its session is stored', () => {
  let ctx: TestContext
  let server: http.Server
  let base: string
  const slow = new SlowSessionWrites(300)

  before(async () => {
    ctx = await createTestContext()
    const app = createApp(
      { ...ctx, db: ctx.db.withPlugin(slow) },
      { sessionSecret: 'test-secret-test-secret', signInLimits: { perAccountAndAddress: 1000, perAddress: 1000 } },
    )
    server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    await new Promise((r) => server.close(r))
    await ctx.close()
  })

  it('when a person signs in and the session write is slow, then the 303 comes after the write, and the page it leads to is signed in', async () => {
    const user = await makeUser(ctx, ['staff'])
    const login = await request(base, 'GET', '/login', {})
    const cookie = String(login.headers['set-cookie']?.[0] ?? '').split(';')[0]!
    expect(cookie).to.match(/^yk\.sid=/)
    const form = new URLSearchParams({ _csrf: csrfFrom(login.text), username: user.username, password: user.password, next: '/' }).toString()
    const before = slow.stored.length
    const signed = await request(base, 'POST', '/login', { cookie, 'content-type': 'application/x-www-form-urlencoded' }, form)
    expect(signed.status).to.equal(303)
    expect(slow.stored.length, 'the new session was written').to.be.greaterThan(before)
    // express-session alone sends the headers before its save is done: a browser would follow them at once.
    // (express-session writes the new session once more at the end: it does not count a save made on a regenerated session.)
    expect(signed.headersAt, 'the redirect arrived only after the new session was written').to.be.at.least(slow.stored[before]!)
    const next = String(signed.headers['set-cookie']?.[0] ?? '').split(';')[0]!
    const home = await request(base, 'GET', '/', { cookie: next })
    expect(home.status, 'signed in on the page the redirect leads to').to.equal(200)
  })

  it('when an anonymous visitor is redirected without any change to a session, then no session is written', async () => {
    const before = slow.stored.length
    const res = await request(base, 'GET', '/', {})
    expect(res.status).to.be.within(300, 399)
    expect(slow.stored.length).to.equal(before)
  })
})
