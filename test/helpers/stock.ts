import type { AppContext } from '../../server/context.js'
import { createKit, createStock } from '../../server/services/stock.service.js'

export async function makeStock(ctx: AppContext, over: { code?: string; name?: string; quantity?: number; unit?: string } = {}) {
  return createStock(
    ctx,
    { id: null, label: 'test' },
    { code: over.code ?? 'CHAIR-POOL', name: over.name ?? 'เก้าอี้พลาสติก', unit: over.unit ?? 'ตัว', quantity: over.quantity ?? 120 },
  )
}

export async function makeKit(ctx: AppContext, code: string, parts: Array<{ code: string; quantity?: number }>, name = 'ชุดเครื่องเสียงเคลื่อนที่') {
  return createKit(ctx, { id: null, label: 'test' }, { code, name, parts })
}
