import type { AppContext } from '../context.js'
import {
  getPublication,
  listPublications,
  periodEnded,
  publicationActions,
  publicationSodRefusal,
  type Narrative,
  type Publication,
  type PublicationActions,
} from '../services/publication.service.js'
import { REPORT_PERIODS, type Report, type ReportFigures } from '../services/report.service.js'
import { hasRole, type CurrentUser } from '../services/user.service.js'

/*
 * What the report pages show of a fiscal period's publication (SPEC §6): the narrative (the frozen
 * one once submitted), the panel with the path and the buttons publicationActions allows, and
 * whether the live figures still match the submitted snapshot.
 */

/** A refused or invalid publication form, re-rendered on the page. */
export interface PublicationForm {
  form: 'narrative' | 'submit' | 'review' | 'approve' | 'return'
  message: string
  errors: Record<string, string>
  values: Record<string, string>
}

export interface FigureDifference {
  key: string
  then: number | null
  now: number | null
  rate: boolean
}

export interface PublicationView {
  fiscalYear: number
  period: string
  pub: Publication | null
  actions: PublicationActions
  ended: boolean
  /** The narrative shown: the snapshot's once submitted, else the draft's (empty when none). */
  narrative: Narrative
  frozen: boolean
  /** For submitted / reviewed: the headline figures whose live value differs from the snapshot's. */
  differences: FigureDifference[] | null
  publicPath: string
  /** Why an executive is not offered the approval of a reviewed report (they recorded its review, or submitted it), or null. */
  approveRefusal: string | null
}

const EMPTY: Narrative = { summary: '', problems: '', suggestions: '' }

export function isFrozen(pub: Publication | null): boolean {
  return pub !== null && pub.snapshot !== null && (pub.status === 'submitted' || pub.status === 'reviewed' || pub.status === 'published')
}

/** The narrative that goes with a report: frozen once submitted, else the draft's. */
export function narrativeOf(pub: Publication | null): Narrative {
  if (isFrozen(pub)) return pub!.snapshot!.narrative
  return pub?.narrative ?? EMPTY
}

const COMPARED: Array<{ key: string; pick: (r: ReportFigures) => number | null; rate?: boolean }> = [
  { key: 'reportPages.h.requests', pick: (r) => r.requests.total },
  { key: 'reportPages.h.approved', pick: (r) => r.requests.approved },
  { key: 'reportPages.h.loans', pick: (r) => r.loans.total },
  { key: 'reportPages.h.items', pick: (r) => r.loans.items },
  { key: 'reportPages.h.outstanding', pick: (r) => r.loans.outstanding },
  { key: 'reportPages.h.onTimeRate', pick: (r) => r.onTimeRate, rate: true },
  { key: 'reportPages.h.overdue', pick: (r) => r.overdue.cases },
  { key: 'reportPages.h.followedUp', pick: (r) => r.overdue.followedUpInTime },
  { key: 'reportPages.h.damaged', pick: (r) => r.incidents.damaged },
  { key: 'reportPages.h.lost', pick: (r) => r.incidents.lost },
]

/** The headline figures that differ between the submitted snapshot and the live report. */
export function figureDifferences(then: ReportFigures, now: ReportFigures): FigureDifference[] {
  // biome-ignore lint/suspicious/noThenProperty: a comparison's «then» and «now», never awaited
  return COMPARED.map((c) => ({ key: c.key, then: c.pick(then), now: c.pick(now), rate: c.rate === true })).filter((d) => d.then !== d.now)
}

/** The publication side of a fiscal-period report; null for a free date range (not published). */
export async function publicationView(ctx: AppContext, user: CurrentUser, report: Report): Promise<PublicationView | null> {
  if (report.fiscalYear === null || report.period === 'range') return null
  const pub = await getPublication(ctx, report.fiscalYear, report.period)
  const ended = periodEnded(ctx, report.to)
  const waiting = pub !== null && pub.snapshot !== null && (pub.status === 'submitted' || pub.status === 'reviewed')
  return {
    fiscalYear: report.fiscalYear,
    period: report.period,
    pub,
    actions: publicationActions(user, pub, ended),
    ended,
    narrative: narrativeOf(pub),
    frozen: isFrozen(pub),
    differences: waiting ? figureDifferences(pub.snapshot!.report, report) : null,
    publicPath: `/transparency/${report.fiscalYear}/${report.period}`,
    approveRefusal: approveRefusal(user, pub),
  }
}

function approveRefusal(user: CurrentUser, pub: Publication | null): string | null {
  if (pub?.status !== 'reviewed' || !hasRole(user, 'executive')) return null
  const steps = { submittedBy: pub.submittedBy?.id ?? null, reviewedBy: pub.reviewedBy?.id ?? null, approvedBy: pub.approvedBy?.id ?? null }
  return publicationSodRefusal(user.id, steps, 'approve')?.messageKey ?? null
}

export interface PublicationListItem {
  pub: Publication
  awaitsYou: boolean
}

/** The submitted, reviewed, returned and published reports, those awaiting this person marked. */
export async function publicationList(ctx: AppContext, user: CurrentUser): Promise<PublicationListItem[]> {
  const all = (await listPublications(ctx)).filter((p) => p.status !== 'draft')
  const order = (p: Publication) => (REPORT_PERIODS as readonly string[]).indexOf(p.period)
  return (
    all
      .map((pub) => {
        const a = publicationActions(user, pub, periodEnded(ctx, pub.to))
        const awaitsYou = a.review || a.approve || (pub.status === 'returned' && a.submit)
        return { pub, awaitsYou }
      })
      // What awaits this person first; then newest fiscal year, its periods in their order (year, h1, q1 … q4).
      .sort((x, y) => Number(y.awaitsYou) - Number(x.awaitsYou) || y.pub.fiscalYear - x.pub.fiscalYear || order(x.pub) - order(y.pub))
  )
}
