import { closeTestDatabases } from './db.js'

/** Mocha's root hooks: after the whole run, the PostgreSQL test databases are dropped (test/helpers/db.ts). */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000)
    await closeTestDatabases()
  },
}
