import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** Poppler's pdftotext (Debian poppler-utils, installed by .ci/run). */
export const PDFTOTEXT = '/usr/bin/pdftotext'

export interface PdfWord {
  text: string
  xMin: number
  yMin: number
  xMax: number
  yMax: number
}

export interface PdfRead {
  pages: Array<{ width: number; height: number; words: PdfWord[] }>
  text: string
}

/** Poppler's reading of a PDF: each page's size and every word's box, in points, and the plain text. */
export function pdfWords(pdf: Buffer): PdfRead {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-pdf-'))
  try {
    const file = path.join(dir, 'doc.pdf')
    fs.writeFileSync(file, pdf)
    const html = execFileSync(PDFTOTEXT, ['-bbox', file, '-'], { encoding: 'utf8', maxBuffer: 64 << 20 })
    const text = execFileSync(PDFTOTEXT, [file, '-'], { encoding: 'utf8', maxBuffer: 64 << 20 })
    const pages = html
      .split('<page ')
      .slice(1)
      .map((chunk) => {
        const [, width, height] = /width="([\d.]+)" height="([\d.]+)"/.exec(chunk)!.map(Number)
        const words = [...chunk.matchAll(/<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<\/word>/g)].map((m) => ({
          xMin: Number(m[1]),
          yMin: Number(m[2]),
          xMax: Number(m[3]),
          yMax: Number(m[4]),
          text: m[5]!,
        }))
        return { width: width!, height: height!, words }
      })
    return { pages, text }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
