import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { isAppError } from '../../errors.js'
import { addDays, bangkokDate } from '../../i18n/calendar.js'
import { findAssetByCode, listAssets } from '../../services/asset.service.js'
import { assetLoanState, createLoan } from '../../services/loan.service.js'
import { LOAN_KINDS, maxLoanDaysFor } from '../../services/loan-rules.js'
import { getSettings } from '../../services/settings.service.js'
import { expandScanned, findKitByCode, findStockByCode, listKits, listStock, stockAvailability } from '../../services/stock.service.js'
import { requireRole } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, fieldErrors, str } from '../forms/common.form.js'
import { conflictMessage, dateRange, isShownInPlace, pageFields, requestInput, requestValues, type RequestValues } from '../forms/loan-request.form.js'
import { MAX_LINE_QUANTITY, parseCount } from '../forms/stock-lines.form.js'
import { availabilityFor, isRequestable, type Availability } from '../loan-views.js'
import { readCart, writeCart, type CartState } from '../cart-state.js'

/** The service refuses more than this in one loan; the cart stops at the same number. */
export const MAX_CART_ITEMS = 100
/** The service takes at most this many counted lines in one loan. */
export const MAX_CART_STOCK_LINES = 50
const SEARCH_SIZE = 20

/** The asset codes in the cart (the counted items are in readCart(req.session).stock). */
export function cartOf(req: Request): string[] {
  return readCart(req.session).assets
}

/** A same-site path to come back to after adding; anything else goes to the cart. */
function backTo(v: string | string[] | undefined): string {
  const s = str(v)
  return s && /^\/(?![/\\])/.test(s) && !/[\r\n]/.test(s) ? s : '/cart'
}

/** Service fields of the items (`stock.0.quantity`, `items`) show where the cart's items are. */
function itemFields<D extends { field: string }>(details: D[] | undefined): D[] {
  return (details ?? []).map((d) => (/^(stock|items)(\.|$)/.test(d.field) ? { ...d, field: 'assetCodes' } : d))
}

export type StockAvailabilityView =
  | { kind: 'noDates'; owned: number }
  | { kind: 'enough' | 'short'; available: number; owned: number; inRepair: number; busiest: { number: string; from: string; to: string } | null }
  | { kind: 'notLoanable' }

/**
 * The loan cart (SPEC §3 request): a person collects assets by scanning labels (/scan → /q/<code>
 * → add) or by searching, counted items by quantity and kits (all their parts) the same way, then
 * sends one request for all of them. The cart lives in the session.
 */
