import { randomBytes } from 'node:crypto'
import { writeTransaction } from '../../db/connection.js'
import type { ImportBatchRow } from '../../db/schema.js'
import * as assets from '../repositories/asset.repository.js'
import { bangkokDate } from '../i18n/calendar.js'
import { codeKey } from '../i18n/format.js'
import * as batches from '../repositories/import-batch.repository.js'
import * as categories from '../repositories/category.repository.js'
import * as departments from '../repositories/department.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { REGISTER_FIELDS, REQUIRED_FIELDS, type RegisterField } from '../i18n/register-file.js'
import { append, type Actor } from './audit.service.js'
import { assetColumns, assetInputSchema } from './asset.service.js'
import { cellText, fileError, findHeaderRow, IMPORT_MAX_ROWS, readRegisterFile, tooManyRows, yieldToEventLoop, type TextEncoding } from './asset-import-file.js'
import { checkRow, loadLookups, type PreviewRow, type RowError } from './asset-import-rows.js'

/**
 * Importing a register file: the preview (read, check, codes repeated in the file or already in
 * the register), the batch kept for its uploader, and the confirmation that writes it. Reading the
 * file is asset-import-file.ts; checking a row, asset-import-rows.ts.
 */

export { REGISTER_FIELDS, REQUIRED_FIELDS, type RegisterField }

/** A previewed batch waits this long for its confirmation. */
export const IMPORT_BATCH_HOURS = 24
/** Rows checked or imported between two turns of the event loop (see READ_CHUNK in asset-import-file.ts). */
const CHECK_CHUNK = 250
const CONFIRM_CHUNK = 100

export interface ImportPreview {
  kind: 'csv' | 'xlsx'
  encoding: TextEncoding | null
  headerLine: number
  columns: Array<{ field: RegisterField; headers: string[] }>
  ignored: string[]
  emptyRows: number
  rows: PreviewRow[]
  good: number
  bad: number
}

/** The code a row will be stored under, when the code itself passes the rules. */
function codeOf(row: PreviewRow): string | undefined {
  if (row.errors.some((e) => e.field === 'code')) return undefined
  const parsed = assetInputSchema.shape.code.safeParse(row.values.code ?? '')
  return parsed.success ? parsed.data : undefined
}

function markBad(row: PreviewRow, error: RowError): void {
  row.errors.push(error)
  delete row.input
}

/**
 * Reads and checks a register file without writing anything: the header row, every row against
 * createAsset's rules, codes repeated in the file (the first stands, later ones are refused) or
 * already in the register. Works in chunks, yielding to the event loop between them.
 */
export async function previewImport(ctx: AppContext, file: { name: string; data: Buffer }): Promise<ImportPreview> {
  const table = await readRegisterFile(file.data, file.name)
  const map = findHeaderRow(table)
  const body = table.rows.slice(map.rowIndex + 1)
  const filled = body.filter((r) => r.cells.length > 0)
  if (filled.length === 0) throw fileError('assetImport.noRows')
  if (filled.length > IMPORT_MAX_ROWS) throw tooManyRows()
  const lookups = await loadLookups(ctx)

  const rows: PreviewRow[] = []
  const firstLineOf = new Map<string, number>()
  for (let i = 0; i < filled.length; i += CHECK_CHUNK) {
    for (const raw of filled.slice(i, i + CHECK_CHUNK)) {
      const row = checkRow(raw, map, lookups)
      const code = codeOf(row)
      if (code !== undefined) {
        // Two spellings of one code (ำ and ํา, case, Thai digits) are the same code.
        const first = firstLineOf.get(codeKey(code))
        if (first === undefined) firstLineOf.set(codeKey(code), row.line)
        else markBad(row, { field: 'code', message: 'assetImport.row.duplicateInFile', params: { code, line: first } })
      }
      rows.push(row)
    }
    await yieldToEventLoop()
  }

  const taken = await assets.existingCodeKeys(ctx.db, [...firstLineOf.keys()])
  if (taken.size > 0) {
    for (const row of rows) {
      const code = codeOf(row)
      if (code !== undefined && taken.has(codeKey(code)) && !row.errors.some((e) => e.message === 'assetImport.row.duplicateInFile')) {
        markBad(row, { field: 'code', message: 'assetImport.row.codeInRegister', params: { code } })
      }
    }
  }

  const good = rows.filter((r) => r.errors.length === 0).length
  return {
    kind: table.kind,
    encoding: table.encoding,
    headerLine: map.line,
    columns: REGISTER_FIELDS.filter((f) => map.columns[f]).map((f) => ({
      field: f,
      headers: map.columns[f]!.map((i) => cellText(table.rows[map.rowIndex]!.cells[i])),
    })),
    ignored: map.ignored,
    emptyRows: (table.lastLine ?? table.rows.at(-1)!.line) - map.line - filled.length,
    rows,
    good,
    bad: rows.length - good,
  }
}

