import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

/** Tables follow the Kysely docs: snake_case, nullable rather than optional. */

export const ROLES = ['staff', 'finance', 'executive', 'committee', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** Borrower types of SPEC §1; users take one of the first five, external borrowers the last two. */
export const BORROWER_TYPES = ['employee', 'contract', 'teacher', 'volunteer', 'council', 'public', 'agency'] as const
export type BorrowerType = (typeof BORROWER_TYPES)[number]

export const LOCALES = ['th', 'en'] as const
export type Locale = (typeof LOCALES)[number]

/**
 * The comparison key of an asset, stock or kit code (SPEC §2): codes are stored as entered (trimmed,
 * NFC) and compared by this key, which folds NFKC forms (ำ and ํา, full-width letters), Thai digits,
 * case and spaces, so that a scan, a search or an old label printed with another form finds the same
 * item. The code_key columns hold it, unique across each table; the repositories write it.
 */
export function codeKey(code: string): string {
  return code
    .normalize('NFKC')
    .replace(/[\u0E50-\u0E59]/g, (d) => String(d.charCodeAt(0) - 0x0e50))
    .toLowerCase()
    .replace(/\s+/g, '')
}

export interface DepartmentTable {
  id: Generated<number>
  code: string
  name: string
  active: ColumnType<number, number | undefined, number>
  sort_order: ColumnType<number, number | undefined, number>
  created_at: string // ISO-8601 UTC
}

export interface AppUserTable {
  id: Generated<number>
  username: string // lower-case, trimmed
  name: string
  position: string
  department_id: number | null
  borrower_type: BorrowerType
  phone: string
  password_hash: string
  locale: Locale
  active: ColumnType<number, number | undefined, number>
  must_change_password: ColumnType<number, number | undefined, number>
  created_at: string
  updated_at: string
  password_changed_at: string
  /** An optional address for notifications by e-mail ('' = none; issue 18). */
  email: ColumnType<string, string | undefined, string>
  /** The person's own switch: 0 = no e-mail even with an address. */
  email_enabled: ColumnType<number, number | undefined, number>
}

export interface UserRoleTable {
  user_id: number
  role: Role
}

export interface ApiTokenTable {
  id: Generated<number>
  user_id: number
  name: string
  token_hash: string // sha256 hex of the secret; the secret itself is shown once
  prefix: string // first characters, so a person can tell tokens apart
  created_at: string
  last_used_at: string | null
  revoked_at: string | null
  expires_at: string | null // ISO-8601 UTC; null: no expiry
}

export interface SessionTable {
  sid: string
  user_id: number | null // the signed-in user, so that deactivation ends their sessions
  data: string // JSON
  expires_at: number // epoch milliseconds
}

export interface SettingTable {
  key: string
  value: string // JSON
  updated_at: string
}

export interface AuditLogTable {
  id: Generated<number>
  at: string // ISO-8601 UTC
  actor_id: number | null
  actor_label: string // username, or 'system' / 'cli'
  action: string // e.g. 'user.created'
  entity: string // e.g. 'user'
  entity_id: string | null
  data: string // JSON
  prev_hash: string // hash of the previous entry; 64 zeros for the first
  hash: string // sha256 over every other column as stored
}

export const PUBLICATION_STATUSES = ['draft', 'submitted', 'reviewed', 'returned', 'published'] as const
export type PublicationStatus = (typeof PUBLICATION_STATUSES)[number]

/** A statistics report on its way to publication (SPEC §6); frozen by triggers once published. */
export interface ReportPublicationTable {
  id: Generated<number>
  fiscal_year: number
  period: string // year | h1 | q1..q4
  from_on: string
  to_on: string
  status: PublicationStatus
  summary: ColumnType<string, string | undefined, string> // สรุปผล
  problems: ColumnType<string, string | undefined, string> // ปัญหาอุปสรรค
  suggestions: ColumnType<string, string | undefined, string> // ข้อเสนอแนะ
  memo_number: ColumnType<string, string | undefined, string>
  memo_date: string | null
  submitted_by: number | null
  submitted_at: string | null
  submit_note: ColumnType<string, string | undefined, string>
  reviewed_by: number | null
  reviewed_at: string | null
  review_note: ColumnType<string, string | undefined, string>
  approved_by: number | null
  approved_at: string | null
  approval_note: ColumnType<string, string | undefined, string>
  returned_by: number | null
  returned_at: string | null
  return_reason: ColumnType<string, string | undefined, string>
  snapshot: string | null // JSON text exactly as hashed
  snapshot_hash: string | null // sha256 hex of `snapshot`
  created_at: string
  updated_at: string
}

/** Every change of an asset's status, by Bangkok calendar day (for the state at a date, ข้อ 213). */
export interface AssetStatusEventTable {
  id: Generated<number>
  asset_id: number
  from_status: AssetStatus | null
  to_status: AssetStatus
  on_date: string
  at: string
}

/** A change counter per fiscal year with kept statistics; bumped by triggers (migration 2026_12_01_0900). */
export interface ReportEpochTable {
  fiscal_year: number
  n: ColumnType<number, number | undefined, number>
}

/** Statistics of an ended period, kept while their fiscal year's counter is unchanged. */
export interface ReportKeptTable {
  key: string
  fiscal_year: number
  epoch: number
  figures: string // JSON text
  computed_at: string
}

export const ASSET_STATUSES = ['available', 'on_loan', 'in_repair', 'lost', 'disposed'] as const
export type AssetStatus = (typeof ASSET_STATUSES)[number]

export const CATEGORY_CODES = [
  'office',
  'education',
  'vehicle',
  'agriculture',
  'construction',
  'electrical',
  'advertising',
  'science',
  'household',
  'factory',
  'sports',
  'survey',
  'music',
  'computer',
  'weapon',
  'field',
  'other',
] as const

export interface CategoryTable {
  id: Generated<number>
  code: string
  name: string
  useful_life_years: number
  loanable_default: ColumnType<number, number | undefined, number>
  active: ColumnType<number, number | undefined, number>
  sort_order: ColumnType<number, number | undefined, number>
  created_at: string
}

export interface AssetTable {
  id: Generated<number>
  code: string // as entered: trimmed and NFC (never NFKC); the QR label carries it
  code_key: ColumnType<string, string | undefined, string | undefined> // codeKey(code), unique; the repository writes it
  name: string
  category_id: number
  brand_model: string
  serial_number: string
  department_id: number | null
  location: string
  acquired_on: string | null // 'YYYY-MM-DD'
  price_satang: number | null // integer satang; shown as baht
  useful_life_years: number | null // overrides the category's
  funding_source: string
  status: AssetStatus
  loanable: number // 0 | 1
  max_loan_days: number | null
  notes: string
  created_at: string
  updated_at: string
}

/** A previewed register file awaiting confirmation (asset import); expires unless confirmed. */
export interface ImportBatchTable {
  id: string // random and unguessable; it names the batch in the confirm URL
  user_id: number // the uploader: only they see and confirm it
  file_name: string
  meta: string // JSON: encoding, kind, header row, mapped and ignored columns, empty rows skipped
  total_rows: number
  good_rows: number
  bad_rows: number
  created_at: string
  expires_at: string
  imported_at: string | null
  imported_count: number | null
}

export interface ImportBatchRowTable {
  batch_id: string
  line: number // the row number in the file, as a spreadsheet shows it (the header row counts)
  ok: number // 0 | 1
  data: string // JSON: the values as read, the reasons, and for a good row the checked input
}

export type LoanStatusCol = 'pending' | 'approved' | 'on_loan' | 'returned' | 'rejected' | 'cancelled' | 'expired'
export type LoanKindCol = 'in_premises' | 'off_premises' | 'inter_agency'

export interface LoanNumberTable {
  fiscal_year: number
  last_seq: number
}

export interface ExternalBorrowerTable {
  id: Generated<number>
  type: BorrowerType
  name: string
  organisation: string
  phone: string
  address: string
  village_no: string // หมู่ที่
  id_number: string
  created_at: string
  updated_at: string
}

export interface LoanTable {
  id: Generated<number>
  fiscal_year: number // Buddhist era, from the request date
  seq: number // running number within the fiscal year: «seq/fiscal_year»
  status: LoanStatusCol
  kind: LoanKindCol
  borrower_user_id: number | null
  external_borrower_id: number | null
  borrower_type: BorrowerType
  department_id: number | null
  letter_number: string // another agency's letter
  letter_date: string | null
  requested_by: number
  requested_at: string // ISO-8601 UTC
  requested_on: string // its Bangkok date
  purpose: string
  place: string
  start_on: string
  due_on: string // the current due date (extensions move it)
  original_due_on: string
  entered_after_fact: ColumnType<number, number | undefined, number>
  checked_at: string | null
  checked_by: number | null
  approved_at: string | null
  approved_by: number | null
  approved_on_paper: ColumnType<number, number | undefined, number>
  rejected_at: string | null
  rejected_by: number | null
  rejection_reason: string | null
  cancelled_at: string | null
  cancelled_by: number | null
  cancel_reason: string | null
  expired_at: string | null
  handed_over_at: string | null
  handed_over_by: number | null
  handed_over_on: string | null
  returned_at: string | null
  returned_on: string | null
  updated_at: string
}

export interface LoanItemTable {
  id: Generated<number>
  loan_id: number
  asset_id: number
  handed_over_at: string | null
  handed_over_by: number | null
  returned_at: string | null
  returned_on: string | null
  received_by: number | null
  returned_by_name: string | null // ผู้ส่งคืน, may differ from the borrower
  condition: 'good' | 'damaged' | 'lost' | null
  note: ColumnType<string, string | undefined, string>
}

export interface LoanApprovalTable {
  id: Generated<number>
  loan_id: number
  step: 'check' | 'approve'
  by_user_id: number | null
  by_name: string
  recorded_by: number
  at: string
  note: string
  on_paper: number
  paper_date: string | null
  /** Where a paper approver was chosen from: a signatory's key (mayor, chiefAdministrator, financeDirector) or 'executive'. */
  approver_source: ColumnType<string, string | undefined, string>
  confirmed_at: string | null
  disputed_at: string | null
  dispute_reason: ColumnType<string, string | undefined, string>
  voided_at: string | null
  voided_by: number | null
  void_reason: ColumnType<string, string | undefined, string>
  /** The scan of the signed slip (a loan attachment). */
  evidence_id: number | null
}

export interface LoanExtensionTable {
  id: Generated<number>
  loan_id: number
  requested_by: number
  requested_at: string
  from_due_on: string
  to_due_on: string
  reason: string
  status: 'pending' | 'approved' | 'rejected'
  checked_at: string | null
  checked_by: number | null
  decided_at: string | null
  decided_by: number | null
  decision_note: string
  on_paper: number
}

export interface FollowUpTable {
  id: Generated<number>
  loan_id: number
  on_date: string
  method: 'phone' | 'letter' | 'in_person'
  letter_number: string
  letter_date: string | null
  note: string
  created_by: number
  created_at: string
}

export interface CompensationTable {
  id: Generated<number>
  loan_id: number
  loan_item_id: number | null
  loan_stock_line_id: number | null
  incident: 'damaged' | 'lost'
  incident_on: string
  quantity: number
  method: 'repair' | 'replace' | 'pay' | null
  current_price_satang: number | null
  proposed_satang: number | null
  decided_satang: number | null
  order_ref: string
  police_ref: string
  receipt_ref: string
  settled_on: string | null
  note: string
  created_at: string
  updated_at: string
}

export interface StockItemTable {
  id: Generated<number>
  code: string // one QR label for the pool; shares the code space with assets and kits
  code_key: ColumnType<string, string | undefined, string | undefined> // codeKey(code), unique; the repository writes it
  name: string
  unit: string // ตัว, ชุด, ใบ
  category_id: number | null
  quantity: number // owned
  in_repair: ColumnType<number, number | undefined, number>
  out_qty: ColumnType<number, number | undefined, number> // handed over and not back
  loanable: ColumnType<number, number | undefined, number>
  location: ColumnType<string, string | undefined, string>
  notes: ColumnType<string, string | undefined, string>
  created_at: string
  updated_at: string
}

export interface StockMovementTable {
  id: Generated<number>
  stock_id: number
  kind: 'stock_in' | 'write_off' | 'write_off_repair' | 'to_repair' | 'from_repair' | 'lost_on_loan' | 'damaged_on_loan'
  quantity: number
  reason: string
  loan_id: number | null
  at: string
  by_user_id: number | null
}

export interface LoanStockLineTable {
  id: Generated<number>
  loan_id: number
  stock_id: number
  quantity: number // asked for
  handed_over_qty: ColumnType<number, number | undefined, number>
  handed_over_at: string | null
  returned_good: ColumnType<number, number | undefined, number>
  returned_damaged: ColumnType<number, number | undefined, number>
  returned_lost: ColumnType<number, number | undefined, number>
  last_returned_at: string | null
  last_returned_on: string | null
  received_by: number | null
  returned_by_name: string | null
  note: ColumnType<string, string | undefined, string>
}

export interface KitTable {
  id: Generated<number>
  code: string
  code_key: ColumnType<string, string | undefined, string | undefined> // codeKey(code), unique; the repository writes it
  name: string
  active: ColumnType<number, number | undefined, number>
  created_at: string
  updated_at: string
}

export interface KitPartTable {
  id: Generated<number>
  kit_id: number
  asset_id: number | null
  stock_id: number | null
  quantity: number
}

export interface LoanAttachmentTable {
  id: Generated<number>
  loan_id: number
  kind: 'signed_slip' | 'paper_approval' | 'return_photo' | 'other'
  file_name: string
  mime: string
  size: number
  sha256: string
  stored_name: string // the file's name under the attachments folder (random; never the upload's name)
  note: ColumnType<string, string | undefined, string>
  uploaded_by: number
  uploaded_at: string
}

/** What waits for a person (SPEC §8): one row per person and event; the text is rendered from `kind` and `params` in their language. */
export interface NotificationTable {
  id: Generated<number>
  user_id: number
  kind: string
  loan_id: number | null
  params: string // JSON
  link: string // a path inside the app
  created_at: string
  read_at: string | null
  /** Set for the scheduler's reminders: at most one row per key (once per loan and day). */
  dedupe_key: string | null
}

/** The e-mail of a notification, written in the event's transaction; the sender claims, sends and marks it. */
export interface MailOutboxTable {
  id: Generated<number>
  notification_id: number | null
  to_address: string
  subject: string
  body: string
  created_at: string
  next_attempt_at: string
  attempts: ColumnType<number, number | undefined, number>
  /** The sender that holds the row until `claimed_until` (a lease: a sender that died lets it go). */
  claimed_by: string | null
  claimed_until: string | null
  last_attempt_at: string | null
  last_error: ColumnType<string, string | undefined, string>
  sent_at: string | null
  /** Refused for good by the mail server (a 5xx answer): not retried, shown on the admin page. */
  failed_at: string | null
}

export interface Database {
  notification: NotificationTable
  mail_outbox: MailOutboxTable
  report_publication: ReportPublicationTable
  asset_status_event: AssetStatusEventTable
  report_epoch: ReportEpochTable
  report_kept: ReportKeptTable
  stock_item: StockItemTable
  stock_movement: StockMovementTable
  loan_stock_line: LoanStockLineTable
  kit: KitTable
  kit_part: KitPartTable
  loan_attachment: LoanAttachmentTable
  loan_number: LoanNumberTable
  external_borrower: ExternalBorrowerTable
  loan: LoanTable
  loan_item: LoanItemTable
  loan_approval: LoanApprovalTable
  loan_extension: LoanExtensionTable
  follow_up: FollowUpTable
  compensation: CompensationTable
  category: CategoryTable
  asset: AssetTable
  department: DepartmentTable
  app_user: AppUserTable
  user_role: UserRoleTable
  api_token: ApiTokenTable
  session: SessionTable
  setting: SettingTable
  audit_log: AuditLogTable
  import_batch: ImportBatchTable
  import_batch_row: ImportBatchRowTable
}

export type CategoryRow = Selectable<CategoryTable>
export type AssetRow = Selectable<AssetTable>
export type NewAsset = Insertable<AssetTable>
export type AssetUpdate = Updateable<AssetTable>
export type DepartmentRow = Selectable<DepartmentTable>
export type NewDepartment = Insertable<DepartmentTable>
export type DepartmentUpdate = Updateable<DepartmentTable>
export type UserRow = Selectable<AppUserTable>
export type NewUser = Insertable<AppUserTable>
export type UserUpdate = Updateable<AppUserTable>
export type NotificationRow = Selectable<NotificationTable>
export type NewNotification = Insertable<NotificationTable>
export type MailOutboxRow = Selectable<MailOutboxTable>
export type ApiTokenRow = Selectable<ApiTokenTable>
export type AuditRow = Selectable<AuditLogTable>
export type NewAuditRow = Insertable<AuditLogTable>
export type ImportBatchRow = Selectable<ImportBatchTable>
export type NewImportBatch = Insertable<ImportBatchTable>
export type ImportBatchLineRow = Selectable<ImportBatchRowTable>
export type LoanRow = Selectable<LoanTable>
export type NewLoan = Insertable<LoanTable>
export type LoanUpdate = Updateable<LoanTable>
export type LoanItemRow = Selectable<LoanItemTable>
export type ExternalBorrowerRow = Selectable<ExternalBorrowerTable>
export type LoanApprovalRow = Selectable<LoanApprovalTable>
export type LoanExtensionRow = Selectable<LoanExtensionTable>
export type FollowUpRow = Selectable<FollowUpTable>
export type CompensationRow = Selectable<CompensationTable>
export type StockItemRow = Selectable<StockItemTable>
export type LoanStockLineRow = Selectable<LoanStockLineTable>
export type KitRow = Selectable<KitTable>
export type KitPartRow = Selectable<KitPartTable>
export type LoanAttachmentRow = Selectable<LoanAttachmentTable>
export type ReportPublicationRow = Selectable<ReportPublicationTable>
export type ReportPublicationUpdate = Updateable<ReportPublicationTable>
