/**
 * The loan lists and counts (issue 15: split from loan.repository.ts): the filtered list behind every
 * page, queue and API listing; the open loans of one asset; the dashboards' and navigation's counts in
 * one query. loan.repository.ts re-exports all of it, so callers keep `loans.list(...)`.
 */
import { sql, type ExpressionBuilder, type Kysely } from 'kysely'
import type { Database, LoanRow, LoanStatusCol } from '../../db/schema.js'

type Db = Kysely<Database>

export interface LoanListFilter {
  status?: LoanStatusCol
  statuses?: LoanStatusCol[]
  overdueOn?: string // on loan with due_on before this date
  dueBetween?: { from: string; to: string }
  startOnOrBefore?: string
  fiscalYear?: number
  borrowerUserId?: number
  externalBorrowerId?: number
  assetId?: number
  pendingStep?: 'check' | 'approve_in' | 'approve_out'
  /** The running number within its fiscal year (search by «12/2568» or «12»). */
  seq?: number
  /** On loan, due before this date, with no follow-up recorded after the due date. */
  noFollowUpDueBefore?: string
  /** With an extension request waiting: decided by finance (in the premises) or by the executive (outside). */
  pendingExtension?: 'finance' | 'executive' | 'any'
  /** Leaves out loans this user borrows or entered (segregation: they may not act on them). */
  notPartyOf?: number
  /**
   * Only the loans this user may take this step on (issue 17): the very exclusions of the counts in
   * actionCounts (mayDecide, mayHandOver, mayConfirm), so a dashboard's count equals its list.
   */
  actionableBy?: { userId: number; twoPersonRule: boolean; step: ActionStep }
  /** With a standing paper approval in this user's name that they have neither confirmed nor disputed. */
  paperToConfirmBy?: number
  /** With a standing paper approval that its approver disputes (true), or without one (false). */
  paperDisputed?: boolean
  /**
   * Approved loans starting before this (today − expiry days) are expired as of today (issue 14): a
   * filter on `approved` leaves them out and one on `expired` takes them in, before the scheduler has
   * written their status.
   */
  expiredBefore?: string
  /** newest first (default), oldest first (work lists: longest waiting first), or by due date (overdue first). */
  order?: 'newest' | 'oldest' | 'due'
  limit: number
  offset: number
}

export async function list(db: Db, f: LoanListFilter): Promise<{ rows: LoanRow[]; total: number }> {
  let q = db.selectFrom('loan')
  const cutoff = f.expiredBefore
  const wanted = f.status ? [f.status] : f.statuses
  if (wanted && cutoff !== undefined) {
    // The status as of today: `approved` without those past their collection deadline, `expired` with them.
    const plain = wanted.filter((s) => s !== 'approved' && s !== 'expired')
    q = q.where((w) =>
      w.or([
        ...(plain.length ? [w('status', 'in', plain)] : []),
        ...(wanted.includes('approved') ? [w.and([w('status', '=', 'approved'), w('start_on', '>=', cutoff)])] : []),
        ...(wanted.includes('expired') ? [w('status', '=', 'expired'), w.and([w('status', '=', 'approved'), w('start_on', '<', cutoff)])] : []),
      ]),
    )
  } else {
    if (f.status) q = q.where('status', '=', f.status)
    if (f.statuses) q = q.where('status', 'in', f.statuses)
  }
  if (f.overdueOn) q = q.where('status', '=', 'on_loan').where('due_on', '<', f.overdueOn)
  if (f.dueBetween) q = q.where('status', '=', 'on_loan').where('due_on', '>=', f.dueBetween.from).where('due_on', '<=', f.dueBetween.to)
  if (f.startOnOrBefore) q = q.where('start_on', '<=', f.startOnOrBefore)
  if (f.fiscalYear !== undefined) q = q.where('fiscal_year', '=', f.fiscalYear)
  if (f.borrowerUserId !== undefined) q = q.where('borrower_user_id', '=', f.borrowerUserId)
  if (f.externalBorrowerId !== undefined) q = q.where('external_borrower_id', '=', f.externalBorrowerId)
  if (f.assetId !== undefined) {
    const assetId = f.assetId
    q = q.where('id', 'in', (eb) => eb.selectFrom('loan_item').select('loan_id').where('asset_id', '=', assetId))
  }
  if (f.pendingStep === 'check') q = q.where('status', '=', 'pending').where('kind', '!=', 'in_premises').where('checked_at', 'is', null)
  if (f.pendingStep === 'approve_in') q = q.where('status', '=', 'pending').where('kind', '=', 'in_premises')
  if (f.pendingStep === 'approve_out') q = q.where('status', '=', 'pending').where('kind', '!=', 'in_premises').where('checked_at', 'is not', null)
  if (f.seq !== undefined) q = q.where('seq', '=', f.seq)
  if (f.noFollowUpDueBefore) {
    q = q.where('status', '=', 'on_loan').where('due_on', '<', f.noFollowUpDueBefore).where(noFollowUpSinceDue)
  }
  if (f.pendingExtension) {
    q = q.where('status', 'in', ['approved', 'on_loan']).where(hasPendingExtension)
    if (f.pendingExtension === 'finance') q = q.where('kind', '=', 'in_premises')
    if (f.pendingExtension === 'executive') q = q.where('kind', '!=', 'in_premises')
  }
  if (f.notPartyOf !== undefined) {
    const me = f.notPartyOf
    q = q.where((eb) => eb.or([eb('borrower_user_id', 'is', null), eb('borrower_user_id', '!=', me)])).where('requested_by', '!=', me)
  }
  if (f.actionableBy) {
    const a = f.actionableBy
    q = q.where((eb) => mayAct(eb, a.userId, a.twoPersonRule, a.step))
  }
  if (f.paperToConfirmBy !== undefined) {
    const me = f.paperToConfirmBy
    q = q
      .where('status', 'not in', ['rejected', 'cancelled', 'expired'])
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('loan_approval')
          .select('loan_id')
          .where('step', '=', 'approve')
          .where('by_user_id', '=', me)
          .where('on_paper', '=', 1)
          .where('voided_at', 'is', null)
          .where('confirmed_at', 'is', null)
          .where('disputed_at', 'is', null),
      )
  }
  if (f.paperDisputed !== undefined) {
    // From the few disputed approvals (a partial index), not from every loan of the status.
    const disputed = (eb: ExpressionBuilder<Database, 'loan'>) =>
      eb
        .selectFrom('loan_approval')
        .select('loan_approval.loan_id')
        .where('loan_approval.disputed_at', 'is not', null)
        .where('loan_approval.voided_at', 'is', null)
    q = q.where('id', f.paperDisputed ? 'in' : 'not in', disputed)
  }
  const total = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
  const ordered = f.order === 'oldest' ? q.orderBy('id', 'asc') : f.order === 'due' ? q.orderBy('due_on', 'asc').orderBy('id', 'asc') : q.orderBy('id', 'desc')
  const rows = await ordered.selectAll().limit(f.limit).offset(f.offset).execute()
  return { rows, total: Number(total.n) }
}

