import { addressWithProvince } from '../i18n/person-names.js'
import type { AppContext } from '../context.js'
import { AppError } from '../errors.js'
import { bangkokDate, loanDays } from '../i18n/calendar.js'
import { getLoan, type LoanView } from './loan.service.js'
import { getSettings, type AgencySettings } from './settings.service.js'
import { hasRole, type CurrentUser } from './user.service.js'
import type { ItemCondition, LoanKind } from './loan-rules.js'

/**
 * The printed documents of a loan (SPEC §4, thai-rules.md «Forms»): the borrow slip and the
 * follow-up letters. Each is a view-model with the decisions made — who signs, which box is
 * ticked, which dates are filled — and raw values (ISO dates, numbers) that the views format
 * with the agency's Thai-digit setting (server/i18n/document-format.ts).
 */

/** A signature block: the name and position printed under «(ลงชื่อ)…», and the delegation line when the ปลัด signs for the นายก. */
export interface Signatory {
  name: string
  position: string
  delegation: string
  /** An outside borrower signs for their group or agency, which is printed instead of a position. */
  organisation?: string
}

/** Who signs for the head of the agency: the นายก, or the ปลัด under the delegation order. */
export const EXECUTIVE_SIGNERS = ['mayor', 'chief'] as const
export type ExecutiveSigner = (typeof EXECUTIVE_SIGNERS)[number]

export function executiveSignerParam(v: unknown): ExecutiveSigner | undefined {
  return typeof v === 'string' && (EXECUTIVE_SIGNERS as readonly string[]).includes(v) ? (v as ExecutiveSigner) : undefined
}

function squash(s: string): string {
  return s.normalize('NFC').replace(/\s+/g, '')
}

/**
 * Whether a recorded name is the signatory named in the settings. A title (นาย, นาง …) may sit
 * on either side, so one may end with the other; both must be non-empty.
 */
export function sameName(recorded: string, configured: string): boolean {
  const a = squash(recorded)
  const b = squash(configured)
  if (!a || !b) return false
  return a === b || a.endsWith(b) || b.endsWith(a)
}

function signatory(s: { name: string; position: string }, delegation = ''): Signatory {
  return { name: s.name, position: s.position, delegation }
}

/**
 * The นายก or the ปลัด with the delegation line. Without a choice: the นายก, unless the settings
 * name only the ปลัด (an อบต. that always signs by delegation leaves the นายก's name empty).
 */
export function executiveSignatory(settings: AgencySettings, choice?: ExecutiveSigner): Signatory {
  const pick = choice ?? (settings.mayor.name.trim() === '' && settings.chiefAdministrator.name.trim() !== '' ? 'chief' : 'mayor')
  return pick === 'chief' ? signatory(settings.chiefAdministrator, settings.delegationLine) : signatory(settings.mayor)
}

/** A recorded approver's name turned into the signatory of the settings it matches, if any. */
function matchExecutive(settings: AgencySettings, name: string, position: string): Signatory | undefined {
  if (sameName(name, settings.chiefAdministrator.name)) return signatory(settings.chiefAdministrator, settings.delegationLine)
  if (sameName(name, settings.mayor.name)) return signatory(settings.mayor)
  // A ปลัด whose account name differs from the settings (a new ปลัด, a typo): the position tells.
  if (position.trim() !== '' && squash(position) === squash(settings.chiefAdministrator.position))
    return { name, position, delegation: settings.delegationLine }
  return undefined
}

// ---------------------------------------------------------------- borrow slip

export interface SlipLine {
  no: number
  name: string
  /** Assets are lent one by one; counted stock by quantity. */
  quantity: number
  unit: string
  code: string
  returnedOn: string | null
  condition: ItemCondition | null
  /** Counted stock back by condition (only for stock lines). */
  counts: { good: number; damaged: number; lost: number } | null
  note: string
}

