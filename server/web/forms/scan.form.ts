import type { Request, Response } from 'express'
import { AppError } from '../../errors.js'
import { ATTACHMENT_MAX_MB, type NewAttachment } from '../../services/attachment.service.js'

/**
 * The scan sent with a form that records a paper approval (multer has read it), as the services take
 * it; a file over the limit is the scan field's mistake, answered 413.
 */
export function scanOf(req: Request, res: Response, field: string): NewAttachment | undefined {
  if (res.locals.attachmentTooLarge) {
    throw new AppError('payload_too_large', 'attachment.tooLarge', { mb: ATTACHMENT_MAX_MB }, [
      { field: `${field}.scan`, message: 'attachment.tooLarge', params: { mb: ATTACHMENT_MAX_MB } },
    ])
  }
  const f = req.file
  if (!f || f.size === 0) return undefined
  return { kind: 'signed_slip', fileName: f.originalname, data: f.buffer }
}
