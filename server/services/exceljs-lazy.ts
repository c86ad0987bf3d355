import type ExcelJS from 'exceljs'

/**
 * exceljs and its zip libraries hold some 27 MB once loaded; every server paid that at start-up
 * for a spreadsheet most days never see (bench/, issue 7). It loads on the first XLSX instead.
 */
let loading: Promise<typeof ExcelJS> | undefined

export function loadExcelJS(): Promise<typeof ExcelJS> {
  loading ??= import('exceljs').then((m) => m.default)
  return loading
}
