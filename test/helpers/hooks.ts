import { closeTestDatabases } from './db.js'

/**
 * How long the run may stay alive after its last test: idle database pools close within 30 s
 * (server/tenancy.ts); anything open longer was left open by a test.
 */
const GRACE_MS = 60_000

/**
 * Mocha's root hooks: after the whole run, the PostgreSQL test databases are dropped
 * (test/helpers/db.ts). A handle left open would keep the run alive forever (CI would end at its
 * time limit with no result): after the grace time the run names what is still open and ends, with
 * the tests' own result (mocha sets the exit code from its failures as the process exits).
 */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000)
    await closeTestDatabases()
    setTimeout(() => {
      const open = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().map(describeHandle)
      console.error(`the test run left handles open ${GRACE_MS / 1000} s after its last test: ${open.join('; ')}; ending it with the tests' own result`)
      process.exit()
    }, GRACE_MS).unref()
  },
}

function describeHandle(h: object): string {
  const s = h as { remoteAddress?: string; remotePort?: number; localPort?: number }
  const where = s.remoteAddress ? ` to ${s.remoteAddress}:${s.remotePort}` : s.localPort ? ` on port ${s.localPort}` : ''
  return `${h.constructor.name}${where}`
}
