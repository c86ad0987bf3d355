import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { addDays, bangkokDate } from '../../i18n/calendar.js'
import { listCategories } from '../../services/category.service.js'
import { getLoan } from '../../services/loan.service.js'
import {
  createKit,
  createStock,
  getKit,
  getStock,
  listKits,
  listStock,
  moveStock,
  STOCK_MOVES,
  stockAvailability,
  stockMovements,
  updateKit,
  type KitView,
} from '../../services/stock.service.js'
import { parseStockRange, stockDaySeries, stockHoldings } from '../../services/stock-view.service.js'
import { actorOf, hasRole, type CurrentUser } from '../../services/user.service.js'
import { requireRole, requireSignIn } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { fieldErrors, idParam, pageParam } from '../forms/common.form.js'
import { kitForm, moveForm, parseKitParts, stockForm } from '../forms/stock.form.js'
import { buildCalendar } from '../loan-views.js'

const PAGE_SIZE = 50
/** The per-day picture on the item's page: four weeks from the Monday of this week. */
const CALENDAR_WEEKS = 4

type Details = NonNullable<AppError['details']>

/**
 * Counted items (chairs, tent sets, plates: SPEC §2 Stock) and kits. Everyone signed in may look
 * at the pool and what is free when; finance adds items, moves counts (stock-in, write-off,
 * repair) with a reason, and keeps the kits. The service decides; these routes shape pages.
 */
