import { sql, type Expression, type SqlBool } from 'kysely'

/** `column LIKE '%text%' ESCAPE '\'`, with the text's own % and _ taken literally (same SQL on PostgreSQL). */
export function containsText(column: string, text: string): Expression<SqlBool> {
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  return sql<SqlBool>`${sql.ref(column)} LIKE ${pattern} ESCAPE '\\'`
}
