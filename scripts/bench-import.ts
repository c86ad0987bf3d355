/**
 * How long a register import takes and how long it holds up other work.
 *
 *   npx tsx scripts/bench-import.ts [rows=5000] [csv|xlsx]
 *
 * Builds a register file of that many rows in memory, previews and confirms it against a fresh
 * database in a temporary file (WAL, as in production), and reports the wall time of each step
 * and the longest stretch in which the event loop could not serve anything else.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import ExcelJS from 'exceljs'
import { pino } from 'pino'
import { openDb } from '../db/connection.js'
import { migrateToLatest } from '../db/migrator.js'
import { systemClock } from '../server/clock.js'
import { loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { confirmImport, startImport } from '../server/services/asset-import.service.js'
import { registerCsv } from '../server/services/asset-export.service.js'

const rows = Number(process.argv[2] ?? 5000)
const kind = process.argv[3] === 'xlsx' ? 'xlsx' : 'csv'

function header(): string[] {
  return ['ลำดับ', 'หมายเลขครุภัณฑ์', 'รายการ', 'ประเภท', 'ยี่ห้อ/รุ่น', 'หมายเลขเครื่อง', 'หน่วยงาน', 'สถานที่ตั้ง', 'วันที่ได้มา', 'ราคาต่อหน่วย', 'แหล่งเงิน', 'ให้ยืม', 'หมายเหตุ']
}

function row(i: number): string[] {
  return [
    String(i),
    `416-66-${String(i).padStart(5, '0')}`,
    `โต๊ะทำงานเหล็ก ${i}`,
    i % 2 ? 'ครุภัณฑ์สำนักงาน' : 'คอมพิวเตอร์',
    'Acer',
    `SN${i}`,
    'กองคลัง',
    `ห้อง ${i % 20}`,
    `${(i % 28) + 1}/${(i % 12) + 1}/2566`,
    '7,900.00',
    'งบประมาณ',
    'ได้',
    '',
  ]
}

async function buildFile(): Promise<Buffer> {
  if (kind === 'xlsx') {
    const wb = new ExcelJS.Workbook()
    const ws = wb.addWorksheet('ทะเบียน')
    ws.addRow(header())
    for (let i = 1; i <= rows; i++) ws.addRow(row(i))
    return Buffer.from(await wb.xlsx.writeBuffer())
  }
  const quote = (c: string) => (/[",]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)
  const text = [header(), ...Array.from({ length: rows }, (_, i) => row(i + 1))].map((r) => r.map(quote).join(',')).join('\r\n')
  return Buffer.from(`\ufeff${text}\r\n`, 'utf8')
}

/** The longest gap between two 1 ms timer ticks while `fn` runs: how long others would wait. */
async function measure<T>(label: string, fn: () => Promise<T>): Promise<T> {
  let worst = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 1)
  const started = performance.now()
  try {
    return await fn()
  } finally {
    clearInterval(timer)
    worst = Math.max(worst, performance.now() - last)
    console.log(`${label.padEnd(24)} ${(performance.now() - started).toFixed(0).padStart(6)} ms   longest event-loop stall ${worst.toFixed(0)} ms`)
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-bench-'))
  const handle = openDb(path.join(dir, 'bench.db'))
  try {
    await migrateToLatest(handle.db)
    const ctx: AppContext = {
      db: handle.db,
      clock: systemClock,
      config: loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: 'http://localhost' }),
      logger: pino({ level: 'silent' }),
    }
    const user = await handle.db
      .insertInto('app_user')
      .values({
        username: 'bench',
        name: 'bench',
        position: '',
        department_id: null,
        borrower_type: 'employee',
        phone: '',
        password_hash: 'x',
        locale: 'th',
        created_at: '',
        updated_at: '',
        password_changed_at: '',
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    // A first, small import warms the code up, as a running server already is.
    const warm = await startImport(ctx, user.id, { name: 'warm.csv', data: Buffer.from(`\ufeffcode,name,category\r\nWARM-1,x,office\r\n`) })
    await confirmImport(ctx, { id: user.id, label: 'bench' }, warm)
    const file = await buildFile()
    console.log(`${rows} rows, ${kind}, ${(file.length / 1024).toFixed(0)} KB`)
    const id = await measure('preview (read + check)', () => startImport(ctx, user.id, { name: `bench.${kind}`, data: file }))
    const { imported } = await measure('confirm (one transaction)', () => confirmImport(ctx, { id: user.id, label: 'bench' }, id))
    await measure('export CSV', async () => {
      let bytes = 0
      for await (const chunk of registerCsv(ctx, {})) bytes += chunk.length
      return bytes
    })
    console.log(`imported ${imported}`)
  } finally {
    await handle.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

await main()
