import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { parse as parseCsv, CsvError } from 'csv-parse'
import type ExcelJS from 'exceljs'
import type { CentralDirectoryFile } from 'unzipper'
import { loadExcelJS } from './exceljs-lazy.js'
import { writeTransaction } from '../../db/connection.js'
import type { CategoryRow, DepartmentRow, ImportBatchRow } from '../../db/schema.js'
import * as assets from '../repositories/asset.repository.js'
import { bangkokDate } from '../i18n/calendar.js'
import * as batches from '../repositories/import-batch.repository.js'
import * as categories from '../repositories/category.repository.js'
import * as departments from '../repositories/department.repository.js'
import { AppError, type FieldError } from '../errors.js'
import type { AppContext } from '../context.js'
import { formatDate } from '../i18n/format.js'
import {
  JOINED_FIELDS,
  REGISTER_FIELDS,
  REQUIRED_FIELDS,
  categoryKey,
  cleanPriceText,
  dateFromCell,
  fieldOfHeader,
  isNoValue,
  nameKey,
  parseRegisterDate,
  parseYesNo,
  type RegisterField,
} from '../i18n/register-file.js'
import { append, type Actor } from './audit.service.js'
import { assetColumns, assetInputSchema } from './asset.service.js'
import { validationError } from '../lib/validation.js'

export { REGISTER_FIELDS, REQUIRED_FIELDS, type RegisterField }

/** Limits a person is told about on the upload page. */
export const IMPORT_MAX_BYTES = 10 * 1024 * 1024
export const IMPORT_MAX_ROWS = 20_000
/** A previewed batch waits this long for its confirmation. */
export const IMPORT_BATCH_HOURS = 24
/**
 * Rows read, checked or imported between two turns of the event loop, so that other requests
 * are served meanwhile (each chunk takes a few milliseconds once the code is warm).
 */
const READ_CHUNK = 200
const CHECK_CHUNK = 250
const CONFIRM_CHUNK = 100
/** A title or a blank line may stand above the header row; it is looked for this far down. */
const HEADER_SEARCH_ROWS = 10

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

// ---- reading the file

export type Cell = string | number | boolean | Date | null
export interface RawRow {
  /** The row number as a spreadsheet shows it (the header row counts). */
  line: number
  cells: Cell[]
}
export type TextEncoding = 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be' | 'windows-874'
export interface RegisterTable {
  kind: 'csv' | 'xlsx'
  encoding: TextEncoding | null
  rows: RawRow[]
  /** The last line of the sheet, when rows without values are left out of `rows`. */
  lastLine?: number
}

function fileError(messageKey: string, params: Record<string, string | number> = {}, details?: FieldError[]): AppError {
  return new AppError('validation_failed', messageKey, params, details)
}

/**
 * Excel on Thai Windows saves plain "CSV" as Windows-874 and "CSV UTF-8" with a BOM; "Unicode
 * Text" is UTF-16. Text that is valid UTF-8 is UTF-8 (Windows-874 Thai never is: its lead bytes
 * A1–FB are not followed by continuation bytes), anything else is Windows-874.
 */
export function decodeText(buf: Buffer): { text: string; encoding: TextEncoding } {
  if (buf[0] === 0xff && buf[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(buf), encoding: 'utf-16le' }
  if (buf[0] === 0xfe && buf[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(buf), encoding: 'utf-16be' }
  const bom = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf), encoding: bom ? 'utf-8-bom' : 'utf-8' }
  } catch {
    return { text: new TextDecoder('windows-874').decode(buf), encoding: 'windows-874' }
  }
}

/** Comma, semicolon or tab: whichever the first line has most of outside quotes. */
function sniffDelimiter(text: string): string {
  const firstLine = /^[^\r\n]*/.exec(text.slice(0, 64 * 1024).replace(/"[^"]*"/g, ''))?.[0] ?? ''
  const counts = [',', ';', '\t'].map((d) => [d, firstLine.split(d).length - 1] as const)
  const best = counts.reduce((a, b) => (b[1] > a[1] ? b : a))
  return best[1] > 0 ? best[0] : ','
}

function* slices(text: string, size: number): Generator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size)
}

function isEmptyRow(cells: Cell[]): boolean {
  return cells.every((c) => c === null || (typeof c === 'string' && c.trim() === ''))
}

function tooManyRows(): AppError {
  return fileError('assetImport.tooManyRows', { max: IMPORT_MAX_ROWS.toLocaleString('en-US') })
}

