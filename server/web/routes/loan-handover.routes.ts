import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import type { AppError } from '../../errors.js'
import { getLoan, handOver, receiveReturn, type LoanView } from '../../services/loan.service.js'
import { loanDecision } from '../../services/loan-query.service.js'
import { ITEM_CONDITIONS } from '../../services/loan-rules.js'
import { resolveScan, storedCode } from '../../services/label.service.js'
import { expandKitCodes, kitNamed, kitOfAsset, kitsInLoan, type KitInLoan } from '../../services/kit-parts.service.js'
import { findKitByCode } from '../../services/stock.service.js'
import { bangkokDate, daysBetween } from '../../i18n/calendar.js'
import { normalizeCode } from '../../i18n/format.js'
import { requireRole } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { loanId, refusal, renderLoanPage } from '../loan-page.js'
import { bodyOf, list, str, type FormBody } from '../forms/common.form.js'
import { parseCount } from '../forms/stock-lines.form.js'

/*
 * The hand-over and return screens of a loan (finance, at the counter):
 *   GET/POST /loans/:id/handover   tick each item as it is scanned, count each counted line, hand over
 *   GET/POST /loans/:id/return     receive items and counted lines back, with their condition
 * A scan without JavaScript posts the form (op=scan) and the screen comes back with the item ticked.
 * `?scan=<code>` on either screen's GET takes that scan first: the QR page's "hand over" / "receive"
 * opens the screen with the item (or a kit's parts) already ticked.
 * A kit's label stands for each of its parts that the loan holds (kit-parts.service.ts): the parts
 * are listed under their kit, and a kit code among the ticked codes is turned into its parts here,
 * before the loan services see it.
 * A mistake on the screen stays on the screen (422); a refusal for the loan's state (no longer
 * approved, not on loan) is shown on the loan page (loan-page.ts) with its status.
 */

function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

function text(b: FormBody, name: string): string {
  return (str(b[name]) ?? '').trim()
}

/** `?scan=` of a screen's GET (a repeated parameter arrives as an array: its first value). */
function scanQuery(req: Request): string {
  const raw = req.query.scan as unknown
  const first = Array.isArray(raw) ? raw[0] : raw
  return typeof first === 'string' ? first.trim() : ''
}

const unique = (codes: string[]) => [...new Set(codes)]

/** The kits of a loan's lines, for the screens: as the browser's scan script reads them (`data-kits`). */
function kitScript(kits: readonly KitInLoan[]): string {
  return JSON.stringify(
    Object.fromEntries(kits.map((k) => [k.code, { name: k.name, assets: k.assetCodes, stock: Object.fromEntries(k.stock.map((p) => [p.code, p.quantity])) }])),
  )
}

/** Items grouped under the kit that holds them (kits first, by code), then the items of no kit. */
function groupByKit<T extends { code: string }>(
  items: T[],
  kits: readonly KitInLoan[],
): Array<{ kit: { code: string; name: string; elsewhere: string[] } | null; items: T[] }> {
  const of = kitOfAsset(kits)
  const groups = kits
    .map((k) => ({ kit: { code: k.code, name: k.name, elsewhere: k.notInLoan }, items: items.filter((i) => of.get(i.code) === k) }))
    .filter((g) => g.items.length > 0)
  const loose = items.filter((i) => !of.has(i.code))
  return loose.length > 0 ? [...groups, { kit: null, items: loose }] : groups
}

/** The first kit (by code) among these that holds a counted line. */
function kitOfLine(kits: readonly KitInLoan[], code: string): string {
  return kits.find((k) => k.stock.some((p) => p.code === code))?.code ?? ''
}

