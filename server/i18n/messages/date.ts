/** The date boxes of the pages (server/web/typed-date.ts, public/js/date-picker.js): พ.ศ. as typed. */
const th = {
  'date.placeholder': 'วว/ดด/ปปปป',
  'date.format': 'พิมพ์วันที่เป็น วัน/เดือน/ปี พ.ศ. เช่น 15/10/2568',
  'date.noSuchDay': 'ไม่มีวันที่ {date}',
  'date.outOfRange': 'ปีของวันที่ {date} อยู่นอกช่วงที่ใช้ได้: พิมพ์ปี พ.ศ. ๒๔๔๓–๒๘๔๓ เช่น 15/10/2568',
  'date.open': 'เลือกจากปฏิทิน',
} as const

const en: Record<keyof typeof th, string> = {
  'date.placeholder': 'dd/mm/yyyy',
  'date.format': 'Type the date as day/month/Buddhist-era year, e.g. 15/10/2568',
  'date.noSuchDay': 'There is no date {date}',
  'date.outOfRange': 'The year of {date} is out of range: type a Buddhist-era year 2443–2843, e.g. 15/10/2568',
  'date.open': 'Choose from the calendar',
}

export const date = { th, en }
