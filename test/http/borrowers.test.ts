import { expect } from 'chai'
import supertest from 'supertest'
import { createTestApp, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { makeStock } from '../helpers/stock.js'
import { approveLoan, createLoan, handOver, receiveReturn } from '../../server/services/loan.service.js'

describe('borrower pages', () => {
  let t: TestApp
  let externalId: number
  let staffId: number
  let staffName: string
  let returnedId: number
  let overdueId: number

  beforeEach(async () => {
    t = await createTestApp()
    const finance = await makeUser(t.ctx, ['finance'])
    const finance2 = await makeUser(t.ctx, ['finance'])
    const finance3 = await makeUser(t.ctx, ['finance'])
    const staff = await makeUser(t.ctx, ['staff'], { name: 'นายสมชาย ยืมประจำ' })
    staffId = staff.id
    staffName = staff.name
    await makeStock(t.ctx, { code: 'CHAIR', name: 'เก้าอี้พลาสติก', quantity: 120 })
    await makeAsset(t.ctx, { code: 'AMP-1', name: 'เครื่องขยายเสียง' })
    await makeAsset(t.ctx, { code: 'PROJ-1', name: 'เครื่องฉายภาพ' })
    const base = { purpose: 'งานประจำปีหมู่บ้าน', place: 'ศาลาหมู่ 3', kind: 'in_premises', startDate: '2025-01-15', dueDate: '2025-01-16' }
    const out = async (over: Record<string, unknown>) => {
      const l = await createLoan(t.ctx, finance, { ...base, ...over })
      await approveLoan(t.ctx, finance2, l.loan.id, {})
      await handOver(t.ctx, finance3, l.loan.id)
      return l
    }
    const a = await out({
      externalBorrower: { type: 'public', name: 'กลุ่มแม่บ้านหมู่ 3', organisation: 'กลุ่มแม่บ้าน', phone: '0812345678', idNumber: '3-1001-00123-45-6' },
      stock: [{ code: 'CHAIR', quantity: 80 }],
    })
    externalId = a.loan.external_borrower_id!
    returnedId = a.loan.id
    const b = await out({ borrower: staff.username, assetCodes: ['PROJ-1'] })
    overdueId = b.loan.id
    t.ctx.clock.set('2025-01-18T03:00:00.000Z')
    await receiveReturn(t.ctx, finance2, a.loan.id, { stock: [{ code: 'CHAIR', good: 76, damaged: 2, lost: 2 }] })
  })
  afterEach(() => t.close())

  it('when finance searches by name or phone, then external borrowers and users are listed, each linking to their history', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const byPhone = await agent.get('/borrowers?q=081-234-5678').expect(200)
    expect(byPhone.text).to.include(`href="/borrowers/${externalId}"`).and.include('กลุ่มแม่บ้านหมู่ 3')
    const byName = await agent.get(`/borrowers?q=${encodeURIComponent('ยืมประจำ')}`).expect(200)
    expect(byName.text).to.include(`href="/borrowers/users/${staffId}"`).and.include(staffName)
  })

  it('when an external borrower’s page is opened, then it shows their loans with lateness, counts back, the compensation open and the ID number (in full for finance only)', async () => {
    const { agent } = await signedInAs(t, ['finance'])
    const page = await agent.get(`/borrowers/${externalId}`).expect(200)
    expect(page.text).to.include('กลุ่มแม่บ้านหมู่ 3').and.include(`href="/loans/${returnedId}"`)
    expect(page.text).to.include('คืนช้า 2 วัน').and.include('คืนดี 76 ชำรุด 2 สูญหาย 2')
    expect(page.text).to.include('การชดใช้ที่ยังไม่เสร็จสิ้น').and.include(`href="/loans/${returnedId}#comp-`)
    expect(page.text).to.include('3-1001-00123-45-6').and.include(`href="/counter?borrower=${externalId}"`)

    const { agent: committee } = await signedInAs(t, ['committee'])
    const seen = await committee.get(`/borrowers/${externalId}`).expect(200)
    expect(seen.text).to.include('•-••••-••••3-45-6')
    expect(seen.text).to.not.include('3-1001-00123-45-6')
    expect(seen.text).to.not.include('/counter?borrower=')
  })

  it('when a user borrower’s page is opened, then their overdue loan shows; staff see their own at /borrowers/me and nobody else’s', async () => {
    const { agent } = await signedInAs(t, ['executive'])
    const page = await agent.get(`/borrowers/users/${staffId}`).expect(200)
    expect(page.text).to.include(staffName).and.include(`href="/loans/${overdueId}"`).and.include('เกินกำหนด 2 วัน').and.include('is-overdue')

    const staffUser = await t.ctx.db.selectFrom('app_user').select('username').where('id', '=', staffId).executeTakeFirstOrThrow()
    const { signIn } = await import('../helpers/app.js')
    const own = await signIn(t.app, staffUser.username, 'correct-horse-9')
    const mine = await own.get('/borrowers/me').expect(200)
    expect(mine.text).to.include('ประวัติการยืมของฉัน').and.include(`href="/loans/${overdueId}"`)
    await own.get(`/borrowers/users/${staffId}`).expect(403)
    await own.get(`/borrowers/${externalId}`).expect(403)
    await own.get('/borrowers').expect(403)

    const { agent: other } = await signedInAs(t, ['staff'])
    const theirs = await other.get('/borrowers/me').expect(200)
    expect(theirs.text).to.include('ยังไม่เคยยืม')
    expect(theirs.text).to.not.include(`href="/loans/${overdueId}"`)
  })

  it('when a borrower does not exist or the id is not a number, then 404; anonymous go to sign-in', async () => {
    const { agent } = await signedInAs(t, ['admin'])
    await agent.get('/borrowers/99999').expect(404)
    await agent.get('/borrowers/abc').expect(404)
    await agent.get('/borrowers/users/99999').expect(404)
    const anon = await supertest(t.app).get(`/borrowers/${externalId}`).expect(303)
    expect(anon.headers.location).to.equal(`/login?next=${encodeURIComponent(`/borrowers/${externalId}`)}`)
  })
})
