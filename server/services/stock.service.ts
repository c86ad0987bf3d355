import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import type { KitRow, StockItemRow } from '../../db/schema.js'
import * as stock from '../repositories/stock.repository.js'
import * as assets from '../repositories/asset.repository.js'
import * as categories from '../repositories/category.repository.js'
import type { HeldLine } from '../repositories/stock.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { addDays, bangkokDate, daysBetween } from '../i18n/calendar.js'
import { codeKey, normalizeCode } from '../i18n/format.js'
import { append, type Actor } from './audit.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { assetCodeSchema } from './asset.service.js'

/** Counted items (chairs, tent sets, plates) lent by quantity, and kits (SPEC §2). */

function today(ctx: AppContext): string {
  return bangkokDate(ctx.clock.now())
}

function fieldError(field: string, message: string, params?: Record<string, string | number>): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field, message, params }])
}

const count = (max = 1_000_000) =>
  z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(1, { error: 'validation.min1' }).max(max, { error: 'stock.tooMany' })

export const stockCreateSchema = z.object({
  code: assetCodeSchema,
  name: z.string({ error: 'validation.required' }).trim().min(1, { error: 'validation.required' }).max(300, { error: 'validation.tooLong' }),
  unit: z.string().trim().max(30, { error: 'validation.tooLong' }).default(''),
  quantity: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(0).max(1_000_000, { error: 'stock.tooMany' }),
  categoryId: z.number().int().positive().nullable().default(null),
  location: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  loanable: z.boolean().default(true),
  notes: z.string().trim().max(2000, { error: 'validation.tooLong' }).default(''),
})

export interface StockAvailability {
  owned: number
  inRepair: number
  out: number
  /** The most units held by open loans on any one day of the range. */
  held: number
  available: number
  /** The open loan holding the most on the busiest day: a refusal names it. */
  busiest?: { loanId: number; number: string; from: string; to: string; quantity: number }
}

function heldOf(line: HeldLine): number {
  // Approved: the whole request is reserved. On loan: what went out and has not come back.
  return line.status === 'approved' ? line.quantity : Math.max(0, line.handed_over_qty - line.returned)
}

/** Per-day peak of what open loans hold over [from, to]: two loans on different days do not add up. */
export function availabilityFrom(
  item: Pick<StockItemRow, 'quantity' | 'in_repair' | 'out_qty'>,
  lines: HeldLine[],
  from: string,
  to: string,
  t: string,
): StockAvailability {
  let held = 0
  let busiest: StockAvailability['busiest']
  const days = Math.min(daysBetween(from, to), 366)
  for (let i = 0; i <= days; i++) {
    const day = addDays(from, i)
    let sum = 0
    let top: HeldLine | undefined
    for (const l of lines) {
      const end = l.status === 'on_loan' && l.due_on < t ? t : l.due_on
      if (l.start_on <= day && day <= end) {
        const h = heldOf(l)
        sum += h
        if (!top || h > heldOf(top)) top = l
      }
    }
    if (sum > held) {
      held = sum
      busiest = top && { loanId: top.loan_id, number: `${top.seq}/${top.fiscal_year}`, from: top.start_on, to: top.due_on, quantity: heldOf(top) }
    }
  }
  return { owned: item.quantity, inRepair: item.in_repair, out: item.out_qty, held, available: Math.max(0, item.quantity - item.in_repair - held), busiest }
}

export async function stockAvailability(ctx: AppContext, item: StockItemRow, from: string, to: string, excludeLoanId?: number): Promise<StockAvailability> {
  const t = today(ctx)
  return availabilityFrom(item, await stock.heldLines(ctx.db, [item.id], from, to, t, excludeLoanId), from, to, t)
}

export async function getStockByCode(ctx: AppContext, rawCode: string): Promise<StockItemRow> {
  const row = await stock.findByCode(ctx.db, normalizeCode(rawCode))
  if (!row) throw new AppError('not_found', 'stock.notFound', { code: normalizeCode(rawCode) || rawCode })
  return row
}

export async function findStockByCode(ctx: AppContext, rawCode: string): Promise<StockItemRow | undefined> {
  const code = normalizeCode(rawCode)
  return code ? stock.findByCode(ctx.db, code) : undefined
}

export async function getStock(ctx: AppContext, id: number): Promise<StockItemRow> {
  const row = await stock.findById(ctx.db, id)
  if (!row) throw new AppError('not_found', 'stock.notFound', { code: String(id) })
  return row
}

export async function listStock(ctx: AppContext, f: { q?: string; page: number; pageSize: number }) {
  const { rows, total } = await stock.list(ctx.db, { q: f.q?.trim() || undefined, limit: f.pageSize, offset: (f.page - 1) * f.pageSize })
  return { items: rows, total }
}

export async function stockMovements(ctx: AppContext, id: number) {
  return stock.movementsOf(ctx.db, id)
}

async function assertCodeFree(db: AppContext['db'], code: string): Promise<void> {
  const used = await stock.codeInUse(db, code)
  if (used) throw new AppError('conflict', 'stock.codeTaken', { code }, [{ field: 'code', message: 'stock.codeTaken', params: { code } }])
}

