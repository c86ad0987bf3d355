import type { Translate } from '../i18n/index.js'
import type { ApproverChoice } from '../services/paper-approval-rules.js'
import type { LoanKind } from '../services/loan-rules.js'
import { samePerson } from '../i18n/person-names.js'

/** One approver in a form's list: who, and for which loans they may sign (ข้อ 208). */
export interface ApproverOption {
  name: string
  position: string
  levels: string
  hasAccount: boolean
}

/**
 * The approvers of every kind of loan as one list for a form (the kind may change after the list is
 * drawn; the service checks the level and says so on the field).
 */
export function approverOptions(t: Translate, byKind: Record<LoanKind, ApproverChoice[]>, recorder?: { id: number; name: string }): ApproverOption[] {
  const out = new Map<string, ApproverOption>()
  for (const c of byKind.in_premises) {
    // The person recording is never the approver (SPEC §1): they are not offered themselves.
    if (recorder && (c.userId === recorder.id || samePerson(c.name, recorder.name))) continue
    const everywhere = byKind.off_premises.some((o) => o.name === c.name)
    out.set(c.name, {
      name: c.name,
      position: c.position || t(`paper.source.${c.source}`),
      levels: t(everywhere ? 'paper.level.all' : 'paper.level.inPremises'),
      hasAccount: c.userId !== null,
    })
  }
  return [...out.values()]
}
