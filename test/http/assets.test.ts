import { expect } from 'chai'
import supertest from 'supertest'
import { createTestApp, csrfFrom, signedInAs, apiToken, signIn, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { verifyChain } from '../../server/services/audit.service.js'

describe('asset register (pages)', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  async function categoryId(code: string) {
    return (await t.ctx.db.selectFrom('category').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id
  }

  it('when finance creates an asset through the form, then it is stored with satang, normalised code and an audit entry', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const form = await agent.get('/assets/new').expect(200)
    const res = await agent
      .post('/assets')
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        code: '  ４１６-66-0001 ',
        name: 'เครื่องฉายภาพ',
        categoryId: String(await categoryId('office')),
        price: '12,500.50',
        acquiredOn: '2023-10-15',
        loanable: '1',
      })
      .expect(303)
    const row = await t.ctx.db.selectFrom('asset').selectAll().executeTakeFirstOrThrow()
    expect(res.headers.location).to.equal(`/assets/${row.id}`)
    expect(row).to.include({ code: '416-66-0001', name: 'เครื่องฉายภาพ', price_satang: 1250050, acquired_on: '2023-10-15', status: 'available', loanable: 1 })
    const audit = await t.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'asset.created').execute()
    expect(audit).to.have.length(1)
    const page = await agent.get(`/assets/${row.id}`).expect(200)
    expect(page.text).to.include('12,500.50').and.include('เพิ่มเข้าทะเบียน').and.include('ว่าง')
  })

  it('when the form has a bad code, price, date or category, then it re-renders 422 with Thai messages, keeps the values and writes nothing', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const form = await agent.get('/assets/new')
    const res = await agent
      .post('/assets')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), code: 'ab cd!', name: 'โต๊ะพับ', categoryId: '999', price: '1.234', acquiredOn: '31/02/2567' })
      .expect(422)
    // The page takes พ.ศ. (issue 16): a day that does not exist is named as typed.
    expect(res.text).to.include('หมายเลขครุภัณฑ์ใช้ตัวอักษร').and.include('ราคาไม่ถูกต้อง').and.include('ไม่มีวันที่ 31/02/2567')
    expect(res.text).to.include('value="31/02/2567"')
    expect(res.text).to.include('value="โต๊ะพับ"')
    expect(await t.ctx.db.selectFrom('asset').selectAll().execute()).to.have.length(0)
  })

  it('when a code is taken (after NFKC and trimming), then the form says so and nothing changes', async () => {
    await makeAsset(t.ctx, { code: 'กค.416-66-0001' })
    const { agent } = await signedInAs(t, ['finance'])
    const form = await agent.get('/assets/new')
    const res = await agent
      .post('/assets')
      .type('form')
      .send({ _csrf: csrfFrom(form.text), code: ' กค.416-66-0001', name: 'ซ้ำ', categoryId: String(await categoryId('office')) })
    expect(res.status).to.equal(409)
    expect(res.text).to.include('หมายเลขครุภัณฑ์ กค.416-66-0001 มีอยู่แล้ว')
    expect(await t.ctx.db.selectFrom('asset').selectAll().execute()).to.have.length(1)
  })

  it('when finance edits an asset, then the diff is audited and shown in its history', async () => {
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['finance'])
    const form = await agent.get(`/assets/${a.id}/edit`).expect(200)
    await agent
      .post(`/assets/${a.id}`)
      .type('form')
      .send({
        _csrf: csrfFrom(form.text),
        code: a.code,
        name: a.name,
        categoryId: String(a.category_id),
        location: 'อาคารอเนกประสงค์',
        price: '7,900.00',
        loanable: '1',
      })
      .expect(303)
    const entry = await t.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'asset.updated').executeTakeFirstOrThrow()
    expect(JSON.parse(entry.data).changed).to.have.key('location')
    expect((await agent.get(`/assets/${a.id}`)).text).to.include('แก้ไขข้อมูล')
  })

  it('when the status changes with a reason, then it is audited; without a reason or into on_loan it is refused and nothing changes', async () => {
    const a = await makeAsset(t.ctx)
    const { agent } = await signedInAs(t, ['finance'])
    let page = await agent.get(`/assets/${a.id}`)
    const noReason = await agent
      .post(`/assets/${a.id}/status`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), status: 'in_repair', reason: '' })
    expect(noReason.status).to.equal(422)
    expect(noReason.text).to.include('กรุณาระบุเหตุผล')
    const intoLoan = await agent
      .post(`/assets/${a.id}/status`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), status: 'on_loan', reason: 'ลองดู' })
    expect(intoLoan.status).to.equal(409)
    expect((await t.ctx.db.selectFrom('asset').select('status').executeTakeFirstOrThrow()).status).to.equal('available')
    page = await agent.get(`/assets/${a.id}`)
    await agent
      .post(`/assets/${a.id}/status`)
      .type('form')
      .send({ _csrf: csrfFrom(page.text), status: 'in_repair', reason: 'จอไม่ติด ส่งร้าน' })
      .expect(303)
    expect((await t.ctx.db.selectFrom('asset').select('status').executeTakeFirstOrThrow()).status).to.equal('in_repair')
    const shown = await agent.get(`/assets/${a.id}`)
    expect(shown.text).to.include('ส่งซ่อม').and.include('จอไม่ติด ส่งร้าน')
    expect((await verifyChain(t.ctx.db)).ok).to.equal(true)
  })

  it('when the register is searched and filtered, then only matching assets are listed', async () => {
    await makeAsset(t.ctx, { code: 'A-1', name: 'เต็นท์ผ้าใบ', category: 'household' })
    await makeAsset(t.ctx, { code: 'A-2', name: 'ลำโพง', category: 'electrical', location: 'ห้องประชุม' })
    await makeAsset(t.ctx, { code: 'A-3', name: 'รถยนต์', category: 'vehicle' })
    const { agent } = await signedInAs(t, ['finance'])
    const byName = await agent.get('/assets').query({ q: 'ลำโพง' })
    expect(byName.text).to.include('A-2').and.not.include('A-1<')
    const byLocation = await agent.get('/assets').query({ q: 'ห้องประชุม' })
    expect(byLocation.text).to.include('A-2')
    const byCategory = await agent.get('/assets').query({ category: 'household' })
    expect(byCategory.text).to.include('A-1').and.not.include('>A-2<')
    const notLoanable = await agent.get('/assets').query({ loanable: '0' })
    expect(notLoanable.text).to.include('A-3').and.not.include('>A-1<')
  })

  it('when staff browse, then they see only loanable assets and no register details or edit buttons', async () => {
    const car = await makeAsset(t.ctx, { code: 'CAR-1', category: 'vehicle' })
    await makeAsset(t.ctx, { code: 'TENT-1', category: 'household' })
    const { agent } = await signedInAs(t, ['staff'])
    const list = await agent.get('/assets').expect(200)
    expect(list.text).to.include('TENT-1').and.not.include('CAR-1')
    expect(list.text).to.not.include('/assets/new')
    await agent.get(`/assets/${car.id}`).expect(404)
    await agent.get('/assets/new').expect(403)
  })

  it('when an executive or committee member opens the register, then they read it but cannot edit', async () => {
    const a = await makeAsset(t.ctx)
    for (const role of ['executive', 'committee'] as const) {
      const { agent } = await signedInAs(t, [role])
      const page = await agent.get(`/assets/${a.id}`).expect(200)
      expect(page.text).to.not.include(`/assets/${a.id}/edit`)
      await agent.get(`/assets/${a.id}/edit`).expect(403)
    }
  })
})