export async function createStock(ctx: AppContext, actor: Actor, input: unknown): Promise<StockItemRow> {
  const data = parseOrThrow(stockCreateSchema, input)
  if (data.categoryId !== null && !(await categories.findById(ctx.db, data.categoryId))) throw fieldError('categoryId', 'asset.unknownCategory')
  return writeTransaction(ctx.db, async (trx) => {
    await assertCodeFree(trx, data.code)
    const at = ctx.clock.now().toISOString()
    const row = await stock.insert(trx, {
      code: data.code,
      name: data.name,
      unit: data.unit,
      category_id: data.categoryId,
      quantity: data.quantity,
      in_repair: 0,
      out_qty: 0,
      loanable: data.loanable ? 1 : 0,
      location: data.location,
      notes: data.notes,
      created_at: at,
      updated_at: at,
    })
    if (data.quantity > 0)
      await stock.insertMovement(trx, { stock_id: row.id, kind: 'stock_in', quantity: data.quantity, reason: '', loan_id: null, at, by_user_id: actor.id })
    await append(trx, ctx.clock, actor, {
      action: 'stock.created',
      entity: 'stock',
      entityId: row.id,
      data: { code: row.code, name: row.name, unit: row.unit, quantity: row.quantity },
    })
    return row
  })
}

export const STOCK_MOVES = ['stock_in', 'write_off', 'to_repair', 'from_repair', 'write_off_repair'] as const
export type StockMove = (typeof STOCK_MOVES)[number]

const moveSchema = z.object({
  move: z.enum(STOCK_MOVES, { error: 'stock.unknownMove' }),
  quantity: count(),
  reason: z.string({ error: 'stock.reasonRequired' }).trim().min(3, { error: 'stock.reasonRequired' }).max(1000, { error: 'validation.tooLong' }),
})

/**
 * Stock-in and write-off with a reason, and moves into and out of repair; each audited. A move
 * that would leave fewer units on hand than are out or in repair is refused by the database.
 */
export async function moveStock(ctx: AppContext, actor: Actor, id: number, input: unknown): Promise<StockItemRow> {
  const data = parseOrThrow(moveSchema, input)
  const n = data.quantity
  const delta: Record<StockMove, { quantity?: number; inRepair?: number }> = {
    stock_in: { quantity: n },
    write_off: { quantity: -n },
    to_repair: { inRepair: n },
    from_repair: { inRepair: -n },
    write_off_repair: { quantity: -n, inRepair: -n },
  }
  await writeTransaction(ctx.db, async (trx) => {
    const item = await stock.findById(trx, id)
    if (!item) throw new AppError('not_found', 'stock.notFound', { code: String(id) })
    const at = ctx.clock.now().toISOString()
    if (!(await stock.adjust(trx, id, delta[data.move], at))) {
      throw new AppError('conflict', 'stock.notEnoughOnHand', {
        code: item.code,
        onHand: item.quantity - item.in_repair - item.out_qty,
        inRepair: item.in_repair,
      })
    }
    // write_off_repair stays its own kind: the units in repair at a past date are summed from movements.
    await stock.insertMovement(trx, { stock_id: id, kind: data.move, quantity: n, reason: data.reason, loan_id: null, at, by_user_id: actor.id })
    await append(trx, ctx.clock, actor, {
      action: `stock.${data.move}`,
      entity: 'stock',
      entityId: id,
      data: { code: item.code, quantity: n, reason: data.reason },
    })
  })
  return (await stock.findById(ctx.db, id))!
}

// ---------------------------------------------------------------- kits

const kitSchema = z.object({
  code: assetCodeSchema,
  name: z.string({ error: 'validation.required' }).trim().min(1, { error: 'validation.required' }).max(300, { error: 'validation.tooLong' }),
  parts: z
    .array(z.object({ code: z.string({ error: 'validation.required' }).transform(normalizeCode), quantity: count(10_000).default(1) }), {
      error: 'kit.noParts',
    })
    .min(1, { error: 'kit.noParts' })
    .max(50),
  active: z.boolean().default(true),
})

async function resolveParts(trx: AppContext['db'], parts: z.output<typeof kitSchema>['parts']) {
  const out: Array<{ asset_id: number | null; stock_id: number | null; quantity: number }> = []
  const seen = new Set<string>()
  for (const p of parts) {
    if (seen.has(codeKey(p.code))) throw fieldError('parts', 'kit.duplicatePart', { code: p.code })
    seen.add(codeKey(p.code))
    const a = await assets.findByCode(trx, p.code)
    if (a) {
      if (p.quantity !== 1) throw fieldError('parts', 'kit.assetQuantity', { code: p.code })
      out.push({ asset_id: a.id, stock_id: null, quantity: 1 })
      continue
    }
    const s = await stock.findByCode(trx, p.code)
    if (!s) throw fieldError('parts', 'kit.unknownPart', { code: p.code })
    out.push({ asset_id: null, stock_id: s.id, quantity: p.quantity })
  }
  return out
}

