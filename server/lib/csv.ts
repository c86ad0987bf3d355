import { stringify, type Options } from 'csv-stringify/sync'

/** A CSV cell: text, a number, or empty (null). */
export type CsvCell = string | number | null

/**
 * Every CSV this application writes (asset register, loan register, reports, transparency) is
 * meant for Excel on Thai Windows:
 * - a UTF-8 BOM, without which Excel reads the Thai as Windows-874 mojibake;
 * - CRLF after every record, the last one included;
 * - RFC 4180 quoting: a field with `"`, `,`, CR or LF is quoted, `"` doubled. `quote_record_delimiter`
 *   must be said: with a `record_delimiter` given, csv-stringify would otherwise quote a lone LF or CR
 *   (a multi-line note) only when it is a whole CRLF, and Excel would split the row;
 * - `escape_formulas`: a text cell starting with = + - @ TAB or CR (or the full-width ＝ ＋ － ＠,
 *   which Apple Numbers folds to the ASCII ones) gets a leading apostrophe, so a spreadsheet shows
 *   it as text instead of running it (CSV/formula injection). Numbers are never touched, so −5 stays
 *   a number; the asset import takes the apostrophe off again.
 */
const EXCEL_CSV: Options = { bom: true, record_delimiter: '\r\n', quote_record_delimiter: true, escape_formulas: true }

/**
 * Rows as Excel-ready CSV text. `bom: false` is for the later chunks of a file written in pieces
 * (the first chunk carries the BOM). `cast` formats numbers differently (e.g. prices).
 */
export function excelCsv(rows: readonly (readonly CsvCell[])[], opts: { bom?: boolean; cast?: Options['cast'] } = {}): string {
  return stringify(rows as CsvCell[][], { ...EXCEL_CSV, bom: opts.bom ?? true, ...(opts.cast ? { cast: opts.cast } : {}) })
}
