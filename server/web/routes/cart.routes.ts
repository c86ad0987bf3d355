import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { isAppError } from '../../errors.js'
import { addDays, bangkokDate } from '../../i18n/calendar.js'
import { findAssetByCode, listAssets } from '../../services/asset.service.js'
import { assetLoanState, createLoan } from '../../services/loan.service.js'
import { LOAN_KINDS, maxLoanDaysFor } from '../../services/loan-rules.js'
import { getSettings } from '../../services/settings.service.js'
import { requireSignIn } from '../middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, fieldErrors, str } from '../forms/common.form.js'
import { conflictMessage, dateRange, isShownInPlace, pageFields, requestInput, requestValues, type RequestValues } from '../forms/loan-request.form.js'
import { availabilityFor, isRequestable, type Availability } from '../loan-views.js'

/** The service refuses more than this in one loan; the cart stops at the same number. */
export const MAX_CART_ITEMS = 100
const SEARCH_SIZE = 20

export function cartOf(req: Request): string[] {
  return req.session.cart ?? []
}

/** A same-site path to come back to after adding; anything else goes to the cart. */
function backTo(v: string | string[] | undefined): string {
  const s = str(v)
  return s && /^\/(?![/\\])/.test(s) && !/[\r\n]/.test(s) ? s : '/cart'
}

/**
 * The loan cart (SPEC §3 request): a person collects assets by scanning labels (/scan → /q/<code>
 * → add) or by searching, then sends one request for all of them. The cart lives in the session.
 */
export function cartRoutes(ctx: AppContext): Router {
  const router = Router()

  function today(): string {
    return bangkokDate(ctx.clock.now())
  }

  async function renderCart(req: Request, res: Response, status: number, model: { values?: RequestValues; errors?: Record<string, string>; message?: string }) {
    const settings = await getSettings(ctx)
    const t = today()
    const codes = cartOf(req)
    const found = []
    for (const code of codes) {
      const asset = await findAssetByCode(ctx, code)
      found.push({ code, asset, state: asset ? await assetLoanState(ctx, asset.id) : undefined })
    }
    const maxDays = maxLoanDaysFor(settings.maxLoanDays, found.map((f) => f.asset?.max_loan_days ?? null))
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

    const q = (typeof req.query.q === 'string' ? req.query.q : '').trim().slice(0, 200)
    let search: { q: string; total: number; items: Array<{ code: string; name: string; location: string; status: string; inCart: boolean; requestable: boolean }> } | null = null
    if (q) {
      const r = await listAssets(ctx, { q, loanable: true, page: 1, pageSize: SEARCH_SIZE })
      search = {
        q,
        total: r.total,
        items: r.items
          .filter((a) => a.status !== 'disposed')
          .map((a) => ({ code: a.code, name: a.name, location: a.location, status: a.status, inCart: codes.includes(a.code), requestable: isRequestable(a) })),
      }
    }
    res.status(status).render('cart/index', {
      title: req.t('cart.title'),
      items,
      values,
      errors: model.errors ?? {},
      message: model.message ?? null,
      kinds: LOAN_KINDS,
      maxDays,
      today: t,
      search,
      q,
      searchBack: q ? `/cart?q=${encodeURIComponent(q)}` : '/cart',
    })
  }

  router.get('/cart', requireSignIn, (req, res) => renderCart(req, res, 200, {}))

  router.post('/cart/add', requireSignIn, async (req, res) => {
    const b = bodyOf(req)
    const back = backTo(b.back)
    const raw = (str(b.code) ?? '').trim()
    const asset = raw ? await findAssetByCode(ctx, raw) : undefined
    const cart = cartOf(req)
    if (!raw) flash(req, 'error', 'cart.codeRequired')
    else if (!asset) flash(req, 'error', 'loan.unknownAsset', { code: raw })
    else if (asset.loanable !== 1) flash(req, 'error', 'loan.notLoanable', { code: asset.code })
    else if (!isRequestable(asset)) flash(req, 'error', 'cart.notRequestable', { code: asset.code, status: req.t(`asset.status.${asset.status}`) })
    else if (cart.includes(asset.code)) flash(req, 'info', 'cart.alreadyIn', { code: asset.code })
    else if (cart.length >= MAX_CART_ITEMS) flash(req, 'error', 'cart.full', { max: MAX_CART_ITEMS })
    else {
      req.session.cart = [...cart, asset.code]
      flash(req, 'success', 'cart.added', { code: asset.code, count: cart.length + 1 })
    }
    res.redirect(303, back)
  })

  router.post('/cart/remove', requireSignIn, (req, res) => {
    const code = (str(bodyOf(req).code) ?? '').trim()
    const cart = cartOf(req)
    if (cart.includes(code)) {
      req.session.cart = cart.filter((c) => c !== code)
      flash(req, 'info', 'cart.removed', { code })
    }
    res.redirect(303, '/cart')
  })

  router.post('/cart/clear', requireSignIn, (req, res) => {
    delete req.session.cart
    flash(req, 'info', 'cart.cleared')
    res.redirect(303, '/cart')
  })

  router.post('/cart', requireSignIn, async (req, res) => {
    const values = requestValues(bodyOf(req))
    // "Check availability" re-shows the page for the typed dates without sending anything.
    if (str(bodyOf(req).intent) === 'check') {
      await renderCart(req, res, 200, { values })
      return
    }
    try {
      const loan = await createLoan(ctx, req.user!, { assetCodes: cartOf(req), ...requestInput(values) })
      delete req.session.cart
      flash(req, 'success', 'cart.submitted', { number: loan.number })
      res.redirect(303, `/loans/${loan.loan.id}`)
    } catch (e) {
      if (isAppError(e) && e.details) {
        await renderCart(req, res, e.status, { values, errors: fieldErrors(pageFields(e.details, values), req.t) })
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
