/**
 * The first-run checklist on the admin's home (issue 16): each item ticked from the data, never by
 * hand, so that it is done when the installation really is ready, and it goes away once all are.
 */
import { writeTransaction } from '../../db/connection.js'
import type { AppContext } from '../context.js'
import { append, type Actor } from './audit.service.js'
import { setupFacts } from '../repositories/setup.repository.js'
import { z } from 'zod'
import { parseOrThrow } from '../lib/validation.js'
import { defaultSettings, getSettings, LABEL_LAYOUTS, type AgencySettings } from './settings.service.js'

export type SetupItemKey = 'agency' | 'signatories' | 'departments' | 'users' | 'categories' | 'import' | 'labels' | 'publicUrl'

export interface SetupItem {
  key: SetupItemKey
  done: boolean
  /** Where the admin (or finance, for the register and the labels) does it. */
  href: string
}

export interface SetupChecklist {
  items: SetupItem[]
  done: number
  total: number
  complete: boolean
  publicBaseUrl: string
}

/** The agency's own name is set: not empty and not the bare default «องค์การบริหารส่วนตำบล», which names no one. */
export function agencyNameSet(settings: Pick<AgencySettings, 'agencyName'>): boolean {
  const name = settings.agencyName.trim()
  return name !== '' && name !== defaultSettings().agencyName
}

/** A QR base that phones on the office network or the internet can open: not localhost or a loopback address. */
export function publicBaseUrlSet(url: string): boolean {
  try {
    const host = new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, '')
    return !(host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0')
  } catch {
    return false
  }
}

export async function setupChecklist(ctx: AppContext): Promise<SetupChecklist> {
  const settings = await getSettings(ctx)
  const facts = await setupFacts(ctx.db)
  const signed = [settings.mayor, settings.chiefAdministrator, settings.financeDirector, settings.suppliesOfficer]
  const items: SetupItem[] = [
    { key: 'agency', done: agencyNameSet(settings) && settings.agencyAddress.trim() !== '', href: '/admin/settings' },
    { key: 'signatories', done: signed.every((s) => s.name.trim() !== '' && s.position.trim() !== ''), href: '/admin/settings#mayorName' },
    { key: 'departments', done: facts.activeDepartments > 0, href: '/admin/departments' },
    { key: 'users', done: facts.financeUsers > 0 && facts.executiveUsers > 0, href: '/admin/users' },
    { key: 'categories', done: facts.activeCategories > 0, href: '/admin/categories' },
    { key: 'import', done: facts.assets > 0, href: '/assets/import' },
    { key: 'labels', done: facts.labelSheetsPrinted > 0, href: '/labels' },
    { key: 'publicUrl', done: publicBaseUrlSet(ctx.config.publicBaseUrl), href: '/admin/settings#publicBaseUrl' },
  ]
  const done = items.filter((i) => i.done).length
  return { items, done, total: items.length, complete: done === items.length, publicBaseUrl: ctx.config.publicBaseUrl }
}

/**
 * A label sheet was sent to the printer (the sheet's print button posts it): the audit log keeps the
 * fact, which ticks «print the labels» on the checklist — a GET of the sheet never writes (issue 14).
 */
export async function recordLabelSheetPrinted(ctx: AppContext, actor: Actor, input: unknown): Promise<void> {
  const data = parseOrThrow(printedSchema, input ?? {})
  await writeTransaction(ctx.db, async (trx) => {
    await append(trx, ctx.clock, actor, { action: 'labels.printed', entity: 'label_sheet', entityId: null, data })
  })
}

const printedSchema = z.object({
  count: z
    .string({ error: 'validation.invalid' })
    .regex(/^\d{1,6}$/, { error: 'validation.invalid' })
    .transform(Number)
    .refine((n) => n > 0, { error: 'validation.invalid' }),
  layout: z.enum(LABEL_LAYOUTS, { error: 'validation.invalid' }),
})
