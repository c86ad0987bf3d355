import { sql, type Kysely } from 'kysely'
import type { Database, MailOutboxRow, NewNotification, NotificationRow, Role } from '../../db/schema.js'
import { hasTable } from '../../db/dialect.js'

type Db = Kysely<Database>

/** Who may be told: an active account, with its address and switch. */
export interface Recipient {
  id: number
  email: string
  email_enabled: number
}

export async function recipientsByIds(db: Db, ids: number[]): Promise<Recipient[]> {
  if (ids.length === 0) return []
  return db.selectFrom('app_user').select(['id', 'email', 'email_enabled']).where('id', 'in', ids).where('active', '=', 1).orderBy('id').execute()
}

/** The active holders of any of the roles. */
export async function userIdsWithRoles(db: Db, roles: readonly Role[]): Promise<number[]> {
  if (roles.length === 0) return []
  const rows = await db
    .selectFrom('user_role')
    .innerJoin('app_user', 'app_user.id', 'user_role.user_id')
    .select('app_user.id')
    .distinct()
    .where('user_role.role', 'in', roles)
    .where('app_user.active', '=', 1)
    .orderBy('app_user.id')
    .execute()
  return rows.map((r) => r.id)
}

/** Inserts a notification; undefined when its dedupe key was already used (a reminder made before). */
export async function insert(db: Db, row: NewNotification): Promise<number | undefined> {
  const r = await db
    .insertInto('notification')
    .values(row)
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id')
    .executeTakeFirst()
  return r?.id
}

export async function insertMail(
  db: Db,
  row: { notification_id: number; to_address: string; subject: string; body: string; created_at: string; next_attempt_at: string },
): Promise<void> {
  await db.insertInto('mail_outbox').values(row).execute()
}

