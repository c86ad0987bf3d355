import { createHash } from 'node:crypto'
import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import type { PublicationStatus } from '../../db/schema.js'
import * as pubs from '../repositories/publication.repository.js'
import type { PublicationWithNames } from '../repositories/publication.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { bangkokDate, parseIsoDate } from '../i18n/calendar.js'
import { append } from './audit.service.js'
import { computeReport, figuresOf, periodRange, REPORT_PERIODS, type Report, type ReportPeriod } from './report.service.js'
import { getSettings } from './settings.service.js'
import { actorOf, hasRole, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { notifyReportEvent } from './notification.service.js'

/*
 * Publication of a statistics report (SPEC §6), one per fiscal-year period (year, h1, q1 … q4):
 *
 *   (none) ─ finance writes the narrative ─▶ draft ─ finance submits ─▶ submitted
 *   submitted ─ committee records its review ─▶ reviewed ─ executive approves ─▶ published
 *   submitted | reviewed ─ committee or executive sends it back with a reason ─▶ returned (finance edits, submits again)
 *
 * The snapshot — figures and narrative as JSON text — is frozen at submission: what the committee reviews
 * is what the executive approves and what the public sees. Its sha256 enters the audit chain at
 * submission and again at approval. A published row cannot be changed or deleted (database triggers);
 * later edits to old loans do not change it, and the next year's comparison is taken from it.
 *
 * Segregation: the person who submitted may not review or approve it, and one person may not both
 * review (committee) and approve (executive) it, whatever roles they hold (SPEC §1); a report is
 * submitted only after its period has ended. Free date ranges are reports, not publications (no stable period to publish).
 */

export type PublicationPeriod = ReportPeriod

export interface Narrative {
  summary: string
  problems: string
  suggestions: string
}

/** The frozen content of a submitted or published report, stored as JSON text and hashed as such. */
export interface PublicationSnapshot {
  version: 1
  agencyName: string
  province: string
  report: Report
  narrative: Narrative
  submittedAt: string
}

export interface Publication {
  id: number
  fiscalYear: number
  period: PublicationPeriod
  from: string
  to: string
  status: PublicationStatus
  narrative: Narrative
  memoNumber: string
  memoDate: string | null
  submittedAt: string | null
  submittedBy: { id: number; name: string; position: string } | null
  submitNote: string
  reviewedAt: string | null
  reviewedBy: { id: number; name: string } | null
  reviewNote: string
  approvedAt: string | null
  approvedBy: { id: number; name: string; position: string } | null
  approvalNote: string
  returnedAt: string | null
  returnedBy: { id: number; name: string } | null
  returnReason: string
  snapshot: PublicationSnapshot | null
  snapshotHash: string | null
}

export interface PublicationActions {
  editNarrative: boolean
  submit: boolean
  review: boolean
  approve: boolean
  sendBack: boolean
}

const NARRATIVE_MAX = 5000

const text = (max: number) =>
  z
    .string({ error: 'validation.invalid' })
    .max(max, { error: 'validation.tooLong' })
    .transform((s) => s.replace(/\r\n/g, '\n').trim())

const narrativeSchema = z.object({
  summary: text(NARRATIVE_MAX).default(''),
  problems: text(NARRATIVE_MAX).default(''),
  suggestions: text(NARRATIVE_MAX).default(''),
})

const submitSchema = z.object({
  memoNumber: text(100).default(''),
  memoDate: z
    .string({ error: 'validation.invalid' })
    .trim()
    .default('')
    .refine((s) => s === '' || parseIsoDate(s).ok, { error: 'loan.badDate' })
    .transform((s) => (s === '' ? null : s)),
  note: text(2000).default(''),
})

const noteSchema = z.object({ note: text(2000).default('') })
const reasonSchema = z.object({ reason: text(2000).pipe(z.string().min(3, { error: 'publication.reasonRequired' })) })

function badParam(field: string, message: string): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field, message }])
}

