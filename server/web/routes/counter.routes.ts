import { Router, type Request, type Response } from 'express'
import type { ExternalBorrowerRow } from '../../../db/schema.js'
import type { AppContext } from '../../context.js'
import { AppError, isAppError, type FieldError } from '../../errors.js'
import { addDays, bangkokDate } from '../../i18n/calendar.js'
import { borrowerStanding, getExternalBorrower, phoneDigitsOf, searchExternalBorrowers, type ExternalBorrowerBrief } from '../../services/borrower.service.js'
import { createLoan, createLoanSchema } from '../../services/loan.service.js'
import { LOAN_KINDS } from '../../services/loan-rules.js'
import { getSettings } from '../../services/settings.service.js'
import { expandScanned, listKits, listStock } from '../../services/stock.service.js'
import { validationError } from '../../lib/validation.js'
import { requireRole } from '../../http/middleware/auth.js'
import { flash } from '../middleware/locals.js'
import { bodyOf, fieldErrors, idParam, str } from '../forms/common.form.js'
import { COUNTER_BORROWER_TYPES, counterField, counterValues, prefillFromSearch, withoutUnits, type CounterValues } from '../forms/counter.form.js'
import { conflictMessage, isShownInPlace } from '../forms/loan-request.form.js'
import { typedLines } from '../forms/stock-lines.form.js'
import { warningModel, type BorrowerWarning } from '../loan-extras.js'
import { paperApproverChoices } from '../../services/loan-paper.service.js'
import { approverOptions } from '../paper-views.js'
import { scanOf } from '../forms/scan.form.js'
import { codeExamples } from '../code-examples.js'
import type { Translate } from '../../i18n/index.js'

/** Suggestions for the purpose field: what the community borrows for, most often. */
const PURPOSES = ['funeral', 'ordination', 'villageFair', 'merit', 'wedding', 'meeting', 'sports'] as const
const RESULTS = 20
const CHOICES = 60

interface LendModel {
  values: CounterValues
  borrower?: ExternalBorrowerRow
  errors?: Record<string, string>
  message?: string
  /** Borrowers on record with the phone typed for a new one: pick one, or confirm a new person. */
  duplicates?: ExternalBorrowerBrief[]
}

/**
 * The counter (SPEC §4, issue 5): finance lends to a community borrower in a few taps on a phone.
 * (1) find the borrower by name or phone, or add a new one; (2) scan or type the items and kits;
 * (3) purpose, place, kind and dates; send → the loan page with "print the slip". A returning
 * borrower's standing (overdue loans, what is still out) shows before anything is sent; the
 * decision stays with finance.
 */
