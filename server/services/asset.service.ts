import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import { ASSET_STATUSES, type AssetRow, type AssetStatus, type CategoryRow } from '../../db/schema.js'
import * as assets from '../repositories/asset.repository.js'
import type { AssetListRow } from '../repositories/asset.repository.js'
import * as categories from '../repositories/category.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import * as departments from '../repositories/department.repository.js'
import * as users from '../repositories/user.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { bangkokDate, dateMessageKey, parseIsoDate } from '../i18n/calendar.js'
import { codeKey, normalizeCode } from '../i18n/format.js'
import { bahtAsSatangSchema } from '../lib/money.js'
import { append, listEntries, type Actor, type AuditEntryView } from './audit.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { ASSET_CODE_MAX, ASSET_CODE_PATTERN, allowedRegisterMoves, checkRegisterStatusChange } from './asset-rules.js'

export type { AssetListRow }

export function normalizeAssetCode(raw: string): string {
  return normalizeCode(raw)
}

export const assetCodeSchema = z
  .string({ error: 'validation.required' })
  .transform(normalizeAssetCode)
  .pipe(
    z
      .string()
      .min(1, { error: 'validation.required' })
      .max(ASSET_CODE_MAX, { error: 'asset.codeTooLong' })
      .regex(ASSET_CODE_PATTERN, { error: 'asset.codeFormat' }),
  )

const isoDate = z.string({ error: 'asset.badDate' }).superRefine((s, c) => {
  const r = parseIsoDate(s)
  // A Buddhist-era year (2569-01-01) gets the hint to type the Common Era year.
  if (!r.ok) c.addIssue({ code: 'custom', message: dateMessageKey(r.reason) })
})
const optionalText = (max: number) => z.string({ error: 'validation.invalid' }).trim().max(max, { error: 'validation.tooLong' }).default('')

export const assetInputSchema = z.object({
  code: assetCodeSchema,
  name: z.string({ error: 'validation.required' }).trim().min(1, { error: 'validation.required' }).max(300, { error: 'validation.tooLong' }),
  categoryId: z.number({ error: 'asset.unknownCategory' }).int().positive(),
  brandModel: optionalText(200),
  serialNumber: optionalText(200),
  departmentId: z.number().int().positive().nullable().default(null),
  location: optionalText(200),
  acquiredOn: isoDate.nullable().default(null),
  price: bahtAsSatangSchema,
  usefulLifeYears: z
    .number({ error: 'validation.integer' })
    .int({ error: 'validation.integer' })
    .min(1, { error: 'validation.min1' })
    .max(100)
    .nullable()
    .default(null),
  fundingSource: optionalText(200),
  loanable: z.boolean().optional(),
  maxLoanDays: z
    .number({ error: 'validation.integer' })
    .int({ error: 'validation.integer' })
    .min(1, { error: 'validation.min1' })
    .max(365)
    .nullable()
    .default(null),
  notes: optionalText(2000),
})
export type AssetInput = z.input<typeof assetInputSchema>
type ParsedAsset = z.output<typeof assetInputSchema>

export const statusChangeSchema = z.object({
  status: z.enum(ASSET_STATUSES, { error: 'asset.unknownStatus' }),
  reason: z.string({ error: 'asset.reasonRequired' }).trim().min(3, { error: 'asset.reasonRequired' }).max(1000, { error: 'validation.tooLong' }),
})

function fieldError(field: string, message: string): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field, message }])
}

async function resolveRefs(ctx: AppContext, data: ParsedAsset): Promise<CategoryRow> {
  const category = await categories.findById(ctx.db, data.categoryId)
  if (!category) throw fieldError('categoryId', 'asset.unknownCategory')
  if (data.departmentId !== null && !(await departments.findById(ctx.db, data.departmentId))) throw fieldError('departmentId', 'user.unknownDepartment')
  return category
}

