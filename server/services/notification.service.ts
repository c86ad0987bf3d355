/**
 * Notifications (SPEC §8, issue 18): what waits for a person, in the app and by e-mail.
 *
 * Each event's service calls one function here inside its own write transaction, right after its
 * audit entry: the notification rows and their outbox rows commit or roll back with the event.
 * Neither is part of the audit chain. The text is not stored: a row keeps its kind and parameters and
 * is rendered in the reader's language; only the e-mail is composed now (in Thai) and kept in the
 * outbox for the sender (mail-sender.service.ts), which never runs inside a request.
 *
 * Nobody is told about their own action; inactive accounts are told nothing.
 */
import { writeTransaction, type Db } from '../../db/connection.js'
import type { LoanRow, NotificationRow, Role } from '../../db/schema.js'
import * as repo from '../repositories/notification.repository.js'
import * as loans from '../repositories/loan.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import type { AppContext } from '../context.js'
import { cached } from '../lib/cache.js'
import { addDays, bangkokDate } from '../i18n/calendar.js'
import { formatDate } from '../i18n/format.js'
import { hasMessage, translate, type Locale } from '../i18n/index.js'
import { collectableFrom } from './loan-policy.js'
import { followUpDeadline } from './loan-rules.js'
import { getSettings } from './settings.service.js'

export const NOTIFICATION_KINDS = [
  'loan.requested', // finance: a request waits for its check
  'loan.awaitingApproval', // executives: a checked loan waits for their approval
  'loan.approved', // the borrower
  'loan.rejected', // the borrower
  'loan.readyToCollect', // the borrower, on the first day it may be collected (scheduler)
  'loan.dueSoon', // the borrower, 2 days before the due date (scheduler)
  'loan.overdue', // the borrower, each day it is overdue (scheduler)
  'loan.overdueStaff', // finance and the loan's approver, when it becomes overdue (scheduler)
  'loan.followUpNear', // finance and the loan's approver, as ข้อ 211's deadline nears (scheduler)
  'loan.extensionRequested', // finance (and the executives for a loan outside the premises)
  'loan.extensionApproved', // the borrower
  'loan.extensionRejected', // the borrower
  'loan.paperRecorded', // the person named as the approver on paper
  'loan.paperDisputed', // finance and the committee
  'report.submitted', // the committee: a report waits for its review
  'report.reviewed', // the executives: a report waits for approval
  'report.returned', // finance: a report was sent back
  'settings.twoPersonOff', // executives and committee (SPEC §1)
  'settings.signatoriesChanged', // executives and committee (SPEC §1)
  'user.rolesChanged', // executives, committee and the person (SPEC §1)
] as const
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number]

type Params = Record<string, string | number>

/** Parameters that are calendar dates ('YYYY-MM-DD'), shown in the reader's calendar. */
const DATE_PARAMS = new Set(['startOn', 'dueOn', 'toDueOn', 'collectFrom', 'deadlineOn', 'paperDate'])

// ---------------------------------------------------------------- the wake-up of this process's sender

const wakers = new WeakMap<Db, Set<() => void>>()

/** The sender of this process asks to hear of new mail on `db` (other processes' mail it finds by polling). */
export function onMailQueued(db: Db, wake: () => void): () => void {
  let set = wakers.get(db)
  if (!set) wakers.set(db, (set = new Set()))
  set.add(wake)
  return () => set.delete(wake)
}

function wakeSenders(db: Db): void {
  // After the event's transaction: the sender's claim waits for the connection until it has committed.
  for (const w of wakers.get(db) ?? []) setImmediate(w)
}

// ---------------------------------------------------------------- writing

interface NotifyInput {
  kind: NotificationKind
  to: Iterable<number>
  /** The one who acted: never told about it. */
  actorId: number | null
  loanId?: number | null
  params: Params
  link: string
  /** For reminders: at most one notification per key (the user id is appended). */
  dedupeKey?: string
}

/**
 * Writes the notifications (and, when mail is set up and the person has an address with e-mail on,
 * their outbox rows) inside the caller's transaction `trx`. Answers how many were written.
 */
