import { looksLikeOrganisation } from '../../i18n/person-names.js'
import { str, type FormBody } from './common.form.js'

/** The counter's form as typed (kept for re-rendering). Borrower fields carry the service's field paths. */
export interface CounterValues {
  /** An external borrower on record ('' when a new one is typed in). */
  borrowerId: string
  'externalBorrower.type': string
  'externalBorrower.name': string
  'externalBorrower.organisation': string
  'externalBorrower.phone': string
  'externalBorrower.address': string
  'externalBorrower.villageNo': string
  'externalBorrower.idNumber': string
  letterNumber: string
  letterDate: string
  items: string
  purpose: string
  place: string
  kind: string
  startDate: string
  dueDate: string
  /** The person confirmed that a new borrower is not one already on record with the same phone. */
  confirmNew: boolean
  /** The named approver's paper approval, recorded in the same sitting (SPEC §1). */
  'paperApproval.approverName': string
  'paperApproval.date': string
  'paperApproval.note': string
  /** Hand over at once (today), once the paper approval is recorded. */
  handOverNow: boolean
}

export const COUNTER_BORROWER_TYPES = ['public', 'agency'] as const

export function counterValues(b: FormBody): CounterValues {
  const s = (k: string) => (str(b[k]) ?? '').trim()
  const id = s('borrowerId')
  const type = s('externalBorrower.type')
  return {
    borrowerId: /^\d{1,12}$/.test(id) ? id : '',
    'externalBorrower.type': (COUNTER_BORROWER_TYPES as readonly string[]).includes(type) ? type : 'public',
    'externalBorrower.name': s('externalBorrower.name'),
    'externalBorrower.organisation': s('externalBorrower.organisation'),
    'externalBorrower.phone': s('externalBorrower.phone'),
    'externalBorrower.address': s('externalBorrower.address'),
    'externalBorrower.villageNo': s('externalBorrower.villageNo'),
    'externalBorrower.idNumber': s('externalBorrower.idNumber'),
    letterNumber: s('letterNumber'),
    letterDate: s('letterDate'),
    items: str(b.items) ?? '',
    purpose: s('purpose'),
    place: s('place'),
    kind: s('kind'),
    startDate: s('startDate'),
    dueDate: s('dueDate'),
    confirmNew: s('confirmNew') === '1',
    'paperApproval.approverName': s('paperApproval.approverName'),
    'paperApproval.date': s('paperApproval.date'),
    'paperApproval.note': s('paperApproval.note'),
    handOverNow: s('handOverNow') === '1',
  }
}

/** «CHAIR 80 ตัว» → «CHAIR 80»: a unit word after the count is how people write it on paper. */
export function withoutUnits(text: string): string {
  return text
    .split(/\r?\n|\r/)
    .map((line) => line.replace(/([0-9\u0E50-\u0E59])\s+[\p{L}\p{M}.]+\s*$/u, '$1'))
    .join('\n')
}

/** The service's field paths → the counter's fields. */
export function counterField(field: string): string {
  const f = field.replace(/\.\d+(\.\w+)?$/, '')
  if (f === 'assetCodes' || f === 'stock' || f === 'items') return 'items'
  if (f === 'externalBorrower.letterNumber') return 'letterNumber'
  if (f === 'externalBorrower.letterDate') return 'letterDate'
  if (f === 'externalBorrowerId') return 'borrower'
  if (f === 'paperApproval') return 'paperApproval.approverName'
  if (f === 'paperApproval.scan') return 'scan'
  return f
}

/**
 * A new external borrower's fields from what the officer searched for (not a phone number): the
 * name of a temple, school, community or office (วัดบ้านหนองบัว) is the organisation — never the
 * person's name, which the officer then types — and anything else is the person's name.
 */
export function prefillFromSearch(typed: string): Partial<CounterValues> {
  const text = typed.trim()
  if (text === '') return {}
  if (looksLikeOrganisation(text)) return { 'externalBorrower.organisation': text }
  return { 'externalBorrower.name': text }
}
