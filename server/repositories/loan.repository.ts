import { sql, type Insertable, type Kysely } from 'kysely'
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

// The lists and counts live in their own file; callers reach them through this one.
export * from './loan-list.repository.js'

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
  await db
    .insertInto('loan_item')
    .values(assetIds.map((asset_id) => ({ loan_id: loanId, asset_id })))
    .execute()
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
  return q.orderBy('l.start_on').orderBy('l.id').orderBy('li.id').execute()
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
    .orderBy('l.id')
    .orderBy('li.id')
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
  const r = await db
    .updateTable('loan_approval')
    .set({ evidence_id: attachmentId })
    .where('id', '=', approvalId)
    .where('evidence_id', 'is', null)
    .executeTakeFirst()
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
  return db.selectFrom('external_borrower').selectAll().where('id', 'in', ids).orderBy('id').execute()
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
  return db.selectFrom('app_user').select(['id', 'username', 'name', 'position', 'phone', 'department_id']).where('id', 'in', unique).orderBy('id').execute()
}

/** Who changed each compensation record and when (its audit entries), for the loan's timeline. */
export async function compensationChanges(
  db: Db,
  compensationIds: number[],
): Promise<Array<{ at: string; actor_id: number | null; actor_label: string; entity_id: string | null; data: string }>> {
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
  return db.selectFrom('loan').selectAll().where('status', '=', 'approved').where('start_on', '<', startBefore).orderBy('id').execute()
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
      not(
        exists(selectFrom('follow_up').select('follow_up.id').whereRef('follow_up.loan_id', '=', 'loan.id').whereRef('follow_up.on_date', '>', 'loan.due_on')),
      ),
    )
    .orderBy('due_on')
    .orderBy('id')
    .execute()
}

/** The loan each asset is out on now (handed over, not back). */
export async function outstandingByAssets(
  db: Db,
  assetIds: number[],
): Promise<Array<{ asset_id: number; loan_id: number; seq: number; fiscal_year: number; due_on: string }>> {
  if (assetIds.length === 0) return []
  return db
    .selectFrom('loan_item as li')
    .innerJoin('loan as l', 'l.id', 'li.loan_id')
    .select(['li.asset_id', 'l.id as loan_id', 'l.seq', 'l.fiscal_year', 'l.due_on'])
    .where('li.asset_id', 'in', assetIds)
    .where('li.handed_over_at', 'is not', null)
    .where('li.returned_at', 'is', null)
    .orderBy('li.id')
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
