import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type express from 'express'
import { pino } from 'pino'
import supertest from 'supertest'
import type { OpenDb } from '../../db/connection.js'
import { run as agencyCli } from '../../scripts/agency.js'
import { fixedClock } from '../../server/clock.js'
import { loadConfig } from '../../server/config.js'
import type { AppContext } from '../../server/context.js'
import { type AgencyRuntime, createHosting, type Hosting } from '../../server/hosting.js'
import type { SignInLimits } from '../../server/http/middleware/rate-limit.js'
import { csrfFrom } from './app.js'
import { TEST_PASSWORD } from './builders.js'
import { createEmptyTestDb, databaseUrlOf } from './db.js'

/*
 * Many agencies on one PostgreSQL server in a test (issue 20): an empty database, each agency added by
 * the real `npm run agency -- add` (scripts/agency.ts run()), and the hosted server's front app
 * (server/hosting.ts createHosting) over them with one fixed clock. Requests pick their agency by the
 * Host header, as a browser's do. PostgreSQL only: the caller skips when !onPostgres.
 */

export interface AgencySpec {
  slug: string
  /** Default `<slug>.example.go.th` (`_` as `-`). */
  host?: string
  /** Default `ที่ทำการ <slug>`. */
  name?: string
  /** What the agency's labels carry (the registry's base_url). Default `https://labels.<host>`: not the host, so that a test sees it comes from the registry. */
  baseUrl?: string
  /** The first administrator; default `admin` (the same name in every agency, as in real life). */
  adminUsername?: string
}

export interface HostedAgency {
  slug: string
  host: string
  name: string
  baseUrl: string
  /** The first administrator, made by `agency add` with ADMIN_PASSWORD. */
  admin: { username: string; password: string }
  runtime: AgencyRuntime
  /** The agency's own context (its database handle, config, clock): for builders and services. */
  ctx: AppContext
  /** DATA_DIR/<slug>/: its keys, audit anchor and attachments. */
  folder: string
}

export interface TestHosting {
  hosting: Hosting
  /** The front app every request goes to. */
  app: express.Express
  clock: ReturnType<typeof fixedClock>
  dataDir: string
  /** The empty database the agencies live in (one schema each). */
  databaseUrl: string
  agencies: HostedAgency[]
  agency(slug: string): HostedAgency
  /** An anonymous request to `host`. */
  request(host: string): {
    get(path: string): supertest.Test
    post(path: string): supertest.Test
  }
  /** A cookie-keeping agent whose every request goes to `host`. */
  agent(host: string): supertest.Agent
  /** An agent of `host` signed in through its real sign-in form. */
  signIn(host: string, username: string, password?: string): Promise<supertest.Agent>
  /** A bearer token from `host`'s real token endpoint. */
  token(host: string, username: string, password?: string): Promise<string>
  close(): Promise<void>
}

export const HOSTED_ADMIN_PASSWORD = TEST_PASSWORD

export async function createTestHosting(
  opts: { agencies: AgencySpec[]; now?: string; signInLimits?: SignInLimits; env?: Record<string, string> } = { agencies: [] },
): Promise<TestHosting> {
  const db: OpenDb = await createEmptyTestDb()
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-hosting-'))
  let hosting: Hosting | undefined
  const close = async () => {
    await hosting?.close()
    await db.close()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  try {
    const databaseUrl = await databaseUrlOf(db.db)
    const env: NodeJS.ProcessEnv = { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl, TENANCY: 'host', DATA_DIR: dataDir, ...opts.env }
    const specs = opts.agencies.map((a) => {
      const host = a.host ?? `${a.slug.replace(/_/g, '-')}.example.go.th`
      return { slug: a.slug, host, name: a.name ?? `ที่ทำการ ${a.slug}`, baseUrl: a.baseUrl ?? `https://labels.${host}`, admin: a.adminUsername ?? 'admin' }
    })
    for (const a of specs) {
      const said: string[] = []
      const code = await agencyCli(
        ['add', '--slug', a.slug, '--host', a.host, '--name', a.name, '--admin-username', a.admin, '--base-url', a.baseUrl],
        { ...env, ADMIN_PASSWORD: HOSTED_ADMIN_PASSWORD },
        (s) => said.push(s),
      )
      if (code !== 0) throw new Error(`agency add ${a.slug}: exit ${code}\n${said.join('\n')}`)
    }
    const clock = fixedClock(opts.now ?? '2025-01-15T03:00:00.000Z')
    hosting = createHosting({
      env,
      config: loadConfig(env),
      clock,
      logger: pino({ level: 'silent' }),
      signInLimits: opts.signInLimits ?? { perAccountAndAddress: 1000, perAddress: 1000 },
    })
    await hosting.start()
    const agencies: HostedAgency[] = []
    for (const a of specs) {
      const runtime = await hosting.runtime(a.host)
      if (!runtime) throw new Error(`hosting: no agency for ${a.host}`)
      agencies.push({
        slug: a.slug,
        host: a.host,
        name: a.name,
        baseUrl: a.baseUrl,
        admin: { username: a.admin, password: HOSTED_ADMIN_PASSWORD },
        runtime,
        ctx: runtime.ctx,
        folder: path.join(dataDir, a.slug),
      })
    }
    const app = hosting.app
    const agent = (host: string) => supertest.agent(app).host(host)
    return {
      hosting,
      app,
      clock,
      dataDir,
      databaseUrl,
      agencies,
      agency(slug) {
        const found = agencies.find((a) => a.slug === slug)
        if (!found) throw new Error(`no agency ${slug}`)
        return found
      },
      request: (host) => ({
        get: (p) => supertest(app).get(p).set('Host', host),
        post: (p) => supertest(app).post(p).set('Host', host),
      }),
      agent,
      async signIn(host, username, password = TEST_PASSWORD) {
        const a = agent(host)
        const page = await a.get('/login').expect(200)
        const res = await a
          .post('/login')
          .type('form')
          .send({ _csrf: csrfFrom(page.text), username, password, next: '/' })
        if (res.status !== 303) throw new Error(`sign-in failed for ${username} at ${host}: ${res.status}`)
        return a
      },
      async token(host, username, password = TEST_PASSWORD) {
        const res = await supertest(app).post('/api/v1/tokens').set('Host', host).send({ username, password })
        if (res.status !== 201) throw new Error(`token failed for ${username} at ${host}: ${res.status} ${JSON.stringify(res.body)}`)
        return (res.body as { token: string }).token
      },
      close,
    }
  } catch (e) {
    await close().catch(() => undefined)
    throw e
  }
}
