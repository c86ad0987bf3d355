import { z } from 'zod'
import { writeTransaction } from '../../db/connection.js'
import * as settingsRepo from '../repositories/setting.repository.js'
import { cached } from '../lib/cache.js'
import type { AppContext } from '../context.js'
import { append, type Actor } from './audit.service.js'
import { parseOrThrow } from '../lib/validation.js'
import * as users from '../repositories/user.repository.js'
import { AppError } from '../errors.js'
import { DEFAULT_SALVAGE_RATES } from './loan-rules.js'
import { notifyOversight } from './notification.service.js'

const text = (max: number) => z.string().trim().max(max, { error: 'validation.tooLong' })
const days = (max: number) =>
  z.number({ error: 'validation.number' }).int({ error: 'validation.integer' }).min(1, { error: 'validation.min1' }).max(max, { error: 'settings.tooManyDays' })

/** A signatory; `username` links them to their account, so that a paper approval in their name reaches them to confirm (SPEC §1). */
const signatory = z.object({ name: text(200).default(''), position: text(200).default(''), username: text(100).default('') })

const itaIndicator = z.object({
  fiscalYear: z.number().int().min(2500).max(2700),
  code: text(50),
  title: text(500),
})

export const LABEL_LAYOUTS = ['3x8', '2x5', 'single'] as const

// Defaults are a reasonable อบต.; every text that carries regulation wording stays editable
// (thai-rules.md marks it as not checked against the Gazette).
export const DEFAULT_RULES_SUMMARY = [
  'ข้อ ๒๐๗ การยืมพัสดุจะกระทำมิได้ เว้นแต่เพื่อประโยชน์ของทางราชการ',
  'ข้อ ๒๐๘ การยืมพัสดุประเภทใช้คงรูป ระหว่างหน่วยงานต้องได้รับอนุมัติจากหัวหน้าหน่วยงานของรัฐผู้ให้ยืม การให้บุคคลยืมใช้ภายในสถานที่ต้องได้รับอนุมัติจากหัวหน้าหน่วยพัสดุ การให้บุคคลยืมนำไปใช้นอกสถานที่ต้องได้รับอนุมัติจากหัวหน้าหน่วยงานของรัฐ โดยผู้ยืมต้องทำหลักฐานการยืมเป็นลายลักษณ์อักษรแสดงเหตุผลและกำหนดวันส่งคืน',
  'ข้อ ๒๐๙ ผู้ยืมต้องส่งคืนพัสดุในสภาพที่ใช้การได้เรียบร้อย หากชำรุดเสียหาย ใช้การไม่ได้ หรือสูญหาย ผู้ยืมต้องซ่อมแซมหรือชดใช้',
  'ข้อ ๒๑๐ การยืมพัสดุประเภทใช้สิ้นเปลืองระหว่างหน่วยงาน ผู้ยืมต้องส่งคืนพัสดุประเภท ชนิด และปริมาณเดียวกัน',
  'ข้อ ๒๑๑ เมื่อครบกำหนดยืม ให้ผู้อนุมัติหรือผู้รับหน้าที่แทนติดตามทวงพัสดุที่ให้ยืมไปภายใน ๗ วันนับแต่วันครบกำหนด',
].join('\n')

export const DEFAULT_UNDERTAKING =
  'ข้าพเจ้าจะส่งคืนในสภาพที่ใช้การได้เรียบร้อย หากเกิดชำรุดเสียหาย หรือใช้การไม่ได้ หรือสูญหายไป ข้าพเจ้าจะจัดการแก้ไขซ่อมแซมให้คงสภาพเดิมโดยเสียค่าใช้จ่ายของตนเอง หรือชดใช้เป็นพัสดุประเภท ชนิด ขนาด ลักษณะและคุณภาพอย่างเดียวกัน หรือชดใช้เป็นเงินตามราคาที่เป็นอยู่ในขณะยืม'

/** The agency settings of SPEC §2; each key is stored as its own row, so a change audits as a diff. */
export const settingsSchema = z
  .object({
    agencyName: text(200).min(1, { error: 'validation.required' }).default('องค์การบริหารส่วนตำบล'),
    agencyAddress: text(500).default(''),
    province: text(100).default(''),
    agencyPhone: text(100).default(''),
    mayor: signatory.default({ name: '', position: 'นายกองค์การบริหารส่วนตำบล', username: '' }),
    chiefAdministrator: signatory.default({ name: '', position: 'ปลัดองค์การบริหารส่วนตำบล', username: '' }),
    financeDirector: signatory.default({ name: '', position: 'ผู้อำนวยการกองคลัง', username: '' }),
    suppliesOfficer: signatory.default({ name: '', position: 'เจ้าพนักงานพัสดุ', username: '' }),
    delegationLine: text(300).default('ปฏิบัติราชการแทนนายกองค์การบริหารส่วนตำบล'),
    defaultLoanDays: days(365).default(7),
    maxLoanDays: days(365).default(30),
    followUpDays: days(60).default(7),
    expiryDays: days(60).default(3),
    /**
     * SPEC §3: how many days before its start an approved loan may be collected (people collect on
     * Friday for a Saturday event); 0 keeps the old rule, from the start date only. Up to 30: beyond a
     * month early the request should say the real start.
     */
    handOverEarlyDays: z
      .number({ error: 'validation.number' })
      .int({ error: 'validation.integer' })
      .min(0, { error: 'settings.negativeDays' })
      .max(30, { error: 'settings.tooManyDays' })
      .default(3),
    thaiDigits: z.boolean().default(true),
    labelLayout: z.enum(LABEL_LAYOUTS).default('3x8'),
    /**
     * SPEC §1, the two-person rule: whoever entered a loan for someone else does not also check or
     * approve it in the app, and the in-premises approver does not also hand it over. A one-officer
     * office turns it off; the borrower rule is never switchable.
     */
    twoPersonRule: z.boolean().default(true),
    rulesSummary: text(10000).default(DEFAULT_RULES_SUMMARY),
    undertakingText: text(5000).default(DEFAULT_UNDERTAKING),
    itaIndicators: z.array(itaIndicator).max(50).default([]),
    /** Salvage value by useful life, for the compensation proposal (thai-rules.md; editable). */
    salvageRates: z
      .array(z.object({ years: z.number().int().min(1).max(100), percent: z.number().min(0).max(100) }))
      .min(1)
      .max(20)
      .default(DEFAULT_SALVAGE_RATES),
  })
  .refine((s) => s.defaultLoanDays <= s.maxLoanDays, { path: ['defaultLoanDays'], error: 'settings.defaultOverMax' })

