import { Router, type Request } from 'express'
import type { AppContext } from '../../context.js'
import { AppError } from '../../errors.js'
import { parseIsoDate } from '../../i18n/calendar.js'
import { documentFormat } from '../../i18n/document-format.js'
import { chainHead } from '../../services/audit.service.js'
import { borrowSlip, executiveSignerParam, followUpLetter } from '../../services/loan-document.service.js'
import { requireRole, requireSignIn } from '../../http/middleware/auth.js'
import { idParam, str } from '../forms/common.form.js'

/**
 * The printable A4 documents of a loan (views/print/): their own page layout, no app navigation.
 * Mounted before the loan pages so that /loans/:id/slip is never read as a loan id route.
 */
export function documentRoutes(ctx: AppContext): Router {
  const router = Router()

  const loanId = (req: Request): number => {
    const id = idParam(req.params.id as string | undefined)
    if (id === undefined) throw new AppError('not_found', 'loan.notFound')
    return id
  }
  const queryText = (v: unknown, max: number): string | undefined => {
    const s = str(v as string | string[] | undefined)
    return s === undefined ? undefined : s.trim().slice(0, max)
  }

  // The borrow slip: anyone who may see the loan (getLoan answers 404 to the others).
  router.get('/loans/:id/slip', requireSignIn, async (req, res) => {
    const id = loanId(req)
    const slip = await borrowSlip(ctx, req.user!, id, { signer: executiveSignerParam(req.query.signer) })
    const doc = documentFormat({ thaiDigits: slip.settings.thaiDigits })
    res.render('print/slip', {
      title: req.t('documents.ui.slipTitle', { number: slip.number }),
      ui: req.t,
      t: doc.t,
      doc,
      slip,
      // Read after the document's data, so the head printed covers everything on the paper.
      chainHead: await chainHead(ctx.db),
      backHref: `/loans/${id}`,
    })
  })

  // The follow-up letter (ข้อ 211): a memo for staff, an external letter for outsiders. Finance only.
  router.get('/loans/:id/follow-up-letter', requireRole('finance'), async (req, res) => {
    const id = loanId(req)
    const number = queryText(req.query.number, 100)
    const rawDate = queryText(req.query.date, 20)
    let date: string | undefined
    let badDate = false
    if (rawDate) {
      const parsed = parseIsoDate(rawDate)
      if (parsed.ok) date = parsed.value
      else badDate = true
    }
    const signer = executiveSignerParam(req.query.signer)
    const letter = await followUpLetter(ctx, req.user!, id, { number, date, signer })
    const doc = documentFormat({ thaiDigits: letter.settings.thaiDigits })
    res.render(letter.form === 'memo' ? 'print/follow-up-memo' : 'print/follow-up-external', {
      title: req.t('documents.ui.letterTitle', { number: letter.view.number }),
      ui: req.t,
      t: doc.t,
      doc,
      letter,
      chainHead: await chainHead(ctx.db),
      badDate,
      query: { number: number ?? '', date: rawDate ?? '', signer: signer ?? '' },
      backHref: `/loans/${id}`,
    })
  })

  return router
}
