import { expect } from 'chai'
import { cleanName, personKey, samePerson } from '../../server/i18n/person-names.js'

/* One person however the name is typed (SPEC §1: nobody acts on their own loan by any spelling). */

describe('person names', () => {
  it('when a name is typed with other spacing, a zero-width space, a soft hyphen or without its title, then it is the same person', () => {
    for (const other of ['นายสมปอง  ใจดี', ' นายสมปอง ใจดี ', 'นายสมปอง\u200bใจดี', 'นายสมปอง\u200c ใจดี', 'สมปอง ใจดี', 'สมปองใจดี', 'นายสมปอง\u00adใจดี']) {
      expect(samePerson('นายสมปอง ใจดี', other), other).to.equal(true)
    }
  })

  it('when the titles differ (นาง, นางสาว) or the name differs, then the title is dropped but the name must match', () => {
    expect(samePerson('นางสาวมาลี ศรีสุข', 'นางมาลี ศรีสุข')).to.equal(true)
    expect(samePerson('นางสาวมาลี ศรีสุข', 'นางสาวมาลัย ศรีสุข')).to.equal(false)
    // นางสาว is one title, not นาง + «สาว…».
    expect(personKey('นางสาวมาลี ศรีสุข')).to.equal('มาลีศรีสุข')
  })

  it('when Thai marks are typed in another order, then NFC makes them one; NFKC is never applied (ำ stays ำ)', () => {
    expect(cleanName('น้ำใส')).to.equal('น้ำใส')
    expect(samePerson('นายน้ำ ใส', 'นายน้ำ ใส')).to.equal(true)
  })

  it('when either name is empty, or only a title, then it is nobody', () => {
    expect(samePerson('', '')).to.equal(false)
    expect(samePerson(undefined, 'นายสมปอง ใจดี')).to.equal(false)
    expect(samePerson('นาย', 'นาย')).to.equal(false)
    expect(personKey(' นาย ')).to.equal('')
  })
})
