import { createHash } from 'node:crypto'
import { expect } from 'chai'
import { pino } from 'pino'
import supertest from 'supertest'
import type { App } from '../../server/app.js'
import type { Db } from '../../db/connection.js'
import { approveLoan, createLoan, handOver, receiveReturn, requestExtension } from '../../server/services/loan.service.js'
import { issueToken } from '../../server/services/token.service.js'
import { startImport } from '../../server/services/asset-import.service.js'
import { disputePaperApproval } from '../../server/services/loan-paper.service.js'
import { apiToken, createTestApp, csrfFrom, signIn, type TestApp } from '../helpers/app.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { onPostgres, query, tableNames } from '../helpers/db.js'
import { formFields, formsFor, type FieldType } from '../helpers/forms.js'
import { fillPath, listRoutes, type AppRoute } from '../helpers/routes.js'
import { makeKit, makeStock } from '../helpers/stock.js'
import { withApprovers } from '../helpers/approvers.js'

/*
 * Bad input, every route: each POST/PUT/PATCH/DELETE route of createApp (read from the router
 * stack, so a new route is swept too) is sent empty, partial, wrongly typed, oversized,
 * script-bearing and odd-Unicode input by a user who may use it. The answer is a 4xx with a
 * translated message — never a 5xx —, nothing in the database changes, and no script comes back
 * unescaped. GET routes get odd query strings and path parameters: a 4xx or a sane page.
 *
 * What may legitimately be accepted (a 2xx/303 that changes data), decided per field type:
 * - free text (names, purposes, notes): script-looking text, emoji, zero-width joiners and combining
 *   marks are just text — stored as typed (or normalised) and escaped wherever it is shown; the test
 *   follows the redirect and checks that page for an unescaped echo. NUL, a text-direction override
 *   (U+202E) and half a surrogate pair are refused everywhere (422). A 100 kB value is always refused.
 * - codes and usernames: only Thai that Unicode normalises (ำ typed as ํ + า, a tone mark) may pass;
 *   script, control and invisible characters, emoji and RTL overrides are refused.
 * - on pages a repeated field arrives as an array and the last value counts (how forms send lists);
 *   in the API an array where a string belongs is a 422.
 * - checkboxes are on when present, whatever the value; a body with an extra `__proto__` key is the
 *   valid body plus an unknown field, which is ignored (and must not reach Object.prototype).
 * - the cart lives in the session, which this test leaves out of the comparison (every request
 *   rolls its expiry); the language switch turns any value into th or en.
 * JSON bodies may carry stored text back verbatim: they are `application/json` with nosniff, data
 * rather than markup, so the unescaped-echo check applies to HTML answers.
 */

type Agent = supertest.Agent
type Kind =
  | 'control'
  | 'empty'
  | 'missing'
  | 'array'
  | 'object'
  | 'number'
  | 'proto'
  | 'long'
  | 'script'
  | 'attr'
  | 'unicode'
  | 'date'
  | 'quantity'
  | 'enum'
  | 'param'
  | 'extra'
  | 'json'
  | 'huge'

const SCRIPT = '<script>alert(1)</script>'
const ATTR = '"><img src=x onerror=alert(1)>'
/** 100 kB in any encoding (Thai would be 900 kB once form-encoded, which the body limit stops before any field rule). */
const LONG = 'x'.repeat(100 * 1024)
const UNICODE: Record<string, string> = {
  nul: 'ชื่อ\u0000ทดสอบ',
  loneSurrogate: 'ชื่อ\ud800ทดสอบ',
  rtlOverride: 'ชื่อ\u202eทดสอบ',
  zeroWidth: 'ชื่อ\u200d\u200bทดสอบ',
  combining: 'e\u0301\u0301\u0301ชื่อทดสอบ',
  emoji: 'ชื่อ😀🇹🇭ทดสอบ',
  thaiSaraAmDecomposed: 'น\u0e4d\u0e32ประปา',
}
/** Refused in any field (server/http/middleware/input.ts): NUL, a text-direction override, half a surrogate pair. */
const UNTYPEABLE_UNICODE = new Set(['nul', 'rtlOverride', 'loneSurrogate'])
/**
 * Odd Unicode that a code may carry: NFKC turns ํ + า into ordinary ำ, and combining marks are how
 * Thai writes its vowels and tone marks («ครุภัณฑ์» has three), so a code may hold them too.
 */
const CODE_SAFE_UNICODE = new Set(['thaiSaraAmDecomposed', 'combining'])

interface Ids {
  boss: number
  staff: number
  dept: number
  deptCode: string
  category: number
  asset: number
  freeAsset: number
  stock: number
  kit: number
  pending: number
  pendingOff: number
  approved: number
  out1: number
  out2: number
  out3: number
  returned: number
  /** Approved on paper in the boss's name (an executive), not yet answered: the boss confirms or disputes it. */
  paperMine: number
  /** Approved on paper in the นายก's name and disputed by him: finance (the boss) voids it. */
  paperDisputed: number
  ext: number
  comp: number
  token: number
  batch: string
  staffUsername: string
  line: number
}

interface Fixture {
  t: TestApp
  app: App
  boss: { username: string; password: string }
  bossAgent: Agent
  bossCsrf: string
  token: string
  codes: { asset: string; free: string; cart: string; out2: string; approved: string; stock: string }
  ids: Ids
  snap: Snapshot
}

// ---------------------------------------------------------------- database snapshot and comparison

type Snapshot = Map<string, unknown[]>

/**
 * The id counters, kept with the rows so that a restored database hands out the same ids again:
 * SQLite's sqlite_sequence table; on PostgreSQL the identity columns' sequences (read from
 * pg_sequences, which a rolled-back insert moves too).
 */
const COUNTERS = onPostgres ? '(sequences)' : 'sqlite_sequence'

/** A table's rows as stored: on SQLite with their rowid (put back as it was), on PostgreSQL as they are (ids are columns). */
async function rowsOf(t: TestApp, name: string): Promise<unknown[]> {
  if (name === '(sequences)') {
    return query(t.ctx.db).all(
      'SELECT sequencename AS "name", last_value AS "value" FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename',
    )
  }
  return query(t.ctx.db).all(onPostgres ? `SELECT * FROM "${name}"` : `SELECT rowid AS __rowid, * FROM "${name}"`)
}

async function takeSnapshot(t: TestApp): Promise<Snapshot> {
  const snap: Snapshot = new Map()
  for (const name of [...(await tableNames(t.ctx.db)), COUNTERS]) snap.set(name, await rowsOf(t, name))
  // The data as the snapshot holds it: what the database fingerprints as once the snapshot is put back.
  snapshotFingerprints.set(snap, await fingerprint(t, true))
  return snap
}

interface Fingerprint {
  hash: string
  counts: Record<string, number>
  /** The database's count of writes when it was taken: unchanged means no write at all. */
  writes: number
}

/**
 * What was last read of a database: its fingerprint and, by the count of every write (sessions'
 * included) at that moment, each table's hash as stored, which putting a snapshot back compares
 * (keyed by the test app: the two fixtures are two databases).
 */
interface LastRead {
  fingerprint: Fingerprint
  allWrites: number
  stored: Map<string, string>
}
const lastRead = new WeakMap<TestApp, LastRead>()
const snapshotFingerprints = new WeakMap<Snapshot, Fingerprint>()

/**
 * A count that moves with every write: SQLite's rows written on the app's one connection; on
 * PostgreSQL the change counter every table's statement trigger bumps in the writing transaction
 * (db/migrator.ts; sessions count on a row of their own, left out as they are below).
 */
async function writesOf(t: TestApp): Promise<number> {
  return Number(await query(t.ctx.db).value(onPostgres ? "SELECT n FROM change_counter WHERE key = 'data'" : 'SELECT total_changes() AS n'))
}

/** Rows as comparable text, one line each, sorted: the same rows give the same lines whatever order a database reads them in. */
function linesOf(rows: unknown[]): string[] {
  return rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v))).sort()
}

/**
 * Everything a person could call data: every table but sessions (their expiry rolls with each request)
 * and the kept statistics (derived figures any report view may keep, report.service "KEPT FIGURES");
 * token use times move too.
 */
const NOT_DATA = new Set(['session', 'report_kept', 'report_epoch'])
async function fingerprint(t: TestApp, fresh = false): Promise<Fingerprint> {
  const writes = await writesOf(t)
  const last = lastRead.get(t)
  // Nothing was written since the last one: the data is the same.
  if (!fresh && last && last.fingerprint.writes === writes) return last.fingerprint
  const allWrites = await allWritesOf(t)
  const h = createHash('sha256')
  const counts: Record<string, number> = {}
  const stored = new Map<string, string>()
  for (const name of await tableNames(t.ctx.db)) {
    if (NOT_DATA.has(name)) continue
    const rows = (await rowsOf(t, name)) as Array<Record<string, unknown>>
    stored.set(name, hashOf(rows))
    counts[name] = rows.length
    const data = rows.map(({ __rowid, ...cols }) => cols)
    if (name === 'api_token') for (const r of data) delete r.last_used_at
    for (const line of linesOf(data)) h.update(name).update(line)
  }
  const read: LastRead = { fingerprint: { hash: h.digest('hex'), counts, writes }, allWrites, stored }
  lastRead.set(t, read)
  return read.fingerprint
}

function changedTables(a: Record<string, number>, b: Record<string, number>): string {
  const diff = Object.keys({ ...a, ...b })
    .filter((k) => a[k] !== b[k])
    .map((k) => `${k} ${a[k] ?? 0}→${b[k] ?? 0}`)
  return diff.length > 0 ? diff.join(', ') : 'row contents'
}

function hashOf(rows: unknown[]): string {
  return createHash('sha256').update(linesOf(rows).join('\n')).digest('hex')
}

