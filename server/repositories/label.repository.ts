import type { Kysely } from 'kysely'
import type { Database } from '../../db/schema.js'

type Db = Kysely<Database>

/** What a printed label needs of an asset, and nothing more. */
export interface LabelAssetRow {
  id: number
  code: string
  name: string
}

// Well under SQLite's bound-parameter limit, and the same chunk works on PostgreSQL.
const CHUNK = 500

/** The assets with these ids, in code order (the order of the register); unknown ids are skipped. */
export async function listByIds(db: Db, ids: readonly number[]): Promise<LabelAssetRow[]> {
  const out: LabelAssetRow[] = []
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db
      .selectFrom('asset')
      .select(['id', 'code', 'name'])
      .where('id', 'in', ids.slice(i, i + CHUNK))
      .execute()
    out.push(...rows)
  }
  // Chunks are each ordered, the whole is not: sort once here rather than per chunk in SQL.
  return out.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
}