/** Stops reading once a file has clearly more rows than the limit, so that a huge file costs little. */
const READ_LIMIT = IMPORT_MAX_ROWS + HEADER_SEARCH_ROWS + 1

async function readCsv(buf: Buffer): Promise<RegisterTable> {
  const { text, encoding } = decodeText(buf)
  // The parser is fed 16 KB at a time, so that it never parses much at one go.
  const parser = parseCsv({ delimiter: sniffDelimiter(text), relax_column_count: true, skip_empty_lines: false, bom: true })
  const source = Readable.from(slices(text, 16 * 1024))
  source.pipe(parser)
  const rows: RawRow[] = []
  let line = 0
  let filled = 0
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      line++
      // Async iteration alone never leaves the microtask queue: give other requests a turn.
      if (line % READ_CHUNK === 0) await yieldToEventLoop()
      // A cell that the export neutralised against formula injection ('=…) reads back as typed.
      const cells = record.map((c) => (/^'[=+\-@\t\r]/.test(c) ? c.slice(1) : c))
      if (isEmptyRow(cells)) {
        rows.push({ line, cells: [] })
        continue
      }
      rows.push({ line, cells })
      if (++filled > READ_LIMIT) {
        source.destroy()
        parser.destroy()
        throw tooManyRows()
      }
    }
  } catch (e) {
    if (e instanceof CsvError) throw fileError('assetImport.badCsv', { line: (e as CsvError & { lines?: number }).lines ?? line + 1 })
    throw e
  }
  return { kind: 'csv', encoding, rows }
}

type ExcelValue = ExcelJS.CellValue | undefined

/** exceljs cell values (rich text, formulas, hyperlinks, errors) to plain values. */
function plainCell(v: ExcelValue): Cell {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v
  if (typeof v === 'object') {
    if ('richText' in v && Array.isArray(v.richText)) return v.richText.map((r) => r.text).join('')
    if ('formula' in v || 'sharedFormula' in v) return plainCell((v as { result?: ExcelValue }).result)
    if ('hyperlink' in v) return plainCell((v as { text?: ExcelValue }).text)
    if ('error' in v) return String((v as { error: unknown }).error)
  }
  return null
}

/**
 * An XLSX is a ZIP, and a ZIP may say anything about its sizes: a 2 MB file can unpack to 2 GB.
 * Bytes are counted as they are inflated (the sizes the file declares are only a first check),
 * and reading stops at this bound, at the row limit, or at whichever comes first. A register at
 * the row limit unpacks to some 20 MB (bench: 20,000 rows of 13 Thai columns).
 */
export const XLSX_MAX_UNPACKED_BYTES = 64 * 1024 * 1024
/**
 * Spreadsheet XML compresses some 10 to 100 times; a part that compresses more than this is
 * refused before a byte of it is inflated (deflate goes up to about 1,000).
 */
const XLSX_MAX_RATIO = 250
/** Parts smaller than this are never refused for their ratio: a near-empty sheet compresses well. */
const XLSX_RATIO_FLOOR = 1024 * 1024

/** The parts of a workbook the import inflates; the others (images, themes, printer settings) it never opens. */
const XLSX_PARTS_READ = /^xl\/(_rels\/workbook\.xml\.rels|workbook\.xml|sharedStrings\.xml|styles\.xml|worksheets\/sheet\d+\.xml)$/

function unpackedTooLarge(): AppError {
  return new AppError('payload_too_large', 'assetImport.unpackedTooLarge', { mb: XLSX_MAX_UNPACKED_BYTES / 1024 / 1024 })
}

/**
 * exceljs's streaming WorkbookReader (4.x) parses each part of a workbook as the ZIP's entries
 * come; a sheet that comes before the shared strings — as in every file Excel or our own export
 * writes — is first inflated whole into a temporary file, before a row is read. Its parsers are
 * therefore fed here in the order they need, straight from the central directory, so that the
 * sheet streams into the row loop and the limits apply while it is read. These are the methods
 * `WorkbookReader.parse()` itself calls; the XLSX import tests hold them.
 */
interface WorkbookReaderParts {
  _parseRels(entry: Readable): Promise<void>
  _parseWorkbook(entry: Readable): Promise<void>
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>
  _parseStyles(entry: Readable): Promise<void>
  _parseWorksheet(chunks: AsyncIterable<Buffer>, sheetNo: string): Generator<{ eventType: string; value: AsyncIterable<ExcelJS.Row> }>
  model?: { sheets?: Array<{ rId?: string }> }
  workbookRels?: Array<{ Id?: string; Target?: string }>
}

