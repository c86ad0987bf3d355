import { Router } from 'express'
import type { AppContext } from '../../context.js'
import { AppError, isAppError } from '../../errors.js'
import { getCategory, listCategories, updateCategory } from '../../services/category.service.js'
import { actorOf } from '../../services/user.service.js'
import { requireRole } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, checkbox, fieldErrors, idParam, num, str } from '../forms/common.form.js'

export function categoryRoutes(ctx: AppContext): Router {
  const router = Router()
  router.use('/admin/categories', requireRole('admin'))

  router.get('/admin/categories', async (req, res) => {
    res.render('admin/categories', { title: req.t('categories.title'), categories: await listCategories(ctx) })
  })

  router.get('/admin/categories/:id', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'categories.notFound')
    const c = await getCategory(ctx, id)
    res.render('admin/category-form', {
      title: c.name,
      id,
      code: c.code,
      values: { name: c.name, usefulLifeYears: c.useful_life_years, loanableDefault: c.loanable_default === 1, active: c.active === 1 },
      errors: {},
    })
  })

  router.post('/admin/categories/:id', async (req, res) => {
    const id = idParam(req.params.id)
    if (id === undefined) throw new AppError('not_found', 'categories.notFound')
    const c = await getCategory(ctx, id)
    const b = bodyOf(req)
    const values = {
      name: str(b.name) ?? '',
      usefulLifeYears: num(b.usefulLifeYears),
      loanableDefault: checkbox(b.loanableDefault),
      active: checkbox(b.active),
    }
    try {
      await updateCategory(ctx, actorOf(req.user!), id, values)
    } catch (e) {
      if (!(isAppError(e) && e.details)) throw e
      res.status(422).render('admin/category-form', { title: c.name, id, code: c.code, values, errors: fieldErrors(e.details, req.t) })
      return
    }
    flash(req, 'success', 'categories.saved')
    res.redirect(303, '/admin/categories')
  })

  return router
}
