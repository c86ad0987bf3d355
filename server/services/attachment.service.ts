import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { writeTransaction, type Db } from '../../db/connection.js'
import type { LoanAttachmentRow, LoanRow } from '../../db/schema.js'
import * as attachments from '../repositories/attachment.repository.js'
import type { AttachmentView } from '../repositories/attachment.repository.js'
import * as loans from '../repositories/loan.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { append } from './audit.service.js'
import { loanNumber } from './loan-common.js'
import { canSeeLoan } from './loan-query.service.js'
import { actorOf, hasRole, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'

/**
 * The paper trail of a loan: the signed slip's scan or photo, the executive's paper approval,
 * condition photos at return. Files live outside the database under a random name in the
 * attachments folder; the row and its audit entry (with the file's SHA-256) are written together.
 * Attachments are never deleted: they are evidence, and the audit chain already names them.
 */

export const ATTACHMENT_KINDS = ['signed_slip', 'paper_approval', 'return_photo', 'other'] as const
export type AttachmentKind = (typeof ATTACHMENT_KINDS)[number]

export const ATTACHMENT_MAX_BYTES = 8 * 1024 * 1024
export const ATTACHMENT_MAX_MB = ATTACHMENT_MAX_BYTES / 1024 / 1024
export const ATTACHMENT_MAX_PER_LOAN = 20

/** What may be attached, by the file's own first bytes (never the name or the browser's word). */
const EXTENSION = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
  'image/heic': '.heic',
  'application/pdf': '.pdf',
} as const
export type AttachmentMime = keyof typeof EXTENSION

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1'])
const STORED_NAME = /^[0-9a-f]{32}\.(jpg|png|webp|heic|pdf)$/

export function sniffMime(data: Uint8Array): AttachmentMime | null {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg'
  if (b.length >= 8 && b.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png'
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'image/webp'
  if (b.length >= 5 && b.toString('latin1', 0, 5) === '%PDF-') return 'application/pdf'
  if (b.length >= 12 && b.toString('latin1', 4, 8) === 'ftyp' && HEIC_BRANDS.has(b.toString('latin1', 8, 12))) return 'image/heic'
  return null
}

/** The name a person gave the file, for display only: no folders, no control characters, not too long. */
export function cleanFileName(raw: string): string {
  const base = raw.replace(/\\/g, '/').split('/').pop() ?? ''
  const clean = base
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim()
  return [...clean].slice(0, 150).join('') || 'file'
}

const addSchema = z.object({
  kind: z.enum(ATTACHMENT_KINDS, { error: 'attachment.unknownKind' }),
  note: z.string().trim().max(500, { error: 'validation.tooLong' }).default(''),
})

export interface NewAttachment {
  kind: unknown
  note?: unknown
  fileName: string
  data: Buffer | undefined
}

function fileError(message: string, params?: Record<string, string | number>): AppError {
  return new AppError('validation_failed', 'validation.failed', {}, [{ field: 'file', message, params }])
}

/** A file checked and written under a temporary name, waiting to join a transaction (`storeStaged`). */
export interface StagedAttachment {
  kind: AttachmentKind
  note: string
  fileName: string
  mime: AttachmentMime
  size: number
  sha256: string
  storedName: string
  tempPath: string
  finalPath: string
}

/**
 * Checks an upload (kind, size, type by its first bytes) and writes it, synced, under a temporary name:
 * nothing of it is in the database yet. `storeStaged` then records it inside a write transaction;
 * whatever happens, `discardStaged` afterwards removes what no row points to.
 */
export async function stageAttachment(ctx: AppContext, input: NewAttachment): Promise<StagedAttachment> {
  const meta = parseOrThrow(addSchema, { kind: input.kind || undefined, note: input.note ?? '' })
  const data = input.data
  if (!data || data.length === 0) throw fileError('attachment.fileRequired')
  if (data.length > ATTACHMENT_MAX_BYTES) throw new AppError('payload_too_large', 'attachment.tooLarge', { mb: ATTACHMENT_MAX_MB })
  const mime = sniffMime(data)
  if (!mime) throw fileError('attachment.badType')
  const fileName = cleanFileName(input.fileName)
  const sha256 = createHash('sha256').update(data).digest('hex')
  const storedName = `${randomBytes(16).toString('hex')}${EXTENSION[mime]}`
  const dir = ctx.config.attachmentsDir
  const finalPath = path.join(dir, storedName)
  const tempPath = path.join(dir, `.${storedName}.part`)
  // Evidence with personal data: the folder and its files are the owner's only.
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 })
  const fh = await fs.promises.open(tempPath, 'wx', 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  return { kind: meta.kind, note: meta.note, fileName, mime, size: data.length, sha256, storedName, tempPath, finalPath }
}

/**
 * Inside the caller's write transaction: the row, its audit entry (with the file's SHA-256), and the
 * link to the loan's standing paper approval when the file is its evidence (a scan of the signed slip)
 * and it has none yet; then the file takes its stored name (a rename in the same folder: atomic).
 * Call it last before COMMIT where you can; on any failure the caller runs `discardStaged`.
 */
