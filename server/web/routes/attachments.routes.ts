import path from 'node:path'
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import multer from 'multer'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { ATTACHMENT_MAX_BYTES, ATTACHMENT_MAX_MB, addAttachment, listAttachments, openAttachment } from '../../services/attachment.service.js'
import { getLoan } from '../../services/loan.service.js'
import { getCurrentUser, hasRole } from '../../services/user.service.js'
import { requireRole, requireSignIn } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, fieldErrors, idParam, str } from '../forms/common.form.js'
import { attachmentsModel } from '../loan-extras.js'

const UPLOAD_PATH = /^\/loans\/\d{1,12}\/attachments$/
const SCAN_FORM_PATHS = [/^\/loans\/new$/, /^\/counter$/, /^\/loans\/\d{1,12}\/approve-paper$/]

/**
 * Parses the upload of POST /loans/:id/attachments. Mounted before the CSRF check (as the register
 * import's is), because csrf-sync reads the token from the body and a multipart body is readable
 * only once multer has run; CSRF stays enforced right after. Only a signed-in finance user's upload
 * is read at all. A file over the limit is not an error here: the fields before it (the token
 * first) are kept, the CSRF check runs, and the route answers 413 on the loan's upload page.
 */
export function attachmentUpload(ctx: AppContext): RequestHandler {
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: ATTACHMENT_MAX_BYTES, files: 1, fields: 5, fieldSize: 2048, parts: 6 },
    // Browsers send the file name as UTF-8 (a Thai file name stays readable).
    defParamCharset: 'utf8',
  }).single('file')
  // The forms that record a paper approval carry the signed slip's scan in the same step (SPEC §1):
  // the loan-entry form, the counter and the loan page's paper-approval form. They have more fields.
  const scanUpload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: ATTACHMENT_MAX_BYTES, files: 1, fields: 120, fieldSize: 100_000, parts: 121 },
    defParamCharset: 'utf8',
  }).single('scan')
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || !req.is('multipart/form-data')) return next()
    const isScanForm = SCAN_FORM_PATHS.some((p) => p.test(req.path))
    if (!isScanForm && !UPLOAD_PATH.test(req.path)) return next()
    const userId = req.session?.userId
    const user = userId === undefined ? undefined : await getCurrentUser(ctx, userId)
    if (!user || !hasRole(user, 'finance')) return next()
    ;(isScanForm ? scanUpload : upload)(req, res, (err?: unknown) => {
      if (!err) return next()
      if (err instanceof multer.MulterError) {
        if (err.code === 'LIMIT_FILE_SIZE') {
          res.locals.attachmentTooLarge = true
          return next()
        }
        return next(new AppError('bad_request', 'attachment.unreadable'))
      }
      // busboy's own complaints about the body (no boundary, cut short, malformed parts) are the sender's
      // mistake: 400, never a 500. Anything else is ours.
      if (err instanceof Error && /multipart|boundary|unexpected end|malformed/i.test(err.message))
        return next(new AppError('bad_request', 'attachment.unreadable'))
      next(err)
    })
  }
}

function loanIdOf(req: Request): number {
  const id = idParam(req.params.id)
  if (id === undefined) throw new AppError('not_found', 'loan.notFound')
  return id
}

/** `filename*=UTF-8''…` keeps a Thai name; the plain `filename` is an ASCII stand-in for old browsers. */
function disposition(name: string, id: number, storedName: string): string {
  return `inline; filename="attachment-${id}${path.extname(storedName)}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

export function attachmentRoutes(ctx: AppContext): Router {
  const router = Router()

  async function renderUpload(
    req: Request,
    res: Response,
    status: number,
    id: number,
    form: { message?: string; errors?: Record<string, string>; values?: Record<string, string> } = {},
  ) {
    const v = await getLoan(ctx, req.user!, id)
    res.status(status).render('attachments/upload', {
      title: `${req.t('attachment.title')} ${v.number}`,
      loan: { id, number: v.number, purpose: v.loan.purpose, borrower: v.borrower.name, organisation: v.borrower.organisation },
      att: attachmentsModel(await listAttachments(ctx, req.user!, id), id, hasRole(req.user, 'finance')),
      attForm: { message: form.message ?? '', errors: form.errors ?? {}, values: form.values ?? {} },
    })
  }

  /** The loan's paper trail on a page of its own (a phone attaching the signed slip's photo). */
  router.get('/loans/:id/attachments', requireSignIn, async (req, res) => {
    await renderUpload(req, res, 200, loanIdOf(req))
  })

  router.post('/loans/:id/attachments', requireRole('finance'), async (req, res) => {
    const id = loanIdOf(req)
    const b = bodyOf(req)
    const values = { kind: str(b.kind) ?? '', note: str(b.note) ?? '' }
    try {
      if (res.locals.attachmentTooLarge) throw new AppError('payload_too_large', 'attachment.tooLarge', { mb: ATTACHMENT_MAX_MB })
      const file = req.file
      const row = await addAttachment(ctx, req.user!, id, { kind: values.kind, note: values.note, fileName: file?.originalname ?? '', data: file?.buffer })
      flash(req, 'success', 'attachment.added', { name: row.file_name })
      res.redirect(303, `/loans/${id}#attachments`)
    } catch (e) {
      if (isAppError(e) && ['validation_failed', 'payload_too_large', 'conflict'].includes(e.code)) {
        const errors = fieldErrors(e.details, req.t)
        const message = e.details && e.details.length > 0 ? Object.values(errors).join(' · ') : req.t(e.messageKey, e.params)
        await renderUpload(req, res, e.status, id, { message, errors, values })
        return
      }
      throw e
    }
  })

  /**
   * The file itself, to those who may see the loan (others: 404). Served with the type found at
   * upload, never sniffed; a PDF is sandboxed so that a script inside it cannot act as this site.
   */
  router.get('/loans/:id/attachments/:attId', requireSignIn, async (req, res) => {
    const attId = idParam(req.params.attId)
    if (attId === undefined) throw new AppError('not_found', 'attachment.notFound')
    const { row, filePath } = await openAttachment(ctx, req.user!, loanIdOf(req), attId)
    res.set('Content-Type', row.mime)
    res.set('Content-Disposition', disposition(row.file_name, row.id, row.stored_name))
    res.set('X-Content-Type-Options', 'nosniff')
    if (row.mime === 'application/pdf') res.set('Content-Security-Policy', "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
    await new Promise<void>((resolve, reject) => {
      res.sendFile(path.basename(filePath), { root: path.dirname(filePath), cacheControl: false, lastModified: false, etag: false }, (err) =>
        err ? reject(err) : resolve(),
      )
    })
  })

  return router
}