export interface SlipApprover extends Signatory {
  /** ข้อ 208: หัวหน้าหน่วยพัสดุ for use in the premises; the head of the agency otherwise. */
  authority: 'supplies_head' | 'agency_head'
  decision: 'approved' | 'rejected' | null
  /** What the system recorded, printed small under the block. */
  recorded: { onPaper: boolean; byName: string; at: string; paperDate: string | null; recorderName: string } | null
}

/** The agency's address and province on one line, the province once (addressWithProvince). */
export function agencyAddressLine(settings: Pick<AgencySettings, 'agencyAddress' | 'province'>): string {
  return addressWithProvince(settings.agencyAddress, settings.province)
}

export interface BorrowSlip {
  view: LoanView
  settings: AgencySettings
  /** The agency's address with its province, the province once (an address often ends with it). */
  addressLine: string
  number: string
  kind: LoanKind
  requestedOn: string
  startOn: string
  dueOn: string
  days: number
  borrower: {
    external: boolean
    agency: boolean
    name: string
    position: string
    department: string
    phone: string
    organisation: string
    address: string
    villageNo: string
    idNumber: string
  }
  /** Another agency's request letter. */
  theirLetter: { number: string; date: string | null } | null
  lines: SlipLine[]
  flags: {
    afterTheFact: boolean
    onPaper: boolean
    extendedFrom: string | null
    ended: 'rejected' | 'cancelled' | 'expired' | null
  }
  addressee: string
  signatures: {
    borrower: Signatory
    /** The borrower's head of unit signs by hand (name left blank); a community borrower has none. */
    head: Signatory | null
    officer: Signatory
    approver: SlipApprover
  }
  handover: { on: string | null; borrower: Signatory; issuer: Signatory }
  returned: {
    on: string | null
    counts: { good: number; damaged: number; lost: number } | null
    returnedBy: string
    receivedBy: string
  }
  followUpDays: number
}

function emptySignatory(): Signatory {
  return { name: '', position: '', delegation: '' }
}

function unique(names: Array<string | null | undefined>): string[] {
  return [...new Set(names.map((n) => (n ?? '').trim()).filter((n) => n !== ''))]
}

function slipApprover(view: LoanView, settings: AgencySettings, choice?: ExecutiveSigner): SlipApprover {
  const { loan } = view
  const approval = [...view.approvals].reverse().find((a) => a.step === 'approve')
  const person = approval?.by_user_id ? view.people.get(approval.by_user_id) : undefined
  const recorded = approval
    ? {
        onPaper: approval.on_paper === 1,
        byName: person?.name ?? approval.by_name,
        at: approval.at,
        paperDate: approval.paper_date,
        recorderName: view.people.get(approval.recorded_by)?.name ?? '',
      }
    : null
  const decision = loan.approved_at !== null ? 'approved' : loan.rejected_at !== null ? 'rejected' : null
  if (loan.kind === 'in_premises') {
    // ข้อ 208: the head of the supplies unit (normally the ผอ.กองคลัง) signs the paper, whichever
    // finance user recorded the approval in the system (that is printed small, under the block).
    return { ...signatory(settings.financeDirector), authority: 'supplies_head', decision, recorded }
  }
  let who: Signatory
  if (approval) {
    const name = person?.name ?? approval.by_name
    who = matchExecutive(settings, name, person?.position ?? '') ?? { name, position: person?.position ?? '', delegation: '' }
  } else {
    who = executiveSignatory(settings, choice)
  }
  return { ...who, authority: 'agency_head', decision, recorded }
}