/** The inflated bytes of one entry, counted against the budget of the whole file. */
async function* countedBytes(file: CentralDirectoryFile, budget: { left: number }): AsyncGenerator<Buffer> {
  const stream = file.stream()
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      budget.left -= chunk.length
      if (budget.left < 0) throw unpackedTooLarge()
      yield chunk
    }
  } finally {
    stream.destroy()
  }
}

/**
 * A register has a dozen columns; the import reads the first 256. A cell far to the right
 * (column XFD is 16,384) would otherwise make every row that wide.
 */
const XLSX_MAX_COLUMNS = 256

/** A row's cells from the first column, up to its last value within XLSX_MAX_COLUMNS. */
function rowCells(row: ExcelJS.Row): Cell[] {
  const cells: Cell[] = []
  const values = row.values as ExcelValue[] // 1-based and sparse; index 0 is empty
  if (!Array.isArray(values)) return cells
  values.forEach((v, col) => {
    if (col < 1 || col > XLSX_MAX_COLUMNS) return
    const cell = plainCell(v)
    if (cell === null) return
    while (cells.length < col - 1) cells.push(null)
    cells[col - 1] = cell
  })
  return cells
}

/** Sheets in the workbook's own order (its first sheet may be a cover), then any others by number. */
function sheetFiles(files: CentralDirectoryFile[], reader: WorkbookReaderParts): CentralDirectoryFile[] {
  const sheets = files.filter((f) => XLSX_PARTS_READ.test(f.path) && f.path.startsWith('xl/worksheets/'))
  const byNumber = (f: CentralDirectoryFile) => Number(/(\d+)\.xml$/.exec(f.path)![1])
  sheets.sort((a, b) => byNumber(a) - byNumber(b))
  const ordered: CentralDirectoryFile[] = []
  for (const sheet of reader.model?.sheets ?? []) {
    const target = reader.workbookRels?.find((r) => r.Id === sheet.rId)?.Target?.replace(/^\/?(xl\/)?/, 'xl/')
    const file = sheets.find((f) => f.path === target)
    if (file && !ordered.includes(file)) ordered.push(file)
  }
  return [...ordered, ...sheets.filter((f) => !ordered.includes(f))]
}

async function readXlsx(buf: Buffer): Promise<RegisterTable> {
  const Excel = await loadExcelJS()
  const { default: unzipper } = await import('unzipper')
  let files: CentralDirectoryFile[]
  try {
    files = (await unzipper.Open.buffer(buf)).files
  } catch {
    throw fileError('assetImport.unreadable')
  }
  // What the file declares of the parts read: one bigger than the bound, or compressed beyond
  // reason, is a bomb. A sheet may declare more: it is read only up to the row limit.
  for (const f of files) {
    if (!XLSX_PARTS_READ.test(f.path)) continue
    const sheet = f.path.startsWith('xl/worksheets/')
    if (!sheet && f.uncompressedSize > XLSX_MAX_UNPACKED_BYTES) throw unpackedTooLarge()
    if (f.uncompressedSize > XLSX_RATIO_FLOOR && f.uncompressedSize > XLSX_MAX_RATIO * Math.max(f.compressedSize, 1)) throw unpackedTooLarge()
  }
  const part = (path: string) => files.find((f) => f.path === path)
  const budget = { left: XLSX_MAX_UNPACKED_BYTES }
  const reader = new Excel.stream.xlsx.WorkbookReader(Readable.from([]), {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache', // a number styled as a date reads as a Date
    hyperlinks: 'ignore',
    entries: 'ignore',
  }) as unknown as WorkbookReaderParts
  const rows: RawRow[] = []
  let lastLine = 0
  try {
    const rels = part('xl/_rels/workbook.xml.rels')
    const book = part('xl/workbook.xml')
    if (!rels || !book) throw fileError('assetImport.unreadable')
    await reader._parseRels(Readable.from(countedBytes(rels, budget)))
    await reader._parseWorkbook(Readable.from(countedBytes(book, budget)))
    const shared = part('xl/sharedStrings.xml')
    if (shared) for await (const _ of reader._parseSharedStrings(Readable.from(countedBytes(shared, budget))));
    const styles = part('xl/styles.xml')
    if (styles) await reader._parseStyles(Readable.from(countedBytes(styles, budget)))

    // The first sheet with anything on it: a workbook may open on an empty cover sheet.
    for (const file of sheetFiles(files, reader)) {
      const sheetNo = /(\d+)\.xml$/.exec(file.path)![1]!
      for (const { value: sheet } of reader._parseWorksheet(countedBytes(file, budget), sheetNo)) {
        let filled = 0
        for await (const row of sheet) {
          // A row's number is optional in the format; one without follows the row before it.
          const line = Number.isSafeInteger(row.number) && row.number > 0 ? row.number : lastLine + 1
          lastLine = Math.max(lastLine, line)
          const cells = rowCells(row)
          if (isEmptyRow(cells)) continue
          rows.push({ line, cells })
          if (++filled > READ_LIMIT) throw tooManyRows()
          if (filled % READ_CHUNK === 0) await yieldToEventLoop()
        }
      }
      if (rows.length > 0) break
      lastLine = 0
    }
  } catch (e) {
    // exceljs may wrap what a part's stream threw; an exhausted budget is still the reason.
    if (budget.left < 0) throw unpackedTooLarge()
    if (e instanceof AppError) throw e
    throw fileError('assetImport.unreadable')
  }
  if (rows.length === 0) throw fileError('assetImport.empty')
  // Only rows with values are kept; the empty ones between and after them are counted by line.
  return { kind: 'xlsx', encoding: null, rows, lastLine }
}

