import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'chai'
import { pino } from 'pino'
import type { OpenDb } from '../../db/connection.js'
import { fixedClock } from '../../server/clock.js'
import { loadConfig } from '../../server/config.js'
import { createHosting, type Hosting } from '../../server/hosting.js'
import { ensureRegistry, openRegistry, registerAgency } from '../../server/tenancy.js'
import { createTestApp, signIn, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { createEmptyTestDb, databaseUrlOf, onPostgres } from '../helpers/db.js'

describe('the admin hub of one agency among many (issue 20)', () => {
  describe('an app whose handle is in no agency’s schema', () => {
    let t: TestApp
    afterEach(() => t.close())

    it('when TENANCY=host is set but the handle is not an agency’s (SQLite, or PostgreSQL’s public schema), then the backup card keeps the installation-wide text', async () => {
      t = await createTestApp({
        env: { DATABASE_URL: 'postgres://yk@db.example/yk', TENANCY: 'host', DATABASE_PATH: '/srv/yuemkhuen/data/nongbua/yuemkhuen.db' },
      })
      const user = await makeUser(t.ctx, ['admin'])
      const agent = await signIn(t.app, user.username, user.password)
      const page = await agent.get('/admin').expect(200)
      expect(page.text).to.include('pg_dump')
      expect(page.text).to.include('/srv/yuemkhuen/data/nongbua')
      expect(page.text, 'no schema to name').not.to.include('--schema=')
      expect(page.text).not.to.include('pg_restore')
    })
  })

  describe('an agency served by the hosting front app (PostgreSQL)', () => {
    let empty: OpenDb
    let hosting: Hosting
    let dataDir: string

    before(async function () {
      // Many agencies live on one PostgreSQL server only; CI runs this in its PostgreSQL pass.
      if (!onPostgres) this.skip()
      empty = await createEmptyTestDb()
      const url = await databaseUrlOf(empty.db)
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'yk-hosted-admin-'))
      const env = { NODE_ENV: 'test', DATABASE_URL: url, TENANCY: 'host', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }
      const registry = openRegistry(url)
      try {
        await ensureRegistry(registry.db)
        await registerAgency(
          registry.db,
          { slug: 'nongbua', host: 'nongbua.example.go.th', name: 'อบต.หนองบัว', baseUrl: 'https://nongbua.example.go.th' },
          '2025-01-15T03:00:00.000Z',
        )
      } finally {
        await registry.close()
      }
      hosting = createHosting({ env, config: loadConfig(env), clock: fixedClock('2025-01-15T03:00:00.000Z'), logger: pino({ level: 'silent' }) })
    })

    after(async () => {
      await hosting?.close()
      await empty?.close()
      if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
    })

    it('when the agency’s administrator opens the admin hub, then the backup card names its schema and folder, with the pg_dump and the restore of that schema', async () => {
      const rt = (await hosting.runtime('nongbua.example.go.th'))!
      const user = await makeUser(rt.ctx, ['admin'])
      const agent = await signIn(rt.app, user.username, user.password)
      const page = await agent.get('/admin').expect(200)
      const folder = path.join(dataDir, 'nongbua')
      expect(page.text).to.include('agency_nongbua')
      expect(page.text).to.include(`${folder}/`)
      expect(page.text).to.include('pg_dump -Fc --schema=agency_nongbua -f agency_nongbua-$(date +%Y%m%d).dump &#34;$DATABASE_URL&#34;')
      expect(page.text).to.include(`tar -czf agency_nongbua-files-$(date +%Y%m%d).tar.gz --exclude=&#39;nongbua/*.key&#39; -C ${dataDir} nongbua`)
      expect(page.text).to.include('DROP SCHEMA IF EXISTS agency_nongbua CASCADE')
      expect(page.text).to.include('pg_restore --no-owner -d &#34;$DATABASE_URL&#34; agency_nongbua-YYYYMMDD.dump')
      expect(page.text).to.include(`--exclude=nongbua/audit-anchor.log`)
      expect(page.text, 'in Thai by default').to.include('กู้คืนหน่วยงานนี้')
      expect(page.text, 'the key files go apart').to.include('session.key')
      expect(page.text).not.to.include('flash-error')
    })
  })
})