export function counterRoutes(ctx: AppContext): Router {
  const router = Router()
  const finance = requireRole('finance')

  function today(): string {
    return bangkokDate(ctx.clock.now())
  }

  async function blank(over: Partial<CounterValues> = {}): Promise<CounterValues> {
    const settings = await getSettings(ctx)
    const t = today()
    // A three-day event is the usual case: today to the day after tomorrow, within the agency's maximum.
    const days = Math.max(1, Math.min(3, settings.maxLoanDays))
    return { ...counterValues({}), kind: 'off_premises', startDate: t, dueDate: addDays(t, days - 1), 'paperApproval.date': t, ...over }
  }

  async function warningFor(b: ExternalBorrowerRow): Promise<BorrowerWarning | null> {
    const s = await borrowerStanding(ctx, { externalBorrowerId: b.id })
    return warningModel(s, { name: b.name, historyHref: `/borrowers/${b.id}` })
  }

  async function choices(t: Translate) {
    const stock = (await listStock(ctx, { page: 1, pageSize: CHOICES })).items.filter((i) => i.loanable === 1)
    const kits = (await listKits(ctx)).filter((k) => k.kit.active === 1).slice(0, CHOICES)
    return {
      stock: stock.map((i) => ({ code: i.code, name: i.name, unit: i.unit })),
      kits: kits.map((k) => ({ code: k.kit.code, name: k.kit.name })),
      examples: await codeExamples(ctx, t),
    }
  }

  async function renderLend(req: Request, res: Response, status: number, m: LendModel) {
    const t = req.t
    res.status(status).render('counter/index', {
      title: t('counter.title'),
      step: 'lend',
      q: '',
      results: [],
      values: m.values,
      borrower: m.borrower
        ? {
            id: m.borrower.id,
            type: m.borrower.type,
            name: m.borrower.name,
            organisation: m.borrower.organisation,
            phone: m.borrower.phone,
            address: m.borrower.address,
            villageNo: m.borrower.village_no,
            hasIdNumber: m.borrower.id_number !== '',
          }
        : null,
      warning: m.borrower ? await warningFor(m.borrower) : null,
      duplicates: m.duplicates ?? [],
      errors: m.errors ?? {},
      message: m.message ?? '',
      kinds: LOAN_KINDS,
      borrowerTypes: COUNTER_BORROWER_TYPES,
      purposes: PURPOSES.map((p) => t(`counter.purpose.${p}`)),
      places: m.borrower ? [m.borrower.organisation, m.borrower.address].filter(Boolean) : [],
      choices: await choices(req.t),
      approvers: approverOptions(t, await paperApproverChoices(ctx), req.user),
      today: today(),
    })
  }

  router.get('/counter', finance, async (req, res) => {
    const q = (typeof req.query.q === 'string' ? req.query.q : '').trim().slice(0, 100)
    const picked = idParam(typeof req.query.borrower === 'string' ? req.query.borrower : undefined)
    if (picked !== undefined) {
      const borrower = await getExternalBorrower(ctx, req.user!, picked)
      await renderLend(req, res, 200, { values: await blank({ borrowerId: String(borrower.id), 'externalBorrower.type': borrower.type }), borrower })
      return
    }
    if (req.query.new === '1') {
      // What was searched for comes along: digits as the phone, a temple's or school's name as the
      // organisation, anything else as the name.
      const typed = (typeof req.query.typed === 'string' ? req.query.typed : '').trim().slice(0, 100)
      const isPhone = typed !== '' && phoneDigitsOf(typed).length >= 3 && /^[\d\u0E50-\u0E59\s\-+().]+$/.test(typed)
      await renderLend(req, res, 200, { values: await blank(isPhone ? { 'externalBorrower.phone': typed } : prefillFromSearch(typed)) })
      return
    }
    res.render('counter/index', {
      title: req.t('counter.title'),
      step: 'find',
      q,
      searched: q !== '',
      results: q ? await searchExternalBorrowers(ctx, req.user!, q, RESULTS) : [],
    })
  })

  router.post('/counter', finance, async (req, res) => {
    const user = req.user!
    const values = counterValues(bodyOf(req))
    const op = str(bodyOf(req).op) ?? ''

    // "This is the same person": the form comes back with that borrower picked, the rest kept.
    const use = /^use:(\d{1,12})$/.exec(op)
    if (use) {
      const borrower = await getExternalBorrower(ctx, user, Number(use[1]))
      await renderLend(req, res, 200, { values: { ...values, borrowerId: String(borrower.id), 'externalBorrower.type': borrower.type }, borrower })
      return
    }

    let borrower: ExternalBorrowerRow | undefined
    if (values.borrowerId) {
      try {
        borrower = await getExternalBorrower(ctx, user, Number(values.borrowerId))
      } catch (e) {
        if (!isAppError(e) || e.code !== 'not_found') throw e
      }
    }

    try {
      // A new borrower typed with a phone that is already on record is probably a returning one.
      if (!values.borrowerId && !values.confirmNew && phoneDigitsOf(values['externalBorrower.phone']).length >= 9) {
        const key = phoneDigitsOf(values['externalBorrower.phone']).replace(/^(?:66|0)/, '')
        const same = (await searchExternalBorrowers(ctx, user, values['externalBorrower.phone'], 10)).filter((b) => phoneDigitsOf(b.phone).endsWith(key))
        if (same.length > 0) {
          await renderLend(req, res, 409, { values, duplicates: same, message: req.t('counter.samePhone') })
          return
        }
      }

      const parsed = typedLines(withoutUnits(values.items))
      const itemErrors: FieldError[] = parsed.bad.length > 0 ? [{ field: 'items', message: 'counter.badLine', params: { line: parsed.bad.join(' · ') } }] : []
      let expanded: { assetCodes: string[]; stock: Array<{ code: string; quantity: number }> } = { assetCodes: [], stock: [] }
      try {
        expanded = await expandScanned(ctx, parsed.lines)
      } catch (e) {
        if (!isAppError(e) || !e.details) throw e
        itemErrors.push(...e.details)
      }
      const input = {
        assetCodes: expanded.assetCodes,
        stock: expanded.stock,
        purpose: values.purpose,
        place: values.place,
        kind: values.kind || undefined,
        startDate: values.startDate,
        dueDate: values.dueDate,
        ...(values.borrowerId
          ? { externalBorrowerId: Number(values.borrowerId), letterNumber: values.letterNumber, letterDate: values.letterDate || null }
          : {
              externalBorrower: {
                type: values['externalBorrower.type'],
                name: values['externalBorrower.name'],
                organisation: values['externalBorrower.organisation'],
                phone: values['externalBorrower.phone'],
                address: values['externalBorrower.address'],
                villageNo: values['externalBorrower.villageNo'],
                idNumber: values['externalBorrower.idNumber'],
                letterNumber: values.letterNumber,
                letterDate: values.letterDate || null,
              },
            }),
      }
      if (values['paperApproval.approverName']) {
        // One officer, one sitting: the named approver's signature on the slip, and the hand-over now.
        Object.assign(input, {
          paperApproval: { approverName: values['paperApproval.approverName'], date: values['paperApproval.date'], note: values['paperApproval.note'] },
          ...(values.handOverNow ? { handedOverOn: today() } : {}),
        })
      } else if (values.handOverNow) {
        itemErrors.push({ field: 'handedOverOn', message: 'loan.paper.handoverNeedsPaper' })
      }
      if (itemErrors.length > 0) {
        // Say everything at once: the items' mistakes and whatever else the form has wrong.
        const r = createLoanSchema.safeParse({ ...input, assetCodes: ['-'] })
        throw new AppError('validation_failed', 'validation.failed', {}, [...itemErrors, ...(r.success ? [] : (validationError(r.error).details ?? []))])
      }
      const loan = await createLoan(ctx, user, input, { scan: scanOf(req, res, 'paperApproval') })
      flash(req, 'success', 'counter.created', { number: loan.number })
      res.redirect(303, `/loans/${loan.loan.id}`)
    } catch (e) {
      if (isAppError(e) && e.details) {
        const errors = fieldErrors(
          e.details.map((d) => ({ ...d, field: counterField(d.field) })),
          req.t,
        )
        await renderLend(req, res, e.status, { values, borrower, errors, message: errors.borrower ?? '' })
        return
      }
      if (isShownInPlace(e)) {
        await renderLend(req, res, e.status, { values, borrower, message: conflictMessage(req, e) })
        return
      }
      throw e
    }
  })

  return router
}
