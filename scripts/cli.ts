import { isAppError } from '../server/errors.js'
import { translate } from '../server/i18n/index.js'

/** Shared by the command-line tools (npm run user, npm run agency). */

/** A command typed wrongly: the tool prints the message with its usage and exits 2. */
export class UsageError extends Error {}

/** An application refusal as a command prints it (English, each field's on a line of its own); undefined if `e` is no refusal. */
export function refusalText(e: unknown): string | undefined {
  if (!isAppError(e)) return undefined
  const details = (e.details ?? []).map((d) => `  ${d.field}: ${translate('en', d.message)}`).join('\n')
  return `error: ${translate('en', e.messageKey, e.params)}${details ? `\n${details}` : ''}`
}