export function stockRoutes(ctx: AppContext): Router {
  const router = Router()
  const today = () => bangkokDate(ctx.clock.now())
  const isRegisterView = (u: CurrentUser) => hasRole(u, 'finance', 'executive', 'committee', 'admin')

  router.get('/stock', requireSignIn, async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : ''
    const page = pageParam(req.query.page)
    const { items, total } = await listStock(ctx, { q, page, pageSize: PAGE_SIZE })
    const t = today()
    const categories = new Map((await listCategories(ctx)).map((c) => [c.id, c.name]))
    const rows = []
    for (const s of items) {
      const a = await stockAvailability(ctx, s, t, t)
      rows.push({
        id: s.id,
        code: s.code,
        name: s.name,
        unit: s.unit,
        category: s.category_id === null ? '' : (categories.get(s.category_id) ?? ''),
        loanable: s.loanable === 1,
        owned: s.quantity,
        inRepair: s.in_repair,
        out: s.out_qty,
        availableToday: a.available,
      })
    }
    res.render('stock/index', {
      title: req.t('stock.title'),
      q,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      total,
      items: rows,
      canEdit: hasRole(req.user!, 'finance'),
    })
  })

  // ---------------------------------------------------------------- create

  async function renderNew(req: Request, res: Response, status: number, values: Record<string, unknown>, errors: Record<string, string> = {}) {
    const categories = (await listCategories(ctx)).filter((c) => c.active === 1 || String(c.id) === String(values.categoryId))
    res.status(status).render('stock/form', {
      title: req.t('stockPages.new'),
      values,
      errors,
      categories,
      units: req.t('stockPages.unitSuggestions').split('|'),
    })
  }

  router.get('/stock/new', requireRole('finance'), (req, res) => renderNew(req, res, 200, { loanable: true, categoryId: null, quantity: '' }))

  router.post('/stock', requireRole('finance'), async (req, res) => {
    const input = stockForm(req)
    try {
      const item = await createStock(ctx, actorOf(req.user!), input)
      flash(req, 'success', 'stockPages.created', { code: item.code })
      res.redirect(303, `/stock/${item.id}`)
    } catch (e) {
      if (!(isAppError(e) && e.details)) throw e
      await renderNew(req, res, e.status, input, fieldErrors(e.details, req.t))
    }
  })

  // ---------------------------------------------------------------- one item

  interface MoveState {
    values: { move: string; quantity: string | number; reason: string }
    errors: Record<string, string>
    message?: string
  }

  async function renderShow(req: Request, res: Response, status: number, id: number, move: MoveState) {
    const user = req.user!
    const item = await getStock(ctx, id)
    const t = today()
    const registerView = isRegisterView(user)
    const canEdit = hasRole(user, 'finance')

    // The range a person asked about; a bad one says so and falls back to the default week.
    const rangeValues = { from: typeof req.query.from === 'string' ? req.query.from : '', to: typeof req.query.to === 'string' ? req.query.to : '' }
    let rangeErrors: Record<string, string> = {}
    let range = { from: t, to: addDays(t, 7) }
    try {
      range = parseStockRange(ctx, rangeValues, 8)
    } catch (e) {
      if (!(isAppError(e) && e.details)) throw e
      rangeErrors = fieldErrors(e.details, req.t)
      if (status === 200) status = 422
    }
    const [todayAvail, rangeAvail] = [await stockAvailability(ctx, item, t, t), await stockAvailability(ctx, item, range.from, range.to)]

    // Four weeks of month grids with the units held and left on each day.
    const calendar = buildCalendar({ holder: null, reservations: [] }, t, req.locale, CALENDAR_WEEKS)
    const series = new Map((await stockDaySeries(ctx, item, t, 28)).map((d) => [d.date, d]))
    const months = calendar.months.map((m) => ({
      heading: m.heading,
      weeks: m.weeks.map((w) =>
        w.map((d) => {
          if (!d) return null
          const s = series.get(d.date)
          return { ...d, held: s?.held ?? 0, available: s?.available ?? 0, known: s !== undefined }
        }),
      ),
    }))

    // Open loans holding units: the borrower and a link only where the viewer may open the loan.
    const holdings = []
    for (const h of await stockHoldings(ctx, item)) {
      let borrower = ''
      let canOpen = false
      try {
        const v = await getLoan(ctx, user, h.loanId)
        borrower = v.borrower.organisation ? `${v.borrower.name} (${v.borrower.organisation})` : v.borrower.name
        canOpen = true
      } catch (e) {
        if (!(isAppError(e) && e.code === 'not_found')) throw e
      }
      holdings.push({ ...h, borrower, canOpen })
    }

    const categories = await listCategories(ctx)
    const categoryName = item.category_id === null ? '' : (categories.find((c) => c.id === item.category_id)?.name ?? '')
    res.status(status).render('stock/show', {
      title: `${item.code} ${item.name}`,
      item: {
        id: item.id,
        code: item.code,
        name: item.name,
        unit: item.unit,
        category: categoryName,
        location: item.location,
        loanable: item.loanable === 1,
        notes: item.notes,
      },
      counts: {
        owned: item.quantity,
        inRepair: item.in_repair,
        out: item.out_qty,
        onHand: item.quantity - item.in_repair - item.out_qty,
        availableToday: todayAvail.available,
      },
      range,
      rangeValues: rangeErrors.from || rangeErrors.to ? rangeValues : range,
      rangeErrors,
      rangeAvail,
      months,
      holdings,
      movements: registerView ? await stockMovements(ctx, item.id) : [],
      registerView,
      canEdit,
      canRequest: item.loanable === 1 && hasRole(req.user!, 'staff', 'finance'),
      moves: STOCK_MOVES,
      move,
    })
  }

  function stockId(req: Request): number {
    const id = idParam(req.params.id as string | undefined)
    if (id === undefined) throw new AppError('not_found', 'stock.notFound', { code: String(req.params.id) })
    return id
  }

  router.get('/stock/:id', requireSignIn, async (req, res) => {
    await renderShow(req, res, 200, stockId(req), { values: { move: '', quantity: '', reason: '' }, errors: {} })
  })

  router.post('/stock/:id/move', requireRole('finance'), async (req, res) => {
    const id = stockId(req)
    const input = moveForm(req)
    try {
      const item = await moveStock(ctx, actorOf(req.user!), id, input)
      flash(req, 'success', 'stockPages.moved', { move: req.t(`stockPages.move.${input.move}`), quantity: Number(input.quantity), unit: item.unit })
      res.redirect(303, `/stock/${id}#moves`)
    } catch (e) {
      if (!isAppError(e) || e.code === 'not_found' || e.status >= 500) throw e
      const errors = e.details ? fieldErrors(e.details, req.t) : {}
      const message = e.details ? undefined : req.t(e.messageKey, e.params)
      await renderShow(req, res, e.status, id, { values: input, errors, message })
    }
  })

  // ---------------------------------------------------------------- kits

  router.get('/kits', requireRole('finance'), async (req, res) => {
    const kits = await listKits(ctx)
    res.render('stock/kits', {
      title: req.t('kitPages.title'),
      kits: kits.map((k) => ({ id: k.kit.id, code: k.kit.code, name: k.kit.name, active: k.kit.active === 1, parts: k.parts })),
    })
  })

  function partsText(k: KitView): string {
    return k.parts.map((p) => (p.kind === 'stock' && p.quantity !== 1 ? `${p.code} x${p.quantity}` : p.code)).join('\n')
  }

  async function renderKitForm(
    req: Request,
    res: Response,
    status: number,
    model: { id?: number; kit?: KitView; values: ReturnType<typeof kitForm>; errors?: Record<string, string> },
  ) {
    res.status(status).render('stock/kit-form', {
      title: model.id ? `${req.t('kitPages.edit')} ${model.kit?.kit.code ?? ''}` : req.t('kitPages.new'),
      id: model.id,
      kit: model.kit ? { code: model.kit.kit.code, name: model.kit.kit.name, active: model.kit.kit.active === 1, parts: model.kit.parts } : null,
      values: model.values,
      errors: model.errors ?? {},
    })
  }

  /**
   * Kit errors, per field. The parts box is one text area, so a part's message names its line:
   * `parts.2.quantity` is the third part read, which is the line `lines[2]` came from.
   */
  function kitErrors(req: Request, details: Details, lines: number[]): Record<string, string> {
    const out: Record<string, string> = {}
    for (const d of details) {
      const m = /^parts\.(\d+)(?:\.|$)/.exec(d.field)
      const field = m || d.field === 'parts' ? 'parts' : d.field
      const text = req.t(d.message, d.params)
      const message = m ? req.t('kitPages.lineError', { line: lines[Number(m[1])] ?? Number(m[1]) + 1, message: text }) : text
      if (!out[field]) out[field] = message
    }
    return out
  }

  async function saveKit(req: Request, res: Response, id?: number) {
    const values = kitForm(req)
    const kit = id === undefined ? undefined : await getKit(ctx, id)
    const { parts, bad } = parseKitParts(values.parts)
    const lines = parts.map((p) => p.line)
    const input = { code: values.code, name: values.name, active: values.active, parts: parts.map((p) => ({ code: p.code, quantity: p.quantity })) }
    try {
      if (bad.length > 0) {
        throw new AppError('validation_failed', 'validation.failed', {}, [
          { field: 'parts', message: 'kitPages.badLine', params: { line: bad[0]!.line, text: bad[0]!.text } },
        ])
      }
      const saved = id === undefined ? await createKit(ctx, actorOf(req.user!), input) : await updateKit(ctx, actorOf(req.user!), id, input)
      flash(req, 'success', id === undefined ? 'kitPages.created' : 'kitPages.saved', { code: saved.code })
      res.redirect(303, `/kits/${saved.id}`)
    } catch (e) {
      if (!(isAppError(e) && e.details)) throw e
      await renderKitForm(req, res, e.status, { id, kit, values, errors: kitErrors(req, e.details, lines) })
    }
  }

  router.get('/kits/new', requireRole('finance'), (req, res) => renderKitForm(req, res, 200, { values: { code: '', name: '', parts: '', active: true } }))

  router.post('/kits', requireRole('finance'), (req, res) => saveKit(req, res))

  function kitId(req: Request): number {
    const id = idParam(req.params.id as string | undefined)
    if (id === undefined) throw new AppError('not_found', 'kit.notFound')
    return id
  }

  router.get('/kits/:id', requireRole('finance'), async (req, res) => {
    const id = kitId(req)
    const kit = await getKit(ctx, id)
    await renderKitForm(req, res, 200, { id, kit, values: { code: kit.kit.code, name: kit.kit.name, parts: partsText(kit), active: kit.kit.active === 1 } })
  })

  router.post('/kits/:id', requireRole('finance'), (req, res) => saveKit(req, res, kitId(req)))

  return router
}
