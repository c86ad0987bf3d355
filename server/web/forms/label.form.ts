import type { Request } from 'express'
import { assetQuery } from './asset.form.js'
import { str } from './common.form.js'

// A query string longer than this many ids would not get through a browser or Node anyway.
const MAX_IDS = 10_000

/**
 * `ids=1,2,3`, `ids=1&ids=2` (the chooser's checkboxes) or both; anything not an id is dropped,
 * duplicates too, first occurrence wins.
 */
export function idsParam(v: unknown): number[] {
  const parts = (Array.isArray(v) ? v : [v]).filter((p): p is string => typeof p === 'string').flatMap((p) => p.split(','))
  const out = new Set<number>()
  for (const p of parts) {
    const s = p.trim()
    if (/^\d{1,15}$/.test(s) && Number(s) > 0) out.add(Number(s))
    if (out.size >= MAX_IDS) break
  }
  return [...out]
}

/** The sheet's query: a selection (ids, stock and kits, or the register's filters with all=1) and a layout. */
export function labelSheetQuery(query: Request['query']) {
  const filters = assetQuery(query)
  const layout = str(query.layout as string | string[] | undefined)
  return {
    ids: idsParam(query.ids),
    /** Counted items' pools and kits (the chooser's second list), by id. */
    stock: idsParam(query.stock),
    kits: idsParam(query.kits),
    all: str(query.all as string | string[] | undefined) === '1',
    filters,
    layout: layout === undefined ? undefined : layout.trim(),
  }
}

/** The filters as a query string, for links and hidden fields that keep them. */
export function filterParams(f: ReturnType<typeof assetQuery>): URLSearchParams {
  const out = new URLSearchParams()
  if (f.q) out.set('q', f.q)
  if (f.category) out.set('category', f.category)
  if (f.department) out.set('department', f.department)
  if (f.status) out.set('status', f.status)
  if (f.loanable !== undefined) out.set('loanable', f.loanable ? '1' : '0')
  return out
}
