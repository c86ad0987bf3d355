import { z } from 'zod'
import { writeTransaction, type Db } from '../../db/connection.js'
import { BORROWER_TYPES } from '../../db/schema.js'
import * as loans from '../repositories/loan.repository.js'
import * as assets from '../repositories/asset.repository.js'
import * as users from '../repositories/user.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { fiscalYearOf } from '../i18n/calendar.js'
import { normalizeCode } from '../i18n/format.js'
import { append } from './audit.service.js'
import { actorOf, hasRole, normalizeUsername, type CurrentUser } from './user.service.js'
import { parseOrThrow } from '../lib/validation.js'
import { getSettings } from './settings.service.js'
import { checkLoanDates, LOAN_KINDS, maxLoanDaysFor } from './loan-rules.js'
import {
  assertStockFits,
  calendarDate,
  conflictError,
  enforce,
  fieldError,
  nowIso,
  stepData,
  paperApprovalSchema,
  resolveStock,
  text,
  today,
} from './loan-common.js'
import { viewsOf, type LoanView } from './loan-query.service.js'
import { notifyLoanEvent } from './notification.service.js'
import { recordPaperApproval, resolvePaperApprover, stageScan, withScan } from './loan-paper.service.js'
import type { NewAttachment } from './attachment.service.js'
import { handOverIn } from './loan-handover.service.js'
import { collectableFrom } from './loan-policy.js'

const externalBorrowerSchema = z.object({
  type: z.enum(BORROWER_TYPES, { error: 'loan.unknownBorrowerType' }).default('public'),
  name: text(1, 200),
  organisation: z.string().trim().max(200, { error: 'validation.tooLong' }).default(''),
  phone: z.string().trim().max(50, { error: 'validation.tooLong' }).default(''),
  address: z.string().trim().max(500, { error: 'validation.tooLong' }).default(''),
  // หมู่ที่ is a small whole number (the form's number field); "-1" or "1e12" is not a village.
  villageNo: z
    .string()
    .trim()
    .regex(/^(?:[1-9][0-9]{0,2})?$/, { error: 'input.villageNo' })
    .default(''),
  // A Thai national ID: 13 digits, dashes allowed between them.
  idNumber: z
    .string()
    .trim()
    .max(20, { error: 'validation.tooLong' })
    .regex(/^[0-9-]*$/, { error: 'loan.badIdNumber' })
    .refine((s) => s === '' || /^[0-9](?:-?[0-9]){12}$/.test(s), { error: 'input.idNumber13' })
    .default(''),
  letterNumber: z.string().trim().max(100, { error: 'validation.tooLong' }).default(''),
  letterDate: calendarDate.nullable().optional(),
})

export const createLoanSchema = z
  .object({
    assetCodes: z
      .array(z.string({ error: 'loan.badAssetCode' }).transform(normalizeCode), { error: 'loan.noItems' })
      .max(100, { error: 'loan.tooManyItems' })
      .default([]),
    /** Counted items by quantity (chairs, tent sets). */
    stock: z
      .array(
        z.object({
          code: z.string({ error: 'loan.badAssetCode' }).transform(normalizeCode),
          quantity: z.number({ error: 'validation.integer' }).int({ error: 'validation.integer' }).min(1, { error: 'validation.min1' }).max(100_000),
        }),
        { error: 'validation.invalid' },
      )
      .max(50, { error: 'loan.tooManyItems' })
      .default([]),
    purpose: text(3, 500, 'loan.purposeRequired'),
    place: text(2, 300, 'loan.placeRequired'),
    kind: z.enum(LOAN_KINDS, { error: 'loan.unknownKind' }),
    startDate: calendarDate,
    dueDate: calendarDate,
    borrower: z.string().transform(normalizeUsername).optional(),
    externalBorrower: externalBorrowerSchema.optional(),
    /** An external borrower already on record (a returning borrower at the counter): no new row. */
    externalBorrowerId: z
      .number({ error: 'loan.unknownBorrower' })
      .int({ error: 'loan.unknownBorrower' })
      .positive({ error: 'loan.unknownBorrower' })
      .optional(),
    /** Another agency's letter for this loan, when the borrower is one on record (a new one carries it in externalBorrower). */
    letterNumber: z.string().trim().max(100, { error: 'validation.tooLong' }).optional(),
    letterDate: calendarDate.nullable().optional(),
    afterTheFact: z.boolean().default(false),
    paperApproval: paperApprovalSchema.optional(),
    handedOverOn: calendarDate.optional(),
  })
  // `when`: say that items are missing even while other fields are wrong, so one round shows every mistake.
  .refine((d) => (Array.isArray(d.assetCodes) && d.assetCodes.length > 0) || (Array.isArray(d.stock) && d.stock.length > 0), {
    path: ['assetCodes'],
    error: 'loan.noItems',
    when: () => true,
  })
  .refine((d) => !(d.borrower && d.externalBorrower), { path: ['borrower'], error: 'loan.twoBorrowers' })
  .refine((d) => d.externalBorrowerId === undefined || (!d.borrower && !d.externalBorrower), { path: ['externalBorrowerId'], error: 'loan.twoBorrowers' })

