import { bodyOf, checkbox, list, optionalId, str, type FormBody } from './common.form.js'
import type { Request } from 'express'

function profile(b: FormBody) {
  return {
    name: str(b.name) ?? '',
    position: str(b.position) ?? '',
    phone: str(b.phone) ?? '',
    email: str(b.email) ?? '',
    departmentId: optionalId(b.departmentId),
    borrowerType: str(b.borrowerType) || undefined,
    locale: str(b.locale) || undefined,
    roles: list(b.roles),
  }
}

export function createUserForm(req: Request) {
  const b = bodyOf(req)
  return { username: str(b.username) ?? '', password: str(b.password) ?? '', ...profile(b) }
}

export function updateUserForm(req: Request) {
  const b = bodyOf(req)
  return { ...profile(b), active: checkbox(b.active) }
}
