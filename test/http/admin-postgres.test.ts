import { expect } from 'chai'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'

describe('the admin hub on PostgreSQL (issue 19)', () => {
  let t: TestApp
  afterEach(() => t.close())

  it('when the app runs on PostgreSQL (DATABASE_URL), then the backup card says pg_dump plus the data folder and warns of no missing backup', async () => {
    t = await createTestApp({ env: { DATABASE_URL: 'postgres://yk@db.example/yk', DATABASE_PATH: '/srv/yuemkhuen/data/yuemkhuen.db' } })
    const { agent } = await signedInAs(t, ['admin'])
    const page = await agent.get('/admin').expect(200)
    expect(page.text).to.include('pg_dump')
    expect(page.text).to.include('/srv/yuemkhuen/data')
    expect(page.text).not.to.include('flash-error')
  })

  it('when the app runs on SQLite, then the backup card shows its own backups as before', async () => {
    t = await createTestApp()
    const { agent } = await signedInAs(t, ['admin'])
    const page = await agent.get('/admin').expect(200)
    expect(page.text).not.to.include('pg_dump')
  })
})
