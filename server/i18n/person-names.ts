/*
 * Whether two typed names are one person (SPEC §1: nobody approves, records or hands over a loan of
 * their own, whichever way their name was typed). Pure. Names are compared after NFC, without
 * invisible characters (a zero-width space is common in Thai typing), without the spaces, and
 * without a leading title — «นายสมปอง ใจดี», «สมปอง  ใจดี» and «นายสมปอง\u200bใจดี» are one person.
 */

const INVISIBLE = /[\u00AD\u200B-\u200F\u2060\uFEFF]/g

/** Titles a name may begin with, the longest first (นางสาว before นาง). */
const TITLES = ['ว่าที่ร้อยตรี', 'นางสาว', 'น.ส.', 'นาง', 'นาย', 'ด.ช.', 'ด.ญ.', 'ดร.', 'mrs.', 'miss', 'mr.', 'ms.', 'dr.']

/** A name as typed, made comparable: NFC, no invisible characters, one space between words. */
export function cleanName(name: string): string {
  return name.normalize('NFC').replace(INVISIBLE, '').trim().replace(/\s+/g, ' ')
}

/** The key two spellings of one person share: the clean name without its title and without spaces, in lower case. */
export function personKey(name: string): string {
  let s = cleanName(name).toLowerCase()
  // A title alone names nobody.
  if (TITLES.includes(s)) return ''
  for (const t of TITLES) {
    if (s.startsWith(t) && s.length > t.length) {
      s = s.slice(t.length)
      break
    }
  }
  return s.replace(/\s+/g, '')
}

/** Both names given, and the same person by `personKey`. */
export function samePerson(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false
  const ka = personKey(a)
  return ka !== '' && ka === personKey(b)
}