/** CSV or XLSX by content: an XLSX is a ZIP; an old binary .xls is refused with what to do instead. */
export async function readRegisterFile(buf: Buffer, fileName: string): Promise<RegisterTable> {
  if (buf.length === 0) throw fileError('assetImport.empty')
  if (buf.length > IMPORT_MAX_BYTES) throw new AppError('payload_too_large', 'assetImport.fileTooLarge', { mb: IMPORT_MAX_BYTES / 1024 / 1024 })
  const zip = buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04
  const ole = buf[0] === 0xd0 && buf[1] === 0xcf && buf[2] === 0x11 && buf[3] === 0xe0
  if (ole || (/\.xls$/i.test(fileName) && !zip)) throw fileError('assetImport.xlsNotSupported')
  if (zip) return readXlsx(buf)
  const head = buf.subarray(0, 4096)
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)
  if (!utf16 && head.includes(0)) throw fileError('assetImport.unreadable')
  return readCsv(buf)
}

// ---- the header row

export interface HeaderMap {
  /** Index of the header row in the table's rows. */
  rowIndex: number
  line: number
  /** For each field, the column indexes that fill it (several only for joined fields). */
  columns: Partial<Record<RegisterField, number[]>>
  /** Headers the import does not read, as written. */
  ignored: string[]
}

function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return ''
  if (c instanceof Date) return Number.isNaN(c.getTime()) ? '' : c.toISOString().slice(0, 10)
  return String(c).trim()
}

/** Maps one row of headers; `missing` names the required fields no header stands for. */
export function mapHeaders(cells: Cell[]): { columns: HeaderMap['columns']; ignored: string[]; missing: RegisterField[]; duplicate?: { field: RegisterField; headers: string[] } } {
  const columns: HeaderMap['columns'] = {}
  const ignored: string[] = []
  let duplicate: { field: RegisterField; headers: string[] } | undefined
  cells.forEach((c, i) => {
    const header = cellText(c)
    if (!header) return
    const field = fieldOfHeader(header)
    if (!field) {
      ignored.push(header)
      return
    }
    const list = (columns[field] ??= [])
    if (list.length > 0 && !JOINED_FIELDS.includes(field) && !duplicate) duplicate = { field, headers: [...list.map((j) => cellText(cells[j])), header] }
    list.push(i)
  })
  const missing = REQUIRED_FIELDS.filter((f) => !columns[f])
  return { columns, ignored, missing, ...(duplicate ? { duplicate } : {}) }
}

/**
 * The header row: the first of the top rows that names every required column (a register often
 * has a title line above it). Without one, a file-level error names the columns missing from
 * the likeliest row and the headers that were found.
 */
