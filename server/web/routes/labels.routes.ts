import { Router, type Request } from 'express'
import type { AppContext } from '../../context.js'
import { isAppError } from '../../errors.js'
import { ASSET_STATUSES } from '../../../db/schema.js'
import { listAssets, type AssetListRow } from '../../services/asset.service.js'
import { listCategories } from '../../services/category.service.js'
import { listDepartments } from '../../services/department.service.js'
import { listKits, listStock } from '../../services/stock.service.js'
import { defaultLayout, LABEL_LAYOUTS, labelSheet, resolveScan } from '../../services/label.service.js'
import { requireRole, requireSignIn } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { str } from '../forms/common.form.js'
import { assetQuery } from '../forms/asset.form.js'
import { filterParams, idsParam, labelSheetQuery } from '../forms/label.form.js'
import { recordLabelSheetPrinted } from '../../services/setup.service.js'
import { actorOf } from '../../services/user.service.js'

const CHOOSER_PAGE_SIZE = 100

/** The camera (getUserMedia) is only offered in a secure context: HTTPS, or this very machine. */
function cameraNeedsHttps(req: Request): boolean {
  return !req.secure && !['localhost', '127.0.0.1', '[::1]', '::1'].includes(req.hostname)
}

export function labelRoutes(ctx: AppContext): Router {
  const router = Router()

  // The chooser: the register's filters, a tick per asset, a layout.
  router.get('/labels', requireRole('finance'), async (req, res) => {
    // The asset page's "print label" link: straight to a printable sheet, one click.
    const ids = idsParam(req.query.ids)
    if (ids.length > 0) {
      const qs = new URLSearchParams({ ids: ids.join(',') })
      const layout = str(req.query.layout as string | string[] | undefined)
      if (layout) qs.set('layout', layout)
      res.redirect(303, `/labels/sheet?${qs}`)
      return
    }
    // The second list: counted items' pools and kits, one label each.
    if (req.query.type === 'pools') {
      const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : ''
      const [pools, kits, layout] = [await listStock(ctx, { q, page: 1, pageSize: CHOOSER_PAGE_SIZE }), await listKits(ctx), await defaultLayout(ctx)]
      const needle = q.toLowerCase()
      res.render('labels/pools', {
        title: req.t('labels.title'),
        q,
        layouts: LABEL_LAYOUTS,
        layout,
        total: pools.total,
        pools: pools.items.map((p) => ({ id: p.id, code: p.code, name: p.name, unit: p.unit, quantity: p.quantity })),
        kits: kits
          .filter((k) => !needle || k.kit.code.toLowerCase().includes(needle) || k.kit.name.toLowerCase().includes(needle))
          .map((k) => ({ id: k.kit.id, code: k.kit.code, name: k.kit.name, parts: k.parts.length, active: k.kit.active === 1 })),
      })
      return
    }
    const query = assetQuery(req.query)
    const [categories, departments, layout] = [await listCategories(ctx), await listDepartments(ctx), await defaultLayout(ctx)]
    let result: { items: AssetListRow[]; total: number }
    let filterError: string | undefined
    try {
      result = await listAssets(ctx, { ...query, pageSize: CHOOSER_PAGE_SIZE })
    } catch (e) {
      if (!(isAppError(e) && e.code === 'validation_failed')) throw e
      result = { items: [], total: 0 }
      filterError = req.t(e.messageKey, e.params)
    }
    const filters = filterParams(query)
    res.render('labels/index', {
      title: req.t('labels.title'),
      query,
      filterError,
      hiddenFilters: [...filters.entries()],
      categories,
      departments,
      statuses: ASSET_STATUSES,
      layouts: LABEL_LAYOUTS,
      layout,
      total: result.total,
      page: query.page,
      pages: Math.max(1, Math.ceil(result.total / CHOOSER_PAGE_SIZE)),
      pagerQuery: Object.fromEntries(filters),
      assets: result.items.map((a) => ({ id: a.id, code: a.code, name: a.name, category: a.category_name, location: a.location, status: a.status })),
    })
  })

  // The printable A4 sheet.
  router.get('/labels/sheet', requireRole('finance'), async (req, res) => {
    const q = labelSheetQuery(req.query)
    const filters = filterParams(q.filters)
    const pools = q.stock.length > 0 || q.kits.length > 0
    if (!q.all && q.ids.length === 0 && !pools) {
      flash(req, 'error', 'labels.nothingChosen')
      const qs = filters.toString()
      res.redirect(303, qs ? `/labels?${qs}` : '/labels')
      return
    }
    const { page: _page, ...filter } = q.filters
    const sheet = await labelSheet(ctx, q.all ? { filter } : { ids: q.ids, stockIds: q.stock, kitIds: q.kits }, { layout: q.layout })
    const back = q.all ? filters.toString() : !q.all && q.ids.length === 0 && pools ? 'type=pools' : ''
    res.render('labels/sheet', {
      title: req.t('labels.sheetTitle'),
      layout: sheet.layout,
      layoutName: req.t(`labels.layout.${sheet.layout}`),
      pages: sheet.pages,
      count: sheet.count,
      total: sheet.total,
      capped: sheet.capped,
      cap: sheet.cap,
      missing: sheet.missing,
      backHref: back ? `/labels?${back}` : '/labels',
    })
  })

  // First run (issue 16): the sheet's print button tells the server a sheet went to the printer (the checklist's «print labels»).
  router.post('/labels/printed', requireRole('finance'), async (req, res) => {
    await recordLabelSheetPrinted(ctx, actorOf(req.user!), { count: str(req.body?.count), layout: str(req.body?.layout) })
    res.status(204).end()
  })

  // The scanner: camera where the browser allows it, and always a field for typing or a USB scanner.
  // Without JavaScript the field is a plain GET form, resolved here.
  router.get('/scan', requireSignIn, async (req, res) => {
    const raw = req.query.code
    const view = (status: number, value: string, error?: string) =>
      res.status(status).render('scan/index', { title: req.t('scan.title'), value, error, needsHttps: cameraNeedsHttps(req) })
    if (raw === undefined) {
      view(200, '')
      return
    }
    const input = str(raw as string | string[]) ?? ''
    const origins = [`${req.protocol}://${req.get('host') ?? ''}`]
    const result = await resolveScan(ctx, input.slice(0, 2000), origins)
    if (result.ok) {
      res.redirect(303, result.path)
      return
    }
    const message =
      result.reason === 'empty' ? req.t('scan.empty') : result.reason === 'foreign' ? req.t('scan.foreign', { host: result.host }) : req.t('scan.notALabel')
    view(422, input.slice(0, 2000), message)
  })

  return router
}
