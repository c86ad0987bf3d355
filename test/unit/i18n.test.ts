import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'chai'
import { hasMessage, messageKeys, translate } from '../../server/i18n/index.js'

const ROOT = path.resolve(import.meta.dirname, '..', '..')

function read(dir: string, ext: string): Array<[string, string]> {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => [path.join(dir, f), fs.readFileSync(path.join(ROOT, dir, f), 'utf8')])
}

describe('message catalogues', () => {
  it('when a view or server module names a literal message key, then the catalogue has it', () => {
    const missing: string[] = []
    const sources = [...read('views', '.ejs'), ...read('server', '.ts')]
    for (const [file, text] of sources) {
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z][\w]*\.[\w.]*\w)'/g)) if (!hasMessage(m[1]!)) missing.push(`${file}: ${m[1]}`)
      for (const m of text.matchAll(/(?:AppError\([^,]+,|error:|message:)\s*'([a-z][\w]*\.[\w.]*\w)'/g))
        if (!hasMessage(m[1]!)) missing.push(`${file}: ${m[1]}`)
    }
    expect(missing).to.deep.equal([])
  })

  it('when a key has a Thai text, then the English text exists and is not Thai', () => {
    for (const key of messageKeys()) {
      const en = translate('en', key)
      expect(en, key).to.not.equal(key)
      if (!['common.thai'].includes(key)) expect(en, key).to.not.match(/[\u0E00-\u0E7F]{3,}/)
    }
  })

  it('when placeholders are filled, then the values appear and an unknown key shows itself', () => {
    expect(translate('th', 'user.usernameTaken', { username: 'somchai' })).to.equal('ชื่อผู้ใช้ somchai มีอยู่แล้ว')
    expect(translate('en', 'no.such.key')).to.equal('no.such.key')
  })

  it('when Thai text is written in server code outside the catalogues, then it is only seed or default data', () => {
    const allowed = new Set(['server/services/settings.service.ts', 'server/services/user.service.ts'])
    const offenders = read('server', '.ts')
      .filter(([f]) => !f.startsWith('server/i18n/') && !allowed.has(f))
      .filter(([, text]) => /[\u0E00-\u0E7F]/.test(text.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')))
      .map(([f]) => f)
    expect(offenders).to.deep.equal([])
  })
})