const snapshotHashes = new WeakMap<Snapshot, Map<string, string>>()

/** Every write, sessions' included: SQLite's rows written on the app's one connection, PostgreSQL's change counters (data and sessions). */
async function allWritesOf(t: TestApp): Promise<number> {
  return Number(await query(t.ctx.db).value(onPostgres ? 'SELECT sum(n) AS n FROM change_counter' : 'SELECT total_changes() AS n'))
}

/** The write count right after a snapshot was last put back: while it stands, the database is still the snapshot. */
const restoredAt = new WeakMap<Snapshot, number>()

/** Puts the database back as it was after the fixture was built (sessions included: the cart lives there); only tables that moved are rewritten. */
async function restoreSnapshot(t: TestApp, snap: Snapshot): Promise<void> {
  const writes = await allWritesOf(t)
  if (restoredAt.get(snap) === writes) return
  if (await putBack(t, snap, writes)) {
    // The data is the snapshot's again: its fingerprint and stored hashes stand for it until the next write.
    const allWrites = await allWritesOf(t)
    lastRead.set(t, {
      fingerprint: { ...snapshotFingerprints.get(snap)!, writes: await writesOf(t) },
      allWrites,
      stored: snapshotHashes.get(snap)!,
    })
  }
  restoredAt.set(snap, await allWritesOf(t))
}

/** Rewrites the tables that differ from the snapshot; true if any did. A table read at this write count (the last fingerprint) is not read again. */
async function putBack(t: TestApp, snap: Snapshot, allWrites: number): Promise<boolean> {
  let hashes = snapshotHashes.get(snap)
  if (!hashes) {
    hashes = new Map([...snap.keys()].map((name) => [name, hashOf(snap.get(name)!)]))
    snapshotHashes.set(snap, hashes)
  }
  const last = lastRead.get(t)
  const known = last?.allWrites === allWrites ? last.stored : new Map<string, string>()
  const moved: string[] = []
  for (const name of snap.keys()) if ((known.get(name) ?? hashOf(await rowsOf(t, name))) !== hashes.get(name)) moved.push(name)
  if (moved.length === 0) return false
  if (onPostgres) await restorePostgres(t, snap, moved)
  else await restoreSqlite(t, snap, moved)
  return true
}

/** Rows back into a table, a few hundred to a statement (far below either database's limit on parameters). */
async function insertRows(db: Db, name: string, rows: Array<Record<string, unknown>>): Promise<void> {
  const keys = Object.keys(rows[0] ?? {})
  const tuple = `(${keys.map(() => '?').join(', ')})`
  for (let at = 0; at < rows.length; at += 200) {
    const chunk = rows.slice(at, at + 200)
    await query(db).run(
      `INSERT INTO "${name}" (${keys.map((k) => (k === 'rowid' ? k : `"${k}"`)).join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`,
      ...chunk.flatMap((row) => keys.map((k) => row[k])),
    )
  }
}

/** SQLite: the rows back with their rowids, foreign keys off meanwhile (the pragma holds outside a transaction only). */
async function restoreSqlite(t: TestApp, snap: Snapshot, moved: string[]): Promise<void> {
  await query(t.ctx.db).run('PRAGMA foreign_keys = OFF')
  try {
    await t.ctx.db.transaction().execute(async (trx) => {
      for (const name of moved) {
        await query(trx).run(`DELETE FROM "${name}"`)
        const withRowid = name !== 'sqlite_sequence'
        const rows = (snap.get(name) as Array<Record<string, unknown>>).map(({ __rowid, ...cols }) => (withRowid ? { rowid: __rowid, ...cols } : cols))
        await insertRows(trx, name, rows)
      }
    })
  } finally {
    await query(t.ctx.db).run('PRAGMA foreign_keys = ON')
  }
}

/**
 * PostgreSQL: the rows back (ids are columns; identity is BY DEFAULT, so an explicit id is taken) and
 * the sequences where they were. Foreign keys and triggers wait while the rows are rewritten
 * (session_replication_role, which the test server's superuser may set); the change counter is then
 * bumped by hand, so that every cache learns the data moved.
 */
async function restorePostgres(t: TestApp, snap: Snapshot, moved: string[]): Promise<void> {
  await t.ctx.db.transaction().execute(async (trx) => {
    await query(trx).run('SET LOCAL session_replication_role = replica')
    for (const name of moved) {
      const rows = snap.get(name) as Array<Record<string, unknown>>
      if (name === '(sequences)') {
        for (const r of rows) {
          if (r.value === null) await query(trx).run('SELECT setval(CAST(? AS regclass), 1, false)', r.name)
          else await query(trx).run('SELECT setval(CAST(? AS regclass), ?)', r.name, r.value)
        }
        continue
      }
      await query(trx).run(`DELETE FROM "${name}"`)
      await insertRows(trx, name, rows)
    }
    await query(trx).run('UPDATE change_counter SET n = n + 1')
  })
}

// ---------------------------------------------------------------- the fixture: one of everything, in every state

const PURPOSE = 'ใช้ในการประชุมประจำเดือน'
/** The นายก on the approver list, linked to an executive account. */
const NAYOK = 'นายนายก ใจดี'
/** The ปลัด on the approver list, without an account: a paper approval in her name needs the slip's scan. */
const PALAD = 'นางปลัด ไม่มีบัญชี'
const PLACE = 'ห้องประชุม อบต.'

async function buildFixture(): Promise<Fixture> {
  const t = await createTestApp() // 15 Jan 2025, 10:00 in Bangkok
  const ctx = t.ctx
  if (process.env.BAD_INPUT_DEBUG) ctx.logger = pino({ level: 'error' }) // shows the cause of a 5xx
  const boss = await makeUser(ctx, ['admin', 'finance', 'executive', 'committee', 'staff'], { name: 'นางหัวหน้า ทุกบทบาท' })
  const staff = await makeUser(ctx, ['staff'], { name: 'นายยืม ของใช้' })
  const fin2 = await makeUser(ctx, ['finance'], { name: 'นางตรวจ สอบ' })
  // The approver list: the นายก linked to his account, the ปลัด without one (her paper approvals need the scan).
  const nayok = await makeUser(ctx, ['executive'], { name: NAYOK })
  await withApprovers(ctx, { mayor: { name: NAYOK, account: nayok.username }, chiefAdministrator: PALAD })
  const q = query(ctx.db)
  const dept = (await q.get('SELECT id, code FROM department ORDER BY id LIMIT 1')) as { id: number; code: string }
  const category = (await q.get(`SELECT id FROM category WHERE code = 'electrical'`)) as { id: number }
  const codes = {
    asset: '416-66-9001',
    approved: '416-66-9002',
    out1: '416-66-9003',
    out2: '416-66-9004',
    ret: '416-66-9005',
    free: '416-66-9006',
    cart: '416-66-9007',
    pendOff: '416-66-9008',
    out3: '416-66-9009',
    paperMine: '416-66-9010',
    paperDisputed: '416-66-9011',
  }
  const assets: Record<string, number> = {}
  for (const [k, code] of Object.entries(codes)) assets[k] = (await makeAsset(ctx, { code })).id
  const stock = await makeStock(ctx, { code: 'CHAIR-POOL', quantity: 100 })
  const kit = await makeKit(ctx, 'KIT-SOUND', [{ code: 'CHAIR-POOL', quantity: 2 }])
  const loan = (assetCodes: string[], over: Record<string, unknown> = {}) =>
    createLoan(ctx, staff, { assetCodes, purpose: PURPOSE, place: PLACE, kind: 'in_premises', startDate: '2025-01-15', dueDate: '2025-01-20', ...over })

  const pending = await loan([codes.asset])
  const pendingOff = await loan([codes.pendOff], { kind: 'off_premises' })
  await approveLoan(ctx, fin2, pendingOff.loan.id, {}) // checked: the executive step (or a paper approval) is next
  const approved = await loan([codes.approved])
  await approveLoan(ctx, fin2, approved.loan.id, {})
  const out1 = await loan([codes.out1])
  await approveLoan(ctx, fin2, out1.loan.id, {})
  await handOver(ctx, boss, out1.loan.id, { confirmedCodes: [codes.out1] })
  const ext = await requestExtension(ctx, staff, out1.loan.id, { dueDate: '2025-01-24', reason: 'งานยังไม่เสร็จ' })
  const out3 = await loan([codes.out3])
  await approveLoan(ctx, fin2, out3.loan.id, {})
  await handOver(ctx, boss, out3.loan.id, { confirmedCodes: [codes.out3] })
  // out2 went out ten days ago and is overdue now: its page offers the follow-up.
  ctx.clock.set('2025-01-05T03:00:00.000Z')
  const out2 = await loan([codes.out2], { stock: [{ code: 'CHAIR-POOL', quantity: 5 }], startDate: '2025-01-05', dueDate: '2025-01-08' })
  await approveLoan(ctx, fin2, out2.loan.id, {})
  await handOver(ctx, boss, out2.loan.id, { confirmedCodes: [codes.out2] })
  ctx.clock.set('2025-01-15T03:00:00.000Z')
  const returned = await loan([codes.ret])
  await approveLoan(ctx, fin2, returned.loan.id, {})
  await handOver(ctx, boss, returned.loan.id, { confirmedCodes: [codes.ret] })
  await receiveReturn(ctx, boss, returned.loan.id, { items: [{ assetCode: codes.ret, condition: 'damaged', note: 'ขาตั้งหัก' }] })
  const comp = (await q.get('SELECT id FROM compensation ORDER BY id LIMIT 1')) as { id: number }
  const paperMine = await loan([codes.paperMine], { kind: 'off_premises' })
  await approveLoan(ctx, fin2, paperMine.loan.id, { onPaper: { approverName: boss.name, date: '2025-01-15' } })
  const paperDisputed = await loan([codes.paperDisputed], { kind: 'off_premises' })
  await approveLoan(ctx, fin2, paperDisputed.loan.id, { onPaper: { approverName: NAYOK, date: '2025-01-15' } })
  await disputePaperApproval(ctx, nayok, paperDisputed.loan.id, { reason: 'ข้าพเจ้าไม่ได้ลงนาม' })
  const { row: tokenRow } = await issueToken(ctx, boss, { name: 'เครื่องเดิม' })
  const csv = Buffer.from('หมายเลขครุภัณฑ์,ชื่อ,ประเภท\n416-66-7001,โต๊ะพับ,office\n', 'utf8')
  const batch = await startImport(ctx, boss.id, { name: 'register.csv', data: csv })

  const line = (await q.get('SELECT id FROM loan_stock_line WHERE loan_id = ?', out2.loan.id)) as { id: number }
  const { agent: bossAgent, csrf: bossCsrf } = await bossSession(t.app, boss, codes.cart)
  const token = await apiToken(t.app, boss.username, boss.password)
  const extId = ext.extensions.find((e) => e.status === 'pending')!.id

  const f: Fixture = {
    t,
    app: t.app,
    boss: { username: boss.username, password: boss.password },
    bossAgent,
    bossCsrf,
    token,
    codes: { asset: codes.asset, free: codes.free, cart: codes.cart, out2: codes.out2, approved: codes.approved, stock: 'CHAIR-POOL' },
    ids: {
      boss: boss.id,
      staff: staff.id,
      dept: dept.id,
      deptCode: dept.code,
      category: category.id,
      asset: assets.asset!,
      freeAsset: assets.free!,
      stock: stock.id,
      kit: kit.id,
      pending: pending.loan.id,
      pendingOff: pendingOff.loan.id,
      approved: approved.loan.id,
      out1: out1.loan.id,
      out2: out2.loan.id,
      out3: out3.loan.id,
      returned: returned.loan.id,
      paperMine: paperMine.loan.id,
      paperDisputed: paperDisputed.loan.id,
      ext: extId,
      comp: comp.id,
      token: tokenRow.id,
      batch,
      staffUsername: staff.username,
      line: line.id,
    },
    snap: new Map(),
  }
  f.snap = await takeSnapshot(t)
  return f
}