/** The stored columns of an asset from validated input (create, edit and import share it). */
export function assetColumns(data: ParsedAsset, category: CategoryRow) {
  return {
    code: data.code,
    name: data.name,
    category_id: data.categoryId,
    brand_model: data.brandModel,
    serial_number: data.serialNumber,
    department_id: data.departmentId,
    location: data.location,
    acquired_on: data.acquiredOn,
    price_satang: data.price,
    useful_life_years: data.usefulLifeYears,
    funding_source: data.fundingSource,
    loanable: (data.loanable ?? category.loanable_default === 1) ? 1 : 0,
    max_loan_days: data.maxLoanDays,
    notes: data.notes,
  }
}

export async function createAsset(ctx: AppContext, actor: Actor, input: unknown): Promise<AssetListRow> {
  const data = parseOrThrow(assetInputSchema, input)
  const category = await resolveRefs(ctx, data)
  const id = await writeTransaction(ctx.db, async (trx) => {
    // One code space for assets, counted items and kits: a label has one meaning.
    if (await stockRepo.codeInUse(trx, data.code)) {
      throw new AppError('conflict', 'asset.codeTaken', { code: data.code }, [{ field: 'code', message: 'asset.codeTaken', params: { code: data.code } }])
    }
    const now = ctx.clock.now().toISOString()
    const row = await assets.insert(
      trx,
      { ...assetColumns(data, category), status: 'available', created_at: now, updated_at: now },
      bangkokDate(ctx.clock.now()),
    )
    await append(trx, ctx.clock, actor, { action: 'asset.created', entity: 'asset', entityId: row.id, data: { code: row.code, ...auditView(row) } })
    return row.id
  })
  return (await assets.findById(ctx.db, id))!
}

/** The columns an auditor reads in a diff (price in satang, as stored). */
function auditView(row: Partial<AssetRow>): Record<string, unknown> {
  const { id: _id, created_at: _c, updated_at: _u, code_key: _k, ...rest } = row as AssetRow
  return rest
}

export async function updateAsset(ctx: AppContext, actor: Actor, id: number, input: unknown): Promise<AssetListRow> {
  const data = parseOrThrow(assetInputSchema, input)
  const category = await resolveRefs(ctx, data)
  await writeTransaction(ctx.db, async (trx) => {
    const before = await assets.findById(trx, id)
    if (!before) throw new AppError('not_found', 'asset.notFound', { code: String(id) })
    const clash = await assets.findByCode(trx, data.code)
    if ((clash && clash.id !== id) || (!clash && (await stockRepo.codeInUse(trx, data.code))))
      throw new AppError('conflict', 'asset.codeTaken', { code: data.code }, [{ field: 'code', message: 'asset.codeTaken', params: { code: data.code } }])
    const next = assetColumns(data, category)
    const changed: Record<string, { from: unknown; to: unknown }> = {}
    for (const [k, v] of Object.entries(next)) {
      const old = before[k as keyof typeof next]
      if (old !== v) changed[k] = { from: old, to: v }
    }
    if (Object.keys(changed).length === 0) return
    await assets.update(trx, id, { ...next, updated_at: ctx.clock.now().toISOString() })
    await append(trx, ctx.clock, actor, { action: 'asset.updated', entity: 'asset', entityId: id, data: { code: data.code, changed } })
  })
  return (await assets.findById(ctx.db, id))!
}

/** An explicit, audited register action with a reason (SPEC §2); never into or out of `on_loan`. */
export async function changeAssetStatus(ctx: AppContext, actor: Actor, id: number, input: unknown): Promise<AssetListRow> {
  const data = parseOrThrow(statusChangeSchema, input)
  await writeTransaction(ctx.db, async (trx) => {
    const before = await assets.findById(trx, id)
    if (!before) throw new AppError('not_found', 'asset.notFound', { code: String(id) })
    const check = checkRegisterStatusChange(before.status, data.status)
    if (!check.ok) throw new AppError('invalid_state', `asset.statusChange.${check.reason}`, { from: before.status, to: data.status })
    const at = ctx.clock.now().toISOString()
    // Conditional on the status read above, so that a concurrent hand-over cannot be overwritten.
    if (!(await assets.setStatus(trx, id, before.status, data.status, at, bangkokDate(ctx.clock.now()))))
      throw new AppError('conflict', 'asset.changedMeanwhile')
    await append(trx, ctx.clock, actor, {
      action: 'asset.status_changed',
      entity: 'asset',
      entityId: id,
      data: { code: before.code, from: before.status, to: data.status, reason: data.reason },
    })
  })
  return (await assets.findById(ctx.db, id))!
}