export async function notify(ctx: AppContext, trx: Db, n: NotifyInput): Promise<number> {
  const ids = [...new Set(n.to)].filter((id) => id !== n.actorId)
  if (ids.length === 0) return 0
  const people = await repo.recipientsByIds(trx, ids)
  const at = ctx.clock.now().toISOString()
  const params = JSON.stringify(n.params)
  let written = 0
  let mailed = false
  for (const p of people) {
    const id = await repo.insert(trx, {
      user_id: p.id,
      kind: n.kind,
      loan_id: n.loanId ?? null,
      params,
      link: n.link,
      created_at: at,
      read_at: null,
      dedupe_key: n.dedupeKey ? `${n.dedupeKey}:${p.id}` : null,
    })
    if (id === undefined) continue
    written++
    if (ctx.config.smtpUrl && p.email && p.email_enabled === 1) {
      const mail = composeMail(ctx, n.kind, n.params, n.link)
      await repo.insertMail(trx, { notification_id: id, to_address: p.email, subject: mail.subject, body: mail.body, created_at: at, next_attempt_at: at })
      mailed = true
    }
  }
  if (mailed) wakeSenders(ctx.db)
  return written
}

/** The e-mail of a notification: a Thai subject and a short Thai body with the link (PUBLIC_BASE_URL). */
export function composeMail(ctx: AppContext, kind: NotificationKind, params: Params, link: string): { subject: string; body: string } {
  const text = renderNotification('th', kind, params)
  const url = `${ctx.config.publicBaseUrl}${link}`
  const footer = translate('th', 'notification.mailFooter', { account: `${ctx.config.publicBaseUrl}/account` })
  const body = [text.title, '', text.body, '', translate('th', 'notification.mailOpen', { url }), '', '—', footer].join('\n')
  return { subject: translate('th', 'notification.mailSubject', { title: text.title }), body }
}

// ---------------------------------------------------------------- reading

export interface NotificationView {
  id: number
  kind: string
  title: string
  body: string
  link: string
  createdAt: string
  readAt: string | null
  /** The Bangkok day it was made on, for grouping. */
  day: string
}

/** A notification's title and body in `locale`, from its kind and parameters. */
export function renderNotification(locale: Locale, kind: string, params: Params): { title: string; body: string } {
  const shown: Params = {}
  for (const [k, v] of Object.entries(params)) {
    if (DATE_PARAMS.has(k) && typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) shown[k] = formatDate(v, { locale, style: 'long' })
    else if (k === 'period' && hasMessage(`register.period.${v}`)) shown[k] = translate(locale, `register.period.${v}`)
    else if (k === 'roles' || k === 'rolesFrom' || k === 'rolesTo')
      shown[k] =
        String(v)
          .split(',')
          .filter(Boolean)
          .map((r) => translate(locale, `role.${r}`))
          .join(', ') || translate(locale, 'common.none')
    else shown[k] = v
  }
  const key = hasMessage(`notification.${kind}.title`) ? kind : 'unknown'
  return { title: translate(locale, `notification.${key}.title`, shown), body: translate(locale, `notification.${key}.body`, shown) }
}

function viewOf(row: NotificationRow, locale: Locale): NotificationView {
  let params: Params = {}
  try {
    params = JSON.parse(row.params) as Params
  } catch {
    // shown with its kind's text and the placeholders as they are
  }
  const text = renderNotification(locale, row.kind, params)
  return { id: row.id, kind: row.kind, ...text, link: row.link, createdAt: row.created_at, readAt: row.read_at, day: bangkokDate(new Date(row.created_at)) }
}

/** The header's count: one indexed count, kept until the next write (server/lib/cache.ts). */
export async function unreadCount(ctx: AppContext, userId: number): Promise<number> {
  return cached(ctx, `notifications:unread:${userId}`, () => repo.countUnread(ctx.db, userId))
}

export const PAGE_SIZE = 50

/** A person's notifications, newest first (never marks anything read). */
export async function listNotifications(
  ctx: AppContext,
  user: { id: number; locale: Locale },
  opts: { beforeId?: number; limit?: number; unreadOnly?: boolean } = {},
): Promise<{ items: NotificationView[]; unread: number; more: boolean }> {
  const limit = Math.min(Math.max(opts.limit ?? PAGE_SIZE, 1), 200)
  const rows = await repo.listFor(ctx.db, user.id, { limit: limit + 1, beforeId: opts.beforeId, unreadOnly: opts.unreadOnly })
  return {
    items: rows.slice(0, limit).map((r) => viewOf(r, user.locale)),
    unread: await repo.countUnread(ctx.db, user.id),
    more: rows.length > limit,
  }
}

/** Marks the person's notifications read: `ids` (only theirs count) or all of them. */
export async function markNotificationsRead(ctx: AppContext, userId: number, ids?: number[]): Promise<number> {
  // A plain UPDATE of the reader's own rows: no audit entry (notifications stay outside the chain).
  return repo.markRead(ctx.db, userId, ctx.clock.now().toISOString(), ids)
}

export async function mailQueueStatus(ctx: AppContext): Promise<repo.QueueStatus & { configured: boolean }> {
  return { ...(await repo.queueStatus(ctx.db)), configured: ctx.config.smtpUrl !== undefined }
}

