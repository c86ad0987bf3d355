import type { Kysely } from 'kysely'
import type { Database, LoanAttachmentRow } from '../../db/schema.js'

type Db = Kysely<Database>

export type AttachmentView = LoanAttachmentRow & { uploaded_by_name: string | null }

export async function insert(db: Db, row: Omit<LoanAttachmentRow, 'id'>): Promise<LoanAttachmentRow> {
  return db.insertInto('loan_attachment').values(row).returningAll().executeTakeFirstOrThrow()
}

export async function countOf(db: Db, loanId: number): Promise<number> {
  const r = await db
    .selectFrom('loan_attachment')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('loan_id', '=', loanId)
    .executeTakeFirstOrThrow()
  return Number(r.n)
}

export async function listOf(db: Db, loanId: number): Promise<AttachmentView[]> {
  return db
    .selectFrom('loan_attachment as a')
    .leftJoin('app_user as u', 'u.id', 'a.uploaded_by')
    .selectAll('a')
    .select('u.name as uploaded_by_name')
    .where('a.loan_id', '=', loanId)
    .orderBy('a.id')
    .execute()
}

export async function findById(db: Db, id: number): Promise<LoanAttachmentRow | undefined> {
  return db.selectFrom('loan_attachment').selectAll().where('id', '=', id).executeTakeFirst()
}

/** Some attachments by id (the scans behind paper approvals), for many loans at once. */
export async function byIds(db: Db, ids: number[]): Promise<LoanAttachmentRow[]> {
  const unique = [...new Set(ids)]
  if (unique.length === 0) return []
  return db.selectFrom('loan_attachment').selectAll().where('id', 'in', unique).orderBy('id').execute()
}