/** The boss signed in, with one asset in the cart (the request form shows only then). */
async function bossSession(app: App, boss: { username: string; password: string }, cartCode: string): Promise<{ agent: Agent; csrf: string }> {
  const agent = await signIn(app, boss.username, boss.password)
  const csrf = csrfFrom((await agent.get('/account')).text)
  const added = await agent.post('/cart/add').type('form').send({ _csrf: csrf, code: cartCode })
  if (added.status !== 303) throw new Error(`fixture: cart add ${added.status}`)
  return { agent, csrf }
}

/** After an accepted request: the database as built, and the boss signed in again if the request ended the session. */
async function reset(f: Fixture, sessionMayEnd = true): Promise<void> {
  await restoreSnapshot(f.t, f.snap)
  if (!sessionMayEnd) return
  const page = await f.bossAgent.get('/account')
  if (page.status !== 200) {
    const s = await bossSession(f.app, f.boss, f.codes.cart)
    f.bossAgent = s.agent
    f.bossCsrf = s.csrf
    f.snap = await takeSnapshot(f.t)
  } else {
    f.bossCsrf = csrfFrom(page.text)
  }
}

// ---------------------------------------------------------------- the routes: a valid request for each

interface RouteCase {
  /** `anon` for sign-in: an anonymous visitor with the sign-in page's token. */
  as?: 'anon'
  params?: (f: Fixture) => Record<string, string | number>
  /** The page whose form posts to this route: its fields and values start the valid body. */
  from?: (f: Fixture) => string
  /** Values set on top of the form's (or the whole body for routes without a form / API routes). */
  set?: (f: Fixture) => Record<string, unknown>
  /** Field types where the markup cannot tell (a code typed in a text box, money). */
  types?: Record<string, FieldType>
  /** Fields that may be left out (the valid body without them is still valid). */
  optional?: Array<string | RegExp>
  /** Fields this request ignores (another borrower kind's): anything in them may pass. */
  ignored?: Array<string | RegExp>
  /** Every payload may be accepted: the route has no input to refuse (sign-out, clearing the cart). */
  anything?: boolean
  /** An empty body is a valid request. */
  emptyOk?: boolean
  /** The valid request changes only the session (the cart), which the comparison leaves out. */
  sessionOnly?: boolean
  multipart?: { field: string; name: string; type: string; data: () => Buffer }
  /** Payloads of the route's own beyond the generic ones. */
  extra?: (f: Fixture) => Array<{ label: string; body: Record<string, unknown>; accept?: boolean }>
}

const loanParam = (k: keyof Ids) => (f: Fixture) => ({ id: f.ids[k] as number })
const PNG = () =>
  Buffer.from(
    '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6300010000050001' + '0d0a2db40000000049454e44ae426082',
    'hex',
  )

