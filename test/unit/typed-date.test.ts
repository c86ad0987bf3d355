import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { translator } from '../../server/i18n/index.js'
import { DATE_FIELDS, parseTypedDate, showTypedDate, typedDateMessage, type TypedDateResult } from '../../server/web/typed-date.js'
import { dateAttrs } from '../../server/web/view-helpers.js'

const ok = (value: string): TypedDateResult => ({ ok: true, value })

describe('dates typed on the pages (พ.ศ.)', () => {
  it('when a day is typed as dd/mm/25xx, then it is that day in the Common Era', () => {
    expect(parseTypedDate('15/10/2568')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('1/2/2568')).to.deep.equal(ok('2025-02-01'))
    expect(parseTypedDate('01/10/2567')).to.deep.equal(ok('2024-10-01'))
  })

  it('when ISO yyyy-mm-dd is typed, then it is still accepted (a Buddhist-era year in it too)', () => {
    expect(parseTypedDate('2025-10-15')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('2568-10-15')).to.deep.equal(ok('2025-10-15'))
  })

  it('when a Common-Era year 1900–2300 is typed in the slash form, then it is taken as ค.ศ.', () => {
    expect(parseTypedDate('15/10/2025')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('31/12/1900')).to.deep.equal(ok('1900-12-31'))
  })

  it('when the day does not exist, then it says «ไม่มีวันที่ …» with the day as typed', () => {
    const r = parseTypedDate('31/02/2568')
    expect(r).to.deep.equal({ ok: false, reason: 'no_such_day', typed: '31/02/2568' })
    const t = translator('th')
    expect(typedDateMessage(t, r as Extract<TypedDateResult, { ok: false }>)).to.equal('ไม่มีวันที่ 31/02/2568')
    expect(parseTypedDate('31/4/2568')).to.include({ ok: false, reason: 'no_such_day', typed: '31/04/2568' })
    expect(parseTypedDate('15/13/2568')).to.include({ ok: false, reason: 'no_such_day' })
    expect(parseTypedDate('00/10/2568')).to.include({ ok: false, reason: 'no_such_day' })
    expect(parseTypedDate('2025-02-30')).to.include({ ok: false, reason: 'no_such_day', typed: '2025-02-30' })
  })

  it('when 29/02 is typed, then it exists in B.E. leap years only (2567 = 2024, 2543 = 2000) and not in 2568 or 2443 (= 1900)', () => {
    expect(parseTypedDate('29/02/2567')).to.deep.equal(ok('2024-02-29'))
    expect(parseTypedDate('29/02/2543')).to.deep.equal(ok('2000-02-29'))
    expect(parseTypedDate('29/02/2568')).to.include({ ok: false, reason: 'no_such_day' })
    expect(parseTypedDate('29/02/2443')).to.include({ ok: false, reason: 'no_such_day' })
  })

  it('when spaces surround it, or other separators are used, or the digits are Thai, then it still reads', () => {
    expect(parseTypedDate('  15/10/2568 ')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('\t2025-10-15\n')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('๑๕/๑๐/๒๕๖๘')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate(' ๒๙/๐๒/๒๕๖๗ ')).to.deep.equal(ok('2024-02-29'))
    expect(parseTypedDate('15.10.2568')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('15-10-2568')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('15 / 10 / 2568')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('15102568')).to.deep.equal(ok('2025-10-15'))
    expect(parseTypedDate('１５/１０/２５６８')).to.deep.equal(ok('2025-10-15'))
  })

  it('when the year is in neither era (2301–2399, before 1900) or the text is no date, then it is refused with a reason', () => {
    expect(parseTypedDate('15/10/2350')).to.include({ ok: false, reason: 'out_of_range' })
    expect(parseTypedDate('15/10/1899')).to.include({ ok: false, reason: 'out_of_range' })
    expect(parseTypedDate('0999-01-01')).to.include({ ok: false, reason: 'out_of_range' })
    expect(parseTypedDate('15/10/68')).to.include({ ok: false, reason: 'format' })
    expect(parseTypedDate('พรุ่งนี้')).to.include({ ok: false, reason: 'format' })
    expect(parseTypedDate('')).to.include({ ok: false, reason: 'format' })
    expect(typedDateMessage(translator('th'), { ok: false, reason: 'format', typed: 'x' })).to.include('15/10/2568')
  })

  it('when an ISO date is shown in a box, then it reads dd/mm/25xx; what someone typed is shown as typed', () => {
    expect(showTypedDate('2025-10-15')).to.equal('15/10/2568')
    expect(showTypedDate('2024-02-29')).to.equal('29/02/2567')
    expect(showTypedDate('31/02/2568')).to.equal('31/02/2568')
    expect(showTypedDate('2025-02-31')).to.equal('2025-02-31')
    expect(showTypedDate(null)).to.equal('')
    expect(showTypedDate(undefined)).to.equal('')
  })

  it('when a date box is written, then it is a text box with a numeric keyboard, the hint and its calendar limits', () => {
    const html = dateAttrs('2025-10-15', { min: '2025-10-01', max: '', placeholder: 'วว/ดด/ปปปป' })
    expect(html).to.equal(' type="text" value="15/10/2568" inputmode="numeric" autocomplete="off" placeholder="วว/ดด/ปปปป" data-date data-min="2025-10-01"')
  })

  it('when the views are read, then no native date box is left and every date box has a name the page chain reads', () => {
    const files: string[] = []
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f)
        if (statSync(p).isDirectory()) walk(p)
        else if (p.endsWith('.ejs')) files.push(p)
      }
    }
    walk('views')
    const names = new Set<string>()
    for (const file of files) {
      const text = readFileSync(file, 'utf8')
      expect(text, file).not.to.match(/type="date"/)
      for (const m of text.matchAll(/<input\b[^\n]*?dateAttrs\([^\n]*/g)) {
        if (file.endsWith('partials/field.ejs')) continue // the shared field: its callers are read below
        const name = /name="([^"]+)"/.exec(m[0])?.[1]
        expect(name, `${file}: ${m[0]}`).to.be.a('string')
        names.add(name!.replace('<%= prefix %>', 'paperApproval.'))
        if (name!.includes('<%= prefix %>')) names.add(name!.replace('<%= prefix %>', ''))
      }
      for (const m of text.matchAll(/f\('([^']+)',[^)]*type: 'date'/g)) names.add(m[1]!)
    }
    expect(names.size).to.be.greaterThan(10)
    for (const n of names) expect(DATE_FIELDS, n).to.include(n)
  })
})
