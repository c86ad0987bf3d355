import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { ASSET_STATUSES } from '../../../db/schema.js'
import {
  allowedRegisterMoves,
  assetHistory,
  changeAssetStatus,
  createAsset,
  getAsset,
  listAssets,
  updateAsset,
  type AssetListRow,
} from '../../services/asset.service.js'
import { listCategories } from '../../services/category.service.js'
import { listDepartments } from '../../services/department.service.js'
import { actorOf, hasRole } from '../../services/user.service.js'
import { formatSatang } from '../../i18n/format.js'
import { requireRole, requireSignIn } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, fieldErrors, idParam, str } from '../forms/common.form.js'
import { assetForm, assetQuery } from '../forms/asset.form.js'
import { bangkokDate } from '../../i18n/calendar.js'
import { assetLoanView, buildCalendar, isRequestable } from '../loan-views.js'
import { cartHasAsset } from '../cart-state.js'

const PAGE_SIZE = 50

function formValues(a: AssetListRow) {
  return {
    code: a.code,
    name: a.name,
    categoryId: a.category_id,
    brandModel: a.brand_model,
    serialNumber: a.serial_number,
    departmentId: a.department_id,
    location: a.location,
    acquiredOn: a.acquired_on ?? '',
    price: a.price_satang === null ? '' : formatSatang(a.price_satang),
    usefulLifeYears: a.useful_life_years ?? '',
    fundingSource: a.funding_source,
    loanable: a.loanable === 1,
    maxLoanDays: a.max_loan_days ?? '',
    notes: a.notes,
  }
}

export function assetRoutes(ctx: AppContext): Router {
  const router = Router()

  router.get('/assets', requireSignIn, async (req, res) => {
    const user = req.user!
    const query = assetQuery(req.query)
    // A borrower browses what can be lent; the register as a whole is for finance and reviewers.
    const registerView = hasRole(user, 'finance', 'executive', 'committee', 'admin')
    const filter = registerView ? query : { ...query, loanable: true, status: query.status === 'disposed' ? undefined : query.status }
    const [categories, departments] = [await listCategories(ctx), await listDepartments(ctx)]
    let result: { items: AssetListRow[]; total: number }
    try {
      result = await listAssets(ctx, { ...filter, pageSize: PAGE_SIZE })
    } catch (e) {
      if (!(isAppError(e) && e.code === 'validation_failed')) throw e
      result = { items: [], total: 0 }
    }
    res.render('assets/index', {
      title: req.t('assets.title'),
      query,
      registerView,
      canEdit: hasRole(user, 'finance'),
      categories,
      departments,
      statuses: ASSET_STATUSES,
      total: result.total,
      page: query.page,
      pages: Math.max(1, Math.ceil(result.total / PAGE_SIZE)),
      assets: result.items.map((a) => ({
        id: a.id,
        code: a.code,
        name: a.name,
        category: a.category_name,
        department: a.department_name ?? '',
        location: a.location,
        status: a.status,
        loanable: a.loanable === 1,
        price: a.price_satang === null ? '' : formatSatang(a.price_satang),
        canRequest: isRequestable(a) && hasRole(user, 'staff', 'finance'),
        inCart: cartHasAsset(req.session, a.code),
      })),
      backUrl: req.originalUrl,
    })
  })

  async function renderForm(
    req: Request,
    res: Response,
    status: number,
    model: { id?: number; values: Record<string, unknown>; errors?: Record<string, string> },
  ) {
    const categories = await listCategories(ctx)
    res.status(status).render('assets/form', {
      title: req.t(model.id ? 'asset.edit' : 'asset.new'),
      id: model.id,
      values: model.values,
      errors: model.errors ?? {},
      categories: categories.filter((c) => c.active === 1 || c.id === model.values.categoryId),
      departments: (await listDepartments(ctx)).filter((d) => d.active === 1 || d.id === model.values.departmentId),
    })
  }

  router.get('/assets/new', requireRole('finance'), (req, res) =>
    renderForm(req, res, 200, { values: { loanable: true, departmentId: null, categoryId: null } }),
  )

  router.post('/assets', requireRole('finance'), async (req, res) => {
    const input = assetForm(req)
    try {
      const a = await createAsset(ctx, actorOf(req.user!), input)
      flash(req, 'success', 'asset.created', { code: a.code })
      res.redirect(303, `/assets/${a.id}`)
    } catch (e) {
      if (!(isAppError(e) && e.details)) throw e
      await renderForm(req, res, e.status, { values: input, errors: fieldErrors(e.details, req.t) })
    }
  })

  async function renderShow(
    req: Request,
    res: Response,
    status: number,
    id: number,
    statusForm: { errors: Record<string, string>; values: Record<string, string> },
  ) {
    const a = await getAsset(ctx, id)
    const user = req.user!
    const registerView = hasRole(user, 'finance', 'executive', 'committee', 'admin')
    if (!registerView && (a.loanable !== 1 || a.status === 'disposed')) throw new AppError('not_found', 'asset.notFound', { code: a.code })
    const loanView = await assetLoanView(ctx, user, a.id)
    res.status(status).render('assets/show', {
      title: `${a.code} ${a.name}`,
      asset: {
        ...formValues(a),
        id: a.id,
        status: a.status,
        category: a.category_name,
        categoryLife: a.category_life,
        department: a.department_name ?? '',
      },
      registerView,
      canEdit: hasRole(user, 'finance'),
      moves: allowedRegisterMoves(a.status),
      history: registerView ? await assetHistory(ctx, a.id) : [],
      holder: loanView.holder,
      reservations: loanView.reservations,
      calendar: buildCalendar(loanView.state, bangkokDate(ctx.clock.now()), req.locale),
      canRequest: isRequestable(a) && hasRole(user, 'staff', 'finance'),
      inCart: cartHasAsset(req.session, a.code),
      statusForm,
    })
  }

  router.get('/assets/:id', requireSignIn, async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'asset.notFound', { code: String(req.params.id) })
    await renderShow(req, res, 200, id, { errors: {}, values: {} })
  })

  router.get('/assets/:id/edit', requireRole('finance'), async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'asset.notFound', { code: String(req.params.id) })
    const a = await getAsset(ctx, id)
    await renderForm(req, res, 200, { id, values: formValues(a) })
  })

  router.post('/assets/:id', requireRole('finance'), async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'asset.notFound', { code: String(req.params.id) })
    await getAsset(ctx, id)
    const input = assetForm(req)
    try {
      await updateAsset(ctx, actorOf(req.user!), id, input)
      flash(req, 'success', 'asset.saved')
      res.redirect(303, `/assets/${id}`)
    } catch (e) {
      if (!(isAppError(e) && e.details)) throw e
      await renderForm(req, res, e.status, { id, values: input, errors: fieldErrors(e.details, req.t) })
    }
  })

  router.post('/assets/:id/status', requireRole('finance'), async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'asset.notFound', { code: String(req.params.id) })
    const b = bodyOf(req)
    const values = { status: str(b.status) ?? '', reason: str(b.reason) ?? '' }
    try {
      const a = await changeAssetStatus(ctx, actorOf(req.user!), id, values)
      flash(req, 'success', 'asset.statusChanged', { status: req.t(`asset.status.${a.status}`) })
      res.redirect(303, `/assets/${id}`)
    } catch (e) {
      if (!isAppError(e) || e.status >= 500 || e.code === 'not_found') throw e
      const errors = e.details ? fieldErrors(e.details, req.t) : { _: req.t(e.messageKey, e.params) }
      await renderShow(req, res, e.status, id, { errors, values })
    }
  })

  return router
}
