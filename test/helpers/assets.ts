import type { AppContext } from '../../server/context.js'
import { createAsset, type AssetListRow } from '../../server/services/asset.service.js'
import { findCategoryByCode } from '../../server/services/category.service.js'

let seq = 0

/** Makes an asset through the real service; each call gets a fresh code unless one is given. */
export async function makeAsset(
  ctx: AppContext,
  overrides: { code?: string; name?: string; category?: string; loanable?: boolean; price?: string | number | null; location?: string } = {},
): Promise<AssetListRow> {
  seq++
  const category = await findCategoryByCode(ctx, overrides.category ?? 'electrical')
  return createAsset(
    ctx,
    { id: null, label: 'test' },
    {
      code: overrides.code ?? `416-66-${String(seq).padStart(4, '0')}`,
      name: overrides.name ?? `เครื่องขยายเสียง ${seq}`,
      categoryId: category!.id,
      location: overrides.location ?? 'ห้องพัสดุ',
      price: overrides.price ?? '7,900.00',
      loanable: overrides.loanable,
    },
  )
}
