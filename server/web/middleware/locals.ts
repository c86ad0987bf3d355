import type { NextFunction, Request, Response } from 'express'
import type { AppContext } from '../../context.js'
import { formatDate, formatDateTime, formatNumber } from '../../i18n/format.js'
import { bahtText } from '../../i18n/baht-text.js'
import { hasRole } from '../../services/user.service.js'
import { sharedSettings } from '../../services/settings.service.js'
import { loanActionCounts } from '../../services/loan.service.js'
import type { Role } from '../../../db/schema.js'
import { cartLineCount } from '../cart-state.js'
import { contextOf } from '../../http/middleware/auth.js'
import { useLayouts } from '../layout.js'
import { unreadCount } from '../../services/notification.service.js'
import { agencyNameSet } from '../../services/setup.service.js'
import { dateAttrs, type DateBoxOptions, viewHelpers } from '../view-helpers.js'

export interface NavItem {
  href: string
  key: string
  count?: number
}

/** The navigation a person sees follows their roles; later areas add their items here. */
export function navFor(roles: Role[], counts: { cart?: number; loans?: number } = {}): NavItem[] {
  const has = (...r: Role[]) => hasRole({ roles }, ...r)
  const items: NavItem[] = [{ href: '/', key: 'nav.home' }]
  // The badge: what waits for this person's own action (approvals, hand-overs, follow-ups, their own loans).
  items.push({ href: '/loans', key: 'nav.loans', count: counts.loans })
  if (has('finance', 'executive')) items.push({ href: '/loans/queue', key: 'nav.loanQueue' })
  if (has('finance')) items.push({ href: '/counter', key: 'nav.counter' })
  // A borrower's own history is their loan list; reviewers get the borrower search.
  if (has('finance', 'executive', 'committee', 'admin')) items.push({ href: '/borrowers', key: 'nav.borrowers' })
  if (has('finance', 'executive', 'committee')) items.push({ href: '/register', key: 'nav.register' })
  if (has('finance', 'executive', 'committee')) items.push({ href: '/reports', key: 'nav.reports' })
  items.push({ href: '/assets', key: 'nav.assets' })
  items.push({ href: '/stock', key: 'nav.stock' })
  items.push({ href: '/scan', key: 'nav.scan' })
  if (has('staff', 'finance')) items.push({ href: '/cart', key: 'nav.cart', count: counts.cart })
  // The admin hub links the audit log too; the committee reaches it directly.
  if (has('admin')) items.push({ href: '/admin', key: 'nav.admin' })
  else if (has('committee')) items.push({ href: '/audit', key: 'nav.audit' })
  if (has('committee')) items.push({ href: '/paper-approvals', key: 'nav.paperReview' })
  return items
}

/**
 * What every page template may use: translation, formatting, the user, CSRF, flash, nav and the
 * view helpers (view-helpers.ts); res.render puts each page into its layout (layout.ts).
 */
export function pageLocals(ctx: AppContext, csrfToken: (req: Request) => string) {
  return async (req: Request, res: Response, next: NextFunction) => {
    useLayouts(res)
    const locale = req.locale
    const settings = await sharedSettings(contextOf(ctx, req))
    const flash = req.session?.flash ?? []
    // One query of scalar counts per signed-in page request, for the navigation badge.
    const loanCounts = req.user ? await loanActionCounts(contextOf(ctx, req), req.user, settings) : undefined
    // The header's bell: one indexed count, kept until the next write (server/lib/cache.ts).
    const unreadNotifications = req.user ? await unreadCount(contextOf(ctx, req), req.user.id) : 0
    if (req.session?.flash) delete req.session.flash
    Object.assign(res.locals, {
      t: req.t,
      locale,
      user: req.user,
      csrfToken: () => csrfToken(req),
      requestId: req.requestId,
      currentPath: req.path,
      unreadNotifications,
      // The header names the agency once its own name is set (issue 16); the bare default names no one.
      agencyName: agencyNameSet(settings) ? settings.agencyName : '',
      nav: req.user ? navFor(req.user.roles, { cart: cartLineCount(req.session), loans: loanCounts?.awaiting }) : [],
      flash,
      fmt: {
        date: (d: string | Date, style: 'short' | 'long' | 'numeric' = 'short') => formatDate(d, { locale, style }),
        dateTime: (at: string | Date) => formatDateTime(at, { locale }),
        number: (n: number) => formatNumber(n),
        /** An amount of satang in Thai words: «หนึ่งหมื่นสองพันห้าร้อยบาทถ้วน». */
        bahtText: (satang: number) => bahtText(satang),
      },
      ...viewHelpers,
      dateAttrs: (value: unknown, opts: DateBoxOptions = {}) => dateAttrs(value, { placeholder: req.t('date.placeholder'), ...opts }),
    })
    next()
  }
}

export function flash(req: Request, kind: 'success' | 'error' | 'info', key: string, params?: Record<string, string | number>, secret?: string) {
  const list = req.session.flash ?? []
  list.push({ kind, key, params, secret })
  req.session.flash = list
}
