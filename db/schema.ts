import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

/** Tables follow the Kysely docs: snake_case, nullable rather than optional. */

export const ROLES = ['staff', 'finance', 'executive', 'committee', 'admin'] as const
export type Role = (typeof ROLES)[number]

/** Borrower types of SPEC §1; users take one of the first five, external borrowers the last two. */
export const BORROWER_TYPES = ['employee', 'contract', 'teacher', 'volunteer', 'council', 'public', 'agency'] as const
export type BorrowerType = (typeof BORROWER_TYPES)[number]

export const LOCALES = ['th', 'en'] as const
export type Locale = (typeof LOCALES)[number]

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

export const ASSET_STATUSES = ['available', 'on_loan', 'in_repair', 'lost', 'disposed'] as const
export type AssetStatus = (typeof ASSET_STATUSES)[number]

export const CATEGORY_CODES = [
  'office', 'education', 'vehicle', 'agriculture', 'construction', 'electrical', 'advertising', 'science',
  'household', 'factory', 'sports', 'survey', 'music', 'computer', 'weapon', 'field', 'other',
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
  code: string // trimmed and NFKC-normalised; the QR label carries it
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

export interface Database {
  category: CategoryTable
  asset: AssetTable
  department: DepartmentTable
  app_user: AppUserTable
  user_role: UserRoleTable
  api_token: ApiTokenTable
  session: SessionTable
  setting: SettingTable
  audit_log: AuditLogTable
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
export type ApiTokenRow = Selectable<ApiTokenTable>
export type AuditRow = Selectable<AuditLogTable>
export type NewAuditRow = Insertable<AuditLogTable>