export function loanHandoverRoutes(ctx: AppContext): Router {
  const router = Router()

  /** A scan (a label's URL, a typed code, a USB scanner's keystrokes) to the asset code it names. */
  async function scannedCode(req: Request, raw: string): Promise<string | null> {
    const origins = [`${req.protocol}://${req.get('host') ?? ''}`]
    const r = await resolveScan(ctx, raw.slice(0, 2000), origins)
    if (!r.ok) return null
    let code: string
    try {
      code = normalizeCode(decodeURIComponent(r.path.slice('/q/'.length)))
    } catch {
      return null
    }
    // An old label's spelling (ํา for ำ) or a typed variant becomes the code the loan holds.
    return (await storedCode(ctx, code)) ?? code
  }

  interface HandoverState {
    checked: string[]
    counts: Record<string, string>
    message?: string
    errors?: Record<string, string>
    /** A counted line whose pool label was just scanned: its count field takes the focus. */
    focus?: string
    /** What a scan did beyond one tick (a kit's parts). */
    notice?: string
  }

  const handoverKits = (v: LoanView) => kitsInLoan(ctx, { assetCodes: v.items.map((i) => i.asset_code), stockCodes: v.stock.map((l) => l.code) })

  /**
   * A scan on the hand-over screen: an item is ticked; a counted line's pool label puts the cursor
   * in its count; a kit's label ticks its items and fills an empty count of its counted parts with
   * what one kit holds.
   */
  async function handoverScan(req: Request, v: LoanView, raw: string, state: HandoverState): Promise<{ status: number; state: HandoverState }> {
    const code = await scannedCode(req, raw)
    if (code && v.items.some((i) => i.asset_code === code)) return { status: 200, state: { ...state, checked: unique([...state.checked, code]) } }
    if (code && v.stock.some((l) => l.code === code)) return { status: 200, state: { ...state, focus: code } }
    const kit = code ? kitNamed(await handoverKits(v), code) : undefined
    if (kit) {
      const counts = { ...state.counts }
      for (const p of kit.stock) {
        const line = v.stock.find((l) => l.code === p.code)
        if (line && !counts[`count_${line.id}`]) counts[`count_${line.id}`] = String(p.quantity)
      }
      const notice = req.t('whereItem.kitTaken', { code: kit.code, name: kit.name, count: kit.assetCodes.length + kit.stock.length })
      return { status: 200, state: { ...state, checked: unique([...state.checked, ...kit.assetCodes]), counts, notice } }
    }
    const isKit = code !== null && (await findKitByCode(ctx, code)) !== undefined
    return { status: 422, state: { ...state, message: isKit ? req.t('whereItem.kitNotInLoan', { code }) : req.t('loan.notInLoan', { code: code ?? raw }) } }
  }

  async function renderHandover(req: Request, res: Response, status: number, id: number, state: HandoverState) {
    const v = await getLoan(ctx, req.user!, id)
    // The screen is offered only to whom the loan policy would let hand it over (a day too early is said on the screen's POST).
    const may = await loanDecision(ctx, req.user!, v, 'handOver')
    if (v.loan.status !== 'approved' || (!may.ok && may.rule !== 'not_started')) {
      res.redirect(303, `/loans/${id}`)
      return
    }
    const kits = await handoverKits(v)
    const items = v.items.map((i) => ({ code: i.asset_code, name: i.asset_name, checked: state.checked.includes(i.asset_code) }))
    res.status(status).render('loans/handover', {
      title: `${req.t('loanPages.handover.title')} ${v.number}`,
      loan: {
        id,
        number: v.number,
        borrower: v.borrower.name,
        organisation: v.borrower.organisation,
        startOn: v.loan.start_on,
        dueOn: v.loan.due_on,
        kind: v.loan.kind,
      },
      items,
      groups: groupByKit(items, kits),
      kits: kitScript(kits),
      stockLines: v.stock.map((l) => ({
        id: l.id,
        code: l.code,
        name: l.name,
        unit: l.unit,
        asked: l.quantity,
        count: state.counts[`count_${l.id}`] ?? '',
        focus: state.focus === l.code,
        kit: kitOfLine(kits, l.code),
      })),
      notice: state.notice ?? '',
      message: state.message ?? '',
      errors: state.errors ?? {},
      focus: state.focus ?? '',
    })
  }

  router.get('/loans/:id/handover', requireRole('finance'), async (req, res) => {
    const id = loanId(req)
    const scan = scanQuery(req)
    if (!scan) {
      await renderHandover(req, res, 200, id, { checked: [], counts: {} })
      return
    }
    // Opened from the QR page with the item: the screen comes with it ticked (a stale link says why not, as a scan would).
    const { state } = await handoverScan(req, await getLoan(ctx, req.user!, id), scan, { checked: [], counts: {} })
    await renderHandover(req, res, 200, id, state)
  })

  router.post('/loans/:id/handover', requireRole('finance'), async (req, res) => {
    const id = loanId(req)
    const b = bodyOf(req)
    const ticked = list(b.confirmedCodes).map(normalizeCode)
    const counts = Object.fromEntries(
      Object.entries(b)
        .filter(([k]) => /^count_\d+$/.test(k))
        .map(([k, v]) => [k, (str(v) ?? '').trim()]),
    )
    if (text(b, 'op') === 'scan') {
      // Without JavaScript, Enter in the scan field sends the form here: tick the scanned item (or
      // put the cursor in the scanned pool's count field) and show the screen again.
      // Enter in another field of the screen sends it with an empty scan: show it again as it was.
      if (!text(b, 'scan')) {
        await renderHandover(req, res, 200, id, { checked: ticked, counts })
        return
      }
      const done = await handoverScan(req, await getLoan(ctx, req.user!, id), text(b, 'scan'), { checked: ticked, counts })
      await renderHandover(req, res, done.status, id, done.state)
      return
    }
    // Counted lines are confirmed by count. The service hands over what the loan asks; a different
    // count is refused here with what to do, rather than lending a number nobody approved.
    const v = await getLoan(ctx, req.user!, id)
    // A kit's code among the ticked codes (a client that sends the label it scanned) stands for its items.
    const confirmed = expandKitCodes(await handoverKits(v), ticked)
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

  interface ReturnForm {
    picked: string[]
    values: Record<string, string>
    message?: string
    errors?: Record<string, string>
    focus?: string
    notice?: string
  }

  /** The kits of what is still out on a loan: a kit's label at the return takes only what has not come back. */
  const returnKits = (v: LoanView) =>
    kitsInLoan(ctx, {
      assetCodes: v.items.filter((i) => i.returned_at === null).map((i) => i.asset_code),
      stockCodes: v.stock.filter((l) => outstandingOf(l) > 0).map((l) => l.code),
    })

  /**
   * A scan on the return screen: an item out is picked; a counted line's pool label puts the cursor
   * in its count; a kit's label picks its items still out (each keeps its own condition) and fills
   * the "good" count of a counted part left blank with what one kit holds, at most what is still out.
   */
  async function returnScan(req: Request, v: LoanView, raw: string, form: ReturnForm): Promise<{ status: number; form: ReturnForm }> {
    const code = await scannedCode(req, raw)
    const out = v.items.filter((i) => i.returned_at === null)
    if (code && out.some((i) => i.asset_code === code)) return { status: 200, form: { ...form, picked: unique([...form.picked, code]) } }
    if (code && v.stock.some((l) => l.code === code && outstandingOf(l) > 0)) return { status: 200, form: { ...form, focus: code } }
    const kit = code ? kitNamed(await returnKits(v), code) : undefined
    if (kit) {
      const values = { ...form.values }
      for (const p of kit.stock) {
        const line = v.stock.find((l) => l.code === p.code)
        if (line && !['good', 'damaged', 'lost'].some((k) => (values[`${k}_${line.id}`] ?? '').trim()))
          values[`good_${line.id}`] = String(Math.min(p.quantity, outstandingOf(line)))
      }
      const notice = req.t('whereItem.kitPicked', { code: kit.code, name: kit.name, count: kit.assetCodes.length + kit.stock.length })
      return { status: 200, form: { ...form, picked: unique([...form.picked, ...kit.assetCodes]), values, notice } }
    }
    const isKit = code !== null && (await findKitByCode(ctx, code)) !== undefined
    return { status: 422, form: { ...form, message: isKit ? req.t('whereItem.kitNotOut', { code }) : req.t('loanPages.return.notOut', { code: code ?? raw }) } }
  }

  async function renderReturn(req: Request, res: Response, status: number, id: number, form: ReturnForm) {
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
    const kits = await returnKits(v)
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
        kit: kitOfLine(kits, l.code),
      }))
    res.status(status).render('loans/return', {
      title: `${req.t('loanPages.return.title')} ${v.number}`,
      loan: {
        id,
        number: v.number,
        borrower: v.borrower.name,
        organisation: v.borrower.organisation,
        dueOn: v.loan.due_on,
        overdue: v.overdue,
        daysLate: v.overdue ? daysBetween(v.loan.due_on, t) : 0,
      },
      items,
      groups: groupByKit(items, kits),
      kits: kitScript(kits),
      stockLines,
      lineCount: items.length + stockLines.length,
      back: v.items
        .filter((i) => i.returned_at !== null)
        .map((i) => ({ code: i.asset_code, name: i.asset_name, condition: i.condition ?? '', returnedBy: i.returned_by_name ?? '' })),
      stockBack: v.stock
        .filter((l) => l.returned_good + l.returned_damaged + l.returned_lost > 0)
        .map((l) => ({
          code: l.code,
          name: l.name,
          unit: l.unit,
          good: l.returned_good,
          damaged: l.returned_damaged,
          lost: l.returned_lost,
          outstanding: outstandingOf(l),
          returnedBy: l.returned_by_name ?? '',
        })),
      conditions: ITEM_CONDITIONS,
      message: form.message ?? '',
      errors: form.errors ?? {},
      focus: form.focus ?? '',
      notice: form.notice ?? '',
    })
  }

  router.get('/loans/:id/return', requireRole('finance'), async (req, res) => {
    const id = loanId(req)
    const scan = scanQuery(req)
    if (!scan) {
      await renderReturn(req, res, 200, id, { picked: [], values: {} })
      return
    }
    // Opened from the QR page with the item: the screen comes with it picked.
    const done = await returnScan(req, await getLoan(ctx, req.user!, id), scan, { picked: [], values: {} })
    await renderReturn(req, res, 200, id, done.form)
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
    const v = await getLoan(ctx, req.user!, id)
    // A kit's code among the picked codes stands for its items still out, each with its own condition fields.
    let picked = expandKitCodes(await returnKits(v), list(b.pick).map(normalizeCode))
    const outstanding = v.items.filter((i) => i.returned_at === null)
    const outstandingStock = v.stock.filter((l) => outstandingOf(l) > 0)
    if (op === 'scan') {
      if (!text(b, 'scan')) {
        await renderReturn(req, res, 200, id, { picked, values })
        return
      }
      const done = await returnScan(req, v, text(b, 'scan'), { picked, values })
      await renderReturn(req, res, done.status, id, done.form)
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
      else if (op === 'all' && sum !== rest)
        errors[`good_${l.id}`] = req.t('loanStock.return.allNeedsFull', { code: l.code, name: l.name, unit: l.unit, outstanding: rest, sum })
      else if (sum === 0) continue
      stock.push({ code: l.code, ...n, note: (values[`snote_${l.id}`] ?? '').trim(), returnedBy: (values[`sby_${l.id}`] ?? '').trim() || undefined })
    }
    if (Object.keys(errors).length > 0) {
      await renderReturn(req, res, 422, id, { picked, values, message: [...new Set(Object.values(errors))].join(' · '), errors })
      return
    }
    try {
      const after = await receiveReturn(ctx, req.user!, id, { items, stock })
      flash(req, 'success', after.loan.status === 'returned' ? 'loanPages.done.returnedAll' : 'loanPages.done.returnedSome', {
        count: items.length + stock.length,
        number: after.number,
      })
      res.redirect(303, `/loans/${id}`)
    } catch (e) {
      const state = refusal(e, req.t, 'return', values)
      if ((e as AppError).code === 'validation_failed') await renderReturn(req, res, 422, id, { picked, values, message: state.message, errors: state.errors })
      else await renderLoanPage(ctx, req, res, (e as AppError).status, id, state)
    }
  })

  return router
}
