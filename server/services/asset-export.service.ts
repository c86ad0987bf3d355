import type { Writable } from 'node:stream'
import { loadExcelJS } from './exceljs-lazy.js'
import type { AssetStatus } from '../../db/schema.js'
import type { AppContext } from '../context.js'
import { translate } from '../i18n/index.js'
import { isAppError } from '../errors.js'
import { bangkokDate } from '../i18n/calendar.js'
import { excelCsv, type CsvCell } from '../lib/csv.js'
import { formatDate, formatSatang } from '../i18n/format.js'
import { EXPORT_HEADERS, EXPORT_ORDER, LOANABLE_WORDS } from '../i18n/register-file.js'
import { eachAsset, listAssets, type AssetListRow } from './asset.service.js'

/** The register page's filters (its query string), without paging. */
export interface ExportFilter {
  q?: string
  category?: string
  department?: string
  status?: AssetStatus
  loanable?: boolean
}

const CHUNK = 1000
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * The assets the register page would list for these filters, in code order, a chunk at a time.
 * The whole register walks eachAsset (keyset chunks); a filtered one pages through listAssets
 * itself, so that the export holds exactly the rows the page shows, whatever its search rules
 * become. An unknown category or department matches nothing, as on the page.
 */
export async function* registerRows(ctx: AppContext, f: ExportFilter): AsyncGenerator<AssetListRow[]> {
  const filtered = Boolean(f.q || f.category || f.department || f.status !== undefined || f.loanable !== undefined)
  if (!filtered) {
    for await (const chunk of eachAsset(ctx, CHUNK)) {
      yield chunk
      // The driver answers synchronously: without this a large export would hold the event loop.
      await yieldToEventLoop()
    }
    return
  }
  for (let page = 1; ; page++) {
    let items: AssetListRow[]
    try {
      ;({ items } = await listAssets(ctx, { ...f, page, pageSize: CHUNK }))
    } catch (e) {
      if (isAppError(e) && e.code === 'validation_failed') return
      throw e
    }
    if (items.length > 0) yield items
    if (items.length < CHUNK) return
    await yieldToEventLoop()
  }
}

type ExportCell = CsvCell

/** One asset as the export's cells: Thai words, a BE date as text, the price as a number of baht. */
function exportCells(a: AssetListRow): Record<(typeof EXPORT_ORDER)[number], ExportCell> {
  return {
    code: a.code,
    name: a.name,
    category: a.category_name,
    brandModel: a.brand_model,
    serialNumber: a.serial_number,
    department: a.department_name ?? '',
    location: a.location,
    acquiredOn: a.acquired_on ? formatDate(a.acquired_on, { locale: 'th', style: 'numeric' }) : '',
    price: a.price_satang === null ? null : a.price_satang / 100,
    usefulLifeYears: a.useful_life_years,
    fundingSource: a.funding_source,
    status: translate('th', `asset.status.${a.status}`),
    loanable: a.loanable === 1 ? LOANABLE_WORDS.yes : LOANABLE_WORDS.no,
    maxLoanDays: a.max_loan_days,
    notes: a.notes,
  }
}

const PRICE_COLUMN = EXPORT_ORDER.indexOf('price')

/** Prices leave with two decimals and no grouping, so that Excel reads a number; other numbers as they are. */
const csvNumber = (v: number, c: { column?: number | string }): string =>
  c.column === PRICE_COLUMN ? formatSatang(Math.round(v * 100)).replace(/,/g, '') : String(v)

function csvRows(rows: readonly ExportCell[][], bom: boolean): string {
  return excelCsv(rows, { bom, cast: { number: csvNumber } })
}

/** The BOM and the header line: also the import's template. */
export function registerCsvHeader(): string {
  return csvRows([EXPORT_ORDER.map((k) => EXPORT_HEADERS[k])], true)
}

/**
 * The register as CSV text chunks: UTF-8 with a BOM (Excel then opens Thai intact), CRLF,
 * Thai headers, one chunk per chunk of the register.
 */
export async function* registerCsv(ctx: AppContext, f: ExportFilter): AsyncGenerator<string> {
  yield registerCsvHeader()
  for await (const rows of registerRows(ctx, f)) {
    yield csvRows(
      rows.map((a) => {
        const cells = exportCells(a)
        return EXPORT_ORDER.map((k) => cells[k])
      }),
      false,
    )
  }
}

const COLUMN_WIDTHS: Partial<Record<(typeof EXPORT_ORDER)[number], number>> = {
  code: 18,
  name: 36,
  category: 24,
  department: 24,
  location: 20,
  acquiredOn: 12,
  price: 14,
  notes: 30,
}

/**
 * A date cell's number format in the Buddhist era: `[$-1070000]` is Excel's locale-and-calendar
 * prefix (calendar 07, Thai Buddhist; numerals 01, Arabic digits), the one Thai Excel itself writes
 * for its short date. Excel and LibreOffice then show 15/10/2567 for 2024-10-15, and the cell is still
 * a real date that sorts, filters and computes; the import reads it back as that day.
 */
export const BUDDHIST_DATE_FORMAT = '[$-1070000]d/mm/yyyy;@'

/** A 'YYYY-MM-DD' day as the date cell exceljs writes (UTC midnight is that day's serial). */
function dateCell(day: string | null): Date | null {
  return day ? new Date(`${day}T00:00:00.000Z`) : null
}

/**
 * The register as XLSX through exceljs's streaming writer: rows are committed as they come, so
 * a large register never sits whole in memory. Prices are numbers with a baht format; acquisition
 * dates real date cells shown in the Buddhist era.
 */
export async function writeRegisterXlsx(ctx: AppContext, f: ExportFilter, out: Writable): Promise<void> {
  const Excel = await loadExcelJS()
  const wb = new Excel.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false })
  const ws = wb.addWorksheet(translate('th', 'assets.title'), { views: [{ state: 'frozen', ySplit: 1 }] })
  ws.columns = EXPORT_ORDER.map((k) => ({ key: k, width: COLUMN_WIDTHS[k] ?? 16 }))
  const priceColumn = EXPORT_ORDER.indexOf('price') + 1
  const dateColumn = EXPORT_ORDER.indexOf('acquiredOn') + 1
  const header = ws.addRow(EXPORT_ORDER.map((k) => EXPORT_HEADERS[k]))
  header.font = { bold: true }
  header.commit()
  for await (const rows of registerRows(ctx, f)) {
    for (const a of rows) {
      const cells = exportCells(a)
      const row = ws.addRow(EXPORT_ORDER.map((k) => (k === 'acquiredOn' ? dateCell(a.acquired_on) : cells[k])))
      row.getCell(priceColumn).numFmt = '#,##0.00'
      if (a.acquired_on) row.getCell(dateColumn).numFmt = BUDDHIST_DATE_FORMAT
      row.commit()
    }
  }
  ws.commit()
  await wb.commit()
}

/** A file name with the date: ascii for old browsers, Thai for those that read filename*. */
export function exportFileName(ctx: AppContext, ext: 'csv' | 'xlsx'): { ascii: string; utf8: string } {
  const day = bangkokDate(ctx.clock.now())
  return { ascii: `assets-${day}.${ext}`, utf8: `${translate('th', 'assets.title')}-${day}.${ext}` }
}
