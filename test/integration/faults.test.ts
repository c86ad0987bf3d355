import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { expect } from 'chai'
import { Kysely, SqliteDialect } from 'kysely'
import type { Db, OpenDb } from '../../db/connection.js'
import type { Database } from '../../db/schema.js'
import { createTestDb, databaseUrlOf, onPostgres, query, sqliteOnly } from '../helpers/db.js'
import { ADMIN, apiAs, openFile, ROOT, startServer, tokenFor, userWithToken, type ServerProcess } from '../helpers/server-process.js'

/*
 * Faults against the real server process on a file database: the process killed in the middle of
 * a stream of writes (SQLite's file and its recovery: SQLite only), and the user CLI writing to the
 * same database while the server does (on PostgreSQL too: both open the test's DATABASE_URL).
 */

interface Verify {
  ok: boolean
  entries: number
}

/** A new asset through the API: the body finance would send. */
const assetBody = (code: string) => ({ code, name: `โต๊ะพับ ${code}`, category: 'electrical', location: 'ห้องพัสดุ', price: '1,500.00' })

/**
 * Writers that each create assets one after another (each awaited) until told to stop or the
 * server goes away. Every 201 is an acknowledged write; any other answer is kept to be reported.
 */
function writeStream(base: string, token: string, opts: { writers: number; prefix: string }) {
  const acknowledged: string[] = []
  const unexpected: Array<{ code: string; status: number; body: unknown }> = []
  const api = apiAs(base, token)
  let stopped = false
  let waiters: Array<{ n: number; resolve: () => void }> = []
  const loop = async (w: number) => {
    for (let i = 1; !stopped; i++) {
      const code = `${opts.prefix}-${w}-${String(i).padStart(4, '0')}`
      let r
      try {
        r = await api.post('/api/v1/assets', assetBody(code))
      } catch {
        return // the server is gone: this write was never acknowledged
      }
      if (r.status === 201) acknowledged.push(code)
      else {
        unexpected.push({ code, status: r.status, body: r.body })
        stopped = true // a wrong answer ends the stream, to be reported rather than waited past
      }
      waiters = waiters.filter((x) => {
        if (acknowledged.length < x.n) return true
        x.resolve()
        return false
      })
    }
  }
  const done = Promise.all(Array.from({ length: opts.writers }, (_, w) => loop(w + 1)))
  return {
    acknowledged,
    unexpected,
    /** Resolves once `n` writes have been acknowledged, or the stream has ended. */
    reached: (n: number) =>
      Promise.race([done.then(() => undefined), new Promise<void>((resolve) => (acknowledged.length >= n ? resolve() : waiters.push({ n, resolve })))]),
    stop: async () => {
      stopped = true
      await done
    },
    done,
  }
}

/** The checks on the rows, on either database: every acknowledged write there, and no asset without its audit entry (nor the other way). */
async function checkRows(db: Db, acknowledged: string[]): Promise<Set<string>> {
  const q = query(db)
  const codes = new Set((await q.all<{ code: string }>('SELECT code FROM asset')).map((r) => r.code))
  expect(
    acknowledged.filter((c) => !codes.has(c)),
    'acknowledged writes missing',
  ).to.deep.equal([])
  const unaudited = await q.all(
    "SELECT a.code FROM asset a WHERE NOT EXISTS (SELECT 1 FROM audit_log g WHERE g.action = 'asset.created' AND g.entity = 'asset' AND g.entity_id = CAST(a.id AS TEXT))",
  )
  expect(unaudited, 'assets without their audit entry').to.deep.equal([])
  const orphans = await q.all(
    "SELECT g.entity_id FROM audit_log g WHERE g.action = 'asset.created' AND NOT EXISTS (SELECT 1 FROM asset a WHERE CAST(a.id AS TEXT) = g.entity_id)",
  )
  expect(orphans, 'audit entries without their asset').to.deep.equal([])
  return codes
}

/** The checks on the SQLite file itself: whole (its pragmas), then its rows. */
async function checkFile(file: string, acknowledged: string[]): Promise<Set<string>> {
  const raw = openFile(file)
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) })
  try {
    expect(raw.pragma('integrity_check', { simple: true })).to.equal('ok')
    expect(raw.pragma('foreign_key_check')).to.deep.equal([])
    return await checkRows(db, acknowledged)
  } finally {
    await db.destroy()
  }
}

/** Runs `scripts/user.ts` (what `npm run user` runs) as its own process on the database of `env`. */
function runUserCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/user.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })))
}

/** A copy of the database as the crash left it (the main file with its -wal and -shm). */
function copyCrashState(file: string, to: string): string {
  fs.mkdirSync(to, { recursive: true })
  for (const suffix of ['', '-wal', '-shm']) {
    if (fs.existsSync(file + suffix)) fs.copyFileSync(file + suffix, path.join(to, path.basename(file) + suffix))
  }
  return path.join(to, path.basename(file))
}

