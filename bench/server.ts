/**
 * The benchmark's server process: the real `serve()` of server/main.ts on the benchmark's database
 * copy, forked by bench/run.ts with an IPC channel. It tells the parent its URL once listening, and
 * answers memory questions (the parent also reads /proc/<pid>/status itself where it can).
 *
 * Environment: DATABASE_PATH (with DATABASE_URL on PostgreSQL) and the usual server variables (set by bench/run.ts).
 * Profile it with BENCH_PROFILE=1 (the parent adds --cpu-prof; profiles land in bench/.cache/profiles).
 */
import { pino } from 'pino'
import { openDatabase } from '../db/connection.js'
import { migrateToLatest } from '../db/migrator.js'
import { systemClock } from '../server/clock.js'
import { loadConfig } from '../server/config.js'
import type { AppContext } from '../server/context.js'
import { serve } from '../server/main.js'
import { anchorFromConfig, startAnchoring } from '../server/services/audit-anchor.service.js'

type Ask = { type: 'memory'; reset?: boolean; gc?: boolean } | { type: 'stop' }

async function main(): Promise<void> {
  const config = loadConfig(process.env)
  const handle = openDatabase(config)
  const ctx: AppContext = { db: handle.db, clock: systemClock, config, logger: pino({ level: config.logLevel }), anchor: anchorFromConfig(config) }
  await migrateToLatest(handle.db)
  // As npm start does: every commit's chain head goes to the anchor log (its cost is part of what is measured).
  if (ctx.anchor) await startAnchoring(ctx.db, ctx.anchor, ctx.clock)

  // RSS sampled here as well, for systems without /proc (the parent prefers VmHWM).
  let peak = process.memoryUsage().rss
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 25)
  sampler.unref()

  process.on('message', (m: Ask) => {
    if (m.type === 'memory') {
      // With --expose-gc, a full collection first: what the heap really holds.
      const gc = (globalThis as { gc?: () => void }).gc
      if (m.gc && gc) gc()
      const rss = process.memoryUsage().rss
      peak = Math.max(peak, rss)
      const cpu = process.cpuUsage()
      process.send?.({ type: 'memory', rss, peak, cpuMs: (cpu.user + cpu.system) / 1000, usage: process.memoryUsage() })
      if (m.reset) peak = rss
    } else if (m.type === 'stop') {
      process.kill(process.pid, 'SIGTERM') // serve()'s own clean stop
    }
  })
  await serve(ctx, handle, { label: 'Yuemkhuen bench', onListening: (url) => process.send?.({ type: 'listening', url }) })
}

main().catch((e: unknown) => {
  process.stderr.write(`bench server failed: ${e instanceof Error ? e.stack : String(e)}\n`)
  process.exit(1)
})
