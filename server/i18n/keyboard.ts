/**
 * The Thai Kedmanee keyboard over the US keys. A USB barcode scanner types key codes, so with the
 * Thai layout switched on "https://" arrives as "้ะะยหซฝฝ" and 416-66-0001 as "ภๅุขุุขจจจๅ";
 * mapping the characters back recovers what was keyed. Pure; no I/O.
 */
const US_KEYS = "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./" + '~!@#$%^&*()_+QWERTYUIOP{}|ASDFGHJKL:"ZXCVBNM<>?'
const KEDMANEE = '_ๅ/-ภถุึคตจขชๆไำพะัีรนยบลฃฟหกดเ้่าสวงผปแอิืทมใฝ' + '%+๑๒๓๔ู฿๕๖๗๘๙๐"ฎฑธํ๊ณฯญฐ,ฅฤฆฏโฌ็๋ษศซ.()ฉฮฺ์?ฒฬฦ'

const FROM_KEDMANEE = new Map<string, string>()
{
  const us = [...US_KEYS]
  const th = [...KEDMANEE]
  if (us.length !== th.length) throw new Error('keyboard tables differ in length')
  th.forEach((c, i) => {
    FROM_KEDMANEE.set(c, us[i]!)
  })
}

/** What a person (or a scanner) keyed on a US keyboard, for text that came through the Thai layout. */
export function fromThaiKeyboard(s: string): string {
  let out = ''
  for (const c of s) out += FROM_KEDMANEE.get(c) ?? c
  return out
}
