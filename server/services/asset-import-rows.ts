import type { CategoryRow, DepartmentRow } from '../../db/schema.js'
import * as categories from '../repositories/category.repository.js'
import * as departments from '../repositories/department.repository.js'
import type { AppContext } from '../context.js'
import { formatDate } from '../i18n/format.js'
import { categoryKey, cleanPriceText, dateFromCell, isNoValue, nameKey, parseRegisterDate, parseYesNo, type RegisterField } from '../i18n/register-file.js'
import { validationError } from '../lib/validation.js'
import { assetInputSchema } from './asset.service.js'
import { cellText, type Cell, type HeaderMap, type RawRow } from './asset-import-file.js'

/** Checking one row of a register file against createAsset's rules, with categories and departments looked up by name or code. */

// ---- checking the rows

export interface RowError {
  field: RegisterField | 'row'
  message: string
  params?: Record<string, string | number>
}

export interface PreviewRow {
  line: number
  /** What the file says, as text, for the fields it has. */
  values: Partial<Record<RegisterField, string>>
  errors: RowError[]
  /** The input for assetInputSchema, for a row without errors. */
  input?: Record<string, unknown>
}

export interface Lookups {
  category(text: string): { ok: true; row: CategoryRow } | { ok: false; ambiguous: boolean }
  department(text: string): { ok: true; row: DepartmentRow } | { ok: false; ambiguous: boolean }
}

function indexBy<T>(rows: T[], keys: (r: T) => string[]): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const r of rows) {
    for (const k of new Set(keys(r))) {
      if (!k) continue
      const list = out.get(k) ?? []
      list.push(r)
      out.set(k, list)
    }
  }
  return out
}

function lookup<T>(index: Map<string, T[]>, key: string): { ok: true; row: T } | { ok: false; ambiguous: boolean } {
  const found = index.get(key) ?? []
  if (found.length === 1) return { ok: true, row: found[0]! }
  return { ok: false, ambiguous: found.length > 1 }
}

/** Categories by code or Thai name with or without «ครุภัณฑ์»; departments by code or name. */
export async function loadLookups(ctx: AppContext): Promise<Lookups> {
  const cats = indexBy(await categories.listAll(ctx.db), (c) => [nameKey(c.code), categoryKey(c.name)])
  const deps = indexBy(await departments.listAll(ctx.db), (d) => [nameKey(d.code), nameKey(d.name)])
  return {
    category: (text) => lookup(cats, categoryKey(text)),
    department: (text) => lookup(deps, nameKey(text)),
  }
}

/** The schema's field names, as the file's columns. */
const SCHEMA_FIELD: Record<string, RegisterField> = { categoryId: 'category', departmentId: 'department' }

/** What is wrong with a date the file has, beyond its form: «31/02/2566» is a day that does not exist. */
const DATE_REASON: Partial<Record<string, string>> = {
  invalid: 'assetImport.row.noSuchDate',
  out_of_range: 'assetImport.row.dateOutOfRange',
}

/** What is wrong with a price the schema refused: negative, too many decimals, or not a number at all. */
function priceReason(cell: Cell, text: string): string {
  const t = text.replace(/\s+/g, '').replace(/\u2212/g, '-')
  const negative = (typeof cell === 'number' && cell < 0) || /^-[\d,]*\.?\d+$/.test(t) || /^\([\d,]*\.?\d+\)$/.test(t) || /^[\d,]*\.?\d+-$/.test(t)
  if (negative) return 'assetImport.row.negativePrice'
  if (/^[\d,]*\.\d{3,}$/.test(t) || (typeof cell === 'number' && cell >= 0)) return 'assetImport.row.priceDecimals'
  return 'assetImport.row.badPrice'
}

/** Excel's day 0 is 1899-12-30 (it counts 1900 as a leap year). */
function excelSerialToDate(serial: number): Date {
  return new Date(Date.UTC(1899, 11, 30) + Math.floor(serial) * 86_400_000)
}

function displayValue(c: Cell): string {
  if (c instanceof Date) {
    const d = dateFromCell(c)
    return d.ok ? formatDate(d.value, { locale: 'th', style: 'numeric' }) : ''
  }
  return cellText(c)
}