const PAGE_CASES: Record<string, RouteCase> = {
  'POST /login': {
    as: 'anon',
    from: () => '/login',
    set: (f) => ({ username: f.boss.username, password: f.boss.password }),
    types: { username: 'code' },
    optional: ['next'],
  },
  'POST /logout': { anything: true },
  'POST /language': { anything: true, set: () => ({ locale: 'th', next: '/' }) },
  'POST /account/tokens': { from: () => '/account', set: () => ({ name: 'แท็บเล็ตห้องพัสดุ' }), optional: ['expiresInDays'] },
  'POST /account/tokens/:id/revoke': { params: (f) => ({ id: f.ids.token }), from: () => '/account', emptyOk: true },
  // Issue 18: one's own address ('' clears it) and the switch; marking one's notifications read.
  'POST /account/email': { from: () => '/account', set: () => ({ email: 'somchai@example.go.th', emailEnabled: '1' }), optional: ['emailEnabled'] },
  'POST /notifications/read': { anything: true },
  'POST /account/password': {
    from: () => '/account/password',
    set: (f) => ({ currentPassword: f.boss.password, newPassword: 'battery-staple-42', confirmPassword: 'battery-staple-42' }),
  },
  'POST /admin/users': {
    from: () => '/admin/users/new',
    set: () => ({ username: 'somchai', password: 'temporary-pass-42', name: 'นายสมชาย ใจดี', position: 'นักวิชาการ', roles: 'staff' }),
    types: { username: 'code' },
    optional: ['position', 'phone', 'email', 'departmentId', 'borrowerType', 'locale'],
  },
  'POST /admin/users/:id': {
    params: (f) => ({ id: f.ids.staff }),
    from: (f) => `/admin/users/${f.ids.staff}`,
    set: () => ({ name: 'นายยืม ของใช้ดี' }),
    optional: ['position', 'phone', 'email', 'departmentId', 'borrowerType', 'locale', 'active', 'roles'],
  },
  'POST /admin/users/:id/reset-password': {
    params: (f) => ({ id: f.ids.staff }),
    from: (f) => `/admin/users/${f.ids.staff}`,
    optional: ['password'],
    emptyOk: true,
  },
  'POST /admin/users/:id/revoke-tokens': { params: (f) => ({ id: f.ids.staff }), from: (f) => `/admin/users/${f.ids.staff}`, emptyOk: true },
  'POST /admin/departments': {
    from: () => '/admin/departments',
    set: () => ({ name: 'กองการท่องเที่ยว', code: 'tourism' }),
    types: { code: 'code' },
    optional: ['sortOrder'],
  },
  'POST /admin/departments/:id': {
    params: (f) => ({ id: f.ids.dept }),
    from: (f) => `/admin/departments/${f.ids.dept}`,
    set: () => ({ name: 'สำนักปลัด อบต.' }),
    types: { code: 'code' },
    optional: ['sortOrder', 'active'],
  },
  // The form saves what it is sent: a text left out reads as cleared (allowed), a number left out as its default.
  'POST /admin/settings': { from: () => '/admin/settings', set: () => ({ agencyName: 'องค์การบริหารส่วนตำบลหนองบัว' }), optional: [/^(?!agencyName$)/] },
  'POST /admin/categories/:id': {
    params: (f) => ({ id: f.ids.category }),
    from: (f) => `/admin/categories/${f.ids.category}`,
    set: () => ({ name: 'ครุภัณฑ์ไฟฟ้าและวิทยุ' }),
    optional: ['loanableDefault', 'active'],
  },
  'POST /assets/import': {
    from: () => '/assets/import',
    multipart: { field: 'file', name: 'register.csv', type: 'text/csv', data: () => Buffer.from('หมายเลขครุภัณฑ์,ชื่อ,ประเภท\n416-66-7002,เก้าอี้,office\n', 'utf8') },
    // A preview is a valid answer to any readable file (its rows are marked); what must never happen is a 5xx or markup let through.
    extra: () => [
      { label: 'a file of random bytes', body: { __file: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256)), __fileName: 'register.xlsx' } },
      { label: 'an empty file', body: { __file: '', __fileName: 'register.csv', __fileType: 'text/csv' } },
      {
        label: 'script in the cells and the file name',
        body: { __file: `หมายเลขครุภัณฑ์,ชื่อ,ประเภท\n${SCRIPT},${ATTR},office\n`, __fileName: `${ATTR}.csv`, __fileType: 'text/csv' },
        accept: true,
      },
      {
        label: 'a year 2569 and a price with three decimals',
        body: { __file: 'หมายเลขครุภัณฑ์,ชื่อ,ประเภท,วันที่ได้มา,ราคา\n416-66-7003,โต๊ะ,office,2569-01-01,1.234\n', __fileName: 'register.csv', __fileType: 'text/csv' },
        accept: true,
      },
      {
        label: 'NUL and a lone surrogate in a cell',
        body: {
          __file: `หมายเลขครุภัณฑ์,ชื่อ,ประเภท\n416-66-7004,${UNICODE.nul}${UNICODE.loneSurrogate},office\n`,
          __fileName: 'register.csv',
          __fileType: 'text/csv',
        },
        accept: true,
      },
    ],
  },
  'POST /assets/import/:batchId/confirm': { params: (f) => ({ batchId: f.ids.batch }), from: (f) => `/assets/import/${f.ids.batch}`, emptyOk: true },
  'POST /assets': {
    from: () => '/assets/new',
    set: (f) => ({ code: '416-67-0001', name: 'พัดลมตั้งพื้น', categoryId: String(f.ids.category), price: '1,290.50', acquiredOn: '2024-03-01' }),
    types: { code: 'code', price: 'money', acquiredOn: 'date', usefulLifeYears: 'int', maxLoanDays: 'int' },
    optional: [
      'brandModel',
      'serialNumber',
      'departmentId',
      'location',
      'acquiredOn',
      'price',
      'usefulLifeYears',
      'fundingSource',
      'loanable',
      'maxLoanDays',
      'notes',
    ],
  },
  'POST /assets/:id': {
    params: (f) => ({ id: f.ids.freeAsset }),
    from: (f) => `/assets/${f.ids.freeAsset}/edit`,
    set: () => ({ name: 'เครื่องขยายเสียงพกพา' }),
    types: { code: 'code', price: 'money', acquiredOn: 'date', usefulLifeYears: 'int', maxLoanDays: 'int' },
    optional: [
      'brandModel',
      'serialNumber',
      'departmentId',
      'location',
      'acquiredOn',
      'price',
      'usefulLifeYears',
      'fundingSource',
      'loanable',
      'maxLoanDays',
      'notes',
    ],
  },
  'POST /assets/:id/status': {
    params: (f) => ({ id: f.ids.freeAsset }),
    from: (f) => `/assets/${f.ids.freeAsset}`,
    set: () => ({ status: 'in_repair', reason: 'สายไฟชำรุด ส่งซ่อม' }),
  },
  'POST /stock': {
    from: () => '/stock/new',
    set: () => ({ code: 'TENT-POOL', name: 'เต็นท์ผ้าใบ', unit: 'หลัง', quantity: '12' }),
    types: { code: 'code', quantity: 'int' },
    optional: ['categoryId', 'location', 'loanable', 'notes', 'unit'],
  },
  'POST /stock/:id/move': {
    params: (f) => ({ id: f.ids.stock }),
    from: (f) => `/stock/${f.ids.stock}`,
    set: () => ({ move: 'stock_in', quantity: '5', reason: 'ซื้อเพิ่มตามใบสั่งซื้อ' }),
    types: { quantity: 'int' },
  },
  'POST /kits': {
    from: () => '/kits/new',
    set: () => ({ code: 'KIT-TENT', name: 'ชุดเต็นท์งานบุญ', parts: 'CHAIR-POOL x4' }),
    types: { code: 'code' },
    optional: ['active'],
  },
  'POST /kits/:id': {
    params: (f) => ({ id: f.ids.kit }),
    from: (f) => `/kits/${f.ids.kit}`,
    set: () => ({ name: 'ชุดเครื่องเสียงใหญ่', parts: 'CHAIR-POOL x3' }),
    types: { code: 'code' },
    optional: ['active'],
  },
  'POST /cart/add': { set: (f) => ({ code: f.codes.free }), types: { code: 'code' }, sessionOnly: true, optional: ['back', 'quantity'] },
  'POST /cart/quantity': { set: (f) => ({ code: f.codes.cart, quantity: '1' }), types: { code: 'code', quantity: 'int' }, sessionOnly: true },
  'POST /cart/remove': { set: (f) => ({ code: f.codes.cart }), types: { code: 'code' }, sessionOnly: true },
  'POST /cart/clear': { anything: true, sessionOnly: true },
  'POST /cart': {
    from: () => '/cart',
    set: () => ({ purpose: PURPOSE, place: PLACE, kind: 'in_premises', startDate: '2025-01-16', dueDate: '2025-01-18', intent: 'send' }),
    optional: ['intent'],
  },
  // A user borrower: the external borrower's fields are not read. Without an approver chosen the loan
  // is a pending request: the paper approval's date and note are not read then, and the approver and
  // the hand-over date may be left blank (a name off the list, or a hand-over without an approval, is refused).
  'POST /loans/new': {
    from: () => '/loans/new',
    set: (f) => ({
      borrowerKind: 'user',
      borrower: f.ids.staffUsername,
      assetCodes: f.codes.free,
      purpose: PURPOSE,
      place: PLACE,
      kind: 'in_premises',
      startDate: '2025-01-16',
      dueDate: '2025-01-18',
    }),
    types: { borrower: 'code' },
    optional: ['afterTheFact', 'paperApproval.approverName', 'handedOverOn', 'scan'],
    // borrowerKind: anything but «external» is a user borrower (the radio's default).
    ignored: [/^externalBorrower\./, 'paperApproval.date', 'paperApproval.note', 'borrowerKind'],
  },
  'POST /counter': {
    from: () => '/counter?new=1',
    set: () => ({
      'externalBorrower.type': 'public',
      'externalBorrower.name': 'นายมา ยืมของ',
      'externalBorrower.phone': '081-234-5678',
      'externalBorrower.villageNo': '3',
      items: 'CHAIR-POOL 10',
      purpose: PURPOSE,
      place: 'ศาลาวัดบ้านหนองบัว',
      kind: 'off_premises',
      startDate: '2025-01-16',
      dueDate: '2025-01-18',
    }),
    // The counter lends to the public or to an agency: any other type reads as the public. Without an
    // approver chosen the loan is a pending request: the paper approval's date and note are not read.
    ignored: ['externalBorrower.type', 'paperApproval.date', 'paperApproval.note'],
    optional: [
      'borrowerId',
      'externalBorrower.organisation',
      'externalBorrower.address',
      'externalBorrower.idNumber',
      'letterNumber',
      'letterDate',
      'confirmNew',
      'op',
      'externalBorrower.villageNo',
      'externalBorrower.phone',
      'paperApproval.approverName',
      'handOverNow',
      'scan',
    ],
  },
  'POST /loans/:id/attachments': {
    params: loanParam('out2'),
    from: (f) => `/loans/${f.ids.out2}`,
    set: () => ({ kind: 'signed_slip' }),
    optional: ['note'],
    multipart: { field: 'file', name: 'slip.png', type: 'image/png', data: PNG },
    extra: () => [
      { label: 'a text file named .png', body: { kind: 'signed_slip', __file: 'not an image', __fileName: 'slip.png', __fileType: 'image/png' } },
      { label: 'an empty file', body: { kind: 'signed_slip', __file: '', __fileName: 'slip.png', __fileType: 'image/png' } },
      { label: 'an HTML file', body: { kind: 'signed_slip', __file: `<html>${SCRIPT}</html>`, __fileName: 'slip.html', __fileType: 'text/html' } },
      { label: 'script in the file name', body: { kind: 'signed_slip', __file: PNG(), __fileName: `${ATTR}.png`, __fileType: 'image/png' }, accept: true },
    ],
  },
  'POST /loans/:id/approve': { params: loanParam('pending'), from: (f) => `/loans/${f.ids.pending}`, optional: ['note'], emptyOk: true },
  // The นายก has an account: the scan is optional for him (sent anyway, as the form does); the ปลัด has none.
  'POST /loans/:id/approve-paper': {
    params: loanParam('pendingOff'),
    from: (f) => `/loans/${f.ids.pendingOff}`,
    set: () => ({ approverName: NAYOK, date: '2025-01-15' }),
    optional: ['note'],
    multipart: { field: 'scan', name: 'slip.png', type: 'image/png', data: PNG },
    extra: () => [
      {
        label: 'the ปลัด (no account) without the scan',
        body: { approverName: PALAD, date: '2025-01-15', __file: '', __fileName: 'slip.png', __fileType: 'image/png' },
      },
      {
        label: 'the ปลัด with a text file named .png',
        body: { approverName: PALAD, date: '2025-01-15', __file: 'not an image', __fileName: 'slip.png', __fileType: 'image/png' },
      },
      {
        label: 'the ปลัด with the scan',
        body: { approverName: PALAD, date: '2025-01-15', __file: PNG(), __fileName: 'slip.png', __fileType: 'image/png' },
        accept: true,
      },
      {
        label: 'the approver named as the recorder',
        body: { approverName: 'นางหัวหน้า ทุกบทบาท', date: '2025-01-15', __file: PNG(), __fileName: 'slip.png', __fileType: 'image/png' },
      },
      { label: 'a date in the future', body: { approverName: NAYOK, date: '2025-01-16', __file: PNG(), __fileName: 'slip.png', __fileType: 'image/png' } },
    ],
  },
  // The approver named on a paper approval answers it (the boss is the executive named on paperMine); finance voids a disputed one.
  'POST /loans/:id/paper/confirm': {
    params: loanParam('paperMine'),
    from: (f) => `/loans/${f.ids.paperMine}`,
    set: () => ({ note: 'ลงนามจริง' }),
    optional: ['note'],
    emptyOk: true,
  },
  'POST /loans/:id/paper/dispute': {
    params: loanParam('paperMine'),
    from: (f) => `/loans/${f.ids.paperMine}`,
    set: () => ({ reason: 'ข้าพเจ้าไม่ได้ลงนามในใบยืมนี้' }),
  },
  'POST /loans/:id/paper/void': {
    params: loanParam('paperDisputed'),
    from: (f) => `/loans/${f.ids.paperDisputed}`,
    set: () => ({ reason: 'ผู้อนุมัติโต้แย้ง จะบันทึกการอนุมัติใหม่' }),
  },
  'POST /loans/:id/reject': { params: loanParam('pending'), from: (f) => `/loans/${f.ids.pending}`, set: () => ({ reason: 'ครุภัณฑ์ต้องใช้ในราชการวันเดียวกัน' }) },
  'POST /loans/:id/cancel': { params: loanParam('pending'), from: (f) => `/loans/${f.ids.pending}`, set: () => ({ reason: 'ผู้ยืมแจ้งยกเลิก' }) },
  'POST /loans/:id/extensions': {
    params: loanParam('out3'),
    from: (f) => `/loans/${f.ids.out3}`,
    set: () => ({ dueDate: '2025-01-23', reason: 'งานเลื่อนออกไป' }),
  },
  'POST /loans/:id/extensions/:extId': {
    params: (f) => ({ id: f.ids.out1, extId: f.ids.ext }),
    from: (f) => `/loans/${f.ids.out1}`,
    set: () => ({ decision: 'approve' }),
    optional: ['note', 'onPaper'],
  },
  'POST /loans/:id/follow-ups': {
    params: loanParam('out2'),
    from: (f) => `/loans/${f.ids.out2}`,
    set: () => ({ method: 'phone', note: 'โทรแจ้งผู้ยืมแล้ว' }),
    optional: ['onDate', 'letterNumber', 'letterDate', 'note'],
  },
  'POST /loans/:id/compensations/:compId': {
    params: (f) => ({ id: f.ids.returned, compId: f.ids.comp }),
    from: (f) => `/loans/${f.ids.returned}`,
    set: () => ({ method: 'repair', currentPrice: '7,500.00' }),
    types: { currentPrice: 'money', decidedAmount: 'money', settledOn: 'date' },
    optional: ['currentPrice', 'decidedAmount', 'settledOn', 'orderRef', 'policeRef', 'receiptRef', 'note', 'comp'],
  },
  'POST /loans/:id/handover': {
    params: loanParam('approved'),
    from: (f) => `/loans/${f.ids.approved}/handover`,
    set: (f) => ({ op: '', scan: '', confirmedCodes: f.codes.approved }),
    types: { confirmedCodes: 'code' },
    optional: ['op'],
    ignored: ['scan'], // read only when op is «scan»
  },
  'POST /loans/:id/return': {
    params: loanParam('out2'),
    from: (f) => `/loans/${f.ids.out2}/return`,
    // The asset and the counted line back: five chairs, three good and two damaged.
    set: (f) => ({
      op: '',
      scan: '',
      pick: f.codes.out2,
      [`good_${f.ids.line}`]: '3',
      [`damaged_${f.ids.line}`]: '2',
      [`lost_${f.ids.line}`]: '0',
      [`snote_${f.ids.line}`]: 'ขาหัก ๒ ตัว',
    }),
    types: { pick: 'code' },
    // Each line's condition defaults to good, its note and who brought it back may be blank; a count
    // left blank is none (a partial return of the chairs is a valid request).
    optional: ['op', 'pick', /^(condition|note|returnedBy|sby|snote|good|damaged|lost)_\d+$/],
    ignored: ['scan'], // read only when op is «scan»
  },
  // Report publication (another area's new routes): the first two steps, by finance, for the ended first quarter of FY 2568.
  // Review, approval and return need a submitted report and other people; they get the generic payloads.
  'POST /reports/publications/:fy/:period/narrative': {
    params: () => ({ fy: 2568, period: 'q1' }),
    set: () => ({ summary: 'การยืมเป็นไปตามระเบียบ', problems: 'ผู้ยืมบางรายส่งคืนช้า', suggestions: 'ติดตามทวงคืนภายใน ๗ วัน' }),
    optional: ['summary', 'problems', 'suggestions'],
    emptyOk: true,
  },
  'POST /reports/publications/:fy/:period/submit': {
    params: () => ({ fy: 2568, period: 'q1' }),
    set: () => ({ memoNumber: 'อบ ๘๘๐๐๑/๑๒๓', memoDate: '2025-01-10', note: 'เสนอเพื่อโปรดพิจารณา' }),
    types: { memoDate: 'date' },
    // The service takes a submission without the memo's number and date (written on the paper by
    // hand, perhaps): reported to the publication area rather than decided here.
    optional: ['note', 'memoNumber', 'memoDate'],
    emptyOk: true,
  },
}