async function resolveAssets(db: Db, codes: string[]) {
  const unique = [...new Set(codes)]
  if (unique.length !== codes.length) throw fieldError('assetCodes', 'loan.duplicateItem')
  const rows: NonNullable<Awaited<ReturnType<typeof assets.findByCode>>>[] = []
  for (const code of unique) {
    const a = await assets.findByCode(db, code)
    if (!a) throw fieldError('assetCodes', 'loan.unknownAsset', { code })
    // Two spellings of one code (ำ and ํา) are the same asset.
    if (rows.some((r) => r.id === a.id)) throw fieldError('assetCodes', 'loan.duplicateItem')
    rows.push(a)
  }
  return rows
}

/**
 * A request (staff for themselves; finance for anyone: a user or an external borrower). Finance may
 * bring in a paper loan after the fact with its real past dates, its paper approval and the date
 * it was handed over; such a loan is flagged and starts on loan. At the counter the officer records
 * the named approver's paper approval (with the slip's scan) and hands over in the same sitting.
 * Nobody enters a loan for themselves by any of these paths (SPEC §1, never switchable).
 */
export async function createLoan(ctx: AppContext, actor: CurrentUser, input: unknown, opts: { scan?: NewAttachment } = {}): Promise<LoanView> {
  const data = parseOrThrow(createLoanSchema, input)
  const isFinance = hasRole(actor, 'finance')
  if (
    !isFinance &&
    (data.borrower || data.externalBorrower || data.externalBorrowerId !== undefined || data.afterTheFact || data.paperApproval || data.handedOverOn)
  ) {
    throw new AppError('forbidden', 'loan.onlyFinanceForOthers')
  }
  if (data.handedOverOn && !data.paperApproval) throw fieldError('paperApproval', 'loan.handoverNeedsApproval')
  if (data.paperApproval && data.handedOverOn && data.paperApproval.date > data.handedOverOn)
    throw fieldError('paperApproval.date', 'loan.paper.dateAfterHandover')
  const settings = await getSettings(ctx)
  const t = today(ctx)

  let borrowerUser: { id: number; name: string; borrower_type: (typeof BORROWER_TYPES)[number]; department_id: number | null } | undefined
  const onRecord = data.externalBorrowerId === undefined ? undefined : (await loans.externalBorrowersByIds(ctx.db, [data.externalBorrowerId]))[0]
  if (data.externalBorrowerId !== undefined && !onRecord) throw fieldError('externalBorrowerId', 'loan.unknownBorrower')
  if (data.externalBorrower === undefined && onRecord === undefined) {
    const u = data.borrower ? await users.findByUsername(ctx.db, data.borrower) : await users.findById(ctx.db, actor.id)
    if (u?.active !== 1) throw fieldError('borrower', 'loan.unknownBorrower')
    borrowerUser = u
  }
  if (borrowerUser?.id === actor.id && (data.afterTheFact || data.paperApproval || data.handedOverOn)) {
    throw new AppError('forbidden', 'loan.sod.borrowerEnters', {}, undefined, 'borrower_approves')
  }
  if (data.kind === 'inter_agency' && data.externalBorrower && !data.externalBorrower.organisation) {
    throw fieldError('externalBorrower.organisation', 'loan.agencyNameRequired')
  }
  if (data.kind === 'inter_agency' && onRecord && !onRecord.organisation) throw fieldError('externalBorrowerId', 'loan.agencyNameRequired')

  const found = await resolveAssets(ctx.db, data.assetCodes)
  for (const a of found) {
    if (a.loanable !== 1) throw fieldError('assetCodes', 'loan.notLoanable', { code: a.code })
    if (a.status !== 'available' && a.status !== 'on_loan') throw new AppError('conflict', 'loan.assetUnavailable', { code: a.code, status: a.status })
  }
  const stockItems = await resolveStock(ctx.db, data.stock)
  const maxDays = maxLoanDaysFor(
    settings.maxLoanDays,
    found.map((a) => a.max_loan_days),
  )
  const dates = checkLoanDates(data.startDate, data.dueDate, { today: t, maxDays, afterTheFact: data.afterTheFact })
  if (!dates.ok)
    throw fieldError(dates.reason === 'due_before_start' || dates.reason === 'too_long' ? 'dueDate' : 'startDate', `loan.dates.${dates.reason}`, {
      max: maxDays,
    })
  // The same window as any hand-over (SPEC §3): from the start less the early days, never in the future.
  const firstDay = collectableFrom(data.startDate, settings.handOverEarlyDays)
  if (data.handedOverOn && (data.handedOverOn < firstDay || data.handedOverOn > t)) {
    throw fieldError('handedOverOn', 'loan.badHandoverDate', { from: firstDay, days: settings.handOverEarlyDays })
  }

  const scan = data.paperApproval ? await stageScan(ctx, opts.scan, 'paperApproval') : undefined
  const id = await withScan(scan, () =>
    writeTransaction(ctx.db, async (trx) => {
      const conflicts = await loans.openConflicts(
        trx,
        found.map((a) => a.id),
        data.startDate,
        data.dueDate,
        t,
      )
      if (conflicts.length > 0) throw conflictError(conflicts[0]!)
      await assertStockFits(trx, stockItems, data.startDate, data.dueDate, t)
      let externalId: number | null = onRecord?.id ?? null
      if (data.externalBorrower) {
        const e = data.externalBorrower
        const at = nowIso(ctx)
        externalId = (
          await loans.insertExternalBorrower(trx, {
            type: e.type,
            name: e.name,
            organisation: e.organisation,
            phone: e.phone,
            address: e.address,
            village_no: e.villageNo,
            id_number: e.idNumber,
            created_at: at,
            updated_at: at,
          })
        ).id
      }
      const requestedAt = nowIso(ctx)
      // A paper loan keyed in later keeps the number series of the day it was really asked for.
      const requestedOn = data.afterTheFact ? [data.startDate, data.paperApproval?.date ?? data.startDate].sort()[0]! : t
      const fiscalYear = fiscalYearOf(requestedOn)
      const seq = await loans.nextNumber(trx, fiscalYear)
      const loan = await loans.insert(trx, {
        fiscal_year: fiscalYear,
        seq,
        status: 'pending',
        kind: data.kind,
        borrower_user_id: borrowerUser?.id ?? null,
        external_borrower_id: externalId,
        borrower_type: borrowerUser?.borrower_type ?? onRecord?.type ?? data.externalBorrower!.type,
        department_id: borrowerUser?.department_id ?? null,
        letter_number: data.externalBorrower?.letterNumber ?? data.letterNumber ?? '',
        letter_date: data.externalBorrower?.letterDate ?? data.letterDate ?? null,
        requested_by: actor.id,
        requested_at: requestedAt,
        requested_on: requestedOn,
        purpose: data.purpose,
        place: data.place,
        start_on: data.startDate,
        due_on: data.dueDate,
        original_due_on: data.dueDate,
        entered_after_fact: data.afterTheFact ? 1 : 0,
        updated_at: requestedAt,
      })
      await loans.insertItems(
        trx,
        loan.id,
        found.map((a) => a.id),
      )
      await stockRepo.insertLines(
        trx,
        loan.id,
        stockItems.map((l) => ({ stock_id: l.item.id, quantity: l.quantity })),
      )
      await append(trx, ctx.clock, actorOf(actor), {
        action: 'loan.requested',
        entity: 'loan',
        entityId: loan.id,
        data: stepData(loan, settings, {
          kind: loan.kind,
          assets: found.map((a) => a.code),
          stock: stockItems.map((l) => ({ code: l.item.code, quantity: l.quantity })),
          startOn: loan.start_on,
          dueOn: loan.due_on,
          borrowerUserId: loan.borrower_user_id,
          externalBorrowerId: externalId,
          enteredAfterFact: data.afterTheFact,
        }),
      })
      if (data.paperApproval) {
        await enforce(trx, 'recordPaper', actor, loan, settings, t)
        const borrower = borrowerUser
          ? { userId: borrowerUser.id, name: borrowerUser.name }
          : { userId: null, name: onRecord?.name ?? data.externalBorrower?.name ?? '' }
        const choice = await resolvePaperApprover(
          trx,
          settings,
          loan.kind,
          data.paperApproval.approverName,
          { recorder: actor, borrower, requester: actor },
          'paperApproval',
        )
        await recordPaperApproval(ctx, trx, actor, loan, data.paperApproval, choice, settings, { scan, field: 'paperApproval' })
      }
      if (data.handedOverOn) await handOverIn(ctx, trx, actor, loan.id, settings, { on: data.handedOverOn, paper: data.afterTheFact })
      // Finance learns of a request that waits for its check (none when it was approved on paper in the same step).
      await notifyLoanEvent(ctx, trx, 'loan.requested', loan.id, actor.id)
      return loan.id
    }),
  )
  return (await viewsOf(ctx, [(await loans.findById(ctx.db, id))!]))[0]!
}
