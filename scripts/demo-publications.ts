import type { AppContext } from '../server/context.js'
import { approvePublication, reviewReport, saveNarrative, submitReport } from '../server/services/publication.service.js'
import type { CurrentUser } from '../server/services/user.service.js'

/**
 * The demo agency has published the report of the fiscal year before last (and its first half) through
 * the real path — narrative, submission, the committee's review, the executive's approval — so that the
 * public page has something to show and last year's report compares with a frozen snapshot. Last fiscal
 * year's report is left for the person trying the demo to take down the same path.
 */
export async function publishDemoReports(
  ctx: AppContext,
  fiscalYear: number,
  people: { finance: CurrentUser; committee: CurrentUser; executive: CurrentUser },
): Promise<void> {
  for (const period of ['h1', 'year'] as const) {
    await saveNarrative(ctx, people.finance, fiscalYear, period, {
      summary:
        'กองคลังให้บริการยืม-คืนพัสดุแก่ส่วนราชการภายใน ชุมชน วัด และหน่วยงานอื่นตามระเบียบกระทรวงการคลังว่าด้วยการจัดซื้อจัดจ้างและการบริหารพัสดุภาครัฐ ข้อ ๒๐๗–๒๑๑ ทุกรายการมีใบยืมและบันทึกในทะเบียนคุมการยืม-คืน',
      problems: 'ผู้ยืมบางรายคืนพัสดุเกินกำหนด โดยเฉพาะเต็นท์และเก้าอี้ในช่วงงานบุญประเพณี และมีพัสดุชำรุดจากการขนย้าย',
      suggestions: 'แจ้งกำหนดคืนให้ผู้ยืมทราบตั้งแต่วันส่งมอบ ติดตามทวงคืนภายใน ๗ วันนับแต่ครบกำหนด และจัดหาอุปกรณ์ขนย้ายที่เหมาะสม',
    })
    await submitReport(ctx, people.finance, fiscalYear, period, { memoNumber: period === 'year' ? 'กค ๐๐๒๓/๑๘๕' : 'กค ๐๐๒๓/๖๒', note: '' })
    await reviewReport(ctx, people.committee, fiscalYear, period, { note: 'ตรวจสอบตัวเลขกับทะเบียนคุมการยืม-คืนแล้ว ถูกต้อง' })
    await approvePublication(ctx, people.executive, fiscalYear, period, { note: 'ทราบ อนุมัติให้เผยแพร่' })
  }
}
