import type { Request, Response } from 'express'
import type { AppContext } from '../context.js'
import { ATTACHMENT_KINDS, ATTACHMENT_MAX_MB, ATTACHMENT_MAX_PER_LOAN, listAttachments } from '../services/attachment.service.js'
import { standingForLoan, standingOfUsername, type Standing } from '../services/borrower.service.js'
import type { LoanView } from '../services/loan.service.js'
import { standingPaperOf } from '../services/loan-query.service.js'
import { hasRole } from '../services/user.service.js'

/**
 * What the counter and borrower work adds to other areas' pages, as ready view-models: the
 * borrower's standing warning (views/partials/borrower-warning.ejs), the attachments of a loan
 * (views/partials/attachments.ejs) and the "print the slip" prompt after a counter loan.
 */

export interface BorrowerWarning {
  name: string
  historyHref: string
  overdueLoans: Standing['overdueLoans']
  outstandingItems: number
  outstandingUnits: number
  lateReturns: number
  openCompensations: number
}

/** The warning's view-model, or null when there is nothing worth saying. */
export function warningModel(s: Standing, who: { name: string; historyHref: string }): BorrowerWarning | null {
  if (s.overdueLoans.length === 0 && s.outstandingItems === 0 && s.outstandingUnits === 0 && s.lateReturns === 0 && s.openCompensations === 0) return null
  return { ...who, ...s }
}

export function attachmentsModel(items: Awaited<ReturnType<typeof listAttachments>>, loanId: number, canUpload: boolean) {
  return {
    loanId,
    items: items.map((a) => ({
      id: a.id,
      href: `/loans/${loanId}/attachments/${a.id}`,
      kind: a.kind,
      name: a.file_name,
      mime: a.mime,
      isImage: a.mime.startsWith('image/') && a.mime !== 'image/heic',
      size: a.size,
      sha256: a.sha256,
      note: a.note,
      by: a.uploaded_by_name ?? '',
      at: a.uploaded_at,
    })),
    canUpload: canUpload && items.length < ATTACHMENT_MAX_PER_LOAN,
    full: items.length >= ATTACHMENT_MAX_PER_LOAN,
    kinds: ATTACHMENT_KINDS,
    maxMb: ATTACHMENT_MAX_MB,
    max: ATTACHMENT_MAX_PER_LOAN,
  }
}

export type MissingStep = 'approval' | 'paperDisputed' | 'handOver' | 'scan' | 'confirmation'

/**
 * What a loan entered in one sitting still lacks, in the order the officer deals with it: an approval,
 * the hand-over, the signed slip's scan, the approver's confirmation (SPEC §1). Empty when done.
 */
export function stillMissing(v: LoanView): MissingStep[] {
  const out: MissingStep[] = []
  const paper = standingPaperOf(v)
  if (v.loan.status === 'pending') out.push('approval')
  if (paper?.disputed_at) out.push('paperDisputed')
  if (v.loan.status === 'approved') out.push('handOver')
  const open = ['pending', 'approved', 'on_loan', 'returned'].includes(v.loan.status)
  if (open && paper && paper.evidence_id === null) out.push('scan')
  if (open && paper && paper.by_user_id !== null && paper.confirmed_at === null && paper.disputed_at === null) out.push('confirmation')
  return out
}

/** For the loan page: one object, so that the page's route needs one line. */
export async function loanPageExtras(ctx: AppContext, req: Request, res: Response, v: LoanView) {
  const user = req.user!
  // The people who decide on a request see the borrower's standing beside the approval actions.
  const decides = v.loan.status === 'pending' && hasRole(user, 'finance', 'executive')
  const standing = decides ? await standingForLoan(ctx, v.loan) : null
  const historyHref = v.loan.borrower_user_id !== null ? `/borrowers/users/${v.loan.borrower_user_id}` : `/borrowers/${v.loan.external_borrower_id}`
  const flash = (res.locals.flash ?? []) as Array<{ key: string }>
  return {
    borrowerWarning: standing && standing.overdueLoans.length > 0 ? warningModel(standing, { name: v.borrower.name, historyHref }) : null,
    justLent: flash.some((f) => f.key === 'counter.created') ? { missing: stillMissing(v) } : null,
    attachments: attachmentsModel(await listAttachments(ctx, user, v.loan.id), v.loan.id, hasRole(user, 'finance')),
  }
}

/** For the loan entry page: the standing of the user typed as the borrower. */
export async function entryBorrowerWarning(ctx: AppContext, values: { borrowerKind: string; borrower: string }): Promise<BorrowerWarning | null> {
  if (values.borrowerKind !== 'user' || !values.borrower) return null
  const found = await standingOfUsername(ctx, values.borrower)
  return found ? warningModel(found.standing, { name: found.name, historyHref: `/borrowers/users/${found.userId}` }) : null
}
