import { expect } from 'chai'
import supertest from 'supertest'
import { createTestApp, csrfFrom, signIn, signedInAs, type TestApp } from '../helpers/app.js'
import { makeUser, TEST_PASSWORD } from '../helpers/builders.js'
import { query } from '../helpers/db.js'

// ---- reading the real forms of a page, and sending them the way a browser does

function decodeEntities(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

function attrsOf(tag: string): Map<string, string> {
  const out = new Map<string, string>()
  const body = tag.replace(/^<\w+/, '').replace(/\/?>$/, '')
  for (const m of body.matchAll(/([\w:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    out.set(m[1]!.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''))
  }
  return out
}

/** The successful controls of one form, in document order, as a browser would submit them. */
class Form {
  constructor(
    readonly action: string,
    public pairs: Array<[string, string]>,
    private readonly textareas: Set<string>,
  ) {}

  get(name: string): string | undefined {
    return this.pairs.find(([n]) => n === name)?.[1]
  }

  getAll(name: string): string[] {
    return this.pairs.filter(([n]) => n === name).map(([, v]) => v)
  }

  has(name: string): boolean {
    return this.pairs.some(([n]) => n === name)
  }

  set(name: string, value: string): this {
    const i = this.pairs.findIndex(([n]) => n === name)
    if (i === -1) this.pairs.push([name, value])
    else this.pairs = [...this.pairs.slice(0, i), [name, value] as [string, string], ...this.pairs.slice(i + 1).filter(([n]) => n !== name)]
    return this
  }

  setAll(name: string, values: string[]): this {
    this.pairs = [...this.pairs.filter(([n]) => n !== name), ...values.map((v) => [name, v] as [string, string])]
    return this
  }

  remove(name: string): this {
    this.pairs = this.pairs.filter(([n]) => n !== name)
    return this
  }

  /** application/x-www-form-urlencoded; a browser sends textarea line breaks as CRLF. */
  encode(): string {
    const p = new URLSearchParams()
    for (const [n, v] of this.pairs) p.append(n, this.textareas.has(n) ? v.replace(/\r?\n/g, '\r\n') : v)
    return p.toString()
  }
}

function parseForm(html: string, action: string): Form {
  const forms = [...html.matchAll(/<form\b[^>]*>[\s\S]*?<\/form>/g)].map((m) => m[0])
  const form = forms.find((f) => attrsOf(/^<form\b[^>]*>/.exec(f)![0]).get('action') === action)
  if (!form) throw new Error(`no form with action ${action}`)
  const pairs: Array<[string, string]> = []
  const textareas = new Set<string>()
  for (const m of form.matchAll(/<input\b[^>]*>|<textarea\b[^>]*>([\s\S]*?)<\/textarea>|<select\b[^>]*>([\s\S]*?)<\/select>/g)) {
    const tag = /^<\w+\b[^>]*>/.exec(m[0])![0]
    const a = attrsOf(tag)
    const name = a.get('name')
    if (!name || a.has('disabled')) continue
    if (tag.startsWith('<input')) {
      const type = (a.get('type') ?? 'text').toLowerCase()
      if (['submit', 'button', 'reset', 'image', 'file'].includes(type)) continue
      if ((type === 'checkbox' || type === 'radio') && !a.has('checked')) continue
      pairs.push([name, a.get('value') ?? (type === 'checkbox' ? 'on' : '')])
    } else if (tag.startsWith('<textarea')) {
      textareas.add(name)
      pairs.push([name, decodeEntities(m[1]!.replace(/^\r?\n/, ''))])
    } else {
      const options = [...m[2]!.matchAll(/<option\b[^>]*>([\s\S]*?)(?=<option\b|$)/g)].map((o) => {
        const oa = attrsOf(/^<option\b[^>]*>/.exec(o[0])![0])
        return { value: oa.get('value') ?? decodeEntities(o[1]!.replace(/<\/option>[\s\S]*$/, '').trim()), selected: oa.has('selected') }
      })
      const chosen = options.find((o) => o.selected) ?? options[0]
      if (chosen) pairs.push([name, chosen.value])
    }
  }
  return new Form(action, pairs, textareas)
}

/** The text of the field message under a control (`<p class="field-error" id="<name>-error">`). */
function fieldError(html: string, name: string): string | undefined {
  const m = new RegExp(`<p class="field-error" id="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-error">([\\s\\S]*?)</p>`).exec(html)
  return m ? decodeEntities(m[1]!.trim()) : undefined
}

function flashSecret(html: string): string | undefined {
  const m = /<code class="secret">([^<]*)<\/code>/.exec(html)
  return m ? decodeEntities(m[1]!) : undefined
}

// ---- reading the database

async function count(t: TestApp, table: string): Promise<number> {
  return ((await query(t.ctx.db).get(`SELECT COUNT(*) AS n FROM ${table}`)) as { n: number }).n
}

interface AuditRowRaw {
  id: number
  actor_id: number | null
  actor_label: string
  action: string
  entity: string
  entity_id: string | null
  data: string
}

async function auditOf(t: TestApp, action: string): Promise<Array<AuditRowRaw & { parsed: Record<string, unknown> }>> {
  const rows = (await query(t.ctx.db).all('SELECT * FROM audit_log WHERE action = ? ORDER BY id', action)) as AuditRowRaw[]
  return rows.map((r) => ({ ...r, parsed: JSON.parse(r.data) as Record<string, unknown> }))
}

async function userRow(t: TestApp, id: number) {
  return (await query(t.ctx.db).get('SELECT * FROM app_user WHERE id = ?', id)) as
    | {
        id: number
        username: string
        name: string
        position: string
        phone: string
        department_id: number | null
        active: number
        must_change_password: number
        password_hash: string
      }
    | undefined
}

async function rolesOf(t: TestApp, id: number): Promise<string[]> {
  return ((await query(t.ctx.db).all('SELECT role FROM user_role WHERE user_id = ? ORDER BY role', id)) as Array<{ role: string }>).map((r) => r.role)
}

async function departmentId(t: TestApp, code: string): Promise<number> {
  return ((await query(t.ctx.db).get('SELECT id FROM department WHERE code = ?', code)) as { id: number }).id
}

/** What a sign-in through the real form answers: 303 and where to, or the status. */
async function trySignIn(t: TestApp, username: string, password: string): Promise<{ status: number; location?: string }> {
  const agent = supertest.agent(t.app)
  const page = await agent.get('/login').expect(200)
  const res = await agent
    .post('/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), username, password, next: '/' })
  return { status: res.status, location: res.headers.location as string | undefined }
}

const TH = {
  usernameFormat: 'ชื่อผู้ใช้ ๓–๓๒ ตัว ใช้ a–z ตัวเลข จุด ขีด หรือขีดล่าง',
  passwordTooShort: 'รหัสผ่านต้องยาวอย่างน้อย ๘ ตัวอักษร',
  required: 'กรุณากรอกข้อมูลนี้',
  unknownRole: 'บทบาทไม่ถูกต้อง',
  lastAdmin: 'ต้องมีผู้ดูแลระบบที่ใช้งานอยู่อย่างน้อยหนึ่งคน',
  validationFailed: 'ข้อมูลไม่ถูกต้อง กรุณาตรวจสอบช่องที่มีเครื่องหมาย',
}

describe('admin pages', () => {
  let t: TestApp
  beforeEach(async () => {
    t = await createTestApp()
  })
  afterEach(() => t.close())

  describe('users', () => {
    it('when an admin creates a finance and a staff user through the form, then each gets a 303 to their page, a row with the roles and a user.created entry', async () => {
      const { agent, user: admin } = await signedInAs(t, ['admin'])
      const cases = [
        { typed: 'Somchai.K', username: 'somchai.k', name: 'นายสมชาย ใจดี', position: 'เจ้าพนักงานพัสดุ', roles: ['finance'], dept: 'finance' },
        { typed: 'malee', username: 'malee', name: 'นางสาวมาลี รักงาน', position: 'นักวิชาการศึกษา', roles: ['staff'], dept: 'education' },
      ]
      for (const c of cases) {
        const page = await agent.get('/admin/users/new').expect(200)
        const form = parseForm(page.text, '/admin/users')
          .set('username', c.typed)
          .set('password', 'Welcome-2568')
          .set('name', c.name)
          .set('position', c.position)
          .set('departmentId', String(await departmentId(t, c.dept)))
          .setAll('roles', c.roles)
        const res = await agent.post('/admin/users').type('form').send(form.encode())
        expect(res.status, c.username).to.equal(303)
        const m = /^\/admin\/users\/(\d+)$/.exec(res.headers.location as string)
        expect(m, res.headers.location as string).to.not.equal(null)
        const id = Number(m![1])

        const row = (await userRow(t, id))!
        expect(row).to.include({
          username: c.username,
          name: c.name,
          position: c.position,
          department_id: await departmentId(t, c.dept),
          active: 1,
          must_change_password: 1,
        })
        expect(row.password_hash).to.not.include('Welcome-2568')
        expect(await rolesOf(t, id)).to.deep.equal(c.roles)

        const entries = (await auditOf(t, 'user.created')).filter((e) => e.entity_id === String(id))
        expect(entries).to.have.length(1)
        expect(entries[0]!.actor_id).to.equal(admin.id)
        expect(entries[0]!.parsed).to.deep.include({ username: c.username, roles: c.roles })
        expect(entries[0]!.data).to.not.include('Welcome-2568')

        const next = await agent.get(res.headers.location as string).expect(200)
        expect(next.text).to.include(`เพิ่มผู้ใช้ ${c.username} แล้ว`)
      }
      const list = await agent.get('/admin/users').expect(200)
      expect(list.text).to.include('นายสมชาย ใจดี').and.include('นางสาวมาลี รักงาน')

      // The initial password works once, and the person must choose their own.
      expect(await trySignIn(t, 'malee', 'Welcome-2568')).to.deep.equal({ status: 303, location: '/account/password' })
    })

    const invalid: Array<{ when: string; change: (f: Form, taken: string) => void; field: string; message: (taken: string) => string }> = [
      { when: 'the username has a space and a symbol', change: (f) => f.set('username', 'Bad User!'), field: 'username', message: () => TH.usernameFormat },
      { when: 'the password is shorter than 8', change: (f) => f.set('password', 'Ab-1234'), field: 'password', message: () => TH.passwordTooShort },
      { when: 'the name is blank', change: (f) => f.set('name', '   '), field: 'name', message: () => TH.required },
      { when: 'a role is unknown', change: (f) => f.setAll('roles', ['staff', 'superuser']), field: 'roles', message: () => TH.unknownRole },
      { when: 'no role is ticked', change: (f) => f.remove('roles'), field: 'roles', message: () => 'เลือกบทบาทอย่างน้อยหนึ่งบทบาท' },
      {
        when: 'the username is taken (in other letter case)',
        change: (f, taken) => f.set('username', taken.toUpperCase()),
        field: 'username',
        message: (taken) => `ชื่อผู้ใช้ ${taken} มีอยู่แล้ว`,
      },
    ]
    for (const c of invalid) {
      it(`when ${c.when}, then the form comes back 422 with the typed values (not the password), the Thai message at ${c.field}, and nothing is written`, async () => {
        const { agent } = await signedInAs(t, ['admin'])
        const taken = await makeUser(t.ctx, ['staff'], { username: 'taken.user' })
        const works = await departmentId(t, 'works')
        const page = await agent.get('/admin/users/new').expect(200)
        const form = parseForm(page.text, '/admin/users')
          .set('username', 'prasit')
          .set('password', 'Secret-pass-77')
          .set('name', 'นายประสิทธิ์ ขยันดี')
          .set('position', 'นายช่างโยธา')
          .set('phone', '081-234-5678')
          .set('departmentId', String(works))
          .setAll('roles', ['staff'])
        c.change(form, taken.username)
        const users = await count(t, 'app_user')
        const roles = await count(t, 'user_role')
        const audit = await count(t, 'audit_log')

        const res = await agent.post('/admin/users').type('form').send(form.encode())
        expect(res.status).to.equal(422)
        expect(fieldError(res.text, c.field), `message at ${c.field}`).to.equal(c.message(taken.username))
        expect(res.text).to.include(TH.validationFailed)

        const again = parseForm(res.text, '/admin/users')
        for (const name of ['username', 'name', 'position', 'phone', 'departmentId']) {
          expect(again.get(name), name).to.equal(form.get(name))
        }
        expect(again.getAll('roles')).to.deep.equal(form.getAll('roles').filter((r) => r !== 'superuser'))
        expect(again.get('password')).to.equal('')
        const typedPassword = form.get('password')!
        expect(res.text).to.not.include(`value="${typedPassword}"`)

        expect(await count(t, 'app_user'), 'users').to.equal(users)
        expect(await count(t, 'user_role'), 'roles').to.equal(roles)
        expect(await count(t, 'audit_log'), 'audit').to.equal(audit)
      })
    }

    it("when an admin changes a user's roles, department and position, then the row changes and user.updated and user.roles_changed are written", async () => {
      const { agent, user: admin } = await signedInAs(t, ['admin'])
      const staff = await makeUser(t.ctx, ['staff'])
      const page = await agent.get(`/admin/users/${staff.id}`).expect(200)
      const form = parseForm(page.text, `/admin/users/${staff.id}`)
      expect(form.get('active')).to.equal('1')
      expect(form.getAll('roles')).to.deep.equal(['staff'])
      const health = await departmentId(t, 'health')
      form.setAll('roles', ['staff', 'finance']).set('departmentId', String(health)).set('position', 'นักวิชาการสาธารณสุข')

      const res = await agent.post(`/admin/users/${staff.id}`).type('form').send(form.encode())
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal(`/admin/users/${staff.id}`)

      expect(await userRow(t, staff.id)).to.include({ department_id: health, position: 'นักวิชาการสาธารณสุข', active: 1 })
      expect(await rolesOf(t, staff.id)).to.deep.equal(['finance', 'staff'])

      const updated = await auditOf(t, 'user.updated')
      expect(updated).to.have.length(1)
      expect(updated[0]!).to.include({ entity: 'user', entity_id: String(staff.id), actor_id: admin.id })
      expect(updated[0]!.parsed.changed).to.deep.equal({
        position: { from: 'เจ้าหน้าที่', to: 'นักวิชาการสาธารณสุข' },
        department_id: { from: null, to: health },
      })
      const rolesChanged = await auditOf(t, 'user.roles_changed')
      expect(rolesChanged).to.have.length(1)
      expect(rolesChanged[0]!.parsed).to.deep.include({ from: ['staff'], to: ['finance', 'staff'] })

      const shown = await agent.get(`/admin/users/${staff.id}`).expect(200)
      expect(shown.text).to.include('บันทึกข้อมูลผู้ใช้แล้ว')
      expect(shown.text).to.include('user.roles_changed')
    })

    it('when an admin deactivates a user, then user.deactivated is written, their open session ends and they can no longer sign in', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const { agent: staffAgent, user: staff } = await signedInAs(t, ['staff'])
      await staffAgent.get('/').expect(200)

      const page = await agent.get(`/admin/users/${staff.id}`).expect(200)
      const form = parseForm(page.text, `/admin/users/${staff.id}`).remove('active')
      const res = await agent.post(`/admin/users/${staff.id}`).type('form').send(form.encode())
      expect(res.status).to.equal(303)

      expect((await userRow(t, staff.id))!.active).to.equal(0)
      const entries = await auditOf(t, 'user.deactivated')
      expect(entries).to.have.length(1)
      expect(entries[0]!.entity_id).to.equal(String(staff.id))

      const after = await staffAgent.get('/')
      expect(after.status).to.equal(303)
      expect(after.headers.location).to.equal('/login?next=%2F')
      expect((await trySignIn(t, staff.username, staff.password)).status).to.equal(401)
    })

    it('when the last active admin removes their own admin role or deactivates themselves, then 409 with the Thai reason and nothing changes', async () => {
      const { agent, user: admin } = await signedInAs(t, ['admin'])
      // Another admin who is inactive does not count.
      const other = await makeUser(t.ctx, ['admin'])
      await query(t.ctx.db).run('UPDATE app_user SET active = 0 WHERE id = ?', other.id)

      for (const change of [(f: Form) => f.setAll('roles', ['staff']), (f: Form) => f.remove('active')]) {
        const page = await agent.get(`/admin/users/${admin.id}`).expect(200)
        const form = parseForm(page.text, `/admin/users/${admin.id}`).set('position', 'ตำแหน่งใหม่')
        change(form)
        const audit = await count(t, 'audit_log')
        const res = await agent.post(`/admin/users/${admin.id}`).type('form').send(form.encode())
        expect(res.status).to.equal(409)
        expect(res.text).to.include(TH.lastAdmin)
        expect(await rolesOf(t, admin.id)).to.deep.equal(['admin'])
        expect(await userRow(t, admin.id)).to.include({ active: 1, position: 'เจ้าหน้าที่' })
        expect(await count(t, 'audit_log')).to.equal(audit)
      }
      await agent.get('/admin/users').expect(200)
    })

    it('when another active admin exists, then an admin may give up their own admin role', async () => {
      const { agent, user: admin } = await signedInAs(t, ['admin'])
      await makeUser(t.ctx, ['admin'])
      const page = await agent.get(`/admin/users/${admin.id}`).expect(200)
      const form = parseForm(page.text, `/admin/users/${admin.id}`).setAll('roles', ['committee'])
      const res = await agent.post(`/admin/users/${admin.id}`).type('form').send(form.encode())
      expect(res.status).to.equal(303)
      expect(await rolesOf(t, admin.id)).to.deep.equal(['committee'])
      expect((await agent.get('/admin/users')).status).to.equal(403)
    })

    it('when an admin resets a password to a typed one, then it is shown once, the old one stops working, and the user must change it after signing in', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const { agent: staffAgent, user: staff } = await signedInAs(t, ['staff'])
      const page = await agent.get(`/admin/users/${staff.id}`).expect(200)
      const form = parseForm(page.text, `/admin/users/${staff.id}/reset-password`).set('password', 'Temporary-2568')
      const res = await agent.post(`/admin/users/${staff.id}/reset-password`).type('form').send(form.encode())
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal(`/admin/users/${staff.id}`)

      const shown = await agent.get(`/admin/users/${staff.id}`).expect(200)
      expect(flashSecret(shown.text)).to.equal('Temporary-2568')
      expect(shown.text).to.include(`ตั้งรหัสผ่านใหม่ให้ ${staff.username} แล้ว`)
      const again = await agent.get(`/admin/users/${staff.id}`).expect(200)
      expect(flashSecret(again.text)).to.equal(undefined)

      const entries = await auditOf(t, 'user.password_reset')
      expect(entries).to.have.length(1)
      expect(entries[0]!.data).to.not.include('Temporary-2568')
      expect((await userRow(t, staff.id))!.must_change_password).to.equal(1)

      // Their open session ended; the old password no longer works; the new one forces a change.
      expect((await staffAgent.get('/')).status).to.equal(303)
      expect((await trySignIn(t, staff.username, TEST_PASSWORD)).status).to.equal(401)
      expect(await trySignIn(t, staff.username, 'Temporary-2568')).to.deep.equal({ status: 303, location: '/account/password' })
      const fresh = await signIn(t.app, staff.username, 'Temporary-2568')
      const home = await fresh.get('/')
      expect(home.status).to.equal(303)
      expect(home.headers.location).to.equal('/account/password')

      const pw = await fresh.get('/account/password').expect(200)
      const change = await fresh
        .post('/account/password')
        .type('form')
        .send({ _csrf: csrfFrom(pw.text), currentPassword: 'Temporary-2568', newPassword: 'My-own-pass-99', confirmPassword: 'My-own-pass-99' })
      expect(change.status).to.equal(303)
      await fresh.get('/').expect(200)
    })

    it('when an admin resets a password leaving it empty, then a generated one is shown once in the flash and signs the user in', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const staff = await makeUser(t.ctx, ['staff'])
      const page = await agent.get(`/admin/users/${staff.id}`).expect(200)
      const form = parseForm(page.text, `/admin/users/${staff.id}/reset-password`)
      expect(form.get('password')).to.equal('')
      const res = await agent.post(`/admin/users/${staff.id}/reset-password`).type('form').send(form.encode())
      expect(res.status).to.equal(303)

      const shown = await agent.get(res.headers.location as string).expect(200)
      const generated = flashSecret(shown.text)
      expect(generated, 'generated password in the flash').to.be.a('string')
      expect(generated!.length).to.be.at.least(8)
      expect(flashSecret((await agent.get(`/admin/users/${staff.id}`).expect(200)).text)).to.equal(undefined)
      expect((await auditOf(t, 'user.password_reset'))[0]!.data).to.not.include(generated!)

      expect(await trySignIn(t, staff.username, generated!)).to.deep.equal({ status: 303, location: '/account/password' })
      expect((await trySignIn(t, staff.username, TEST_PASSWORD)).status).to.equal(401)
    })

    it('when a reset password is too short, then nothing changes and the Thai reason is shown', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const staff = await makeUser(t.ctx, ['staff'])
      const before = (await userRow(t, staff.id))!.password_hash
      const page = await agent.get(`/admin/users/${staff.id}`).expect(200)
      const form = parseForm(page.text, `/admin/users/${staff.id}/reset-password`).set('password', 'short')
      const res = await agent.post(`/admin/users/${staff.id}/reset-password`).type('form').send(form.encode())
      expect(res.status).to.equal(303)
      const shown = await agent.get(res.headers.location as string).expect(200)
      expect(shown.text).to.include(TH.passwordTooShort)
      expect(flashSecret(shown.text)).to.equal(undefined)
      expect((await userRow(t, staff.id))!.password_hash).to.equal(before)
      expect(await auditOf(t, 'user.password_reset')).to.have.length(0)
    })
  })

  describe('departments', () => {
    it('when an admin adds a department with a code and a Thai name, then it is listed and department.created is written', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/departments').expect(200)
      expect(page.text).to.include('สำนักปลัด').and.include('กองคลัง')
      const form = parseForm(page.text, '/admin/departments').set('code', 'Disaster').set('name', 'งานป้องกันและบรรเทาสาธารณภัย')
      const res = await agent.post('/admin/departments').type('form').send(form.encode())
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/admin/departments')

      const row = (await query(t.ctx.db).get('SELECT * FROM department WHERE code = ?', 'disaster')) as { id: number; name: string; active: number } | undefined
      expect(row).to.include({ name: 'งานป้องกันและบรรเทาสาธารณภัย', active: 1 })
      const entries = await auditOf(t, 'department.created')
      expect(entries).to.have.length(1)
      expect(entries[0]!).to.include({ entity: 'department', entity_id: String(row!.id) })
      expect(entries[0]!.parsed).to.deep.equal({ code: 'disaster', name: 'งานป้องกันและบรรเทาสาธารณภัย' })

      const list = await agent.get('/admin/departments').expect(200)
      expect(list.text).to.include('เพิ่มหน่วยงานแล้ว').and.include('งานป้องกันและบรรเทาสาธารณภัย')
    })

    it('when the code is taken (in other letter case), then 422 with the Thai message at the code, the typed values kept, and nothing written', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/departments').expect(200)
      const form = parseForm(page.text, '/admin/departments').set('code', 'FINANCE').set('name', 'กองคลังซ้ำ')
      const departments = await count(t, 'department')
      const audit = await count(t, 'audit_log')
      const res = await agent.post('/admin/departments').type('form').send(form.encode())
      expect(res.status).to.equal(422)
      expect(fieldError(res.text, 'code')).to.equal('รหัส finance มีอยู่แล้ว')
      const again = parseForm(res.text, '/admin/departments')
      expect(again.get('code')).to.equal('FINANCE')
      expect(again.get('name')).to.equal('กองคลังซ้ำ')
      expect(await count(t, 'department')).to.equal(departments)
      expect(await count(t, 'audit_log')).to.equal(audit)
    })

    it('when the code has letters other than a–z, digits, dash or underscore, then 422 with the Thai message and nothing written', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/departments').expect(200)
      const form = parseForm(page.text, '/admin/departments').set('code', 'กองใหม่').set('name', 'กองใหม่')
      const departments = await count(t, 'department')
      const res = await agent.post('/admin/departments').type('form').send(form.encode())
      expect(res.status).to.equal(422)
      expect(fieldError(res.text, 'code')).to.equal('รหัสใช้ a–z ตัวเลข ขีด หรือขีดล่าง ไม่เกิน ๓๒ ตัว')
      expect(await count(t, 'department')).to.equal(departments)
    })

    it('when an admin edits a department, then the row changes and department.updated records before and after; a taken code is refused', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const id = await departmentId(t, 'works')
      const page = await agent.get(`/admin/departments/${id}`).expect(200)
      const form = parseForm(page.text, `/admin/departments/${id}`)
      expect(form.get('code')).to.equal('works')
      expect(form.get('name')).to.equal('กองช่าง')
      expect(form.get('active')).to.equal('1')

      const clash = await agent.post(`/admin/departments/${id}`).type('form').send(form.set('code', 'office').encode())
      expect(clash.status).to.equal(422)
      expect(fieldError(clash.text, 'code')).to.equal('รหัส office มีอยู่แล้ว')
      expect(await auditOf(t, 'department.updated')).to.have.length(0)

      form.set('code', 'engineering').set('name', 'กองช่าง (โยธา)')
      const res = await agent.post(`/admin/departments/${id}`).type('form').send(form.encode())
      expect(res.status).to.equal(303)
      const row = (await query(t.ctx.db).get('SELECT * FROM department WHERE id = ?', id)) as { code: string; name: string; active: number }
      expect(row).to.include({ code: 'engineering', name: 'กองช่าง (โยธา)', active: 1 })
      const entries = await auditOf(t, 'department.updated')
      expect(entries).to.have.length(1)
      expect(entries[0]!.parsed).to.deep.include({ from: { code: 'works', name: 'กองช่าง', sortOrder: 30, active: true } })
      expect(entries[0]!.parsed.to).to.deep.include({ code: 'engineering', name: 'กองช่าง (โยธา)', active: true })
    })
  })

  describe('settings', () => {
    it('when an admin opens the settings, then the seeded defaults show: follow-up 7 days, Thai digits on, the two-person rule on, the ข้อ 209 undertaking', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/settings').expect(200)
      const form = parseForm(page.text, '/admin/settings')
      expect(form.get('followUpDays')).to.equal('7')
      expect(form.get('defaultLoanDays')).to.equal('7')
      expect(form.get('maxLoanDays')).to.equal('30')
      expect(form.get('thaiDigits')).to.equal('1')
      expect(form.get('twoPersonRule')).to.equal('1')
      expect(form.get('handOverEarlyDays')).to.equal('3')
      expect(page.text).to.include('รับของก่อนวันเริ่มยืมได้ไม่เกิน (วัน)')
      expect(form.has('separateApproverAndHandover')).to.equal(false)
      expect(form.get('undertakingText')).to.match(/^ข้าพเจ้าจะส่งคืนในสภาพที่ใช้การได้เรียบร้อย/)
      expect(form.get('rulesSummary')).to.include('ข้อ ๒๐๙')
      expect(page.text).to.include('https://yk.example.go.th')
    })

    it('when an admin changes two settings through the form, then exactly those change and one settings.updated entry holds the diff', async () => {
      const { agent, user: admin } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/settings').expect(200)
      const form = parseForm(page.text, '/admin/settings').set('followUpDays', '10').set('agencyName', 'องค์การบริหารส่วนตำบลหนองบัว')
      const res = await agent.post('/admin/settings').type('form').send(form.encode())
      expect(res.status).to.equal(303)
      expect(res.headers.location).to.equal('/admin/settings')

      const entries = await auditOf(t, 'settings.updated')
      expect(entries).to.have.length(1)
      expect(entries[0]!.actor_id).to.equal(admin.id)
      expect(entries[0]!.parsed).to.deep.equal({
        changed: {
          agencyName: { from: 'องค์การบริหารส่วนตำบล', to: 'องค์การบริหารส่วนตำบลหนองบัว' },
          followUpDays: { from: 7, to: 10 },
        },
      })
      const after = await agent.get('/admin/settings').expect(200)
      expect(after.text).to.include('บันทึกการตั้งค่าแล้ว')
      const shown = parseForm(after.text, '/admin/settings')
      expect(shown.get('followUpDays')).to.equal('10')
      expect(shown.get('undertakingText')).to.equal(form.get('undertakingText'))

      // Saving the page again unchanged writes nothing.
      const audit = await count(t, 'audit_log')
      expect((await agent.post('/admin/settings').type('form').send(shown.encode())).status).to.equal(303)
      expect(await count(t, 'audit_log')).to.equal(audit)
    })

    it('when an admin sets the early hand-over days to 0 through the form, then it is saved and audited as the one change', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/settings').expect(200)
      const res = await agent.post('/admin/settings').type('form').send(parseForm(page.text, '/admin/settings').set('handOverEarlyDays', '0').encode())
      expect(res.status).to.equal(303)
      expect((await auditOf(t, 'settings.updated')).map((e) => e.parsed)).to.deep.equal([{ changed: { handOverEarlyDays: { from: 3, to: 0 } } }])
      expect(parseForm((await agent.get('/admin/settings')).text, '/admin/settings').get('handOverEarlyDays')).to.equal('0')
    })

    const bad: Array<{ when: string; change: (f: Form) => void; field: string; message: string }> = [
      {
        when: 'the early hand-over days are negative',
        change: (f) => f.set('handOverEarlyDays', '-1'),
        field: 'handOverEarlyDays',
        message: 'จำนวนวันติดลบไม่ได้',
      },
      { when: 'the early hand-over days exceed 30', change: (f) => f.set('handOverEarlyDays', '31'), field: 'handOverEarlyDays', message: 'จำนวนวันมากเกินไป' },
      { when: 'the maximum loan days is not a number', change: (f) => f.set('maxLoanDays', 'abc'), field: 'maxLoanDays', message: 'กรุณากรอกตัวเลข' },
      {
        when: 'the default loan days exceed the maximum',
        change: (f) => f.set('defaultLoanDays', '45'),
        field: 'defaultLoanDays',
        message: 'จำนวนวันยืมตั้งต้นต้องไม่เกินจำนวนวันสูงสุด',
      },
      {
        when: 'an ITA line is not year|code|title',
        change: (f) => f.set('itaIndicators', '2568|O27|การเปิดเผยข้อมูล\n2569 O27'),
        field: 'itaIndicators',
        message: 'บรรทัดที่ 2 ไม่อยู่ในรูปแบบ ปี|รหัส|ชื่อ',
      },
      { when: 'the follow-up days is zero', change: (f) => f.set('followUpDays', '0'), field: 'followUpDays', message: 'ต้องมีค่าอย่างน้อย ๑' },
      {
        when: 'a salvage line is not years|percent',
        change: (f) => f.set('salvageRates', '5|8\nสิบปี'),
        field: 'salvageRates',
        message: 'บรรทัดที่ 2 ไม่อยู่ในรูปแบบ ปี|ร้อยละ',
      },
    ]

    it('when an admin edits the salvage rates, then the compensation rule uses the new table', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/settings').expect(200)
      const form = parseForm(page.text, '/admin/settings')
      expect(form.get('salvageRates')).to.equal('5|8\n8|10\n10|11')
      form.set('salvageRates', '5|8\n8|10\n10|12.5')
      expect((await agent.post('/admin/settings').type('form').send(form.encode())).status).to.equal(303)
      const stored = await t.ctx.db.selectFrom('setting').select('value').where('key', '=', 'salvageRates').executeTakeFirstOrThrow()
      expect(JSON.parse(stored.value)).to.deep.equal([
        { years: 5, percent: 8 },
        { years: 8, percent: 10 },
        { years: 10, percent: 12.5 },
      ])
    })
    for (const c of bad) {
      it(`when ${c.when}, then 422 with the Thai message at that field, the typed values kept, and nothing changed`, async () => {
        const { agent } = await signedInAs(t, ['admin'])
        const page = await agent.get('/admin/settings').expect(200)
        const form = parseForm(page.text, '/admin/settings').set('agencyName', 'อบต.ทดสอบ')
        c.change(form)
        const audit = await count(t, 'audit_log')
        const settings = await count(t, 'setting')
        const res = await agent.post('/admin/settings').type('form').send(form.encode())
        expect(res.status).to.equal(422)
        expect(fieldError(res.text, c.field)).to.equal(c.message)
        const again = parseForm(res.text, '/admin/settings')
        expect(again.get(c.field)?.replace(/\r\n/g, '\n')).to.equal(form.get(c.field))
        expect(again.get('agencyName')).to.equal('อบต.ทดสอบ')
        expect(await count(t, 'audit_log')).to.equal(audit)
        expect(await count(t, 'setting')).to.equal(settings)
        const reread = parseForm((await agent.get('/admin/settings').expect(200)).text, '/admin/settings')
        expect(reread.get('agencyName')).to.equal('องค์การบริหารส่วนตำบล')
      })
    }

    it('when an admin turns off the two-person rule, then the audit log page shows that change', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const page = await agent.get('/admin/settings').expect(200)
      const form = parseForm(page.text, '/admin/settings').remove('twoPersonRule')
      expect((await agent.post('/admin/settings').type('form').send(form.encode())).status).to.equal(303)

      const entries = await auditOf(t, 'settings.updated')
      expect(entries).to.have.length(1)
      expect(entries[0]!.parsed).to.deep.equal({ changed: { twoPersonRule: { from: true, to: false } } })
      const saved = parseForm((await agent.get('/admin/settings').expect(200)).text, '/admin/settings')
      expect(saved.has('twoPersonRule')).to.equal(false)

      const audit = await agent.get('/audit?action=settings.updated').expect(200)
      const row = /<tr[^>]*>\s*<td data-label="ลำดับ">(\d+)<\/td>[\s\S]*?<\/tr>/.exec(audit.text)
      expect(row, 'a settings.updated row').to.not.equal(null)
      expect(Number(row![1])).to.equal(entries[0]!.id)
      expect(decodeEntities(row![0])).to.include('settings.updated').and.include('"twoPersonRule":{"from":true,"to":false}')
    })

    it('when an admin links the mayor to an account, then the choice is saved and audited; an unknown account is 422 at that field and nothing changes', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      const mayor = await makeUser(t.ctx, ['executive'], { username: 'nayok.link', name: 'นายสมปอง ใจดี' })
      const page = await agent.get('/admin/settings').expect(200)
      const form = parseForm(page.text, '/admin/settings')
      // No signatory is linked yet; the supplies officer (who records, never approves) has no account choice at all.
      expect(form.get('mayorUsername')).to.equal('')
      expect(form.has('suppliesOfficerUsername')).to.equal(false)
      expect(page.text).to.include('<option value="nayok.link"')

      const audit = await count(t, 'audit_log')
      const tampered = await agent.post('/admin/settings').type('form').send(form.set('mayorUsername', 'nobody.here').encode())
      expect(tampered.status).to.equal(422)
      expect(fieldError(tampered.text, 'mayorUsername')).to.be.a('string').and.not.equal('')
      expect(await count(t, 'audit_log')).to.equal(audit)

      form.set('mayorName', mayor.name).set('mayorUsername', 'nayok.link')
      expect((await agent.post('/admin/settings').type('form').send(form.encode())).status).to.equal(303)
      const entries = await auditOf(t, 'settings.updated')
      expect(entries).to.have.length(1)
      expect(entries[0]!.parsed).to.deep.equal({
        changed: {
          mayor: {
            from: { name: '', position: 'นายกองค์การบริหารส่วนตำบล', username: '' },
            to: { name: 'นายสมปอง ใจดี', position: 'นายกองค์การบริหารส่วนตำบล', username: 'nayok.link' },
          },
        },
      })
      const saved = parseForm((await agent.get('/admin/settings').expect(200)).text, '/admin/settings')
      expect(saved.get('mayorUsername')).to.equal('nayok.link')
      expect(saved.get('mayorName')).to.equal('นายสมปอง ใจดี')
    })
  })

  describe('audit log page', () => {
    it('when the chain is intact, then the page says so and lists the entries, newest changes included', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      await makeUser(t.ctx, ['staff'], { username: 'audited.person' })
      const res = await agent.get('/audit').expect(200)
      const n = await count(t, 'audit_log')
      expect(res.text).to.include('data-verify="ok"')
      expect(res.text).to.match(/บันทึกทั้ง [0-9๐-๙,]+ รายการต่อเนื่องและไม่ถูกแก้ไข/)
      const ids = [...res.text.matchAll(/<td data-label="ลำดับ">(\d+)<\/td>/g)].map((m) => Number(m[1]))
      expect(ids.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: n }, (_v, i) => i + 1))
      expect(res.text).to.include('user.created').and.include('auth.signed_in').and.include('audited.person')
    })

    it('when one stored entry is altered behind the application, then the page shows the chain broken at that entry', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      await makeUser(t.ctx, ['staff'])
      await makeUser(t.ctx, ['finance'])
      const target = (await auditOf(t, 'user.created'))[1]!
      await query(t.ctx.db).run('UPDATE audit_log SET data = ? WHERE id = ?', JSON.stringify({ username: 'someone-else' }), target.id)

      const res = await agent.get('/audit').expect(200)
      expect(res.text).to.include('data-verify="broken"')
      expect(res.text).to.include(`data-broken-at="${target.id}"`)
      expect(res.text).to.include(`พบความผิดปกติที่รายการลำดับ ${target.id}: เนื้อหาไม่ตรงกับค่าแฮชที่บันทึกไว้`)
      expect(res.text).to.not.include('data-verify="ok"')
    })

    it('when an entry no longer holds JSON, then the page still renders and names it as unreadable', async () => {
      const { agent } = await signedInAs(t, ['admin'])
      await makeUser(t.ctx, ['staff'])
      await query(t.ctx.db).run('UPDATE audit_log SET data = ? WHERE id = ?', '{not json', 2)
      const res = await agent.get('/audit').expect(200)
      expect(res.text).to.include('data-broken-at="2"')
      expect(res.text).to.include('อ่านข้อมูลของรายการไม่ได้')
    })
  })
})
