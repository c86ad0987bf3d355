import { expect } from 'chai'
import type { Role } from '../../db/schema.js'
import { publicationActions, publicationSodRefusal, type Publication } from '../../server/services/publication.service.js'
import type { CurrentUser } from '../../server/services/user.service.js'

/* Which buttons the report page offers: the same rules the service enforces (SPEC §1, §6). */
describe('publicationActions', () => {
  const user = (id: number, roles: Role[]): CurrentUser => ({
    id,
    username: `u${id}`,
    name: '',
    position: '',
    departmentId: null,
    borrowerType: 'employee',
    locale: 'th',
    roles,
    mustChangePassword: false,
  })
  const pub = (status: Publication['status'], submittedBy: number | null = 1) =>
    ({ status, submittedBy: submittedBy === null ? null : { id: submittedBy, name: '', position: '' } }) as Publication

  it('when nothing is started and the period has ended, then finance may write and submit, nobody else acts', () => {
    expect(publicationActions(user(1, ['finance']), null, true)).to.deep.equal({
      editNarrative: true,
      submit: true,
      review: false,
      approve: false,
      sendBack: false,
    })
    expect(publicationActions(user(2, ['committee']), null, true)).to.deep.equal({
      editNarrative: false,
      submit: false,
      review: false,
      approve: false,
      sendBack: false,
    })
  })

  it('when the period has not ended, then finance may write the narrative but not submit', () => {
    expect(publicationActions(user(1, ['finance']), pub('draft', null), false)).to.include({ editNarrative: true, submit: false })
  })

  it('when submitted, then a committee member reviews, but not one who also holds finance nor the submitter', () => {
    expect(publicationActions(user(2, ['committee']), pub('submitted'), true)).to.include({ review: true, sendBack: true, editNarrative: false })
    expect(publicationActions(user(3, ['committee', 'finance']), pub('submitted'), true)).to.include({ review: false })
    expect(publicationActions(user(1, ['committee']), pub('submitted'), true)).to.include({ review: false })
  })

  it('when reviewed, then the executive (not the submitter) approves or sends back; the committee no longer sends back', () => {
    expect(publicationActions(user(4, ['executive']), pub('reviewed'), true)).to.include({ approve: true, sendBack: true })
    expect(publicationActions(user(1, ['executive']), pub('reviewed'), true)).to.include({ approve: false })
    expect(publicationActions(user(2, ['committee']), pub('reviewed'), true)).to.include({ sendBack: false })
  })

  it('when the executive who approves is the one who recorded the committee review, then no approve button; another executive has it', () => {
    const reviewedBy5 = { ...pub('reviewed'), reviewedBy: { id: 5, name: '' } } as Publication
    expect(publicationActions(user(5, ['committee', 'executive']), reviewedBy5, true)).to.include({ approve: false, sendBack: true })
    expect(publicationActions(user(4, ['committee', 'executive']), reviewedBy5, true)).to.include({ approve: true })
  })

  it('when one person would take both steps of a report, then the rule named is reviewer_approves (either order); the submitter’s is submitter_reviews', () => {
    const steps = { submittedBy: 1, reviewedBy: 5, approvedBy: null }
    expect(publicationSodRefusal(5, steps, 'approve')).to.deep.equal({ rule: 'reviewer_approves', messageKey: 'publication.sod.reviewer_approves' })
    expect(publicationSodRefusal(6, { submittedBy: 1, reviewedBy: null, approvedBy: 6 }, 'review')).to.deep.equal({
      rule: 'reviewer_approves',
      messageKey: 'publication.sod.reviewer_approves',
    })
    expect(publicationSodRefusal(1, steps, 'approve')).to.deep.equal({ rule: 'submitter_reviews', messageKey: 'publication.sod.submitter' })
    expect(publicationSodRefusal(4, steps, 'approve')).to.equal(null)
    expect(publicationSodRefusal(5, { submittedBy: 1, reviewedBy: null, approvedBy: null }, 'review')).to.equal(null)
  })

  it('when published, then nobody can act on it', () => {
    for (const roles of [['finance'], ['committee'], ['executive']] as Role[][]) {
      expect(Object.values(publicationActions(user(9, roles), pub('published'), true)).some(Boolean)).to.equal(false)
    }
  })
})
