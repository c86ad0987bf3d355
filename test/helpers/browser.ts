import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { App } from '../../server/app.js'

/** Debian's Chromium (installed by .ci/run); a test tool's own browser download cannot work here. */
export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking']

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] })
}

export interface BrowserSession {
  server: Server
  base: string
  browser: Browser
  page: Page
}

/** Serves the app on a free loopback port and signs the user in through the real sign-in page. */
export async function signedInBrowser(app: App, user: { username: string; password: string }): Promise<BrowserSession> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const browser = await launchChromium()
  const page = await (await browser.newContext()).newPage()
  await page.goto(`${base}/login`)
  await page.fill('#username', user.username)
  await page.fill('#password', user.password)
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')])
  return { server, base, browser, page }
}

export async function closeBrowserSession(s: Partial<BrowserSession>): Promise<void> {
  await s.browser?.close()
  await new Promise((resolve) => (s.server ? s.server.close(resolve) : resolve(undefined)))
}
