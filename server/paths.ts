import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The project root, found from this file whether it runs from server/ (tsx) or dist/server/. */
function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'views'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error('project root not found')
    dir = parent
  }
}

export const ROOT = findRoot()
export const VIEWS_DIR = path.join(ROOT, 'views')
export const PUBLIC_DIR = path.join(ROOT, 'public')
export const FONTS_DIR = path.join(ROOT, 'node_modules', '@fontsource', 'sarabun', 'files')
/** The QR decoder the scanner page falls back on where the browser has no BarcodeDetector. */
export const JSQR_FILE = path.join(ROOT, 'node_modules', 'jsqr', 'dist', 'jsQR.js')
