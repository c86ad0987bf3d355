import { sql, type ExpressionBuilder, type Insertable, type Kysely } from 'kysely'
import type {
  CompensationRow,
  Database,
  ExternalBorrowerRow,
  FollowUpRow,
  LoanApprovalRow,
  LoanApprovalTable,
  LoanExtensionRow,
  LoanRow,
  LoanStatusCol,
  LoanUpdate,
  NewLoan,
} from '../../db/schema.js'

type Db = Kysely<Database>

/** The next running number of a fiscal year; the counter only moves forward, so numbers are never reused. */
export async function nextNumber(db: Db, fiscalYear: number): Promise<number> {
  const row = await db
    .insertInto('loan_number')
    .values({ fiscal_year: fiscalYear, last_seq: 1 })
    .onConflict((oc) => oc.column('fiscal_year').doUpdateSet((eb) => ({ last_seq: eb('loan_number.last_seq', '+', 1) })))
    .returning('last_seq')
    .executeTakeFirstOrThrow()
  return row.last_seq
}

export async function insert(db: Db, loan: NewLoan): Promise<LoanRow> {
  return db.insertInto('loan').values(loan).returningAll().executeTakeFirstOrThrow()
}

export async function insertItems(db: Db, loanId: number, assetIds: number[]): Promise<void> {
  if (assetIds.length === 0) return
  await db.insertInto('loan_item').values(assetIds.map((asset_id) => ({ loan_id: loanId, asset_id }))).execute()
}

