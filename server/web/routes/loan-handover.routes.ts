import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import type { AppError } from '../../errors.js'
import { expireLoansIfDue, getLoan, handOver, receiveReturn, type LoanView } from '../../services/loan.service.js'
import { loanDecision } from '../../services/loan-query.service.js'
import { ITEM_CONDITIONS } from '../../services/loan-rules.js'
import { resolveScan } from '../../services/label.service.js'
import { bangkokDate, daysBetween } from '../../i18n/calendar.js'
import { normalizeCode } from '../../i18n/format.js'
import { requireRole } from '../middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { loanId, refusal, renderLoanPage } from '../loan-page.js'
import { bodyOf, list, str, type FormBody } from '../forms/common.form.js'
import { parseCount } from '../forms/stock-lines.form.js'

/*
 * The hand-over and return screens of a loan (finance, at the counter):
 *   GET/POST /loans/:id/handover   tick each item as it is scanned, count each counted line, hand over
 *   GET/POST /loans/:id/return     receive items and counted lines back, with their condition
 * A scan without JavaScript posts the form (op=scan) and the screen comes back with the item ticked.
 * A mistake on the screen stays on the screen (422); a refusal for the loan's state (no longer
 * approved, not on loan) is shown on the loan page (loan-page.ts) with its status.
 */

function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

function text(b: FormBody, name: string): string {
  return (str(b[name]) ?? '').trim()
}

