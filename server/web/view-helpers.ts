/*
 * The small helpers page templates share (given to every page by the page locals): the attributes
 * of a form control with an error, and the field model views/partials/field.ejs takes. One place,
 * so that no view builds aria-invalid / aria-describedby by hand.
 */

import { showTypedDate } from './typed-date.js'

export type FieldErrors = Record<string, string | undefined>

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' }

function escapeAttr(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

/** ` key="value"` for each set attribute, ` key` for true; false, null and undefined leave it out. */
export function htmlAttrs(attrs: Record<string, string | number | boolean | null | undefined> = {}): string {
  let out = ''
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue
    out += value === true ? ` ${key}` : ` ${key}="${escapeAttr(String(value))}"`
  }
  return out
}

export interface AriaOptions {
  /** The id(s) of the hint(s) that describe the control whether or not it is in error. */
  hint?: string | string[]
  /** The error message's id (default `${name}-error`, as views/partials/field-error.ejs writes it). */
  errorId?: string
  /** A fieldset of choices: described by the message, not itself marked aria-invalid. */
  group?: boolean
}

/**
 * ` aria-invalid="true" aria-describedby="<hints> <name>-error"` when the field has an error, else
 * ` aria-describedby="<hints>"` (or nothing). Written with <%- %>: the ids are escaped here.
 */
export function fieldAria(errors: FieldErrors | undefined | null, name: string, opts: AriaOptions = {}): string {
  const hints = opts.hint === undefined ? [] : Array.isArray(opts.hint) ? opts.hint : [opts.hint]
  const invalid = Boolean(errors?.[name])
  const describedBy = invalid ? [...hints, opts.errorId ?? `${name}-error`] : hints
  return htmlAttrs({ 'aria-invalid': invalid && !opts.group ? 'true' : undefined, 'aria-describedby': describedBy.length ? describedBy.join(' ') : undefined })
}

export interface FieldModel {
  name: string
  label: string
  value?: unknown
  errors?: FieldErrors
  /** The control's id (default the name). */
  id?: string
  as?: 'input' | 'textarea' | 'select'
  type?: string
  hint?: string
  /** Marks the label «(ไม่บังคับ)». */
  optional?: boolean
  /** More attributes of the control: { required: true, inputmode: 'numeric', rows: 3 }. */
  attrs?: Record<string, string | number | boolean | null | undefined>
  /** A select's choices; the one equal (as text) to the value is selected. */
  options?: Array<{ value: string | number; label: string }>
}

/**
 * A form's field builder: `const f = fieldsOf(values, errors)` then
 * `<%- include('/partials/field', f('code', { label: t('asset.code') })) %>`.
 */
export function fieldsOf(values: Record<string, unknown> | undefined | null, errors: FieldErrors | undefined | null) {
  return (name: string, opts: Omit<FieldModel, 'name'>): { field: FieldModel } => ({
    field: { value: values?.[name] ?? '', errors: errors ?? {}, ...opts, name },
  })
}

export interface DateBoxOptions {
  /** The earliest and latest day the calendar offers, ISO (typing is checked by the service). */
  min?: string
  max?: string
  /** «วว/ดด/ปปปป» in the page's language (the page locals fill it in). */
  placeholder?: string
}

/**
 * A date box's type, value and hints: a text box that takes «15/10/2568» (server/web/typed-date.ts
 * reads it), its value shown that way, and data-date for public/js/date-picker.js, which adds the
 * calendar button. Written with <%- %> in place of type and value: `<input name="dueDate"<%- dateAttrs(v) %>>`.
 */
export function dateAttrs(value: unknown, opts: DateBoxOptions = {}): string {
  return htmlAttrs({
    type: 'text',
    value: showTypedDate(value),
    inputmode: 'numeric',
    autocomplete: 'off',
    placeholder: opts.placeholder,
    'data-date': true,
    'data-min': opts.min || undefined,
    'data-max': opts.max || undefined,
  })
}

/** The helpers every page template gets. */
export const viewHelpers = { htmlAttrs, fieldAria, fieldsOf, dateAttrs }