/**
 * Approved and on-loan loans in which the asset is still out or still to be handed over (its item not
 * returned), newest first — for the asset's QR page and register page. It starts from the asset's own
 * loan items (index loan_item(asset_id, loan_id)) rather than from every open loan, and counts nothing.
 * The limit is a literal: a bound LIMIT makes SQLite re-prepare the statement on every run.
 */
export async function openLoansOfAsset(db: Db, assetId: number, limit = 50): Promise<LoanRow[]> {
  return db
    .selectFrom('loan_item as li')
    .innerJoin('loan as l', 'l.id', 'li.loan_id')
    .selectAll('l')
    .where('li.asset_id', '=', assetId)
    .where('li.returned_at', 'is', null)
    .where('l.status', 'in', ['approved', 'on_loan'])
    .orderBy('li.loan_id', 'desc')
    .limit(sql.lit(Math.trunc(limit)))
    .execute()
}

/** The step a work list asks of its reader; each has its segregation rule (SPEC §1). */
export type ActionStep = 'decide' | 'handOver' | 'extension' | 'confirm'

/** Not the loan's borrower: nobody performs any step of a loan they borrow (never switchable). */
function notBorrower(eb: ExpressionBuilder<Database, 'loan'>, me: number) {
  return eb.or([eb('loan.borrower_user_id', 'is', null), eb('loan.borrower_user_id', '!=', me)])
}

/** Checking or approving: not the borrower and, with the two-person rule on, not whoever entered it. */
function mayDecide(eb: ExpressionBuilder<Database, 'loan'>, me: number, twoPersonRule: boolean) {
  return twoPersonRule ? eb.and([notBorrower(eb, me), eb('loan.requested_by', '!=', me)]) : notBorrower(eb, me)
}

/** Handing over: not the borrower and, with the two-person rule on, not the in-premises approver (in the app or on paper). */
function mayHandOver(eb: ExpressionBuilder<Database, 'loan'>, me: number, twoPersonRule: boolean) {
  if (!twoPersonRule) return notBorrower(eb, me)
  return eb.and([
    notBorrower(eb, me),
    eb.or([
      eb('loan.kind', '!=', 'in_premises'),
      eb.and([eb('loan.approved_on_paper', '=', 0), eb.or([eb('loan.approved_by', 'is', null), eb('loan.approved_by', '!=', me)])]),
      eb.and([eb('loan.approved_on_paper', '=', 1), eb.not(eb.exists(paperBy(eb, me)))]),
    ]),
  ])
}

