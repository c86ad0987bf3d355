/**
 * Micro-benchmark of the calendar's per-row functions (reports call them once per loan item):
 *   npx tsx bench/calendar-micro.ts [module path, default server/i18n/calendar.ts]
 * Prints ns per call, best of 5 rounds of 1e6 calls each.
 */
import { pathToFileURL } from 'node:url'
import { resolve } from 'node:path'

const path = resolve(process.argv[2] ?? 'server/i18n/calendar.ts')
const cal = (await import(pathToFileURL(path).href)) as Partial<typeof import('../server/i18n/calendar.js')> &
  Omit<typeof import('../server/i18n/calendar.js'), 'bangkokDateByTz' | 'daysBetweenByDateFns'>
const N = 1_000_000
const instants = Array.from({ length: 1024 }, (_, i) => new Date(Date.UTC(2020, 0, 1) + i * 86_400_000 * 2.37 + i * 3_600_000))
const dates = instants.map((d) => cal.bangkokDate(d))
let sink = 0

function measure(name: string, fn: (i: number) => string | number | object): void {
  let best = Infinity
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < N; i++) {
      const r = fn(i)
      sink += typeof r === 'string' ? r.length : typeof r === 'number' ? r : 1
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / N)
  }
  console.log(`${name.padEnd(28)} ${best.toFixed(1).padStart(8)} ns/call`)
}

console.log(`${path} (TZ=${process.env.TZ ?? ''})`)
measure('bangkokDate(Date)', (i) => cal.bangkokDate(instants[i & 1023]!))
measure('addDays(date, ±n)', (i) => cal.addDays(dates[i & 1023]!, (i & 63) - 32))
measure('daysBetween(a, b)', (i) => cal.daysBetween(dates[i & 1023]!, dates[(i + 7) & 1023]!))
measure('loanDays(a, b)', (i) => cal.loanDays(dates[i & 1023]!, dates[(i + 3) & 1023]!))
measure('fiscalYearOf(date)', (i) => cal.fiscalYearOf(dates[i & 1023]!))
measure('parseIsoDate(text)', (i) => cal.parseIsoDate(dates[i & 1023]!))
// The date-fns / @date-fns/tz references of the two fast paths (absent from older versions of the module).
const { bangkokDateByTz, daysBetweenByDateFns } = cal
if (bangkokDateByTz) measure('  by @date-fns/tz (TZDate)', (i) => bangkokDateByTz(instants[i & 1023]!))
if (daysBetweenByDateFns) measure('  by differenceInCalendarDays', (i) => daysBetweenByDateFns(dates[i & 1023]!, dates[(i + 7) & 1023]!))
if (sink === 42) console.log('')