export function loanHandoverRoutes(ctx: AppContext): Router {
  const router = Router()

  /** A scan (a label's URL, a typed code, a USB scanner's keystrokes) to the asset code it names. */
  async function scannedCode(req: Request, raw: string): Promise<string | null> {
    const origins = [`${req.protocol}://${req.get('host') ?? ''}`]
    const r = await resolveScan(ctx, raw.slice(0, 2000), origins)
    if (!r.ok) return null
    try {
      return normalizeCode(decodeURIComponent(r.path.slice('/q/'.length)))
    } catch {
      return null
    }
  }

  interface HandoverState {
    checked: string[]
    counts: Record<string, string>
    message?: string
    errors?: Record<string, string>
    /** A counted line whose pool label was just scanned: its count field takes the focus. */
    focus?: string
  }

  async function renderHandover(req: Request, res: Response, status: number, id: number, state: HandoverState) {
    const v = await getLoan(ctx, req.user!, id)
    // The screen is offered only to whom the loan policy would let hand it over (a day too early is said on the screen's POST).
    const may = await loanDecision(ctx, req.user!, v, 'handOver')
    if (v.loan.status !== 'approved' || (!may.ok && may.rule !== 'not_started')) {
      res.redirect(303, `/loans/${id}`)
      return
    }
    res.status(status).render('loans/handover', {
      title: `${req.t('loanPages.handover.title')} ${v.number}`,
      loan: { id, number: v.number, borrower: v.borrower.name, organisation: v.borrower.organisation, startOn: v.loan.start_on, dueOn: v.loan.due_on, kind: v.loan.kind },
      items: v.items.map((i) => ({ code: i.asset_code, name: i.asset_name, checked: state.checked.includes(i.asset_code) })),
      stockLines: v.stock.map((l) => ({ id: l.id, code: l.code, name: l.name, unit: l.unit, asked: l.quantity, count: state.counts[`count_${l.id}`] ?? '', focus: state.focus === l.code })),
      message: state.message ?? '',
      errors: state.errors ?? {},
      focus: state.focus ?? '',
    })
  }

  router.get('/loans/:id/handover', requireRole('finance'), async (req, res) => {
    await expireLoansIfDue(ctx)
    await renderHandover(req, res, 200, loanId(req), { checked: [], counts: {} })
  })

  router.post('/loans/:id/handover', requireRole('finance'), async (req, res) => {
    const id = loanId(req)
    const b = bodyOf(req)
    const confirmed = list(b.confirmedCodes).map(normalizeCode)
    const counts = Object.fromEntries(Object.entries(b).filter(([k]) => /^count_\d+$/.test(k)).map(([k, v]) => [k, (str(v) ?? '').trim()]))
    if (text(b, 'op') === 'scan') {
      // Without JavaScript, Enter in the scan field sends the form here: tick the scanned item (or
      // put the cursor in the scanned pool's count field) and show the screen again.
      // Enter in another field of the screen sends it with an empty scan: show it again as it was.
      if (!text(b, 'scan')) {
        await renderHandover(req, res, 200, id, { checked: confirmed, counts })
        return
      }
      const code = await scannedCode(req, text(b, 'scan'))
      const v = await getLoan(ctx, req.user!, id)
      if (code && v.items.some((i) => i.asset_code === code)) {
        await renderHandover(req, res, 200, id, { checked: [...new Set([...confirmed, code])], counts })
      } else if (code && v.stock.some((l) => l.code === code)) {
        await renderHandover(req, res, 200, id, { checked: confirmed, counts, focus: code })
      } else {
        await renderHandover(req, res, 422, id, { checked: confirmed, counts, message: req.t('loan.notInLoan', { code: code ?? text(b, 'scan') }) })
      }
      return
    }
    // Counted lines are confirmed by count. The service hands over what the loan asks; a different
    // count is refused here with what to do, rather than lending a number nobody approved.
    const v = await getLoan(ctx, req.user!, id)
    const countErrors: Record<string, string> = {}
    for (const l of v.stock) {
      const field = `count_${l.id}`
      const n = parseCount(counts[field])
      const p = { code: l.code, name: l.name, unit: l.unit, asked: l.quantity, counted: typeof n === 'number' ? n : '' }
      if (n === undefined) countErrors[field] = req.t('loanStock.handover.countRequired', p)
      else if (n === null) countErrors[field] = req.t('loanStock.handover.countBad', p)
      else if (n !== l.quantity) countErrors[field] = req.t('loanStock.handover.countDiffers', p)
    }
    if (v.loan.status === 'approved' && Object.keys(countErrors).length > 0) {
      await renderHandover(req, res, 422, id, { checked: confirmed, counts, message: Object.values(countErrors).join(' · '), errors: countErrors })
      return
    }
    try {
      await expireLoansIfDue(ctx)
      const done = await handOver(ctx, req.user!, id, { confirmedCodes: confirmed })
      flash(req, 'success', 'loanPages.done.handedOver', { number: done.number })
      res.redirect(303, `/loans/${id}`)
    } catch (e) {
      const state = refusal(e, req.t, 'handover', {})
      // A screen's own mistake (an item not scanned) stays on the screen; a refused state goes back to the loan.
      if ((e as AppError).code === 'validation_failed') await renderHandover(req, res, 422, id, { checked: confirmed, counts, message: state.message })
      else await renderLoanPage(ctx, req, res, (e as AppError).status, id, state)
    }
  })

  /** What of a counted line is still out: handed over less everything received back. */
  const outstandingOf = (l: LoanView['stock'][number]) => l.handed_over_qty - l.returned_good - l.returned_damaged - l.returned_lost

  async function renderReturn(
    req: Request,
    res: Response,
    status: number,
    id: number,
    form: { picked: string[]; values: Record<string, string>; message?: string; errors?: Record<string, string>; focus?: string },
  ) {
    const v = await getLoan(ctx, req.user!, id)
    if (v.loan.status !== 'on_loan' || !(await loanDecision(ctx, req.user!, v, 'receive')).ok) {
      res.redirect(303, `/loans/${id}`)
      return
    }
    const t = today(ctx)
    const items = v.items
      .filter((i) => i.returned_at === null)
      .map((i) => ({
        id: i.id,
        code: i.asset_code,
        name: i.asset_name,
        picked: form.picked.includes(i.asset_code),
        condition: form.values[`condition_${i.id}`] || 'good',
        note: form.values[`note_${i.id}`] ?? '',
        returnedBy: form.values[`returnedBy_${i.id}`] ?? v.borrower.name,
      }))
    const stockLines = v.stock
      .filter((l) => outstandingOf(l) > 0)
      .map((l) => ({
        id: l.id,
        code: l.code,
        name: l.name,
        unit: l.unit,
        handedOver: l.handed_over_qty,
        back: l.returned_good + l.returned_damaged + l.returned_lost,
        soFar: { good: l.returned_good, damaged: l.returned_damaged, lost: l.returned_lost },
        outstanding: outstandingOf(l),
        good: form.values[`good_${l.id}`] ?? '',
        damaged: form.values[`damaged_${l.id}`] ?? '',
        lost: form.values[`lost_${l.id}`] ?? '',
        note: form.values[`snote_${l.id}`] ?? '',
        returnedBy: form.values[`sby_${l.id}`] ?? v.borrower.name,
        focus: form.focus === l.code,
      }))
    res.status(status).render('loans/return', {
      title: `${req.t('loanPages.return.title')} ${v.number}`,
      loan: { id, number: v.number, borrower: v.borrower.name, organisation: v.borrower.organisation, dueOn: v.loan.due_on, overdue: v.overdue, daysLate: v.overdue ? daysBetween(v.loan.due_on, t) : 0 },
      items,
      stockLines,
      lineCount: items.length + stockLines.length,
      back: v.items.filter((i) => i.returned_at !== null).map((i) => ({ code: i.asset_code, name: i.asset_name, condition: i.condition ?? '', returnedBy: i.returned_by_name ?? '' })),
      stockBack: v.stock
        .filter((l) => l.returned_good + l.returned_damaged + l.returned_lost > 0)
        .map((l) => ({ code: l.code, name: l.name, unit: l.unit, good: l.returned_good, damaged: l.returned_damaged, lost: l.returned_lost, outstanding: outstandingOf(l), returnedBy: l.returned_by_name ?? '' })),
      conditions: ITEM_CONDITIONS,
      message: form.message ?? '',
      errors: form.errors ?? {},
      focus: form.focus ?? '',
    })
  }

  router.get('/loans/:id/return', requireRole('finance'), async (req, res) => {
    await renderReturn(req, res, 200, loanId(req), { picked: [], values: {} })
  })

  router.post('/loans/:id/return', requireRole('finance'), async (req, res) => {
    const id = loanId(req)
    const b = bodyOf(req)
    const op = text(b, 'op')
    const values = Object.fromEntries(
      Object.entries(b)
        .filter(([k]) => /^(condition|note|returnedBy|good|damaged|lost|snote|sby)_\d+$/.test(k))
        .map(([k, v]) => [k, str(v) ?? '']),
    )
    let picked = list(b.pick).map(normalizeCode)
    const v = await getLoan(ctx, req.user!, id)
    const outstanding = v.items.filter((i) => i.returned_at === null)
    const outstandingStock = v.stock.filter((l) => outstandingOf(l) > 0)
    if (op === 'scan') {
      if (!text(b, 'scan')) {
        await renderReturn(req, res, 200, id, { picked, values })
        return
      }
      const code = await scannedCode(req, text(b, 'scan'))
      if (code && outstanding.some((i) => i.asset_code === code)) {
        await renderReturn(req, res, 200, id, { picked: [...new Set([...picked, code])], values })
      } else if (code && outstandingStock.some((l) => l.code === code)) {
        await renderReturn(req, res, 200, id, { picked, values, focus: code })
      } else {
        await renderReturn(req, res, 422, id, { picked, values, message: req.t('loanPages.return.notOut', { code: code ?? text(b, 'scan') }) })
      }
      return
    }
    if (op === 'all') picked = outstanding.map((i) => i.asset_code)
    const byCode = new Map(v.items.map((i) => [i.asset_code, i]))
    const items = picked.map((code) => {
      const item = byCode.get(code)
      const key = (k: string) => (item ? (values[`${k}_${item.id}`] ?? '').trim() : '')
      return { assetCode: code, condition: key('condition') || 'good', note: key('note'), returnedBy: key('returnedBy') || undefined }
    })
    // Counted lines: what came back by condition; a shortfall is entered as lost. «Receive all»
    // takes a line left blank as all back in good condition, and wants every filled line complete.
    const errors: Record<string, string> = {}
    const stock: Array<{ code: string; good: number; damaged: number; lost: number; note: string; returnedBy?: string }> = []
    for (const l of outstandingStock) {
      const n: Record<'good' | 'damaged' | 'lost', number> = { good: 0, damaged: 0, lost: 0 }
      for (const k of ['good', 'damaged', 'lost'] as const) {
        const c = parseCount(values[`${k}_${l.id}`])
        if (c === null) errors[`${k}_${l.id}`] = req.t('loanStock.return.countBad', { code: l.code })
        else n[k] = c ?? 0
      }
      const sum = n.good + n.damaged + n.lost
      const rest = outstandingOf(l)
      if (op === 'all' && sum === 0) n.good = rest
      else if (op === 'all' && sum !== rest) errors[`good_${l.id}`] = req.t('loanStock.return.allNeedsFull', { code: l.code, name: l.name, unit: l.unit, outstanding: rest, sum })
      else if (sum === 0) continue
      stock.push({ code: l.code, ...n, note: (values[`snote_${l.id}`] ?? '').trim(), returnedBy: (values[`sby_${l.id}`] ?? '').trim() || undefined })
    }
    if (Object.keys(errors).length > 0) {
      await renderReturn(req, res, 422, id, { picked, values, message: [...new Set(Object.values(errors))].join(' · '), errors })
      return
    }
    try {
      const after = await receiveReturn(ctx, req.user!, id, { items, stock })
      flash(req, 'success', after.loan.status === 'returned' ? 'loanPages.done.returnedAll' : 'loanPages.done.returnedSome', { count: items.length + stock.length, number: after.number })
      res.redirect(303, `/loans/${id}`)
    } catch (e) {
      const state = refusal(e, req.t, 'return', values)
      if ((e as AppError).code === 'validation_failed') await renderReturn(req, res, 422, id, { picked, values, message: state.message, errors: state.errors })
      else await renderLoanPage(ctx, req, res, (e as AppError).status, id, state)
    }
  })

  return router
}