/** More valid requests for a route whose form has modes (a user or an external borrower). */
const PAGE_VARIANTS: Record<string, RouteCase[]> = {
  'POST /loans/new': [
    {
      from: () => '/loans/new',
      set: (f) => ({
        borrowerKind: 'external',
        'externalBorrower.type': 'public',
        'externalBorrower.name': 'นางมา ขอยืม',
        'externalBorrower.phone': '089-111-2222',
        'externalBorrower.villageNo': '5',
        assetCodes: f.codes.free,
        purpose: PURPOSE,
        place: PLACE,
        kind: 'off_premises',
        startDate: '2025-01-16',
        dueDate: '2025-01-18',
      }),
      types: { 'externalBorrower.letterDate': 'date' },
      // The type defaults to the public (ประชาชน/ชุมชน), the commonest outside borrower.
      optional: [
        /^externalBorrower\.(type|organisation|phone|villageNo|address|idNumber|letterNumber|letterDate)$/,
        'afterTheFact',
        'paperApproval.approverName',
        'handedOverOn',
        'scan',
      ],
      ignored: ['borrower', 'paperApproval.date', 'paperApproval.note'],
    },
    // One officer, one sitting: the ปลัด's signed slip (scanned) and the hand-over today. Now the paper fields are read.
    {
      from: () => '/loans/new',
      set: (f) => ({
        borrowerKind: 'user',
        borrower: f.ids.staffUsername,
        assetCodes: f.codes.free,
        purpose: PURPOSE,
        place: PLACE,
        kind: 'off_premises',
        startDate: '2025-01-15',
        dueDate: '2025-01-18',
        'paperApproval.approverName': PALAD,
        'paperApproval.date': '2025-01-15',
        handedOverOn: '2025-01-15',
      }),
      types: { borrower: 'code' },
      multipart: { field: 'scan', name: 'slip.png', type: 'image/png', data: PNG },
      // Without the hand-over date the loan is approved on paper and waits to be handed over.
      optional: ['afterTheFact', 'paperApproval.note', 'handedOverOn'],
      ignored: [/^externalBorrower\./, 'borrowerKind'],
      extra: (f) => [
        {
          label: 'the scan missing',
          body: {
            borrowerKind: 'user',
            borrower: f.ids.staffUsername,
            assetCodes: f.codes.free,
            purpose: PURPOSE,
            place: PLACE,
            kind: 'off_premises',
            startDate: '2025-01-15',
            dueDate: '2025-01-18',
            'paperApproval.approverName': PALAD,
            'paperApproval.date': '2025-01-15',
            handedOverOn: '2025-01-15',
            __file: '',
            __fileName: 'slip.png',
            __fileType: 'image/png',
          },
        },
        {
          label: 'the borrower named as the approver',
          body: {
            borrowerKind: 'user',
            borrower: f.ids.staffUsername,
            assetCodes: f.codes.free,
            purpose: PURPOSE,
            place: PLACE,
            kind: 'off_premises',
            startDate: '2025-01-15',
            dueDate: '2025-01-18',
            'paperApproval.approverName': 'นายยืม ของใช้',
            'paperApproval.date': '2025-01-15',
            __file: PNG(),
            __fileName: 'slip.png',
            __fileType: 'image/png',
          },
        },
      ],
    },
  ],
  'POST /counter': [
    // One officer, one sitting at the counter: the ปลัด's signed slip (scanned) and «hand over now».
    {
      from: () => '/counter?new=1',
      set: () => ({
        'externalBorrower.type': 'public',
        'externalBorrower.name': 'นายมา ยืมของ',
        'externalBorrower.phone': '081-234-5678',
        'externalBorrower.villageNo': '3',
        items: 'CHAIR-POOL 10',
        purpose: PURPOSE,
        place: 'ศาลาวัดบ้านหนองบัว',
        kind: 'off_premises',
        startDate: '2025-01-15',
        dueDate: '2025-01-18',
        'paperApproval.approverName': PALAD,
        'paperApproval.date': '2025-01-15',
        handOverNow: '1',
      }),
      types: { handOverNow: 'bool' },
      multipart: { field: 'scan', name: 'slip.png', type: 'image/png', data: PNG },
      ignored: ['externalBorrower.type'],
      optional: [
        'borrowerId',
        'externalBorrower.organisation',
        'externalBorrower.address',
        'externalBorrower.idNumber',
        'letterNumber',
        'letterDate',
        'confirmNew',
        'op',
        'externalBorrower.villageNo',
        'externalBorrower.phone',
        'paperApproval.note',
      ],
      extra: () => [
        {
          label: 'the scan missing',
          body: {
            'externalBorrower.type': 'public',
            'externalBorrower.name': 'นายมา ยืมของ',
            items: 'CHAIR-POOL 10',
            purpose: PURPOSE,
            place: 'ศาลาวัด',
            kind: 'off_premises',
            startDate: '2025-01-15',
            dueDate: '2025-01-18',
            'paperApproval.approverName': PALAD,
            'paperApproval.date': '2025-01-15',
            handOverNow: '1',
            __file: '',
            __fileName: 'slip.png',
            __fileType: 'image/png',
          },
        },
      ],
    },
  ],
}