export function findHeaderRow(table: RegisterTable): HeaderMap {
  let best: { index: number; mapped: number; result: ReturnType<typeof mapHeaders> } | undefined
  let seen = 0
  for (let i = 0; i < table.rows.length && seen < HEADER_SEARCH_ROWS; i++) {
    const row = table.rows[i]!
    if (row.cells.length === 0) continue
    seen++
    const result = mapHeaders(row.cells)
    if (result.missing.length === 0) {
      if (result.duplicate) {
        throw fileError('assetImport.duplicateColumn', { headers: result.duplicate.headers.map((h) => `«${h}»`).join(', ') }, [
          { field: result.duplicate.field, message: `assetImport.col.${result.duplicate.field}` },
        ])
      }
      return { rowIndex: i, line: row.line, columns: result.columns, ignored: result.ignored }
    }
    const mapped = Object.keys(result.columns).length
    if (!best || mapped > best.mapped) best = { index: i, mapped, result }
  }
  if (!best) throw fileError('assetImport.empty')
  const found = table.rows[best.index]!.cells.map(cellText).filter(Boolean)
  throw fileError(
    'assetImport.missingColumns',
    { found: found.map((h) => `«${h}»`).join(', ') },
    best.result.missing.map((f) => ({ field: f, message: `assetImport.col.${f}` })),
  )
}

// ---- checking the rows

export interface RowError {
  field: RegisterField | 'row'
  message: string
  params?: Record<string, string | number>
}

export interface PreviewRow {
  line: number
  /** What the file says, as text, for the fields it has. */
  values: Partial<Record<RegisterField, string>>
  errors: RowError[]
  /** The input for assetInputSchema, for a row without errors. */
  input?: Record<string, unknown>
}

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

interface Lookups {
  category(text: string): { ok: true; row: CategoryRow } | { ok: false; ambiguous: boolean }
  department(text: string): { ok: true; row: DepartmentRow } | { ok: false; ambiguous: boolean }
}

function indexBy<T>(rows: T[], keys: (r: T) => string[]): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const r of rows) {
    for (const k of new Set(keys(r))) {
      if (!k) continue
      const list = out.get(k) ?? []
      list.push(r)
      out.set(k, list)
    }
  }
  return out
}

function lookup<T>(index: Map<string, T[]>, key: string): { ok: true; row: T } | { ok: false; ambiguous: boolean } {
  const found = index.get(key) ?? []
  if (found.length === 1) return { ok: true, row: found[0]! }
  return { ok: false, ambiguous: found.length > 1 }
}

/** Categories by code or Thai name with or without «ครุภัณฑ์»; departments by code or name. */
export async function loadLookups(ctx: AppContext): Promise<Lookups> {
  const cats = indexBy(await categories.listAll(ctx.db), (c) => [nameKey(c.code), categoryKey(c.name)])
  const deps = indexBy(await departments.listAll(ctx.db), (d) => [nameKey(d.code), nameKey(d.name)])
  return {
    category: (text) => lookup(cats, categoryKey(text)),
    department: (text) => lookup(deps, nameKey(text)),
  }
}

/** The schema's field names, as the file's columns. */
const SCHEMA_FIELD: Record<string, RegisterField> = { categoryId: 'category', departmentId: 'department' }

/** Excel's day 0 is 1899-12-30 (it counts 1900 as a leap year). */
function excelSerialToDate(serial: number): Date {
  return new Date(Date.UTC(1899, 11, 30) + Math.floor(serial) * 86_400_000)
}

function displayValue(c: Cell): string {
  if (c instanceof Date) {
    const d = dateFromCell(c)
    return d.ok ? formatDate(d.value, { locale: 'th', style: 'numeric' }) : ''
  }
  return cellText(c)
}

/** An XLSX number with float noise (1234.5600000001) is the price it shows; one with more decimals stays wrong. */
function priceFromNumber(n: number): string | number {
  const cents = Math.round(n * 100)
  return Math.abs(n * 100 - cents) < 1e-6 ? (cents / 100).toFixed(2) : n
}

function integerInput(c: Cell, text: string): number | string | null {
  if (typeof c === 'number') return c
  if (text === '') return null
  return /^\d{1,9}$/.test(text) ? Number(text) : text
}

/**
 * One row to the input of createAsset's schema, with the import's own checks (category and
 * department by name, Thai dates, yes/no words) before it; the schema's rules decide the rest.
 */