// ---------------------------------------------------------------- the events

type LoanEvent =
  | 'loan.requested'
  | 'loan.awaitingApproval'
  | 'loan.approved'
  | 'loan.rejected'
  | 'loan.extensionRequested'
  | 'loan.extensionApproved'
  | 'loan.extensionRejected'
  | 'loan.paperRecorded'
  | 'loan.paperDisputed'

const loanLink = (id: number) => `/loans/${id}`

/** The loan number, the item names (the first few), and its dates. */
async function loanParams(trx: Db, loan: Pick<LoanRow, 'id' | 'seq' | 'fiscal_year' | 'start_on' | 'due_on'>): Promise<Params> {
  const names = [
    ...(await loans.itemsOf(trx, [loan.id])).map((i) => `${i.asset_name} (${i.asset_code})`),
    ...(await stockRepo.linesOf(trx, [loan.id])).map((l) => `${l.name} × ${l.quantity}`),
  ]
  const shown = names.slice(0, 5).join(', ')
  return {
    number: `${loan.seq}/${loan.fiscal_year}`,
    items: names.length > 5 ? `${shown} ${translate('th', 'notification.andMore', { n: names.length - 5 })}` : shown,
    startOn: loan.start_on,
    dueOn: loan.due_on,
  }
}

async function withRoles(trx: Db, ...roles: Role[]): Promise<number[]> {
  return repo.userIdsWithRoles(trx, roles)
}

/**
 * One loan event, for the people it concerns (SPEC §8 and §1). Called inside the event's transaction
 * after its audit entry; `extra` adds the event's own facts (a reason, the new due date, a name).
 */
export async function notifyLoanEvent(
  ctx: AppContext,
  trx: Db,
  kind: LoanEvent,
  loanId: number,
  actorId: number | null,
  extra: Params = {},
  opts: { approverUserId?: number | null } = {},
): Promise<void> {
  const loan = await loans.findById(trx, loanId)
  if (!loan) return
  const approverUserId = opts.approverUserId
  const rest: Params = { ...extra }
  const borrower = loan.borrower_user_id === null ? [] : [loan.borrower_user_id]
  // Never the borrower of this loan, for a step on it they may not take anyway.
  const notBorrower = (ids: number[]) => ids.filter((id) => id !== loan.borrower_user_id)
  let to: number[] = []
  switch (kind) {
    case 'loan.requested':
      if (loan.status !== 'pending') return // approved on paper and perhaps handed over in the same sitting
      to = notBorrower(await withRoles(trx, 'finance'))
      break
    case 'loan.awaitingApproval':
      if (loan.status !== 'pending') return
      to = notBorrower(await withRoles(trx, 'executive'))
      break
    case 'loan.approved': {
      to = borrower
      const settings = await getSettings({ ...ctx, db: trx })
      rest.collectFrom = collectableFrom(loan.start_on, settings.handOverEarlyDays)
      break
    }
    case 'loan.rejected':
    case 'loan.extensionApproved':
    case 'loan.extensionRejected':
      to = borrower
      break
    case 'loan.extensionRequested':
      to = notBorrower(await withRoles(trx, ...(loan.kind === 'in_premises' ? (['finance'] as Role[]) : (['finance', 'executive'] as Role[]))))
      break
    case 'loan.paperRecorded':
      to = approverUserId ? [approverUserId] : []
      break
    case 'loan.paperDisputed':
      to = await withRoles(trx, 'finance', 'committee')
      break
  }
  if (to.length === 0) return
  await notify(ctx, trx, { kind, to, actorId, loanId, params: { ...(await loanParams(trx, loan)), ...rest }, link: loanLink(loanId) })
}

/** A report's step: the committee when it waits for review, the executives for approval, finance when sent back. */
export async function notifyReportEvent(
  ctx: AppContext,
  trx: Db,
  kind: 'report.submitted' | 'report.reviewed' | 'report.returned',
  p: { fiscalYear: number; period: string },
  actorId: number | null,
  extra: Params = {},
): Promise<void> {
  const role: Role = kind === 'report.submitted' ? 'committee' : kind === 'report.reviewed' ? 'executive' : 'finance'
  await notify(ctx, trx, {
    kind,
    to: await withRoles(trx, role),
    actorId,
    params: { fiscalYear: p.fiscalYear, period: p.period, ...extra },
    link: `/reports?fy=${p.fiscalYear}&period=${encodeURIComponent(p.period)}#publication`,
  })
}

