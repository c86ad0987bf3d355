import supertest from 'supertest'
import type { Role } from '../../db/schema.js'
import { createApp, type App } from '../../server/app.js'
import type { SignInLimits } from '../../server/http/middleware/rate-limit.js'
import { makeUser } from './builders.js'
import { createTestContext, type TestContext } from './db.js'

export interface TestApp {
  ctx: TestContext
  app: App
  close(): Promise<void>
}

export async function createTestApp(opts: { now?: string; env?: Record<string, string>; signInLimits?: SignInLimits } = {}): Promise<TestApp> {
  const ctx = await createTestContext(opts)
  const app = createApp(ctx, { sessionSecret: 'test-secret-test-secret', signInLimits: opts.signInLimits ?? { perAccountAndAddress: 1000, perAddress: 1000 } })
  return {
    ctx,
    app,
    close: async () => {
      app.shutdown()
      await ctx.close()
    },
  }
}

/** The CSRF token of the first form in a page. */
export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html)
  if (!m) throw new Error('no CSRF token in page')
  return m[1]!
}

/** A cookie-keeping agent signed in through the real sign-in form. */
export async function signIn(app: App, username: string, password: string): Promise<supertest.Agent> {
  const agent = supertest.agent(app)
  const page = await agent.get('/login').expect(200)
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), username, password, next: '/' })
  if (res.status !== 303) throw new Error(`sign-in failed for ${username}: ${res.status}`)
  return agent
}

/** Makes a user with the roles and signs them in; returns the agent and the user. */
export async function signedInAs(t: TestApp, roles: Role[], overrides: Parameters<typeof makeUser>[2] = {}) {
  const user = await makeUser(t.ctx, roles, overrides)
  const agent = await signIn(t.app, user.username, user.password)
  return { agent, user }
}

/** A CSRF token for a signed-in agent, read from a page it can open. */
export async function csrfOf(agent: supertest.Agent, path = '/account'): Promise<string> {
  const page = await agent.get(path)
  return csrfFrom(page.text)
}

/** A bearer token through the real API. */
export async function apiToken(app: App, username: string, password: string): Promise<string> {
  const res = await supertest(app).post('/api/v1/tokens').send({ username, password })
  if (res.status !== 201) throw new Error(`token failed: ${res.status} ${JSON.stringify(res.body)}`)
  return (res.body as { token: string }).token
}

/** Posts an urlencoded form with the CSRF token of the page `from` (the loan page, another page). */
export async function postForm(agent: supertest.Agent, from: string, path: string, body: Record<string, string | string[]>) {
  const page = await agent.get(from)
  return agent
    .post(path)
    .type('form')
    .send({ _csrf: csrfFrom(page.text), ...body })
}

/** Posts a multipart form (the forms that record a paper approval) as a browser sends it, with the slip's scan when given. */
export async function postMultipart(agent: supertest.Agent, from: string, path: string, fields: Record<string, string>, scan?: Buffer) {
  const page = await agent.get(from)
  const req = agent.post(path).field('_csrf', csrfFrom(page.text))
  for (const [k, v] of Object.entries(fields)) req.field(k, v)
  if (scan) req.attach('scan', scan, { filename: 'slip.png', contentType: 'image/png' })
  return req
}
