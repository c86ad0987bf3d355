import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { listNotifications, markNotificationsRead, type NotificationView } from '../../services/notification.service.js'
import { addDays, bangkokDate } from '../../i18n/calendar.js'
import { requireSignIn } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { idParam } from '../forms/common.form.js'

/**
 * /notifications (SPEC §8): a person's notifications, newest first, grouped by Bangkok day. Opening
 * the page marks what it shows as read — the one page whose GET writes, on purpose: the spec asks it,
 * and only the reader's own read marks change (no audit entry, no loan). "Mark all read" is a POST.
 */
export function notificationRoutes(ctx: AppContext): Router {
  const router = Router()
  router.use('/notifications', requireSignIn)

  router.get('/notifications', async (req, res) => {
    const user = req.user!
    const beforeId = typeof req.query.before === 'string' ? idParam(req.query.before) : undefined
    const { items, unread, more } = await listNotifications(ctx, user, { beforeId })
    const shownUnread = items.filter((n) => n.readAt === null).map((n) => n.id)
    if (shownUnread.length > 0) await markNotificationsRead(ctx, user.id, shownUnread)
    const today = bangkokDate(ctx.clock.now())
    const yesterday = addDays(today, -1)
    const groups: Array<{ day: string; label: string; items: NotificationView[] }> = []
    for (const n of items) {
      let g = groups.at(-1)
      if (g?.day !== n.day) {
        const label = n.day === today ? req.t('notifications.today') : n.day === yesterday ? req.t('notifications.yesterday') : ''
        g = { day: n.day, label, items: [] }
        groups.push(g)
      }
      g.items.push(n)
    }
    res.set('Cache-Control', 'no-store')
    res.render('notifications/index', {
      title: req.t('notifications.title'),
      groups,
      // What is still unread after this page: those not shown (older pages).
      unreadLeft: unread - shownUnread.length,
      anyUnread: unread > 0,
      olderHref: more ? `/notifications?before=${items.at(-1)!.id}` : undefined,
      paged: beforeId !== undefined,
      // The header's count as it is after this page marked what it shows.
      unreadNotifications: unread - shownUnread.length,
    })
  })

  router.post('/notifications/read', async (req, res) => {
    const count = await markNotificationsRead(ctx, req.user!.id)
    flash(req, 'success', 'notifications.markedAll', { count })
    res.redirect(303, '/notifications')
  })

  return router
}
