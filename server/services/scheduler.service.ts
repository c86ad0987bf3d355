/**
 * The one scheduler of an agency (SPEC §8, issue 14): the timed work that changes data — today the
 * expiry of approved loans nobody collected, and the daily reminders of "what waits for me" (issue 18).
 * Reads never write: no page or API read runs any of this (queries show an approved loan past its
 * collection deadline as expired before the scheduler has got to it, loan-rules.effectiveStatus).
 *
 * Every job is idempotent (running it twice changes nothing the second time), so a tick that
 * overlaps a CLI or a second server process does no harm. The scheduler runs its jobs on start, then
 * whenever the Asia/Bangkok date changes (what expires depends only on the date) and at least every
 * `everyMs` (10 minutes) as a safety net; one tick at a time.
 */
import type { AppContext } from '../context.js'
import { bangkokDate } from '../i18n/calendar.js'
import { expireLoans } from './loan-cancel.service.js'
import { makeReminders } from './notification.service.js'

export interface ScheduledJob {
  name: string
  /** Does the job's work; answers how many records it changed. */
  run(ctx: AppContext): Promise<number>
}

// Expiry first: a loan that expires today gets no "ready to collect" reminder.
export const DEFAULT_JOBS: ScheduledJob[] = [
  { name: 'expireLoans', run: expireLoans },
  // The daily reminders of SPEC §8 (issue 18), once per loan and day by their unique keys.
  { name: 'reminders', run: makeReminders },
]

export interface JobResult {
  name: string
  changed: number
  error?: string
}

export interface Scheduler {
  /** Runs every job once now (waits for a tick already running instead of starting a second). */
  tick(): Promise<JobResult[]>
  /** Stops the timers and waits for a running tick. */
  stop(): Promise<void>
}

export function startScheduler(ctx: AppContext, opts: { jobs?: ScheduledJob[]; everyMs?: number; checkMs?: number; runNow?: boolean } = {}): Scheduler {
  const jobs = opts.jobs ?? DEFAULT_JOBS
  const everyMs = opts.everyMs ?? 10 * 60_000
  let running: Promise<JobResult[]> | undefined
  let lastRunAt = 0
  let lastDate = ''
  let stopped = false

  const tick = (): Promise<JobResult[]> => {
    if (running) return running
    running = (async () => {
      lastRunAt = ctx.clock.now().getTime()
      lastDate = bangkokDate(ctx.clock.now())
      const results: JobResult[] = []
      for (const job of jobs) {
        try {
          const changed = await job.run(ctx)
          results.push({ name: job.name, changed })
          if (changed > 0) ctx.logger.info({ job: job.name, changed }, 'scheduled job changed records')
        } catch (err) {
          results.push({ name: job.name, changed: 0, error: err instanceof Error ? err.message : String(err) })
          ctx.logger.error({ err, job: job.name }, 'scheduled job failed')
        }
      }
      return results
    })().finally(() => {
      running = undefined
    })
    return running
  }

  // Checked every minute: due when the Bangkok date has changed or the safety interval has passed.
  const check = () => {
    if (stopped) return
    const now = ctx.clock.now()
    if (bangkokDate(now) !== lastDate || now.getTime() - lastRunAt >= everyMs) void tick()
  }
  const timer = setInterval(check, opts.checkMs ?? 60_000)
  timer.unref()
  if (opts.runNow !== false) void tick()

  return {
    tick,
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
