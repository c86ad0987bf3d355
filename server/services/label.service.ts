import QRCode from 'qrcode'
import * as labelRepo from '../repositories/label.repository.js'
import type { LabelAssetRow } from '../repositories/label.repository.js'
import * as stockRepo from '../repositories/stock.repository.js'
import { AppError } from '../errors.js'
import type { AppContext } from '../context.js'
import { normalizeCode, truncateText, wordsOf } from '../i18n/format.js'
import { fromThaiKeyboard } from '../i18n/keyboard.js'
import { findAssetByCode, listAssets, type AssetListQuery } from './asset.service.js'
import { getSettings, LABEL_LAYOUTS } from './settings.service.js'
import { findKitByCode, findStockByCode, listKits } from './stock.service.js'

// ---- the payload (SPEC §5): the one place that writes it and the one place that reads it back

/** `/q/<encodeURIComponent(code)>`: the resolver path a label points at. */
export function qrPath(code: string): string {
  return `/q/${encodeURIComponent(code)}`
}

/**
 * `<PUBLIC_BASE_URL>/q/<encodeURIComponent(asset code)>`. Printed labels stay on equipment for
 * years, so this never changes meaning; every label and every test goes through here.
 */
export function qrUrl(baseUrl: string, code: string): string {
  return baseUrl.replace(/\/+$/, '') + qrPath(code)
}

// ---- the QR symbol

/** Level M restores up to ~15 % of a scuffed label; the modules stay large enough for 3×8 cells. */
export const QR_ERROR_CORRECTION = 'M' as const
/** The quiet zone the standard asks for, in modules; it is part of the SVG, so no cell can crowd it. */
export const QR_QUIET_ZONE = 4

/**
 * The QR code of `text` as a scalable SVG (a viewBox, no fixed size: CSS gives it millimetres),
 * drawn straight from the module matrix — no string from the library is parsed or patched.
 * Each run of dark modules in a row is one stroke of width 1 through the row's middle, the
 * compact form the library's own SVG renderer uses, so a 2,000-label sheet stays light.
 */