function slipLines(view: LoanView): SlipLine[] {
  const lines: SlipLine[] = view.items.map((i, n) => ({
    no: n + 1,
    name: i.asset_name,
    quantity: 1,
    unit: '',
    code: i.asset_code,
    returnedOn: i.returned_on,
    condition: i.condition,
    counts: null,
    note: i.note,
  }))
  // Counted items (SPEC §5's Loan.stock): the quantity lent with its unit («๘๐ ตัว»), the pool's
  // code in the asset-code column, and what came back in each condition once anything has.
  for (const s of view.stock) {
    const back = s.returned_good + s.returned_damaged + s.returned_lost
    lines.push({
      no: lines.length + 1,
      name: s.name,
      quantity: s.handed_over_at ? s.handed_over_qty : s.quantity,
      unit: s.unit,
      code: s.code,
      returnedOn: s.last_returned_on,
      condition: null,
      counts: back > 0 ? { good: s.returned_good, damaged: s.returned_damaged, lost: s.returned_lost } : null,
      note: s.note,
    })
  }
  return lines
}

/** The borrow slip of a loan, for anyone who may see the loan (others get 404 from getLoan). */
export async function borrowSlip(ctx: AppContext, viewer: CurrentUser, id: number, opts: { signer?: ExecutiveSigner } = {}): Promise<BorrowSlip> {
  const view = await getLoan(ctx, viewer, id)
  const settings = await getSettings(ctx)
  const { loan, borrower } = view
  const external = borrower.kind === 'external'
  const agency = loan.kind === 'inter_agency' || borrower.type === 'agency'
  const checker = [...view.approvals].reverse().find((a) => a.step === 'check' && a.on_paper === 0)
  const checkerPerson = checker?.by_user_id ? view.people.get(checker.by_user_id) : undefined
  const issuer = loan.handed_over_by ? view.people.get(loan.handed_over_by) : undefined
  const lines = slipLines(view)
  const allBack = loan.status === 'returned'
  const counts = { good: 0, damaged: 0, lost: 0 }
  for (const l of lines) {
    if (l.condition) counts[l.condition] += l.quantity
    if (l.counts) {
      counts.good += l.counts.good
      counts.damaged += l.counts.damaged
      counts.lost += l.counts.lost
    }
  }
  const borrowerSig: Signatory = external
    ? { name: borrower.name, position: '', delegation: '', organisation: borrower.organisation }
    : { name: borrower.name, position: borrower.position, delegation: '' }
  return {
    view,
    settings,
    addressLine: agencyAddressLine(settings),
    number: view.number,
    kind: loan.kind,
    requestedOn: loan.requested_on,
    startOn: loan.start_on,
    dueOn: loan.due_on,
    days: loanDays(loan.start_on, loan.due_on),
    borrower: {
      external,
      agency,
      name: borrower.name,
      position: borrower.position,
      department: view.departmentName || borrower.departmentName,
      phone: borrower.phone,
      organisation: borrower.organisation,
      address: borrower.address,
      villageNo: borrower.villageNo,
      idNumber: borrower.idNumber,
    },
    theirLetter: agency && (loan.letter_number || loan.letter_date) ? { number: loan.letter_number, date: loan.letter_date } : null,
    lines,
    flags: {
      afterTheFact: loan.entered_after_fact === 1,
      onPaper: loan.approved_on_paper === 1,
      extendedFrom: loan.due_on !== loan.original_due_on ? loan.original_due_on : null,
      ended: loan.status === 'rejected' || loan.status === 'cancelled' || loan.status === 'expired' ? loan.status : null,
    },
    addressee: loan.kind === 'in_premises' ? settings.financeDirector.position : settings.mayor.position,
    signatures: {
      borrower: borrowerSig,
      head: borrower.type === 'public' ? null : emptySignatory(),
      officer: checkerPerson ? { name: checkerPerson.name, position: checkerPerson.position, delegation: '' } : signatory(settings.suppliesOfficer),
      approver: slipApprover(view, settings, opts.signer),
    },
    handover: {
      on: loan.handed_over_on,
      borrower: borrowerSig,
      issuer: issuer ? { name: issuer.name, position: issuer.position, delegation: '' } : emptySignatory(),
    },
    returned: {
      on: allBack ? loan.returned_on : null,
      counts: allBack ? counts : null,
      returnedBy: allBack ? unique([...view.items.map((i) => i.returned_by_name), ...view.stock.map((s) => s.returned_by_name)]).join(', ') : '',
      receivedBy: allBack
        ? unique([
            ...view.items.map((i) => i.received_by_name),
            ...view.stock.map((s) => (s.received_by ? view.people.get(s.received_by)?.name : undefined)),
          ]).join(', ')
        : '',
    },
    followUpDays: settings.followUpDays,
  }
}

