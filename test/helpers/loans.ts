import supertest from 'supertest'
import type { Role } from '../../db/schema.js'
import { apiToken, type TestApp } from './app.js'
import { makeUser } from './builders.js'
import { query } from './db.js'

export interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> }
}

/** A user with the roles and a bearer token for them, through the real token endpoint. */
export async function withToken(t: TestApp, roles: Role[], overrides: Parameters<typeof makeUser>[2] = {}) {
  const user = await makeUser(t.ctx, roles, overrides)
  const token = await apiToken(t.app, user.username, user.password)
  return { user, token }
}

/** JSON API calls as one caller (no token: anonymous). */
export function apiAs(t: TestApp, token?: string) {
  const auth = <R extends supertest.Test>(r: R): R => (token ? (r.set('Authorization', `Bearer ${token}`) as R) : r)
  return {
    get: (path: string) => auth(supertest(t.app).get(path)),
    post: (path: string, body?: unknown) => {
      const r = auth(supertest(t.app).post(path))
      return body === undefined ? r : r.send(body as object)
    },
  }
}

/** A loan request body as SPEC §5 writes it; 15 Jan 2025 is the test clock's Bangkok day. */
export function loanBody(codes: string[], over: Record<string, unknown> = {}) {
  return {
    assetCodes: codes,
    purpose: 'งานบุญประจำปีหมู่ 3',
    place: 'วัดบ้านหนองบัว',
    kind: 'off_premises',
    startDate: '2025-01-15',
    dueDate: '2025-01-17',
    ...over,
  }
}

export function errorOf(res: { body: unknown }): ErrorBody['error'] {
  return (res.body as ErrorBody).error
}

/** The single number a query answers (`SELECT COUNT(*) AS n …`), on either database. */
export async function count(t: TestApp, sql: string, ...params: unknown[]): Promise<number> {
  return Number(await query(t.ctx.db).value(sql, ...params))
}

/** One entry of a Loan's `approvals` as the API answers it (SPEC §5, with our keys), read from outside. */
export interface ApprovalBody {
  step: 'check' | 'approve'
  by: string
  at: string
  note: string | null
  onPaper: boolean
  recordedBy: string | null
  paperDate: string | null
  confirmedAt: string | null
  disputedAt: string | null
  evidence: { attachmentId: number; fileName: string; sha256: string; uploadedAt: string } | null
  approverUsername: string | null
  disputeReason: string | null
  voidedAt: string | null
  voidReason: string | null
}
