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

/**
 * An address and its province on one line. An address typed in full already ends with the province
 * («… จังหวัดสุวรรณเขต ๙๙๑๕๐»): then the province is not added again after the postcode.
 */
export function addressWithProvince(address: string, province: string): string {
  const a = address.trim()
  const p = province.trim()
  const bare = p.replace(/^(จังหวัด|จ\.)\s*/, '')
  const squash = (s: string) => s.normalize('NFC').replace(/\s+/g, '')
  if (!bare) return a
  if (squash(a).includes(squash(bare))) return a
  return [a, p].filter(Boolean).join(' ')
}

/** Words a Thai place's or body's name starts with (วัด, โรงเรียน, ชุมชน, สมาคม …): not a person's name. */
const ORGANISATION_START =
  /^(วัด|โรงเรียน|ร\.ร\.|ชุมชน|หมู่บ้าน|กลุ่ม|ชมรม|สมาคม|มูลนิธิ|สหกรณ์|สำนักสงฆ์|มัสยิด|โบสถ์|คริสตจักร|ศาลเจ้า|ศูนย์|สภา|องค์การ|อบต\.?|อบจ\.?|เทศบาล|โรงพยาบาล|รพ\.สต\.?|สถานี|กอง|สำนักงาน|ที่ว่าการ|บริษัท|ห้างหุ้นส่วน|หจก\.?|ร้าน)/

export function looksLikeOrganisation(text: string): boolean {
  return ORGANISATION_START.test(text.normalize('NFC').trim())
}
