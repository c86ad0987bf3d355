import { Router, type Request } from 'express'
import type { AppContext } from '../context.js'
import { AppError, isAppError } from '../errors.js'
import { findCategoryByCode } from '../services/category.service.js'
import { createStock, getStockByCode, stockAvailability, toApiStock } from '../services/stock.service.js'
import { parseStockRange } from '../services/stock-view.service.js'
import { actorOf } from '../services/user.service.js'
import { requireRole, requireSignIn } from '../http/middleware/auth.js'
import { bodyObject } from './json.js'

/*
 * Counted items of the JSON API v1 (SPEC §5): the Stock object is
 * `{code, name, unit, quantity, inRepair, available}`; `available` is what is free on every day
 * of the dates asked (today when none are given): owned − in repair − the most held by open loans
 * on any one of those days.
 *
 *   POST /stock        finance   {code, name, quantity, category?, unit?} (category by its code;
 *                                 also location?, loanable?, notes?) → 201 Stock
 *   GET  /stock/:code  everyone  ?from=&to= (YYYY-MM-DD, Common Era; `to` defaults to `from`)
 */

/** One query parameter as a string; a repeated one (an array) is a 422 naming it. */
function queryValue(req: Request, name: string): string | undefined {
  const v = req.query[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string')
    throw new AppError('validation_failed', 'validation.unknownFilter', { param: name }, [{ field: name, message: 'validation.invalid' }])
  return v
}

export function stockApi(ctx: AppContext): Router {
  const router = Router()

  router.post('/stock', requireRole('finance'), async (req, res) => {
    const b = bodyObject(req)
    let categoryId: number | null = null
    if (b.category !== undefined && b.category !== null && b.category !== '') {
      const category = typeof b.category === 'string' ? await findCategoryByCode(ctx, b.category) : undefined
      if (!category) throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'category', message: 'asset.unknownCategory' }])
      categoryId = category.id
    }
    let item
    try {
      item = await createStock(ctx, actorOf(req.user!), {
        code: b.code,
        name: b.name,
        quantity: b.quantity,
        unit: b.unit ?? undefined,
        categoryId,
        location: b.location ?? undefined,
        loanable: b.loanable ?? undefined,
        notes: b.notes ?? undefined,
      })
    } catch (e) {
      // The service speaks of its own field names; the API's body names the category by code.
      if (isAppError(e) && e.details) {
        throw new AppError(
          e.code,
          e.messageKey,
          e.params,
          e.details.map((d) => (d.field === 'categoryId' ? { ...d, field: 'category' } : d)),
        )
      }
      throw e
    }
    const t = await stockAvailability(ctx, item, ...todayRange(ctx))
    res.status(201).json(toApiStock(item, t))
  })

  // `*code`: a code may hold an unencoded '/', as asset codes do.
  router.get('/stock/*code', requireSignIn, async (req, res) => {
    const raw = req.params.code as unknown
    const code = Array.isArray(raw) ? raw.join('/') : String(raw)
    const item = await getStockByCode(ctx, code)
    const range = parseStockRange(ctx, { from: queryValue(req, 'from'), to: queryValue(req, 'to') })
    res.json(toApiStock(item, await stockAvailability(ctx, item, range.from, range.to)))
  })

  return router
}

function todayRange(ctx: AppContext): [string, string] {
  const r = parseStockRange(ctx, {})
  return [r.from, r.to]
}