const API_CASES: Record<string, RouteCase> = {
  // Issue 18: without ids, all of one's notifications are marked read.
  'POST /api/v1/me/notifications/read': { set: () => ({ ids: [1] }), optional: ['ids'], emptyOk: true },
  'POST /api/v1/tokens': {
    as: 'anon',
    set: (f) => ({ username: f.boss.username, password: f.boss.password, expiresInDays: 30 }),
    types: { username: 'code', password: 'password', expiresInDays: 'int' },
    optional: ['name', 'expiresInDays'],
    extra: (f) => [
      { label: 'expiresInDays = 0', body: { username: f.boss.username, password: f.boss.password, expiresInDays: 0 } },
      { label: 'expiresInDays = 366', body: { username: f.boss.username, password: f.boss.password, expiresInDays: 366 } },
      { label: 'expiresInDays = "30" (text, not a number)', body: { username: f.boss.username, password: f.boss.password, expiresInDays: '30' } },
    ],
  },
  'POST /api/v1/users': {
    set: (f) => ({ username: 'apiuser', password: 'temporary-pass-42', name: 'นางสาวเอ ทดสอบ', roles: ['staff'], department: f.ids.deptCode }),
    types: { username: 'code', password: 'password', department: 'code' },
    optional: ['department'],
    extra: () => [
      { label: 'roles: an unknown role', body: { username: 'apiuser', password: 'temporary-pass-42', name: 'เอ', roles: ['root'] } },
      { label: 'roles: a string', body: { username: 'apiuser', password: 'temporary-pass-42', name: 'เอ', roles: 'staff' } },
    ],
  },
  'POST /api/v1/assets': {
    set: () => ({
      code: '416-67-0101',
      name: 'โปรเจกเตอร์',
      category: 'electrical',
      price: '15900.50',
      acquiredOn: '2024-06-01',
      location: 'ห้องพัสดุ',
      loanable: true,
      maxLoanDays: 7,
    }),
    types: { code: 'code', category: 'enum', price: 'money', acquiredOn: 'date', maxLoanDays: 'int', loanable: 'bool' },
    optional: ['price', 'acquiredOn', 'location', 'loanable', 'maxLoanDays'],
  },
  'POST /api/v1/loans': {
    set: (f) => ({
      assetCodes: [f.codes.free],
      stock: [{ code: 'CHAIR-POOL', quantity: 2 }],
      purpose: PURPOSE,
      place: PLACE,
      kind: 'in_premises',
      startDate: '2025-01-16',
      dueDate: '2025-01-18',
    }),
    types: { kind: 'enum' },
    optional: ['assetCodes', 'stock'],
    extra: (f) => {
      const base = { assetCodes: [f.codes.free], purpose: PURPOSE, place: PLACE, kind: 'in_premises', startDate: '2025-01-16', dueDate: '2025-01-18' }
      return [
        ...[-5, 0, 1.5, 1e12, '3', null].map((q) => ({
          label: `stock quantity ${JSON.stringify(q)}`,
          body: { ...base, stock: [{ code: 'CHAIR-POOL', quantity: q }] },
        })),
        { label: 'assetCodes: an object', body: { ...base, assetCodes: { 0: f.codes.free } } },
        { label: 'assetCodes: numbers', body: { ...base, assetCodes: [416] } },
        { label: 'assetCodes: 1,000 codes', body: { ...base, assetCodes: Array.from({ length: 1000 }, (_, i) => `X-${i}`) } },
        { label: 'due before start', body: { ...base, startDate: '2025-01-18', dueDate: '2025-01-16' } },
        { label: 'externalBorrower: a string', body: { ...base, externalBorrower: SCRIPT } },
        { label: 'externalBorrower: script in its name', body: { ...base, externalBorrower: { type: 'public', name: SCRIPT } }, accept: true },
        { label: 'externalBorrower: an unknown type', body: { ...base, externalBorrower: { type: 'alien', name: 'ก' } } },
        { label: 'borrower: an unknown username', body: { ...base, borrower: 'nobody-here' } },
      ]
    },
  },
  'POST /api/v1/loans/:id/approve': { params: loanParam('pending'), set: () => ({ note: 'ตรวจแล้ว' }), optional: ['note'], emptyOk: true },
  'POST /api/v1/loans/:id/reject': { params: loanParam('pending'), set: () => ({ reason: 'ไม่ว่าง' }) },
  'POST /api/v1/loans/:id/paper-approval/confirm': { params: loanParam('paperMine'), set: () => ({ note: 'ลงนามจริง' }), optional: ['note'], emptyOk: true },
  'POST /api/v1/loans/:id/paper-approval/dispute': { params: loanParam('paperMine'), set: () => ({ reason: 'ข้าพเจ้าไม่ได้ลงนามในใบยืมนี้' }) },
  'POST /api/v1/loans/:id/paper-approval/void': { params: loanParam('paperDisputed'), set: () => ({ reason: 'ผู้อนุมัติโต้แย้ง จะบันทึกการอนุมัติใหม่' }) },
  'POST /api/v1/loans/:id/cancel': { params: loanParam('pending'), set: () => ({ reason: 'ผู้ยืมแจ้งยกเลิก' }) },
  'POST /api/v1/loans/:id/handover': { params: loanParam('approved'), emptyOk: true, set: () => ({}) },
  'POST /api/v1/loans/:id/return': {
    params: loanParam('out2'),
    set: (f) => ({ items: [{ assetCode: f.codes.out2, condition: 'good' }], stock: [{ code: 'CHAIR-POOL', good: 5, damaged: 0, lost: 0 }] }),
    optional: ['stock', 'items'],
    extra: (f) => [
      { label: 'condition: unknown', body: { items: [{ assetCode: f.codes.out2, condition: 'melted' }] } },
      { label: 'items: a string', body: { items: f.codes.out2 } },
      ...[-1, 1.5, 1e9, '5'].map((n) => ({
        label: `stock good ${JSON.stringify(n)}`,
        body: { stock: [{ code: 'CHAIR-POOL', good: n, damaged: 0, lost: 0 }] },
      })),
      { label: 'returnedBy: script', body: { items: [{ assetCode: f.codes.out2, condition: 'good', returnedBy: SCRIPT }] }, accept: true },
      { label: 'note: 100 kB', body: { items: [{ assetCode: f.codes.out2, condition: 'good', note: LONG }] } },
    ],
  },
  'POST /api/v1/loans/:id/extensions': { params: loanParam('out3'), set: () => ({ dueDate: '2025-01-23', reason: 'งานเลื่อน' }) },
  'POST /api/v1/loans/:id/extensions/:extId/decision': {
    params: (f) => ({ id: f.ids.out1, extId: f.ids.ext }),
    set: () => ({ approve: true, note: 'อนุมัติ' }),
    types: { approve: 'bool' },
    optional: ['note'],
  },
  'POST /api/v1/loans/:id/follow-ups': {
    params: loanParam('out2'),
    set: () => ({ method: 'phone', note: 'โทรแล้ว' }),
    types: { method: 'enum' },
    optional: ['note', 'letterNumber'],
  },
  'POST /api/v1/stock': {
    set: () => ({ code: 'TENT-API', name: 'เต็นท์ผ้าใบ', quantity: 10, unit: 'หลัง', category: 'household' }),
    types: { code: 'code', quantity: 'int', category: 'enum' },
    optional: ['unit', 'category'],
  },
}

// ---------------------------------------------------------------- payloads

interface Payload {
  kind: Kind
  label: string
  /** Page: the form fields; API: the JSON value, or a raw string sent as is. */
  body: Record<string, unknown> | string
  field?: string
  /** Path parameters to use instead of the case's own. */
  params?: Record<string, string>
  /** The input is legitimately valid: it may be accepted (and the data change). */
  mayAccept: boolean
  /** The answer, if a refusal, should carry the ค.ศ. hint. */
  wantsEraHint?: boolean
}

function without(o: Record<string, unknown>, k: string) {
  const { [k]: _drop, ...rest } = o
  return rest
}

