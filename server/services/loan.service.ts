// The loan operations live in their own files (loan-*.ts); this module re-exports what callers import.
export { loanNumber } from './loan-common.js'
export {
  assetLoanState,
  canSeeLoan,
  compensationUpdates,
  currentLoansOf,
  DUE_SOON_DAYS,
  findAssetWithLoanState,
  getLoan,
  listLoans,
  loanActionCounts,
  loanQueues,
  type AssetLoanState,
  type LoanView,
  type QueueSection,
} from './loan-query.service.js'
export { createLoan, createLoanSchema } from './loan-request.service.js'
export { approveLoan, rejectLoan } from './loan-approval.service.js'
export { cancelLoan, expireLoans } from './loan-cancel.service.js'
export { handOver } from './loan-handover.service.js'
export { receiveReturn, updateCompensation } from './loan-return.service.js'
export { decideExtension, requestExtension } from './loan-extension.service.js'
export { addFollowUp } from './loan-follow-up.service.js'
