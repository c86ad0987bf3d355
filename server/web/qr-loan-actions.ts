import type { AppContext } from '../context.js'
import { bangkokDate, daysBetween } from '../i18n/calendar.js'
import { getLoan, type AssetLoanState } from '../services/loan.service.js'
import { loanDecision } from '../services/loan-query.service.js'
import { ACTION_ROLES, RULE_MESSAGE } from '../services/loan-policy.js'
import type { CurrentUser } from '../services/user.service.js'

/*
 * "Hand over" / "receive" where the item is (SPEC §4, issue 14): on the QR page of an asset or a
 * kit, the loan its label belongs to now, with the action finance takes on it. Whether this person
 * may take it is the loan policy's answer (loan-policy.ts), the same one the screens and services
 * enforce; a refusal is shown with the policy's reason instead of the button.
 */

export type QrAction = 'handOver' | 'receive'

export interface QrLoanTarget {
  loanId: number
  action: QrAction
}

export interface QrLoanAction extends QrLoanTarget {
  number: string
  borrower: string
  startOn: string
  dueOn: string
  /** Days past the due date (0 when not overdue). */
  daysOverdue: number
  /** The loan's screen with this label already scanned; null when the policy refuses. */
  href: string | null
  /** The policy's reason as a message key and its parameters (`date` a calendar date, `status` a loan status). */
  refusal: { key: string; date: string; status: string } | null
}

/**
 * The loan an asset's label leads to: the one holding it (to receive it back); else the approved
 * loan that takes it next (to hand it over). An item out must come back before the next loan can
 * have it, so only one is named.
 */
export function assetLoanTarget(state: AssetLoanState): QrLoanTarget | null {
  if (state.holder) return { loanId: state.holder.loanId, action: 'receive' }
  const next = state.reservations.find((r) => r.status === 'approved')
  return next ? { loanId: next.loanId, action: 'handOver' } : null
}

/** The loans a kit's label leads to: each loan that holds or takes one of its assets, once (receive before hand over). */
export function kitLoanTargets(states: readonly AssetLoanState[]): QrLoanTarget[] {
  const out = new Map<number, QrLoanTarget>()
  for (const target of states.map(assetLoanTarget)) {
    if (!target) continue
    const known = out.get(target.loanId)
    if (!known || target.action === 'receive') out.set(target.loanId, target)
  }
  return [...out.values()]
}

/**
 * The actions of these loans for this person, with the label's code to scan on arrival. Only people
 * whose roles take the action at all (the policy's own table) see it: staff keep the page as it was.
 */
export async function qrLoanActions(ctx: AppContext, user: CurrentUser, targets: readonly QrLoanTarget[], code: string): Promise<QrLoanAction[]> {
  const today = bangkokDate(ctx.clock.now())
  const out: QrLoanAction[] = []
  for (const target of targets) {
    if (!ACTION_ROLES[target.action].some((r) => user.roles.includes(r))) continue
    const v = await getLoan(ctx, user, target.loanId)
    const decision = await loanDecision(ctx, user, v, target.action)
    const screen = target.action === 'handOver' ? 'handover' : 'return'
    out.push({
      ...target,
      number: v.number,
      borrower: v.borrower.organisation ? `${v.borrower.name} (${v.borrower.organisation})` : v.borrower.name,
      startOn: v.loan.start_on,
      dueOn: v.loan.due_on,
      daysOverdue: v.loan.status === 'on_loan' && v.loan.due_on < today ? daysBetween(v.loan.due_on, today) : 0,
      href: decision.ok ? `/loans/${v.loan.id}/${screen}?scan=${encodeURIComponent(code)}` : null,
      refusal: decision.ok ? null : { key: RULE_MESSAGE[decision.rule], date: v.loan.start_on, status: v.loan.status },
    })
  }
  return out
}