export function checkRow(row: RawRow, map: HeaderMap, lookups: Lookups): PreviewRow {
  const raw = (f: RegisterField): Cell[] => (map.columns[f] ?? []).map((i) => row.cells[i] ?? null)
  const values: PreviewRow['values'] = {}
  const text = (f: RegisterField): string => {
    const t = raw(f)
      .map(displayValue)
      .filter((s) => s !== '')
      .join(' ')
    if (t) values[f] = t
    return isNoValue(t) ? '' : t
  }
  const errors: RowError[] = []
  const input: Record<string, unknown> = {
    code: text('code'),
    name: text('name'),
    brandModel: text('brandModel'),
    serialNumber: text('serialNumber'),
    location: text('location'),
    fundingSource: text('fundingSource'),
    notes: text('notes'),
    departmentId: null,
    acquiredOn: null,
    price: null,
    usefulLifeYears: integerInput(raw('usefulLifeYears')[0] ?? null, text('usefulLifeYears')),
    maxLoanDays: integerInput(raw('maxLoanDays')[0] ?? null, text('maxLoanDays')),
  }

  const category = text('category')
  if (category) {
    const c = lookups.category(category)
    if (c.ok) input.categoryId = c.row.id
    else errors.push({ field: 'category', message: 'assetImport.row.unknownCategory', params: { value: category } })
  } else {
    errors.push({ field: 'category', message: 'validation.required' })
  }

  const department = text('department')
  if (department) {
    const d = lookups.department(department)
    if (d.ok) input.departmentId = d.row.id
    else errors.push({ field: 'department', message: d.ambiguous ? 'assetImport.row.ambiguousDepartment' : 'assetImport.row.unknownDepartment', params: { value: department } })
  }

  const dateCell = raw('acquiredOn')[0] ?? null
  const dateText = text('acquiredOn')
  if (dateText) {
    const parsed =
      dateCell instanceof Date
        ? dateFromCell(dateCell)
        : typeof dateCell === 'number' && Number.isInteger(dateCell) && dateCell > 0 && dateCell < 2_958_466
          ? dateFromCell(excelSerialToDate(dateCell))
          : parseRegisterDate(dateText)
    if (parsed.ok) input.acquiredOn = parsed.value
    else errors.push({ field: 'acquiredOn', message: 'assetImport.row.badDate', params: { value: dateText } })
  }

  const priceCell = raw('price')[0] ?? null
  const priceText = text('price')
  if (priceText) input.price = typeof priceCell === 'number' ? priceFromNumber(priceCell) : cleanPriceText(priceText)

  const loanCell = raw('loanable')[0] ?? null
  const loanText = text('loanable')
  if (typeof loanCell === 'boolean') input.loanable = loanCell
  else if (loanText) {
    const yes = parseYesNo(loanText)
    if (yes === undefined) errors.push({ field: 'loanable', message: 'assetImport.row.badLoanable', params: { value: loanText } })
    else input.loanable = yes
  }

  const result = assetInputSchema.safeParse(input)
  if (!result.success) {
    const already = new Set(errors.map((e) => e.field))
    for (const d of validationError(result.error).details ?? []) {
      const field = (SCHEMA_FIELD[d.field] ?? d.field) as RegisterField
      if (already.has(field)) continue
      already.add(field)
      if (field === 'price') errors.push({ field, message: 'assetImport.row.badPrice', params: { value: priceText } })
      else errors.push({ field, message: d.message, ...(d.params ? { params: d.params } : {}) })
    }
  }
  const out: PreviewRow = { line: row.line, values, errors }
  if (errors.length === 0) out.input = input
  return out
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
        const first = firstLineOf.get(code)
        if (first === undefined) firstLineOf.set(code, row.line)
        else markBad(row, { field: 'code', message: 'assetImport.row.duplicateInFile', params: { code, line: first } })
      }
      rows.push(row)
    }
    await yieldToEventLoop()
  }

  const taken = await assets.existingCodes(ctx.db, [...firstLineOf.keys()])
  if (taken.size > 0) {
    for (const row of rows) {
      const code = codeOf(row)
      if (code !== undefined && taken.has(code) && !row.errors.some((e) => e.message === 'assetImport.row.duplicateInFile')) {
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
  const lines = preview.rows.map((r) => ({ line: r.line, ok: r.errors.length === 0, data: JSON.stringify({ values: r.values, errors: r.errors, input: r.input }) }))
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

export async function getImportBatch(ctx: AppContext, userId: number, id: string, opts: { onlyBad: boolean; page: number; pageSize: number }): Promise<BatchView> {
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
      const taken = await assets.existingCodes(
        trx,
        rows.map((r) => r.data.code),
      )
      if (taken.size > 0) throw new AppError('conflict', 'assetImport.codesTakenMeanwhile', { codes: [...taken].slice(0, 5).join(', ') })
      for (const r of rows) {
        const row = await assets.insert(trx, { ...assetColumns(r.data, r.category), status: 'available', created_at: now, updated_at: now }, bangkokDate(ctx.clock.now()))
        const { id: assetId, created_at: _c, updated_at: _u, ...stored } = row
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