// ---- the batch between preview and confirm

export interface BatchMeta {
  kind: 'csv' | 'xlsx'
  encoding: TextEncoding | null
  headerLine: number
  columns: ImportPreview['columns']
  ignored: string[]
  emptyRows: number
}

export interface BatchView {
  id: string
  fileName: string
  meta: BatchMeta
  total: number
  good: number
  bad: number
  createdAt: string
  expiresAt: string
  importedAt: string | null
  importedCount: number | null
  expired: boolean
  rows: PreviewRow[]
  /** Rows in the page's selection (all or only the refused ones). */
  shown: number
}

function newBatchId(): string {
  return randomBytes(16).toString('hex')
}

/**
 * Checks the file and keeps the result for its uploader, so that the confirmation imports
 * exactly what they saw without a second upload. Batches past their time are cleared here.
 */
export async function startImport(ctx: AppContext, userId: number, file: { name: string; data: Buffer }): Promise<string> {
  const preview = await previewImport(ctx, file)
  const now = ctx.clock.now()
  const id = newBatchId()
  const meta: BatchMeta = {
    kind: preview.kind,
    encoding: preview.encoding,
    headerLine: preview.headerLine,
    columns: preview.columns,
    ignored: preview.ignored,
    emptyRows: preview.emptyRows,
  }
  const lines = preview.rows.map((r) => ({
    line: r.line,
    ok: r.errors.length === 0,
    data: JSON.stringify({ values: r.values, errors: r.errors, input: r.input }),
  }))
  await writeTransaction(ctx.db, async (trx) => {
    await batches.deleteExpired(trx, now.toISOString())
    await batches.insertBatch(trx, {
      id,
      user_id: userId,
      file_name: file.name.slice(0, 255),
      meta: JSON.stringify(meta),
      total_rows: preview.rows.length,
      good_rows: preview.good,
      bad_rows: preview.bad,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + IMPORT_BATCH_HOURS * 3_600_000).toISOString(),
      imported_at: null,
      imported_count: null,
    })
    for (let i = 0; i < lines.length; i += CHECK_CHUNK * 2) {
      await batches.insertLines(trx, id, lines.slice(i, i + CHECK_CHUNK * 2))
      await yieldToEventLoop()
    }
  })
  return id
}

/** Another person's batch, or one that is gone, is simply not found. */
async function ownBatch(db: AppContext['db'], userId: number, id: string): Promise<ImportBatchRow> {
  const batch = /^[0-9a-f]{32}$/.test(id) ? await batches.findBatch(db, id) : undefined
  if (!batch || batch.user_id !== userId) throw new AppError('not_found', 'assetImport.batchNotFound')
  return batch
}

function parseLine(data: string): Pick<PreviewRow, 'values' | 'errors' | 'input'> {
  return JSON.parse(data) as Pick<PreviewRow, 'values' | 'errors' | 'input'>
}

