import type { Request } from 'express'
import { bodyOf, checkbox, num, str } from './common.form.js'

const SIGNATORIES = ['mayor', 'chiefAdministrator', 'financeDirector', 'suppliesOfficer'] as const

/** Parses "2568|O27|title" lines; a malformed line is reported by its number. */
export function parseItaLines(text: string): { items: Array<{ fiscalYear: number; code: string; title: string }>; badLine?: number } {
  const items: Array<{ fiscalYear: number; code: string; title: string }> = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line) continue
    const parts = line.split('|').map((p) => p.trim())
    if (parts.length !== 3 || !/^\d{4}$/.test(parts[0]!) || !parts[1] || !parts[2]) return { items, badLine: i + 1 }
    items.push({ fiscalYear: Number(parts[0]), code: parts[1], title: parts[2] })
  }
  return { items }
}

/** Parses "10|11" lines (useful life in years | salvage percent); a malformed line is reported by its number. */
export function parseSalvageLines(text: string): { items: Array<{ years: number; percent: number }>; badLine?: number } {
  const items: Array<{ years: number; percent: number }> = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line) continue
    const m = /^(\d{1,3})\s*\|\s*(\d{1,3}(?:\.\d{1,2})?)\s*%?$/.exec(line)
    if (!m) return { items, badLine: i + 1 }
    items.push({ years: Number(m[1]), percent: Number(m[2]) })
  }
  return { items }
}

export function formatSalvageLines(items: Array<{ years: number; percent: number }>): string {
  return items.map((i) => `${i.years}|${i.percent}`).join('\n')
}

export function formatItaLines(items: Array<{ fiscalYear: number; code: string; title: string }>): string {
  return items.map((i) => `${i.fiscalYear}|${i.code}|${i.title}`).join('\n')
}

/** Browsers send a textarea's line breaks as CRLF; stored texts keep LF, so an unchanged text is no change. */
function area(v: string | string[] | undefined): string {
  return (str(v) ?? '').replace(/\r\n?/g, '\n')
}

export function settingsForm(req: Request) {
  const b = bodyOf(req)
  const ita = parseItaLines(str(b.itaIndicators) ?? '')
  const salvage = parseSalvageLines(str(b.salvageRates) ?? '')
  const input: Record<string, unknown> = {
    agencyName: str(b.agencyName) ?? '',
    agencyAddress: area(b.agencyAddress),
    province: str(b.province) ?? '',
    agencyPhone: str(b.agencyPhone) ?? '',
    delegationLine: str(b.delegationLine) ?? '',
    defaultLoanDays: num(b.defaultLoanDays),
    maxLoanDays: num(b.maxLoanDays),
    followUpDays: num(b.followUpDays),
    expiryDays: num(b.expiryDays),
    handOverEarlyDays: num(b.handOverEarlyDays),
    thaiDigits: checkbox(b.thaiDigits),
    labelLayout: str(b.labelLayout),
    twoPersonRule: checkbox(b.twoPersonRule),
    rulesSummary: area(b.rulesSummary),
    undertakingText: area(b.undertakingText),
    itaIndicators: ita.items,
    salvageRates: salvage.items,
  }
  for (const s of SIGNATORIES) input[s] = { name: str(b[`${s}Name`]) ?? '', position: str(b[`${s}Position`]) ?? '', username: str(b[`${s}Username`]) ?? '' }
  return { input, itaText: str(b.itaIndicators) ?? '', itaBadLine: ita.badLine, salvageText: str(b.salvageRates) ?? '', salvageBadLine: salvage.badLine }
}

export const SIGNATORY_KEYS = SIGNATORIES
