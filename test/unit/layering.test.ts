import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'chai'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

function filesUnder(dir: string): string[] {
  const abs = path.join(ROOT, dir)
  if (!fs.existsSync(abs)) return []
  return fs
    .readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f))
}

/** Every module a file imports, resolved to a project path or left as a package name. */
function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8')
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm),
  ].map((m) => m[1] ?? m[2] ?? m[3]!)
  return specs.map((s) => (s.startsWith('.') ? path.normalize(path.join(path.dirname(file), s)).replace(/\.js$/, '.ts') : s))
}

function violations(dir: string, forbidden: (imp: string) => boolean): string[] {
  return filesUnder(dir).flatMap((f) =>
    importsOf(f)
      .filter(forbidden)
      .map((imp) => `${f} imports ${imp}`),
  )
}

const isProject = (imp: string, prefix: string) => imp.startsWith(prefix)

describe('layering (ARCHITECTURE.md)', () => {
  // Node's own modules are as frozen as kysely (a migration that appends to the audit chain hashes with node:crypto).
  it('when a migration imports, then it imports only kysely, Node’s own modules and the dialect seam', () => {
    expect(
      violations('db/migrations', (i) => i !== 'kysely' && !i.startsWith('node:') && !i.startsWith('db/migrations/') && i !== 'db/dialect.ts'),
    ).to.deep.equal([])
  })

  it('when a repository imports, then it imports only kysely, the schema, the dialect seam and other repositories', () => {
    const allowed = ['kysely', 'db/schema.ts', 'db/dialect.ts', 'db/connection.ts']
    expect(violations('server/repositories', (i) => !allowed.includes(i) && !i.startsWith('server/repositories/'))).to.deep.equal([])
  })

  it('when a service imports, then it never imports express, the web layer, kysely or better-sqlite3', () => {
    expect(
      violations(
        'server/services',
        (i) =>
          ['express', 'express-session', 'kysely', 'better-sqlite3'].includes(i) ||
          isProject(i, 'server/web/') ||
          isProject(i, 'server/api/') ||
          isProject(i, 'server/http/'),
      ),
    ).to.deep.equal([])
  })

  it('when web or api code imports, then it never imports repositories, kysely, better-sqlite3 or the db connection', () => {
    const bad = (i: string) =>
      ['kysely', 'better-sqlite3'].includes(i) || isProject(i, 'server/repositories/') || i === 'db/connection.ts' || i === 'db/migrator.ts'
    expect([...violations('server/web', bad), ...violations('server/api', bad), ...violations('server/http', bad)]).to.deep.equal([])
  })

  it('when API code imports, then it never imports the page layer (what both use lives in server/http/)', () => {
    expect(violations('server/api', (i) => isProject(i, 'server/web/'))).to.deep.equal([])
  })

  it('when shared HTTP middleware imports, then it never imports pages, the API, repositories, kysely or better-sqlite3', () => {
    const bad = (i: string) =>
      ['kysely', 'better-sqlite3'].includes(i) ||
      ['server/web/', 'server/api/', 'server/repositories/'].some((p) => isProject(i, p)) ||
      i === 'db/connection.ts'
    expect(violations('server/http', bad)).to.deep.equal([])
  })

  it('when a generic helper in server/lib imports, then it never imports services, repositories or the HTTP layers', () => {
    const bad = (i: string) =>
      ['express', 'kysely', 'better-sqlite3'].includes(i) ||
      ['server/services/', 'server/repositories/', 'server/web/', 'server/api/', 'server/http/'].some((p) => isProject(i, p))
    expect(violations('server/lib', bad)).to.deep.equal([])
  })

  it('when a route file imports, then it never imports another route file', () => {
    // What two routers share (a page both render, a view-model) lives in server/web/, beside them.
    expect(violations('server/web/routes', (i) => isProject(i, 'server/web/routes/'))).to.deep.equal([])
  })

  it('when any server module but main.ts and config.ts is read, then it does not touch process.env', () => {
    const offenders = filesUnder('server')
      .filter((f) => !['server/main.ts', 'server/config.ts'].includes(f))
      .filter((f) => /process\.env/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')))
    expect(offenders).to.deep.equal([])
  })

  it('when any module but main.ts and scripts is read, then it never listens on a port', () => {
    const offenders = [...filesUnder('server'), ...filesUnder('db')]
      .filter((f) => f !== 'server/main.ts')
      .filter((f) => /\.listen\(/.test(fs.readFileSync(path.join(ROOT, f), 'utf8')))
    expect(offenders).to.deep.equal([])
  })
})