function payloadsFor(route: AppRoute, c: RouteCase, base: Record<string, unknown>, types: Record<string, FieldType>): Payload[] {
  const api = route.kind === 'api'
  const out: Payload[] = []
  const any = Boolean(c.anything)
  const addAny = (kind: Kind, label: string, body: Record<string, unknown> | string, mayAccept: boolean, field?: string, extra: Partial<Payload> = {}) =>
    out.push({ kind, label, body, field, mayAccept: any || mayAccept, ...extra })
  const add = addAny
  add('empty', 'an empty body', {}, Boolean(c.emptyOk))
  add('proto', 'the valid body with a __proto__ key', api ? protoJson(base) : { ...base, '__proto__[x]': '1', __proto__x: '1' }, true)
  const matches = (list: Array<string | RegExp> | undefined, name: string) => (list ?? []).some((m) => (typeof m === 'string' ? m === name : m.test(name)))
  const optional = { has: (name: string) => matches(c.optional, name) }
  for (const [name, value] of Object.entries(base)) {
    const type = types[name] ?? (typeof value === 'number' ? 'int' : typeof value === 'boolean' ? 'bool' : 'text')
    const ignored = matches(c.ignored, name)
    const lenient = type === 'bool' || type === 'hidden' || type === 'button'
    const set = (v: unknown) => ({ ...base, [name]: v })
    const add = (kind: Kind, label: string, body: Record<string, unknown> | string, mayAccept: boolean, field?: string, extra: Partial<Payload> = {}) =>
      addAny(kind, label, body, mayAccept || ignored, field, extra)
    add('missing', `${name} missing`, without(base, name), optional.has(name) || lenient, name)
    if (api) {
      add('object', `${name} as an object`, set({ x: 1 }), lenient && type !== 'bool', name)
      add('array', `${name} as an array`, set(['a', 'b']), Array.isArray(value), name)
      // Money may be a JSON number (SPEC §5); other text fields may not.
      if (typeof value === 'string') add('number', `${name} as a number`, set(12345), type === 'money', name)
      if (typeof value === 'boolean') add('number', `${name} as a string`, set('maybe'), false, name)
    } else {
      add('array', `${name} repeated`, set([String(value), String(value)]), true, name)
      add('object', `${name}[x] instead of ${name}`, { ...without(base, name), [`${name}[x]`]: '1' }, optional.has(name) || lenient, name)
    }
    if (type === 'bool') continue
    const textual = type === 'text' || type === 'password' || type === 'hidden' || type === 'button'
    add('long', `${name} of 100 kB`, set(LONG), lenient, name)
    add('script', `${name} with a script tag`, set(SCRIPT), textual, name)
    add('attr', `${name} breaking out of an attribute`, set(ATTR), textual, name)
    if (type === 'text' || type === 'code' || type === 'password') {
      for (const [u, s] of Object.entries(UNICODE)) {
        // A form cannot send half a surrogate pair (the browser's UTF-8 turns it into U+FFFD, ordinary text).
        const ok = type === 'code' ? CODE_SAFE_UNICODE.has(u) : !UNTYPEABLE_UNICODE.has(u) || (u === 'loneSurrogate' && !api)
        add('unicode', `${name} with ${u}`, set(s), ok, name)
      }
    }
    if (type === 'date') {
      // A page takes พ.ศ. as typed (server/web/typed-date.ts), so there these three are dates; the API stays ISO Common Era.
      const typedOnPages = new Set(['2569-01-01', '15/01/2568', '2025-1-5'])
      for (const d of ['2026-02-30', '99999-01-01', '2569-01-01', '15/01/2568', '2025-1-5', '31/02/2568', '15/01/2350'])
        add('date', `${name} = ${d}`, set(d), !api && typedOnPages.has(d), name, { wantsEraHint: api && d === '2569-01-01' })
    }
    if (type === 'int' || type === 'money') {
      // Money is refused beyond what satang can hold exactly (Number.MAX_SAFE_INTEGER satang): 1e14 baht.
      const bad = type === 'money' ? ['-1', '1.234', '1e14', '999999999999999', 'NaN', '১২'] : ['-1', '0.5', '1e12', '999999999999999', 'NaN', '0x10']
      for (const v of bad) add('quantity', `${name} = ${v}`, set(api && /^-?[\d.e]+$/.test(v) && !/\d{13}/.test(v) ? Number(v) : v), false, name)
      if (api) add('quantity', `${name} = 1e308`, set(1e308), false, name)
    }
    if (type === 'enum') add('enum', `${name} = an unknown value`, set('no-such-value'), false, name)
  }
  if (api) {
    add('json', 'invalid JSON', '{"purpose": "ก",', false)
    add('json', 'a JSON array', '[1,2,3]', Boolean(c.emptyOk))
    add('json', 'a JSON string', '"hello"', Boolean(c.emptyOk))
    add('huge', 'a 2 MB body', JSON.stringify({ ...base, pad: 'x'.repeat(2 * 1024 * 1024) }), false)
  } else {
    add('huge', 'a 2 MB form', { ...base, pad: 'x'.repeat(2 * 1024 * 1024) }, false)
  }
  for (const name of route.path.match(/[:*](\w+)/g) ?? []) {
    const p = name.slice(1)
    for (const v of ['abc', '99999999999999999999', '-1', '1.5', '1%2F2', '%E0%B8', '0']) {
      add('param', `:${p} = ${v}`, base, false, undefined, { params: { [p]: v } })
    }
  }
  for (const e of c.extra?.(currentFixture!) ?? []) add('extra', e.label, e.body, Boolean(e.accept))
  return out
}

/** A JSON text with a real `__proto__` key (a JS object literal would set the prototype instead). */
function protoJson(base: Record<string, unknown>): string {
  const s = JSON.stringify(base)
  return `{"__proto__":{"x":1,"isAdmin":true},${s.slice(1)}`.replace(/,}$/, '}')
}

// ---------------------------------------------------------------- sending and judging

const THAI = /[\u0E00-\u0E7F]/

function pathFor(route: AppRoute, params: Record<string, string | number>, raw?: Record<string, string>): string {
  return route.path.replace(/[:*](\w+)/g, (_m, name: string) => (raw && name in raw ? raw[name]! : encodeURIComponent(String(params[name] ?? 1))))
}

function formText(body: Record<string, unknown>): string {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined) continue
    for (const one of Array.isArray(v) ? v : [v]) u.append(k, String(one))
  }
  return u.toString()
}

