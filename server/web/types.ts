import type { CurrentUser } from '../services/user.service.js'
import type { AppContext } from '../context.js'
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
      /** Pages: this request's context, its kept reads pinned at the request's start (http/middleware/auth.ts contextOf). */
      context?: AppContext
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    userId?: number
    /** The touch interval in which a signed-in session was last active (session-store.ts rollActivity). */
    activeStep?: number
    /**
     * The loan cart: asset codes and counted items with a quantity, collected before sending one
     * request. Older sessions hold a bare array of asset codes; read it through web/cart-state.ts.
     */
    cart?: { assets: string[]; stock: Array<{ code: string; quantity: number }> } | string[]
    flash?: Array<{ kind: 'success' | 'error' | 'info'; key: string; params?: Record<string, string | number>; secret?: string }>
  }
}