export function qrSvg(text: string): string {
  const qr = QRCode.create(text, { errorCorrectionLevel: QR_ERROR_CORRECTION })
  const { size, data } = qr.modules
  const q = QR_QUIET_ZONE
  const full = size + 2 * q
  let d = ''
  for (let y = 0; y < size; y++) {
    const row = y * size
    let pen = -1 // where the last run of this row ended; -1 before the first
    let x = 0
    while (x < size) {
      if (!data[row + x]) {
        x++
        continue
      }
      let end = x + 1
      while (end < size && data[row + end]) end++
      d += pen < 0 ? `M${x + q} ${y + q}.5h${end - x}` : `m${x - pen} 0h${end - x}`
      pen = end
      x = end
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${full} ${full}" shape-rendering="crispEdges">` +
    `<path fill="#fff" d="M0 0h${full}v${full}H0z"/><path stroke="#000" d="${d}"/></svg>`
  )
}

// ---- layouts

export type LabelLayout = (typeof LABEL_LAYOUTS)[number]
export { LABEL_LAYOUTS }

export interface LayoutSpec {
  columns: number
  rows: number
  perPage: number
  /** Graphemes of the asset name and of the agency name that fit the cell (public/css/labels.css). */
  nameMax: number
  agencyMax: number
  /** A code longer than this (in UTF-16 units) is set smaller so that it stays whole. */
  longCode: number
}

/** The cell sizes in millimetres live in public/css/labels.css; these are the counts that match them. */
export const LAYOUTS: Readonly<Record<LabelLayout, LayoutSpec>> = Object.freeze({
  '3x8': { columns: 3, rows: 8, perPage: 24, nameMax: 60, agencyMax: 44, longCode: 16 },
  '2x5': { columns: 2, rows: 5, perPage: 10, nameMax: 80, agencyMax: 60, longCode: 20 },
  single: { columns: 1, rows: 1, perPage: 1, nameMax: 70, agencyMax: 60, longCode: 12 },
})

export function isLabelLayout(v: unknown): v is LabelLayout {
  return typeof v === 'string' && (LABEL_LAYOUTS as readonly string[]).includes(v)
}

/** An absent layout takes the agency's setting; an unknown one is refused, naming the parameter. */
export function parseLayout(raw: string | undefined, fallback: LabelLayout): LabelLayout {
  if (raw === undefined || raw === '') return fallback
  if (isLabelLayout(raw)) return raw
  throw new AppError('validation_failed', 'labels.unknownLayout', { layouts: LABEL_LAYOUTS.join(', ') }, [
    { field: 'layout', message: 'labels.unknownLayout', params: { layouts: LABEL_LAYOUTS.join(', ') } },
  ])
}

// ---- the label view-model

export interface LabelView {
  id: number
  code: string
  /** The name cut to fit the layout, between graphemes (Thai marks stay on their consonant). */
  name: string
  /** The full name, for the title attribute when it was cut. */
  fullName: string
  agency: string
  /** The agency's name in words (wordsOf): the sheet lets it wrap only between them. */
  agencyWords: string[]
  url: string
  svg: string
  longCode: boolean
  /** Only on a counted item's pool label or a kit's label: the sheet prints a "count it" or "a set of N" hint. */
  kind?: 'stock' | 'kit'
  /** The counted item's unit (ตัว, ชุด); absent on kits. */
  unit?: string
  /** How many lines a kit has. */
  parts?: number
}

/** What a label needs: an asset, or a counted item's pool or a kit with its hint. */
export type LabelRow = LabelAssetRow & { kind?: 'stock' | 'kit'; unit?: string; parts?: number }

export interface LabelOptions {
  baseUrl: string
  /** Already cut to the layout: it is the same on every label, so it is cut once per sheet. */
  agency: string
  spec: LayoutSpec
}

/** The share of an asset label's name length that a pool or kit label keeps next to its hint. */
const POOL_NAME_SHARE = 0.7

/** One label; no I/O, so a sheet costs one QR encoding per asset and nothing else. */
export function labelFor(asset: LabelRow, opts: LabelOptions): LabelView {
  const url = qrUrl(opts.baseUrl, asset.code)
  // A pool's or a kit's label gives one line of the name to its hint (public/css/labels.css).
  const nameMax = asset.kind ? Math.floor(opts.spec.nameMax * POOL_NAME_SHARE) : opts.spec.nameMax
  return {
    id: asset.id,
    code: asset.code,
    name: truncateText(asset.name, nameMax),
    fullName: asset.name,
    agency: opts.agency,
    agencyWords: wordsOf(opts.agency),
    url,
    svg: qrSvg(url),
    longCode: asset.code.length > opts.spec.longCode,
    ...(asset.kind === 'stock' ? { kind: 'stock' as const, unit: asset.unit ?? '' } : {}),
    ...(asset.kind === 'kit' ? { kind: 'kit' as const, parts: asset.parts ?? 0 } : {}),
  }
}

// Encoding a QR takes about a quarter of a millisecond: a 2,000-label sheet lets other requests in
// between slices instead of holding the event loop for half a second.
const SLICE = 200

export async function buildLabels(assets: readonly LabelRow[], layout: LabelLayout, base: { baseUrl: string; agencyName: string }): Promise<LabelView[]> {
  const spec = LAYOUTS[layout]
  const opts: LabelOptions = { baseUrl: base.baseUrl, agency: truncateText(base.agencyName, spec.agencyMax), spec }
  const out: LabelView[] = new Array(assets.length)
  for (let i = 0; i < assets.length; i++) {
    if (i > 0 && i % SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve))
    out[i] = labelFor(assets[i]!, opts)
  }
  return out
}

// ---- a sheet: the selection, capped, in pages

/** More than this in one print job is a mistake or a job for several; the page says which. */
export const LABEL_CAP = 2000

export type LabelFilter = Omit<AssetListQuery, 'page' | 'pageSize'>

/** Assets by id or by the register's filter; counted items' pools and kits by id, printed after the assets. */
export type LabelSelection = { ids: readonly number[]; stockIds?: readonly number[]; kitIds?: readonly number[] } | { filter: LabelFilter }

export interface LabelSheet {
  layout: LabelLayout
  spec: LayoutSpec
  pages: LabelView[][]
  /** Labels printed. */
  count: number
  /** Assets selected (ids asked for, or the filter's matches). */
  total: number
  capped: boolean
  cap: number
  /** Ids asked for that are not in the register. */
  missing: number
}

export async function defaultLayout(ctx: AppContext): Promise<LabelLayout> {
  return (await getSettings(ctx)).labelLayout
}

