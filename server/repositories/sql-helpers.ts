import { sql, type Expression, type SqlBool } from 'kysely'

/** Longer than any searchable column (names, codes, places are at most a few hundred characters). */
const MAX_SEARCH_CHARS = 1000

/** `column LIKE '%text%' ESCAPE '\'`, with the text's own % and _ taken literally (same SQL on PostgreSQL). */
export function containsText(column: string, text: string): Expression<SqlBool> {
  // SQLite refuses a LIKE pattern over 50,000 bytes ("pattern too complex"), and text longer than
  // any searched column cannot be inside one: such a search matches nothing, without asking.
  if (text.length > MAX_SEARCH_CHARS) return sql<SqlBool>`1 = 0`
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  return sql<SqlBool>`${sql.ref(column)} LIKE ${pattern} ESCAPE '\\'`
}
