import { z } from 'zod'
import { parseBahtToSatang } from '../i18n/format.js'

/**
 * An amount in baht from a form or JSON, as whole satang: a number or decimal text with at most two
 * decimals, converted through its decimal text (never float × 100). Empty or absent means unknown
 * (null). An asset's price and a compensation's amounts read the same way.
 */
export const bahtAsSatangSchema = z
  .union([z.string(), z.number()], { error: 'asset.badPrice' })
  .nullable()
  .optional()
  .transform((v, c) => {
    if (v === null || v === undefined || v === '') return null
    const r = parseBahtToSatang(v)
    if (!r.ok) {
      c.addIssue({ code: 'custom', message: 'asset.badPrice' })
      return z.NEVER
    }
    return r.value
  })