export async function countUnread(db: Db, userId: number): Promise<number> {
  const r = await db
    .selectFrom('notification')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

/** A person's notifications, newest first; `beforeId` pages back. */
export async function listFor(db: Db, userId: number, opts: { limit: number; beforeId?: number; unreadOnly?: boolean }): Promise<NotificationRow[]> {
  let q = db.selectFrom('notification').selectAll().where('user_id', '=', userId)
  if (opts.beforeId !== undefined) q = q.where('id', '<', opts.beforeId)
  if (opts.unreadOnly) q = q.where('read_at', 'is', null)
  return q.orderBy('id', 'desc').limit(opts.limit).execute()
}

/** Marks a person's notifications read: the given ids (theirs only) or all; answers how many changed. */
export async function markRead(db: Db, userId: number, at: string, ids?: number[]): Promise<number> {
  if (ids && ids.length === 0) return 0
  let q = db.updateTable('notification').set({ read_at: at }).where('user_id', '=', userId).where('read_at', 'is', null)
  if (ids) q = q.where('id', 'in', ids)
  const r = await q.executeTakeFirst()
  return Number(r.numUpdatedRows)
}

// ---------------------------------------------------------------- the outbox

/**
 * Claims up to `limit` due rows for `sender` until `until`: a row is due when unsent, not failed, its
 * next attempt has come and no live lease holds it. Run inside a write transaction (BEGIN IMMEDIATE),
 * so that two senders, in one process or two, never claim the same row.
 */
export async function claimDue(db: Db, sender: string, now: string, until: string, limit: number): Promise<MailOutboxRow[]> {
  const due = await db
    .selectFrom('mail_outbox')
    .select('id')
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute()
  if (due.length === 0) return []
  await db
    .updateTable('mail_outbox')
    .set({ claimed_by: sender, claimed_until: until })
    .where(
      'id',
      'in',
      due.map((d) => d.id),
    )
    .execute()
  return db
    .selectFrom('mail_outbox')
    .selectAll()
    .where(
      'id',
      'in',
      due.map((d) => d.id),
    )
    .where('claimed_by', '=', sender)
    .orderBy('id')
    .execute()
}

/** Marks a claimed row sent (only while this sender still holds it). */
export async function markSent(db: Db, id: number, sender: string, at: string): Promise<boolean> {
  const r = await db
    .updateTable('mail_outbox')
    .set({ sent_at: at, last_attempt_at: at, attempts: sql`attempts + 1`, claimed_by: null, claimed_until: null, last_error: '' })
    .where('id', '=', id)
    .where('claimed_by', '=', sender)
    .where('sent_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows) === 1
}

/** Records a failed attempt: the next one at `next`, or never (`failed`). */
export async function markFailed(db: Db, id: number, sender: string, at: string, error: string, next: string, failed: boolean): Promise<void> {
  await db
    .updateTable('mail_outbox')
    .set({
      last_attempt_at: at,
      attempts: sql`attempts + 1`,
      last_error: error.slice(0, 500),
      next_attempt_at: next,
      claimed_by: null,
      claimed_until: null,
      failed_at: failed ? at : null,
    })
    .where('id', '=', id)
    .where('claimed_by', '=', sender)
    .execute()
}

/**
 * When the next unsent row may be claimed — its next attempt, or the end of another sender's live
 * lease — so that an idle sender sleeps until then instead of polling a row someone else is sending.
 */
export async function nextDueAt(db: Db): Promise<string | undefined> {
  const r = await db
    .selectFrom('mail_outbox')
    .select(
      sql<string | null>`min(CASE WHEN claimed_until IS NOT NULL AND claimed_until > next_attempt_at THEN claimed_until ELSE next_attempt_at END)`.as('at'),
    )
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .executeTakeFirst()
  return (r?.at as string | null | undefined) ?? undefined
}

export interface QueueStatus {
  waiting: number
  failed: number
  sent: number
  lastError: string
  lastErrorAt: string | null
  lastSentAt: string | null
  oldestWaitingAt: string | null
}

export async function queueStatus(db: Db): Promise<QueueStatus> {
  const counts = await db
    .selectFrom('mail_outbox')
    .select([
      sql<number>`coalesce(sum(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0)`.as('waiting'),
      sql<number>`coalesce(sum(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0)`.as('failed'),
      sql<number>`coalesce(sum(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0)`.as('sent'),
      sql<string | null>`max(sent_at)`.as('lastSentAt'),
      sql<string | null>`min(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN created_at END)`.as('oldestWaitingAt'),
    ])
    .executeTakeFirstOrThrow()
  const err = await db
    .selectFrom('mail_outbox')
    .select(['last_error', 'last_attempt_at'])
    .where('last_error', '!=', '')
    .orderBy('last_attempt_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst()
  return {
    waiting: Number(counts.waiting),
    failed: Number(counts.failed),
    sent: Number(counts.sent),
    lastSentAt: counts.lastSentAt,
    oldestWaitingAt: counts.oldestWaitingAt,
    lastError: err?.last_error ?? '',
    lastErrorAt: err?.last_attempt_at ?? null,
  }
}

/** The loans a daily reminder may concern, with what the reminders need. */
export interface ReminderLoan {
  id: number
  seq: number
  fiscal_year: number
  status: string
  kind: string
  borrower_user_id: number | null
  start_on: string
  due_on: string
  approved_at: string | null
  approved_by: number | null
  handed_over_at: string | null
}

/** Approved loans not yet collected, and loans out whose due date is at most `dueBy`. */
export async function reminderLoans(db: Db, dueBy: string, collectableBy: string): Promise<ReminderLoan[]> {
  return db
    .selectFrom('loan')
    .select(['id', 'seq', 'fiscal_year', 'status', 'kind', 'borrower_user_id', 'start_on', 'due_on', 'approved_at', 'approved_by', 'handed_over_at'])
    .where((eb) =>
      eb.or([eb.and([eb('status', '=', 'on_loan'), eb('due_on', '<=', dueBy)]), eb.and([eb('status', '=', 'approved'), eb('start_on', '<=', collectableBy)])]),
    )
    .orderBy('id')
    .execute()
}

/** The standing paper approvers with an account of these loans (the loan's approver when it was approved on paper). */
export async function paperApproversOf(db: Db, loanIds: number[]): Promise<Map<number, number>> {
  if (loanIds.length === 0) return new Map()
  const rows = await db
    .selectFrom('loan_approval')
    .select(['loan_id', 'by_user_id'])
    .where('loan_id', 'in', loanIds)
    .where('step', '=', 'approve')
    .where('voided_at', 'is', null)
    .where('by_user_id', 'is not', null)
    .orderBy('id')
    .execute()
  return new Map(rows.map((r) => [r.loan_id, r.by_user_id!]))
}

/** Loans with a follow-up recorded after their (current) due date: ข้อ 211's chase has happened. */
export async function followedUpAfterDue(db: Db, loanIds: number[]): Promise<Set<number>> {
  if (loanIds.length === 0) return new Set()
  const rows = await db
    .selectFrom('follow_up')
    .innerJoin('loan', 'loan.id', 'follow_up.loan_id')
    .select('follow_up.loan_id')
    .distinct()
    .where('follow_up.loan_id', 'in', loanIds)
    .whereRef('follow_up.on_date', '>', 'loan.due_on')
    .execute()
  return new Set(rows.map((r) => r.loan_id))
}

/**
 * SPEC §8: a restore drops unsent mail — the restored file's outbox was written before the backup, and
 * some of it may have gone out since. Marked failed with the reason, not deleted (the admin page shows
 * them). Nothing on a file older than the outbox (it is migrated at the next start).
 */
export async function dropUnsentMail(db: Db, at: string): Promise<number> {
  if (!(await hasTable(db, 'mail_outbox'))) return 0
  const r = await db
    .updateTable('mail_outbox')
    .set({ failed_at: at, last_error: 'dropped by a database restore', claimed_by: null, claimed_until: null })
    .where('sent_at', 'is', null)
    .where('failed_at', 'is', null)
    .executeTakeFirst()
  return Number(r.numUpdatedRows)
}