/** SPEC §1: the changes that weaken or move the segregation of duties reach every executive and committee member. */
export async function notifyOversight(
  ctx: AppContext,
  trx: Db,
  kind: 'settings.twoPersonOff' | 'settings.signatoriesChanged' | 'user.rolesChanged',
  actorId: number | null,
  params: Params,
  opts: { also?: number[]; except?: number; link?: string } = {},
): Promise<void> {
  await notify(ctx, trx, {
    kind,
    to: [...(await withRoles(trx, 'executive', 'committee')), ...(opts.also ?? [])].filter((id) => id !== opts.except),
    actorId,
    params,
    link: opts.link ?? (kind === 'user.rolesChanged' ? '/audit?entity=user' : '/audit?entity=settings'),
  })
}

// ---------------------------------------------------------------- the daily reminders (the scheduler's job)

/** Days before the due date that the borrower is reminded. */
export const DUE_SOON_DAYS = 2
/** Days before the follow-up deadline (ข้อ 211) that finance and the approver are reminded. */
export const FOLLOW_UP_NEAR_DAYS = 2

/**
 * The daily reminders, in Bangkok days: "ready to collect", "due in 2 days" and "overdue" (each day)
 * for the borrower; "overdue" (once per due date) and "follow-up deadline near" for finance and the
 * loan's approver. Idempotent — each reminder has a unique key (once per loan and day, or per due
 * date), so a second run, another process or a restart makes nothing twice. Answers how many it made.
 */
export async function makeReminders(ctx: AppContext): Promise<number> {
  const settings = await getSettings(ctx)
  const t = bangkokDate(ctx.clock.now())
  return writeTransaction(ctx.db, async (trx) => {
    const rows = await repo.reminderLoans(trx, addDays(t, DUE_SOON_DAYS), addDays(t, settings.handOverEarlyDays))
    const approvers = await repo.paperApproversOf(
      trx,
      rows.filter((r) => r.approved_by === null).map((r) => r.id),
    )
    const chased = await repo.followedUpAfterDue(
      trx,
      rows.filter((r) => r.status === 'on_loan' && r.due_on < t).map((r) => r.id),
    )
    const finance = await withRoles(trx, 'finance')
    let n = 0
    for (const loan of rows) {
      const borrower = loan.borrower_user_id === null ? [] : [loan.borrower_user_id]
      const base = { loanId: loan.id, actorId: null, link: loanLink(loan.id) }
      const params = async (extra: Params = {}) => ({ ...(await loanParams(trx, loan)), ...extra })
      if (loan.status === 'approved') {
        const from = collectableFrom(loan.start_on, settings.handOverEarlyDays)
        // Approved on or after that day: the approval itself said it is ready.
        const approvedOn = loan.approved_at ? bangkokDate(new Date(loan.approved_at)) : t
        if (from <= t && approvedOn < from && loan.start_on >= addDays(t, -settings.expiryDays) && borrower.length > 0)
          n += await notify(ctx, trx, {
            ...base,
            kind: 'loan.readyToCollect',
            to: borrower,
            params: await params({ collectFrom: from }),
            dedupeKey: `ready:${loan.id}`,
          })
        continue
      }
      if (loan.due_on > t) {
        if (borrower.length > 0)
          n += await notify(ctx, trx, { ...base, kind: 'loan.dueSoon', to: borrower, params: await params(), dedupeKey: `dueSoon:${loan.id}:${loan.due_on}` })
        continue
      }
      if (loan.due_on === t) continue // due today: not yet overdue
      const daysOver = Math.round((Date.parse(t) - Date.parse(loan.due_on)) / 86_400_000)
      if (borrower.length > 0)
        n += await notify(ctx, trx, {
          ...base,
          kind: 'loan.overdue',
          to: borrower,
          params: await params({ days: daysOver }),
          dedupeKey: `overdue:${loan.id}:${t}`,
        })
      const approver = loan.approved_by ?? approvers.get(loan.id)
      const staff = [...finance, ...(approver ? [approver] : [])].filter((id) => id !== loan.borrower_user_id)
      n += await notify(ctx, trx, {
        ...base,
        kind: 'loan.overdueStaff',
        to: staff,
        params: await params({ days: daysOver }),
        dedupeKey: `overdueStaff:${loan.id}:${loan.due_on}`,
      })
      const deadline = followUpDeadline(loan.due_on, settings.followUpDays)
      if (!chased.has(loan.id) && t >= addDays(deadline, -FOLLOW_UP_NEAR_DAYS) && t <= deadline)
        n += await notify(ctx, trx, {
          ...base,
          kind: 'loan.followUpNear',
          to: staff,
          params: await params({ deadlineOn: deadline }),
          dedupeKey: `followUpNear:${loan.id}:${loan.due_on}`,
        })
    }
    return n
  })
}
