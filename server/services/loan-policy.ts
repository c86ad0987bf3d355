import type { Role } from '../../db/schema.js'
import type { LoanKind, LoanStatus } from './loan-rules.js'
import { samePerson } from '../i18n/person-names.js'
import { addDays } from '../i18n/calendar.js'

/*
 * THE loan policy (SPEC §1, §3; issue 12): for a person, a loan, the agency settings and today,
 * which actions are allowed and, for each refused one, the rule that refuses it. Pure: no I/O.
 *
 * Every service asks it inside its write transaction (on the rows it has just read) and throws what
 * it answers; the loan page renders its buttons and notes from the same answers; the API's 403/409
 * come from it. Nothing else decides who may do what to a loan.
 *
 * Two kinds of rule (SPEC §1):
 *  - never switchable: nobody performs any step of a loan on which they are the borrower;
 *  - the two-person rule (agency setting `twoPersonRule`): the one who entered a loan for someone
 *    else does not also check, approve or reject it in the app, nor decide its extension; the
 *    in-premises approver does not also hand it over. A paper approval is allowed to the officer who
 *    entered the loan either way, because the approver named on it is someone else.
 * Order and state come on top (409 `invalid_state`).
 */

export const LOAN_ACTIONS = [
  'check',
  'approve',
  'recordPaper',
  'confirmPaper',
  'disputePaper',
  'voidPaper',
  'reject',
  'cancel',
  'handOver',
  'receive',
  'askExtension',
  'decideExtension',
  'decideExtensionOnPaper',
  'followUp',
  'compensate',
] as const
export type LoanAction = (typeof LOAN_ACTIONS)[number]

/** Rules of people (403 `forbidden`). */
export const FORBIDDING_RULES = [
  // never switchable
  'borrower_approves',
  'borrower_hands_over',
  'borrower_follows_up',
  // the two-person rule
  'requester_approves',
  'approver_hands_over',
  // roles and whose record it is
  'needs_finance',
  'needs_executive',
  'not_yours',
  'not_named_approver',
  'approver_is_recorder',
  'approver_is_borrower',
] as const
/** Rules of order and state (409 `invalid_state`). */
export const STATE_RULES = [
  'wrong_state',
  'check_first',
  'not_started',
  'paper_disputed',
  'no_paper',
  'paper_decided',
  'paper_confirmed',
  'past_due',
  'extension_pending',
  'no_extension',
] as const
export type PolicyRule = (typeof FORBIDDING_RULES)[number] | (typeof STATE_RULES)[number]

/** Rules that an agency setting switches off. */
export const TWO_PERSON_RULES: readonly PolicyRule[] = ['requester_approves', 'approver_hands_over']

export type RefusalCode = 'forbidden' | 'invalid_state' | 'conflict'
export type Decision = { ok: true } | { ok: false; code: RefusalCode; rule: PolicyRule }

/** 403 for the rules of people, 409 for order and state (a competing extension request is a conflict). */
export function codeOf(rule: PolicyRule): RefusalCode {
  if (rule === 'extension_pending') return 'conflict'
  return (STATE_RULES as readonly string[]).includes(rule) ? 'invalid_state' : 'forbidden'
}

export interface PolicyUser {
  id: number
  roles: readonly Role[]
  /** Their name: an outside borrower or a paper approver without an account is told apart by name. */
  name?: string
}

export interface PolicyLoan {
  status: LoanStatus
  kind: LoanKind
  borrower_user_id: number | null
  requested_by: number
  checked_at: string | null
  approved_by: number | null
  approved_on_paper: number
  start_on: string
  due_on: string
}

/** The loan's standing paper approval (the latest one not voided), if any. */
export interface PolicyPaper {
  by_user_id: number | null
  by_name?: string
  confirmed_at: string | null
  disputed_at: string | null
}

export interface PolicyFacts {
  loan: PolicyLoan
  paper: PolicyPaper | null
  /** The extension waiting for a decision, if any. */
  pendingExtension: { requested_by: number } | null
  /** The name of an outside borrower (null for a user borrower): an officer typed in as one is still the borrower. */
  externalBorrowerName?: string | null
}

export interface PolicySettings {
  twoPersonRule: boolean
  /** SPEC §3: an approved loan may be handed over from this many days before its start (0: from the start only). */
  handOverEarlyDays: number
}

/** The first day an approved loan may be collected: its start less the agency's early hand-over days. */
export function collectableFrom(startOn: string, handOverEarlyDays: number): string {
  return addDays(startOn, -Math.max(0, Math.trunc(handOverEarlyDays)))
}

export type PolicyAnswers = Record<LoanAction, Decision>

const OK: Decision = { ok: true }
const no = (rule: PolicyRule): Decision => ({ ok: false, code: codeOf(rule), rule })

function has(user: PolicyUser, ...roles: Role[]): boolean {
  return roles.some((r) => user.roles.includes(r))
}