describe('QR resolver /q/<code>', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  it('when a plain, Thai or slash code is opened percent-encoded, then the asset page shows its name, code and status', async () => {
    const codes = ['416-66-0001', 'ครุภัณฑ์-๖๖/0001', 'กค.416/2567/01']
    for (const code of codes) await makeAsset(t.ctx, { code, name: `ของ ${code}` })
    const { agent } = await signedInAs(t, ['staff'])
    for (const code of codes) {
      const res = await agent.get(`/q/${encodeURIComponent(code)}`).expect(200)
      expect(res.text)
        .to.include(`ของ ${code.normalize('NFKC')}`)
        .and.include('ว่าง')
    }
    // an unencoded slash reaches the same asset
    await agent.get('/q/กค.416/2567/01'.split('/').map(encodeURIComponent).join('/')).expect(200)
  })

  it('when the scanned code has spaces or a full-width form, then it is trimmed and NFKC-normalised before lookup', async () => {
    await makeAsset(t.ctx, { code: '416-66-0009', name: 'กล้องถ่ายรูป' })
    const { agent } = await signedInAs(t, ['staff'])
    const res = await agent.get(`/q/${encodeURIComponent(' ４１６-６６-０００９ ')}`).expect(200)
    expect(res.text).to.include('กล้องถ่ายรูป')
  })

  it('when the code is unknown, then a helpful 404 names the scanned code', async () => {
    const { agent } = await signedInAs(t, ['staff'])
    const res = await agent.get(`/q/${encodeURIComponent('ไม่มี-01')}`).expect(404)
    expect(res.text).to.include('รหัสที่สแกน: ไม่มี-01').and.include('ไม่พบครุภัณฑ์')
  })

  it('when an anonymous person scans, then they sign in and land back on the same asset', async () => {
    await makeAsset(t.ctx, { code: 'ครุภัณฑ์/๖๖-1', name: 'ไมโครโฟนไร้สาย' })
    const user = await makeUser(t.ctx, ['staff'])
    const path = `/q/${encodeURIComponent('ครุภัณฑ์/๖๖-1')}`
    const first = await supertest(t.app).get(path).expect(303)
    expect(first.headers.location).to.equal(`/login?next=${encodeURIComponent(path)}`)
    const agent = supertest.agent(t.app)
    const login = await agent.get(first.headers.location!).expect(200)
    const next = /name="next" value="([^"]+)"/.exec(login.text)![1]!.replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    const res = await agent
      .post('/login')
      .type('form')
      .send({ _csrf: csrfFrom(login.text), username: user.username, password: user.password, next })
      .expect(303)
    expect(res.headers.location).to.equal(path)
    expect((await agent.get(res.headers.location!)).text).to.include('ไมโครโฟนไร้สาย')
  })

  it('when the escape is malformed, then it is a 400 page, not a 500', async () => {
    const { agent } = await signedInAs(t, ['staff'])
    await agent.get('/q/%E0%B8').expect(400)
  })
})

