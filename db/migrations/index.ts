import type { Migration } from 'kysely'
import * as m20261125_0900 from './2026_11_25_0900_foundation.js'
import * as m20261126_0900 from './2026_11_26_0900_asset_register.js'
import * as m20261126_1000 from './2026_11_26_1000_import_batch.js'
import * as m20261127_0900 from './2026_11_27_0900_loans.js'
import * as m20261128_0900 from './2026_11_28_0900_stock_kits_attachments.js'
import * as m20261129_0900 from './2026_11_29_0900_report_indexes.js'
import * as m20261130_0900 from './2026_11_30_0900_report_publication.js'
import * as m20261201_0900 from './2026_12_01_0900_report_kept.js'
import * as m20261206_0900 from './2026_12_06_0900_loan_policy.js'
import * as m20261206_1000 from './2026_12_06_1000_token_expiry.js'
import * as m20261206_1100 from './2026_12_06_1100_secrets_out_of_db.js'
import * as m20261207_1000 from './2026_12_07_1000_code_key.js'
import * as m20261208_0900 from './2026_12_08_0900_notifications.js'

/**
 * Every migration, by its date-prefixed name. A static list rather than a folder scan, so that
 * the same code runs from TypeScript sources and from the compiled dist/.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_25_0900_foundation': m20261125_0900,
  '2026_11_26_0900_asset_register': m20261126_0900,
  '2026_11_26_1000_import_batch': m20261126_1000,
  '2026_11_27_0900_loans': m20261127_0900,
  '2026_11_28_0900_stock_kits_attachments': m20261128_0900,
  '2026_11_29_0900_report_indexes': m20261129_0900,
  '2026_11_30_0900_report_publication': m20261130_0900,
  '2026_12_01_0900_report_kept': m20261201_0900,
  '2026_12_06_0900_loan_policy': m20261206_0900,
  '2026_12_06_1000_token_expiry': m20261206_1000,
  '2026_12_06_1100_secrets_out_of_db': m20261206_1100,
  '2026_12_07_1000_code_key': m20261207_1000,
  '2026_12_08_0900_notifications': m20261208_0900,
}