export async function getImportBatch(
  ctx: AppContext,
  userId: number,
  id: string,
  opts: { onlyBad: boolean; page: number; pageSize: number },
): Promise<BatchView> {
  const batch = await ownBatch(ctx.db, userId, id)
  const lines = await batches.listLines(ctx.db, id, { onlyBad: opts.onlyBad, limit: opts.pageSize, offset: (opts.page - 1) * opts.pageSize })
  return {
    id: batch.id,
    fileName: batch.file_name,
    meta: JSON.parse(batch.meta) as BatchMeta,
    total: batch.total_rows,
    good: batch.good_rows,
    bad: batch.bad_rows,
    createdAt: batch.created_at,
    expiresAt: batch.expires_at,
    importedAt: batch.imported_at,
    importedCount: batch.imported_count,
    expired: batch.imported_at === null && batch.expires_at < ctx.clock.now().toISOString(),
    rows: lines.map((l) => ({ line: l.line, ...parseLine(l.data) })),
    shown: opts.onlyBad ? batch.bad_rows : batch.total_rows,
  }
}

/**
 * Imports every good row of the batch in one write transaction, each asset with its own
 * `asset.imported` entry and the batch with one summary entry. Codes are checked again inside
 * the transaction: if one was registered meanwhile, nothing is imported and the person is told
 * to upload again. A batch is imported once; a second confirm is refused.
 */
export async function confirmImport(ctx: AppContext, actor: Actor, id: string): Promise<{ imported: number }> {
  if (actor.id === null) throw new AppError('forbidden', 'error.forbidden')
  const userId = actor.id
  return writeTransaction(ctx.db, async (trx) => {
    const batch = await ownBatch(trx, userId, id)
    const now = ctx.clock.now().toISOString()
    if (batch.imported_at !== null) throw new AppError('conflict', 'assetImport.alreadyImported', { count: batch.imported_count ?? 0 })
    if (batch.expires_at < now) throw new AppError('invalid_state', 'assetImport.expired')
    if (batch.good_rows === 0) throw new AppError('invalid_state', 'assetImport.noGoodRows')

    const cats = new Map((await categories.listAll(trx)).map((c) => [c.id, c]))
    const deps = new Set((await departments.listAll(trx)).map((d) => d.id))
    let imported = 0
    let after = 0
    for (;;) {
      const lines = await batches.goodLinesAfter(trx, id, after, CONFIRM_CHUNK)
      if (lines.length === 0) break
      const rows = lines.map((l) => {
        const parsed = assetInputSchema.safeParse(parseLine(l.data).input)
        const category = parsed.success ? cats.get(parsed.data.categoryId) : undefined
        if (!parsed.success || !category || (parsed.data.departmentId !== null && !deps.has(parsed.data.departmentId))) {
          throw new AppError('conflict', 'assetImport.changedMeanwhile', { line: l.line })
        }
        return { line: l.line, data: parsed.data, category }
      })
      const taken = await assets.existingCodeKeys(
        trx,
        rows.map((r) => r.data.code),
      )
      const clashes = rows.filter((r) => taken.has(codeKey(r.data.code))).map((r) => r.data.code)
      if (clashes.length > 0) throw new AppError('conflict', 'assetImport.codesTakenMeanwhile', { codes: clashes.slice(0, 5).join(', ') })
      for (const r of rows) {
        const row = await assets.insert(
          trx,
          { ...assetColumns(r.data, r.category), status: 'available', created_at: now, updated_at: now },
          bangkokDate(ctx.clock.now()),
        )
        const { id: assetId, created_at: _c, updated_at: _u, code_key: _k, ...stored } = row
        await append(trx, ctx.clock, actor, { action: 'asset.imported', entity: 'asset', entityId: assetId, data: { ...stored, batch: id, line: r.line } })
        imported++
      }
      after = lines[lines.length - 1]!.line
      // Other requests wait for the connection until the commit, but the process stays responsive.
      await yieldToEventLoop()
    }
    if (!(await batches.markImported(trx, id, now, imported))) throw new AppError('conflict', 'assetImport.alreadyImported', { count: imported })
    await batches.deleteLines(trx, id)
    await append(trx, ctx.clock, actor, {
      action: 'asset.import_confirmed',
      entity: 'import_batch',
      entityId: id,
      data: { fileName: batch.file_name, rows: batch.total_rows, imported, refused: batch.bad_rows },
    })
    return { imported }
  })
}
