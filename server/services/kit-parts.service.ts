import type { AppContext } from '../context.js'
import { codeKey, normalizeCode } from '../i18n/format.js'
import { listKits } from './stock.service.js'
import { getLoan } from './loan-query.service.js'
import type { CurrentUser } from './user.service.js'

/*
 * A kit's label at the counter (issue 14): a kit is a list of parts — assets and counted items with
 * a quantity (stock.service.ts) — and a loan holds the parts, never the kit itself. Scanning the
 * kit's label at hand-over or return stands for each of its parts that this loan holds; the loan
 * services keep seeing only asset codes and counted lines.
 */

export interface KitInLoan {
  code: string
  name: string
  /** Its assets that are items of the loan, in the kit's order. */
  assetCodes: string[]
  /** Its counted parts that are lines of the loan, with the quantity one kit holds. */
  stock: Array<{ code: string; quantity: number }>
  /** Its parts that the loan does not hold (lent apart, or added to the kit later). */
  notInLoan: string[]
}

/**
 * The kits with at least one part among a loan's asset codes and counted-line codes, in kit-code
 * order, each with what of it the loan holds. Codes are compared as the register stores them
 * (normalised), so a typed or scanned kit code finds its kit here.
 */
export async function kitsInLoan(ctx: AppContext, loan: { assetCodes: readonly string[]; stockCodes: readonly string[] }): Promise<KitInLoan[]> {
  if (loan.assetCodes.length === 0 && loan.stockCodes.length === 0) return []
  // The loan's own spelling of each code goes back out: the services compare codes as the loan holds them.
  const assets = new Map(loan.assetCodes.map((c) => [codeKey(c), c]))
  const stock = new Map(loan.stockCodes.map((c) => [codeKey(c), c]))
  const out: KitInLoan[] = []
  for (const k of await listKits(ctx)) {
    const held: KitInLoan = { code: normalizeCode(k.kit.code), name: k.kit.name, assetCodes: [], stock: [], notInLoan: [] }
    for (const p of k.parts) {
      const code = normalizeCode(p.code)
      const asset = p.kind === 'asset' ? assets.get(codeKey(code)) : undefined
      const line = p.kind === 'stock' ? stock.get(codeKey(code)) : undefined
      if (asset !== undefined) held.assetCodes.push(asset)
      else if (line !== undefined) held.stock.push({ code: line, quantity: p.quantity })
      else held.notInLoan.push(code)
    }
    if (held.assetCodes.length > 0 || held.stock.length > 0) out.push(held)
  }
  return out
}

/** The kit among these whose label this code is, if any. */
export function kitNamed(kits: readonly KitInLoan[], code: string): KitInLoan | undefined {
  const c = codeKey(code)
  return kits.find((k) => codeKey(k.code) === c)
}

/**
 * Scanned codes with each kit's code replaced by its asset parts that the loan holds (a kit that
 * is a list of counted items only stands for no asset code); other codes pass unchanged, so an
 * unknown one is still refused by the service with its own message. Order kept, duplicates dropped.
 */
export function expandKitCodes(kits: readonly KitInLoan[], codes: readonly string[]): string[] {
  const out: string[] = []
  for (const code of codes) {
    const kit = kitNamed(kits, code)
    for (const c of kit ? kit.assetCodes : [code]) if (!out.includes(c)) out.push(c)
  }
  return out
}

/** Which kit each asset of the loan is listed under on the screens: the first kit (by code) that holds it. */
export function kitOfAsset(kits: readonly KitInLoan[]): Map<string, KitInLoan> {
  const out = new Map<string, KitInLoan>()
  for (const k of kits) for (const c of k.assetCodes) if (!out.has(c)) out.set(c, k)
  return out
}

/**
 * The API's hand-over body with each kit code among `confirmedCodes` turned into its items on the
 * loan, as the hand-over screen does; a body of another shape passes unchanged for the loan service
 * to refuse in its own words.
 */
export async function handoverBodyWithKits(
  ctx: AppContext,
  viewer: CurrentUser,
  loanId: number,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const codes = body.confirmedCodes
  if (!Array.isArray(codes) || !codes.every((c): c is string => typeof c === 'string')) return body
  const v = await getLoan(ctx, viewer, loanId)
  const kits = await kitsInLoan(ctx, { assetCodes: v.items.map((i) => i.asset_code), stockCodes: v.stock.map((l) => l.code) })
  return { ...body, confirmedCodes: expandKitCodes(kits, codes.map(normalizeCode)) }
}

/**
 * The API's return body with each `items[]` line that names a kit turned into one line per item of
 * the kit still out on the loan, each with the line's condition, note and bringer. A kit's counted
 * parts are not guessed: they are sent as `stock` lines with their counts.
 */
export async function returnBodyWithKits(
  ctx: AppContext,
  viewer: CurrentUser,
  loanId: number,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const items = body.items
  if (!Array.isArray(items)) return body
  const named = (i: unknown) =>
    i && typeof i === 'object' && typeof (i as { assetCode?: unknown }).assetCode === 'string' ? (i as { assetCode: string }).assetCode : null
  if (items.every((i) => named(i) === null)) return body
  const v = await getLoan(ctx, viewer, loanId)
  const out = v.items.filter((i) => i.returned_at === null)
  const kits = await kitsInLoan(ctx, { assetCodes: out.map((i) => i.asset_code), stockCodes: [] })
  if (kits.length === 0) return body
  return {
    ...body,
    items: items.flatMap((i) => {
      const code = named(i)
      const kit = code === null || out.some((o) => codeKey(o.asset_code) === codeKey(code)) ? undefined : kitNamed(kits, code)
      return kit ? kit.assetCodes.map((assetCode) => ({ ...(i as object), assetCode })) : [i]
    }),
  }
}
