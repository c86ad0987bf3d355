import type { NextFunction, Request, Response } from 'express'
import type { AppContext } from '../../context.js'
import { formatDate, formatDateTime, formatNumber } from '../../i18n/format.js'
import { hasRole } from '../../services/user.service.js'
import { getSettings } from '../../services/settings.service.js'
import type { Role } from '../../../db/schema.js'

export interface NavItem {
  href: string
  key: string
  count?: number
}

/** The navigation a person sees follows their roles; later areas add their items here. */
export function navFor(roles: Role[]): NavItem[] {
  const has = (...r: Role[]) => hasRole({ roles }, ...r)
  const items: NavItem[] = [{ href: '/', key: 'nav.home' }]
  items.push({ href: '/assets', key: 'nav.assets' })
  if (has('finance')) items.push({ href: '/labels', key: 'nav.labels' })
  items.push({ href: '/scan', key: 'nav.scan' })
  if (has('admin', 'committee')) items.push({ href: '/audit', key: 'nav.audit' })
  if (has('admin')) items.push({ href: '/admin', key: 'nav.admin' })
  return items
}

/** What every page template may use: translation, formatting, the user, CSRF, flash, nav. */
export function pageLocals(ctx: AppContext, csrfToken: (req: Request) => string) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const locale = req.locale
    const settings = await getSettings(ctx)
    const flash = req.session?.flash ?? []
    if (req.session?.flash) delete req.session.flash
    Object.assign(res.locals, {
      t: req.t,
      locale,
      user: req.user,
      csrfToken: () => csrfToken(req),
      requestId: req.requestId,
      currentPath: req.path,
      agencyName: settings.agencyName,
      nav: req.user ? navFor(req.user.roles) : [],
      flash,
      fmt: {
        date: (d: string | Date, style: 'short' | 'long' | 'numeric' = 'short') => formatDate(d, { locale, style }),
        dateTime: (at: string | Date) => formatDateTime(at, { locale }),
        number: (n: number) => formatNumber(n),
      },
    })
    next()
  }
}

export function flash(req: Request, kind: 'success' | 'error' | 'info', key: string, params?: Record<string, string | number>, secret?: string) {
  const list = req.session.flash ?? []
  list.push({ kind, key, params, secret })
  req.session.flash = list
}
