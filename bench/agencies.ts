/**
 * Many agencies on one PostgreSQL server (issue 20, README "Performance"): write throughput of one
 * agency alone against four agencies writing at once, and the QR page through the hosting front app
 * against the same agency's own app.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/agencies.ts
 *
 * A new database (C collation) on that server holds the registry and four agencies, each its own
 * schema made and migrated by server/tenancy.ts (migrateAgency) with the pool the server gives an
 * agency (openAgencyDb). Writers: `BENCH_WRITERS` (8) async loops per agency, each committing short
 * write transactions (one audit entry: read the chain's head, insert the next — as run.ts's writers)
 * for `BENCH_SECONDS` (3); one agency alone, then all four at once, alternating `BENCH_ROUNDS` (4)
 * times; tx/s are the means. The advisory lock of writeTransaction is per schema, so agencies never
 * wait for each other's writers, only for the server. Afterwards every agency's audit chain must
 * verify and have grown by exactly the commits counted for it.
 *
 * The QR page: createHosting's front app (the agency found by the Host header) and createApp on the
 * same agency's handle and session key, both listening in this process; autocannon in a worker thread,
 * alternating the two for `BENCH_SECONDS`, signed in as the agency's administrator. The ratio is
 * what the host lookup costs a page.
 *
 * The database it makes is dropped at the end, with the run's temporary data folder. Results:
 * bench/results/agencies-<timestamp>.json and latest-agencies.json (BENCH_RESULTS_DIR).
 */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import autocannon from 'autocannon'
