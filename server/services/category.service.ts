import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import type { CategoryRow } from '../../db/schema.js'
import * as categories from '../repositories/category.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append, type Actor } from './audit.service.js'
import { parseOrThrow } from '../lib/validation.js'

export const categoryUpdateSchema = z.object({
  name: z.string({ error: 'validation.required' }).trim().min(1, { error: 'validation.required' }).max(200, { error: 'validation.tooLong' }),
  usefulLifeYears: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(1, { error: 'validation.min1' }).max(100),
  loanableDefault: z.boolean(),
  active: z.boolean().default(true),
})

export async function listCategories(ctx: AppContext): Promise<CategoryRow[]> {
  return categories.listAll(ctx.db)
}

export async function getCategory(ctx: AppContext, id: number): Promise<CategoryRow> {
  const row = await categories.findById(ctx.db, id)
  if (!row) throw new AppError('not_found', 'categories.notFound')
  return row
}

export async function findCategoryByCode(ctx: AppContext, code: string): Promise<CategoryRow | undefined> {
  return categories.findByCode(ctx.db, code.trim().toLowerCase())
}

/** The stable code stays (the API and imports use it); name, life and the loanable default are the agency's. */
export async function updateCategory(ctx: AppContext, actor: Actor, id: number, input: unknown): Promise<void> {
  const data = parseOrThrow(categoryUpdateSchema, input)
  await writeTransaction(ctx.db, async (trx) => {
    const before = await categories.findById(trx, id)
    if (!before) throw new AppError('not_found', 'categories.notFound')
    await categories.update(trx, id, {
      name: data.name,
      useful_life_years: data.usefulLifeYears,
      loanable_default: data.loanableDefault ? 1 : 0,
      active: data.active ? 1 : 0,
    })
    await append(trx, ctx.clock, actor, {
      action: 'category.updated',
      entity: 'category',
      entityId: id,
      data: {
        code: before.code,
        from: { name: before.name, usefulLifeYears: before.useful_life_years, loanableDefault: before.loanable_default === 1, active: before.active === 1 },
        to: data,
      },
    })
  })
}
