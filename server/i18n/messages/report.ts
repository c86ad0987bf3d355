/** The statistics report (SPEC §6): parameters and the counting rules printed as its footnote. */
const th = {
  'report.badFiscalYear': 'ปีงบประมาณไม่ถูกต้อง (ใช้ปีพุทธศักราช เช่น ๒๕๖๘)',
  'report.badPeriod': 'ช่วงรายงานไม่ถูกต้อง (year, h1, q1, q2, q3 หรือ q4)',
  'report.badRange': 'ช่วงวันที่ไม่ถูกต้อง (วันเริ่มต้องไม่หลังวันสิ้นสุด)',
}

const en: Record<keyof typeof th, string> = {
  'report.badFiscalYear': 'Not a valid fiscal year (Buddhist era, e.g. 2568)',
  'report.badPeriod': 'Not a valid period (year, h1, q1, q2, q3 or q4)',
  'report.badRange': 'Not a valid date range (the start must not be after the end)',
}

export const report = { th, en }