describe('assets API', () => {
  let t: TestApp
  let finance: string
  let staff: string
  beforeEach(async () => {
    t = await createTestApp()
    const f = await makeUser(t.ctx, ['finance'])
    const s = await makeUser(t.ctx, ['staff'])
    finance = await apiToken(t.app, f.username, f.password)
    staff = await apiToken(t.app, s.username, s.password)
  })
  afterEach(() => t.close())

  it('when finance posts an asset, then 201 returns the Asset object of SPEC §5', async () => {
    const res = await supertest(t.app)
      .post('/api/v1/assets')
      .set('authorization', `Bearer ${finance}`)
      .send({
        code: '416-66-0100',
        name: 'โปรเจคเตอร์',
        category: 'office',
        department: 'finance',
        location: 'ห้องประชุม',
        acquiredOn: '2023-01-31',
        price: '25900.10',
        maxLoanDays: 5,
        extra: 'ignored',
      })
      .expect(201)
    expect(res.body).to.deep.equal({
      code: '416-66-0100',
      name: 'โปรเจคเตอร์',
      category: 'office',
      department: 'finance',
      location: 'ห้องประชุม',
      acquiredOn: '2023-01-31',
      price: 25900.1,
      status: 'available',
      loanable: true,
      maxLoanDays: 5,
      currentLoan: null,
    })
    const got = await supertest(t.app)
      .get(`/api/v1/assets/${encodeURIComponent('416-66-0100')}`)
      .set('authorization', `Bearer ${staff}`)
      .expect(200)
    expect(got.body.name).to.equal('โปรเจคเตอร์')
  })

  it('when the price is a JSON number with two decimals, then it is converted through its decimal text', async () => {
    await supertest(t.app)
      .post('/api/v1/assets')
      .set('authorization', `Bearer ${finance}`)
      .send({ code: 'P-1', name: 'x', category: 'office', price: 0.29 })
      .expect(201)
    expect((await t.ctx.db.selectFrom('asset').select('price_satang').executeTakeFirstOrThrow()).price_satang).to.equal(29)
  })

  it('when the body is invalid, then 422 names each field and nothing is written', async () => {
    const res = await supertest(t.app)
      .post('/api/v1/assets')
      .set('authorization', `Bearer ${finance}`)
      .send({ code: 'bad code!', category: 'spaceship', price: 'abc', acquiredOn: '2567-02-30' })
      .expect(422)
    expect(res.body.error.code).to.equal('validation_failed')
    const fields = (res.body.error.details as Array<{ field: string }>).map((d) => d.field)
    expect(fields).to.include('category')
    const res2 = await supertest(t.app)
      .post('/api/v1/assets')
      .set('authorization', `Bearer ${finance}`)
      .send({ code: 'bad code!', category: 'office', price: 'abc', acquiredOn: '2567-02-30' })
      .expect(422)
    expect((res2.body.error.details as Array<{ field: string }>).map((d) => d.field)).to.include.members(['code', 'name', 'price', 'acquiredOn'])
    expect(await t.ctx.db.selectFrom('asset').selectAll().execute()).to.have.length(0)
  })

  it('when staff post an asset, then 403; anonymous 401', async () => {
    await supertest(t.app).post('/api/v1/assets').set('authorization', `Bearer ${staff}`).send({ code: 'X-1', name: 'x', category: 'office' }).expect(403)
    await supertest(t.app).post('/api/v1/assets').send({ code: 'X-1', name: 'x', category: 'office' }).expect(401)
    await supertest(t.app).get('/api/v1/assets').expect(401)
  })

  it('when listing with filters and pages, then {items,total,page,pageSize} and unknown filter values are 422 naming the parameter', async () => {
    for (let i = 0; i < 5; i++) await makeAsset(t.ctx, { code: `L-${i}`, category: i < 3 ? 'office' : 'music' })
    const res = await supertest(t.app)
      .get('/api/v1/assets')
      .query({ category: 'office', pageSize: 2, page: 2 })
      .set('authorization', `Bearer ${staff}`)
      .expect(200)
    expect(res.body).to.include({ total: 3, page: 2, pageSize: 2 })
    expect(res.body.items.map((a: { code: string }) => a.code)).to.deep.equal(['L-2'])
    for (const [param, value] of [
      ['status', 'broken'],
      ['category', 'spaceship'],
      ['pageSize', '500'],
      ['page', '0'],
    ]) {
      const bad = await supertest(t.app)
        .get('/api/v1/assets')
        .query({ [param!]: value })
        .set('authorization', `Bearer ${staff}`)
        .expect(422)
      expect(bad.body.error.details[0].field).to.equal(param)
    }
  })

  it('when the code is unknown, then 404 not_found; a Thai code with a slash is found', async () => {
    await makeAsset(t.ctx, { code: 'กค/2567/01' })
    await supertest(t.app).get('/api/v1/assets/nope').set('authorization', `Bearer ${staff}`).expect(404)
    await supertest(t.app).get('/api/v1/assets/กค/2567/01'.split('/').map(encodeURIComponent).join('/')).set('authorization', `Bearer ${staff}`).expect(200)
    await supertest(t.app)
      .get(`/api/v1/assets/${encodeURIComponent('กค/2567/01')}`)
      .set('authorization', `Bearer ${staff}`)
      .expect(200)
  })

  it('when signed in through the page, then the same finance user can use the register too (sanity)', async () => {
    const f = await makeUser(t.ctx, ['finance'])
    const agent = await signIn(t.app, f.username, f.password)
    await agent.get('/assets').expect(200)
  })
})
