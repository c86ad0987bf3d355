import { createHash } from 'node:crypto'
import { type Kysely, sql } from 'kysely'
import { isPostgres } from '../dialect.js'

// Frozen once landed: never import the app's types here, never edit after release.

// Codes stored as entered, compared by a key (issue 16, SPEC §2).
//
// Until now asset, stock and kit codes were stored in NFKC, which turns ำ into ํา: `สำนัก.01/2566`
// came back as `สํานัก.01/2566` and went on the label that way. From now on a code is stored as
// entered (trimmed, NFC) and compared through code_key, which folds NFKC forms, Thai digits, case
// and spaces; the key is unique in each table, so the two forms can never be two items.
//
// A code that NFKC changed is restored to its original form where the database still shows it: a
// line of a kept import file (import_batch_row) or a string in the audit log whose NFKC form is the
// stored code and which is not itself NFKC. Only a single, unambiguous original is used. Each
// restoration is audited (action `<entity>.code_restored`, actor `system`), appended to the chain
// here with the same hash as the application's audit.service.ts. Old labels printed with the NFKC
// form keep working: their code has the same key.
//
// Codes that existing rows held apart but the key folds together (e.g. `a-1` and `A-1`) keep a key
// made distinct by the row id — found by their exact code only — and are audited as
// `<entity>.code_key_conflict` so that the register can rename one of them.

const TABLES = [
  { table: 'asset', entity: 'asset' },
  { table: 'stock_item', entity: 'stock' },
  { table: 'kit', entity: 'kit' },
] as const

/** The application's codeKey (db/schema.ts) as of this migration. */
function keyOf(code: string): string {
  return code
    .normalize('NFKC')
    .replace(/[\u0E50-\u0E59]/g, (d) => String(d.charCodeAt(0) - 0x0e50))
    .toLowerCase()
    .replace(/\s+/g, '')
}

function stringsIn(value: unknown, out: string[]): void {
  if (typeof value === 'string') {
    if (value.length > 0 && value.length <= 200) out.push(value)
  } else if (Array.isArray(value)) {
    for (const v of value) stringsIn(v, out)
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) stringsIn(v, out)
  }
}

/** NFKC form → the NFC originals that the evidence shows for it (only strings NFKC changes). */
async function originals(db: Kysely<any>): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>()
  const add = (texts: string[]) => {
    for (const raw of texts) {
      const nfc = raw.normalize('NFC').trim()
      const nfkc = raw.normalize('NFKC').trim()
      if (nfc === nfkc || nfc === '') continue
      const set = out.get(nfkc) ?? new Set<string>()
      set.add(nfc)
      out.set(nfkc, set)
    }
  }
  const parse = (data: string): unknown => {
    try {
      return JSON.parse(data)
    } catch {
      return null
    }
  }
  // The lines of kept import files: the code as read from the file, and as checked.
  const lines = await db.selectFrom('import_batch_row').select('data').execute()
  for (const l of lines) {
    const d = parse(l.data) as { values?: { code?: unknown }; input?: { code?: unknown } } | null
    add([d?.values?.code, d?.input?.code].filter((v): v is string => typeof v === 'string'))
  }
  // The audit log: any string among an entry's data (only entries with ำ or a full-width form in them).
  let after = 0
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .select(['id', 'data'])
      .where('id', '>', after)
      .where((eb) =>
        eb.or([eb('data', 'like', '%\u0E33%'), isPostgres(db) ? sql<boolean>`data ~ ${'[\uFF01-\uFF5E]'}` : sql<boolean>`data GLOB ${'*[\uFF01-\uFF5E]*'}`]),
      )
      .orderBy('id')
      .limit(2000)
      .execute()
    if (rows.length === 0) break
    for (const r of rows) {
      const texts: string[] = []
      stringsIn(parse(r.data), texts)
      add(texts)
    }
    after = rows[rows.length - 1]!.id
  }
  return out
}

async function appendAudit(db: Kysely<any>, entry: { action: string; entity: string; entityId: number; data: Record<string, unknown> }): Promise<void> {
  const head = await db.selectFrom('audit_log').select(['id', 'hash']).orderBy('id', 'desc').limit(1).executeTakeFirst()
  const row = {
    id: (head?.id ?? 0) + 1,
    at: new Date().toISOString(),
    actor_id: null,
    actor_label: 'system',
    action: entry.action,
    entity: entry.entity,
    entity_id: String(entry.entityId),
    data: JSON.stringify(entry.data),
    prev_hash: head?.hash ?? '0'.repeat(64),
  }
  const canonical = JSON.stringify([row.id, row.at, row.actor_id, row.actor_label, row.action, row.entity, row.entity_id, row.data, row.prev_hash])
  await db
    .insertInto('audit_log')
    .values({ ...row, hash: createHash('sha256').update(canonical, 'utf8').digest('hex') })
    .execute()
}

export async function up(db: Kysely<any>): Promise<void> {
  const found = await originals(db)
  const used = new Set<string>()
  for (const { table } of TABLES) {
    for (const r of await db.selectFrom(table).select('code').execute()) used.add(r.code)
  }

  for (const { table, entity } of TABLES) {
    await db.schema
      .alterTable(table)
      .addColumn('code_key', 'text', (c) => c.notNull().defaultTo(''))
      .execute()
    const rows = await db.selectFrom(table).select(['id', 'code']).orderBy('id').execute()
    const taken = new Map<string, number>()
    for (const r of rows) {
      let code: string = r.code
      const candidates = [...(found.get(code) ?? [])]
      const original = candidates.length === 1 ? candidates[0] : undefined
      if (original !== undefined && !used.has(original)) {
        await db.updateTable(table).set({ code: original }).where('id', '=', r.id).execute()
        await appendAudit(db, { action: `${entity}.code_restored`, entity, entityId: r.id, data: { from: code, to: original } })
        used.delete(code)
        used.add(original)
        code = original
      }
      let key = keyOf(code)
      const first = taken.get(key)
      if (first !== undefined) {
        await appendAudit(db, { action: `${entity}.code_key_conflict`, entity, entityId: r.id, data: { code, sameAs: first } })
        key = `${key}#${r.id}`
      }
      taken.set(key, r.id)
      await db.updateTable(table).set({ code_key: key }).where('id', '=', r.id).execute()
    }
    await db.schema.createIndex(`${table}_code_key_idx`).on(table).column('code_key').unique().execute()
  }
}

// The restored codes stay as entered: the older schema stores them as they are.
export async function down(db: Kysely<any>): Promise<void> {
  for (const { table } of TABLES) {
    await db.schema.dropIndex(`${table}_code_key_idx`).execute()
    await db.schema.alterTable(table).dropColumn('code_key').execute()
  }
}
