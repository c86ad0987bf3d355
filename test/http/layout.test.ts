import { expect } from 'chai'
import supertest from 'supertest'
import type { Role } from '../../db/schema.js'
import { createLoan, approveLoan, handOver } from '../../server/services/loan.service.js'
import { makeAsset } from '../helpers/assets.js'
import { makeUser } from '../helpers/builders.js'
import { createTestApp, csrfFrom, postForm, signIn, type TestApp } from '../helpers/app.js'
import { formFields, formsFor } from '../helpers/forms.js'
import { listRoutes } from '../helpers/routes.js'

/*
 * Issue 15: one layout for every page. The view renders first and declares its stylesheets and
 * scripts; views/layouts/* put them in <head>. Form fields mark an error with aria-invalid and point
 * at the message with aria-describedby (views/partials/field.ejs, fieldAria).
 */

/** The problems of one HTML document's frame: one <html>, one <head>, one <body>, no stylesheet in the body. */
function frameProblems(html: string): string[] {
  const problems: string[] = []
  const count = (re: RegExp) => (html.match(re) ?? []).length
  if (count(/<html[\s>]/gi) !== 1) problems.push(`${count(/<html[\s>]/gi)} <html>`)
  if (count(/<head>/gi) !== 1) problems.push(`${count(/<head>/gi)} <head>`)
  if (count(/<body[\s>]/gi) !== 1) problems.push(`${count(/<body[\s>]/gi)} <body>`)
  const body = html.slice(html.search(/<body[\s>]/i))
  if (/<link\b[^>]*rel="?stylesheet/i.test(body)) problems.push('a stylesheet in <body>')
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) if (!/\ssrc=/.test(m[1]!) || m[2]!.trim()) problems.push('an inline script')
  if (/<style[\s>]/i.test(html)) problems.push('an inline <style>')
  return problems
}

/** The start tag of the element with this id. */
function elementById(html: string, id: string): string | undefined {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`<[a-z]+\\b[^>]*\\sid="${escaped}"[^>]*>`, 'i').exec(html)?.[0]
}

/** The control is marked invalid and described by an element holding the message. */
function expectFieldError(html: string, controlId: string, message?: RegExp) {
  const control = elementById(html, controlId)
  expect(control, `#${controlId}`).to.be.a('string')
  expect(control).to.include('aria-invalid="true"')
  const describedBy = /aria-describedby="([^"]+)"/.exec(control!)?.[1]
  expect(describedBy, `#${controlId} aria-describedby`).to.be.a('string')
  const ids = describedBy!.split(' ')
  for (const id of ids) expect(elementById(html, id), `#${id} named by #${controlId}`).to.be.a('string')
  const errorId = ids.find((id) => id.endsWith('-error'))
  expect(errorId, `an error message among ${describedBy}`).to.be.a('string')
  const at = html.indexOf(elementById(html, errorId!)!)
  const text = html.slice(at, html.indexOf('</', at))
  expect(text, `#${errorId}`).to.match(message ?? /\S<?$/)
}

