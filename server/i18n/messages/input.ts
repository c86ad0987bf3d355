/** Refusals of malformed input found by the bad-input sweep (test/http/bad-input.test.ts). */
const th = {
  'input.decisionRequired': 'กรุณาเลือกว่าจะอนุมัติหรือไม่อนุมัติ',
  'input.villageNo': 'หมู่ที่เป็นตัวเลข ๑–๙๙๙',
  'input.idNumber13': 'เลขประจำตัวประชาชนมี ๑๓ หลัก',
  'input.untypeable': 'มีอักขระที่มองไม่เห็นหรืออักขระควบคุม (เช่น NUL หรือตัวกลับทิศทางข้อความ) กรุณาพิมพ์ข้อความนี้ใหม่',
  'input.untypeableBody': 'ข้อมูลที่ส่งมามีอักขระที่มองไม่เห็นหรืออักขระควบคุม จึงยังไม่ได้บันทึก กรุณาพิมพ์ใหม่',
} as const

const en: Record<keyof typeof th, string> = {
  'input.decisionRequired': 'Choose whether to approve or reject',
  'input.villageNo': 'The village number (moo) is a number from 1 to 999',
  'input.idNumber13': 'A national ID number has 13 digits',
  'input.untypeable': 'Holds invisible or control characters (such as NUL or a text-direction override); please type it again',
  'input.untypeableBody': 'What was sent holds invisible or control characters, so nothing was saved; please type it again',
}

export const input = { th, en }