/** Deciding an extension: as deciding the loan, and not on an extension this user asked for. */
function mayDecideExtension(eb: ExpressionBuilder<Database, 'loan'>, me: number, twoPersonRule: boolean) {
  return eb.and([
    mayDecide(eb, me, twoPersonRule),
    eb.exists(
      eb
        .selectFrom('loan_extension')
        .select('loan_extension.id')
        .whereRef('loan_extension.loan_id', '=', 'loan.id')
        .where('loan_extension.status', '=', 'pending')
        .where('loan_extension.requested_by', '!=', me),
    ),
  ])
}

function mayAct(eb: ExpressionBuilder<Database, 'loan'>, me: number, twoPersonRule: boolean, step: ActionStep) {
  if (step === 'decide') return mayDecide(eb, me, twoPersonRule)
  if (step === 'handOver') return mayHandOver(eb, me, twoPersonRule)
  if (step === 'extension') return mayDecideExtension(eb, me, twoPersonRule)
  return notBorrower(eb, me)
}

/** No follow-up recorded after the loan's (current) due date: ข้อ 211's chase has not happened. */
function noFollowUpSinceDue(eb: ExpressionBuilder<Database, 'loan'>) {
  return eb.not(
    eb.exists(
      eb.selectFrom('follow_up').select('follow_up.id').whereRef('follow_up.loan_id', '=', 'loan.id').whereRef('follow_up.on_date', '>', 'loan.due_on'),
    ),
  )
}

/** The loan's standing paper approval names this user. */
function paperBy(eb: ExpressionBuilder<Database, 'loan'>, userId: number) {
  return eb
    .selectFrom('loan_approval')
    .select('loan_approval.id')
    .whereRef('loan_approval.loan_id', '=', 'loan.id')
    .where('loan_approval.step', '=', 'approve')
    .where('loan_approval.on_paper', '=', 1)
    .where('loan_approval.voided_at', 'is', null)
    .where('loan_approval.by_user_id', '=', userId)
}

/** The loan's standing paper approval is not disputed (a disputed one is not handed over, SPEC §1). */
function notDisputed(eb: ExpressionBuilder<Database, 'loan'>) {
  return eb.not(
    eb.exists(
      eb
        .selectFrom('loan_approval')
        .select('loan_approval.id')
        .whereRef('loan_approval.loan_id', '=', 'loan.id')
        .where('loan_approval.disputed_at', 'is not', null)
        .where('loan_approval.voided_at', 'is', null),
    ),
  )
}

/** An extension request of the loan still waiting for a decision (index loan_extension(loan_id, status)). */
function hasPendingExtension(eb: ExpressionBuilder<Database, 'loan'>) {
  return eb.exists(
    eb
      .selectFrom('loan_extension')
      .select('loan_extension.id')
      .whereRef('loan_extension.loan_id', '=', 'loan.id')
      .where('loan_extension.status', '=', 'pending'),
  )
}

export interface ActionCountsInput {
  userId: number
  today: string
  /** Due dates before this are past the follow-up deadline (today − follow-up days). */
  deadlineDueBefore: string
  /** Due dates up to this count as "due soon" (today + 3 days). */
  dueSoonTo: string
  /** The two-person rule (SPEC §1): whoever entered a loan does not approve it; the in-premises approver does not hand it over. */
  twoPersonRule: boolean
  /**
   * Approved loans starting on or before this may be collected today (today + the early hand-over
   * days, SPEC §3): they count as to hand over and as the borrower's to collect. Today when not given.
   */
  collectBy?: string
  /**
   * Approved loans starting before this were not collected in time (today − expiry days): they are
   * expired as of today, scheduler or not (issue 14), and count nowhere as approved.
   */
  expiredBefore?: string
}

export interface ActionCounts {
  toCheck: number
  toApproveIn: number
  toApproveOut: number
  toHandOver: number
  onLoan: number
  overdue: number
  needFollowUp: number
  pastDeadline: number
  dueSoon: number
  extensionsFinance: number
  extensionsExecutive: number
  myOpen: number
  myToCollect: number
  myOverdue: number
  myDueSoon: number
  /** Paper approvals recorded in this user's name, neither confirmed nor disputed. */
  toConfirm: number
}

/**
 * Every count a dashboard and the navigation need, in one statement of scalar subqueries, each on
 * an indexed column (loan(status, due_on), loan(borrower_user_id, id), loan_extension(loan_id, status)).
 * Counts of work exclude loans the user may not act on (they borrow or entered them).
 */
