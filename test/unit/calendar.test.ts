import { expect } from 'chai'
import { format } from 'date-fns'
import { tz } from '@date-fns/tz'
import {
  addDays,
  bangkokDate,
  bangkokDateByTz,
  bangkokDayStart,
  daysBetween,
  daysBetweenByDateFns,
  fiscalHalfRange,
  fiscalQuarterRange,
  fiscalYearOf,
  fiscalYearRange,
  isoWeekday,
  loanDays,
  parseIsoDate,
  dateMessageKey,
  parseThaiDate,
  toBuddhistYear,
  toCommonEraYear,
} from '../../server/i18n/calendar.js'

describe('calendar', () => {
  describe('bangkokDate', () => {
    it('when the instant is 16:59:59.999Z on 30 Sep, then it is still 2024-09-30 in Bangkok', () => {
      expect(bangkokDate(new Date('2024-09-30T16:59:59.999Z'))).to.equal('2024-09-30')
    })

    it('when the instant is 17:00:00Z on 30 Sep (Bangkok midnight), then it is 2024-10-01 in Bangkok', () => {
      expect(bangkokDate(new Date('2024-09-30T17:00:00Z'))).to.equal('2024-10-01')
    })

    it('when it is Bangkok midnight on New Year, then the Bangkok date is already the new year', () => {
      expect(bangkokDate(new Date('2024-12-31T16:59:59.999Z'))).to.equal('2024-12-31')
      expect(bangkokDate(new Date('2024-12-31T17:00:00Z'))).to.equal('2025-01-01')
    })

    it('when the instant is the evening of 28 Feb UTC in a leap year, then Bangkok is on 29 Feb', () => {
      expect(bangkokDate(new Date('2024-02-28T17:00:00Z'))).to.equal('2024-02-29')
      expect(bangkokDate(new Date('2024-02-29T17:00:00Z'))).to.equal('2024-03-01')
      expect(bangkokDate(new Date('2028-02-28T17:00:00Z'))).to.equal('2028-02-29')
    })

    it('when the instant is late afternoon UTC, then the Bangkok date is unchanged until 17:00Z', () => {
      expect(bangkokDate(new Date('2025-06-15T00:00:00Z'))).to.equal('2025-06-15')
      expect(bangkokDate(new Date('2025-06-15T16:59:59Z'))).to.equal('2025-06-15')
    })

    it('when the instant is given with a +07:00 offset at midnight, then its date is that day', () => {
      expect(bangkokDate(new Date('2024-10-01T00:00:00+07:00'))).to.equal('2024-10-01')
      expect(bangkokDate(new Date('2024-09-30T23:59:59+07:00'))).to.equal('2024-09-30')
    })

    it('when the Date is invalid, then it throws a RangeError', () => {
      expect(() => bangkokDate(new Date('nope'))).to.throw(RangeError)
    })
  })

  describe('fiscalYearOf', () => {
    it('when the date is 30 Sep 2025, then the fiscal year is 2568', () => {
      expect(fiscalYearOf('2025-09-30')).to.equal(2568)
    })

    it('when the date is 1 Oct 2024, then the fiscal year is 2568', () => {
      expect(fiscalYearOf('2024-10-01')).to.equal(2568)
    })

    it('when the date is 30 Sep 2024, then the fiscal year is 2567', () => {
      expect(fiscalYearOf('2024-09-30')).to.equal(2567)
    })

    it('when the date is 31 Dec / 1 Jan, then the fiscal year does not change', () => {
      expect(fiscalYearOf('2024-12-31')).to.equal(2568)
      expect(fiscalYearOf('2025-01-01')).to.equal(2568)
    })

    it('when the date is a leap day, then it falls in the fiscal year ending that September', () => {
      expect(fiscalYearOf('2024-02-29')).to.equal(2567)
      expect(fiscalYearOf('2028-02-29')).to.equal(2571)
    })

    it('when an instant is 16:59:59Z on 30 Sep, then it is still in the old fiscal year', () => {
      expect(fiscalYearOf(new Date('2024-09-30T16:59:59Z'))).to.equal(2567)
    })

    it('when an instant is 17:00:00Z on 30 Sep (1 Oct in Bangkok), then it is in the new fiscal year', () => {
      expect(fiscalYearOf(new Date('2024-09-30T17:00:00Z'))).to.equal(2568)
    })

    it('when the date string is not a real day, then it throws a RangeError', () => {
      expect(() => fiscalYearOf('2025-02-29')).to.throw(RangeError)
      expect(() => fiscalYearOf('15/10/2567')).to.throw(RangeError)
    })
  })

  describe('fiscal ranges', () => {
    it('when asked for FY 2568, then it runs 2024-10-01 to 2025-09-30', () => {
      expect(fiscalYearRange(2568)).to.deep.equal({ from: '2024-10-01', to: '2025-09-30' })
    })

    it('when asked for the first half of FY 2568, then it runs 2024-10-01 to 2025-03-31', () => {
      expect(fiscalHalfRange(2568)).to.deep.equal({ from: '2024-10-01', to: '2025-03-31' })
    })

    it('when asked for each quarter of FY 2568, then Q1 is Oct–Dec 2024 and Q2–Q4 are in 2025', () => {
      expect(fiscalQuarterRange(2568, 1)).to.deep.equal({ from: '2024-10-01', to: '2024-12-31' })
      expect(fiscalQuarterRange(2568, 2)).to.deep.equal({ from: '2025-01-01', to: '2025-03-31' })
      expect(fiscalQuarterRange(2568, 3)).to.deep.equal({ from: '2025-04-01', to: '2025-06-30' })
      expect(fiscalQuarterRange(2568, 4)).to.deep.equal({ from: '2025-07-01', to: '2025-09-30' })
    })

    it('when consecutive fiscal years are asked for, then they abut with no gap or overlap', () => {
      const a = fiscalYearRange(2567)
      const b = fiscalYearRange(2568)
      expect(a).to.deep.equal({ from: '2023-10-01', to: '2024-09-30' })
      expect(addDays(a.to, 1)).to.equal(b.from)
    })

    it('when the fiscal year range is fed back to fiscalYearOf, then both ends give the same year', () => {
      for (const fy of [2566, 2567, 2568, 2571]) {
        const { from, to } = fiscalYearRange(fy)
        expect([fiscalYearOf(from), fiscalYearOf(to), fiscalYearOf(addDays(from, -1)), fiscalYearOf(addDays(to, 1))]).to.deep.equal([fy, fy, fy - 1, fy + 1])
      }
    })

    it('when a CE year or a non-integer is passed as a fiscal year, then it throws a RangeError', () => {
      expect(() => fiscalYearRange(2025)).to.throw(RangeError)
      expect(() => fiscalYearRange(2568.5)).to.throw(RangeError)
      expect(() => fiscalQuarterRange(2568, 5 as never)).to.throw(RangeError)
    })
  })

  describe('day arithmetic', () => {
    it('when adding days across the fiscal year boundary, then 30 Sep + 1 is 1 Oct', () => {
      expect(addDays('2024-09-30', 1)).to.equal('2024-10-01')
      expect(addDays('2024-10-01', -1)).to.equal('2024-09-30')
    })

    it('when adding days across a leap day, then 29 Feb exists only in leap years', () => {
      expect(addDays('2024-02-28', 1)).to.equal('2024-02-29')
      expect(addDays('2024-02-29', 1)).to.equal('2024-03-01')
      expect(addDays('2025-02-28', 1)).to.equal('2025-03-01')
      expect(addDays('2028-02-28', 1)).to.equal('2028-02-29')
      expect(addDays('2100-02-28', 1)).to.equal('2100-03-01')
      expect(addDays('2000-02-28', 1)).to.equal('2000-02-29')
    })

    it('when adding days across a year end, then the year rolls over', () => {
      expect(addDays('2024-12-31', 1)).to.equal('2025-01-01')
      expect(addDays('2025-01-01', -1)).to.equal('2024-12-31')
      expect(addDays('2024-01-01', 366)).to.equal('2025-01-01')
      expect(addDays('2025-01-01', 365)).to.equal('2026-01-01')
    })

    it('when adding zero days, then the date is unchanged', () => {
      expect(addDays('2024-10-15', 0)).to.equal('2024-10-15')
    })

    it('when the day count is not an integer or the date is malformed, then it throws a RangeError', () => {
      expect(() => addDays('2024-10-15', 1.5)).to.throw(RangeError)
      expect(() => addDays('2024-10-32', 1)).to.throw(RangeError)
      expect(() => addDays('2024-1-5', 1)).to.throw(RangeError)
    })

    it('when counting days between dates, then it is to − from', () => {
      expect(daysBetween('2024-09-30', '2024-10-01')).to.equal(1)
      expect(daysBetween('2024-10-01', '2024-09-30')).to.equal(-1)
      expect(daysBetween('2024-02-28', '2024-03-01')).to.equal(2)
      expect(daysBetween('2025-02-28', '2025-03-01')).to.equal(1)
      expect(daysBetween('2024-10-01', '2025-09-30')).to.equal(364)
      expect(daysBetween('2023-10-01', '2024-09-30')).to.equal(365)
      expect(daysBetween('2024-10-15', '2024-10-15')).to.equal(0)
    })

    it('when a loan starts and is due the same day, then it lasts 1 day', () => {
      expect(loanDays('2024-10-15', '2024-10-15')).to.equal(1)
    })

    it('when a loan runs over a leap month, then both ends count', () => {
      expect(loanDays('2024-02-01', '2024-02-29')).to.equal(29)
      expect(loanDays('2024-09-30', '2024-10-01')).to.equal(2)
    })
  })

  describe('parseIsoDate', () => {
    it('when the date is a real YYYY-MM-DD day, then it is accepted unchanged', () => {
      expect(parseIsoDate('2024-10-15')).to.deep.equal({ ok: true, value: '2024-10-15' })
      expect(parseIsoDate('2024-02-29')).to.deep.equal({ ok: true, value: '2024-02-29' })
      expect(parseIsoDate('2028-02-29')).to.deep.equal({ ok: true, value: '2028-02-29' })
      expect(parseIsoDate('2000-02-29')).to.deep.equal({ ok: true, value: '2000-02-29' })
      expect(parseIsoDate('2024-12-31')).to.deep.equal({ ok: true, value: '2024-12-31' })
    })

    it('when the day does not exist, then the reason is invalid', () => {
      for (const input of ['2025-02-29', '2100-02-29', '2024-13-01', '2024-00-10', '2024-04-31', '2024-10-00', '2024-12-32']) {
        expect(parseIsoDate(input), input).to.deep.equal({ ok: false, reason: 'invalid' })
      }
    })

    it('when the text is not strictly YYYY-MM-DD, then the reason is format', () => {
      for (const input of ['', '2024-1-05', '24-10-15', '2024/10/15', ' 2024-10-15', '2024-10-15T00:00:00Z', '15/10/2567', '２０２４-10-15', '๒๕๖๗-10-15']) {
        expect(parseIsoDate(input), input).to.deep.equal({ ok: false, reason: 'format' })
      }
    })

    it('when the year is above 2300, then the reason is buddhist_year (even for 29 Feb)', () => {
      expect(parseIsoDate('2567-10-15')).to.deep.equal({ ok: false, reason: 'buddhist_year' })
      expect(parseIsoDate('2567-02-29')).to.deep.equal({ ok: false, reason: 'buddhist_year' })
      expect(parseIsoDate('2301-01-01')).to.deep.equal({ ok: false, reason: 'buddhist_year' })
    })

    it('when the year is exactly 2300, then it is still Common Era', () => {
      expect(parseIsoDate('2300-01-01')).to.deep.equal({ ok: true, value: '2300-01-01' })
    })

    it('when the year is below 1900, then the reason is out_of_range (a typing slip; no office record is that old)', () => {
      for (const input of ['0000-01-01', '0001-01-01', '0999-12-31', '1000-01-01', '1899-12-31']) {
        expect(parseIsoDate(input), input).to.deep.equal({ ok: false, reason: 'out_of_range' })
      }
      expect(parseIsoDate('1900-01-01')).to.deep.equal({ ok: true, value: '1900-01-01' })
      expect(dateMessageKey('out_of_range')).to.equal('loan.yearOutOfRange')
      expect(dateMessageKey('buddhist_year')).to.equal('loan.buddhistYear')
    })
  })

  describe('parseThaiDate', () => {
    it('when the year is Buddhist era, then 543 is subtracted', () => {
      expect(parseThaiDate('15/10/2567')).to.deep.equal({ ok: true, value: '2024-10-15' })
      expect(parseThaiDate('30/09/2568')).to.deep.equal({ ok: true, value: '2025-09-30' })
      expect(parseThaiDate('01/10/2567')).to.deep.equal({ ok: true, value: '2024-10-01' })
    })

    it('when the year is below 2300, then it is taken as Common Era', () => {
      expect(parseThaiDate('15/10/2024')).to.deep.equal({ ok: true, value: '2024-10-15' })
    })

    it('when the year is below 1900 (Common Era or a Buddhist year that converts below it), then the reason is out_of_range', () => {
      expect(parseThaiDate('15/10/0999')).to.deep.equal({ ok: false, reason: 'out_of_range' })
      expect(parseThaiDate('15/10/1899')).to.deep.equal({ ok: false, reason: 'out_of_range' })
    })

    it('when day and month have one digit or are in Thai digits, then they are accepted', () => {
      expect(parseThaiDate('5/1/2568')).to.deep.equal({ ok: true, value: '2025-01-05' })
      expect(parseThaiDate('๑๕/๑๐/๒๕๖๗')).to.deep.equal({ ok: true, value: '2024-10-15' })
    })

    it('when 29 Feb is in a BE leap year, then it is valid; otherwise invalid', () => {
      expect(parseThaiDate('29/02/2567')).to.deep.equal({ ok: true, value: '2024-02-29' })
      expect(parseThaiDate('29/02/2571')).to.deep.equal({ ok: true, value: '2028-02-29' })
      expect(parseThaiDate('29/02/2568')).to.deep.equal({ ok: false, reason: 'invalid' })
      expect(parseThaiDate('29/02/2025')).to.deep.equal({ ok: false, reason: 'invalid' })
    })

    it('when the day or month does not exist, then the reason is invalid', () => {
      expect(parseThaiDate('31/04/2568')).to.deep.equal({ ok: false, reason: 'invalid' })
      expect(parseThaiDate('01/13/2568')).to.deep.equal({ ok: false, reason: 'invalid' })
      expect(parseThaiDate('00/01/2568')).to.deep.equal({ ok: false, reason: 'invalid' })
    })

    it('when the text is not DD/MM/YYYY, then the reason is format', () => {
      for (const input of ['', '2024-10-15', '15/10/67', '15-10-2567', '15/10/2567 ', '115/10/2567']) {
        expect(parseThaiDate(input), input).to.deep.equal({ ok: false, reason: 'format' })
      }
    })
  })

  describe('era conversion', () => {
    it('when converting 2024 CE, then it is 2567 BE, and back', () => {
      expect(toBuddhistYear(2024)).to.equal(2567)
      expect(toCommonEraYear(2567)).to.equal(2024)
      expect(toCommonEraYear(toBuddhistYear(2028))).to.equal(2028)
    })
  })

  describe('the fast paths agree with date-fns (run under TZ=UTC and TZ=America/New_York too)', () => {
    it('when any instant from 1920 to 2100 is taken, then bangkokDate equals @date-fns/tz', () => {
      const bangkok = tz('Asia/Bangkok')
      const from = Date.UTC(1920, 3, 1)
      const span = Date.UTC(2100, 0, 1) - from
      const instants = [Date.UTC(2024, 8, 30, 16, 59, 59, 999), Date.UTC(2024, 8, 30, 17), Date.UTC(2024, 2, 9, 17), Date.UTC(2024, 10, 3, 6)]
      for (let i = 0; i < 3000; i++) instants.push(from + Math.floor((((i * 2654435761) % 4294967296) / 4294967296) * span))
      for (const ms of instants) {
        const at = new Date(ms)
        const expected = format(at, 'yyyy-MM-dd', { in: bangkok })
        expect(bangkokDate(at), at.toISOString()).to.equal(expected)
        expect(bangkokDateByTz(at), at.toISOString()).to.equal(expected)
      }
    })

    it('when the instant is before 1920 (Bangkok Mean Time, +6:42:04), then the day follows the time zone data', () => {
      // 17:10Z is 23:52 BMT, still the same day (a fixed +7 would have said the next).
      expect(bangkokDate(new Date('1900-01-01T17:10:00Z'))).to.equal('1900-01-01')
      expect(bangkokDate(new Date('1900-01-01T17:30:00Z'))).to.equal('1900-01-02')
    })

    it('when days are counted between any two dates, then daysBetween equals differenceInCalendarDays', () => {
      const base = '2023-01-01'
      for (let i = -400; i < 1200; i += 7) {
        for (const j of [-366, -31, -1, 0, 1, 29, 365, 1461]) {
          const a = addDays(base, i)
          const b = addDays(a, j)
          expect(daysBetween(a, b), `${a} → ${b}`).to.equal(j)
          expect(daysBetweenByDateFns(a, b), `${a} → ${b}`).to.equal(j)
        }
      }
    })

    it('when days are added across the DST changes of other zones, then every Bangkok day is met exactly once', () => {
      let d = '2024-01-01'
      for (let i = 1; i <= 366; i++) {
        const next = addDays(d, 1)
        expect(daysBetween(d, next), d).to.equal(1)
        expect(next > d, d).to.equal(true)
        d = next
      }
      expect(d).to.equal('2025-01-01')
      expect(addDays('2024-03-10', 1)).to.equal('2024-03-11')
      expect(addDays('2024-11-03', -1)).to.equal('2024-11-02')
      expect(addDays('2024-03-31', -31)).to.equal('2024-02-29')
    })

    it('when the server zone is whatever it is, then a fiscal quarter still ends on its last day', () => {
      expect(fiscalQuarterRange(2567, 2)).to.deep.equal({ from: '2024-01-01', to: '2024-03-31' })
      expect(fiscalQuarterRange(2568, 2).to).to.equal('2025-03-31')
      expect(fiscalQuarterRange(2567, 1).to).to.equal('2023-12-31')
      expect(fiscalQuarterRange(2567, 3).to).to.equal('2024-06-30')
    })

    it('when a weekday is asked for, then Monday is 1 and Sunday 7', () => {
      expect(['2024-10-14', '2024-10-19', '2024-10-20', '2024-03-10', '2024-11-03'].map(isoWeekday)).to.deep.equal([1, 6, 7, 7, 7])
    })

    it("when a Bangkok day's start is asked for, then it is its midnight at +07:00", () => {
      expect(bangkokDayStart('2024-10-01').toISOString()).to.equal('2024-09-30T17:00:00.000Z')
      expect(bangkokDate(bangkokDayStart('2024-10-01'))).to.equal('2024-10-01')
      expect(bangkokDate(new Date(bangkokDayStart('2024-10-01').getTime() - 1))).to.equal('2024-09-30')
      expect(() => bangkokDayStart('2024-02-30')).to.throw(RangeError)
    })
  })
})
