import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { expect } from 'chai'
import { openDb } from '../../db/connection.js'
import { createMigrator } from '../../db/migrator.js'
import { run as runUser } from '../../scripts/user.js'
import { sqliteOnly } from '../helpers/db.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

interface Ran {
  code: number | null
  out: string
}

/** Runs a script as its own process, like `npm run backup` does (npm runs tsx on it). */
function runScript(script: string, args: string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, out }))
  })
}

/** Starts server/main.ts on a free port and waits until it listens. */
function startServer(env: Record<string, string>): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000)
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (/listening on http/.test(out)) {
        clearTimeout(timer)
        resolve({ child, out: () => out })
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`server exited ${code}: ${out}`))
    })
  })
}

function stopServer(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit')
    child.on('exit', (code) => resolve(code))
    child.kill('SIGTERM')
  })
}

function usernames(file: string): string[] {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true })
  try {
    return (db.prepare('SELECT username FROM app_user ORDER BY username').all() as { username: string }[]).map((r) => r.username)
  } finally {
    db.close()
  }
}

describe('backup and restore commands (npm run backup / npm run restore)', function () {
  this.timeout(60_000)
  before(function () {
    sqliteOnly(this) // copies of the SQLite file and the file put back (PostgreSQL is backed up with pg_dump)
  })
  let dir: string
  let env: Record<string, string>
  let dbFile: string
  let backupDir: string
  const quiet = () => undefined
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-bcli-'))
    dbFile = path.join(dir, 'data', 'yk.db')
    backupDir = path.join(dir, 'off-site')
    env = { DATABASE_PATH: dbFile, BACKUP_DIR: backupDir }
    expect(await runUser(['add', 'first', '--name', 'ผู้ดูแล', '--roles', 'admin', '--password', 'first-pass-1'], env, quiet)).to.equal(0)
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('when npm run backup runs, then it prints the path and size of a verified copy in BACKUP_DIR and exits 0', async () => {
    const r = await runScript('scripts/backup.ts', [], env)
    expect(r.code, r.out).to.equal(0)
    const m = /backup written: (\S+\.sqlite)\n/.exec(r.out)
    expect(m, r.out).to.not.equal(null)
    expect(path.dirname(m![1]!)).to.equal(backupDir)
    expect(r.out)
      .to.match(/size: [\d.]+ KB \(\d+ bytes\)/)
      .and.include('verified: ok')
      .and.include('audit chain ok')
    expect(usernames(m![1]!)).to.deep.equal(['first'])
  })

  it('when there is no database, then npm run backup says so, exits 1 and creates nothing', async () => {
    const r = await runScript('scripts/backup.ts', [], { DATABASE_PATH: path.join(dir, 'nowhere', 'x.db'), BACKUP_DIR: backupDir })
    expect(r.code).to.equal(1)
    expect(r.out).to.include('error: there is no database at')
    expect(fs.existsSync(path.join(dir, 'nowhere'))).to.equal(false)
    expect(fs.existsSync(backupDir)).to.equal(false)
  })

  it('when npm run restore gets a backup, then without --yes it changes nothing, and with --yes it puts the backup back after a safety backup', async () => {
    const b = await runScript('scripts/backup.ts', [], env)
    const file = /backup written: (\S+)\n/.exec(b.out)![1]!
    expect(await runUser(['add', 'later', '--name', 'ทีหลัง', '--roles', 'staff', '--password', 'later-pass-1'], env, quiet)).to.equal(0)

    const asked = await runScript('scripts/restore.ts', [file], env)
    expect(asked.code, asked.out).to.equal(2)
    expect(asked.out).to.include('add --yes').and.include('nothing was changed')
    expect(usernames(dbFile)).to.deep.equal(['first', 'later'])

    const done = await runScript('scripts/restore.ts', [file, '--yes'], env)
    expect(done.code, done.out).to.equal(0)
    expect(done.out).to.include(`restored ${file} -> ${dbFile}`)
    const safety = /safety backup of the previous database: (\S+)/.exec(done.out)![1]!
    expect(safety).to.match(/-pre-restore\.sqlite$/)
    expect(usernames(dbFile)).to.deep.equal(['first'])
    expect(usernames(safety)).to.deep.equal(['first', 'later'])
  })

  it('when npm run restore gets a backup whose audit chain was rewritten, then it refuses (matches no anchor line); with --override and a reason it restores and audits the override', async () => {
    const b = await runScript('scripts/backup.ts', [], env)
    const file = /backup written: (\S+)\n/.exec(b.out)![1]!
    // The attacker's copy: an entry edited and re-hashed (the chain itself verifies again).
    const raw = new BetterSqlite3(file)
    const { hashEntry } = await import('../../server/services/audit.service.js')
    const rows = raw.prepare('SELECT * FROM audit_log ORDER BY id').all() as Array<Parameters<typeof hashEntry>[0]>
    raw.prepare("UPDATE audit_log SET hash = 'x' || id, prev_hash = 'y' || id").run()
    let prev = '0'.repeat(64)
    for (const r of rows) {
      const row = { ...r, prev_hash: prev, actor_label: r.id === 1 ? 'someone-else' : r.actor_label }
      const hash = hashEntry(row)
      raw.prepare('UPDATE audit_log SET actor_label = ?, prev_hash = ?, hash = ? WHERE id = ?').run(row.actor_label, prev, hash, r.id)
      prev = hash
    }
    raw.close()
    const before = fs.readFileSync(dbFile)

    const refused = await runScript('scripts/restore.ts', [file, '--yes'], env)
    expect(refused.code, refused.out).to.equal(1)
    expect(refused.out).to.include('matches no line of the audit anchor').and.include('--override').and.include('nothing was changed')
    expect(fs.readFileSync(dbFile).equals(before)).to.equal(true)

    const short = await runScript('scripts/restore.ts', [file, '--yes', '--override', 'ok'], env)
    expect(short.code).to.equal(2)
    expect(short.out).to.include('at least 10 characters')

    const done = await runScript('scripts/restore.ts', [file, '--yes', '--override', 'copy checked against the paper register'], env)
    expect(done.code, done.out).to.equal(0)
    expect(done.out).to.include('restored on your override (audited)')
    const db = new BetterSqlite3(dbFile, { readonly: true })
    const last = db.prepare('SELECT action, data FROM audit_log ORDER BY id DESC LIMIT 1').get() as { action: string; data: string }
    db.close()
    expect(last.action).to.equal('database.restore')
    expect(JSON.parse(last.data)).to.deep.include({ override: true, reason: 'copy checked against the paper register' })
    const anchorFile = path.join(path.dirname(dbFile), 'audit-anchor.log')
    expect(fs.statSync(anchorFile).mode & 0o777).to.equal(0o600)
    expect(fs.statSync(path.join(path.dirname(dbFile), 'audit-anchor.key')).mode & 0o777).to.equal(0o600)
    expect(fs.readFileSync(anchorFile, 'utf8').trim().split('\n').at(-1)).to.include('"kind":"restore"')
  })

  it('when npm run restore gets a file that is not a database, then it exits 1, says why and changes nothing', async () => {
    const file = path.join(dir, 'holiday-photo.sqlite')
    fs.writeFileSync(file, Buffer.alloc(4096, 7))
    const before = fs.readFileSync(dbFile)
    const r = await runScript('scripts/restore.ts', [file, '--yes'], env)
    expect(r.code).to.equal(1)
    expect(r.out).to.include('is not an SQLite database').and.include('nothing was changed')
    expect(fs.readFileSync(dbFile).equals(before)).to.equal(true)
    expect(fs.existsSync(backupDir)).to.equal(false)
  })

  it('when the server is running, then npm run backup still makes a verified copy and npm run restore refuses', async () => {
    const server = await startServer(env)
    try {
      const b = await runScript('scripts/backup.ts', [], env)
      expect(b.code, b.out).to.equal(0)
      const file = /backup written: (\S+)\n/.exec(b.out)![1]!
      const r = await runScript('scripts/restore.ts', [file, '--yes'], env)
      expect(r.code, r.out).to.equal(1)
      expect(r.out).to.include('is open in another process').and.include('nothing was changed')
      expect(fs.readdirSync(backupDir).filter((f) => f.includes('pre-restore'))).to.deep.equal([])
    } finally {
      expect(await stopServer(server.child)).to.equal(0)
    }
  })

  it('when the server starts on a database with a migration pending, then it takes a pre-migration backup before migrating; on a second start it takes none', async () => {
    const h = openDb(dbFile)
    await createMigrator(h.db).migrateDown()
    await h.close()
    const first = await startServer(env)
    expect(await stopServer(first.child)).to.equal(0)
    const made = fs.readdirSync(backupDir).filter((f) => f.endsWith('.sqlite'))
    expect(made).to.have.length(1)
    expect(made[0]).to.match(/^yk-\d{8}T\d{6}Z-pre-migration\.sqlite$/)
    expect(first.out()).to.include('backup taken before migrating')
    expect(usernames(path.join(backupDir, made[0]!))).to.deep.equal(['first'])

    const second = await startServer(env)
    expect(await stopServer(second.child)).to.equal(0)
    expect(fs.readdirSync(backupDir).filter((f) => f.endsWith('.sqlite'))).to.have.length(1)
  })
})