/** Checks a fiscal year and a publishable period (not a free range); returns its dates. */
export function publicationPeriod(fiscalYear: number, period: string): { fiscalYear: number; period: PublicationPeriod; from: string; to: string } {
  if (!(REPORT_PERIODS as readonly string[]).includes(period)) throw badParam('period', 'report.badPeriod')
  const p = period as PublicationPeriod
  return { fiscalYear, period: p, ...periodRange(fiscalYear, p) }
}

export function hashSnapshot(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

function parseSnapshot(text: string | null): PublicationSnapshot | null {
  return text === null ? null : (JSON.parse(text) as PublicationSnapshot)
}

function toPublication(r: PublicationWithNames): Publication {
  return {
    id: r.id,
    fiscalYear: r.fiscal_year,
    period: r.period as PublicationPeriod,
    from: r.from_on,
    to: r.to_on,
    status: r.status,
    narrative: { summary: r.summary, problems: r.problems, suggestions: r.suggestions },
    memoNumber: r.memo_number,
    memoDate: r.memo_date,
    submittedAt: r.submitted_at,
    submittedBy: r.submitted_by === null ? null : { id: r.submitted_by, name: r.submitted_by_name ?? '', position: r.submitted_by_position ?? '' },
    submitNote: r.submit_note,
    reviewedAt: r.reviewed_at,
    reviewedBy: r.reviewed_by === null ? null : { id: r.reviewed_by, name: r.reviewed_by_name ?? '' },
    reviewNote: r.review_note,
    approvedAt: r.approved_at,
    approvedBy: r.approved_by === null ? null : { id: r.approved_by, name: r.approved_by_name ?? '', position: r.approved_by_position ?? '' },
    approvalNote: r.approval_note,
    returnedAt: r.returned_at,
    returnedBy: r.returned_by === null ? null : { id: r.returned_by, name: r.returned_by_name ?? '' },
    returnReason: r.return_reason,
    snapshot: parseSnapshot(r.snapshot),
    snapshotHash: r.snapshot_hash,
  }
}

/** The publication of a period, or null when nobody has started one. */
export async function getPublication(ctx: AppContext, fiscalYear: number, period: string): Promise<Publication | null> {
  const p = publicationPeriod(fiscalYear, period)
  const row = await pubs.find(ctx.db, p.fiscalYear, p.period)
  return row ? toPublication(row) : null
}

/** Every publication (newest fiscal year first), or only those in one status; without snapshots (`snapshot` null). */
export async function listPublications(ctx: AppContext, filter: { status?: PublicationStatus } = {}): Promise<Publication[]> {
  return (await pubs.list(ctx.db, filter)).map(toPublication)
}

/** Who has taken the steps of one report so far (user ids). */
export interface PublicationSteps {
  submittedBy: number | null
  reviewedBy: number | null
  approvedBy: number | null
}

/** The segregation rule (SPEC §1) that keeps `userId` from reviewing or approving a report: its rule name and message. */
export function publicationSodRefusal(userId: number, steps: PublicationSteps, step: 'review' | 'approve'): { rule: string; messageKey: string } | null {
  if (steps.submittedBy === userId) return { rule: 'submitter_reviews', messageKey: 'publication.sod.submitter' }
  // One person holding committee and executive may take either step, never both: the review is the
  // check on the approval. (An approval comes after the review, so the second half guards the order.)
  if (step === 'approve' && steps.reviewedBy === userId) return { rule: 'reviewer_approves', messageKey: 'publication.sod.reviewer_approves' }
  if (step === 'review' && steps.approvedBy === userId) return { rule: 'reviewer_approves', messageKey: 'publication.sod.reviewer_approves' }
  return null
}

function stepsOf(pub: Publication | null): PublicationSteps {
  return { submittedBy: pub?.submittedBy?.id ?? null, reviewedBy: pub?.reviewedBy?.id ?? null, approvedBy: pub?.approvedBy?.id ?? null }
}

/** What `user` may do with the publication of a period now (the pages show only these buttons). */
export function publicationActions(user: CurrentUser, pub: Publication | null, periodEnded: boolean): PublicationActions {
  const status = pub?.status ?? null
  const editable = status === null || status === 'draft' || status === 'returned'
  const steps = stepsOf(pub)
  return {
    editNarrative: editable && hasRole(user, 'finance'),
    submit: editable && periodEnded && hasRole(user, 'finance'),
    review: status === 'submitted' && hasRole(user, 'committee') && !hasRole(user, 'finance') && publicationSodRefusal(user.id, steps, 'review') === null, // SPEC §1
    approve: status === 'reviewed' && hasRole(user, 'executive') && publicationSodRefusal(user.id, steps, 'approve') === null,
    sendBack: (status === 'submitted' && hasRole(user, 'committee', 'executive')) || (status === 'reviewed' && hasRole(user, 'executive')),
  }
}

/** True when the period's last day is before today (Bangkok): only then can its report be submitted. */
export function periodEnded(ctx: AppContext, to: string): boolean {
  return to < bangkokDate(ctx.clock.now())
}

function auditData(p: { fiscalYear: number; period: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { fiscalYear: p.fiscalYear, period: p.period, ...extra }
}

function frozen(status: PublicationStatus): AppError {
  return new AppError('invalid_state', `publication.frozen.${status}`)
}

/** Finance writes or edits the narrative (สรุปผล, ปัญหาอุปสรรค, ข้อเสนอแนะ) while the report is a draft or sent back. */
export async function saveNarrative(ctx: AppContext, actor: CurrentUser, fiscalYear: number, period: string, input: unknown): Promise<Publication> {
  if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'publication.needsFinance')
  const p = publicationPeriod(fiscalYear, period)
  const data = parseOrThrow(narrativeSchema, input ?? {})
  await writeTransaction(ctx.db, async (trx) => {
    const at = ctx.clock.now().toISOString()
    const existing = await pubs.find(trx, p.fiscalYear, p.period)
    const id = existing?.id ?? (await pubs.insertDraft(trx, { fiscal_year: p.fiscalYear, period: p.period, from_on: p.from, to_on: p.to, at }))
    if (existing && existing.status !== 'draft' && existing.status !== 'returned') throw frozen(existing.status)
    if (!(await pubs.updateIfStatus(trx, id, ['draft', 'returned'], { ...data, updated_at: at })))
      throw new AppError('conflict', 'publication.changedMeanwhile')
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'report.narrative_saved',
      entity: 'report_publication',
      entityId: id,
      data: auditData(p, { ...data }),
    })
  })
  return (await getPublication(ctx, p.fiscalYear, p.period))!
}