/** An XLSX number with float noise (1234.5600000001) is the price it shows; one with more decimals stays wrong. */
function priceFromNumber(n: number): string | number {
  const cents = Math.round(n * 100)
  return Math.abs(n * 100 - cents) < 1e-6 ? (cents / 100).toFixed(2) : n
}

function integerInput(c: Cell, text: string): number | string | null {
  if (typeof c === 'number') return c
  if (text === '') return null
  return /^\d{1,9}$/.test(text) ? Number(text) : text
}

/**
 * One row to the input of createAsset's schema, with the import's own checks (category and
 * department by name, Thai dates, yes/no words) before it; the schema's rules decide the rest.
 */
export function checkRow(row: RawRow, map: HeaderMap, lookups: Lookups): PreviewRow {
  const raw = (f: RegisterField): Cell[] => (map.columns[f] ?? []).map((i) => row.cells[i] ?? null)
  const values: PreviewRow['values'] = {}
  const text = (f: RegisterField): string => {
    const t = raw(f)
      .map(displayValue)
      .filter((s) => s !== '')
      .join(' ')
    if (t) values[f] = t
    return isNoValue(t) ? '' : t
  }
  const errors: RowError[] = []
  const input: Record<string, unknown> = {
    code: text('code'),
    name: text('name'),
    brandModel: text('brandModel'),
    serialNumber: text('serialNumber'),
    location: text('location'),
    fundingSource: text('fundingSource'),
    notes: text('notes'),
    departmentId: null,
    acquiredOn: null,
    price: null,
    usefulLifeYears: integerInput(raw('usefulLifeYears')[0] ?? null, text('usefulLifeYears')),
    maxLoanDays: integerInput(raw('maxLoanDays')[0] ?? null, text('maxLoanDays')),
  }

  const category = text('category')
  if (category) {
    const c = lookups.category(category)
    if (c.ok) input.categoryId = c.row.id
    else errors.push({ field: 'category', message: 'assetImport.row.unknownCategory', params: { value: category } })
  } else {
    errors.push({ field: 'category', message: 'validation.required' })
  }

  const department = text('department')
  if (department) {
    const d = lookups.department(department)
    if (d.ok) input.departmentId = d.row.id
    else
      errors.push({
        field: 'department',
        message: d.ambiguous ? 'assetImport.row.ambiguousDepartment' : 'assetImport.row.unknownDepartment',
        params: { value: department },
      })
  }

  const dateCell = raw('acquiredOn')[0] ?? null
  const dateText = text('acquiredOn')
  if (dateText) {
    const parsed =
      dateCell instanceof Date
        ? dateFromCell(dateCell)
        : typeof dateCell === 'number' && Number.isInteger(dateCell) && dateCell > 0 && dateCell < 2_958_466
          ? dateFromCell(excelSerialToDate(dateCell))
          : parseRegisterDate(dateText)
    if (parsed.ok) input.acquiredOn = parsed.value
    else errors.push({ field: 'acquiredOn', message: DATE_REASON[parsed.reason] ?? 'assetImport.row.badDate', params: { value: dateText } })
  }

  const priceCell = raw('price')[0] ?? null
  const priceText = text('price')
  if (priceText) input.price = typeof priceCell === 'number' ? priceFromNumber(priceCell) : cleanPriceText(priceText)

  const loanCell = raw('loanable')[0] ?? null
  const loanText = text('loanable')
  if (typeof loanCell === 'boolean') input.loanable = loanCell
  else if (loanText) {
    const yes = parseYesNo(loanText)
    if (yes === undefined) errors.push({ field: 'loanable', message: 'assetImport.row.badLoanable', params: { value: loanText } })
    else input.loanable = yes
  }

  const result = assetInputSchema.safeParse(input)
  if (!result.success) {
    const already = new Set(errors.map((e) => e.field))
    for (const d of validationError(result.error).details ?? []) {
      const field = (SCHEMA_FIELD[d.field] ?? d.field) as RegisterField
      if (already.has(field)) continue
      already.add(field)
      if (field === 'price') errors.push({ field, message: priceReason(priceCell, String(input.price ?? priceText)), params: { value: priceText } })
      else errors.push({ field, message: d.message, ...(d.params ? { params: d.params } : {}) })
    }
  }
  const out: PreviewRow = { line: row.line, values, errors }
  if (errors.length === 0) out.input = input
  return out
}
