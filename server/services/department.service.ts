import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import type { DepartmentRow } from '../../db/schema.js'
import * as departments from '../repositories/department.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append, type Actor } from './audit.service.js'
import { parseOrThrow } from '../lib/validation.js'

export const departmentSchema = z.object({
  code: z
    .string({ error: 'validation.required' })
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, { error: 'department.codeFormat' }),
  name: z.string({ error: 'validation.required' }).trim().min(1, { error: 'validation.required' }).max(200, { error: 'validation.tooLong' }),
  sortOrder: z.number().int().min(0).max(100000).default(0),
  active: z.boolean().default(true),
})

export async function listDepartments(ctx: AppContext): Promise<DepartmentRow[]> {
  return departments.listAll(ctx.db)
}

export async function getDepartment(ctx: AppContext, id: number): Promise<DepartmentRow> {
  const row = await departments.findById(ctx.db, id)
  if (!row) throw new AppError('not_found', 'department.notFound')
  return row
}

export async function createDepartment(ctx: AppContext, actor: Actor, input: unknown): Promise<DepartmentRow> {
  const data = parseOrThrow(departmentSchema, input)
  return writeTransaction(ctx.db, async (trx) => {
    if (await departments.findByCode(trx, data.code)) {
      throw new AppError('conflict', 'department.codeTaken', { code: data.code }, [
        { field: 'code', message: 'department.codeTaken', params: { code: data.code } },
      ])
    }
    const row = await departments.insert(trx, {
      code: data.code,
      name: data.name,
      sort_order: data.sortOrder,
      active: data.active ? 1 : 0,
      created_at: ctx.clock.now().toISOString(),
    })
    await append(trx, ctx.clock, actor, { action: 'department.created', entity: 'department', entityId: row.id, data: { code: row.code, name: row.name } })
    return row
  })
}

export async function updateDepartment(ctx: AppContext, actor: Actor, id: number, input: unknown): Promise<void> {
  const data = parseOrThrow(departmentSchema, input)
  await writeTransaction(ctx.db, async (trx) => {
    const before = await departments.findById(trx, id)
    if (!before) throw new AppError('not_found', 'department.notFound')
    const clash = await departments.findByCode(trx, data.code)
    if (clash && clash.id !== id) {
      throw new AppError('conflict', 'department.codeTaken', { code: data.code }, [
        { field: 'code', message: 'department.codeTaken', params: { code: data.code } },
      ])
    }
    await departments.update(trx, id, { code: data.code, name: data.name, sort_order: data.sortOrder, active: data.active ? 1 : 0 })
    await append(trx, ctx.clock, actor, {
      action: 'department.updated',
      entity: 'department',
      entityId: id,
      data: {
        from: { code: before.code, name: before.name, sortOrder: before.sort_order, active: before.active === 1 },
        to: data,
      },
    })
  })
}

export async function findDepartmentByCode(ctx: AppContext, code: string): Promise<DepartmentRow | undefined> {
  return departments.findByCode(ctx.db, code.trim().toLowerCase())
}
