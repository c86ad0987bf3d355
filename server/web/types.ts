import type { CurrentUser } from '../services/user.service.js'
import type { Locale, Translate } from '../i18n/index.js'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: CurrentUser
      requestId: string
      locale: Locale
      t: Translate
      /** A JSON API request: errors answer JSON, never redirects. */
      isApi: boolean
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    userId?: number
    /** The loan cart: asset codes a person collects before sending one request. */
    cart?: string[]
    flash?: Array<{ kind: 'success' | 'error' | 'info'; key: string; params?: Record<string, string | number>; secret?: string }>
  }
}

export {}
