import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { findAssetByCode, normalizeAssetCode } from '../../services/asset.service.js'
import { hasRole } from '../../services/user.service.js'
import { requireSignIn } from '../middleware/auth.js'
import { assetLoanView, isRequestable } from '../loan-views.js'

/**
 * The QR resolver: `<PUBLIC_BASE_URL>/q/<encodeURIComponent(code)>` is printed on every label and
 * never changes meaning (SPEC §5). `*code` also takes codes with an unencoded '/'.
 */
export function qrRoutes(ctx: AppContext): Router {
  const router = Router()
  router.get('/q/*code', requireSignIn, async (req, res) => {
    const raw = req.params.code as unknown
    const scanned = Array.isArray(raw) ? raw.join('/') : String(raw)
    const asset = await findAssetByCode(ctx, scanned)
    const user = req.user!
    if (!asset) {
      res.status(404).render('qr/not-found', { title: req.t('qr.notFoundTitle'), scanned: normalizeAssetCode(scanned) || scanned })
      return
    }
    const registerView = hasRole(user, 'finance', 'executive', 'committee', 'admin')
    const loanView = await assetLoanView(ctx, user, asset.id)
    res.render('qr/show', {
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
      reservations: loanView.reservations,
      canRequest: isRequestable(asset),
      inCart: (req.session.cart ?? []).includes(asset.code),
      registerView,
    })
  })
  return router
}
