import path from 'node:path'
import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { BORROWER_TYPES, LOCALES, ROLES, type Role } from '../../../db/schema.js'
import { actorOf, createUser, getUser, listUsers, resetPassword, updateUser } from '../../services/user.service.js'
import { createDepartment, getDepartment, listDepartments, updateDepartment } from '../../services/department.service.js'
import { getSettings, LABEL_LAYOUTS, updateSettings } from '../../services/settings.service.js'
import { listEntries } from '../../services/audit.service.js'
import { countLiveTokens, revokeAllTokensOf } from '../../services/token.service.js'
import { backupStatus, hostedSchema, humanSize } from '../../services/backup.service.js'
import { mailQueueStatus } from '../../services/notification.service.js'
import { requireRole } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, checkbox, fieldErrors, idParam, num, pageParam, str } from '../forms/common.form.js'
import { createUserForm, updateUserForm } from '../forms/user.form.js'
import { formatItaLines, formatSalvageLines, settingsForm, SIGNATORY_KEYS } from '../forms/settings.form.js'

const PAGE_SIZE = 50

function validationOnly(e: unknown): AppError {
  if (isAppError(e) && (e.code === 'validation_failed' || (e.code === 'conflict' && e.details))) return e
  throw e
}

export function adminRoutes(ctx: AppContext): Router {
  const router = Router()
  router.use('/admin', requireRole('admin'))

  // The last backup as the admin hub shows it (read from the backup folder, never the database).
  const backupView = () => {
    // On PostgreSQL the server's operator backs up (pg_dump plus the data folder): the app keeps no backup folder.
    if (ctx.config.databaseUrl) return { postgres: true as const, dataDir: path.dirname(path.resolve(ctx.config.databasePath)), hosted: hostedBackup() }
    const b = backupStatus(ctx)
    const warnings = { ok: undefined, missing: 'backup.warnMissing', stale: 'backup.warnStale', unverified: 'backup.warnUnverified' } as const
    return {
      dir: b.dir,
      count: b.count,
      warningKey: warnings[b.state],
      last: b.last && { at: b.last.at, size: humanSize(b.last.size), path: b.last.path, kindKey: `backup.kind.${b.last.kind}`, verified: b.last.verified },
    }
  }

  /**
   * One agency of many on a PostgreSQL server (TENANCY=host, issue 20): its backup is its own schema's
   * pg_dump plus its own folder DATA_DIR/<slug>/, and so is its restore. The schema is the handle's
   * (its connections' search_path), never guessed from the configuration; a handle in no agency's
   * schema (public, or SQLite) gets the installation-wide text.
   */
  const hostedBackup = () => {
    const schema = hostedSchema(ctx)
    if (!schema?.startsWith('agency_')) return undefined
    const folder = path.dirname(path.resolve(ctx.config.databasePath))
    const dataDir = path.dirname(folder)
    const slug = path.basename(folder)
    const dump = `${schema}-YYYYMMDD.dump`
    const files = `${schema}-files-YYYYMMDD.tar.gz`
    return {
      schema,
      folder,
      backup: [
        `pg_dump -Fc --schema=${schema} -f ${schema}-$(date +%Y%m%d).dump "$DATABASE_URL"`,
        `tar -czf ${schema}-files-$(date +%Y%m%d).tar.gz --exclude='${slug}/*.key' -C ${dataDir} ${slug}`,
      ],
      restore: [
        `psql "$DATABASE_URL" -c 'DROP SCHEMA IF EXISTS ${schema} CASCADE'`,
        `pg_restore --no-owner -d "$DATABASE_URL" ${dump}`,
        `tar -xzf ${files} -C ${dataDir} --exclude=${slug}/audit-anchor.log`,
      ],
    }
  }

  router.get('/admin', async (req, res) => {
    res.render('admin/index', {
      mail: await mailQueueStatus(ctx),
      title: req.t('nav.admin'),
      links: [
        { href: '/admin/users', key: 'nav.users' },
        { href: '/admin/departments', key: 'nav.departments' },
        { href: '/admin/categories', key: 'nav.categories' },
        { href: '/admin/settings', key: 'nav.settings' },
        { href: '/audit', key: 'nav.audit' },
      ],
      backup: backupView(),
    })
  })

  // ---- users
  router.get('/admin/users', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 100) : ''
    const role = typeof req.query.role === 'string' && (ROLES as readonly string[]).includes(req.query.role) ? (req.query.role as Role) : undefined
    const page = pageParam(req.query.page)
    const { items, total } = await listUsers(ctx, { q: q || undefined, role, page, pageSize: PAGE_SIZE })
    const departments = new Map((await listDepartments(ctx)).map((d) => [d.id, d.name]))
    res.render('admin/users', {
      title: req.t('users.title'),
      q,
      role: role ?? '',
      roles: ROLES,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE_SIZE)),
      total,
      users: items.map(({ user, roles }) => ({
        id: user.id,
        username: user.username,
        name: user.name,
        position: user.position,
        department: user.department_id ? (departments.get(user.department_id) ?? '') : '',
        roles: roles.map((r) => req.t(`role.${r}`)),
        active: user.active === 1,
      })),
    })
  })

  async function renderUserForm(
    req: Request,
    res: Response,
    status: number,
    model: { id?: number; values: Record<string, unknown>; errors?: Record<string, string>; history?: unknown[] },
  ) {
    const liveTokens = model.id === undefined ? 0 : await countLiveTokens(ctx, model.id)
    res.status(status).render('admin/user-form', {
      title: req.t(model.id ? 'users.edit' : 'users.new'),
      id: model.id,
      values: model.values,
      errors: model.errors ?? {},
      departments: (await listDepartments(ctx)).filter((d) => d.active === 1 || d.id === model.values.departmentId),
      roles: ROLES,
      borrowerTypes: BORROWER_TYPES.filter((b) => b !== 'public' && b !== 'agency'),
      locales: LOCALES,
      history: model.history ?? [],
      liveTokens,
    })
  }

  router.get('/admin/users/new', (req, res) =>
    renderUserForm(req, res, 200, { values: { roles: ['staff'], borrowerType: 'employee', locale: 'th', departmentId: null } }),
  )

  router.post('/admin/users', async (req, res) => {
    const input = createUserForm(req)
    try {
      const user = await createUser(ctx, actorOf(req.user!), input)
      flash(req, 'success', 'users.created', { username: user.username })
      res.redirect(303, `/admin/users/${user.id}`)
    } catch (e) {
      const err = validationOnly(e)
      await renderUserForm(req, res, 422, { values: { ...input, password: '' }, errors: fieldErrors(err.details, req.t) })
    }
  })

  router.get('/admin/users/:id', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'user.notFound')
    const { user, roles } = await getUser(ctx, id)
    const history = await listEntries(ctx.db, { entity: 'user', entityId: String(id), page: 1, pageSize: 20 })
    await renderUserForm(req, res, 200, {
      id,
      values: {
        username: user.username,
        name: user.name,
        position: user.position,
        phone: user.phone,
        email: user.email,
        departmentId: user.department_id,
        borrowerType: user.borrower_type,
        locale: user.locale,
        roles,
        active: user.active === 1,
      },
      history: history.items,
    })
  })

  router.post('/admin/users/:id', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'user.notFound')
    const { user } = await getUser(ctx, id)
    const input = updateUserForm(req)
    try {
      await updateUser(ctx, actorOf(req.user!), id, input)
      flash(req, 'success', 'users.updated')
      res.redirect(303, `/admin/users/${id}`)
    } catch (e) {
      const err = isAppError(e) && e.code === 'conflict' && !e.details ? e : validationOnly(e)
      const errors = err.details ? fieldErrors(err.details, req.t) : { _: req.t(err.messageKey, err.params) }
      await renderUserForm(req, res, err.status, { id, values: { ...input, username: user.username }, errors })
    }
  })

  router.post('/admin/users/:id/reset-password', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'user.notFound')
    const { user } = await getUser(ctx, id)
    try {
      const password = await resetPassword(ctx, actorOf(req.user!), id, str(bodyOf(req).password) ?? '')
      flash(req, 'success', 'users.passwordWasReset', { username: user.username }, password)
      res.redirect(303, `/admin/users/${id}`)
    } catch (e) {
      const err = validationOnly(e)
      flash(req, 'error', err.details?.[0]?.message ?? err.messageKey)
      res.redirect(303, `/admin/users/${id}`)
    }
  })

  router.post('/admin/users/:id/revoke-tokens', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'user.notFound')
    const { username, revoked } = await revokeAllTokensOf(ctx, actorOf(req.user!), id)
    flash(req, 'success', 'users.tokensRevoked', { username, count: revoked })
    res.redirect(303, `/admin/users/${id}`)
  })

  // ---- departments
  router.get('/admin/departments', async (req, res) => {
    res.render('admin/departments', { title: req.t('departments.title'), departments: await listDepartments(ctx), values: { sortOrder: '' }, errors: {} })
  })

  function departmentForm(req: Request) {
    const b = bodyOf(req)
    return { code: str(b.code) ?? '', name: str(b.name) ?? '', sortOrder: num(b.sortOrder), active: checkbox(b.active) }
  }

  router.post('/admin/departments', async (req, res) => {
    const input = departmentForm(req)
    try {
      await createDepartment(ctx, actorOf(req.user!), { ...input, active: true })
      flash(req, 'success', 'departments.created')
      res.redirect(303, '/admin/departments')
    } catch (e) {
      const err = validationOnly(e)
      res.status(422).render('admin/departments', {
        title: req.t('departments.title'),
        departments: await listDepartments(ctx),
        values: input,
        errors: fieldErrors(err.details, req.t),
      })
    }
  })

  router.get('/admin/departments/:id', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'department.notFound')
    const d = await getDepartment(ctx, id)
    res.render('admin/department-form', {
      title: req.t('departments.edit'),
      id,
      values: { code: d.code, name: d.name, sortOrder: d.sort_order, active: d.active === 1 },
      errors: {},
    })
  })

  router.post('/admin/departments/:id', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'department.notFound')
    await getDepartment(ctx, id)
    const input = departmentForm(req)
    try {
      await updateDepartment(ctx, actorOf(req.user!), id, input)
      flash(req, 'success', 'departments.updated')
      res.redirect(303, '/admin/departments')
    } catch (e) {
      const err = validationOnly(e)
      res.status(422).render('admin/department-form', { title: req.t('departments.edit'), id, values: input, errors: fieldErrors(err.details, req.t) })
    }
  })

  // ---- settings
  async function renderSettings(
    req: Request,
    res: Response,
    status: number,
    values: Record<string, unknown>,
    texts: { ita: string; salvage: string },
    errors: Record<string, string>,
  ) {
    res.status(status).render('admin/settings', {
      title: req.t('settings.title'),
      values,
      itaText: texts.ita,
      salvageText: texts.salvage,
      errors,
      signatories: SIGNATORY_KEYS,
      layouts: LABEL_LAYOUTS,
      publicBaseUrl: ctx.config.publicBaseUrl,
      // A signatory may be linked to an account: their paper approvals then wait for them to confirm.
      accountChoices: (await listUsers(ctx, { active: true, page: 1, pageSize: 1000 })).items.map(({ user }) => ({ username: user.username, name: user.name })),
    })
  }

  router.get('/admin/settings', async (req, res) => {
    const s = await getSettings(ctx)
    await renderSettings(req, res, 200, s, { ita: formatItaLines(s.itaIndicators), salvage: formatSalvageLines(s.salvageRates) }, {})
  })

  router.post('/admin/settings', async (req, res) => {
    const { input, itaText, itaBadLine, salvageText, salvageBadLine } = settingsForm(req)
    const texts = { ita: itaText, salvage: salvageText }
    if (itaBadLine !== undefined || salvageBadLine !== undefined) {
      const errors: Record<string, string> = {}
      if (itaBadLine !== undefined) errors.itaIndicators = req.t('settings.itaLineInvalid', { line: itaBadLine })
      if (salvageBadLine !== undefined) errors.salvageRates = req.t('settings.salvageLineInvalid', { line: salvageBadLine })
      await renderSettings(req, res, 422, input, texts, errors)
      return
    }
    try {
      await updateSettings(ctx, actorOf(req.user!), input)
    } catch (e) {
      const err = validationOnly(e)
      // A signatory's account is one field of the form: «mayor.username» → «mayorUsername».
      const details = err.details?.map((d) => ({ ...d, field: d.field.replace(/^(\w+)\.username$/, '$1Username') }))
      await renderSettings(req, res, 422, input, texts, fieldErrors(details, req.t))
      return
    }
    flash(req, 'success', 'settings.saved')
    res.redirect(303, '/admin/settings')
  })

  return router
}