describe('faults: the server process killed mid-write, and the CLI writing beside it', function () {
  this.timeout(90_000)
  let dir: string
  let file: string
  let server: ServerProcess | undefined
  /** PostgreSQL: the test's database, kept open (closing it drops it) until the server has stopped. */
  let pg: OpenDb | undefined

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-faults-'))
    file = path.join(dir, 'yk.db')
  })
  afterEach(async () => {
    if (server) await server.stop('SIGKILL')
    server = undefined
    await pg?.close()
    pg = undefined
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('when the server is killed (SIGKILL) in the middle of a stream of writes, then after a restart every acknowledged write is there, none is half-written, the file is whole and the audit chain verifies', async function () {
    sqliteOnly(this) // the SQLite file as the crash left it (its -wal and -shm), and its recovery
    server = await startServer(file)
    let adminToken = await tokenFor(server.base, ADMIN.username, ADMIN.password)
    const financePassword = 'pw-kanya.f-long-enough'
    let financeToken = (await userWithToken(server.base, adminToken, 'kanya.f', ['finance'])).token
    const acknowledged: string[] = []

    // Two crashes in a row, each while four writers have requests in flight.
    for (const round of [1, 2]) {
      const stream = writeStream(server.base, financeToken, { writers: 4, prefix: `KILL${round}` })
      await stream.reached(40)
      expect(stream.unexpected, 'answers other than 201 before the kill').to.deep.equal([])
      expect(stream.acknowledged.length, 'writes acknowledged before the kill').to.be.at.least(40)
      const exit = await server.stop('SIGKILL')
      expect(exit.signal).to.equal('SIGKILL')
      await stream.done
      expect(stream.unexpected, 'answers other than 201 before the kill').to.deep.equal([])
      acknowledged.push(...stream.acknowledged)

      // The file as the crash left it, checked on a copy so that the server's own recovery is what restarts.
      const codes = await checkFile(copyCrashState(file, path.join(dir, `crash-${round}`)), acknowledged)
      expect(codes.size).to.be.at.least(acknowledged.length)

      server = await startServer(file)
      adminToken = await tokenFor(server.base, ADMIN.username, ADMIN.password)
      financeToken = await tokenFor(server.base, 'kanya.f', financePassword)
      const verify = await apiAs(server.base, adminToken).get<Verify>('/api/v1/audit/verify')
      expect(verify.status).to.equal(200)
      expect(verify.body.ok, JSON.stringify(verify.body)).to.equal(true)
      // An acknowledged asset reads back through the API, and the restarted server takes writes.
      const last = stream.acknowledged.at(-1)!
      expect((await apiAs(server.base, financeToken).get<{ code: string }>(`/api/v1/assets/${last}`)).body).to.include({ code: last })
      expect((await apiAs(server.base, financeToken).post('/api/v1/assets', assetBody(`AFTER-${round}`))).status).to.equal(201)
      acknowledged.push(`AFTER-${round}`)
    }

    const stopped = await server.stop()
    server = undefined
    expect(stopped.code).to.equal(0)
    await checkFile(file, acknowledged)
  })

  it('when the user CLI adds users in a loop while the server takes API writes, then no write is lost, nothing crashes and no lock surfaces as a 500', async function () {
    this.timeout(180_000) // six CLI processes, each a cold start of tsx: a minute on a loaded machine
    // The server and the CLI open the same database: the file, or the test's PostgreSQL database by its URL.
    const env: Record<string, string> = { DATABASE_PATH: file }
    if (onPostgres) {
      pg = await createTestDb()
      env.DATABASE_URL = await databaseUrlOf(pg.db)
    }
    server = await startServer(file, env)
    if (pg) expect(server.output(), 'the server runs on the PostgreSQL database').to.include('"database":"postgresql"')
    const adminToken = await tokenFor(server.base, ADMIN.username, ADMIN.password)
    const finance = await userWithToken(server.base, adminToken, 'kanya.f', ['finance'])
    const stream = writeStream(server.base, finance.token, { writers: 2, prefix: 'BESIDE' })

    // Two CLI loops side by side, each adding users one after another (each its own process).
    const cliUsers: string[] = []
    const cliFailures: Array<{ username: string; code: number | null; output: string }> = []
    const cliLoop = async (loop: number) => {
      for (let i = 1; i <= 3; i++) {
        const username = `cli${loop}.user${i}`
        const r = await runUserCli(['add', username, '--name', `ผู้ใช้ ${username}`, '--roles', 'staff', '--password', 'cli-pass-long-1'], env)
        if (r.code === 0) cliUsers.push(username)
        else cliFailures.push({ username, code: r.code, output: r.output })
      }
    }
    await Promise.all([cliLoop(1), cliLoop(2)])
    await stream.stop()

    expect(cliFailures).to.deep.equal([])
    expect(cliUsers).to.have.length(6)
    expect(stream.unexpected, 'API answers other than 201').to.deep.equal([])
    expect(stream.acknowledged.length).to.be.greaterThan(0)
    expect(server.output()).to.not.match(/SQLITE_BUSY|database is locked|deadlock detected/)

    // The server still answers, sees the CLI's users (a CLI user signs in) and the chain verifies.
    const verify = await apiAs(server.base, adminToken).get<Verify>('/api/v1/audit/verify')
    expect(verify.body.ok, JSON.stringify(verify.body)).to.equal(true)
    expect(await tokenFor(server.base, 'cli2.user3', 'cli-pass-long-1')).to.be.a('string')

    const stopped = await server.stop()
    server = undefined
    expect(stopped.code).to.equal(0)
    const checkUsers = async (db: Db) => {
      const users = new Set((await query(db).all<{ username: string }>('SELECT username FROM app_user')).map((r) => r.username))
      expect(
        cliUsers.filter((u) => !users.has(u)),
        'CLI users missing',
      ).to.deep.equal([])
      expect(await query(db).value("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'user.created' AND actor_label = 'cli'")).to.equal(6)
    }
    if (pg) {
      await checkRows(pg.db, stream.acknowledged)
      await checkUsers(pg.db)
    } else {
      await checkFile(file, stream.acknowledged)
      const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openFile(file, { readonly: true }) }) })
      try {
        await checkUsers(db)
      } finally {
        await db.destroy()
      }
    }
  })
})
