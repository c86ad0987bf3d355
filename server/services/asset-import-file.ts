import { Readable } from 'node:stream'
import { parse as parseCsv, CsvError } from 'csv-parse'
import type ExcelJS from 'exceljs'
import type { CentralDirectoryFile } from 'unzipper'
import { loadExcelJS } from './exceljs-lazy.js'
import { AppError, type FieldError } from '../errors.js'
import { fieldOfHeader, JOINED_FIELDS, REQUIRED_FIELDS, type RegisterField } from '../i18n/register-file.js'

/**
 * Reading a register file (CSV in any of the encodings Thai offices save, or XLSX, within limits
 * that keep a hostile file cheap) into rows of cells, and finding its header row. No database:
 * asset-import-rows.ts checks the rows, asset-import.service.ts keeps and confirms the batch.
 */

/** Limits a person is told about on the upload page. */
export const IMPORT_MAX_BYTES = 10 * 1024 * 1024
export const IMPORT_MAX_ROWS = 20_000
/**
 * Rows read between two turns of the event loop, so that other requests are served meanwhile
 * (each chunk takes a few milliseconds once the code is warm).
 */
const READ_CHUNK = 200
/** A title or a blank line may stand above the header row; it is looked for this far down. */
const HEADER_SEARCH_ROWS = 10

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

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

export function fileError(messageKey: string, params: Record<string, string | number> = {}, details?: FieldError[]): AppError {
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

export function tooManyRows(): AppError {
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
      const cells = record.map((c) => (/^'[=+\-@\t\r＝＋－＠]/.test(c) ? c.slice(1) : c))
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

export function cellText(c: Cell | undefined): string {
  if (c === null || c === undefined) return ''
  if (c instanceof Date) return Number.isNaN(c.getTime()) ? '' : c.toISOString().slice(0, 10)
  return String(c).trim()
}

/** Maps one row of headers; `missing` names the required fields no header stands for. */
export function mapHeaders(cells: Cell[]): {
  columns: HeaderMap['columns']
  ignored: string[]
  missing: RegisterField[]
  duplicate?: { field: RegisterField; headers: string[] }
} {
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
