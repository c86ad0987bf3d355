import type { SessionData } from 'express-session'

/**
 * The loan cart kept in the session: asset codes, and counted items with a quantity. Sessions
 * written before counted stock existed hold a bare array of asset codes; it is read as the asset
 * part of a cart and written back in the new shape on the next change.
 */
export interface CartStockLine {
  code: string
  quantity: number
}

export interface CartState {
  assets: string[]
  stock: CartStockLine[]
}

/** The older session shape: asset codes only. */
export type LegacyCart = string[]

type WithCart = Partial<Pick<SessionData, 'cart'>> | undefined | null

const isText = (v: unknown): v is string => typeof v === 'string' && v !== ''

/** The cart as it is now, whatever shape the session holds (a damaged one reads as empty). */
export function readCart(session: WithCart): CartState {
  const raw = session?.cart as unknown
  if (Array.isArray(raw)) return { assets: [...new Set(raw.filter(isText))], stock: [] }
  if (!raw || typeof raw !== 'object') return { assets: [], stock: [] }
  const c = raw as { assets?: unknown; stock?: unknown }
  const assets = Array.isArray(c.assets) ? [...new Set(c.assets.filter(isText))] : []
  const stock: CartStockLine[] = []
  if (Array.isArray(c.stock)) {
    for (const l of c.stock as unknown[]) {
      if (!l || typeof l !== 'object') continue
      const { code, quantity } = l as { code?: unknown; quantity?: unknown }
      if (!isText(code) || typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) continue
      const same = stock.find((s) => s.code === code)
      if (same) same.quantity += quantity
      else stock.push({ code, quantity })
    }
  }
  return { assets, stock }
}

/** Stores the cart; an empty one leaves the session. */
export function writeCart(session: { cart?: SessionData['cart'] }, cart: CartState): void {
  if (cart.assets.length === 0 && cart.stock.length === 0) delete session.cart
  else session.cart = { assets: [...cart.assets], stock: cart.stock.map((l) => ({ code: l.code, quantity: l.quantity })) }
}

/** How many lines the cart holds (an asset is one line, a counted item with its quantity is one line). */
export function cartLineCount(session: WithCart): number {
  const c = readCart(session)
  return c.assets.length + c.stock.length
}

export function cartHasAsset(session: WithCart, code: string): boolean {
  return readCart(session).assets.includes(code)
}

/** The quantity of a counted item in the cart (0 when it is not there). */
export function cartStockQuantity(session: WithCart, code: string): number {
  return readCart(session).stock.find((l) => l.code === code)?.quantity ?? 0
}

/** The cart as lines of the finance entry page's items field: `CODE` or `CODE x80`. */
export function cartAsText(cart: CartState): string {
  return [...cart.assets, ...cart.stock.map((l) => `${l.code} x${l.quantity}`)].join('\n')
}

/** What is left in the cart once a loan took these codes. */
export function cartWithout(cart: CartState, used: { assetCodes: string[]; stockCodes: string[] }): CartState {
  const a = new Set(used.assetCodes)
  const s = new Set(used.stockCodes)
  return { assets: cart.assets.filter((c) => !a.has(c)), stock: cart.stock.filter((l) => !s.has(l.code)) }
}
