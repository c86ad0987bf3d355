import thaiBahtText from 'thai-baht-text'

// thai-baht-text 2.0.5 replaces module.exports with the function, so its named exports are lost at
// runtime and only the default import works; its typings describe that default as the namespace.
const toWords = thaiBahtText as unknown as (input: string) => string

/**
 * An amount in Thai words, as receipts and compensation records write it: 1,250,000 satang →
 * «หนึ่งหมื่นสองพันห้าร้อยบาทถ้วน». Integer satang go in as their decimal text, never as a float,
 * so no amount is off by a satang. The words are Thai whatever the page's language: they belong to
 * the document, like the signature lines.
 */
export function bahtText(satang: number): string {
  if (!Number.isSafeInteger(satang)) throw new RangeError(`Not an amount in satang: ${satang}`)
  const negative = satang < 0
  const abs = Math.abs(satang)
  if (abs === 0) return 'ศูนย์บาทถ้วน'
  const baht = Math.floor(abs / 100)
  const rest = abs % 100
  const words = toWords(`${baht}.${String(rest).padStart(2, '0')}`)
  return negative ? `ลบ${words}` : words
}