export async function labelSheet(ctx: AppContext, selection: LabelSelection, opts: { layout?: string; cap?: number } = {}): Promise<LabelSheet> {
  const cap = opts.cap ?? LABEL_CAP
  const settings = await getSettings(ctx)
  const layout = parseLayout(opts.layout, settings.labelLayout)
  let assets: LabelRow[]
  let total: number
  let missing = 0
  if ('ids' in selection) {
    const ids = [...new Set(selection.ids)]
    const stockIds = [...new Set(selection.stockIds ?? [])]
    const kitIds = [...new Set(selection.kitIds ?? [])]
    if (ids.length + stockIds.length + kitIds.length === 0)
      throw new AppError('validation_failed', 'labels.nothingChosen', {}, [{ field: 'ids', message: 'labels.nothingChosen' }])
    total = ids.length + stockIds.length + kitIds.length
    const assetIds = ids.slice(0, cap)
    const poolIds = stockIds.slice(0, Math.max(0, cap - assetIds.length))
    const setIds = kitIds.slice(0, Math.max(0, cap - assetIds.length - poolIds.length))
    assets = assetIds.length > 0 ? await labelRepo.listByIds(ctx.db, assetIds) : []
    const pools = (await stockRepo.byIds(ctx.db, poolIds)).sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    const kits = setIds.length > 0 ? (await listKits(ctx)).filter((k) => setIds.includes(k.kit.id)) : []
    const chosen = assets.length + pools.length + kits.length
    assets = [
      ...assets,
      ...pools.map((p) => ({ id: p.id, code: p.code, name: p.name, kind: 'stock' as const, unit: p.unit })),
      ...kits.map((k) => ({ id: k.kit.id, code: k.kit.code, name: k.kit.name, kind: 'kit' as const, parts: k.parts.length })),
    ]
    missing = Math.min(total, cap) - chosen
  } else {
    const found = await listAssets(ctx, { ...selection.filter, page: 1, pageSize: cap })
    assets = found.items
    total = found.total
  }
  const labels = await buildLabels(assets, layout, { baseUrl: ctx.config.publicBaseUrl, agencyName: settings.agencyName })
  const spec = LAYOUTS[layout]
  const pages: LabelView[][] = []
  for (let i = 0; i < labels.length; i += spec.perPage) pages.push(labels.slice(i, i + spec.perPage))
  return { layout, spec, pages, count: labels.length, total, capped: total > cap, cap, missing }
}

// ---- reading a scan back (the scanner page)

const THAI = /[\u0E00-\u0E7F]/
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i

export type ScanResult =
  | { ok: true; path: string }
  | { ok: false; reason: 'empty' }
  | { ok: false; reason: 'foreign'; host: string }
  | { ok: false; reason: 'not_a_label' }

/**
 * One code space: an asset, a counted item's pool or a kit. The code as the register stores it, for
 * any spelling with the same key (an old label's ํา for ำ, Thai digits, case), or undefined.
 */
export async function storedCode(ctx: AppContext, code: string): Promise<string | undefined> {
  const asset = await findAssetByCode(ctx, code)
  if (asset) return asset.code
  const stock = await findStockByCode(ctx, code)
  if (stock) return stock.code
  return (await findKitByCode(ctx, code))?.kit.code
}

/**
 * A scan or a typed entry to the page it means: one of this site's label URLs goes to its `/q/…`
 * path; a bare code goes to `/q/<code>`. A URL from another site is refused rather than followed:
 * asset codes repeat from one agency to the next, so another agency's label must not open ours.
 * `origins` are the origins that count as this site (PUBLIC_BASE_URL and the one the page was
 * served from, e.g. a LAN address).
 */
export async function resolveScan(ctx: AppContext, input: string, origins: readonly string[]): Promise<ScanResult> {
  // Scanners may add a carriage return, a tab or a prefix control character.
  let text = input.replace(/[\u0000-\u001f\u007f]/g, '').trim()
  if (text === '') return { ok: false, reason: 'empty' }
  if (THAI.test(text) && URL_LIKE.test(fromThaiKeyboard(text))) text = fromThaiKeyboard(text)

  if (URL_LIKE.test(text)) {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return { ok: false, reason: 'not_a_label' }
    }
    const base = new URL(ctx.config.publicBaseUrl)
    if (!origins.includes(url.origin) && url.origin !== base.origin) return { ok: false, reason: 'foreign', host: url.host }
    const basePath = base.pathname.replace(/\/+$/, '')
    const path = basePath && url.pathname.startsWith(`${basePath}/q/`) ? url.pathname.slice(basePath.length) : url.pathname
    // The URL parser has already resolved dot segments and percent-encoded what needed it.
    if (!path.startsWith('/q/') || path.length <= 3) return { ok: false, reason: 'not_a_label' }
    return { ok: true, path }
  }

  const code = normalizeCode(text)
  const known = await storedCode(ctx, code)
  if (known !== undefined) return { ok: true, path: qrPath(known) }
  if (THAI.test(code)) {
    const typed = normalizeCode(fromThaiKeyboard(code))
    const knownTyped = typed !== code ? await storedCode(ctx, typed) : undefined
    if (knownTyped !== undefined) return { ok: true, path: qrPath(knownTyped) }
  }
  return { ok: true, path: qrPath(code) }
}