/** An unescaped echo of the script payloads (escaped text — &lt;script&gt; — is fine). */
function unescapedEcho(text: string): string | undefined {
  if (text.includes(SCRIPT)) return 'a raw <script> tag'
  if (/<img src=x onerror=/i.test(text)) return 'a raw <img onerror> tag'
  if (/"><img/.test(text)) return 'an attribute broken out of'
  return undefined
}

let currentFixture: Fixture | undefined

async function send(f: Fixture, route: AppRoute, c: RouteCase, p: Payload, params: Record<string, string | number>) {
  const url = pathFor(route, params, p.params)
  const method = route.method
  if (route.kind === 'api') {
    const req = supertest(f.app)[method](url).set('Accept-Language', 'th')
    if (c.as !== 'anon') req.set('Authorization', `Bearer ${f.token}`)
    req.set('Content-Type', 'application/json')
    return req.send(typeof p.body === 'string' ? p.body : JSON.stringify(p.body))
  }
  let agent = f.bossAgent
  let csrf = f.bossCsrf
  if (c.as === 'anon') {
    agent = supertest.agent(f.app)
    csrf = csrfFrom((await agent.get('/login')).text)
  }
  const body = typeof p.body === 'string' ? {} : p.body
  if (c.multipart && p.kind !== 'huge') {
    const req = agent[method](url).set('x-csrf-token', csrf).field('_csrf', csrf)
    for (const [k, v] of Object.entries(body)) if (!k.startsWith('__file')) for (const one of Array.isArray(v) ? v : [v]) req.field(k, String(one))
    if (p.kind === 'extra') {
      const data = body.__file
      req.attach(c.multipart.field, Buffer.isBuffer(data) ? data : Buffer.from(String(data ?? '')), {
        filename: String(body.__fileName ?? 'x.bin'),
        contentType: String(body.__fileType ?? 'application/octet-stream'),
      })
    } else if (p.kind !== 'empty') {
      req.attach(c.multipart.field, c.multipart.data(), { filename: c.multipart.name, contentType: c.multipart.type })
    }
    return req
  }
  return agent[method](url)
    .type('form')
    .set('x-csrf-token', csrf)
    .send(formText({ _csrf: csrf, ...body }))
}

interface Outcome {
  label: string
  problem: string
}

async function judge(f: Fixture, route: AppRoute, c: RouteCase, p: Payload, params: Record<string, string | number>, problems: Outcome[]): Promise<void> {
  const before = await fingerprint(f.t)
  const res = await send(f, route, c, p, params)
  const after = await fingerprint(f.t)
  const changed = before.hash !== after.hash
  const fail = (problem: string) => problems.push({ label: p.label, problem: `${problem} [${res.status}]` })
  const isHtml = /html/.test(String(res.headers['content-type'] ?? ''))
  const isJson = /json/.test(String(res.headers['content-type'] ?? ''))
  if (({} as Record<string, unknown>).x !== undefined || ({} as Record<string, unknown>).isAdmin !== undefined) fail('Object.prototype was polluted')

  if (res.status >= 500) fail(`server error: ${res.text.slice(0, 200)}`)
  if (isHtml) {
    const echo = unescapedEcho(res.text)
    if (echo) fail(`the page carries ${echo}`)
  }
  if (res.status >= 400 && res.status < 500) {
    // A refused valid request would make every other payload's refusal prove nothing.
    if (p.kind === 'control') {
      const at = Math.max(0, res.text.search(/class="(?:flash flash-error|field-error|card narrow error-page)"/))
      fail(
        `the valid request was refused: ${res.text
          .slice(at, at + 800)
          .replace(/<[^>]*>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 240)}`,
      )
    }
    if (changed) fail(`refused, yet data changed (${changedTables(before.counts, after.counts)})`)
    if (route.kind === 'api') {
      const e = (res.body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error
      if (!isJson || !e || typeof e.code !== 'string' || typeof e.message !== 'string')
        fail(`API error not in the {error:{code,message}} shape: ${res.text.slice(0, 120)}`)
      else {
        if (!THAI.test(e.message)) fail(`API message not in Thai: ${e.message}`)
        // Each detail names its field, or (a refusal by a rule of the loan policy, SPEC §1) the rule.
        const detailOk = (d: { field?: unknown; rule?: unknown; message?: unknown }) =>
          (typeof d.field === 'string' || typeof d.rule === 'string') && typeof d.message === 'string' && THAI.test(d.message)
        if (e.details !== undefined && !(Array.isArray(e.details) && e.details.every(detailOk)))
          fail(`API details malformed or untranslated: ${JSON.stringify(e.details).slice(0, 160)}`)
        if (p.kind === 'json' && p.label === 'invalid JSON' && (res.status !== 400 || e.code !== 'bad_request')) fail(`invalid JSON answered ${e.code}`)
        if (p.kind === 'huge' && (res.status !== 413 || e.code !== 'payload_too_large')) fail(`a 2 MB body answered ${e.code}`)
      }
      if (p.wantsEraHint && !res.text.includes('ค.ศ.')) fail('a Buddhist-era year without the ค.ศ. hint')
    } else {
      if (!isHtml) fail(`page refusal is not HTML: ${String(res.headers['content-type'])}`)
      else {
        const at = res.text.search(/class="(?:flash flash-error|field-error|card narrow error-page)"/)
        if (at < 0 && res.status !== 403) fail('page refusal shows no error message')
        else if (at >= 0 && !THAI.test(res.text.slice(at, at + 600).replace(/<[^>]*>/g, ''))) fail('page error message not in Thai')
        if (p.wantsEraHint && res.status === 422 && !res.text.includes('ค.ศ.')) fail('a Buddhist-era year without the ค.ศ. hint')
      }
    }
    if (p.kind === 'huge' && route.kind === 'page' && res.status !== 413) fail('a 2 MB form is not 413')
    return
  }
  // Accepted (2xx/3xx).
  if (p.kind === 'control') {
    if (!changed && !c.sessionOnly && !c.anything) fail('the valid request changed nothing: the fixture does not reach the route')
  } else if (changed && !p.mayAccept) {
    fail(`accepted bad input and changed data (${changedTables(before.counts, after.counts)})`)
  } else if (!changed && res.status < 300 && route.kind === 'api' && !p.mayAccept) {
    fail('answered 2xx to bad input')
  }
  if (
    res.status >= 300 &&
    res.status < 400 &&
    (p.kind === 'script' || p.kind === 'attr' || p.kind === 'extra' || p.kind === 'unicode') &&
    typeof res.headers.location === 'string' &&
    res.headers.location.startsWith('/') &&
    !res.headers.location.startsWith('/login')
  ) {
    const shown = await f.bossAgent.get(res.headers.location)
    if (shown.status >= 500) fail(`the page after it fails: ${shown.status}`)
    const echo = unescapedEcho(shown.text)
    if (echo) fail(`the page after it (${res.headers.location}) carries ${echo}`)
  }
  // Signing out, a new password or a language ends or changes the boss's session: sign in again if so.
  const sessionMayEnd = Boolean(c.anything) || /password|language|logout/.test(route.path)
  if (changed || c.sessionOnly || (res.status === 303 && sessionMayEnd)) await reset(f, sessionMayEnd)
}

/** The valid body of a route: the form's own fields from its page, with the case's values on top. */
async function baseOf(
  f: Fixture,
  route: AppRoute,
  c: RouteCase,
  params: Record<string, string | number>,
): Promise<{ body: Record<string, unknown>; types: Record<string, FieldType> }> {
  const types: Record<string, FieldType> = {}
  const body: Record<string, unknown> = {}
  if (c.from && route.kind === 'page') {
    const agent = c.as === 'anon' ? supertest.agent(f.app) : f.bossAgent
    const page = await agent.get(c.from(f))
    const action = fillPath(route.path, params)
    const forms = formsFor(page.text, action)
    if (forms.length === 0)
      throw new Error(
        `no form posting to ${action} on ${c.from(f)} (status ${page.status}; forms: ${[...page.text.matchAll(/<form\b[^>]*>/g)].map((m) => m[0]).join(' ')})`,
      )
    for (const fld of formFields(forms[0]!)) {
      if (fld.name === '_csrf') continue
      if (body[fld.name] === undefined) {
        body[fld.name] = fld.value
        types[fld.name] = fld.type
      }
    }
  }
  Object.assign(body, c.set?.(f) ?? {})
  Object.assign(types, c.types ?? {})
  return { body, types }
}

// ---------------------------------------------------------------- the tests

const probe = await createTestApp()
const ROUTES = listRoutes(probe.app)
await probe.close()
const WRITE_ROUTES = ROUTES.filter((r) => r.method !== 'get')
const GET_ROUTES = ROUTES.filter((r) => r.method === 'get')

describe('bad input: every form and API route refuses malformed input with a translated 4xx and changes nothing', function () {
  this.timeout(300_000)
  let f: Fixture
  before(async () => {
    f = await buildFixture()
    currentFixture = f
  })
  after(() => f.t.close())

  it('when the routes are read from the router stack, then every write route is found', () => {
    const keys = WRITE_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`)
    expect(keys).to.include.members(['POST /api/v1/loans', 'POST /loans/:id/return', 'POST /admin/settings', 'POST /assets/import'])
    expect(keys.length).to.be.greaterThan(40)
  })

  for (const route of WRITE_ROUTES) {
    const key = `${route.method.toUpperCase()} ${route.path}`
    const cOf: RouteCase = (route.kind === 'api' ? API_CASES : PAGE_CASES)[key] ?? { anything: false }
    const known = Boolean((route.kind === 'api' ? API_CASES : PAGE_CASES)[key])
    if (process.env.BAD_INPUT_ONLY && !key.includes(process.env.BAD_INPUT_ONLY)) continue
    it(`when ${key} gets malformed, missing, oversized, wrongly typed, script-bearing or odd-Unicode input, then it answers a translated 4xx and changes nothing${known ? '' : ' (generic payloads: no case in the table yet)'}`, async () => {
      const problems: Outcome[] = []
      for (const [i, c] of [cOf, ...(route.kind === 'page' ? (PAGE_VARIANTS[key] ?? []) : [])].entries()) {
        const params = c.params?.(f) ?? {}
        const { body, types } = known ? await baseOf(f, route, c, params) : { body: {}, types: {} }
        const mark = (o: Outcome[]) => (i === 0 ? o : o.map((x) => ({ ...x, label: `(variant ${i}) ${x.label}` })))
        const found: Outcome[] = []
        if (known) await judge(f, route, c, { kind: 'control', label: 'the valid request', body, mayAccept: true }, params, found)
        for (const p of payloadsFor(route, c, body, types)) await judge(f, route, c, p, params, found)
        await reset(f)
        problems.push(...mark(found))
      }
      expect(
        problems.map((x) => `${x.label}: ${x.problem}`),
        key,
      ).to.deep.equal([])
    })
  }
})

describe('bad input: GET routes with odd query strings and path parameters answer a 4xx or a sane page, never a 5xx', function () {
  this.timeout(300_000)
  let f: Fixture
  before(async () => {
    f = await buildFixture()
    currentFixture = f
  })
  after(() => f.t.close())

  const QUERIES = [
    'page=-1',
    'page=abc',
    'page=99999999999999999999',
    'pageSize=100000',
    'pageSize=0',
    `q=${encodeURIComponent('ก'.repeat(1100))}`, // 10 kB once encoded (Node refuses a request line over 16 kB before the app sees it)
    `q=${encodeURIComponent(SCRIPT)}`,
    `q=${encodeURIComponent(ATTR)}`,
    'q=%00%E0%B8',
    'q[x]=1',
    'status=a&status=b',
    'status=no-such-status',
    'fy=abcd',
    'fiscalYear=abcd',
    'fiscalYear=99999999',
    'year=2568&year=2569',
    'from=2026-13-01',
    'from=2569-01-01&to=2026-02-30',
    'to=99999-01-01',
    'period=q9',
    'kind=x&kind=y',
    'next=//evil.example',
    'overdue=maybe',
    `category=${encodeURIComponent(SCRIPT)}`,
    'onlyBad=%ZZ',
  ]
  const paramsFor = (f: Fixture, route: AppRoute): Record<string, string | number> => {
    const p = route.path
    if (p.startsWith('/admin/users/')) return { id: f.ids.staff }
    if (p.startsWith('/admin/departments/')) return { id: f.ids.dept }
    if (p.startsWith('/admin/categories/')) return { id: f.ids.category }
    if (p.startsWith('/assets/import/')) return { batchId: f.ids.batch }
    if (p.startsWith('/assets/') || p === '/q/*code') return { id: f.ids.asset, code: f.codes.asset }
    if (p.startsWith('/api/v1/assets/')) return { code: f.codes.asset }
    if (p.startsWith('/api/v1/stock/')) return { code: f.codes.stock }
    if (p.startsWith('/stock/')) return { id: f.ids.stock }
    if (p.startsWith('/kits/')) return { id: f.ids.kit }
    if (p.startsWith('/borrowers/users/')) return { id: f.ids.staff }
    if (p.includes('fiscal-years')) return { year: 2568 }
    return { id: f.ids.out2, extId: f.ids.ext, compId: f.ids.comp, attId: 1 }
  }

  for (const route of GET_ROUTES) {
    const key = `GET ${route.path}`
    it(`when ${key} gets odd query strings and path parameters, then it never answers 5xx nor echoes a script`, async () => {
      const params = paramsFor(f, route)
      const problems: string[] = []
      const get = (url: string) => {
        const r = route.kind === 'api' ? supertest(f.app).get(url).set('Authorization', `Bearer ${f.token}`) : f.bossAgent.get(url)
        return r.set('Accept-Language', 'th')
      }
      for (const q of QUERIES) {
        const url = `${pathFor(route, params)}?${q}`
        const res = await get(url)
        if (res.status >= 500) problems.push(`?${q.slice(0, 60)}: ${res.status}`)
        if (/html/.test(String(res.headers['content-type'] ?? ''))) {
          const echo = unescapedEcho(res.text)
          if (echo) problems.push(`?${q.slice(0, 60)}: carries ${echo}`)
        }
        if (route.kind === 'api' && res.status >= 400) {
          const e = (res.body as { error?: { message?: string } }).error
          if (!e || !THAI.test(e.message ?? '')) problems.push(`?${q.slice(0, 60)}: API error not translated: ${res.text.slice(0, 100)}`)
        }
      }
      for (const name of route.path.match(/[:*](\w+)/g) ?? []) {
        for (const v of ['abc', '99999999999999999999', '-1', '1.5', '1%2F2', '%E0%B8', '0', encodeURIComponent(SCRIPT)]) {
          const res = await get(pathFor(route, params, { [name.slice(1)]: v }))
          if (res.status >= 500) problems.push(`${name} = ${v}: ${res.status}`)
          else if (res.status < 300 && !route.path.includes('*')) problems.push(`${name} = ${v}: answered ${res.status} for a parameter that names nothing`)
          if (/html/.test(String(res.headers['content-type'] ?? ''))) {
            const echo = unescapedEcho(res.text)
            if (echo) problems.push(`${name} = ${v}: carries ${echo}`)
          }
        }
      }
      expect(problems, key).to.deep.equal([])
    })
  }
})