describe('one layout for every page (issue 15)', function () {
  this.timeout(60_000)
  let t: TestApp
  let onLoanId: number
  let pendingId: number
  const people: Partial<Record<Role, { username: string; password: string }>> = {}

  beforeEach(async () => {
    t = await createTestApp({ now: '2025-01-15T03:00:00.000Z' })
    for (const role of ['admin', 'finance', 'committee', 'staff'] as Role[]) people[role] = await makeUser(t.ctx, [role])
    const finance = await makeUser(t.ctx, ['finance'])
    const issuer = await makeUser(t.ctx, ['finance'])
    const staff = await makeUser(t.ctx, ['staff'])
    for (const code of ['LAY-1', 'LAY-2']) await makeAsset(t.ctx, { code })
    const request = (code: string, start: string, due: string) => ({
      assetCodes: [code],
      purpose: 'อบรม',
      place: 'ห้องประชุม',
      kind: 'in_premises',
      startDate: start,
      dueDate: due,
    })
    onLoanId = (await createLoan(t.ctx, staff, request('LAY-1', '2025-01-15', '2025-01-17'))).loan.id
    await approveLoan(t.ctx, finance, onLoanId, {})
    await handOver(t.ctx, issuer, onLoanId)
    pendingId = (await createLoan(t.ctx, staff, request('LAY-2', '2025-02-01', '2025-02-02'))).loan.id
  })
  afterEach(() => t.close())

  it('when every role opens every page (each GET route without a parameter, and the loan, asset, document and error pages), then each has one <head>, no stylesheet in <body>, no inline script or style', async () => {
    const fixed = listRoutes(t.app)
      .filter((r) => r.kind === 'page' && r.method === 'get' && !r.path.includes(':') && !r.path.includes('*'))
      .map((r) => r.path)
      .filter((p) => !/\.(csv|xlsx|json)$/.test(p) && p !== '/healthz' && p !== '/borrowers/standing')
    const more = [
      `/loans/${onLoanId}`,
      `/loans/${pendingId}`,
      `/loans/${onLoanId}/return`,
      `/loans/${onLoanId}/slip`,
      `/loans/${onLoanId}/follow-up-letter`,
      `/loans/${onLoanId}/attachments`,
      '/assets/new',
      '/q/LAY-1',
      '/q/NO-SUCH',
      '/labels/sheet?codes=LAY-1',
      '/register/print',
      '/reports/print',
      '/no-such-page',
    ]
    expect(fixed.length, 'page routes found').to.be.greaterThan(20)
    let checked = 0
    for (const role of Object.keys(people) as Role[]) {
      const agent = await signIn(t.app, people[role]!.username, people[role]!.password)
      for (const path of [...fixed, ...more]) {
        const res = await agent.get(path)
        if (!/text\/html/.test(res.get('content-type') ?? '')) continue
        expect(frameProblems(res.text), `${role} ${path} (${res.status})`).to.deep.equal([])
        checked++
      }
    }
    // Signed out: the public pages, sign-in, a page refused for want of a CSRF token.
    const anonymous = supertest(t.app)
    for (const path of ['/login', '/transparency', '/transparency/procedures', '/transparency/2568/year']) {
      const res = await anonymous.get(path)
      expect(frameProblems(res.text), `anonymous ${path} (${res.status})`).to.deep.equal([])
      checked++
    }
    const refused = await anonymous.post('/login').type('form').send({ username: 'x', password: 'y' })
    expect(refused.status).to.equal(403)
    expect(frameProblems(refused.text), 'the CSRF refusal').to.deep.equal([])
    expect(refused.text).to.include('<link rel="stylesheet" href="/css/app.css">')
    expect(checked).to.be.greaterThan(100)
  })

  it('when a page declares its stylesheets and scripts, then they are in <head> after the application stylesheet, each once', async () => {
    const finance = await signIn(t.app, people.finance!.username, people.finance!.password)
    const res = await finance.get(`/loans/${onLoanId}/return`).expect(200)
    const head = res.text.slice(0, res.text.indexOf('</head>'))
    expect(head).to.include('<link rel="stylesheet" href="/css/app.css">')
    expect(head.indexOf('/css/app.css')).to.be.below(head.indexOf('/css/loans.css'))
    expect(head).to.include('<script src="/js/loan-scan.js" defer></script>')
    expect(head.match(/\/css\/loans\.css/g)).to.have.length(1)
    const slip = await finance.get(`/loans/${onLoanId}/slip`).expect(200)
    expect(slip.text.slice(0, slip.text.indexOf('</head>'))).to.include('<link rel="stylesheet" href="/css/print-docs.css">')
    expect(slip.text).to.include('<body class="doc-page">')
  })

  it('when a form comes back with an error, then its field is aria-invalid and described by the message (new asset, new counted item, a loan refusal, the admin settings)', async () => {
    const finance = await signIn(t.app, people.finance!.username, people.finance!.password)
    const asset = await postForm(finance, '/assets/new', '/assets', { code: '', name: 'โต๊ะ', categoryId: '' })
    expect(asset.status).to.equal(422)
    expectFieldError(asset.text, 'code')
    expect(elementById(asset.text, 'code')).to.include('aria-describedby="code-hint code-error"')
    expect(elementById(asset.text, 'name')).to.not.include('aria-invalid')

    const stock = await postForm(finance, '/stock/new', '/stock', { code: 'ST-1', name: '', quantity: '3' })
    expect(stock.status).to.equal(422)
    expect(stock.text).to.include('aria-invalid="true" aria-describedby="name-error"')
    expectFieldError(stock.text, 'name')

    const loanUrl = `/loans/${pendingId}`
    const reject = await postForm(finance, loanUrl, `${loanUrl}/reject`, { reason: '' })
    expect(reject.status).to.equal(422)
    expectFieldError(reject.text, 'reject-reason')

    const admin = await signIn(t.app, people.admin!.username, people.admin!.password)
    const page = await admin.get('/admin/settings').expect(200)
    const body: Record<string, string> = {}
    for (const f of formFields(formsFor(page.text, '/admin/settings')[0]!)) body[f.name] = f.value
    const settings = await admin
      .post('/admin/settings')
      .type('form')
      .send({ ...body, _csrf: csrfFrom(page.text), handOverEarlyDays: '99' })
    expect(settings.status).to.equal(422)
    expectFieldError(settings.text, 'handOverEarlyDays')
    expect(elementById(settings.text, 'handOverEarlyDays')).to.include('aria-describedby="handOverEarlyDays-hint handOverEarlyDays-error"')
  })
})
