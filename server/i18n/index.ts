import type { Locale } from '../../db/schema.js'
import { common } from './messages/common.js'
import { auth } from './messages/auth.js'
import { admin } from './messages/admin.js'
import { audit } from './messages/audit.js'
import { asset } from './messages/asset.js'
import { assetImport } from './messages/asset-import.js'
import { labels } from './messages/labels.js'
import { loan } from './messages/loan.js'
import { stock } from './messages/stock.js'
import { stockPages } from './messages/stock-pages.js'
import { documents } from './messages/documents.js'
import { cart } from './messages/cart.js'
import { loanApi } from './messages/loan-api.js'
import { loanPages } from './messages/loan-pages.js'
import { counter } from './messages/counter.js'
import { loanStockPages } from './messages/loan-stock-pages.js'
import { register } from './messages/register.js'
import { reportPages } from './messages/report-pages.js'
import { report } from './messages/report.js'
import { publication } from './messages/publication.js'
import { transparency } from './messages/transparency.js'
import { publicationPages } from './messages/publication-pages.js'
import { backup } from './messages/backup.js'
import { input } from './messages/input.js'
import { permissions } from './messages/permissions.js'
import { a11y } from './messages/a11y.js'
import { loanPolicy } from './messages/loan-policy.js'
import { whereItem } from './messages/where-item.js'
import { notifications } from './messages/notifications.js'
import { date } from './messages/date.js'
import { home } from './messages/home.js'

export type { Locale }

/**
 * Each area keeps its Thai and English side by side (`{ th, en }`), the English typed to have
 * exactly the Thai keys; here they merge into one catalogue per language.
 */
const areas = [
  common,
  auth,
  admin,
  audit,
  asset,
  labels,
  assetImport,
  loan,
  cart,
  loanApi,
  documents,
  loanPages,
  stock,
  loanStockPages,
  stockPages,
  counter,
  register,
  report,
  reportPages,
  publication,
  publicationPages,
  backup,
  transparency,
  input,
  permissions,
  a11y,
  loanPolicy,
  whereItem,
  notifications,
  date,
  home,
] as const

type Merge<T extends readonly { th: object }[]> = T extends readonly [infer H extends { th: object }, ...infer R extends { th: object }[]]
  ? H['th'] & Merge<R>
  : unknown

export type MessageKey = keyof Merge<typeof areas> & string
type Catalogue = Record<string, string>

const catalogues: Record<Locale, Catalogue> = {
  th: Object.assign({}, ...areas.map((a) => a.th)) as Catalogue,
  en: Object.assign({}, ...areas.map((a) => a.en)) as Catalogue,
}

export function hasMessage(key: string): boolean {
  return Object.hasOwn(catalogues.th, key)
}

export function messageKeys(): string[] {
  return Object.keys(catalogues.th)
}

/** Translates a key, filling `{name}` placeholders; an unknown key shows itself so that it gets noticed. */
export function translate(locale: Locale, key: string, params: Record<string, string | number> = {}): string {
  const template = catalogues[locale][key] ?? catalogues.th[key] ?? key
  if (!template.includes('{')) return template // most messages have no placeholder: no regex pass
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (Object.hasOwn(params, name) ? String(params[name]) : m))
}

export type Translate = (key: MessageKey | (string & {}), params?: Record<string, string | number>) => string

export function translator(locale: Locale): Translate {
  return (key, params) => translate(locale, key, params)
}

export function pickLocale(acceptLanguage: string | undefined): Locale {
  // Thai by default; English only when the caller prefers it over Thai.
  if (!acceptLanguage) return 'th'
  const first = acceptLanguage.split(',')[0]?.trim().toLowerCase() ?? ''
  return first.startsWith('en') ? 'en' : 'th'
}