/** The approval step a pending loan waits for (ข้อ 208): in the premises one approval; outside a check, then the approval. */
export function pendingStep(loan: Pick<PolicyLoan, 'status' | 'kind' | 'checked_at'>): 'check' | 'approve' | null {
  if (loan.status !== 'pending') return null
  if (loan.kind === 'in_premises') return 'approve'
  return loan.checked_at === null ? 'check' : 'approve'
}

/**
 * Every action at once, for a page that shows buttons. Each answer is the same as `decide` for that
 * action: the first rule that refuses it, in a fixed order — the state the loan is in, then the
 * borrower rule, then the role (and order of steps), then the two-person rule.
 */
export function loanPolicy(user: PolicyUser, facts: PolicyFacts, settings: PolicySettings, today: string): PolicyAnswers {
  const out = {} as PolicyAnswers
  for (const a of LOAN_ACTIONS) out[a] = decide(a, user, facts, settings, today)
  return out
}

export function decide(action: LoanAction, user: PolicyUser, facts: PolicyFacts, settings: PolicySettings, today: string): Decision {
  const { loan, paper, pendingExtension } = facts
  // Never switchable: by account, or — for a borrower typed in from outside — by name, however typed.
  const borrower = loan.borrower_user_id === user.id || (loan.borrower_user_id === null && samePerson(user.name, facts.externalBorrowerName))
  // The approver named on the paper: by account, or by name for one without an account.
  const namedOnPaper = paper !== null && (paper.by_user_id === null ? samePerson(user.name, paper.by_name) : paper.by_user_id === user.id)
  // "Entered it for someone else": the requester of a loan whose borrower is another person or an outsider.
  const enteredForOther = loan.requested_by === user.id && !borrower
  const twoPerson = settings.twoPersonRule
  const finance = has(user, 'finance')
  const executive = has(user, 'executive')
  const step = pendingStep(loan)
  const open = loan.status === 'approved' || loan.status === 'on_loan'

  switch (action) {
    case 'check': {
      if (step !== 'check') return no('wrong_state')
      if (borrower) return no('borrower_approves')
      // The executive acting before finance's check is a matter of order, not of rights.
      if (!finance) return executive ? no('check_first') : no('needs_finance')
      if (twoPerson && enteredForOther) return no('requester_approves')
      return OK
    }
    case 'approve': {
      if (step === null) return no('wrong_state')
      if (step === 'check') return finance ? no('wrong_state') : executive ? no('check_first') : no('needs_finance')
      if (borrower) return no('borrower_approves')
      const needed: Role = loan.kind === 'in_premises' ? 'finance' : 'executive'
      if (!has(user, needed)) return no(needed === 'finance' ? 'needs_finance' : 'needs_executive')
      if (twoPerson && enteredForOther) return no('requester_approves')
      return OK
    }
    case 'recordPaper': {
      // Before or after the check: recording it records the check too (the officer's signature on the slip).
      if (loan.status !== 'pending') return no('wrong_state')
      if (borrower) return no('borrower_approves')
      if (!finance) return no('needs_finance')
      return OK
    }
    case 'confirmPaper':
    case 'disputePaper': {
      if (!paper) return no('no_paper')
      if (borrower) return no('borrower_approves')
      if (paper.by_user_id !== user.id) return no('not_named_approver')
      if (paper.confirmed_at !== null || paper.disputed_at !== null) return no('paper_decided')
      return OK
    }
    case 'voidPaper': {
      if (!paper) return no('no_paper')
      // Once the items are out the paper stays as it is: a disputed one goes to the committee's list.
      if (loan.status !== 'approved') return no('wrong_state')
      if (paper.confirmed_at !== null) return no('paper_confirmed')
      if (borrower) return no('borrower_approves')
      if (!finance) return no('needs_finance')
      return OK
    }
    case 'reject': {
      if (step === null) return no('wrong_state')
      if (borrower) return no('borrower_approves')
      if (!finance && !executive) return no('needs_finance')
      if (twoPerson && enteredForOther) return no('requester_approves')
      return OK
    }
    case 'cancel': {
      if (loan.status !== 'pending' && loan.status !== 'approved') return no('wrong_state')
      // The borrower withdraws their own request; whoever entered it may withdraw it too.
      if (borrower || loan.requested_by === user.id) return OK
      if (!finance) return no('not_yours')
      return OK
    }
    case 'handOver': {
      if (loan.status !== 'approved') return no('wrong_state')
      if (borrower) return no('borrower_hands_over')
      if (!finance) return no('needs_finance')
      if (paper && paper.disputed_at !== null) return no('paper_disputed')
      // People collect on Friday for a Saturday event (SPEC §3): from the start less the early days.
      if (today < collectableFrom(loan.start_on, settings.handOverEarlyDays)) return no('not_started')
      // The in-premises approver — in the app, or named on the paper — does not also hand it over.
      const approver = loan.approved_on_paper === 0 ? loan.approved_by === user.id : namedOnPaper
      if (twoPerson && loan.kind === 'in_premises' && approver) return no('approver_hands_over')
      return OK
    }
    case 'receive': {
      if (loan.status !== 'on_loan') return no('wrong_state')
      if (borrower) return no('borrower_hands_over')
      if (!finance) return no('needs_finance')
      return OK
    }
    case 'askExtension': {
      if (!open) return no('wrong_state')
      if (!borrower && loan.requested_by !== user.id && !finance) return no('not_yours')
      if (today > loan.due_on) return no('past_due')
      if (pendingExtension) return no('extension_pending')
      return OK
    }
    case 'decideExtension':
    case 'decideExtensionOnPaper': {
      if (!pendingExtension) return no('no_extension')
      if (!open) return no('wrong_state')
      if (borrower) return no('borrower_approves')
      // At the loan's level: finance in the premises, the executive outside — or finance recording the executive's decision on paper.
      const onPaper = action === 'decideExtensionOnPaper'
      // On paper is the executive's decision outside the premises, recorded by finance; in the premises finance decides in the app.
      if (onPaper && loan.kind === 'in_premises') return no('wrong_state')
      const needed: Role = loan.kind === 'in_premises' || onPaper ? 'finance' : 'executive'
      if (!has(user, needed)) return no(needed === 'finance' ? 'needs_finance' : 'needs_executive')
      // An extension's paper decision names no approver who could confirm it: the two-person rule holds for it as for deciding.
      if (twoPerson && (pendingExtension.requested_by === user.id || enteredForOther)) return no('requester_approves')
      return OK
    }
    case 'followUp': {
      if (loan.status !== 'on_loan') return no('wrong_state')
      if (borrower) return no('borrower_follows_up')
      if (!finance) return no('needs_finance')
      return OK
    }
    case 'compensate': {
      if (borrower) return no('borrower_follows_up')
      if (!finance) return no('needs_finance')
      return OK
    }
  }
}