export async function storeStaged(ctx: AppContext, trx: Db, actor: CurrentUser, loan: LoanRow, staged: StagedAttachment): Promise<LoanAttachmentRow> {
  if ((await attachments.countOf(trx, loan.id)) >= ATTACHMENT_MAX_PER_LOAN)
    throw new AppError('conflict', 'attachment.tooMany', { max: ATTACHMENT_MAX_PER_LOAN })
  const row = await attachments.insert(trx, {
    loan_id: loan.id,
    kind: staged.kind,
    file_name: staged.fileName,
    mime: staged.mime,
    size: staged.size,
    sha256: staged.sha256,
    stored_name: staged.storedName,
    note: staged.note,
    uploaded_by: actor.id,
    uploaded_at: ctx.clock.now().toISOString(),
  })
  let evidenceFor: number | null = null
  if (EVIDENCE_KINDS.includes(staged.kind)) {
    const paper = await loans.standingPaperApproval(trx, loan.id)
    if (paper && paper.evidence_id === null && (await loans.linkEvidence(trx, paper.id, row.id))) evidenceFor = paper.id
  }
  await append(trx, ctx.clock, actorOf(actor), {
    action: 'loan.attachment_added',
    entity: 'loan',
    entityId: loan.id,
    data: {
      number: loanNumber(loan),
      attachmentId: row.id,
      name: staged.fileName,
      kind: staged.kind,
      mime: staged.mime,
      size: staged.size,
      sha256: staged.sha256,
      ...(evidenceFor ? { evidenceFor } : {}),
    },
  })
  await fs.promises.rename(staged.tempPath, staged.finalPath)
  return row
}

/** Removes a staged file and, after a failed transaction, the file it was renamed to. */
export async function discardStaged(staged: StagedAttachment | undefined): Promise<void> {
  if (!staged) return
  await fs.promises.rm(staged.tempPath, { force: true })
  await fs.promises.rm(staged.finalPath, { force: true })
}

/** The kinds that are a paper approval's evidence: the signed slip, or the approval itself. */
const EVIDENCE_KINDS: readonly AttachmentKind[] = ['signed_slip', 'paper_approval']

/**
 * Finance attaches a file to a loan. The file is written and synced under a temporary name first;
 * then, in one write transaction, the row and its audit entry are inserted and — as the last step
 * before COMMIT — the file is renamed to its stored name (a rename in the same folder is atomic
 * and instant). Whatever fails, the file is removed: there is never a row without its file, and a
 * crash can at worst leave a stray file with no row.
 */
export async function addAttachment(ctx: AppContext, actor: CurrentUser, loanId: number, input: NewAttachment): Promise<LoanAttachmentRow> {
  if (!hasRole(actor, 'finance')) throw new AppError('forbidden', 'attachment.onlyFinance')
  const loan = await loans.findById(ctx.db, loanId)
  if (!loan) throw new AppError('not_found', 'loan.notFound')
  // Never switchable (SPEC §1): the borrower does not add the evidence of their own loan.
  if (loan.borrower_user_id === actor.id) throw new AppError('forbidden', 'loan.sod.borrower_approves', {}, undefined, 'borrower_approves')
  parseOrThrow(addSchema, { kind: input.kind || undefined, note: input.note ?? '' })
  if ((await attachments.countOf(ctx.db, loanId)) >= ATTACHMENT_MAX_PER_LOAN)
    throw new AppError('conflict', 'attachment.tooMany', { max: ATTACHMENT_MAX_PER_LOAN })
  const staged = await stageAttachment(ctx, input)
  try {
    return await writeTransaction(ctx.db, async (trx) => {
      const current = await loans.findById(trx, loanId)
      if (!current) throw new AppError('not_found', 'loan.notFound')
      return storeStaged(ctx, trx, actor, current, staged)
    })
  } catch (e) {
    await discardStaged(staged)
    throw e
  }
}

/** A loan's attachments, for those who may see the loan. */
export async function listAttachments(ctx: AppContext, viewer: CurrentUser, loanId: number): Promise<AttachmentView[]> {
  const loan = await loans.findById(ctx.db, loanId)
  if (!loan || !canSeeLoan(viewer, loan)) throw new AppError('not_found', 'loan.notFound')
  return attachments.listOf(ctx.db, loanId)
}

/**
 * The file of one attachment, for those who may see its loan; anyone else — and an attachment of
 * another loan — is "not found", which does not tell that it exists.
 */
export async function openAttachment(
  ctx: AppContext,
  viewer: CurrentUser,
  loanId: number,
  attachmentId: number,
): Promise<{ row: LoanAttachmentRow; filePath: string }> {
  const loan = await loans.findById(ctx.db, loanId)
  if (!loan || !canSeeLoan(viewer, loan)) throw new AppError('not_found', 'attachment.notFound')
  const row = await attachments.findById(ctx.db, attachmentId)
  if (!row || row.loan_id !== loanId || !STORED_NAME.test(row.stored_name)) throw new AppError('not_found', 'attachment.notFound')
  const filePath = path.resolve(ctx.config.attachmentsDir, row.stored_name)
  if (!fs.existsSync(filePath)) {
    ctx.logger.error({ loanId, attachmentId, storedName: row.stored_name }, 'attachment file missing')
    throw new AppError('not_found', 'attachment.notFound')
  }
  return { row, filePath }
}
