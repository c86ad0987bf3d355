import { Router } from 'express'
import { z } from 'zod'
import type { AppContext } from '../context.js'
import { listNotifications, markNotificationsRead, unreadCount } from '../services/notification.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { requireSignIn } from '../http/middleware/auth.js'

const listQuery = z.object({
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  unread: z.enum(['true', 'false', '1', '0']).optional(),
})

const readBody = z.object({ ids: z.array(z.number().int().positive()).max(1000).optional() })

/**
 * GET /me/notifications — the caller's notifications, newest first; never marks anything read (SPEC §8).
 * POST /me/notifications/read {ids?} — marks those (only the caller's count) or, without ids, all.
 */
export function notificationsApi(ctx: AppContext): Router {
  const router = Router()

  router.get('/me/notifications', requireSignIn, async (req, res) => {
    const q = parseOrThrow(listQuery, {
      before: typeof req.query.before === 'string' ? req.query.before : undefined,
      limit: typeof req.query.limit === 'string' ? req.query.limit : undefined,
      unread: typeof req.query.unread === 'string' ? req.query.unread : undefined,
    })
    const user = req.user!
    const { items, unread, more } = await listNotifications(ctx, user, {
      beforeId: q.before,
      limit: q.limit,
      unreadOnly: q.unread === 'true' || q.unread === '1',
    })
    res.json({
      unread,
      items: items.map((n) => ({
        id: n.id,
        kind: n.kind,
        title: n.title,
        body: n.body,
        url: `${ctx.config.publicBaseUrl}${n.link}`,
        createdAt: n.createdAt,
        readAt: n.readAt,
      })),
      next: more ? `/api/v1/me/notifications?before=${items.at(-1)!.id}` : null,
    })
  })

  router.post('/me/notifications/read', requireSignIn, async (req, res) => {
    // No body, or {}: all. Anything but an object is not this route's input.
    const raw: unknown = req.body
    const { ids } = parseOrThrow(readBody, raw === undefined ? {} : raw)
    const marked = await markNotificationsRead(ctx, req.user!.id, ids)
    res.json({ marked, unread: await unreadCount(ctx, req.user!.id) })
  })

  return router
}
