import { Router, type Request } from 'express'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import { ASSET_STATUSES, type AssetStatus } from '../../db/schema.js'
import { actorOf } from '../services/user.service.js'
import { createAsset, getAssetByCode, listAssets, type AssetListRow } from '../services/asset.service.js'
import { findCategoryByCode } from '../services/category.service.js'
import { findDepartmentByCode } from '../services/department.service.js'
import { currentLoansOf } from '../services/loan.service.js'
import { requireRole, requireSignIn } from '../http/middleware/auth.js'
import { bodyObject } from './json.js'
import { listParams } from './list-params.js'

/** The Asset object of SPEC §5; `currentLoan` is the loan the asset is out on now (from loan.service's currentLoansOf), else null. */
export function toApiAsset(a: AssetListRow, currentLoan: { id: number; number: string; dueDate: string } | null = null) {
  return {
    code: a.code,
    name: a.name,
    category: a.category_code,
    department: a.department_code,
    location: a.location,
    acquiredOn: a.acquired_on,
    price: a.price_satang === null ? null : a.price_satang / 100,
    status: a.status,
    loanable: a.loanable === 1,
    maxLoanDays: a.max_loan_days,
    currentLoan,
  }
}

function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string')
    throw new AppError('validation_failed', 'validation.unknownFilter', { param: name }, [{ field: name, message: 'validation.invalid' }])
  return v
}

export function assetsApi(ctx: AppContext): Router {
  const router = Router()

  router.get('/assets', requireSignIn, async (req, res) => {
    const { page, pageSize } = listParams(req)
    const status = queryString(req, 'status')
    if (status !== undefined && !(ASSET_STATUSES as readonly string[]).includes(status)) {
      throw new AppError('validation_failed', 'validation.unknownFilter', { param: 'status' }, [{ field: 'status', message: 'asset.unknownStatus' }])
    }
    const { items, total } = await listAssets(ctx, {
      q: queryString(req, 'q')?.trim().slice(0, 100) || undefined,
      category: queryString(req, 'category') || undefined,
      status: status as AssetStatus | undefined,
      page,
      pageSize,
    })
    const loans = await currentLoansOf(
      ctx,
      items.map((a) => a.id),
    )
    res.json({ items: items.map((a) => toApiAsset(a, loans.get(a.id) ?? null)), total, page, pageSize })
  })

  router.post('/assets', requireRole('finance'), async (req, res) => {
    const b = bodyObject(req)
    const details: Array<{ field: string; message: string }> = []
    const category = typeof b.category === 'string' ? await findCategoryByCode(ctx, b.category) : undefined
    if (!category) details.push({ field: 'category', message: b.category === undefined ? 'validation.required' : 'asset.unknownCategory' })
    let departmentId: number | null = null
    if (b.department !== undefined && b.department !== null && b.department !== '') {
      const dep = typeof b.department === 'string' ? await findDepartmentByCode(ctx, b.department) : undefined
      if (!dep) details.push({ field: 'department', message: 'user.unknownDepartment' })
      else departmentId = dep.id
    }
    if (details.length > 0) throw new AppError('validation_failed', 'validation.failed', {}, details)
    const created = await createAsset(ctx, actorOf(req.user!), {
      code: b.code,
      name: b.name,
      categoryId: category!.id,
      departmentId,
      location: b.location ?? '',
      acquiredOn: b.acquiredOn ?? null,
      price: b.price ?? null,
      loanable: b.loanable,
      maxLoanDays: b.maxLoanDays ?? null,
      brandModel: b.brandModel ?? '',
      serialNumber: b.serialNumber ?? '',
      fundingSource: b.fundingSource ?? '',
      notes: b.notes ?? '',
    })
    res.status(201).json(toApiAsset(created))
  })

  // `*code`: a code may hold an unencoded '/', e.g. กค/2567/01.
  router.get('/assets/*code', requireSignIn, async (req, res) => {
    const raw = req.params.code as unknown
    const code = Array.isArray(raw) ? raw.join('/') : String(raw)
    const asset = await getAssetByCode(ctx, code)
    res.json(toApiAsset(asset, (await currentLoansOf(ctx, [asset.id])).get(asset.id) ?? null))
  })

  return router
}
