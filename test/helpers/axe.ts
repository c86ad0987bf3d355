import fs from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

const AXE_FILE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
let axeSource: string | undefined

export interface AxeFinding {
  id: string
  impact: string
  help: string
  targets: string[]
}

interface AxeResults {
  violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }>
}

/**
 * axe-core's violations on the page as it stands. The script is evaluated through the DevTools
 * protocol, which the app's Content-Security-Policy (script-src 'self') does not govern, so the
 * page is checked with its real CSP in force — no bypass needed.
 */
export async function axeViolations(page: Page): Promise<AxeFinding[]> {
  axeSource ??= fs.readFileSync(AXE_FILE, 'utf8')
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource)
  const results = await page.evaluate(() =>
    (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResults> } }).axe.run(document, { resultTypes: ['violations'] }),
  )
  return results.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', help: v.help, targets: v.nodes.map((n) => n.target.map(String).join(' ')) }))
}

/** Only what blocks people: serious and critical. */
export function blocking(findings: AxeFinding[]): AxeFinding[] {
  return findings.filter((f) => f.impact === 'serious' || f.impact === 'critical')
}
