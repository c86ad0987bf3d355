import { Router, type Request, type Response } from 'express'
import type { Role } from '../../../db/schema.js'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { typedDateError } from '../typed-date.js'
import { bangkokDate } from '../../i18n/calendar.js'
import { documentFormat } from '../../i18n/document-format.js'
import { formatDate } from '../../i18n/format.js'
import { chainHead } from '../../services/audit.service.js'
import { executiveSignatory, sameName } from '../../services/loan-document.service.js'
import {
  approvePublication,
  getPublication,
  reviewReport,
  saveNarrative,
  sendBackReport,
  submitReport,
  type Publication,
} from '../../services/publication.service.js'
import { REPORT_PERIODS, type ReportPeriod } from '../../services/report.service.js'
import { getSettings, type AgencySettings } from '../../services/settings.service.js'
import type { CurrentUser } from '../../services/user.service.js'
import { requireRole } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import type { PublicationForm } from '../publication-view.js'
import { renderReportPage } from '../report-page.js'

/*
 * Publication of a fiscal period's statistics report through the pages (SPEC §6; the rules are in
 * publication.service.ts):
 *   POST /reports/publications/:fy/:period/narrative   finance, while draft or returned
 *   POST …/submit  (memo number, memo date, note)      finance, after the period's end
 *   POST …/review  (note)                              committee (not the submitter)
 *   POST …/approve (note) «ทราบ / อนุมัติให้เผยแพร่»     executive (not the submitter)
 *   POST …/return  (reason)                            committee (submitted) or executive (submitted, reviewed)
 *   GET  …/memo             the บันทึกข้อความ that submits the report (A4), once submitted
 *   GET  …/publish-request  the request-to-publish form (A4), once submitted
 * Success → 303 to /reports?fy=&period=#publication with a flash; a form error → the report page
 * again (422) with the typed values; a refusal of the state (already submitted, not reviewed, the
 * submitter reviewing) → 303 back with the refusal as an error flash.
 */

const BASE = '/reports/publications/:fy/:period'

type Action = PublicationForm['form']

/** The fiscal year and period of the URL; anything else is a page that does not exist. */
function periodParams(req: Request): { fiscalYear: number; period: ReportPeriod } {
  const fy = String(req.params.fy ?? '')
  const period = String(req.params.period ?? '')
  if (!/^\d{4}$/.test(fy) || !(REPORT_PERIODS as readonly string[]).includes(period)) throw new AppError('not_found', 'error.notFound')
  const fiscalYear = Number(fy)
  if (fiscalYear < 2400 || fiscalYear > 2800) throw new AppError('not_found', 'error.notFound')
  return { fiscalYear, period: period as ReportPeriod }
}

function backTo(p: { fiscalYear: number; period: string }): string {
  return `/reports?fy=${p.fiscalYear}&period=${p.period}#publication`
}

/** The form's own fields, as typed (for the re-rendered form). */
const FIELDS: Record<Action, string[]> = {
  narrative: ['summary', 'problems', 'suggestions'],
  submit: ['memoNumber', 'memoDate', 'note'],
  review: ['note'],
  approve: ['note'],
  return: ['reason'],
}

/** A refusal's parameters in words: a status by its name, a date in the reader's calendar. */
function refusalParams(req: Request, params: Record<string, string | number> | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = { ...(params ?? {}) }
  if (typeof out.status === 'string') out.status = req.t(`publication.status.${out.status}`)
  if (typeof out.to === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(out.to)) out.to = formatDate(out.to, { locale: req.locale, style: 'long' })
  return out
}

type Step = (ctx: AppContext, actor: CurrentUser, fiscalYear: number, period: string, input: unknown) => Promise<Publication>