export function cartRoutes(ctx: AppContext): Router {
  const router = Router()

  function today(): string {
    return bangkokDate(ctx.clock.now())
  }

  async function renderCart(req: Request, res: Response, status: number, model: { values?: RequestValues; errors?: Record<string, string>; message?: string }) {
    const settings = await getSettings(ctx)
    const t = today()
    const cart = readCart(req.session)
    const found = []
    for (const code of cart.assets) {
      const asset = await findAssetByCode(ctx, code)
      found.push({ code, asset, state: asset ? await assetLoanState(ctx, asset.id) : undefined })
    }
    const maxDays = maxLoanDaysFor(
      settings.maxLoanDays,
      found.map((f) => f.asset?.max_loan_days ?? null),
    )
    const defaultDays = Math.max(1, Math.min(settings.defaultLoanDays, maxDays))
    const values: RequestValues = model.values ?? { purpose: '', place: '', kind: '', startDate: t, dueDate: addDays(t, defaultDays - 1) }
    const range = dateRange(values)
    const items = found.map(({ code, asset, state }) => {
      const availability: Availability | { kind: 'unknown' } = asset && state ? availabilityFor(asset, state, range, t) : { kind: 'unknown' }
      return {
        code,
        id: asset?.id ?? null,
        name: asset?.name ?? '',
        status: asset?.status ?? null,
        location: asset?.location ?? '',
        maxLoanDays: asset?.max_loan_days ?? null,
        availability,
      }
    })
    const stock = []
    for (const line of cart.stock) {
      const item = await findStockByCode(ctx, line.code)
      let availability: StockAvailabilityView | { kind: 'unknown' } = { kind: 'unknown' }
      if (item && item.loanable !== 1) availability = { kind: 'notLoanable' }
      else if (item && !range) availability = { kind: 'noDates', owned: item.quantity }
      else if (item && range) {
        const a = await stockAvailability(ctx, item, range.from, range.to)
        availability = {
          kind: line.quantity <= a.available ? 'enough' : 'short',
          available: a.available,
          owned: a.owned,
          inRepair: a.inRepair,
          busiest: a.busiest ? { number: a.busiest.number, from: a.busiest.from, to: a.busiest.to } : null,
        }
      }
      stock.push({ code: line.code, quantity: line.quantity, id: item?.id ?? null, name: item?.name ?? '', unit: item?.unit ?? '', availability })
    }

    const q = (typeof req.query.q === 'string' ? req.query.q : '').trim().slice(0, 200)
    let search: {
      q: string
      total: number
      items: Array<{ code: string; name: string; location: string; status: string; inCart: boolean; requestable: boolean }>
      stock: Array<{ code: string; name: string; unit: string; owned: number; inCart: number }>
      kits: Array<{ code: string; name: string; parts: string }>
    } | null = null
    if (q) {
      const r = await listAssets(ctx, { q, loanable: true, page: 1, pageSize: SEARCH_SIZE })
      const s = await listStock(ctx, { q, page: 1, pageSize: SEARCH_SIZE })
      const needle = q.toLocaleLowerCase('th')
      const kits = (await listKits(ctx)).filter(
        (k) => k.kit.active === 1 && (k.kit.code.toLocaleLowerCase('th').includes(needle) || k.kit.name.toLocaleLowerCase('th').includes(needle)),
      )
      search = {
        q,
        total: r.total,
        items: r.items
          .filter((a) => a.status !== 'disposed')
          .map((a) => ({
            code: a.code,
            name: a.name,
            location: a.location,
            status: a.status,
            inCart: cart.assets.includes(a.code),
            requestable: isRequestable(a),
          })),
        stock: s.items
          .filter((i) => i.loanable === 1)
          .map((i) => ({ code: i.code, name: i.name, unit: i.unit, owned: i.quantity, inCart: cart.stock.find((l) => l.code === i.code)?.quantity ?? 0 })),
        kits: kits.slice(0, SEARCH_SIZE).map((k) => ({
          code: k.kit.code,
          name: k.kit.name,
          parts: k.parts.map((p) => (p.kind === 'stock' ? `${p.name} ${p.quantity}${p.unit ? ` ${p.unit}` : ''}` : p.name)).join(', '),
        })),
      }
    }
    res.status(status).render('cart/index', {
      title: req.t('cart.title'),
      items,
      stock,
      lineCount: items.length + stock.length,
      values,
      errors: model.errors ?? {},
      message: model.message ?? null,
      kinds: LOAN_KINDS,
      maxDays,
      today: t,
      search,
      q,
      searchBack: q ? `/cart?q=${encodeURIComponent(q)}` : '/cart',
      maxQuantity: MAX_LINE_QUANTITY,
    })
  }

  // A request is for oneself: staff, and finance (who may borrow too). Executive, committee and admin
  // hold staff as well when they borrow; the API's POST /loans has the same rule.
  const requesters = requireRole('staff', 'finance')

  router.get('/cart', requesters, (req, res) => renderCart(req, res, 200, {}))

  /** Adds a counted item's quantity; says why not when it cannot. */
  function addStock(req: Request, cart: CartState, code: string, quantity: number): { ok: true; total: number } | { ok: false } {
    const line = cart.stock.find((l) => l.code === code)
    if (!line && cart.stock.length >= MAX_CART_STOCK_LINES) {
      flash(req, 'error', 'cartStock.full', { max: MAX_CART_STOCK_LINES })
      return { ok: false }
    }
    if (!line && cart.assets.length + cart.stock.length >= MAX_CART_ITEMS) {
      flash(req, 'error', 'cart.full', { max: MAX_CART_ITEMS })
      return { ok: false }
    }
    const total = (line?.quantity ?? 0) + quantity
    if (total > MAX_LINE_QUANTITY) {
      flash(req, 'error', 'cartStock.tooMany', { code, max: MAX_LINE_QUANTITY })
      return { ok: false }
    }
    if (line) line.quantity = total
    else cart.stock.push({ code, quantity })
    return { ok: true, total }
  }

  /**
   * Adds what a code names: an asset (as before), a counted item with a quantity (added to what
   * is already there), or a kit (each of its parts; `quantity` sets of it). The stock and kit QR
   * pages post here with `code` and `quantity`.
   */
  router.post('/cart/add', requesters, async (req, res) => {
    const b = bodyOf(req)
    const back = backTo(b.back)
    const raw = (str(b.code) ?? '').trim()
    const parsed = parseCount(b.quantity)
    const cart = readCart(req.session)
    if (!raw) {
      flash(req, 'error', 'cart.codeRequired')
      res.redirect(303, back)
      return
    }
    const asset = await findAssetByCode(ctx, raw)
    if (asset) {
      if (asset.loanable !== 1) flash(req, 'error', 'loan.notLoanable', { code: asset.code })
      else if (!isRequestable(asset)) flash(req, 'error', 'cart.notRequestable', { code: asset.code, status: req.t(`asset.status.${asset.status}`) })
      else if (cart.assets.includes(asset.code)) flash(req, 'info', 'cart.alreadyIn', { code: asset.code })
      else if (cart.assets.length + cart.stock.length >= MAX_CART_ITEMS) flash(req, 'error', 'cart.full', { max: MAX_CART_ITEMS })
      else {
        cart.assets.push(asset.code)
        writeCart(req.session, cart)
        flash(req, 'success', 'cart.added', { code: asset.code, count: cart.assets.length + cart.stock.length })
      }
      res.redirect(303, back)
      return
    }
    if (parsed === null || (typeof parsed === 'number' && (parsed < 1 || parsed > MAX_LINE_QUANTITY))) {
      flash(req, 'error', 'cartStock.badQuantity', { max: MAX_LINE_QUANTITY })
      res.redirect(303, back)
      return
    }
    const quantity = parsed ?? 1
    const item = await findStockByCode(ctx, raw)
    if (item) {
      if (item.loanable !== 1) flash(req, 'error', 'cartStock.notLoanable', { code: item.code, name: item.name })
      else {
        const r = addStock(req, cart, item.code, quantity)
        if (r.ok) {
          writeCart(req.session, cart)
          flash(req, 'success', 'cartStock.added', {
            code: item.code,
            name: item.name,
            quantity,
            total: r.total,
            unit: item.unit,
            count: cart.assets.length + cart.stock.length,
          })
        }
      }
      res.redirect(303, back)
      return
    }
    const kit = await findKitByCode(ctx, raw)
    if (!kit) {
      flash(req, 'error', 'cartStock.unknownCode', { code: raw })
      res.redirect(303, back)
      return
    }
    if (kit.kit.active !== 1) {
      flash(req, 'error', 'cartStock.kitInactive', { code: kit.kit.code, name: kit.kit.name })
      res.redirect(303, back)
      return
    }
    const parts = await expandScanned(ctx, [{ code: kit.kit.code, quantity }])
    // A part that cannot be lent now (in repair, lost, not lent out) stays out; the rest goes in and the page says which.
    const skipped: string[] = []
    let added = 0
    for (const code of parts.assetCodes) {
      const a = await findAssetByCode(ctx, code)
      if (a?.loanable !== 1 || !isRequestable(a)) skipped.push(code)
      else if (!cart.assets.includes(a.code)) {
        if (cart.assets.length + cart.stock.length >= MAX_CART_ITEMS) skipped.push(code)
        else {
          cart.assets.push(a.code)
          added++
        }
      }
    }
    for (const line of parts.stock) {
      const s = await findStockByCode(ctx, line.code)
      if (s?.loanable !== 1) skipped.push(line.code)
      else if (addStock(req, cart, s.code, line.quantity).ok) added++
      else skipped.push(line.code)
    }
    writeCart(req.session, cart)
    if (added > 0 || skipped.length === 0)
      flash(req, 'success', 'cartStock.kitAdded', {
        code: kit.kit.code,
        name: kit.kit.name,
        parts: kit.parts.length,
        count: cart.assets.length + cart.stock.length,
      })
    if (skipped.length > 0) flash(req, 'error', 'cartStock.kitSkipped', { code: kit.kit.code, codes: [...new Set(skipped)].join(', ') })
    res.redirect(303, back)
  })

  /** A counted line's quantity changed on the cart page; 0 takes the line out. */
  router.post('/cart/quantity', requesters, (req, res) => {
    const b = bodyOf(req)
    const code = (str(b.code) ?? '').trim()
    const n = parseCount(b.quantity)
    const cart = readCart(req.session)
    const line = cart.stock.find((l) => l.code === code)
    if (!line) {
      res.redirect(303, '/cart')
      return
    }
    if (typeof n !== 'number' || n > MAX_LINE_QUANTITY) {
      flash(req, 'error', 'cartStock.badQuantity', { max: MAX_LINE_QUANTITY })
    } else if (n === 0) {
      writeCart(req.session, { assets: cart.assets, stock: cart.stock.filter((l) => l !== line) })
      flash(req, 'info', 'cart.removed', { code })
    } else {
      line.quantity = n
      writeCart(req.session, cart)
      flash(req, 'success', 'cartStock.quantityChanged', { code, quantity: n })
    }
    res.redirect(303, '/cart')
  })

  router.post('/cart/remove', requesters, (req, res) => {
    const code = (str(bodyOf(req).code) ?? '').trim()
    const cart = readCart(req.session)
    if (cart.assets.includes(code) || cart.stock.some((l) => l.code === code)) {
      writeCart(req.session, { assets: cart.assets.filter((c) => c !== code), stock: cart.stock.filter((l) => l.code !== code) })
      flash(req, 'info', 'cart.removed', { code })
    }
    res.redirect(303, '/cart')
  })

  router.post('/cart/clear', requesters, (req, res) => {
    delete req.session.cart
    flash(req, 'info', 'cart.cleared')
    res.redirect(303, '/cart')
  })

  router.post('/cart', requesters, async (req, res) => {
    const values = requestValues(bodyOf(req))
    // "Check availability" re-shows the page for the typed dates without sending anything.
    if (str(bodyOf(req).intent) === 'check') {
      await renderCart(req, res, 200, { values })
      return
    }
    const cart = readCart(req.session)
    try {
      const loan = await createLoan(ctx, req.user!, { assetCodes: cart.assets, stock: cart.stock, ...requestInput(values) })
      delete req.session.cart
      flash(req, 'success', 'cart.submitted', { number: loan.number })
      res.redirect(303, `/loans/${loan.loan.id}`)
    } catch (e) {
      if (isAppError(e) && e.details) {
        await renderCart(req, res, e.status, { values, errors: fieldErrors(pageFields(itemFields(e.details), values), req.t) })
        return
      }
      if (isShownInPlace(e)) {
        await renderCart(req, res, e.status, { values, message: conflictMessage(req, e) })
        return
      }
      throw e
    }
  })

  return router
}
