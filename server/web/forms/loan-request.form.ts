import type { Request } from 'express'
import { isAppError, type AppError } from '../../errors.js'
import { formatDate } from '../../i18n/format.js'
import { parseIsoDate } from '../../i18n/calendar.js'
import { checkbox, str, type FormBody } from './common.form.js'

/** The loan request fields as typed (kept for re-rendering), and as the service wants them. */
export interface RequestValues {
  purpose: string
  place: string
  kind: string
  startDate: string
  dueDate: string
}

export function requestValues(b: FormBody): RequestValues {
  return {
    purpose: str(b.purpose) ?? '',
    place: str(b.place) ?? '',
    kind: str(b.kind) ?? '',
    startDate: (str(b.startDate) ?? '').trim(),
    dueDate: (str(b.dueDate) ?? '').trim(),
  }
}

export function requestInput(v: RequestValues) {
  return { purpose: v.purpose, place: v.place, kind: v.kind || undefined, startDate: v.startDate, dueDate: v.dueDate }
}

/** Both dates valid and in order: the range to check availability for; otherwise none. */
export function dateRange(v: { startDate: string; dueDate: string }): { from: string; to: string } | null {
  const a = parseIsoDate(v.startDate)
  const b = parseIsoDate(v.dueDate)
  return a.ok && b.ok && a.value <= b.value ? { from: a.value, to: b.value } : null
}

/**
 * One line per asset code. A USB scanner types what the label holds — the whole QR address — so
 * `…/q/<code>` is taken back to its code.
 */
export function codesFromText(text: string): string[] {
  const out: string[] = []
  for (const raw of text.split(/[\r\n]+/)) {
    let line = raw.trim()
    if (!line) continue
    const m = /\/q\/([^?#]+)/.exec(line)
    if (m && /^[a-z][a-z0-9+.-]*:\/\//i.test(line)) {
      try {
        line = decodeURIComponent(m[1]!)
      } catch {
        line = m[1]!
      }
    }
    out.push(line)
  }
  return out
}

export interface FinanceEntryValues extends RequestValues {
  borrowerKind: 'user' | 'external'
  borrower: string
  'externalBorrower.type': string
  'externalBorrower.name': string
  'externalBorrower.organisation': string
  'externalBorrower.phone': string
  'externalBorrower.address': string
  'externalBorrower.villageNo': string
  'externalBorrower.idNumber': string
  'externalBorrower.letterNumber': string
  'externalBorrower.letterDate': string
  assetCodes: string
  afterTheFact: boolean
  'paperApproval.approverName': string
  'paperApproval.date': string
  'paperApproval.note': string
  handedOverOn: string
}

/** Field names in the page are the service's field paths, so its messages land on the right input. */
export function financeEntryValues(b: FormBody): FinanceEntryValues {
  const s = (k: string) => (str(b[k]) ?? '').trim()
  return {
    ...requestValues(b),
    borrowerKind: s('borrowerKind') === 'external' ? 'external' : 'user',
    borrower: s('borrower'),
    'externalBorrower.type': s('externalBorrower.type'),
    'externalBorrower.name': s('externalBorrower.name'),
    'externalBorrower.organisation': s('externalBorrower.organisation'),
    'externalBorrower.phone': s('externalBorrower.phone'),
    'externalBorrower.address': s('externalBorrower.address'),
    'externalBorrower.villageNo': s('externalBorrower.villageNo'),
    'externalBorrower.idNumber': s('externalBorrower.idNumber'),
    'externalBorrower.letterNumber': s('externalBorrower.letterNumber'),
    'externalBorrower.letterDate': s('externalBorrower.letterDate'),
    assetCodes: str(b.assetCodes) ?? '',
    afterTheFact: checkbox(b.afterTheFact),
    'paperApproval.approverName': s('paperApproval.approverName'),
    'paperApproval.date': s('paperApproval.date'),
    'paperApproval.note': s('paperApproval.note'),
    handedOverOn: s('handedOverOn'),
  }
}

/**
 * The service's input. A paper approval counts once an approver is chosen (a new loan or one recorded
 * after the fact alike); the hand-over date needs it, and the service says so.
 */
export function financeEntryInput(v: FinanceEntryValues, borrowerUsername: string | undefined) {
  const paperGiven = v['paperApproval.approverName'] !== ''
  return {
    ...requestInput(v),
    assetCodes: codesFromText(v.assetCodes),
    borrower: v.borrowerKind === 'user' ? borrowerUsername : undefined,
    externalBorrower:
      v.borrowerKind === 'external'
        ? {
            type: v['externalBorrower.type'] || undefined,
            name: v['externalBorrower.name'],
            organisation: v['externalBorrower.organisation'],
            phone: v['externalBorrower.phone'],
            address: v['externalBorrower.address'],
            villageNo: v['externalBorrower.villageNo'],
            idNumber: v['externalBorrower.idNumber'],
            letterNumber: v['externalBorrower.letterNumber'],
            letterDate: v['externalBorrower.letterDate'] || null,
          }
        : undefined,
    afterTheFact: v.afterTheFact,
    paperApproval: paperGiven ? { approverName: v['paperApproval.approverName'], date: v['paperApproval.date'], note: v['paperApproval.note'] } : undefined,
    handedOverOn: v.handedOverOn || undefined,
  }
}

type Detail = { field: string; message: string; params?: Record<string, string | number> }

/**
 * `assetCodes.3` → `assetCodes`; a missing paper approval shows on its approver field; a kind
 * not chosen at all is asked for rather than called invalid.
 */
export function pageFields(details: Detail[] | undefined, values: { kind: string }): Detail[] {
  return (details ?? []).map((d) => {
    let field = d.field.replace(/\.\d+$/, '')
    if (field === 'paperApproval') field = 'paperApproval.approverName'
    if (field === 'paperApproval.scan') field = 'scan'
    const message = field === 'kind' && values.kind === '' ? 'cart.kindRequired' : d.message
    return { ...d, field, message }
  })
}

const ISO = /^\d{4}-\d{2}-\d{2}$/

/** A conflict's message with its dates shown as people read them and a status by its name. */
export function conflictMessage(req: Request, e: AppError): string {
  const params: Record<string, string | number> = {}
  for (const [k, v] of Object.entries(e.params ?? {})) {
    if (typeof v === 'string' && ISO.test(v)) params[k] = formatDate(v, { locale: req.locale })
    else if (k === 'status' && typeof v === 'string') params[k] = req.t(`asset.status.${v}`)
    else params[k] = v as string | number
  }
  return req.t(e.messageKey, params)
}

/** A refusal the page shows in place (409: an overlapping loan, an asset not available) rather than as an error page. */
export function isShownInPlace(e: unknown): e is AppError {
  // A refusal by a rule of the loan policy (self-dealing) is said on the form, with its 403.
  return isAppError(e) && (e.code === 'conflict' || e.code === 'invalid_state' || (e.code === 'forbidden' && e.rule !== undefined))
}