export async function createKit(ctx: AppContext, actor: Actor, input: unknown): Promise<KitRow> {
  const data = parseOrThrow(kitSchema, input)
  return writeTransaction(ctx.db, async (trx) => {
    await assertCodeFree(trx, data.code)
    const parts = await resolveParts(trx, data.parts)
    const at = ctx.clock.now().toISOString()
    const kit = await stock.insertKit(trx, { code: data.code, name: data.name, active: data.active ? 1 : 0, created_at: at, updated_at: at })
    await stock.replaceKitParts(trx, kit.id, parts)
    await append(trx, ctx.clock, actor, { action: 'kit.created', entity: 'kit', entityId: kit.id, data: { code: kit.code, name: kit.name, parts: data.parts } })
    return kit
  })
}

export async function updateKit(ctx: AppContext, actor: Actor, id: number, input: unknown): Promise<KitRow> {
  const data = parseOrThrow(kitSchema, input)
  await writeTransaction(ctx.db, async (trx) => {
    const kit = await stock.findKitById(trx, id)
    if (!kit) throw new AppError('not_found', 'kit.notFound')
    if (data.code !== kit.code) await assertCodeFree(trx, data.code)
    const parts = await resolveParts(trx, data.parts)
    await stock.updateKit(trx, id, { code: data.code, name: data.name, active: data.active ? 1 : 0, updated_at: ctx.clock.now().toISOString() })
    await stock.replaceKitParts(trx, id, parts)
    await append(trx, ctx.clock, actor, {
      action: 'kit.updated',
      entity: 'kit',
      entityId: id,
      data: { code: data.code, name: data.name, parts: data.parts, active: data.active },
    })
  })
  return (await stock.findKitById(ctx.db, id))!
}

export interface KitView {
  kit: KitRow
  parts: Array<{ kind: 'asset' | 'stock'; code: string; name: string; quantity: number; unit: string }>
}

export async function listKits(ctx: AppContext): Promise<KitView[]> {
  const kits = await stock.listKits(ctx.db)
  const parts = await stock.kitParts(
    ctx.db,
    kits.map((k) => k.id),
  )
  return kits.map((kit) => ({
    kit,
    parts: parts
      .filter((p) => p.kit_id === kit.id)
      .map((p) =>
        p.asset_id
          ? { kind: 'asset' as const, code: p.asset_code!, name: p.asset_name!, quantity: 1, unit: '' }
          : { kind: 'stock' as const, code: p.stock_code!, name: p.stock_name!, quantity: p.quantity, unit: p.unit ?? '' },
      ),
  }))
}

export async function findKitByCode(ctx: AppContext, rawCode: string): Promise<KitView | undefined> {
  const kit = await stock.findKitByCode(ctx.db, normalizeCode(rawCode))
  if (!kit) return undefined
  return (await listKits(ctx)).find((k) => k.kit.id === kit.id)
}

export async function getKit(ctx: AppContext, id: number): Promise<KitView> {
  const k = (await listKits(ctx)).find((v) => v.kit.id === id)
  if (!k) throw new AppError('not_found', 'kit.notFound')
  return k
}

/** The API's Stock object (SPEC §5). */
export function toApiStock(item: StockItemRow, a: StockAvailability) {
  return { code: item.code, name: item.name, unit: item.unit, quantity: item.quantity, inRepair: item.in_repair, available: a.available }
}

export interface ScannedLine {
  code: string
  quantity?: number
}

/**
 * Turns what was scanned or typed at the counter or in a cart — asset codes, counted-item codes
 * with a quantity, kit codes — into a loan's asset codes and stock lines. A kit adds each of its
 * parts; quantities of the same counted item add up. Unknown codes are named.
 */
export async function expandScanned(
  ctx: AppContext,
  lines: ScannedLine[],
): Promise<{ assetCodes: string[]; stock: Array<{ code: string; quantity: number }> }> {
  const assetCodes: string[] = []
  const stockQty = new Map<string, number>()
  const addAsset = (code: string) => {
    if (!assetCodes.includes(code)) assetCodes.push(code)
  }
  const addStock = (code: string, n: number) => stockQty.set(code, (stockQty.get(code) ?? 0) + n)
  for (const raw of lines) {
    const code = normalizeCode(raw.code)
    if (!code) continue
    const qty = raw.quantity ?? 1
    if (!Number.isInteger(qty) || qty < 1 || qty > 100_000) throw fieldError('items', 'validation.min1')
    if (await assets.findByCode(ctx.db, code)) {
      addAsset(code)
      continue
    }
    if (await stock.findByCode(ctx.db, code)) {
      addStock(code, qty)
      continue
    }
    const kit = await findKitByCode(ctx, code)
    if (kit && kit.kit.active === 1) {
      for (let i = 0; i < qty; i++) {
        for (const p of kit.parts) {
          if (p.kind === 'asset') addAsset(p.code)
          else addStock(p.code, p.quantity)
        }
      }
      continue
    }
    throw fieldError('items', 'kit.unknownPart', { code })
  }
  return { assetCodes, stock: [...stockQty].map(([code, quantity]) => ({ code, quantity })) }
}
