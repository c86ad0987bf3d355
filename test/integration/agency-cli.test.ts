import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import { expect } from 'chai'
import { pino } from 'pino'
import { type Db, type OpenDb, openDb, writeTransaction } from '../../db/connection.js'
import { createMigrator, migrateToLatest, pendingMigrations } from '../../db/migrator.js'
import { integrityCheck, openReadOnly } from '../../db/sqlite-file.js'
import { generateDemo } from '../../scripts/demo-data.js'
import { run } from '../../scripts/agency.js'
import { fixedClock } from '../../server/clock.js'
import { loadConfig } from '../../server/config.js'
import type { AppContext } from '../../server/context.js'
import { append, CLI_ACTOR, verifyAudit, verifyChain } from '../../server/services/audit.service.js'
import { anchorFromConfig, startAnchoring, stopAnchoring } from '../../server/services/audit-anchor.service.js'
import { agencyConfig, ensureRegistry, listAgencies, openAgencyDb, openRegistry, type Registry } from '../../server/tenancy.js'
import { createEmptyTestDb, databaseUrlOf, onPostgres, query } from '../helpers/db.js'
import { Differences, diffTable, sqliteTables, tableRows, type TableShape } from '../helpers/parity.js'

/*
 * npm run agency (issue 20, SPEC §7): agencies added and listed; an office that ran on its own SQLite
 * file imported into a schema of the server, exported back out to a file the ordinary install opens,
 * and that file imported again — every table, id, loan number and audit hash the same at each step.
 * Many agencies live on PostgreSQL only: the suite is skipped on a plain SQLite run (CI runs it in its
 * PostgreSQL pass).
 */

const NOW = '2026-11-20T05:00:00.000Z'
const PASSWORD = 'a-long-enough-password-1'

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

