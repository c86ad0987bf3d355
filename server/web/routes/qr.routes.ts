import type { Request, RequestHandler, Response } from 'express'
import type { StockItemRow } from '../../../db/schema.js'
import type { AppContext } from '../../context.js'
import { bangkokDate } from '../../i18n/calendar.js'
import { findAssetByCode, normalizeAssetCode } from '../../services/asset.service.js'
import { assetLoanState, findAssetWithLoanState } from '../../services/loan.service.js'
import { findKitByCode, findStockByCode, stockAvailability, type KitView } from '../../services/stock.service.js'
import { stockDaySeries } from '../../services/stock-view.service.js'
import { hasRole } from '../../services/user.service.js'
import { contextOf, requireSignIn } from '../../http/middleware/auth.js'
import { assetLoanView, availabilityFor, isRequestable } from '../loan-views.js'
import { cartHasAsset } from '../cart-state.js'
import { assetLoanTarget, kitLoanTargets, qrLoanActions } from '../qr-loan-actions.js'

/** Today and the next week on a counted item's phone page. */
const COMING_DAYS = 8

/**
 * The QR resolver: `<PUBLIC_BASE_URL>/q/<encodeURIComponent(code)>` is printed on every label and
 * never changes meaning (SPEC §5). `*code` also takes codes with an unencoded '/'. The handlers of
 * `GET /q/*code`: app.ts mounts them after the page chain and ahead of the other areas' routers.
 */
export function qrPage(ctx: AppContext): RequestHandler[] {
  const today = () => bangkokDate(ctx.clock.now())

  /** A counted item's pool label: what is free today and in the coming days, and "add N to my request". */
  async function renderStock(req: Request, res: Response, item: StockItemRow, registerView: boolean) {
    const t = today()
    const days = await stockDaySeries(ctx, item, t, COMING_DAYS)
    res.render('qr/stock', {
      title: `${item.code} ${item.name}`,
      item: { id: item.id, code: item.code, name: item.name, unit: item.unit, location: item.location, loanable: item.loanable === 1, owned: item.quantity },
      availableToday: days[0]?.available ?? 0,
      days: days.slice(1),
      registerView,
      canEdit: hasRole(req.user!, 'finance'),
      canRequest: hasRole(req.user!, 'staff', 'finance'),
    })
  }

  /** A kit's label: its parts with what is free of each today, and "add this kit to my request". */
  async function renderKit(req: Request, res: Response, kit: KitView, registerView: boolean) {
    const t = today()
    const parts = []
    const states = []
    for (const p of kit.parts) {
      if (p.kind === 'asset') {
        const asset = await findAssetByCode(ctx, p.code)
        const state = asset ? await assetLoanState(ctx, asset.id) : undefined
        if (state) states.push(state)
        const availability = asset && state ? availabilityFor(asset, state, { from: t, to: t }, t) : ({ kind: 'notLoanable' } as const)
        parts.push({ ...p, id: asset?.id ?? null, free: availability.kind === 'free', availability, available: null as number | null })
      } else {
        const item = await findStockByCode(ctx, p.code)
        const available = item ? (await stockAvailability(ctx, item, t, t)).available : 0
        parts.push({ ...p, id: item?.id ?? null, free: item !== undefined && item.loanable === 1 && available >= p.quantity, availability: null, available })
      }
    }
    res.render('qr/kit', {
      title: `${kit.kit.code} ${kit.kit.name}`,
      kit: { id: kit.kit.id, code: kit.kit.code, name: kit.kit.name, active: kit.kit.active === 1 },
      parts,
      allFree: parts.every((p) => p.free),
      // Finance: the loans holding or taking its assets, each with "receive" / "hand over" the whole kit.
      loanActions: await qrLoanActions(ctx, req.user!, kitLoanTargets(states), kit.kit.code),
      registerView,
      canEdit: hasRole(req.user!, 'finance'),
      canRequest: hasRole(req.user!, 'staff', 'finance'),
    })
  }

  return [
    requireSignIn,
    async (req, res, next) => {
      const raw = req.params.code as unknown
      const scanned = Array.isArray(raw) ? raw.join('/') : String(raw)
      // A GET that writes nothing: the data version read with the user still holds for this read.
      const found = await findAssetWithLoanState(contextOf(ctx, req), scanned)
      const user = req.user!
      const registerView = hasRole(user, 'finance', 'executive', 'committee', 'admin')
      if (!found) {
        // One code space: a label may also be a counted item's pool or a kit.
        const item = await findStockByCode(ctx, scanned)
        if (item) {
          await renderStock(req, res, item, registerView)
          return
        }
        const kit = await findKitByCode(ctx, scanned)
        if (kit) {
          await renderKit(req, res, kit, registerView)
          return
        }
        res.status(404).render('qr/not-found', { title: req.t('qr.notFoundTitle'), scanned: normalizeAssetCode(scanned) || scanned })
        return
      }
      const { asset } = found
      const loanView = await assetLoanView(ctx, user, asset.id, found.state)
      const target = assetLoanTarget(found.state)
      const loanActions = target ? await qrLoanActions(ctx, user, [target], asset.code) : []
      res.render(
        'qr/show',
        {
          title: `${asset.code} ${asset.name}`,
          asset: {
            id: asset.id,
            code: asset.code,
            name: asset.name,
            category: asset.category_name,
            location: asset.location,
            department: asset.department_name ?? '',
            status: asset.status,
            loanable: asset.loanable === 1,
          },
          holder: loanView.holder,
          loanActions,
          reservations: loanView.reservations,
          canRequest: isRequestable(asset) && hasRole(user, 'staff', 'finance'),
          inCart: cartHasAsset(req.session, asset.code),
          registerView,
        },
        (err, html) => {
          if (err) return next(err)
          // Sent as is: res.send would hash the page for an ETag that no cache keeps (no-store).
          res.type('html').end(html)
        },
      )
    },
  ]
}
