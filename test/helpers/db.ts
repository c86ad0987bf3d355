import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { openDb, type OpenDb } from '../../db/connection.js'
import { migrateToLatest } from '../../db/migrator.js'
import { fixedClock, type Clock } from '../../server/clock.js'
import { loadConfig, type Config } from '../../server/config.js'
import type { AppContext } from '../../server/context.js'
import { setHashCostForTests } from '../../server/services/password.js'

// Hundreds of users are created across the suite; a cheap scrypt keeps it quick. Stored hashes carry their cost.
setHashCostForTests(1024)

export interface TestContext extends AppContext {
  clock: ReturnType<typeof fixedClock>
  handle: OpenDb
  close(): Promise<void>
}

/** A fresh in-memory database built by the real migrations. */
export async function createTestDb(file = ':memory:'): Promise<OpenDb> {
  const handle = openDb(file)
  await migrateToLatest(handle.db)
  return handle
}

export async function createTestContext(opts: { now?: string; env?: Record<string, string>; file?: string } = {}): Promise<TestContext> {
  const handle = await createTestDb(opts.file)
  // Each context keeps its attachments in its own temporary folder (made on first upload, removed on close).
  const attachmentsDir = path.join(os.tmpdir(), `yk-attachments-${randomUUID()}`)
  const config: Config = loadConfig({ NODE_ENV: 'test', PUBLIC_BASE_URL: 'https://yk.example.go.th', ATTACHMENTS_DIR: attachmentsDir, ...opts.env })
  const clock = fixedClock(opts.now ?? '2025-01-15T03:00:00.000Z')
  const close = async () => {
    await handle.close()
    fs.rmSync(config.attachmentsDir, { recursive: true, force: true })
  }
  return { db: handle.db, clock, config, logger: pino({ level: 'silent' }), handle, close }
}

export type { Clock }