/** The roles whose holders take each action at all: a refusal is worth telling only to them (the page's notes). */
export const ACTION_ROLES: Record<LoanAction, readonly Role[]> = {
  check: ['finance'],
  approve: ['finance', 'executive'],
  recordPaper: ['finance'],
  confirmPaper: ['finance', 'executive'],
  disputePaper: ['finance', 'executive'],
  voidPaper: ['finance'],
  reject: ['finance', 'executive'],
  cancel: ['staff', 'finance'],
  handOver: ['finance'],
  receive: ['finance'],
  askExtension: ['staff', 'finance'],
  decideExtension: ['finance', 'executive'],
  decideExtensionOnPaper: ['finance'],
  followUp: ['finance'],
  compensate: ['finance'],
}

/** The rules a page explains beside the actions it does not offer: who may not act, and why not yet. */
const EXPLAINED: readonly PolicyRule[] = [
  'borrower_approves',
  'borrower_hands_over',
  'borrower_follows_up',
  'requester_approves',
  'approver_hands_over',
  'paper_disputed',
]

/**
 * The rules that keep this person from actions their roles would otherwise let them take on this
 * loan now, once each, for the page's notes.
 */
export function explainedRefusals(user: PolicyUser, answers: PolicyAnswers): PolicyRule[] {
  const out: PolicyRule[] = []
  for (const a of LOAN_ACTIONS) {
    const d = answers[a]
    if (d.ok || !EXPLAINED.includes(d.rule) || out.includes(d.rule)) continue
    if (ACTION_ROLES[a].some((r) => user.roles.includes(r))) out.push(d.rule)
  }
  return out
}

/** The message of each rule, from the catalogues. */
export const RULE_MESSAGE: Record<PolicyRule, string> = {
  borrower_approves: 'loan.sod.borrower_approves',
  borrower_hands_over: 'loan.sod.borrower_hands_over',
  borrower_follows_up: 'loan.sod.borrower_follows_up',
  requester_approves: 'loan.sod.requester_approves',
  approver_hands_over: 'loan.sod.approver_hands_over',
  needs_finance: 'loan.needsFinance',
  needs_executive: 'loan.needsExecutive',
  not_yours: 'loan.cancelNotYours',
  not_named_approver: 'loan.paper.notNamedApprover',
  approver_is_recorder: 'loan.sod.approver_is_recorder',
  approver_is_borrower: 'loan.sod.approver_is_borrower',
  wrong_state: 'loan.invalidState',
  check_first: 'loan.checkFirst',
  not_started: 'loan.notStarted',
  paper_disputed: 'loan.paper.disputedNoHandover',
  no_paper: 'loan.paper.none',
  paper_decided: 'loan.paper.alreadyDecided',
  paper_confirmed: 'loan.paper.confirmedNoVoid',
  past_due: 'loan.extension.past_due',
  extension_pending: 'loan.extension.pending',
  no_extension: 'loan.extension.notFound',
}
