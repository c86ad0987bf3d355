import { Router, type Request, type Response } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { changeOwnPassword, ownEmail, setOwnEmail } from '../../services/user.service.js'
import { isExpired, issueToken, listTokens, revokeToken, TOKEN_LIFE_CHOICES } from '../../services/token.service.js'
import { getDepartment } from '../../services/department.service.js'
import { requireSignIn } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, checkbox, fieldErrors, idParam, str } from '../forms/common.form.js'
import { sessionKey } from '../../services/session.service.js'

export function accountRoutes(ctx: AppContext): Router {
  const router = Router()
  router.use('/account', requireSignIn)

  // The life a new token is offered with: a finite one, so that a forgotten token ends by itself.
  const DEFAULT_LIFE = '90'

  /** The form's choice of life: '' is no expiry; anything not a whole number goes to the service as typed, to be refused there. */
  function lifeOf(raw: string | undefined): unknown {
    if (raw === undefined || raw === '') return null
    return /^\d{1,4}$/.test(raw) ? Number(raw) : raw
  }

  async function renderAccount(
    req: Request,
    res: Response,
    status = 200,
    tokenErrors: Record<string, string> = {},
    tokenName = '',
    tokenLife = DEFAULT_LIFE,
    mail: { values?: { email: string; emailEnabled: boolean }; errors?: Record<string, string> } = {},
  ) {
    const user = req.user!
    const tokens = await listTokens(ctx, user)
    const now = ctx.clock.now()
    const department = user.departmentId ? await getDepartment(ctx, user.departmentId).catch(() => undefined) : undefined
    res.status(status).render('account/index', {
      title: req.t('account.title'),
      profile: {
        username: user.username,
        name: user.name,
        position: user.position,
        department: department?.name ?? '',
        roles: user.roles.map((r) => req.t(`role.${r}`)),
      },
      tokens: tokens.map((tk) => ({
        id: tk.id,
        name: tk.name,
        prefix: tk.prefix,
        createdAt: tk.created_at,
        lastUsedAt: tk.last_used_at,
        revokedAt: tk.revoked_at,
        expiresAt: tk.expires_at,
        expired: !tk.revoked_at && isExpired(tk, now),
      })),
      mailValues: mail.values ?? (await ownEmail(ctx, user.id)),
      mailErrors: mail.errors ?? {},
      mailConfigured: ctx.config.smtpUrl !== undefined,
      tokenErrors,
      tokenName,
      tokenLife,
      lifeChoices: [
        ...TOKEN_LIFE_CHOICES.map((days) => ({ value: String(days), label: req.t('account.tokenLifeDays', { days }) })),
        { value: '', label: req.t('account.tokenNoExpiry') },
      ],
    })
  }

  router.get('/account', (req, res) => renderAccount(req, res))

  // Notifications by e-mail (issue 18): the person's own address, and e-mail on or off.
  router.post('/account/email', async (req, res) => {
    const values = { email: str(bodyOf(req).email) ?? '', emailEnabled: checkbox(bodyOf(req).emailEnabled) }
    try {
      // The form always sends the field ('' clears the address): a request without it is not this form's.
      if (str(bodyOf(req).email) === undefined)
        throw new AppError('validation_failed', 'validation.failed', {}, [{ field: 'email', message: 'validation.required' }])
      await setOwnEmail(ctx, req.user!, values)
    } catch (e) {
      if (isAppError(e) && e.code === 'validation_failed') {
        await renderAccount(req, res, 422, {}, '', DEFAULT_LIFE, { values, errors: fieldErrors(e.details, req.t) })
        return
      }
      throw e
    }
    flash(req, 'success', 'account.emailSaved')
    res.redirect(303, '/account#email')
  })

  router.post('/account/tokens', async (req, res) => {
    try {
      const { token } = await issueToken(ctx, req.user!, { name: str(bodyOf(req).name) ?? '', expiresInDays: lifeOf(str(bodyOf(req).expiresInDays)) })
      flash(req, 'success', 'account.tokenCreated', {}, token)
      res.redirect(303, '/account')
    } catch (e) {
      if (isAppError(e) && e.code === 'validation_failed') {
        const life = str(bodyOf(req).expiresInDays)
        const offered = life === '' || TOKEN_LIFE_CHOICES.some((d) => String(d) === life)
        await renderAccount(req, res, 422, fieldErrors(e.details, req.t), str(bodyOf(req).name) ?? '', offered ? life! : DEFAULT_LIFE)
        return
      }
      throw e
    }
  })

  router.post('/account/tokens/:id/revoke', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) {
      res.redirect(303, '/account')
      return
    }
    await revokeToken(ctx, req.user!, id)
    flash(req, 'success', 'account.tokenRevoked')
    res.redirect(303, '/account')
  })

  function renderPassword(req: Request, res: Response, status: number, errors: Record<string, string>) {
    res.status(status).render('account/password', { title: req.t('account.changePassword'), errors, mustChange: req.user!.mustChangePassword })
  }

  router.get('/account/password', (req, res) => renderPassword(req, res, 200, {}))

  router.post('/account/password', async (req, res) => {
    const b = bodyOf(req)
    try {
      await changeOwnPassword(
        ctx,
        req.user!,
        { currentPassword: str(b.currentPassword) ?? '', newPassword: str(b.newPassword) ?? '', confirmPassword: str(b.confirmPassword) ?? '' },
        sessionKey(req.sessionID),
      )
    } catch (e) {
      if (isAppError(e) && e.code === 'validation_failed') {
        renderPassword(req, res, 422, fieldErrors(e.details, req.t))
        return
      }
      throw e
    }
    flash(req, 'success', 'account.passwordChanged')
    res.redirect(303, '/account')
  })

  return router
}