// ---------------------------------------------------------------- follow-up letters

export interface FollowUpLetter {
  view: LoanView
  settings: AgencySettings
  /** The agency's address with its province once (agencyAddressLine). */
  addressLine: string
  /** บันทึกข้อความ for a staff borrower; หนังสือภายนอก for community borrowers and other agencies. */
  form: 'memo' | 'external'
  agency: boolean
  /** Our letter's number and date: typed in, or from the latest follow-up by letter. */
  letterNumber: string
  letterDate: string
  fromFollowUp: { onDate: string } | null
  signer: Signatory
  signerChoice: ExecutiveSigner | null
  /** «เรียน …»: the person, with their group or agency unless the name already says it. */
  addressee: { name: string; organisation: string; line: string }
  theirLetter: { number: string; date: string | null } | null
  /** The items not yet back (every item when none is out, e.g. a letter reprinted after the return). */
  lines: SlipLine[]
  requestedOn: string
  dueOn: string
  onLoan: boolean
}

export interface LetterOptions {
  number?: string
  date?: string
  signer?: ExecutiveSigner
}

/** The follow-up letter of a loan (ข้อ 211): finance only. */
export async function followUpLetter(ctx: AppContext, viewer: CurrentUser, id: number, opts: LetterOptions = {}): Promise<FollowUpLetter> {
  if (!hasRole(viewer, 'finance')) throw new AppError('forbidden', 'loan.needsFinance')
  const view = await getLoan(ctx, viewer, id)
  const settings = await getSettings(ctx)
  const { loan, borrower } = view
  const lastLetter = [...view.followUps].reverse().find((f) => f.method === 'letter')
  const typed = (opts.number ?? '').trim()
  const letterNumber = typed || lastLetter?.letter_number || ''
  const fromFollowUp = !typed && lastLetter?.letter_number ? { onDate: lastLetter.on_date } : null
  const letterDate = opts.date ?? (fromFollowUp ? (lastLetter!.letter_date ?? lastLetter!.on_date) : bangkokDate(ctx.clock.now()))
  const external = borrower.kind === 'external'
  const agency = loan.kind === 'inter_agency' || borrower.type === 'agency'
  const all = slipLines(view)
  const out = all.filter((l) => (l.counts ? l.counts.good + l.counts.damaged + l.counts.lost < l.quantity : l.returnedOn === null))
  const signerChoice = external ? (opts.signer ?? null) : null
  return {
    addressLine: agencyAddressLine(settings),
    view,
    settings,
    form: external ? 'external' : 'memo',
    agency,
    letterNumber,
    letterDate,
    fromFollowUp,
    // A memo goes out from กองคลัง under its director (หัวหน้าหน่วยพัสดุ); a letter to outsiders
    // under the head of the agency, or the ปลัด by delegation.
    signer: external ? executiveSignatory(settings, opts.signer) : signatory(settings.financeDirector),
    signerChoice,
    addressee: {
      name: borrower.name,
      organisation: borrower.organisation,
      line:
        borrower.organisation && !squash(borrower.name).includes(squash(borrower.organisation)) ? `${borrower.name} ${borrower.organisation}` : borrower.name,
    },
    theirLetter: agency && (loan.letter_number || loan.letter_date) ? { number: loan.letter_number, date: loan.letter_date } : null,
    lines: (out.length > 0 ? out : all).map((l, n) => ({ ...l, no: n + 1 })),
    requestedOn: loan.requested_on,
    dueOn: loan.due_on,
    onLoan: loan.status === 'on_loan',
  }
}