export async function findById(db: Db, id: number): Promise<LoanRow | undefined> {
  return db.selectFrom('loan').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Moves a loan on only if it is still in the state the caller read (a lost race changes nothing). */
export async function updateIfStatus(db: Db, id: number, expected: LoanStatusCol, changes: LoanUpdate): Promise<boolean> {
  const r = await db.updateTable('loan').set(changes).where('id', '=', id).where('status', '=', expected).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function update(db: Db, id: number, changes: LoanUpdate): Promise<void> {
  await db.updateTable('loan').set(changes).where('id', '=', id).execute()
}

export interface LoanItemView {
  id: number
  loan_id: number
  asset_id: number
  asset_code: string
  asset_name: string
  asset_status: string
  category_code: string
  acquired_on: string | null
  useful_life_years: number | null
  category_life: number
  price_satang: number | null
  handed_over_at: string | null
  returned_at: string | null
  returned_on: string | null
  received_by: number | null
  received_by_name: string | null
  returned_by_name: string | null
  condition: 'good' | 'damaged' | 'lost' | null
  note: string
}

export async function itemsOf(db: Db, loanIds: number[]): Promise<LoanItemView[]> {
  if (loanIds.length === 0) return []
  return db
    .selectFrom('loan_item as li')
    .innerJoin('asset as a', 'a.id', 'li.asset_id')
    .innerJoin('category as c', 'c.id', 'a.category_id')
    .leftJoin('app_user as r', 'r.id', 'li.received_by')
    .select([
      'li.id',
      'li.loan_id',
      'li.asset_id',
      'a.code as asset_code',
      'a.name as asset_name',
      'a.status as asset_status',
      'c.code as category_code',
      'a.acquired_on',
      'a.useful_life_years',
      'c.useful_life_years as category_life',
      'a.price_satang',
      'li.handed_over_at',
      'li.returned_at',
      'li.returned_on',
      'li.received_by',
      'r.name as received_by_name',
      'li.returned_by_name',
      'li.condition',
      'li.note',
    ])
    .where('li.loan_id', 'in', loanIds)
    .orderBy('li.loan_id')
    .orderBy('li.id')
    .execute()
}

export interface Conflict {
  loan_id: number
  fiscal_year: number
  seq: number
  status: LoanStatusCol
  /** The first day the loan holds the asset: its start, or its hand-over day when that came earlier (SPEC §3). */
  start_on: string
  due_on: string
  asset_code: string
}

/**
 * The first day an open loan (aliased `l`) holds what it lends (SPEC §3): its start, or — handed over
 * early — its hand-over day; only a loan on loan has one. Plain CASE, the same on PostgreSQL.
 */
export const heldFrom = sql<string>`CASE WHEN ${sql.ref('l.handed_over_on')} < ${sql.ref('l.start_on')} THEN ${sql.ref('l.handed_over_on')} ELSE ${sql.ref('l.start_on')} END`

/**
 * Open loans (approved or on loan) holding any of the assets on a day of [from, to]. An item on
 * loan holds its asset from the earlier of the loan's start and its hand-over day until it actually
 * comes back, even past due: its range runs at least to today. `start_on` of each answer is that
 * first day held, so that a refusal names the days the other loan really holds.
 */
export async function openConflicts(db: Db, assetIds: number[], from: string, to: string, today: string, excludeLoanId?: number): Promise<Conflict[]> {
  if (assetIds.length === 0) return []
  let q = db
    .selectFrom('loan_item as li')
    .innerJoin('loan as l', 'l.id', 'li.loan_id')
    .innerJoin('asset as a', 'a.id', 'li.asset_id')
    .select(['l.id as loan_id', 'l.fiscal_year', 'l.seq', 'l.status', heldFrom.as('start_on'), 'l.due_on', 'a.code as asset_code'])
    .where('li.asset_id', 'in', assetIds)
    .where('li.returned_at', 'is', null)
    .where('l.status', 'in', ['approved', 'on_loan'])
    // Held from its start, or from its hand-over day when that came first.
    .where((eb) => eb.or([eb('l.start_on', '<=', to), eb('l.handed_over_on', '<=', to)]))
    // An unreturned item of a loan on loan reaches at least today, so it reaches the range when today does.
    .where((eb) => (today >= from ? eb.or([eb('l.due_on', '>=', from), eb('l.status', '=', 'on_loan')]) : eb('l.due_on', '>=', from)))
  if (excludeLoanId !== undefined) q = q.where('l.id', '!=', excludeLoanId)
  return q.orderBy('l.start_on').execute()
}

/** Pending requests for any of the assets on overlapping days: they never block; approvers see them. */
export async function pendingCompeting(db: Db, assetIds: number[], from: string, to: string, excludeLoanId: number): Promise<Conflict[]> {
  if (assetIds.length === 0) return []
  return db
    .selectFrom('loan_item as li')
    .innerJoin('loan as l', 'l.id', 'li.loan_id')
    .innerJoin('asset as a', 'a.id', 'li.asset_id')
    .select(['l.id as loan_id', 'l.fiscal_year', 'l.seq', 'l.status', 'l.start_on', 'l.due_on', 'a.code as asset_code'])
    .where('li.asset_id', 'in', assetIds)
    .where('l.status', '=', 'pending')
    .where('l.id', '!=', excludeLoanId)
    .where('l.start_on', '<=', to)
    .where('l.due_on', '>=', from)
    .orderBy('l.start_on')
    .execute()
}

/** Marks every not-yet-handed-over item of the loan handed over; returns how many. */
export async function markItemsHandedOver(db: Db, loanId: number, at: string, by: number): Promise<number> {
  const r = await db
    .updateTable('loan_item')
    .set({ handed_over_at: at, handed_over_by: by })
    .where('loan_id', '=', loanId)
    .where('handed_over_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows)
}

/** Records one item's return, only if it is out (a second receipt of the same item changes nothing). */
export async function markItemReturned(
  db: Db,
  itemId: number,
  r: { at: string; on: string; by: number; returnedByName: string; condition: 'good' | 'damaged' | 'lost'; note: string },
): Promise<boolean> {
  const res = await db
    .updateTable('loan_item')
    .set({ returned_at: r.at, returned_on: r.on, received_by: r.by, returned_by_name: r.returnedByName, condition: r.condition, note: r.note })
    .where('id', '=', itemId)
    .where('handed_over_at', 'is not', null)
    .where('returned_at', 'is', null)
    .executeTakeFirst()
  return Number(res.numUpdatedRows) === 1
}

export async function countOutstandingItems(db: Db, loanId: number): Promise<number> {
  const r = await db
    .selectFrom('loan_item')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('loan_id', '=', loanId)
    .where('returned_at', 'is', null)
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

export async function insertApproval(
  db: Db,
  a: Insertable<LoanApprovalTable> & Pick<LoanApprovalTable, 'by_user_id' | 'note' | 'on_paper' | 'paper_date'>,
): Promise<number> {
  const r = await db.insertInto('loan_approval').values(a).returning('id').executeTakeFirstOrThrow()
  return r.id
}

/** The loan's standing paper approval: the latest approval on paper not voided. */
export async function standingPaperApproval(db: Db, loanId: number): Promise<LoanApprovalRow | undefined> {
  return db
    .selectFrom('loan_approval')
    .selectAll()
    .where('loan_id', '=', loanId)
    .where('step', '=', 'approve')
    .where('on_paper', '=', 1)
    .where('voided_at', 'is', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst()
}

/** Changes a paper approval only while it is still open (not voided, not confirmed, not disputed): a double click changes nothing twice. */
export async function decideApprovalIfOpen(
  db: Db,
  id: number,
  changes: Partial<Pick<LoanApprovalRow, 'confirmed_at' | 'disputed_at' | 'dispute_reason' | 'voided_at' | 'voided_by' | 'void_reason'>>,
  opts: { allowDisputed?: boolean } = {},
): Promise<boolean> {
  let q = db.updateTable('loan_approval').set(changes).where('id', '=', id).where('voided_at', 'is', null).where('confirmed_at', 'is', null)
  if (!opts.allowDisputed) q = q.where('disputed_at', 'is', null)
  const r = await q.executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/**
 * Voids the check recorded together with a paper approval (the officer's signature on the slip), if
 * the loan has one still standing: a voided paper takes its check with it. True when there was one.
 */
export async function voidPaperCheck(db: Db, loanId: number, changes: { voided_at: string; voided_by: number; void_reason: string }): Promise<boolean> {
  const r = await db
    .updateTable('loan_approval')
    .set(changes)
    .where('loan_id', '=', loanId)
    .where('step', '=', 'check')
    .where('on_paper', '=', 1)
    .where('voided_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) > 0
}

/** Links a scan to the loan's standing paper approval that has none yet. */
export async function linkEvidence(db: Db, approvalId: number, attachmentId: number): Promise<boolean> {
  const r = await db.updateTable('loan_approval').set({ evidence_id: attachmentId }).where('id', '=', approvalId).where('evidence_id', 'is', null).executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function approvalsOf(db: Db, loanIds: number[]): Promise<LoanApprovalRow[]> {
  if (loanIds.length === 0) return []
  return db.selectFrom('loan_approval').selectAll().where('loan_id', 'in', loanIds).orderBy('id').execute()
}

export async function insertExternalBorrower(db: Db, b: Omit<ExternalBorrowerRow, 'id'>): Promise<ExternalBorrowerRow> {
  return db.insertInto('external_borrower').values(b).returningAll().executeTakeFirstOrThrow()
}

export async function externalBorrowersByIds(db: Db, ids: number[]): Promise<ExternalBorrowerRow[]> {
  if (ids.length === 0) return []
  return db.selectFrom('external_borrower').selectAll().where('id', 'in', ids).execute()
}

export interface UserBrief {
  id: number
  username: string
  name: string
  position: string
  phone: string
  department_id: number | null
}

export async function usersByIds(db: Db, ids: number[]): Promise<UserBrief[]> {
  const unique = [...new Set(ids)]
  if (unique.length === 0) return []
  return db.selectFrom('app_user').select(['id', 'username', 'name', 'position', 'phone', 'department_id']).where('id', 'in', unique).execute()
}

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
  if (f.paperToConfirmBy !== undefined) {
    const me = f.paperToConfirmBy
    q = q.where('status', 'not in', ['rejected', 'cancelled', 'expired']).where('id', 'in', (eb) =>
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
      eb.selectFrom('loan_approval').select('loan_approval.loan_id').where('loan_approval.disputed_at', 'is not', null).where('loan_approval.voided_at', 'is', null)
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

/** No follow-up recorded after the loan's (current) due date: ข้อ 211's chase has not happened. */
function noFollowUpSinceDue(eb: ExpressionBuilder<Database, 'loan'>) {
  return eb.not(eb.exists(eb.selectFrom('follow_up').select('follow_up.id').whereRef('follow_up.loan_id', '=', 'loan.id').whereRef('follow_up.on_date', '>', 'loan.due_on')))
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
  return eb.exists(eb.selectFrom('loan_extension').select('loan_extension.id').whereRef('loan_extension.loan_id', '=', 'loan.id').where('loan_extension.status', '=', 'pending'))
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
      const notParty = <Q extends ReturnType<typeof loans>>(q: Q) => {
        const notBorrower = q.where((w) => w.or([w('loan.borrower_user_id', 'is', null), w('loan.borrower_user_id', '!=', me)])) as Q
        // With the two-person rule off, whoever entered a loan for someone else may approve it.
        return (c.twoPersonRule ? notBorrower.where('loan.requested_by', '!=', me) : notBorrower) as Q
      }
      const notMine = <Q extends ReturnType<typeof loans>>(q: Q) => q.where((w) => w.or([w('loan.borrower_user_id', 'is', null), w('loan.borrower_user_id', '!=', me)])) as Q
      const pendingExt = (outside: boolean) =>
        notParty(loans().where('loan.status', 'in', ['approved', 'on_loan']).where('loan.kind', outside ? '!=' : '=', 'in_premises'))
          .innerJoin('loan_extension as e', (j) => j.onRef('e.loan_id', '=', 'loan.id').on('e.status', '=', 'pending'))
          .where('e.requested_by', '!=', me)
      return [
        notParty(loans().where('loan.status', '=', 'pending').where('loan.kind', '!=', 'in_premises').where('loan.checked_at', 'is', null)).select(count('n')).as('toCheck'),
        notParty(loans().where('loan.status', '=', 'pending').where('loan.kind', '=', 'in_premises')).select(count('n')).as('toApproveIn'),
        notParty(loans().where('loan.status', '=', 'pending').where('loan.kind', '!=', 'in_premises').where('loan.checked_at', 'is not', null)).select(count('n')).as('toApproveOut'),
        notMine(loans().where('loan.status', '=', 'approved').where('loan.start_on', '<=', collectBy).where('loan.start_on', '>=', expiredBefore))
          .where((w) =>
            c.twoPersonRule
              ? w.or([
                  w('loan.kind', '!=', 'in_premises'),
                  w.and([w('loan.approved_on_paper', '=', 0), w.or([w('loan.approved_by', 'is', null), w('loan.approved_by', '!=', me)])]),
                  w.and([w('loan.approved_on_paper', '=', 1), w.not(w.exists(paperBy(w, me)))]),
                ])
              : w.lit(true),
          )
          .where(notDisputed)
          .select(count('n'))
          .as('toHandOver'),
        loans().where('loan.status', '=', 'on_loan').select(count('n')).as('onLoan'),
        loans().where('loan.status', '=', 'on_loan').where('loan.due_on', '<', c.today).select(count('n')).as('overdue'),
        loans()
          .where('loan.status', '=', 'on_loan')
          .where('loan.due_on', '<', c.today)
          .where(noFollowUpSinceDue)
          .select(count('n'))
          .as('needFollowUp'),
        loans()
          .where('loan.status', '=', 'on_loan')
          .where('loan.due_on', '<', c.deadlineDueBefore)
          .where(noFollowUpSinceDue)
          .select(count('n'))
          .as('pastDeadline'),
        loans().where('loan.status', '=', 'on_loan').where('loan.due_on', '>=', c.today).where('loan.due_on', '<=', c.dueSoonTo).select(count('n')).as('dueSoon'),
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
        loans().where('loan.borrower_user_id', '=', me).where('loan.status', '=', 'on_loan').where('loan.due_on', '<', c.today).select(count('n')).as('myOverdue'),
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
          .where((w) => w.or([w('loan.borrower_user_id', 'is', null), w('loan.borrower_user_id', '!=', me)]))
          .select(count('n'))
          .as('toConfirm'),
      ]
    })
    .executeTakeFirstOrThrow()
  const out = {} as ActionCounts
  for (const [k, v] of Object.entries(row)) out[k as keyof ActionCounts] = Number(v ?? 0)
  return out
}

/** Who changed each compensation record and when (its audit entries), for the loan's timeline. */
export async function compensationChanges(db: Db, compensationIds: number[]): Promise<Array<{ at: string; actor_id: number | null; actor_label: string; entity_id: string | null; data: string }>> {
  if (compensationIds.length === 0) return []
  return db
    .selectFrom('audit_log')
    .select(['at', 'actor_id', 'actor_label', 'entity_id', 'data'])
    .where('entity', '=', 'compensation')
    .where('entity_id', 'in', compensationIds.map(String))
    .where('action', '=', 'compensation.updated')
    .orderBy('id')
    .execute()
}

/** Approved loans not collected whose start lies before `startBefore`: they expire. */
export async function expirable(db: Db, startBefore: string): Promise<LoanRow[]> {
  return db.selectFrom('loan').selectAll().where('status', '=', 'approved').where('start_on', '<', startBefore).execute()
}

export async function insertExtension(db: Db, e: Omit<LoanExtensionRow, 'id'>): Promise<LoanExtensionRow> {
  return db.insertInto('loan_extension').values(e).returningAll().executeTakeFirstOrThrow()
}

export async function extensionsOf(db: Db, loanIds: number[]): Promise<LoanExtensionRow[]> {
  if (loanIds.length === 0) return []
  return db.selectFrom('loan_extension').selectAll().where('loan_id', 'in', loanIds).orderBy('id').execute()
}

export async function updateExtensionIfPending(db: Db, id: number, changes: Partial<Omit<LoanExtensionRow, 'id'>>): Promise<boolean> {
  const r = await db.updateTable('loan_extension').set(changes).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

export async function insertFollowUp(db: Db, f: Omit<FollowUpRow, 'id'>): Promise<FollowUpRow> {
  return db.insertInto('follow_up').values(f).returningAll().executeTakeFirstOrThrow()
}

export async function followUpsOf(db: Db, loanIds: number[]): Promise<FollowUpRow[]> {
  if (loanIds.length === 0) return []
  return db.selectFrom('follow_up').selectAll().where('loan_id', 'in', loanIds).orderBy('on_date').orderBy('id').execute()
}

export async function insertCompensation(db: Db, c: Omit<CompensationRow, 'id'>): Promise<CompensationRow> {
  return db.insertInto('compensation').values(c).returningAll().executeTakeFirstOrThrow()
}

export async function compensationsOf(db: Db, loanIds: number[]): Promise<CompensationRow[]> {
  if (loanIds.length === 0) return []
  return db.selectFrom('compensation').selectAll().where('loan_id', 'in', loanIds).orderBy('id').execute()
}

export async function findCompensation(db: Db, id: number): Promise<CompensationRow | undefined> {
  return db.selectFrom('compensation').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function updateCompensation(db: Db, id: number, changes: Partial<Omit<CompensationRow, 'id'>>): Promise<void> {
  await db.updateTable('compensation').set(changes).where('id', '=', id).execute()
}

/** Loans on loan past their follow-up deadline (due + days) with no follow-up recorded since the due date. */
export async function pastFollowUpDeadline(db: Db, deadlineBefore: string): Promise<LoanRow[]> {
  return db
    .selectFrom('loan')
    .selectAll()
    .where('status', '=', 'on_loan')
    .where('due_on', '<', deadlineBefore)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('follow_up').select('follow_up.id').whereRef('follow_up.loan_id', '=', 'loan.id').whereRef('follow_up.on_date', '>', 'loan.due_on'))),
    )
    .orderBy('due_on')
    .execute()
}

/** The loan each asset is out on now (handed over, not back). */
export async function outstandingByAssets(db: Db, assetIds: number[]): Promise<Array<{ asset_id: number; loan_id: number; seq: number; fiscal_year: number; due_on: string }>> {
  if (assetIds.length === 0) return []
  return db
    .selectFrom('loan_item as li')
    .innerJoin('loan as l', 'l.id', 'li.loan_id')
    .select(['li.asset_id', 'l.id as loan_id', 'l.seq', 'l.fiscal_year', 'l.due_on'])
    .where('li.asset_id', 'in', assetIds)
    .where('li.handed_over_at', 'is not', null)
    .where('li.returned_at', 'is', null)
    .execute()
}

export interface PaperReviewRow {
  approval_id: number
  loan_id: number
  seq: number
  fiscal_year: number
  status: LoanRow['status']
  kind: LoanRow['kind']
  requested_by: number
  handed_over_by: number | null
  handed_over_on: string | null
  by_name: string
  by_user_id: number | null
  recorded_by: number
  at: string
  paper_date: string | null
  confirmed_at: string | null
  disputed_at: string | null
  dispute_reason: string
  voided_at: string | null
  evidence_id: number | null
}

/**
 * The paper approvals the committee looks at (SPEC §1): unconfirmed since before `unconfirmedBefore`,
 * disputed (even once voided), without a scan, or on a loan that one user entered, recorded and
 * handed over. Oldest first.
 */
export async function paperApprovalsForReview(db: Db, unconfirmedBefore: string): Promise<PaperReviewRow[]> {
  return db
    .selectFrom('loan_approval as pa')
    .innerJoin('loan as l', 'l.id', 'pa.loan_id')
    .select([
      'pa.id as approval_id',
      'l.id as loan_id',
      'l.seq',
      'l.fiscal_year',
      'l.status',
      'l.kind',
      'l.requested_by',
      'l.handed_over_by',
      'l.handed_over_on',
      'pa.by_name',
      'pa.by_user_id',
      'pa.recorded_by',
      'pa.at',
      'pa.paper_date',
      'pa.confirmed_at',
      'pa.disputed_at',
      'pa.dispute_reason',
      'pa.voided_at',
      'pa.evidence_id',
    ])
    .where('pa.step', '=', 'approve')
    .where('pa.on_paper', '=', 1)
    .where((eb) =>
      eb.or([
        eb('pa.disputed_at', 'is not', null),
        eb.and([eb('pa.voided_at', 'is', null), eb('pa.evidence_id', 'is', null)]),
        eb.and([eb('pa.voided_at', 'is', null), eb('pa.confirmed_at', 'is', null), eb('pa.by_user_id', 'is not', null), eb('pa.at', '<', unconfirmedBefore)]),
        eb.and([eb('l.requested_by', '=', eb.ref('pa.recorded_by')), eb('l.handed_over_by', '=', eb.ref('pa.recorded_by'))]),
      ]),
    )
    .orderBy('pa.at', 'asc')
    .orderBy('pa.id', 'asc')
    .execute()
}
