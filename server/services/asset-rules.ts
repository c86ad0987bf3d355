import type { AssetStatus } from '../../db/schema.js'
import type { Check } from '../lib/check.js'

/** Pure checks of the register; no I/O. */

/** Letters of any script (Thai included, with their marks), digits, '-', '/', '.'; e.g. 416-66-0001. */
export const ASSET_CODE_PATTERN = /^[\p{L}\p{M}\p{N}][\p{L}\p{M}\p{N}\-/.]*$/u
export const ASSET_CODE_MAX = 50

/**
 * Status moves the register may make by hand, with a reason. `on_loan` is reached and left only
 * through the loan workflow; `disposed` is the end of an item's life.
 */
const REGISTER_MOVES: Record<AssetStatus, AssetStatus[]> = {
  available: ['in_repair', 'lost', 'disposed'],
  in_repair: ['available', 'lost', 'disposed'],
  lost: ['available', 'disposed'],
  on_loan: [],
  disposed: [],
}

export function checkRegisterStatusChange(from: AssetStatus, to: AssetStatus): Check<'same_status' | 'on_loan' | 'not_allowed'> {
  if (from === to) return { ok: false, reason: 'same_status' }
  if (from === 'on_loan' || to === 'on_loan') return { ok: false, reason: 'on_loan' }
  if (!REGISTER_MOVES[from].includes(to)) return { ok: false, reason: 'not_allowed' }
  return { ok: true }
}

export function allowedRegisterMoves(from: AssetStatus): AssetStatus[] {
  return REGISTER_MOVES[from]
}