export type AgencySettings = z.output<typeof settingsSchema>

/** The signatories who may approve a loan on paper (never the supplies officer, who records it), and so may be linked to an account. */
export const LINKABLE_SIGNATORIES = ['mayor', 'chiefAdministrator', 'financeDirector'] as const
export type ApproverSignatory = (typeof LINKABLE_SIGNATORIES)[number]
/** Every signatory of the settings (a change to any of them is told to the executives and the committee). */
const SIGNATORY_KEYS = [...LINKABLE_SIGNATORIES, 'suppliesOfficer'] as const
type SettingKey = keyof AgencySettings
const KEYS = Object.keys(settingsSchema.shape) as SettingKey[]

export function defaultSettings(): AgencySettings {
  return settingsSchema.parse({})
}

/**
 * The same settings without the copy, for the many readers that only look (every page's header and
 * navigation badge): frozen, so that a change by mistake throws rather than leaks into other requests.
 */
export async function sharedSettings(ctx: AppContext): Promise<Readonly<AgencySettings>> {
  // Every page reads them (server/lib/cache.ts).
  return cached(ctx, 'settings', () => readSettings(ctx).then(deepFreeze))
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/** Reads every setting; a stored value that no longer fits its schema falls back to the default. */
export async function getSettings(ctx: AppContext): Promise<AgencySettings> {
  // A copy: a caller may change what it got without changing what the next request sees.
  return structuredClone(await sharedSettings(ctx))
}

async function readSettings(ctx: AppContext): Promise<AgencySettings> {
  const stored = await settingsRepo.getAll(ctx.db)
  const defaults = defaultSettings()
  const shape = settingsSchema.shape
  const out: Record<string, unknown> = { ...defaults }
  for (const [key, raw] of stored) {
    const field = shape[key as SettingKey] as z.ZodType | undefined
    if (!field) continue
    try {
      const r = field.safeParse(JSON.parse(raw))
      if (r.success) out[key] = r.data
    } catch {
      // keep the default
    }
  }
  return out as AgencySettings
}

/** Validates the whole set, writes the keys that changed, and audits them as one diff. */
export async function updateSettings(ctx: AppContext, actor: Actor, input: unknown): Promise<AgencySettings> {
  const current = await getSettings(ctx)
  const next = parseOrThrow(settingsSchema, { ...current, ...(input as object) })
  for (const key of LINKABLE_SIGNATORIES) {
    const username = next[key].username
    if (!username) continue
    const user = await users.findByUsername(ctx.db, username)
    if (user?.active !== 1) {
      throw new AppError('validation_failed', 'validation.failed', {}, [{ field: `${key}.username`, message: 'settings.unknownUser', params: { username } }])
    }
    // The account answers the paper approvals in its name from the loan pages, which finance and executives open.
    const roles = await users.rolesOf(ctx.db, user.id)
    if (!roles.includes('finance') && !roles.includes('executive')) {
      throw new AppError('validation_failed', 'validation.failed', {}, [{ field: `${key}.username`, message: 'settings.signatoryRole', params: { username } }])
    }
  }
  await writeTransaction(ctx.db, async (trx) => {
    const at = ctx.clock.now().toISOString()
    const changed: Record<string, { from: unknown; to: unknown }> = {}
    for (const key of KEYS) {
      const before = JSON.stringify(current[key])
      const after = JSON.stringify(next[key])
      if (before !== after) {
        changed[key] = { from: current[key], to: next[key] }
        await settingsRepo.put(trx, key, after, at)
      }
    }
    if (Object.keys(changed).length > 0) {
      await append(trx, ctx.clock, actor, { action: 'settings.updated', entity: 'settings', entityId: null, data: { changed } })
    }
    // SPEC §1: every executive and committee member hears of the rule turned off and of new signatories.
    if (current.twoPersonRule && !next.twoPersonRule) await notifyOversight(ctx, trx, 'settings.twoPersonOff', actor.id, { by: actor.label })
    const signatories = SIGNATORY_KEYS.filter((k) => k in changed).map((k) => {
      const from = current[k]
      const to = next[k]
      const who = (s: typeof from) => [s.name || '—', s.username ? `(${s.username})` : ''].filter(Boolean).join(' ')
      return `${to.position || from.position}: ${who(from)} → ${who(to)}`
    })
    if (signatories.length > 0) await notifyOversight(ctx, trx, 'settings.signatoriesChanged', actor.id, { by: actor.label, changes: signatories.join('; ') })
  })
  return next
}
