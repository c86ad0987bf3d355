import type { LoanKind } from './loan-rules.js'
import type { PolicyRule } from './loan-policy.js'
import { cleanName, samePerson } from '../i18n/person-names.js'

/*
 * Who may be named as the approver of a paper approval (SPEC §1, ข้อ 208). Pure: no I/O.
 *
 * The approver is chosen from a list: the signatories of the settings (each perhaps linked to an
 * account) and the active users holding `executive`. By the loan's level:
 *  - in the premises: the หัวหน้าหน่วยพัสดุ (ผอ.กองคลัง) or higher — the ผอ.กองคลัง, the ปลัด, the นายก;
 *  - off the premises or between agencies: the นายก, or the ปลัด with the delegation line.
 * Active executives are on both lists. Never the เจ้าหน้าที่พัสดุ who records it (the supplies-officer
 * signatory is never an approver), never the recorder, never the borrower.
 */

export type ApproverSource = 'mayor' | 'chiefAdministrator' | 'financeDirector' | 'executive'

export interface ApproverChoice {
  name: string
  position: string
  /** The list entry that gives the authority for the loan at hand (the first of `sources` at its level). */
  source: ApproverSource
  /** Every entry this person stands on: a ผอ.กองคลัง who is also an executive user approves any loan. */
  sources: ApproverSource[]
  /** The account the approval reaches for confirmation; null for an approver without one. */
  userId: number | null
}

export interface SignatoryIn {
  name: string
  position: string
  username?: string
}

export interface ApproverInputs {
  signatories: { mayor: SignatoryIn; chiefAdministrator: SignatoryIn; financeDirector: SignatoryIn }
  /** Accounts by username, for the signatories linked to one. */
  accounts: ReadonlyMap<string, { id: number; name: string; active: boolean }>
  /** Active users holding `executive`. */
  executives: ReadonlyArray<{ id: number; name: string; position: string }>
}

/** Names on the list compare after trim, NFC, invisible characters dropped and collapsed spaces. */
export function approverKey(name: string): string {
  return cleanName(name)
}

/** Who may approve each kind of loan, the highest first (a name on two entries counts at the higher). */
const LEVELS: Record<LoanKind, ApproverSource[]> = {
  in_premises: ['mayor', 'chiefAdministrator', 'executive', 'financeDirector'],
  off_premises: ['mayor', 'chiefAdministrator', 'executive'],
  inter_agency: ['mayor', 'chiefAdministrator', 'executive'],
}

/** Everyone who could approve some loan: the linkable signatories with a name, and the executives (one entry a name). */
export function allApprovers(inputs: ApproverInputs): ApproverChoice[] {
  const out: ApproverChoice[] = []
  const seen = new Map<string, ApproverChoice>()
  const add = (c: ApproverChoice) => {
    const key = approverKey(c.name)
    if (!key) return
    const same = seen.get(key)
    if (same) {
      // A signatory who is also an executive user: one choice, linked to the account, on every list either is on.
      same.userId ??= c.userId
      same.sources.push(...c.sources)
      return
    }
    seen.set(key, c)
    out.push(c)
  }
  for (const source of ['mayor', 'chiefAdministrator', 'financeDirector'] as const) {
    const s = inputs.signatories[source]
    const account = s.username ? inputs.accounts.get(s.username) : undefined
    add({ name: approverKey(s.name), position: s.position, source, sources: [source], userId: account?.active ? account.id : null })
  }
  for (const e of inputs.executives) add({ name: approverKey(e.name), position: e.position, source: 'executive', sources: ['executive'], userId: e.id })
  return out
}

/** The list offered for a loan of this kind. */
export function approverChoices(inputs: ApproverInputs, kind: LoanKind): ApproverChoice[] {
  return allApprovers(inputs).flatMap((c) => {
    const at = atLevel(c, kind)
    return at ? [at] : []
  })
}

/** The choice with the entry that gives it authority for this kind of loan, or undefined when none does. */
function atLevel(c: ApproverChoice, kind: LoanKind): ApproverChoice | undefined {
  const source = LEVELS[kind].find((s) => c.sources.includes(s))
  return source ? { ...c, source } : undefined
}

export type ApproverCheck =
  | { ok: true; choice: ApproverChoice }
  | { ok: false; kind: 'rule'; rule: Extract<PolicyRule, 'approver_is_recorder' | 'approver_is_borrower' | 'requester_approves'> }
  | { ok: false; kind: 'field'; message: 'loan.paper.approverNotListed' | 'loan.paper.approverLevel' }

/**
 * The approver named on a paper approval, checked against the list for the loan's kind, the person
 * recording it and the borrower. Self-dealing is a rule (403); a name off the list is the field's
 * mistake (422).
 */
export function checkPaperApprover(
  typedName: string,
  inputs: ApproverInputs,
  kind: LoanKind,
  parties: {
    recorder: { id: number; name: string }
    borrower: { userId: number | null; name: string }
    /** Whoever entered the loan, while the two-person rule is on: they approve it neither in the app nor on paper. */
    requester?: { id: number; name: string }
  },
): ApproverCheck {
  const key = approverKey(typedName)
  const all = allApprovers(inputs)
  const choice = all.find((c) => c.name === key)
  // One person however the name is typed (a title dropped, a zero-width space): by account where there is one, else by name.
  const is = (who: { id?: number | null; name: string }) =>
    (choice !== undefined && choice.userId !== null && choice.userId === who.id) || samePerson(key, who.name)
  if (is(parties.recorder)) return { ok: false, kind: 'rule', rule: 'approver_is_recorder' }
  if (is({ id: parties.borrower.userId, name: parties.borrower.name })) return { ok: false, kind: 'rule', rule: 'approver_is_borrower' }
  if (parties.requester && is(parties.requester)) return { ok: false, kind: 'rule', rule: 'requester_approves' }
  if (!choice) return { ok: false, kind: 'field', message: 'loan.paper.approverNotListed' }
  const at = atLevel(choice, kind)
  if (!at) return { ok: false, kind: 'field', message: 'loan.paper.approverLevel' }
  return { ok: true, choice: at }
}
