import fs from 'node:fs'
import { Readable } from 'node:stream'
import ExcelJS from 'exceljs'
import JSZip from 'jszip'
import { THAI_HEADER } from './register-files.js'

/**
 * Files that a careful attacker (or an unlucky export) uploads to the register import: built
 * here, on disk or in memory, with the libraries exceljs itself writes XLSX with.
 */

/** A register of `rows` rows written by exceljs's streaming writer (inline strings, as our export). */
export async function writeHugeRegister(file: string, rows: number): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false })
  const ws = wb.addWorksheet('ทะเบียน')
  ws.addRow(THAI_HEADER).commit()
  for (let i = 1; i <= rows; i++) {
    ws.addRow([i, `H-${i}`, `โต๊ะ ${i}`, 'office', '', '', '', '', '', 7900, '', 'ได้', '']).commit()
    // The writer is synchronous per row; give its file stream a turn now and then.
    if (i % 5000 === 0) await new Promise<void>((resolve) => setImmediate(resolve))
  }
  ws.commit()
  await wb.commit()
}

/** `count` chunks of `chunk` as a stream, so that a big part is never one string in memory. */
function repeated(prefix: string, chunk: string, count: number, suffix: string): Readable {
  return Readable.from(
    (function* () {
      yield Buffer.from(prefix)
      const buf = Buffer.from(chunk)
      for (let i = 0; i < count; i++) yield buf
      yield Buffer.from(suffix)
    })(),
  )
}

/** A small real workbook whose first sheet is replaced by `sheet` (the rest of the parts stay valid). */
async function withSheet(sheet: Readable): Promise<Buffer> {
  const wb = new ExcelJS.Workbook()
  wb.addWorksheet('ทะเบียน').addRow(THAI_HEADER)
  const zip = await JSZip.loadAsync(Buffer.from(await wb.xlsx.writeBuffer()))
  zip.file('xl/worksheets/sheet1.xml', sheet)
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE', compressionOptions: { level: 9 }, streamFiles: true })
}

const SHEET_HEAD =
  '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
const SHEET_TAIL = '</sheetData></worksheet>'

/** A zip bomb: a sheet of `mb` MB of one repeated character, which deflates about a thousandfold. */
export function zipBomb(mb: number): Promise<Buffer> {
  return withSheet(repeated(`${SHEET_HEAD}<row r="1"><c r="A1" t="inlineStr"><is><t>`, 'A'.repeat(1024 * 1024), mb, `</t></is></c></row>${SHEET_TAIL}`))
}

/**
 * The same file with the sizes its central directory declares for `part` rewritten to `size`:
 * a ZIP may lie, and nothing in the format makes an inflater stop where the header said.
 */
export function lyingAboutSize(zip: Buffer, part: string, size: number): Buffer {
  const out = Buffer.from(zip)
  const name = Buffer.from(part)
  const signature = Buffer.from([0x50, 0x4b, 0x01, 0x02]) // a central directory record
  for (let at = out.indexOf(signature); at !== -1; at = out.indexOf(signature, at + 4)) {
    const nameLength = out.readUInt16LE(at + 28)
    if (out.subarray(at + 46, at + 46 + nameLength).equals(name)) {
      out.writeUInt32LE(size, at + 24)
      return out
    }
  }
  throw new Error(`${part} is not in the central directory`)
}

export function fileSizeMb(file: string): number {
  return fs.statSync(file).size / 1024 / 1024
}
