import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { requireSignIn } from '../middleware/auth.js'
import { ROLES } from '../../../db/schema.js'

export function homeRoutes(_ctx: AppContext): Router {
  const router = Router()
  router.get('/', requireSignIn, (req, res) => {
    const user = req.user!
    res.render('home/index', {
      title: req.t('nav.home'),
      roleCards: ROLES.filter((r) => user.roles.includes(r)).map((r) => ({ role: r, name: req.t(`role.${r}`), can: req.t(`role.${r}.can`) })),
    })
  })
  return router
}
