import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'chai'
import supertest from 'supertest'
import { createTestApp, csrfFrom, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser, TEST_PASSWORD } from '../helpers/builders.js'
import { makeAsset } from '../helpers/assets.js'
import { onPostgres, query } from '../helpers/db.js'
import { createLoan } from '../../server/services/loan.service.js'
import { addAttachment, ATTACHMENT_MAX_BYTES, ATTACHMENT_MAX_PER_LOAN, sniffMime } from '../../server/services/attachment.service.js'
import { verifyChain } from '../../server/services/audit.service.js'
import type { AppError } from '../../server/errors.js'

/** A real 1×1 PNG, a JPEG's and a PDF's first bytes with something after them. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(2000, 7)])
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n')
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(500, 0)])

type Agent = supertest.Agent

describe('loan attachments (the paper trail)', () => {
  let t: TestApp
  let loanId: number
  let borrower: Awaited<ReturnType<typeof makeUser>>
  let finance: Agent

  beforeEach(async () => {
    t = await createTestApp()
    await makeAsset(t.ctx, { code: 'AMP-1' })
    borrower = await makeUser(t.ctx, ['staff'])
    const entered = await signedInAs(t, ['finance'])
    finance = entered.agent
    const loan = await createLoan(t.ctx, entered.user, {
      borrower: borrower.username,
      assetCodes: ['AMP-1'],
      purpose: 'งานประจำปีหมู่บ้าน',
      place: 'ศาลาหมู่ 3',
      kind: 'off_premises',
      startDate: '2025-01-16',
      dueDate: '2025-01-18',
    })
    loanId = loan.loan.id
  })
  afterEach(() => t.close())

  async function upload(agent: Agent, file: Buffer, name: string, type: string, fields: Record<string, string> = { kind: 'signed_slip' }) {
    const page = await agent.get(`/loans/${loanId}`).expect(200)
    let req = agent.post(`/loans/${loanId}/attachments`).field('_csrf', csrfFrom(page.text))
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v)
    return req.attach('file', file, { filename: name, contentType: type })
  }

  const rows = () => t.ctx.db.selectFrom('loan_attachment').selectAll().orderBy('id').execute()
  const files = () => (fs.existsSync(t.ctx.config.attachmentsDir) ? fs.readdirSync(t.ctx.config.attachmentsDir) : [])

  it('when finance attaches a JPEG, a PNG and a PDF, then each is stored outside the database under a random name, listed on the loan page, and its SHA-256 is in the audit chain', async () => {
    const page = await finance.get(`/loans/${loanId}`).expect(200)
    expect(page.text).to.include('id="attachments"').and.include('enctype="multipart/form-data"').and.include('ยังไม่มีเอกสารแนบ')

    const sent: Array<[Buffer, string, string, string]> = [
      [JPEG, 'ใบยืมลงนาม.jpg', 'image/jpeg', 'signed_slip'],
      [PNG, 'สภาพเต็นท์.png', 'image/png', 'return_photo'],
      [PDF, 'อนุมัตินายก.pdf', 'application/pdf', 'paper_approval'],
    ]
    for (const [file, name, type, kind] of sent) {
      const res = await upload(finance, file, name, type, { kind, note: 'หมายเหตุทดสอบ' })
      expect(res.status, res.text.slice(0, 300)).to.equal(303)
      expect(res.headers.location).to.equal(`/loans/${loanId}#attachments`)
    }
    const stored = await rows()
    expect(stored.map((r) => [r.file_name, r.mime, r.kind, r.size])).to.deep.equal([
      ['ใบยืมลงนาม.jpg', 'image/jpeg', 'signed_slip', JPEG.length],
      ['สภาพเต็นท์.png', 'image/png', 'return_photo', PNG.length],
      ['อนุมัตินายก.pdf', 'application/pdf', 'paper_approval', PDF.length],
    ])
    expect(files().sort()).to.deep.equal(stored.map((r) => r.stored_name).sort())
    const audits = await t.ctx.db.selectFrom('audit_log').select(['data', 'entity_id']).where('action', '=', 'loan.attachment_added').orderBy('id').execute()
    expect(audits).to.have.length(3)
    for (const [i, [file, name, , kind]] of sent.entries()) {
      const r = stored[i]!
      expect(r.stored_name).to.match(/^[0-9a-f]{32}\.(jpg|png|pdf)$/)
      const onDisk = fs.readFileSync(path.join(t.ctx.config.attachmentsDir, r.stored_name))
      const sha = createHash('sha256').update(file).digest('hex')
      expect(createHash('sha256').update(onDisk).digest('hex')).to.equal(sha)
      expect(r.sha256).to.equal(sha)
      expect(audits[i]!.entity_id).to.equal(String(loanId))
      expect(JSON.parse(audits[i]!.data)).to.include({ attachmentId: r.id, name, kind, size: file.length, sha256: sha })
    }
    expect((await verifyChain(t.ctx.db)).ok).to.equal(true)

    const after = await finance.get(`/loans/${loanId}`).expect(200)
    expect(after.text).to.include('ใบยืมลงนาม.jpg').and.include('ใบยืมที่ลงนามแล้ว').and.include(`href="/loans/${loanId}/attachments/${stored[0]!.id}"`)
    expect(after.text).to.include('แนบ «อนุมัตินายก.pdf» แล้ว')
  })

  it('when the file is not an image or PDF by its content (an .exe, or text renamed .jpg), then 422 and nothing is stored', async () => {
    for (const [file, name, type] of [
      [EXE, 'setup.exe', 'application/octet-stream'],
      [Buffer.from('นี่คือไฟล์ข้อความ ไม่ใช่ภาพ'), 'photo.jpg', 'image/jpeg'],
      [EXE, 'scan.pdf', 'application/pdf'],
    ] as const) {
      const res = await upload(finance, file, name, type)
      expect(res.status, name).to.equal(422)
      expect(res.text).to.include('ไฟล์ต้องเป็นภาพ JPEG, PNG, WebP, HEIC หรือ PDF').and.include('name="_csrf"')
    }
    const noFile = await (async () => {
      const page = await finance.get(`/loans/${loanId}`).expect(200)
      return finance.post(`/loans/${loanId}/attachments`).field('_csrf', csrfFrom(page.text)).field('kind', 'signed_slip')
    })()
    expect(noFile.status).to.equal(422)
    expect(noFile.text).to.include('กรุณาเลือกไฟล์')
    const badKind = await upload(finance, PNG, 'a.png', 'image/png', { kind: 'selfie', note: 'คงไว้' })
    expect(badKind.status).to.equal(422)
    expect(badKind.text).to.include('ประเภทเอกสารไม่ถูกต้อง').and.include('value="คงไว้"')
    expect(await rows()).to.have.length(0)
    expect(files()).to.deep.equal([])
  })

  it('when the file is over 8 MB, then 413 with a Thai message and nothing is stored', async () => {
    const big = Buffer.concat([JPEG.subarray(0, 6), Buffer.alloc(ATTACHMENT_MAX_BYTES, 1)])
    const res = await upload(finance, big, 'ใหญ่มาก.jpg', 'image/jpeg')
    expect(res.status).to.equal(413)
    expect(res.text).to.include('ไฟล์ใหญ่เกินไป: ไม่เกิน 8 MB ต่อไฟล์')
    expect(await rows()).to.have.length(0)
    expect(files()).to.deep.equal([])
  })

  it('when the upload has no CSRF token or a wrong one, or comes from staff, then 403 and nothing is stored', async () => {
    const noToken = await finance
      .post(`/loans/${loanId}/attachments`)
      .field('kind', 'signed_slip')
      .attach('file', PNG, { filename: 'a.png', contentType: 'image/png' })
    expect(noToken.status).to.equal(403)
    const wrong = await finance
      .post(`/loans/${loanId}/attachments`)
      .field('_csrf', 'not-the-token')
      .field('kind', 'signed_slip')
      .attach('file', PNG, { filename: 'a.png', contentType: 'image/png' })
    expect(wrong.status).to.equal(403)
    const staff = await signIn(t.app, borrower.username, TEST_PASSWORD)
    const res = await upload(staff, PNG, 'a.png', 'image/png')
    expect(res.status).to.equal(403)
    expect(await rows()).to.have.length(0)
    expect(files()).to.deep.equal([])
    // and the borrower's page has no upload form
    expect((await staff.get(`/loans/${loanId}`).expect(200)).text).to.not.include(`action="/loans/${loanId}/attachments"`)
  })

  it('when an attachment is opened, then finance, the borrower and the executive get the file with its stored type; another staff member gets 404; anonymous go to sign-in', async () => {
    await upload(finance, PNG, 'สภาพ "เต็นท์".png', 'image/png').then((r) => expect(r.status).to.equal(303))
    await upload(finance, PDF, 'อนุมัติ.pdf', 'application/pdf', { kind: 'paper_approval' }).then((r) => expect(r.status).to.equal(303))
    const [png, pdf] = await rows()
    const url = `/loans/${loanId}/attachments/${png!.id}`

    const got = await finance.get(url).buffer(true).expect(200)
    expect(got.headers['content-type']).to.equal('image/png')
    expect(got.headers['x-content-type-options']).to.equal('nosniff')
    expect(got.headers['content-disposition']).to.equal(
      `inline; filename="attachment-${png!.id}.png"; filename*=UTF-8''${encodeURIComponent('สภาพ "เต็นท์".png')}`,
    )
    expect(Buffer.compare(got.body as Buffer, PNG)).to.equal(0)
    const pdfRes = await finance.get(`/loans/${loanId}/attachments/${pdf!.id}`).buffer(true).expect(200)
    expect(pdfRes.headers['content-type']).to.equal('application/pdf')
    expect(pdfRes.headers['content-security-policy']).to.match(/^sandbox/)

    const own = await signIn(t.app, borrower.username, TEST_PASSWORD)
    await own.get(url).expect(200)
    const { agent: exec } = await signedInAs(t, ['executive'])
    await exec.get(url).expect(200)
    const { agent: other } = await signedInAs(t, ['staff'])
    await other.get(url).expect(404)
    await other.get(`/loans/${loanId}/attachments`).expect(404)
    // another loan's id with this attachment's id: not found
    await finance.get(`/loans/${loanId + 1}/attachments/${png!.id}`).expect(404)
    await finance.get(`/loans/${loanId}/attachments/9999`).expect(404)
    const anon = await supertest(t.app).get(url).expect(303)
    expect(anon.headers.location).to.equal(`/login?next=${encodeURIComponent(url)}`)
  })

  it('when a loan has 20 attachments, then the 21st is refused (409) and the form is gone', async () => {
    const user = await makeUser(t.ctx, ['finance'])
    for (let i = 0; i < ATTACHMENT_MAX_PER_LOAN; i++) await addAttachment(t.ctx, user, loanId, { kind: 'return_photo', fileName: `p${i}.png`, data: PNG })
    try {
      await addAttachment(t.ctx, user, loanId, { kind: 'return_photo', fileName: 'one-more.png', data: PNG })
      expect.fail('expected a refusal')
    } catch (e) {
      expect((e as AppError).code).to.equal('conflict')
    }
    const res = await upload(finance, PNG, 'one-more.png', 'image/png')
    expect(res.status).to.equal(409)
    expect(res.text).to.include('มีเอกสารแนบครบ 20 ไฟล์แล้ว')
    expect(res.text).to.not.include('enctype="multipart/form-data"')
    expect(files()).to.have.length(ATTACHMENT_MAX_PER_LOAN)
  })

  it('when the database refuses the row, then the file written for it is removed: no file without a row, no row without a file', async () => {
    const user = await makeUser(t.ctx, ['finance'])
    // A trigger that refuses every row, in each database's words.
    if (onPostgres) {
      await query(t.ctx.db).run("CREATE FUNCTION refuse_attachment() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$")
      await query(t.ctx.db).run('CREATE TRIGGER refuse_attachment BEFORE INSERT ON loan_attachment FOR EACH ROW EXECUTE FUNCTION refuse_attachment()')
    } else {
      await query(t.ctx.db).run("CREATE TRIGGER refuse_attachment BEFORE INSERT ON loan_attachment BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    }
    try {
      await addAttachment(t.ctx, user, loanId, { kind: 'signed_slip', fileName: 'a.png', data: PNG })
      expect.fail('expected the insert to fail')
    } catch (e) {
      expect(String(e)).to.include('disk full')
    }
    expect(await rows()).to.have.length(0)
    expect(files()).to.deep.equal([])
    expect(await t.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'loan.attachment_added').execute()).to.have.length(0)
  })

  it('when bytes are sniffed, then JPEG, PNG, WebP, HEIC and PDF are known and anything else is not', () => {
    expect(sniffMime(JPEG)).to.equal('image/jpeg')
    expect(sniffMime(PNG)).to.equal('image/png')
    expect(sniffMime(Buffer.from('RIFF\x10\x00\x00\x00WEBPVP8 ', 'latin1'))).to.equal('image/webp')
    expect(sniffMime(Buffer.from('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00', 'latin1'))).to.equal('image/heic')
    expect(sniffMime(PDF)).to.equal('application/pdf')
    expect(sniffMime(EXE)).to.equal(null)
    expect(sniffMime(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).to.equal(null)
    expect(sniffMime(Buffer.from('GIF89a'))).to.equal(null)
  })
})