/**
 * Finance submits the period's report with its memo: the figures are computed now and frozen with the
 * narrative as the snapshot; its hash goes into the audit chain.
 */
export async function submitReport(ctx: AppContext, actor: CurrentUser, fiscalYear: number, period: string, input: unknown): Promise<Publication> {
  if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'publication.needsFinance')
  const p = publicationPeriod(fiscalYear, period)
  const data = parseOrThrow(submitSchema, input ?? {})
  if (!periodEnded(ctx, p.to)) throw new AppError('invalid_state', 'publication.periodNotEnded', { to: p.to })
  await writeTransaction(ctx.db, async (trx) => {
    const at = ctx.clock.now().toISOString()
    const existing = await pubs.find(trx, p.fiscalYear, p.period)
    const id = existing?.id ?? (await pubs.insertDraft(trx, { fiscal_year: p.fiscalYear, period: p.period, from_on: p.from, to_on: p.to, at }))
    if (existing && existing.status !== 'draft' && existing.status !== 'returned') throw frozen(existing.status)
    const settings = await getSettings({ ...ctx, db: trx })
    // Inside the write transaction: no loan can change between these figures and the freeze.
    const report = await computeReport({ ...ctx, db: trx }, { fiscalYear: p.fiscalYear, period: p.period })
    const snapshot: PublicationSnapshot = {
      version: 1,
      agencyName: settings.agencyName,
      province: settings.province,
      report,
      narrative: { summary: existing?.summary ?? '', problems: existing?.problems ?? '', suggestions: existing?.suggestions ?? '' },
      submittedAt: at,
    }
    const text = JSON.stringify(snapshot)
    const hash = hashSnapshot(text)
    const ok = await pubs.updateIfStatus(trx, id, ['draft', 'returned'], {
      status: 'submitted',
      memo_number: data.memoNumber,
      memo_date: data.memoDate,
      submit_note: data.note,
      submitted_by: actor.id,
      submitted_at: at,
      reviewed_by: null,
      reviewed_at: null,
      review_note: '',
      snapshot: text,
      snapshot_hash: hash,
      updated_at: at,
    })
    if (!ok) throw new AppError('conflict', 'publication.changedMeanwhile')
    await append(trx, ctx.clock, actorOf(actor), {
      action: 'report.submitted',
      entity: 'report_publication',
      entityId: id,
      data: auditData(p, { sha256: hash, memoNumber: data.memoNumber, memoDate: data.memoDate, note: data.note }),
    })
    await notifyReportEvent(ctx, trx, 'report.submitted', p, actor.id)
  })
  return (await getPublication(ctx, p.fiscalYear, p.period))!
}

