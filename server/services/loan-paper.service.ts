import { z } from 'zod'
import { writeTransaction, type Db } from '../../db/connection.js'
import type { LoanRow } from '../../db/schema.js'
import * as loans from '../repositories/loan.repository.js'
import * as users from '../repositories/user.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { addDays, bangkokDayStart } from '../i18n/calendar.js'
import { append } from './audit.service.js'
import { actorOf, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { getSettings, type AgencySettings } from './settings.service.js'
import { discardStaged, stageAttachment, storeStaged, type NewAttachment, type StagedAttachment } from './attachment.service.js'
import { approverChoices, checkPaperApprover, type ApproverChoice, type ApproverInputs } from './paper-approval-rules.js'
import type { LoanKind } from './loan-rules.js'
import { enforce, fieldError, nowIso, type paperApprovalSchema, refusal, stepData, text, today } from './loan-common.js'
import { canSeeLoan, getLoan, type LoanView } from './loan-query.service.js'
import { notifyLoanEvent } from './notification.service.js'

/*
 * Paper approvals (SPEC §1): the approver signs the slip, the พัสดุ officer records it. The approver
 * comes from the list for the loan's level; an approver with an account confirms or disputes it from
 * their queue; a disputed one blocks the hand-over until finance voids it (and records it again) or
 * cancels the loan; the committee has a list of what to look at.
 */

export type PaperInput = z.output<typeof paperApprovalSchema>

/** The signatories of the settings and the active executives, as the approver rules read them. */
export async function approverInputs(db: Db, settings: AgencySettings): Promise<ApproverInputs> {
  const accounts = new Map<string, { id: number; name: string; active: boolean }>()
  for (const key of ['mayor', 'chiefAdministrator', 'financeDirector'] as const) {
    const username = settings[key].username
    if (!username || accounts.has(username)) continue
    const u = await users.findByUsername(db, username)
    if (u) accounts.set(username, { id: u.id, name: u.name, active: u.active === 1 })
  }
  const executives = (await users.list(db, { role: 'executive', active: true, limit: 200, offset: 0 })).rows.map((u) => ({
    id: u.id,
    name: u.name,
    position: u.position,
  }))
  return {
    signatories: { mayor: settings.mayor, chiefAdministrator: settings.chiefAdministrator, financeDirector: settings.financeDirector },
    accounts,
    executives,
  }
}

/** The approvers a form offers for each kind of loan (the entry form changes kind in place). */
export async function paperApproverChoices(ctx: AppContext): Promise<Record<LoanKind, ApproverChoice[]>> {
  const inputs = await approverInputs(ctx.db, await getSettings(ctx))
  return {
    in_premises: approverChoices(inputs, 'in_premises'),
    off_premises: approverChoices(inputs, 'off_premises'),
    inter_agency: approverChoices(inputs, 'inter_agency'),
  }
}

/**
 * The approver named on the paper, checked for the loan's level, the recorder and the borrower: a
 * self-dealing name is refused by its rule (403), a name off the list is the field's mistake (422).
 */
export async function resolvePaperApprover(
  db: Db,
  settings: AgencySettings,
  kind: LoanKind,
  typedName: string,
  parties: { recorder: CurrentUser; borrower: { userId: number | null; name: string }; requester: { id: number; name: string } },
  field: string,
): Promise<ApproverChoice> {
  const inputs = await approverInputs(db, settings)
  const r = checkPaperApprover(typedName, inputs, kind, {
    recorder: { id: parties.recorder.id, name: parties.recorder.name },
    borrower: parties.borrower,
    // The two-person rule: whoever entered a loan for someone else is not its approver, in the app or on paper.
    requester: settings.twoPersonRule ? parties.requester : undefined,
  })
  if (r.ok) return r.choice
  if (r.kind === 'rule') throw refusal({ ok: false, code: 'forbidden', rule: r.rule })
  const names = approverChoices(inputs, kind).map((c) => c.name)
  if (names.length === 0) throw fieldError(`${field}.approverName`, 'loan.paper.noApprovers')
  throw fieldError(`${field}.approverName`, r.message, { names: names.join(', ') })
}

/** The borrower's account and name, for the approver check. */
export async function borrowerOf(db: Db, loan: Pick<LoanRow, 'borrower_user_id' | 'external_borrower_id'>): Promise<{ userId: number | null; name: string }> {
  if (loan.borrower_user_id !== null) return { userId: loan.borrower_user_id, name: (await users.findById(db, loan.borrower_user_id))?.name ?? '' }
  const ext = loan.external_borrower_id === null ? undefined : (await loans.externalBorrowersByIds(db, [loan.external_borrower_id]))[0]
  return { userId: null, name: ext?.name ?? '' }
}

/** Whoever entered the loan, by account and name. */
export async function requesterOf(db: Db, loan: Pick<LoanRow, 'requested_by'>): Promise<{ id: number; name: string }> {
  return { id: loan.requested_by, name: (await users.findById(db, loan.requested_by))?.name ?? '' }
}

/**
 * Records an approval given on paper on a pending loan, inside the caller's transaction (the policy
 * has allowed `recordPaper`). A loan not yet checked gets its check in the same step — the officer's
 * signature on the slip. An approver without an account needs the scan now: nobody could confirm it.
 */
export async function recordPaperApproval(
  ctx: AppContext,
  trx: Db,
  actor: CurrentUser,
  loan: LoanRow,
  paper: PaperInput,
  choice: ApproverChoice,
  settings: AgencySettings,
  opts: { scan?: StagedAttachment; field: string },
): Promise<void> {
  if (paper.date > today(ctx)) throw fieldError(`${opts.field}.date`, 'loan.paper.futureDate')
  if (choice.userId === null && !opts.scan) throw fieldError(`${opts.field}.scan`, 'loan.paper.scanRequired')
  const at = nowIso(ctx)
  if (loan.kind !== 'in_premises' && loan.checked_at === null) {
    await loans.update(trx, loan.id, { checked_at: at, checked_by: actor.id })
    await loans.insertApproval(trx, {
      loan_id: loan.id,
      step: 'check',
      by_user_id: actor.id,
      by_name: actor.name,
      recorded_by: actor.id,
      at,
      note: '',
      on_paper: 1,
      paper_date: paper.date,
    })
  }
  const ok = await loans.updateIfStatus(trx, loan.id, 'pending', {
    status: 'approved',
    approved_at: at,
    approved_by: null,
    approved_on_paper: 1,
    updated_at: at,
  })
  if (!ok) throw new AppError('invalid_state', 'loan.invalidState')
  const approvalId = await loans.insertApproval(trx, {
    loan_id: loan.id,
    step: 'approve',
    by_user_id: choice.userId,
    by_name: choice.name,
    recorded_by: actor.id,
    at,
    note: paper.note,
    on_paper: 1,
    paper_date: paper.date,
    approver_source: choice.source,
  })
  await append(trx, ctx.clock, actorOf(actor), {
    action: 'loan.approved_on_paper',
    entity: 'loan',
    entityId: loan.id,
    data: stepData(loan, settings, {
      approvalId,
      approverName: choice.name,
      approverUserId: choice.userId,
      approverSource: choice.source,
      paperDate: paper.date,
      checkedWithIt: loan.kind !== 'in_premises' && loan.checked_at === null,
    }),
  })
  // The borrower learns it is approved; the person named learns an approval was recorded in their name (SPEC §1).
  await notifyLoanEvent(ctx, trx, 'loan.approved', loan.id, actor.id)
  await notifyLoanEvent(ctx, trx, 'loan.paperRecorded', loan.id, actor.id, { paperDate: paper.date, recordedBy: actor.name }, { approverUserId: choice.userId })
  // The scan last: its audit entry carries its hash and links it to this approval.
  if (opts.scan) await storeStaged(ctx, trx, actor, loan, opts.scan)
}

/** Stages an upload for a step that records a paper approval; nothing when no file came. */
export async function stageScan(ctx: AppContext, scan: NewAttachment | undefined, field: string): Promise<StagedAttachment | undefined> {
  if (!scan?.data || scan.data.length === 0) return undefined
  try {
    return await stageAttachment(ctx, { ...scan, kind: scan.kind || 'signed_slip' })
  } catch (e) {
    // The form's file field, not the attachment page's.
    if (e instanceof AppError && e.details)
      throw new AppError(
        e.code,
        e.messageKey,
        e.params,
        e.details.map((d) => ({ ...d, field: `${field}.scan` })),
      )
    throw e
  }
}

/** Runs a write with a staged scan: whatever fails, the file goes. */
export async function withScan<T>(scan: StagedAttachment | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (e) {
    await discardStaged(scan)
    throw e
  }
}

// ---------------------------------------------------------------- the approver's answer, and finance's void

const confirmSchema = z.object({ note: z.string().trim().max(1000, { error: 'validation.tooLong' }).default('') })
const reasonSchema = z.object({ reason: text(3, 1000, 'loan.paper.reasonRequired') })

async function decidePaper(ctx: AppContext, actor: CurrentUser, id: number, answer: 'confirm' | 'dispute' | 'void', note: string): Promise<LoanView> {
  const settings = await getSettings(ctx)
  const t = today(ctx)
  await writeTransaction(ctx.db, async (trx) => {
    const loan = await loans.findById(trx, id)
    if (!loan || !canSeeLoan(actor, loan)) throw new AppError('not_found', 'loan.notFound')
    const facts = await enforce(trx, answer === 'confirm' ? 'confirmPaper' : answer === 'dispute' ? 'disputePaper' : 'voidPaper', actor, loan, settings, t)
    const paper = facts.paper!
    const at = nowIso(ctx)
    const changes =
      answer === 'confirm'
        ? { confirmed_at: at }
        : answer === 'dispute'
          ? { disputed_at: at, dispute_reason: note }
          : { voided_at: at, voided_by: actor.id, void_reason: note }
    if (!(await loans.decideApprovalIfOpen(trx, paper.id, changes, { allowDisputed: answer === 'void' })))
      throw new AppError('invalid_state', 'loan.paper.alreadyDecided', {}, undefined, 'paper_decided')
    let checkVoided = false
    if (answer === 'void') {
      // Back to waiting for an approval: finance records it again (perhaps another approver) or cancels the loan.
      // A check recorded with the paper (the officer's signature on the slip) goes with it: the loan is checked again.
      checkVoided = await loans.voidPaperCheck(trx, id, { voided_at: at, voided_by: actor.id, void_reason: note })
      const back = {
        status: 'pending' as const,
        approved_at: null,
        approved_by: null,
        approved_on_paper: 0,
        updated_at: at,
        ...(checkVoided ? { checked_at: null, checked_by: null } : {}),
      }
      if (!(await loans.updateIfStatus(trx, id, 'approved', back))) throw new AppError('invalid_state', 'loan.invalidState')
    }
    await append(trx, ctx.clock, actorOf(actor), {
      action: answer === 'confirm' ? 'loan.paper_confirmed' : answer === 'dispute' ? 'loan.paper_disputed' : 'loan.paper_voided',
      entity: 'loan',
      entityId: id,
      data: stepData(loan, settings, {
        approvalId: paper.id,
        approverName: paper.by_name,
        ...(note ? { [answer === 'confirm' ? 'note' : 'reason']: note } : {}),
        ...(checkVoided ? { checkVoided } : {}),
      }),
    })
    if (answer === 'dispute') await notifyLoanEvent(ctx, trx, 'loan.paperDisputed', id, actor.id, { approverName: paper.by_name, reason: note })
  })
  return getLoan(ctx, actor, id)
}

/** The named approver confirms the paper approval recorded in their name. */
export async function confirmPaperApproval(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const { note } = parseOrThrow(confirmSchema, input ?? {})
  return decidePaper(ctx, actor, id, 'confirm', note)
}

/** The named approver says they did not sign it: the loan is not handed over; finance and the committee see it. */
export async function disputePaperApproval(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const { reason } = parseOrThrow(reasonSchema, input ?? {})
  return decidePaper(ctx, actor, id, 'dispute', reason)
}

/** Finance voids a disputed (or unconfirmed) paper approval before hand-over; the loan waits for an approval again. */
export async function voidPaperApproval(ctx: AppContext, actor: CurrentUser, id: number, input: unknown): Promise<LoanView> {
  const { reason } = parseOrThrow(reasonSchema, input ?? {})
  return decidePaper(ctx, actor, id, 'void', reason)
}

// ---------------------------------------------------------------- the committee's list

export const UNCONFIRMED_DAYS = 7

export type PaperReviewReason = 'unconfirmed' | 'disputed' | 'noScan' | 'oneHand'

export interface PaperReviewEntry {
  loanId: number
  number: string
  status: LoanRow['status']
  kind: LoanRow['kind']
  approverName: string
  hasAccount: boolean
  paperDate: string | null
  recordedAt: string
  recordedBy: string
  enteredBy: string
  handedOverBy: string
  confirmedAt: string | null
  disputedAt: string | null
  disputeReason: string
  voidedAt: string | null
  reasons: PaperReviewReason[]
}

/**
 * SPEC §1: paper approvals unconfirmed after 7 Bangkok days, disputed, without a scan, and loans where
 * one user entered, recorded and handed over — for the committee (and finance, to mend them).
 */
export async function paperApprovalReview(ctx: AppContext): Promise<PaperReviewEntry[]> {
  const t = today(ctx)
  // Recorded on a Bangkok day at least 7 days before today: before midnight (Bangkok) of today − 6.
  const before = bangkokDayStart(addDays(t, -(UNCONFIRMED_DAYS - 1))).toISOString()
  const rows = await loans.paperApprovalsForReview(ctx.db, before)
  const people = new Map(
    (
      await loans.usersByIds(
        ctx.db,
        rows.flatMap((r) => [r.recorded_by, r.requested_by, ...(r.handed_over_by ? [r.handed_over_by] : [])]),
      )
    ).map((u) => [u.id, u.name]),
  )
  const ended = ['rejected', 'cancelled', 'expired']
  const out: PaperReviewEntry[] = []
  for (const r of rows) {
    const reasons: PaperReviewReason[] = []
    const standing = r.voided_at === null
    if (standing && r.by_user_id !== null && r.confirmed_at === null && r.disputed_at === null && r.at < before) reasons.push('unconfirmed')
    if (r.disputed_at !== null) reasons.push('disputed')
    if (standing && r.evidence_id === null && !ended.includes(r.status)) reasons.push('noScan')
    if (r.requested_by === r.recorded_by && r.handed_over_by === r.recorded_by) reasons.push('oneHand')
    if (reasons.length === 0) continue
    out.push({
      loanId: r.loan_id,
      number: `${r.seq}/${r.fiscal_year}`,
      status: r.status,
      kind: r.kind,
      approverName: r.by_name,
      hasAccount: r.by_user_id !== null,
      paperDate: r.paper_date,
      recordedAt: r.at,
      recordedBy: people.get(r.recorded_by) ?? '',
      enteredBy: people.get(r.requested_by) ?? '',
      handedOverBy: r.handed_over_by ? (people.get(r.handed_over_by) ?? '') : '',
      confirmedAt: r.confirmed_at,
      disputedAt: r.disputed_at,
      disputeReason: r.dispute_reason,
      voidedAt: r.voided_at,
      reasons,
    })
  }
  return out
}