export async function getAssetByCode(ctx: AppContext, rawCode: string): Promise<AssetListRow> {
  const code = normalizeAssetCode(rawCode)
  const row = code ? await assets.findByCode(ctx.db, code) : undefined
  if (!row) throw new AppError('not_found', 'asset.notFound', { code: code || rawCode })
  return row
}

export async function findAssetByCode(ctx: AppContext, rawCode: string): Promise<AssetListRow | undefined> {
  const code = normalizeAssetCode(rawCode)
  return code ? assets.findByCode(ctx.db, code) : undefined
}

export async function getAsset(ctx: AppContext, id: number): Promise<AssetListRow> {
  const row = await assets.findById(ctx.db, id)
  if (!row) throw new AppError('not_found', 'asset.notFound', { code: String(id) })
  return row
}

export interface AssetListQuery {
  q?: string
  category?: string // category code
  department?: string // department code
  status?: AssetStatus
  loanable?: boolean
  page: number
  pageSize: number
}

/** Lists the register; an unknown category or department code is a validation error naming the parameter. */
export async function listAssets(ctx: AppContext, f: AssetListQuery): Promise<{ items: AssetListRow[]; total: number }> {
  let categoryId: number | undefined
  let departmentId: number | undefined
  if (f.category) {
    const c = await categories.findByCode(ctx.db, f.category)
    if (!c)
      throw new AppError('validation_failed', 'validation.unknownFilter', { param: 'category' }, [{ field: 'category', message: 'asset.unknownCategory' }])
    categoryId = c.id
  }
  if (f.department) {
    const d = await departments.findByCode(ctx.db, f.department)
    if (!d)
      throw new AppError('validation_failed', 'validation.unknownFilter', { param: 'department' }, [{ field: 'department', message: 'user.unknownDepartment' }])
    departmentId = d.id
  }
  const { rows, total } = await assets.list(ctx.db, {
    q: f.q?.trim() || undefined,
    qCode: f.q?.trim() ? codeKey(f.q) : undefined,
    categoryId,
    departmentId,
    status: f.status,
    loanable: f.loanable,
    limit: f.pageSize,
    offset: (f.page - 1) * f.pageSize,
  })
  return { items: rows, total }
}

/**
 * An asset's history, newest first, each entry with the actor as people know them: the user's name
 * («นางสาวสมศรี ใจดี»), not the username the audit log keeps; the system and the CLI keep their label.
 */
export async function assetHistory(ctx: AppContext, id: number): Promise<AuditEntryView[]> {
  const items = (await listEntries(ctx.db, { entity: 'asset', entityId: String(id), page: 1, pageSize: 200 })).items
  const names = new Map<number, string>()
  for (const actorId of new Set(items.map((h) => h.actorId))) {
    if (actorId === null) continue
    const name = (await users.findById(ctx.db, actorId))?.name.trim()
    if (name) names.set(actorId, name)
  }
  return items.map((h) => ({ ...h, actorLabel: (h.actorId !== null && names.get(h.actorId)) || h.actorLabel }))
}

export { allowedRegisterMoves }

/** Iterates the whole register in code order, a chunk at a time (exports). */
export async function* eachAsset(ctx: AppContext, chunk = 1000): AsyncGenerator<AssetListRow[]> {
  let after = ''
  for (;;) {
    const rows = await assets.chunkAfter(ctx.db, after, chunk)
    if (rows.length === 0) return
    yield rows
    after = rows[rows.length - 1]!.code
    if (rows.length < chunk) return
  }
}
