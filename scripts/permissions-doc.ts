/**
 * Writes docs/PERMISSIONS.md from the permission table in server/web/permissions.ts.
 *
 *   npx tsx scripts/permissions-doc.ts
 *
 * test/http/permissions.test.ts fails while the file and the table differ.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderPermissionsMarkdown } from '../server/web/permissions.js'

const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'PERMISSIONS.md')
fs.writeFileSync(file, renderPermissionsMarkdown())
console.log(`wrote ${path.relative(process.cwd(), file)}`)