async function step(
  ctx: AppContext,
  actor: CurrentUser,
  fiscalYear: number,
  period: string,
  opts: {
    role: 'committee' | 'executive' | 'committee_or_executive'
    from: PublicationStatus[]
    action: string
    changes: (at: string) => Parameters<typeof pubs.updateIfStatus>[3]
    audit: Record<string, unknown>
    wrongState: string
  },
): Promise<Publication> {
  const needs = opts.role === 'committee_or_executive' ? (['committee', 'executive'] as const) : ([opts.role] as const)
  if (!hasRole(actor, ...needs)) throw new AppError('forbidden', `publication.needs.${opts.role}`)
  const p = publicationPeriod(fiscalYear, period)
  await writeTransaction(ctx.db, async (trx) => {
    const row = await pubs.find(trx, p.fiscalYear, p.period)
    if (!row) throw new AppError('not_found', 'publication.notFound')
    if (!opts.from.includes(row.status)) throw new AppError('invalid_state', opts.wrongState, { status: row.status })
    if (opts.action !== 'report.returned') {
      const steps = { submittedBy: row.submitted_by, reviewedBy: row.reviewed_by, approvedBy: row.approved_by }
      const refusal = publicationSodRefusal(actor.id, steps, opts.action === 'report.reviewed' ? 'review' : 'approve')
      if (refusal) throw new AppError('forbidden', refusal.messageKey, {}, undefined, refusal.rule)
    }
    // SPEC §1: whoever holds finance (which prepares the report) cannot record the committee's review, submitter or not.
    if (opts.action === 'report.reviewed' && hasRole(actor, 'finance')) throw new AppError('forbidden', 'permissions.sod.financeReviews')
    const at = ctx.clock.now().toISOString()
    if (!(await pubs.updateIfStatus(trx, row.id, opts.from, { ...opts.changes(at), updated_at: at })))
      throw new AppError('conflict', 'publication.changedMeanwhile')
    await append(trx, ctx.clock, actorOf(actor), {
      action: opts.action,
      entity: 'report_publication',
      entityId: row.id,
      data: auditData(p, { sha256: row.snapshot_hash, ...opts.audit }),
    })
    if (opts.action === 'report.reviewed' || opts.action === 'report.returned')
      await notifyReportEvent(ctx, trx, opts.action, p, actor.id, { reason: String(opts.audit.reason ?? '') })
  })
  return (await getPublication(ctx, p.fiscalYear, p.period))!
}