import { sql } from 'kysely'
import pg from 'pg'
import { pino } from 'pino'
import { type PgDb, writeTransaction } from '../db/connection.js'
import { signInCookie } from './sign-in.js'
import { createApp } from '../server/app.js'
import { systemClock } from '../server/clock.js'
import { loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { createHosting } from '../server/hosting.js'
import { createAsset } from '../server/services/asset.service.js'
import { append as appendAudit, CLI_ACTOR, verifyChain } from '../server/services/audit.service.js'
import { dataFolder } from '../server/services/audit-anchor.service.js'
import { findCategoryByCode } from '../server/services/category.service.js'
import { secretFromKeyFile } from '../server/services/secret.service.js'
import { ensureFirstAdmin } from '../server/services/user.service.js'
import { agencyConfig, ensureRegistry, migrateAgency, openRegistry, registerAgency } from '../server/tenancy.js'

const SLUGS = ['bench_a', 'bench_b', 'bench_c', 'bench_d']
const hostOf = (slug: string) => `${slug.replace('_', '-')}.bench.example.go.th`
const ADMIN = { username: 'bench_admin', password: 'bench-password-2568' }

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
const round = (x: number, digits = 1) => Number(x.toFixed(digits))

export interface AgenciesResult {
  at: string
  node: string
  cpus: number
  cpuModel: string
  loadavg: number[]
  postgres: string
  /** Making and migrating an agency's schema (migrateAgency), ms each. */
  agencyCreateMs: number[]
  writers: {
    writersPerAgency: number
    seconds: number
    rounds: number
    oneAgencyTps: number
    fourAgenciesTps: number
    fourAgenciesPerAgencyTps: number[]
    /** Four agencies' total ÷ one agency alone. */
    ratio: number
    /** The CPU this (the client's) process used ÷ wall time, one agency and four: near 1, one core was the limit. */
    clientCpuShare: { one: number; four: number }
    committed: Record<string, number>
    errors: number
  }
  /** While one agency's write transaction held its lock `ms`: the commits of a writer of another agency, and of the same agency (0). */
  lockHeld: { ms: number; otherAgencyCommits: number; sameAgencyCommits: number }
  qr?: { path: string; seconds: number; rounds: number; singleRps: number; hostedRps: number; ratio: number; errors: number }
}

async function main(): Promise<void> {
  const base = process.env.BENCH_DATABASE_URL
  if (!base) throw new Error('set BENCH_DATABASE_URL=postgres://… (a role that may create databases)')
  const seconds = Number(process.env.BENCH_SECONDS ?? 3)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 4)
  const writersPerAgency = Number(process.env.BENCH_WRITERS ?? 8)
  const say = (l: string) => process.stdout.write(`${l}\n`)

  const admin = new pg.Client(base)
  await admin.connect()
  admin.on('error', () => undefined)
  const name = `yk_bench_agencies_${process.pid}`
  const u = new URL(base)
  u.pathname = `/${name}`
  const url = u.toString()
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-bench-agencies-'))
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    DATABASE_URL: url,
    TENANCY: 'host',
    DATA_DIR: work,
    LOG_LEVEL: 'silent',
  }
  const handles: PgDb[] = []
  let registry: ReturnType<typeof openRegistry> | undefined
  let hosting: ReturnType<typeof createHosting> | undefined
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`)
    await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`)
    const version = String((await admin.query('SHOW server_version')).rows[0].server_version)
    say(
      `PostgreSQL ${version}, database ${name}; load ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
    )

    registry = openRegistry(url)
    await ensureRegistry(registry.db)
    const ctxs: AppContext[] = []
    const agencyCreateMs: number[] = []
    for (const slug of SLUGS) {
      const t = performance.now()
      const handle = await migrateAgency(registry.db, url, slug)
      agencyCreateMs.push(round(performance.now() - t, 0))
      handles.push(handle)
      const agency = await registerAgency(registry.db, { slug, host: hostOf(slug), name: slug, baseUrl: `https://${hostOf(slug)}` }, new Date().toISOString())
      const config = agencyConfig(env, agency)
      fs.mkdirSync(dataFolder(config), { recursive: true, mode: 0o700 })
      ctxs.push({ db: handle.db, clock: systemClock, config, logger: pino({ level: 'silent' }) })
    }
    say(`  4 agencies made and migrated: ${agencyCreateMs.join(', ')} ms`)

    // ------------------------------------------------ writers
    const committed = new Map<AppContext, number>(ctxs.map((c) => [c, 0]))
    let errors = 0
    let firstError: unknown
    /** `writersPerAgency` loops in each of `agencies` for `ms`: tx/s per agency. */
    const run = async (agencies: AppContext[], ms: number): Promise<number[]> => {
      const done = agencies.map(() => 0)
      const t0 = performance.now()
      const until = t0 + ms
      await Promise.all(
        agencies.flatMap((ctx, a) =>
          Array.from({ length: writersPerAgency }, async (_, w) => {
            while (performance.now() < until) {
              try {
                await writeTransaction(ctx.db, (trx) =>
                  appendAudit(trx, ctx.clock, CLI_ACTOR, { action: 'bench.writer', entity: 'bench', entityId: w, data: { writer: w, n: done[a] } }),
                )
                done[a]!++
              } catch (e) {
                errors++
                firstError ??= e
              }
            }
          }),
        ),
      )
      const s = (performance.now() - t0) / 1000
      for (const [a, c] of agencies.entries()) committed.set(c, committed.get(c)! + done[a]!)
      return done.map((n) => n / s)
    }
    const before = await Promise.all(ctxs.map(async (c) => (await verifyChain(c.db)).entries))
    await run(ctxs, 300) // warm-up: every agency's pool, the JIT
    const one: number[] = []
    const four: number[][] = []
    // This process's CPU share while each ran (1 = one core busy): the app's one Node process serves every agency.
    const cpuShare = { one: [] as number[], four: [] as number[] }
    const timed = async (agencies: AppContext[], into: number[]) => {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const tps = await run(agencies, seconds * 1000)
      const c = process.cpuUsage(c0)
      into.push((c.user + c.system) / 1000 / (performance.now() - t0))
      return tps
    }
    for (let r = 0; r < rounds; r++) {
      one.push((await timed(ctxs.slice(0, 1), cpuShare.one))[0]!)
      four.push(await timed(ctxs, cpuShare.four))
    }
    if (errors > 0) process.stderr.write(`writers: ${errors} transactions failed, the first: ${String(firstError)}\n`)
    const perAgency = SLUGS.map((_, a) => round(mean(four.map((f) => f[a]!))))
    const fourTotal = mean(four.map((f) => f.reduce((s, x) => s + x, 0)))
    const writers: AgenciesResult['writers'] = {
      writersPerAgency,
      seconds,
      rounds,
      oneAgencyTps: round(mean(one)),
      fourAgenciesTps: round(fourTotal),
      fourAgenciesPerAgencyTps: perAgency,
      ratio: round(fourTotal / mean(one), 2),
      clientCpuShare: { one: round(mean(cpuShare.one), 2), four: round(mean(cpuShare.four), 2) },
      committed: Object.fromEntries(ctxs.map((c, i) => [SLUGS[i]!, committed.get(c)!])),
      errors,
    }
    say(
      `  writers (${writersPerAgency} per agency): one agency ${writers.oneAgencyTps} tx/s; four at once ${writers.fourAgenciesTps} tx/s in all (${perAgency.join(', ')} each) → ×${writers.ratio}; ${errors} failed; this process's CPU ${writers.clientCpuShare.one} and ${writers.clientCpuShare.four} of a core`,
    )

    // ------------------------------------------------ one agency's lock held: another agency goes on
    // A write transaction of agency A holds A's lock for `HOLD_MS`; meanwhile one writer of A and one of B
    // loop. B's commits go on (its lock is its own); A's writer waits for A's lock until the holder ends.
    const HOLD_MS = 1000
    const [ctxA, ctxB] = [ctxs[0]!, ctxs[1]!]
    const during = { sameAgency: 0, otherAgency: 0 }
    let holding = true
    const holder = writeTransaction(ctxA.db, async (trx) => {
      await appendAudit(trx, ctxA.clock, CLI_ACTOR, { action: 'bench.holder', entity: 'bench', entityId: 0, data: {} })
      await sql`SELECT pg_sleep(${HOLD_MS / 1000})`.execute(trx)
    }).finally(() => {
      holding = false
    })
    await new Promise((r) => setTimeout(r, 50))
    const loop = async (ctx: AppContext, key: keyof typeof during) => {
      while (holding) {
        await writeTransaction(ctx.db, (trx) => appendAudit(trx, ctx.clock, CLI_ACTOR, { action: 'bench.writer', entity: 'bench', entityId: 0, data: {} }))
        committed.set(ctx, committed.get(ctx)! + 1)
        if (holding) during[key]++
      }
    }
    await Promise.all([holder, loop(ctxA, 'sameAgency'), loop(ctxB, 'otherAgency')])
    committed.set(ctxA, committed.get(ctxA)! + 1) // the holder's own entry
    say(`  agency A's lock held ${HOLD_MS} ms: meanwhile agency B committed ${during.otherAgency}, A's other writer ${during.sameAgency}`)
    if (during.sameAgency !== 0) throw new Error(`agency A's writer committed ${during.sameAgency} while A's lock was held`)
    if (during.otherAgency === 0) throw new Error('agency B committed nothing while agency A held its lock: the agencies wait for each other')

    for (const [i, c] of ctxs.entries()) {
      const chain = await verifyChain(c.db)
      if (!chain.ok) throw new Error(`${SLUGS[i]}: the audit chain does not verify after the writers`)
      const grew = chain.entries - before[i]!
      if (grew !== committed.get(c)) throw new Error(`${SLUGS[i]}: ${committed.get(c)} commits counted, the audit chain grew by ${grew}`)
    }
    say(`  every agency's audit chain verifies and grew by exactly its commits: ${ctxs.map((c) => committed.get(c)).join(', ')}`)

    // ------------------------------------------------ the QR page, hosted and alone
    let qr: AgenciesResult['qr']
    if (process.env.BENCH_QR !== '0') {
      const ctx = ctxs[0]!
      await ensureFirstAdmin(ctx, ADMIN)
      const category = await findCategoryByCode(ctx, 'electrical')
      const asset = await createAsset(ctx, CLI_ACTOR, { code: '416-68-0001', name: 'เครื่องขยายเสียง', categoryId: category!.id, location: 'ห้องพัสดุ' })
      const single = createApp(ctx, { sessionSecret: secretFromKeyFile(dataFolder(ctx.config), 'session').value })
      hosting = createHosting({ env, config: loadConfig(env), clock: systemClock, logger: pino({ level: 'silent' }) })
      await hosting.start()
      const listen = (app: http.RequestListener) =>
        new Promise<http.Server>((resolve) => {
          const s = http.createServer(app)
          s.listen(0, '127.0.0.1', () => resolve(s))
        })
      const singleServer = await listen(single)
      const hostedServer = await listen(hosting.app)
      const at = (s: http.Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`
      try {
        // The agency's administrator signs in through its own app: the session lives in the agency's schema, so the cookie serves both apps.
        const cookie = await signInCookie(at(singleServer), ADMIN)
        const qrPath = `/q/${encodeURIComponent(asset.code)}`
        const hostHeaders = { cookie, host: hostOf(SLUGS[0]!) }
        for (const [s, headers] of [
          [singleServer, { cookie }],
          [hostedServer, hostHeaders],
        ] as const) {
          const res = await get(`${at(s)}${qrPath}`, headers)
          if (res.status !== 200 || !res.body.includes(asset.code)) throw new Error(`the QR page answered ${res.status} on ${at(s)}`)
        }
        const shoot = async (target: string, headers: Record<string, string>) => {
          const r = await autocannon({ url: target, connections: 10, duration: seconds, headers, workers: 1 } as autocannon.Options)
          return { rps: r.requests.average, errors: r.errors + r.timeouts + r.non2xx }
        }
        const alone: number[] = []
        const hosted: number[] = []
        let qrErrors = 0
        await shoot(`${at(singleServer)}${qrPath}`, { cookie }) // warm-up
        const aloneShot = () => shoot(`${at(singleServer)}${qrPath}`, { cookie })
        const hostedShot = () => shoot(`${at(hostedServer)}${qrPath}`, hostHeaders)
        await hostedShot() // warm-up
        for (let r = 0; r < rounds; r++) {
          // Which goes first alternates, so that neither always runs after the other.
          const first = r % 2 === 0 ? await aloneShot() : await hostedShot()
          const second = r % 2 === 0 ? await hostedShot() : await aloneShot()
          const [a, h] = r % 2 === 0 ? [first, second] : [second, first]
          alone.push(a.rps)
          hosted.push(h.rps)
          qrErrors += a.errors + h.errors
        }
        qr = {
          path: qrPath,
          seconds,
          rounds,
          singleRps: round(mean(alone)),
          hostedRps: round(mean(hosted)),
          ratio: round(mean(hosted) / mean(alone), 2),
          errors: qrErrors,
        }
        say(`  QR page: the agency's own app ${qr.singleRps} req/s, through the hosting front app ${qr.hostedRps} req/s → ×${qr.ratio}; ${qrErrors} errors`)
      } finally {
        single.shutdown()
        await new Promise((r) => singleServer.close(r))
        await new Promise((r) => hostedServer.close(r))
      }
    }

    const result: AgenciesResult = {
      at: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      loadavg: os.loadavg().map((l) => round(l, 2)),
      postgres: version,
      agencyCreateMs,
      writers,
      lockHeld: { ms: HOLD_MS, otherAgencyCommits: during.otherAgency, sameAgencyCommits: during.sameAgency },
      ...(qr ? { qr } : {}),
    }
    const resultsDir = path.resolve(process.env.BENCH_RESULTS_DIR ?? path.join(import.meta.dirname, 'results'))
    fs.mkdirSync(resultsDir, { recursive: true })
    const json = `${JSON.stringify(result, null, 2)}\n`
    fs.writeFileSync(path.join(resultsDir, `agencies-${result.at.replace(/[:.]/g, '-')}.json`), json)
    fs.writeFileSync(path.join(resultsDir, 'latest-agencies.json'), json)
    say(`results: ${path.join(resultsDir, 'latest-agencies.json')}`)
  } finally {
    await hosting?.close().catch(() => undefined)
    for (const h of handles) await h.close().catch(() => undefined)
    await registry?.close().catch(() => undefined)
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined)
    await admin.end().catch(() => undefined)
    fs.rmSync(work, { recursive: true, force: true })
  }
}

/** A GET with any headers (Host included, which fetch does not let a caller set). */
function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    req.on('error', reject)
  })
}

main().catch((e: unknown) => {
  console.error(e)
  process.exit(1)
})
