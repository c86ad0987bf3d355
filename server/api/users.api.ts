import { Router } from 'express'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import { actorOf, createUser, getUser } from '../services/user.service.js'
import { findDepartmentByCode } from '../services/department.service.js'
import { requireRole } from '../http/middleware/auth.js'
import { bodyObject } from './json.js'

export function usersApi(ctx: AppContext): Router {
  const router = Router()

  router.post('/users', requireRole('admin'), async (req, res) => {
    const b = bodyObject(req)
    let departmentId: number | null = null
    if (b.department !== undefined && b.department !== null && b.department !== '') {
      const dep = typeof b.department === 'string' ? await findDepartmentByCode(ctx, b.department) : undefined
      if (!dep) throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'department', message: 'user.unknownDepartment' }])
      departmentId = dep.id
    }
    const created = await createUser(ctx, actorOf(req.user!), {
      username: b.username,
      password: b.password,
      name: b.name,
      position: b.position ?? '',
      phone: b.phone ?? '',
      email: b.email ?? '',
      borrowerType: b.borrowerType ?? 'employee',
      locale: b.locale ?? 'th',
      roles: b.roles,
      departmentId,
    })
    const { user, roles } = await getUser(ctx, created.id)
    res.status(201).json({
      id: user.id,
      username: user.username,
      name: user.name,
      position: user.position,
      department: typeof b.department === 'string' && departmentId !== null ? b.department : null,
      roles,
      active: user.active === 1,
    })
  })

  return router
}
