import type { AppContext } from '../context.js'
import type { Translate } from '../i18n/index.js'
import { listKits, listStock } from '../services/stock.service.js'

/**
 * The examples in the items fields' hints, taken from the agency's own register: a counted item's
 * code with a number after it and a kit's code, as they would be typed (`490-66-0001 80`, `ชุด-001`).
 * Made-up codes (CHAIR, KIT-SOUND) matched nothing a person could type; without any counted items
 * or kits the hint says what to type in words.
 */
export async function codeExamples(ctx: AppContext, t: Translate): Promise<{ stock: string; kit: string }> {
  const stock = (await listStock(ctx, { page: 1, pageSize: 20 })).items.find((i) => i.loanable === 1)
  const kit = (await listKits(ctx)).find((k) => k.kit.active === 1)
  return {
    stock: stock ? `${stock.code} ${Math.min(10, Math.max(1, stock.quantity))}` : t('counter.exampleStock'),
    kit: kit ? kit.kit.code : t('counter.exampleKit'),
  }
}
