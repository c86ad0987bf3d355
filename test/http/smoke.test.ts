import { expect } from 'chai'
import supertest from 'supertest'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'

describe('smoke', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  it('when the database answers, then /healthz is 200 {status: ok}', async () => {
    const res = await supertest(t.app).get('/healthz').expect(200)
    expect(res.body).to.deep.equal({ status: 'ok' })
  })

  it('when an admin signs in, then every admin page renders in Thai', async () => {
    const { agent } = await signedInAs(t, ['admin'])
    for (const path of [
      '/',
      '/account',
      '/account/password',
      '/admin/users',
      '/admin/users/new',
      '/admin/users/1',
      '/admin/departments',
      '/admin/departments/1',
      '/admin/settings',
      '/audit',
    ]) {
      const res = await agent.get(path)
      expect(res.status, path).to.equal(200)
      expect(res.text, path).to.include('lang="th"')
    }
  })
})
