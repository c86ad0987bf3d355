/** Refusals that follow from the permission table and SPEC §1's segregation of duties (docs/PERMISSIONS.md). */
const th = {
  'permissions.sod.financeReviews': 'แบ่งแยกหน้าที่: ผู้ที่มีบทบาทกองคลังบันทึกผลการพิจารณารายงานของคณะกรรมการไม่ได้',
}

const en: Record<keyof typeof th, string> = {
  'permissions.sod.financeReviews': 'Segregation of duties: a user who holds the finance role may not record the committee’s review',
}

export const permissions = { th, en }