export function publicationRoutes(ctx: AppContext): Router {
  const router = Router()
  const readers = requireRole('finance', 'executive', 'committee')

  const action = (name: Action, roles: Role[], step: Step, doneKey: string) => {
    router.post(`${BASE}/${name}`, requireRole(...roles), async (req: Request, res: Response) => {
      const p = periodParams(req)
      const body = (req.body ?? {}) as Record<string, unknown>
      const values: Record<string, string> = {}
      for (const f of FIELDS[name]) values[f] = typeof body[f] === 'string' ? (body[f] as string) : ''
      try {
        await step(ctx, req.user!, p.fiscalYear, p.period, values)
      } catch (e) {
        if (!isAppError(e) || e.status >= 500 || e.code === 'unauthenticated') throw e
        if (e.code === 'validation_failed') {
          const errors: Record<string, string> = {}
          for (const d of e.details ?? []) errors[d.field] ??= typedDateError(req, d.field) ?? req.t(d.message, d.params)
          const message = Object.values(errors).join(' · ') || req.t(e.messageKey, e.params)
          await renderReportPage(ctx, req, res, { query: p, status: 422, pubForm: { form: name, message, errors, values } })
          return
        }
        flash(req, 'error', e.messageKey, refusalParams(req, e.params))
        res.redirect(303, backTo(p))
        return
      }
      flash(req, 'success', doneKey)
      res.redirect(303, backTo(p))
    })
  }

  action('narrative', ['finance'], saveNarrative, 'pubPages.narrative.saved')
  action('submit', ['finance'], submitReport, 'pubPages.submit.done')
  action('review', ['committee'], reviewReport, 'pubPages.review.done')
  action('approve', ['executive'], approvePublication, 'pubPages.approve.done')
  action('return', ['committee', 'executive'], sendBackReport, 'pubPages.return.done')

  /** A submitted (frozen) publication and what both documents need; before submission → a friendly 404. */
  const documentArgs = async (req: Request) => {
    const p = periodParams(req)
    const pub = await getPublication(ctx, p.fiscalYear, p.period)
    if (!pub?.snapshot || !pub.snapshotHash || !['submitted', 'reviewed', 'published'].includes(pub.status)) {
      throw new AppError('not_found', 'pubPages.docs.notYet')
    }
    const settings = await getSettings(ctx)
    const doc = documentFormat({ thaiDigits: settings.thaiDigits })
    const snap = pub.snapshot
    const r = snap.report
    const subject =
      p.period === 'year'
        ? doc.t('pubPages.memo.subject', { year: p.fiscalYear })
        : p.period === 'h1'
          ? doc.t('pubPages.memo.subject.h1', { year: p.fiscalYear })
          : doc.t('pubPages.memo.subject.q', { quarter: Number(p.period.slice(1)), year: p.fiscalYear })
    const submitter = { name: pub.submittedBy?.name ?? '', position: pub.submittedBy?.position || settings.suppliesOfficer.position, delegation: '' }
    return {
      title: '',
      ui: req.t,
      t: doc.t,
      doc,
      settings,
      pub,
      snap,
      report: r,
      subject,
      submittedOn: bangkokDate(new Date(snap.submittedAt)),
      submitter,
      head: headOfAgency(settings, pub),
      rate: r.onTimeRate === null ? doc.t('pubPages.memo.noRate') : doc.t('pubPages.memo.rate', { pct: (Math.round(r.onTimeRate * 1000) / 10).toFixed(1) }),
      publicUrl: `${ctx.config.publicBaseUrl}/transparency/${p.fiscalYear}/${p.period}`,
      chainHead: await chainHead(ctx.db),
      backHref: backTo(p),
    }
  }

  router.get(`${BASE}/memo`, readers, async (req, res) => {
    const args = await documentArgs(req)
    res.render('print/publication-memo', { ...args, title: req.t('pubPages.memo.docTitle') })
  })

  router.get(`${BASE}/publish-request`, readers, async (req, res) => {
    const args = await documentArgs(req)
    res.render('print/publish-request', { ...args, title: req.t('pubPages.request.docTitle') })
  })

  return router
}

/**
 * Who signs for the agency: the executive who approved when that was the ปลัด (with the delegation
 * line), else the นายก of the settings (or the ปลัด when only the ปลัด is named).
 */
function headOfAgency(settings: AgencySettings, pub: Publication): { name: string; position: string; delegation: string } {
  const a = pub.approvedBy
  if (a && sameName(a.name, settings.chiefAdministrator.name)) return { ...settings.chiefAdministrator, delegation: settings.delegationLine }
  return executiveSignatory(settings)
}
