import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import multer from 'multer'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { REGISTER_FIELDS, confirmImport, getImportBatch, startImport, type BatchView, type RegisterField } from '../../services/asset-import.service.js'
import { IMPORT_MAX_BYTES, IMPORT_MAX_ROWS } from '../../services/asset-import-file.js'
import type { RowError } from '../../services/asset-import-rows.js'
import { exportFileName, registerCsv, registerCsvHeader, writeRegisterXlsx, type ExportFilter } from '../../services/asset-export.service.js'
import { actorOf, getCurrentUser, hasRole } from '../../services/user.service.js'
import { formatNumber, formatSatang, parseBahtToSatang } from '../../i18n/format.js'
import { cleanPriceText } from '../../i18n/register-file.js'
import { requireRole } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { pageParam } from '../forms/common.form.js'
import { assetQuery } from '../forms/asset.form.js'

const UPLOAD_PATH = '/assets/import'
const PREVIEW_PAGE_SIZE = 250
const MAX_MB = IMPORT_MAX_BYTES / 1024 / 1024

/** The register's own labels for the file's columns, in the person's language. */
const FIELD_LABEL: Record<RegisterField, string> = {
  code: 'asset.code',
  name: 'asset.name',
  category: 'asset.category',
  brandModel: 'asset.brandModel',
  serialNumber: 'asset.serialNumber',
  department: 'asset.department',
  location: 'asset.location',
  acquiredOn: 'asset.acquiredOn',
  price: 'asset.price',
  usefulLifeYears: 'asset.usefulLife',
  fundingSource: 'asset.fundingSource',
  loanable: 'asset.loanable',
  maxLoanDays: 'asset.maxLoanDays',
  notes: 'asset.notes',
}

/**
 * Parses the upload of POST /assets/import. Mounted before the CSRF check, because csrf-sync reads
 * the token from the body and a multipart body is only readable once multer has run; CSRF stays
 * enforced right after. Only a signed-in finance user's upload is read at all: anyone else's
 * request goes on unparsed and is refused by the CSRF check.
 */
export function assetImportUpload(ctx: AppContext): RequestHandler {
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: IMPORT_MAX_BYTES, files: 1, fields: 5, fieldSize: 1024, parts: 6 },
    // Browsers send the file name as UTF-8 (a Thai file name stays readable).
    defParamCharset: 'utf8',
  }).single('file')
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST' || req.path !== UPLOAD_PATH || !req.is('multipart/form-data')) return next()
    const userId = req.session?.userId
    const user = userId === undefined ? undefined : await getCurrentUser(ctx, userId)
    if (!user || !hasRole(user, 'finance')) return next()
    upload(req, res, (err?: unknown) => {
      if (!err) return next()
      if (err instanceof multer.MulterError) {
        return next(
          err.code === 'LIMIT_FILE_SIZE'
            ? new AppError('payload_too_large', 'assetImport.fileTooLarge', { mb: MAX_MB })
            : new AppError('bad_request', 'assetImport.unreadable'),
        )
      }
      next(err)
    })
  }
}

/** A price as money (12,500.00), however the file wrote it (12500, 12500.5, «7,900.-»); one that is not a price, as the file has it. */
function previewPrice(r: BatchView['rows'][number]): string {
  const checked = r.input?.price
  for (const v of [checked, r.values.price === undefined ? undefined : cleanPriceText(r.values.price)]) {
    if (typeof v !== 'string' && typeof v !== 'number') continue
    const satang = parseBahtToSatang(v)
    if (satang.ok) return formatSatang(satang.value)
  }
  return r.values.price ?? ''
}

function exportFilter(req: Request): ExportFilter {
  const { q, category, department, status, loanable } = assetQuery(req.query)
  return { q, category, department, status, loanable }
}

function attachment(res: Response, name: { ascii: string; utf8: string }, type: string): void {
  res.set('Content-Type', type)
  res.set('Content-Disposition', `attachment; filename="${name.ascii}"; filename*=UTF-8''${encodeURIComponent(name.utf8)}`)
}

function isClientGone(e: unknown): boolean {
  return (e as { code?: string } | undefined)?.code === 'ERR_STREAM_PREMATURE_CLOSE'
}

function encodingKey(view: BatchView): string {
  if (view.meta.kind === 'xlsx' || !view.meta.encoding) return 'assetImport.enc.xlsx'
  return `assetImport.enc.${view.meta.encoding.replace(/-/g, '')}`
}

