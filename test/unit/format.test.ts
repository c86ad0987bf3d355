import { expect } from 'chai'
import {
  formatDate,
  formatDateTime,
  formatNumber,
  formatSatang,
  codeKey,
  normalizeCode,
  parseBahtToSatang,
  toThaiDigits,
  truncateText,
} from '../../server/i18n/format.js'

const segmenter = new Intl.Segmenter('th', { granularity: 'grapheme' })
const graphemesOf = (s: string): string[] => Array.from(segmenter.segment(s), (x) => x.segment)

describe('format', () => {
  describe('toThaiDigits', () => {
    it('when the text has ASCII digits, then each becomes its Thai digit and the rest is kept', () => {
      expect(toThaiDigits('0123456789')).to.equal('๐๑๒๓๔๕๖๗๘๙')
      expect(toThaiDigits('ครุภัณฑ์ 12/2567-A')).to.equal('ครุภัณฑ์ ๑๒/๒๕๖๗-A')
    })
  })

  describe('formatDate', () => {
    it('when a calendar date is formatted in Thai, then the year is Buddhist era and no era label appears', () => {
      expect(formatDate('2024-10-15', { locale: 'th' })).to.equal('15 ต.ค. 2567')
      expect(formatDate('2024-10-15', { locale: 'th', style: 'short' })).to.equal('15 ต.ค. 2567')
      expect(formatDate('2024-10-15', { locale: 'th', style: 'long' })).to.equal('15 ตุลาคม 2567')
      expect(formatDate('2024-10-15', { locale: 'th', style: 'numeric' })).to.equal('15/10/2567')
    })

    it('when Thai digits are asked for, then every digit is Thai', () => {
      expect(formatDate('2024-10-15', { locale: 'th', thaiDigits: true })).to.equal('๑๕ ต.ค. ๒๕๖๗')
      expect(formatDate('2024-10-15', { locale: 'th', style: 'long', thaiDigits: true })).to.equal('๑๕ ตุลาคม ๒๕๖๗')
      expect(formatDate('2024-10-05', { locale: 'th', style: 'numeric', thaiDigits: true })).to.equal('๐๕/๑๐/๒๕๖๗')
    })

    it('when a calendar date is formatted in English, then the year is Common Era', () => {
      expect(formatDate('2024-10-15', { locale: 'en' })).to.equal('15 Oct 2024')
      expect(formatDate('2024-10-15', { locale: 'en', style: 'long' })).to.equal('15 October 2024')
      expect(formatDate('2024-10-15', { locale: 'en', style: 'numeric' })).to.equal('15/10/2024')
    })

    it('when every month is formatted short, then the abbreviations are the expected ones (Sep, not Sept)', () => {
      const months = Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, '0')}-15`)
      expect(months.map((d) => formatDate(d, { locale: 'th' }).split(' ')[1])).to.deep.equal([
        'ม.ค.',
        'ก.พ.',
        'มี.ค.',
        'เม.ย.',
        'พ.ค.',
        'มิ.ย.',
        'ก.ค.',
        'ส.ค.',
        'ก.ย.',
        'ต.ค.',
        'พ.ย.',
        'ธ.ค.',
      ])
      expect(months.map((d) => formatDate(d, { locale: 'en' }).split(' ')[1])).to.deep.equal([
        'Jan',
        'Feb',
        'Mar',
        'Apr',
        'May',
        'Jun',
        'Jul',
        'Aug',
        'Sep',
        'Oct',
        'Nov',
        'Dec',
      ])
      expect(formatDate('2024-09-30', { locale: 'en', style: 'long' })).to.equal('30 September 2024')
    })

    it('when the day and month have one digit, then short/long are unpadded and numeric is padded', () => {
      expect(formatDate('2025-01-05', { locale: 'th' })).to.equal('5 ม.ค. 2568')
      expect(formatDate('2025-01-05', { locale: 'th', style: 'numeric' })).to.equal('05/01/2568')
      expect(formatDate('2025-01-05', { locale: 'en' })).to.equal('5 Jan 2025')
      expect(formatDate('2025-01-05', { locale: 'en', style: 'numeric' })).to.equal('05/01/2025')
    })

    it('when the date is the fiscal-year boundary as calendar strings, then each prints as that very day', () => {
      expect(formatDate('2024-09-30', { locale: 'th' })).to.equal('30 ก.ย. 2567')
      expect(formatDate('2024-10-01', { locale: 'th' })).to.equal('1 ต.ค. 2567')
    })

    it('when the date is a leap day or a year end, then it prints correctly', () => {
      expect(formatDate('2024-02-29', { locale: 'th', style: 'long' })).to.equal('29 กุมภาพันธ์ 2567')
      expect(formatDate('2028-02-29', { locale: 'en' })).to.equal('29 Feb 2028')
      expect(formatDate('2024-12-31', { locale: 'th' })).to.equal('31 ธ.ค. 2567')
      expect(formatDate('2025-01-01', { locale: 'th', style: 'long' })).to.equal('1 มกราคม 2568')
    })

    it('when an instant is 16:59:59Z on 30 Sep, then it is shown as 30 Sep (Bangkok)', () => {
      expect(formatDate(new Date('2024-09-30T16:59:59Z'), { locale: 'th' })).to.equal('30 ก.ย. 2567')
      expect(formatDate(new Date('2024-09-30T16:59:59Z'), { locale: 'en' })).to.equal('30 Sep 2024')
    })

    it('when an instant is 17:00:00Z on 30 Sep (Bangkok midnight), then it is shown as 1 Oct', () => {
      expect(formatDate(new Date('2024-09-30T17:00:00Z'), { locale: 'th' })).to.equal('1 ต.ค. 2567')
      expect(formatDate(new Date('2024-09-30T17:00:00Z'), { locale: 'en' })).to.equal('1 Oct 2024')
    })

    it('when an instant is Bangkok midnight on New Year, then the Buddhist year changes too', () => {
      expect(formatDate(new Date('2024-12-31T16:59:59Z'), { locale: 'th', style: 'numeric' })).to.equal('31/12/2567')
      expect(formatDate(new Date('2024-12-31T17:00:00Z'), { locale: 'th', style: 'numeric' })).to.equal('01/01/2568')
    })

    it('when the input is not a calendar date or is an invalid Date, then it throws a RangeError', () => {
      expect(() => formatDate('2025-02-29', { locale: 'th' })).to.throw(RangeError)
      expect(() => formatDate('15/10/2567', { locale: 'th' })).to.throw(RangeError)
      expect(() => formatDate(new Date('nope'), { locale: 'en' })).to.throw(RangeError)
    })
  })

  describe('formatDateTime', () => {
    it('when an instant is formatted in Thai, then it is short date, Bangkok HH:mm and น.', () => {
      expect(formatDateTime(new Date('2024-10-15T07:05:00Z'), { locale: 'th' })).to.equal('15 ต.ค. 2567 14:05 น.')
      expect(formatDateTime(new Date('2024-10-15T07:05:00Z'), { locale: 'th', thaiDigits: true })).to.equal('๑๕ ต.ค. ๒๕๖๗ ๑๔:๐๕ น.')
    })

    it('when an instant is formatted in English, then it is short date and Bangkok HH:mm', () => {
      expect(formatDateTime(new Date('2024-10-15T07:05:00Z'), { locale: 'en' })).to.equal('15 Oct 2024 14:05')
    })

    it('when the instant is Bangkok midnight, then the hour is 00 (not 24) on the new day', () => {
      expect(formatDateTime(new Date('2024-09-30T17:00:00Z'), { locale: 'th' })).to.equal('1 ต.ค. 2567 00:00 น.')
      expect(formatDateTime(new Date('2024-09-30T16:59:59Z'), { locale: 'en' })).to.equal('30 Sep 2024 23:59')
    })

    it('when given an ISO string with a zone, then it is that instant', () => {
      expect(formatDateTime('2024-10-15T07:05:00.000Z', { locale: 'en' })).to.equal('15 Oct 2024 14:05')
      expect(formatDateTime('2024-10-15T14:05:00+07:00', { locale: 'en' })).to.equal('15 Oct 2024 14:05')
    })

    it('when given a zone-less date-time (as SQLite stores it), then it is read as UTC, not server-local', () => {
      expect(formatDateTime('2024-09-30 17:00:00', { locale: 'en' })).to.equal('1 Oct 2024 00:00')
    })

    it('when given a bare calendar date, then it is Bangkok midnight of that day', () => {
      expect(formatDateTime('2024-10-01', { locale: 'th' })).to.equal('1 ต.ค. 2567 00:00 น.')
    })

    it('when given garbage, then it throws a RangeError', () => {
      expect(() => formatDateTime('yesterday', { locale: 'en' })).to.throw(RangeError)
    })
  })

  describe('formatNumber', () => {
    it('when the number is large, then thousands are grouped with commas', () => {
      expect(formatNumber(1234567)).to.equal('1,234,567')
      expect(formatNumber(-1234567.5)).to.equal('-1,234,567.5')
      expect(formatNumber(999)).to.equal('999')
    })

    it('when decimals are given, then exactly that many are printed', () => {
      expect(formatNumber(1234.5, { decimals: 2 })).to.equal('1,234.50')
      expect(formatNumber(1234.567, { decimals: 0 })).to.equal('1,235')
    })

    it('when the value is negative zero or rounds to zero, then no minus sign is printed', () => {
      expect(formatNumber(-0)).to.equal('0')
      expect(formatNumber(-0.001, { decimals: 2 })).to.equal('0.00')
    })

    it('when Thai digits are asked for, then the digits are Thai and commas stay', () => {
      expect(formatNumber(1234567.25, { thaiDigits: true, decimals: 2 })).to.equal('๑,๒๓๔,๕๖๗.๒๕')
    })
  })

  describe('formatSatang', () => {
    it('when given whole-baht satang, then it prints baht with two decimals', () => {
      expect(formatSatang(1250000)).to.equal('12,500.00')
      expect(formatSatang(790000)).to.equal('7,900.00')
    })

    it('when given small amounts, then leading zeros are kept', () => {
      expect(formatSatang(0)).to.equal('0.00')
      expect(formatSatang(5)).to.equal('0.05')
      expect(formatSatang(29)).to.equal('0.29')
      expect(formatSatang(100)).to.equal('1.00')
      expect(formatSatang(100000)).to.equal('1,000.00')
    })

    it('when negative, then a minus sign leads', () => {
      expect(formatSatang(-5)).to.equal('-0.05')
      expect(formatSatang(-1250050)).to.equal('-12,500.50')
      expect(formatSatang(-0)).to.equal('0.00')
    })

    it('when the value is the largest safe integer, then every digit is exact', () => {
      expect(formatSatang(Number.MAX_SAFE_INTEGER)).to.equal('90,071,992,547,409.91')
      expect(formatSatang(-Number.MAX_SAFE_INTEGER)).to.equal('-90,071,992,547,409.91')
    })

    it('when Thai digits are asked for, then the digits are Thai', () => {
      expect(formatSatang(1250050, { thaiDigits: true })).to.equal('๑๒,๕๐๐.๕๐')
    })

    it('when the value is not a safe integer, then it throws a RangeError', () => {
      expect(() => formatSatang(12.5)).to.throw(RangeError)
      expect(() => formatSatang(Number.NaN)).to.throw(RangeError)
      expect(() => formatSatang(2 ** 53)).to.throw(RangeError)
    })
  })

  describe('parseBahtToSatang', () => {
    it('when given baht text with or without grouping and decimals, then it is exact satang', () => {
      expect(parseBahtToSatang('7,900.00')).to.deep.equal({ ok: true, value: 790000 })
      expect(parseBahtToSatang('7900')).to.deep.equal({ ok: true, value: 790000 })
      expect(parseBahtToSatang('7900.5')).to.deep.equal({ ok: true, value: 790050 })
      expect(parseBahtToSatang('1,234,567.89')).to.deep.equal({ ok: true, value: 123456789 })
      expect(parseBahtToSatang('0')).to.deep.equal({ ok: true, value: 0 })
      expect(parseBahtToSatang(' 12.34 ')).to.deep.equal({ ok: true, value: 1234 })
      expect(parseBahtToSatang('๗,๙๐๐.๕๐')).to.deep.equal({ ok: true, value: 790050 })
    })

    it('when given a JSON number, then its decimal text is used (no float × 100)', () => {
      expect(parseBahtToSatang(7900.5)).to.deep.equal({ ok: true, value: 790050 })
      expect(parseBahtToSatang(0.29)).to.deep.equal({ ok: true, value: 29 })
      expect(parseBahtToSatang(1.15)).to.deep.equal({ ok: true, value: 115 })
      expect(parseBahtToSatang(19.99)).to.deep.equal({ ok: true, value: 1999 })
      expect(parseBahtToSatang(7900)).to.deep.equal({ ok: true, value: 790000 })
      // Sanity: the naive way really is wrong for these.
      expect(Math.trunc(0.29 * 100)).to.equal(28)
      expect(Math.trunc(1.15 * 100)).to.equal(114)
    })

    it('when the text is 0.29, then it is 29 satang', () => {
      expect(parseBahtToSatang('0.29')).to.deep.equal({ ok: true, value: 29 })
    })

    it('when there are more than two decimals, then it is refused', () => {
      for (const input of ['1.234', '1.005', 1.005, '0.001']) {
        expect(parseBahtToSatang(input), String(input)).to.deep.equal({ ok: false })
      }
    })

    it('when the input is negative, empty, not a number or in exponent notation, then it is refused', () => {
      for (const input of ['-1', -1, 'abc', '', ' ', '1e3', '1E3', 1e21, 1e-7, Number.NaN, Infinity, '.5', '5.', '+5', '1.2.3', '฿100']) {
        expect(parseBahtToSatang(input), String(input)).to.deep.equal({ ok: false })
      }
    })

    it('when commas are misplaced, then it is refused', () => {
      for (const input of ['79,00', '7,9000', ',100', '100,', '1,,000']) {
        expect(parseBahtToSatang(input), input).to.deep.equal({ ok: false })
      }
    })

    it('when the value exceeds the safe-integer range of satang, then it is refused', () => {
      expect(parseBahtToSatang('90071992547409.91')).to.deep.equal({ ok: true, value: Number.MAX_SAFE_INTEGER })
      expect(parseBahtToSatang('90071992547409.92')).to.deep.equal({ ok: false })
    })

    it('when parsed and formatted again, then the text round-trips', () => {
      for (const text of ['0.29', '7,900.00', '12,500.50', '90,071,992,547,409.91']) {
        const parsed = parseBahtToSatang(text)
        expect(parsed.ok).to.equal(true)
        if (parsed.ok) expect(formatSatang(parsed.value)).to.equal(text)
      }
    })
  })

  describe('truncateText', () => {
    const word = 'เครื่องขยายเสียง'

    it('when the text fits, then it is returned unchanged', () => {
      expect(truncateText(word, 13)).to.equal(word)
      expect(truncateText(word, 100)).to.equal(word)
      expect(truncateText('', 0)).to.equal('')
    })

    it('when the Thai word is cut, then tone marks and upper vowels stay with their consonant', () => {
      expect(truncateText(word, 4)).to.equal('เครื่…')
      expect(truncateText(word, 5)).to.equal('เครื่อ…')
      expect(truncateText(word, 12)).to.equal('เครื่องขยายเสี…')
    })

    it('when the cut would leave a leading vowel without its consonant, then the vowel is dropped too', () => {
      // Graphemes: เ ค รื่ อ ง ข ย า ย เ สี ย ง — keeping 10 would end on the lone เ.
      expect(truncateText(word, 11)).to.equal('เครื่องขยาย…')
      expect(truncateText(word, 2)).to.equal('…')
    })

    it('when cut to every possible length, then no output has a dangling mark and every grapheme comes from the input', () => {
      const input = graphemesOf(word)
      for (let max = 0; max <= input.length + 1; max++) {
        const out = truncateText(word, max)
        const outGraphemes = graphemesOf(out)
        expect(outGraphemes.length, `max ${max}`).to.be.at.most(max)
        const body = out.endsWith('…') ? outGraphemes.slice(0, -1) : outGraphemes
        // The kept part is a grapheme-for-grapheme prefix of the input.
        expect(body, `max ${max}`).to.deep.equal(input.slice(0, body.length))
        for (const g of body) expect(/^\p{M}/u.test(g), `grapheme ${g} at max ${max}`).to.equal(false)
        // The character after the cut in the input is never a mark that belonged to the last kept letter.
        const next = word.slice(body.join('').length)
        expect(/^\p{M}/u.test(next), `max ${max}`).to.equal(false)
        if (max >= 1 && max < input.length) expect(out.endsWith('…'), `max ${max}`).to.equal(true)
      }
    })

    it('when the text is Latin with spaces, then trailing spaces before the ellipsis are dropped', () => {
      expect(truncateText('Projector screen', 9)).to.equal('Projecto…')
      expect(truncateText('Projector screen', 11)).to.equal('Projector…')
    })

    it('when the maximum is 1 or 0, then only the ellipsis or nothing is returned', () => {
      expect(truncateText(word, 1)).to.equal('…')
      expect(truncateText(word, 0)).to.equal('')
    })

    it('when emoji with joiners are cut, then whole graphemes are kept', () => {
      expect(truncateText('👨‍👩‍👧ab', 2)).to.equal('👨‍👩‍👧…')
    })
  })

  describe('normalizeCode', () => {
    it('when the code has surrounding spaces, then they are trimmed', () => {
      expect(normalizeCode('  ABC-001\t')).to.equal('ABC-001')
    })

    it('when the code has full-width digits and letters, then they become ASCII', () => {
      expect(normalizeCode('ＡＢＣ－００１')).to.equal('ABC-001')
      expect(normalizeCode('\u3000ABC\u3000')).to.equal('ABC')
    })

    it('when a code has sara am (ำ), then it is stored as typed — never the NFKC ํา — and both forms share one key', () => {
      const composed = 'สำนัก.01/2566'
      const decomposed = 'ส\u0E4D\u0E32นัก.01/2566'
      expect(normalizeCode(composed)).to.equal(composed)
      expect(normalizeCode(decomposed)).to.equal(decomposed)
      expect(codeKey(composed)).to.equal(codeKey(decomposed))
    })

    it('when codes differ only in case, Thai digits, spaces or width, then their keys are equal', () => {
      expect(codeKey('ครุภัณฑ์-๖๖/0001')).to.equal(codeKey('ครุภัณฑ์-66/0001'))
      expect(codeKey('abc-001')).to.equal(codeKey('ＡＢＣ－００１'))
      expect(codeKey(' ABC 001 ')).to.equal(codeKey('abc001'))
      expect(codeKey('ABC-001')).to.not.equal(codeKey('ABC-002'))
    })
  })
})