export async function actionCounts(db: Db, c: ActionCountsInput): Promise<ActionCounts> {
  const me = c.userId
  const collectBy = c.collectBy ?? c.today
  const expiredBefore = c.expiredBefore ?? '0000-00-00'
  const row = await db
    .selectNoFrom((eb) => {
      const count = (alias: string) => eb.fn.countAll<number>().as(alias)
      const loans = () => eb.selectFrom('loan')
      // The same predicates as the work lists (mayAct), so each count equals its list (issue 17).
      const decide = <Q extends ReturnType<typeof loans>>(q: Q) => q.where((w) => mayDecide(w, me, c.twoPersonRule)) as Q
      const pendingExt = (outside: boolean) =>
        loans()
          .where('loan.status', 'in', ['approved', 'on_loan'])
          .where('loan.kind', outside ? '!=' : '=', 'in_premises')
          .where((w) => mayDecideExtension(w, me, c.twoPersonRule))
      return [
        decide(loans().where('loan.status', '=', 'pending').where('loan.kind', '!=', 'in_premises').where('loan.checked_at', 'is', null))
          .select(count('n'))
          .as('toCheck'),
        decide(loans().where('loan.status', '=', 'pending').where('loan.kind', '=', 'in_premises'))
          .select(count('n'))
          .as('toApproveIn'),
        decide(loans().where('loan.status', '=', 'pending').where('loan.kind', '!=', 'in_premises').where('loan.checked_at', 'is not', null))
          .select(count('n'))
          .as('toApproveOut'),
        loans()
          .where('loan.status', '=', 'approved')
          .where('loan.start_on', '<=', collectBy)
          .where('loan.start_on', '>=', expiredBefore)
          .where((w) => mayHandOver(w, me, c.twoPersonRule))
          .where(notDisputed)
          .select(count('n'))
          .as('toHandOver'),
        loans().where('loan.status', '=', 'on_loan').select(count('n')).as('onLoan'),
        loans().where('loan.status', '=', 'on_loan').where('loan.due_on', '<', c.today).select(count('n')).as('overdue'),
        loans().where('loan.status', '=', 'on_loan').where('loan.due_on', '<', c.today).where(noFollowUpSinceDue).select(count('n')).as('needFollowUp'),
        loans()
          .where('loan.status', '=', 'on_loan')
          .where('loan.due_on', '<', c.deadlineDueBefore)
          .where(noFollowUpSinceDue)
          .select(count('n'))
          .as('pastDeadline'),
        loans()
          .where('loan.status', '=', 'on_loan')
          .where('loan.due_on', '>=', c.today)
          .where('loan.due_on', '<=', c.dueSoonTo)
          .select(count('n'))
          .as('dueSoon'),
        pendingExt(false).select(count('n')).as('extensionsFinance'),
        pendingExt(true).select(count('n')).as('extensionsExecutive'),
        loans()
          .where('loan.borrower_user_id', '=', me)
          .where('loan.status', 'in', ['pending', 'approved', 'on_loan'])
          .where((w) => w.or([w('loan.status', '!=', 'approved'), w('loan.start_on', '>=', expiredBefore)]))
          .select(count('n'))
          .as('myOpen'),
        loans()
          .where('loan.borrower_user_id', '=', me)
          .where('loan.status', '=', 'approved')
          .where('loan.start_on', '<=', collectBy)
          .where('loan.start_on', '>=', expiredBefore)
          .select(count('n'))
          .as('myToCollect'),
        loans()
          .where('loan.borrower_user_id', '=', me)
          .where('loan.status', '=', 'on_loan')
          .where('loan.due_on', '<', c.today)
          .select(count('n'))
          .as('myOverdue'),
        loans()
          .where('loan.borrower_user_id', '=', me)
          .where('loan.status', '=', 'on_loan')
          .where('loan.due_on', '>=', c.today)
          .where('loan.due_on', '<=', c.dueSoonTo)
          .select(count('n'))
          .as('myDueSoon'),
        eb
          .selectFrom('loan_approval as pa')
          .innerJoin('loan', 'loan.id', 'pa.loan_id')
          .where('pa.step', '=', 'approve')
          .where('pa.by_user_id', '=', me)
          .where('pa.on_paper', '=', 1)
          .where('pa.voided_at', 'is', null)
          .where('pa.confirmed_at', 'is', null)
          .where('pa.disputed_at', 'is', null)
          .where('loan.status', 'not in', ['rejected', 'cancelled', 'expired'])
          .where((w) => notBorrower(w as unknown as ExpressionBuilder<Database, 'loan'>, me))
          .select(count('n'))
          .as('toConfirm'),
      ]
    })
    .executeTakeFirstOrThrow()
  const out = {} as ActionCounts
  for (const [k, v] of Object.entries(row)) out[k as keyof ActionCounts] = Number(v ?? 0)
  return out
}
