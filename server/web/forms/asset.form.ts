import type { Request } from 'express'
import { ASSET_STATUSES, type AssetStatus } from '../../../db/schema.js'
import { bodyOf, checkbox, num, optionalId, pageParam, str } from './common.form.js'

export function assetForm(req: Request) {
  const b = bodyOf(req)
  const acquired = str(b.acquiredOn)?.trim()
  return {
    code: str(b.code) ?? '',
    name: str(b.name) ?? '',
    categoryId: optionalId(b.categoryId) ?? undefined,
    brandModel: str(b.brandModel) ?? '',
    serialNumber: str(b.serialNumber) ?? '',
    departmentId: optionalId(b.departmentId),
    location: str(b.location) ?? '',
    acquiredOn: acquired ? acquired : null,
    price: str(b.price)?.trim() ?? '',
    usefulLifeYears: num(b.usefulLifeYears) ?? null,
    fundingSource: str(b.fundingSource) ?? '',
    loanable: checkbox(b.loanable),
    maxLoanDays: num(b.maxLoanDays) ?? null,
    notes: str(b.notes) ?? '',
  }
}

/** The register's query string: unknown values are dropped on pages (the API refuses them). */
export function assetQuery(query: Request['query']) {
  const s = (k: string) => (typeof query[k] === 'string' ? (query[k] as string).trim().slice(0, 100) : '')
  const status = s('status')
  const loanable = s('loanable')
  return {
    q: s('q'),
    category: s('category'),
    department: s('department'),
    status: (ASSET_STATUSES as readonly string[]).includes(status) ? (status as AssetStatus) : undefined,
    loanable: loanable === '1' ? true : loanable === '0' ? false : undefined,
    page: pageParam(query.page),
  }
}