describe('npm run agency (issue 20): add, list, import, export — needs TEST_DATABASE_URL', function () {
  this.timeout(600_000)
  let server: OpenDb
  let url: string
  let work: string
  let dataDir: string
  let env: NodeJS.ProcessEnv

  before(async function () {
    // Agencies are schemas of one PostgreSQL server: nothing to test on SQLite alone.
    if (!onPostgres) this.skip()
    server = await createEmptyTestDb()
    url = await databaseUrlOf(server.db)
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-agency-cli-'))
    dataDir = path.join(work, 'data')
    env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: url, DATA_DIR: dataDir }
  })

  after(async () => {
    await server?.close()
    if (work) fs.rmSync(work, { recursive: true, force: true })
  })

  async function cli(argv: string[], extra: NodeJS.ProcessEnv = {}, answer = ''): Promise<{ code: number; text: string }> {
    const lines: string[] = []
    const code = await run(argv, { ...env, ...extra }, (s) => lines.push(s), { askPassword: async () => answer })
    return { code, text: lines.join('\n') }
  }

  async function withRegistry<T>(fn: (r: Registry) => Promise<T>): Promise<T> {
    const r = openRegistry(url)
    try {
      await ensureRegistry(r.db)
      return await fn(r.db)
    } finally {
      await r.close()
    }
  }

  async function agencySchemas(): Promise<string[]> {
    const rows = await query(server.db).all<{ name: string }>("SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE 'agency\\_%' ORDER BY nspname")
    return rows.map((r) => r.name)
  }

  async function slugs(): Promise<string[]> {
    return (await withRegistry((r) => listAgencies(r))).map((a) => a.slug)
  }

  async function withAgency<T>(slug: string, fn: (db: Db) => Promise<T>): Promise<T> {
    const h = openAgencyDb(url, slug)
    try {
      return await fn(h.db)
    } finally {
      await h.close()
    }
  }

  describe('add and list', () => {
    it('when an agency is added, then it is listed, its schema holds its first administrator and its name, and its folder is made', async () => {
      const added = await cli(['add', '--slug', 'nongbua', '--host', 'NongBua.Example.go.th', '--name', 'อบต.หนองบัว', '--admin-username', 'admin'], {
        ADMIN_PASSWORD: PASSWORD,
      })
      expect(added.code, added.text).to.equal(0)
      expect(added.text).to.contain('agency nongbua added: http://nongbua.example.go.th')
      const listed = await cli(['list'])
      expect(listed.code).to.equal(0)
      expect(listed.text).to.match(/^nongbua\s+nongbua\.example\.go\.th\s+http:\/\/nongbua\.example\.go\.th\s+อบต\.หนองบัว$/m)
      expect(await agencySchemas()).to.include('agency_nongbua')
      await withAgency('nongbua', async (db) => {
        const q = query(db)
        expect(await q.value('SELECT username FROM app_user')).to.equal('admin')
        expect(await q.value("SELECT value FROM setting WHERE key = 'agencyName'")).to.equal(JSON.stringify('อบต.หนองบัว'))
        expect((await verifyChain(db)).ok).to.equal(true)
      })
      expect(fs.existsSync(path.join(dataDir, 'nongbua', 'audit-anchor.key'))).to.equal(true)
    })

    const refusals: Array<[what: string, argv: string[], extra: NodeJS.ProcessEnv, message: RegExp, slug: string]> = [
      ['a slug that is not one', ['--slug', 'Bad-Slug', '--host', 'bad.example.go.th'], { ADMIN_PASSWORD: PASSWORD }, /--slug: lower-case letters/, 'Bad-Slug'],
      ['a slug taken', ['--slug', 'nongbua', '--host', 'other.example.go.th'], { ADMIN_PASSWORD: PASSWORD }, /an agency "nongbua" already exists/, 'nongbua'],
      [
        'a host taken',
        ['--slug', 'other', '--host', 'nongbua.example.go.th'],
        { ADMIN_PASSWORD: PASSWORD },
        /the host nongbua\.example\.go\.th already belongs/,
        'other',
      ],
      ['no password', ['--slug', 'nopass', '--host', 'nopass.example.go.th'], {}, /a password is required/, 'nopass'],
      [
        'no DATABASE_URL',
        ['--slug', 'nourl', '--host', 'nourl.example.go.th'],
        { ADMIN_PASSWORD: PASSWORD, DATABASE_URL: undefined },
        /DATABASE_URL is not set/,
        'nourl',
      ],
    ]
    for (const [what, argv, extra, message, slug] of refusals) {
      it(`when an agency is added with ${what}, then it is refused with exit code 2 and nothing is created`, async () => {
        const before = { slugs: await slugs(), schemas: await agencySchemas() }
        const r = await cli(['add', ...argv, '--name', 'X', '--admin-username', 'admin'], extra)
        expect(r.code, r.text).to.equal(2)
        expect(r.text).to.match(message)
        expect(await slugs()).to.deep.equal(before.slugs)
        expect(await agencySchemas()).to.deep.equal(before.schemas)
        if (slug !== 'nongbua') expect(fs.existsSync(path.join(dataDir, slug))).to.equal(false)
      })
    }

    it('when no command is given or an unknown one, then the usage is printed with exit code 2', async () => {
      expect((await cli([])).code).to.equal(2)
      const r = await cli(['frobnicate'])
      expect(r.code).to.equal(2)
      expect(r.text).to.contain('unknown command: frobnicate').and.contain('usage:')
    })
  })

  describe('import and export: an office’s SQLite file in, out to a new file, and in again', () => {
    let office: string
    let officeFile: string
    let officeSha: string
    let exported: string
    let agencyName: string
    const outputs: Record<string, string> = {}
    /** The original file's AUTOINCREMENT counters (the next id is seq + 1). */
    let sequences: Map<string, number>
    /** The office's database file copied into a new folder `name` of the work folder. */
    const officeCopy = (name: string) => {
      const dir = path.join(work, name)
      fs.mkdirSync(dir)
      const file = path.join(dir, 'yuemkhuen.db')
      fs.copyFileSync(officeFile, file)
      return { dir, file }
    }

    before(async function () {
      if (!onPostgres) this.skip()
      // A realistic office: the demo agency through the real services, its scans beside it, its audit anchored.
      office = path.join(work, 'office')
      officeFile = path.join(office, 'yuemkhuen.db')
      const config = loadConfig({ NODE_ENV: 'test', DATABASE_PATH: officeFile, PUBLIC_BASE_URL: 'https://nongbua.example.go.th' })
      const h = openDb(officeFile)
      await migrateToLatest(h.db)
      const ctx: AppContext = { db: h.db, clock: fixedClock(NOW), config, logger: pino({ level: 'silent' }), anchor: anchorFromConfig(config) }
      await startAnchoring(ctx.db, ctx.anchor!, ctx.clock)
      const summary = await generateDemo(ctx, { seed: 2568, scale: 0.1, now: NOW })
      agencyName = summary.agencyName
      // A notification made and deleted: the last id it took is never handed out again (AUTOINCREMENT), on any database.
      const q = query(h.db)
      await q.run(
        "INSERT INTO notification (user_id, kind, loan_id, params, link, created_at) VALUES ((SELECT min(id) FROM app_user), 'test', NULL, '{}', '/', ?)",
        NOW,
      )
      await q.run('DELETE FROM notification WHERE id = (SELECT max(id) FROM notification)')
      sequences = new Map((h.raw.prepare('SELECT name, seq FROM sqlite_sequence').all() as Array<{ name: string; seq: number }>).map((r) => [r.name, r.seq]))
      stopAnchoring(ctx.db, ctx.anchor)
      await h.close() // as a server stops: the WAL is checkpointed and removed
      expect(fs.readdirSync(path.join(office, 'attachments')).length, 'the demo stores scans').to.be.greaterThan(0)
      officeSha = sha256(officeFile)

      const a = await cli(['import', '--slug', 'office_a', '--from', officeFile, '--host', 'a.example.go.th'])
      if (a.code !== 0) throw new Error(`import of the office failed (${a.code}):\n${a.text}`)
      outputs.importA = a.text
      exported = path.join(work, 'exported', 'yuemkhuen.db')
      const e = await cli(['export', '--slug', 'office_a', '--to', exported])
      if (e.code !== 0) throw new Error(`export failed (${e.code}):\n${e.text}`)
      outputs.export = e.text
      const b = await cli(['import', '--slug', 'office_b', '--from', exported, '--host', 'b.example.go.th', '--base-url', 'https://b.example.go.th/'])
      if (b.code !== 0) throw new Error(`import of the exported file failed (${b.code}):\n${b.text}`)
      outputs.importB = b.text
    })

    it('then the office’s file is untouched (same bytes, no journal left beside it) and the agencies are registered with the file’s name', async () => {
      expect(sha256(officeFile)).to.equal(officeSha)
      expect(fs.readdirSync(office).sort()).to.deep.equal(['attachments', 'audit-anchor.key', 'audit-anchor.log', 'yuemkhuen.db'])
      const all = await withRegistry((r) => listAgencies(r))
      const a = all.find((x) => x.slug === 'office_a')!
      const b = all.find((x) => x.slug === 'office_b')!
      expect([a.host, a.baseUrl, a.name]).to.deep.equal(['a.example.go.th', 'http://a.example.go.th', agencyName])
      expect([b.host, b.baseUrl, b.name]).to.deep.equal(['b.example.go.th', 'https://b.example.go.th', agencyName])
    })

    it('then the summaries name the rows of each table and the chain verified, with its head', async () => {
      const raw = new BetterSqlite3(officeFile, { readonly: true })
      const head = raw.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string }
      const loans = (raw.prepare('SELECT count(*) AS n FROM loan').get() as { n: number }).n
      raw.close()
      for (const text of [outputs.importA!, outputs.export!, outputs.importB!]) {
        expect(text).to.match(new RegExp(`^  loan\\s+${loans}$`, 'm'))
        expect(text).to.contain(`audit chain: ${head.id} entries verified; head #${head.id} ${head.hash}`)
        expect(text).to.match(/audit anchor: \d+ lines, last #\d+: it goes on in /)
      }
      expect(outputs.importA).to.contain(`agency office_a imported from ${officeFile}: http://a.example.go.th`)
      expect(outputs.export).to.contain(`agency office_a exported to ${exported}`)
    })

    it('then every table is the same, row by row and column by column, in the file, both agencies and the exported file (ids, loan numbers, audit hashes, report counters)', async () => {
      const original = openReadOnly(officeFile)
      const out = openReadOnly(exported)
      const a = openAgencyDb(url, 'office_a')
      const b = openAgencyDb(url, 'office_b')
      try {
        const tables: TableShape[] = await sqliteTables(original.db)
        expect(tables.map((t) => t.name)).to.include.members(['loan', 'loan_number', 'audit_log', 'report_epoch', 'report_kept', 'loan_attachment'])
        expect((await sqliteTables(out.db)).map((t) => t.name)).to.deep.equal(tables.map((t) => t.name))
        const pgTables = await query(a.db).all<{ t: string }>(
          "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT LIKE 'kysely_%' AND tablename <> 'change_counter' ORDER BY tablename",
        )
        expect(pgTables.map((r) => r.t)).to.deep.equal(tables.map((t) => t.name))
        const report = new Differences('the office’s file', 'the copies')
        let rows = 0
        for (const t of tables) {
          const want = await tableRows(original.db, t)
          rows += want.length
          for (const [name, db] of [
            ['office_a', a.db],
            ['the exported file', out.db],
            ['office_b', b.db],
          ] as const) {
            const d = new Differences('the office’s file', name)
            diffTable(d, t, want, await tableRows(db, t))
            for (const line of d.lines) report.note(line)
            report.count += d.count - d.lines.length
          }
        }
        expect(report.empty, report.toString()).to.equal(true)
        expect(rows).to.be.greaterThan(1000)
        // The kept report figures and their counters came as they were (the triggers did not move them).
        expect(await query(original.db).value<number>('SELECT count(*) FROM report_epoch')).to.be.greaterThan(0)
      } finally {
        await original.close()
        await out.close()
        await a.close()
        await b.close()
      }
    })

    it('then the audit chain verifies at each step, against the anchor that came along, and the anchor key and log and the scans are the office’s', async () => {
      const original = openReadOnly(officeFile)
      const out = openReadOnly(exported)
      try {
        const expected = await verifyChain(original.db)
        expect(expected.ok).to.equal(true)
        const check = async (db: Db, anchorFile: string) => {
          const config = loadConfig({ DATABASE_PATH: path.join(path.dirname(anchorFile), 'yuemkhuen.db') })
          const v = await verifyAudit(db, anchorFromConfig(config))
          expect(v.problems).to.deep.equal([])
          expect([v.ok, v.entries, v.head]).to.deep.equal([true, expected.entries, expected.head])
          expect(v.anchor!.last!.seq).to.equal(expected.head.seq)
        }
        await check(original.db, path.join(office, 'audit-anchor.log'))
        await check(out.db, path.join(path.dirname(exported), 'audit-anchor.log'))
        for (const slug of ['office_a', 'office_b']) {
          const folder = path.join(dataDir, slug)
          expect(path.dirname(agencyConfig(env, { slug, baseUrl: 'http://x' }).databasePath)).to.equal(folder)
          await withAgency(slug, (db) => check(db, path.join(folder, 'audit-anchor.log')))
        }
        const stored = (await query(original.db).all<{ name: string }>('SELECT stored_name AS name FROM loan_attachment')).map((r) => r.name)
        expect(stored.length).to.be.greaterThan(0)
        for (const folder of [path.join(dataDir, 'office_a'), path.dirname(exported), path.join(dataDir, 'office_b')]) {
          for (const f of ['audit-anchor.key', 'audit-anchor.log'])
            expect(sha256(path.join(folder, f)), `${folder}/${f}`).to.equal(sha256(path.join(office, f)))
          expect((fs.statSync(path.join(folder, 'audit-anchor.key')).mode & 0o077) === 0, 'the key is its owner’s only').to.equal(true)
          expect(fs.readdirSync(path.join(folder, 'attachments')).sort()).to.deep.equal(fs.readdirSync(path.join(office, 'attachments')).sort())
          for (const name of stored) expect(sha256(path.join(folder, 'attachments', name))).to.equal(sha256(path.join(office, 'attachments', name)))
        }
      } finally {
        await original.close()
        await out.close()
      }
    })

    it('then the exported file opens and migrates as the ordinary install opens it, with nothing left to migrate', async () => {
      const copy = path.join(work, 'opened', 'yuemkhuen.db')
      fs.mkdirSync(path.dirname(copy))
      fs.copyFileSync(exported, copy)
      const h = openDb(copy)
      try {
        expect(await pendingMigrations(h.db)).to.deep.equal([])
        const r = await migrateToLatest(h.db)
        expect(r.results ?? []).to.deep.equal([])
        expect(integrityCheck(h)).to.deep.equal(['ok'])
        expect(h.raw.prepare('PRAGMA foreign_key_check').all()).to.deep.equal([])
        expect(h.raw.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger'").get()).to.deep.equal(
          new BetterSqlite3(officeFile, { readonly: true }).prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'trigger'").get(),
        )
      } finally {
        await h.close()
      }
    })

    it('then the next ids continue after the imported ones: loans, assets and audit entries on PostgreSQL and in the exported file, and a deleted last id is not given again', async () => {
      const original = openReadOnly(officeFile)
      const max = async (t: string) => Number(await query(original.db).value(`SELECT coalesce(max(id), 0) FROM ${t}`))
      const wanted = new Map<string, number>()
      for (const t of ['loan', 'asset', 'audit_log', 'notification']) wanted.set(t, (sequences.get(t) ?? 0) + 1)
      for (const t of ['loan', 'asset', 'audit_log']) expect(wanted.get(t), t).to.equal((await max(t)) + 1)
      expect(wanted.get('notification'), 'the deleted notification’s id').to.equal((await max('notification')) + 2)
      await original.close()

      for (const slug of ['office_a', 'office_b']) {
        await withAgency(slug, async (db) => {
          const q = query(db)
          for (const t of ['loan', 'asset', 'audit_log', 'notification'])
            expect(Number(await q.value(`SELECT nextval(pg_get_serial_sequence('${t}', 'id'))`)), `${slug}: ${t}`).to.equal(wanted.get(t))
          // A real audit entry: the next number, and the chain still verifies.
          await writeTransaction(db, (trx) => append(trx, fixedClock(NOW), CLI_ACTOR, { action: 'test.next', entity: 'test', entityId: '1', data: {} }))
          expect(await q.value('SELECT max(id) FROM audit_log')).to.equal(wanted.get('audit_log'))
          expect((await verifyChain(db)).ok).to.equal(true)
        })
      }
      const h = openDb(exported)
      try {
        await writeTransaction(h.db, (trx) => append(trx, fixedClock(NOW), CLI_ACTOR, { action: 'test.next', entity: 'test', entityId: '1', data: {} }))
        expect(h.raw.prepare('SELECT max(id) AS id FROM audit_log').get()).to.deep.equal({ id: wanted.get('audit_log') })
        expect((await verifyChain(h.db)).ok).to.equal(true)
        for (const t of ['loan', 'asset', 'notification'])
          expect((h.raw.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').get(t) as { seq: number }).seq + 1, `file: ${t}`).to.equal(wanted.get(t))
      } finally {
        await h.close()
      }
    })

    it('when an export would overwrite a file, or an import reuses a slug or a host, or names no host, then it is refused with exit code 2 and nothing changes', async () => {
      const taken = path.join(work, 'taken.db')
      fs.writeFileSync(taken, 'not to be overwritten')
      const before = { slugs: await slugs(), schemas: await agencySchemas() }
      const cases: Array<[string[], RegExp]> = [
        [['export', '--slug', 'office_a', '--to', taken], /already exists: export writes a new file/],
        [['export', '--slug', 'nobody', '--to', path.join(work, 'nobody.db')], /there is no agency nobody/],
        [['import', '--slug', 'office_a', '--from', officeFile, '--host', 'c.example.go.th'], /the schema agency_office_a already exists/],
        [['import', '--slug', 'office_c', '--from', officeFile, '--host', 'a.example.go.th'], /the host a\.example\.go\.th already belongs to agency office_a/],
        [['import', '--slug', 'office_c', '--from', officeFile], /--host is required for a new agency/],
        [['import', '--slug', 'office_c', '--from', taken, '--host', 'c.example.go.th'], /is not an SQLite database/],
        [['import', '--slug', 'office_c', '--from', path.join(work, 'none.db'), '--host', 'c.example.go.th'], /there is no file/],
      ]
      for (const [argv, message] of cases) {
        const r = await cli(argv)
        expect(r.code, `${argv.join(' ')}\n${r.text}`).to.equal(2)
        expect(r.text).to.match(message)
      }
      expect(fs.readFileSync(taken, 'utf8')).to.equal('not to be overwritten')
      expect(fs.existsSync(path.join(work, 'nobody.db'))).to.equal(false)
      expect(fs.existsSync(path.join(dataDir, 'office_c'))).to.equal(false)
      expect({ slugs: await slugs(), schemas: await agencySchemas() }).to.deep.equal(before)
      expect(sha256(officeFile)).to.equal(officeSha)
    })

    it('when an office’s audit chain has been edited, then the import is refused with exit code 1 and undone: no schema, no agency, no files', async () => {
      const { dir, file } = officeCopy('tampered')
      fs.cpSync(path.join(office, 'attachments'), path.join(dir, 'attachments'), { recursive: true })
      const raw = new BetterSqlite3(file)
      raw.prepare('UPDATE audit_log SET data = \'{"edited":true}\' WHERE id = 5').run()
      raw.close()
      const sha = sha256(file)
      const before = { slugs: await slugs(), schemas: await agencySchemas() }
      const r = await cli(['import', '--slug', 'tampered', '--from', file, '--host', 'tampered.example.go.th'])
      expect(r.code, r.text).to.equal(1)
      expect(r.text).to.contain('the chain breaks at entry 5 (hash_mismatch)').and.contain('The import is undone.')
      expect({ slugs: await slugs(), schemas: await agencySchemas() }).to.deep.equal(before)
      expect(fs.existsSync(path.join(dataDir, 'tampered'))).to.equal(false)
      expect(sha256(file)).to.equal(sha)
    })

    it('when the office’s anchor shows entries its file no longer has, then the import is refused and undone', async () => {
      const { dir, file } = officeCopy('cut')
      for (const f of ['audit-anchor.key', 'audit-anchor.log']) fs.copyFileSync(path.join(office, f), path.join(dir, f))
      // The last entries cut off the end: the chain still verifies on its own, the anchor finds it out.
      const raw = new BetterSqlite3(file)
      raw.prepare('DELETE FROM audit_log WHERE id > (SELECT max(id) - 3 FROM audit_log)').run()
      raw.close()
      const r = await cli(['import', '--slug', 'cut', '--from', file, '--host', 'cut.example.go.th'])
      expect(r.code, r.text).to.equal(1)
      expect(r.text).to.contain('audit_truncated').and.contain('The import is undone.')
      expect(await slugs()).to.not.include('cut')
      expect(await agencySchemas()).to.not.include('agency_cut')
      expect(fs.existsSync(path.join(dataDir, 'cut'))).to.equal(false)
    })

    it('when the office’s file is of an older version, then its copy is migrated and imported, and the file stays at its version', async () => {
      const dir = path.join(work, 'older')
      const file = path.join(dir, 'yuemkhuen.db')
      const h = openDb(file)
      const r = await createMigrator(h.db).migrateTo('2026_12_06_1000_token_expiry')
      if (r.error) throw r.error
      await query(h.db).run('INSERT INTO setting (key, value, updated_at) VALUES (?, ?, ?)', 'agencyName', JSON.stringify('เทศบาลตำบลเก่า'), NOW)
      const ran = (await query(h.db).all('SELECT name FROM kysely_migration')).length
      await h.close()
      const sha = sha256(file)
      const imported = await cli(['import', '--slug', 'older', '--from', file, '--host', 'older.example.go.th'])
      expect(imported.code, imported.text).to.equal(0)
      expect(imported.text).to.contain('anchoring starts afresh')
      expect(sha256(file)).to.equal(sha)
      const check = openReadOnly(file)
      expect((await query(check.db).all('SELECT name FROM kysely_migration')).length).to.equal(ran)
      await check.close()
      expect((await withRegistry((reg) => listAgencies(reg))).find((a) => a.slug === 'older')?.name).to.equal('เทศบาลตำบลเก่า')
      await withAgency('older', async (db) => expect(await pendingMigrations(db)).to.deep.equal([]))
    })

    it('when a server has the office’s file open (its latest writes still in the WAL), then the import copies it through SQLite’s backup, with those writes', async () => {
      const { file } = officeCopy('live')
      const live = openDb(file)
      try {
        await writeTransaction(live.db, (trx) => append(trx, fixedClock(NOW), CLI_ACTOR, { action: 'test.live', entity: 'test', entityId: '2', data: {} }))
        const head = live.raw.prepare('SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { id: number; hash: string }
        expect(fs.statSync(`${file}-wal`).size, 'the write is in the WAL').to.be.greaterThan(0)
        const r = await cli(['import', '--slug', 'live', '--from', file, '--host', 'live.example.go.th'])
        expect(r.code, r.text).to.equal(0)
        expect(r.text).to.contain(`head #${head.id} ${head.hash}`)
        await withAgency('live', async (db) => expect(await query(db).value('SELECT action FROM audit_log WHERE id = ?', head.id)).to.equal('test.live'))
      } finally {
        await live.close()
      }
    })

    it('then the list shows every agency', async () => {
      const r = await cli(['list'])
      expect(r.code).to.equal(0)
      for (const slug of ['nongbua', 'office_a', 'office_b', 'older']) expect(r.text).to.match(new RegExp(`^${slug}\\s`, 'm'))
    })
  })
})