/** The committee records its review of the submitted report (the submitter may not). */
export async function reviewReport(ctx: AppContext, actor: CurrentUser, fiscalYear: number, period: string, input: unknown): Promise<Publication> {
  const { note } = parseOrThrow(noteSchema, input ?? {})
  return step(ctx, actor, fiscalYear, period, {
    role: 'committee',
    from: ['submitted'],
    action: 'report.reviewed',
    changes: (at) => ({ status: 'reviewed', reviewed_by: actor.id, reviewed_at: at, review_note: note }),
    audit: { note },
    wrongState: 'publication.notSubmitted',
  })
}

/** The executive approves publication («ทราบ / อนุมัติให้เผยแพร่») of the reviewed snapshot: it is published and frozen. */
export async function approvePublication(ctx: AppContext, actor: CurrentUser, fiscalYear: number, period: string, input: unknown): Promise<Publication> {
  const { note } = parseOrThrow(noteSchema, input ?? {})
  return step(ctx, actor, fiscalYear, period, {
    role: 'executive',
    from: ['reviewed'],
    action: 'report.published',
    changes: (at) => ({ status: 'published', approved_by: actor.id, approved_at: at, approval_note: note }),
    audit: { note },
    wrongState: 'publication.notReviewed',
  })
}

/** The committee (before its review) or the executive (before approval) sends the report back to finance with a reason. */
export async function sendBackReport(ctx: AppContext, actor: CurrentUser, fiscalYear: number, period: string, input: unknown): Promise<Publication> {
  const { reason } = parseOrThrow(reasonSchema, input ?? {})
  const from: PublicationStatus[] = hasRole(actor, 'executive') ? ['submitted', 'reviewed'] : ['submitted']
  return step(ctx, actor, fiscalYear, period, {
    role: 'committee_or_executive',
    from,
    action: 'report.returned',
    changes: (at) => ({ status: 'returned', returned_by: actor.id, returned_at: at, return_reason: reason }),
    audit: { reason },
    wrongState: 'publication.cannotSendBack',
  })
}

/** The published snapshot of a period with its hash, or null (for the public page and the comparison). */
export async function publishedReport(
  ctx: AppContext,
  fiscalYear: number,
  period: string,
): Promise<{ publication: Publication; snapshot: PublicationSnapshot; sha256: string } | null> {
  const pub = await getPublication(ctx, fiscalYear, period)
  if (pub?.status !== 'published' || !pub.snapshot || !pub.snapshotHash) return null
  return { publication: pub, snapshot: pub.snapshot, sha256: pub.snapshotHash }
}

/**
 * The public form of a published report (the /transparency JSON): aggregates only — the figures of
 * SPEC §6, the narrative, the agency, when it was approved, and the snapshot's sha256 — never a
 * person's name, phone, address or user id.
 */
export function publicReport(p: { publication: Publication; snapshot: PublicationSnapshot; sha256: string }) {
  const r = p.snapshot.report
  const prev = r.previousYear
  return {
    agency: { name: p.snapshot.agencyName, province: p.snapshot.province },
    fiscalYear: p.publication.fiscalYear,
    period: p.publication.period,
    ...figuresOf(r),
    previousYear: { fiscalYear: prev.fiscalYear, period: prev.period, source: prev.source, ...figuresOf(prev) },
    itemsAtYearEnd: r.itemsAtYearEnd,
    narrative: p.snapshot.narrative,
    computedAt: r.generatedAt,
    submittedAt: p.publication.submittedAt,
    reviewedAt: p.publication.reviewedAt,
    publishedAt: p.publication.approvedAt,
    sha256: p.sha256,
  }
}

export type PublicReport = ReturnType<typeof publicReport>
