/** Actions where the item is (issue 14): finance's hand-over and receive on the QR page, a kit's label at the counter. */
const th = {
  'whereItem.toHandOver': 'รอส่งมอบ',
  'whereItem.onLoan': 'อยู่ระหว่างยืม',
  'whereItem.loan': 'ใบยืมเลขที่ {number}',
  'whereItem.borrower': 'ผู้ยืม',
  'whereItem.dates': 'ช่วงยืม',
  'whereItem.due': 'กำหนดคืน',
  'whereItem.handOverHint': 'เปิดหน้าส่งมอบของใบยืมนี้ โดยยืนยัน {code} ไว้ให้แล้ว',
  'whereItem.receiveHint': 'เปิดหน้ารับคืนของใบยืมนี้ โดยเลือก {code} ไว้ให้แล้ว',
  'whereItem.kitOfLoan': 'ชุด {code} {name}',
  'whereItem.kitPartOf': 'ส่วนของชุด {code}',
  'whereItem.kitTaken': 'ชุด {code} {name}: ยืนยัน {count} รายการของชุดแล้ว',
  'whereItem.kitPicked': 'ชุด {code} {name}: เลือกรับคืน {count} รายการของชุดแล้ว ตรวจสภาพทีละรายการ',
  'whereItem.kitPartsElsewhere': 'ส่วนของชุดที่ไม่อยู่ในใบยืมนี้: {codes}',
  'whereItem.kitNotInLoan': 'ชุด {code} ไม่มีพัสดุในใบยืมนี้',
  'whereItem.kitNotOut': 'ชุด {code} ไม่มีพัสดุที่ยังไม่คืนตามใบยืมนี้',
} as const

const en: Record<keyof typeof th, string> = {
  'whereItem.toHandOver': 'To hand over',
  'whereItem.onLoan': 'On loan',
  'whereItem.loan': 'Loan {number}',
  'whereItem.borrower': 'Borrower',
  'whereItem.dates': 'Dates',
  'whereItem.due': 'Due',
  'whereItem.handOverHint': 'Opens this loan’s hand-over with {code} already confirmed',
  'whereItem.receiveHint': 'Opens this loan’s return with {code} already picked',
  'whereItem.kitOfLoan': 'Kit {code} {name}',
  'whereItem.kitPartOf': 'Part of kit {code}',
  'whereItem.kitTaken': 'Kit {code} {name}: {count} of its items confirmed',
  'whereItem.kitPicked': 'Kit {code} {name}: {count} of its items picked to receive; check each one’s condition',
  'whereItem.kitPartsElsewhere': 'Parts of the kit not on this loan: {codes}',
  'whereItem.kitNotInLoan': 'Kit {code} has nothing on this loan',
  'whereItem.kitNotOut': 'Kit {code} has nothing still out on this loan',
}

export const whereItem = { th, en }