export function assetImportRoutes(ctx: AppContext): Router {
  const router = Router()
  const readers = requireRole('finance', 'executive', 'committee', 'admin')

  router.get('/assets/export.csv', readers, async (req, res) => {
    attachment(res, exportFileName(ctx, 'csv'), 'text/csv; charset=utf-8')
    try {
      await pipeline(Readable.from(registerCsv(ctx, exportFilter(req))), res)
    } catch (e) {
      if (!isClientGone(e)) throw e
    }
  })

  router.get('/assets/export.xlsx', readers, async (req, res) => {
    attachment(res, exportFileName(ctx, 'xlsx'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    await writeRegisterXlsx(ctx, exportFilter(req), res)
  })

  /** The export's header row alone: a template that the import reads. */
  router.get('/assets/import/template.csv', requireRole('finance'), (_req, res) => {
    attachment(res, { ascii: 'asset-import-template.csv', utf8: 'asset-import-template.csv' }, 'text/csv; charset=utf-8')
    res.send(registerCsvHeader())
  })

  function renderUpload(req: Request, res: Response, status: number, error?: AppError) {
    const t = req.t
    res.status(status).render('assets/import', {
      title: t('assetImport.title'),
      maxMb: MAX_MB,
      maxRows: formatNumber(IMPORT_MAX_ROWS),
      fields: REGISTER_FIELDS.map((f) => ({ field: f, label: t(`assetImport.col.${f}`) })),
      error: error
        ? {
            message: t(error.messageKey, error.params),
            missing: error.messageKey === 'assetImport.missingColumns' ? (error.details ?? []).map((d) => t(d.message, d.params)) : [],
          }
        : undefined,
    })
  }

  router.get(UPLOAD_PATH, requireRole('finance'), (req, res) => renderUpload(req, res, 200))

  router.post(UPLOAD_PATH, requireRole('finance'), async (req, res) => {
    const file = req.file
    if (!file || file.size === 0) {
      renderUpload(req, res, 422, new AppError('validation_failed', file ? 'assetImport.empty' : 'assetImport.noFile'))
      return
    }
    try {
      const id = await startImport(ctx, req.user!.id, { name: file.originalname, data: file.buffer })
      res.redirect(303, `/assets/import/${id}`)
    } catch (e) {
      if (!(isAppError(e) && (e.code === 'validation_failed' || e.code === 'payload_too_large'))) throw e
      renderUpload(req, res, e.status, e)
    }
  })

  router.get('/assets/import/:batchId', requireRole('finance'), async (req, res) => {
    const t = req.t
    const onlyBad = req.query.show === 'bad'
    const page = pageParam(req.query.page)
    const view = await getImportBatch(ctx, req.user!.id, String(req.params.batchId), { onlyBad, page, pageSize: PREVIEW_PAGE_SIZE })
    // The import's own reasons name their column and value; the schema's generic ones get the column.
    const reason = (e: RowError) =>
      e.message.startsWith('assetImport.row.')
        ? t(e.message, e.params)
        : t('assetImport.fieldError', { column: e.field === 'row' ? t('assetImport.col.row') : t(FIELD_LABEL[e.field]), message: t(e.message, e.params) })
    res.render('assets/import-preview', {
      title: t('assetImport.previewTitle'),
      batch: {
        id: view.id,
        fileName: view.fileName,
        encoding: t(encodingKey(view)),
        headerLine: view.meta.headerLine,
        ignored: view.meta.ignored.map((h) => `«${h}»`).join(', '),
        emptyRows: view.meta.emptyRows,
        total: view.total,
        good: view.good,
        bad: view.bad,
        importedAt: view.importedAt,
        importedCount: view.importedCount ?? 0,
        expiresAt: view.expiresAt,
        expired: view.expired,
      },
      canConfirm: view.importedAt === null && !view.expired && view.good > 0,
      onlyBad,
      page,
      pages: Math.max(1, Math.ceil(view.shown / PREVIEW_PAGE_SIZE)),
      rows: view.rows.map((r) => ({
        line: r.line,
        ok: r.errors.length === 0,
        code: r.values.code ?? '',
        name: r.values.name ?? '',
        category: r.values.category ?? '',
        department: r.values.department ?? '',
        acquiredOn: r.values.acquiredOn ?? '',
        price: previewPrice(r),
        reasons: r.errors.map(reason),
      })),
    })
  })

  router.post('/assets/import/:batchId/confirm', requireRole('finance'), async (req, res) => {
    const { imported } = await confirmImport(ctx, actorOf(req.user!), String(req.params.batchId))
    flash(req, 'success', 'assetImport.done', { count: formatNumber(imported) })
    res.redirect(303, '/assets')
  })

  return router
}
