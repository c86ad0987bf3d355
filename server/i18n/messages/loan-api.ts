/** Messages of the loans JSON API (server/api/loans.api.ts): filter and body refusals of its own. */
const th = {
  'loanApi.unknownStatus': 'สถานะไม่ถูกต้อง ใช้ได้: {values}',
  'loanApi.overdueFlag': 'ใช้ค่า true หรือ false',
  'loanApi.fiscalYear': 'ปีงบประมาณเป็นปี พ.ศ. สี่หลัก เช่น 2568',
  'loanApi.stockUnsupported': 'ยังไม่รองรับการยืมวัสดุแบบนับจำนวน (stock) กรุณาระบุเป็นครุภัณฑ์รายชิ้น',
} as const

const en: Record<keyof typeof th, string> = {
  'loanApi.unknownStatus': 'Not a valid status; use one of: {values}',
  'loanApi.overdueFlag': 'Use true or false',
  'loanApi.fiscalYear': 'A fiscal year is a four-digit Buddhist-era year, e.g. 2568',
  'loanApi.stockUnsupported': 'Counted stock lines are not supported yet; list individual assets instead',
}

export const loanApi = { th, en }
