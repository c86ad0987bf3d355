import type { Request } from 'express'
import { AppError } from '../errors.js'

/** `page` (from 1) and `pageSize` (default 50, at most 200); anything else is a 422 naming the parameter. */
export function listParams(req: Request): { page: number; pageSize: number } {
  const read = (name: string, def: number, max: number) => {
    const v = req.query[name]
    if (v === undefined || v === '') return def
    if (typeof v !== 'string' || !/^\d{1,6}$/.test(v) || Number(v) < 1 || Number(v) > max) {
      throw new AppError('validation_failed', 'validation.unknownFilter', { param: name }, [{ field: name, message: 'validation.invalid' }])
    }
    return Number(v)
  }
  return { page: read('page', 1, 1_000_000), pageSize: read('pageSize', 50, 200) }
}
