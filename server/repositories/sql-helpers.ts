import { sql, type Expression, type SqlBool } from 'kysely'

/** Longer than any searchable column (names, codes, places are at most a few hundred characters). */
const MAX_SEARCH_CHARS = 1000

/**
 * `lower(column) LIKE lower('%text%') ESCAPE '\'`, with the text's own % and _ taken literally: Latin
 * letters match in either case on both databases (SQLite's LIKE ignores ASCII case by itself,
 * PostgreSQL's does not).
 */
export function containsText(column: string, text: string): Expression<SqlBool> {
  // SQLite refuses a LIKE pattern over 50,000 bytes ("pattern too complex"), and text longer than
  // any searched column cannot be inside one: such a search matches nothing, without asking.
  // No stored text holds NUL (PostgreSQL's text cannot, and it refuses such a parameter): nothing matches.
  if (text.length > MAX_SEARCH_CHARS || hasNul(text)) return sql<SqlBool>`1 = 0`
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  return sql<SqlBool>`lower(${sql.ref(column)}) LIKE lower(${pattern}) ESCAPE '\\'`
}

/** Whether text holds U+0000: no stored text does (PostgreSQL's text cannot hold it and refuses it as a parameter), so a lookup by it finds nothing. */
export function hasNul(text: string): boolean {
  return text.includes('\u0000')
}
