import type { Role } from '../../db/schema.js'

/*
 * Who may use what: THE permission table, one row per route that createApp serves (method + path
 * exactly as Express sees it). It is read by people (docs/PERMISSIONS.md is rendered from it) and
 * by test/http/permissions.test.ts, which walks the app's router and fails when a route is missing
 * here or listed here without existing — so a new route must be added to this table, with its
 * access, before the suite is green again.
 *
 * The role checks live in the routes (requireRole); who may do what to a particular loan is decided
 * by the loan policy (server/services/loan-policy.ts), which every loan service enforces and every
 * loan page renders its buttons from. This table is the contract they are tested against.
 *
 * Outcomes for those not allowed:
 *  - pages: anonymous → 303 to /login?next=<path>; signed in without the role → 403 page naming
 *    the roles the page needs;
 *  - API (/api/v1): anonymous → 401 `unauthenticated`; without the role → 403 `forbidden`;
 *  - `own`: allowed on the person's own records only (a loan they borrow or entered, their own
 *    API token); someone else's record answers 404, so that its existence does not leak.
 * A user with several roles has their union.
 */

/** How one role fares on a route. */
export type Grant = 'yes' | 'no' | 'own'

export type Method = 'GET' | 'POST'

export interface RoutePermission {
  method: Method
  path: string
  /** Anonymous visitors may use it too (sign-in, health, the public transparency pages). */
  public: boolean
  grants: Record<Role, Grant>
  /** Conditions the table's cells cannot say (which step, which loans, what a list shows). */
  note: string
}

export const PERMISSION_ROLES = ['staff', 'finance', 'executive', 'committee', 'admin'] as const satisfies readonly Role[]

type Grants = Record<Role, Grant>

function grants(yes: Role[], own: Role[] = []): Grants {
  const out = {} as Grants
  for (const r of PERMISSION_ROLES) out[r] = yes.includes(r) ? 'yes' : own.includes(r) ? 'own' : 'no'
  return out
}

/** Every signed-in person. */
const ANYONE = grants([...PERMISSION_ROLES])
/** Those who see every loan and the register: finance, executive, committee, admin. */
const READERS = grants(['finance', 'executive', 'committee', 'admin'])
/** Staff see only their own loans; the readers see all. */
const OWN_LOAN = grants(['finance', 'executive', 'committee', 'admin'], ['staff'])
const FINANCE = grants(['finance'])
const ADMIN = grants(['admin'])
const REPORT_READERS = grants(['finance', 'executive', 'committee'])
const APPROVERS = grants(['finance', 'executive'])
/** Borrowers act on their own loans; finance on any. */
const BORROWER_OR_FINANCE = grants(['finance'], ['staff'])
const REQUESTERS = grants(['staff', 'finance'])
const AUDITORS = grants(['committee', 'admin'])

function pub(method: Method, path: string, note = ''): RoutePermission {
  return { method, path, public: true, grants: ANYONE, note }
}

function route(method: Method, path: string, g: Grants, note = ''): RoutePermission {
  return { method, path, public: false, grants: g, note }
}

export const PERMISSIONS: readonly RoutePermission[] = [
  // ---------------------------------------------------------------- public
  pub('GET', '/healthz', 'Process health: one query to the database.'),
  pub('GET', '/vendor/jsqr.js', 'The scanner page’s QR decoder script.'),
  pub('GET', '/favicon.ico', 'The app’s icon, which browsers ask for on every page.'),
  pub('GET', '/login', 'A signed-in person is sent on to a same-site `next` (else `/`).'),
  pub('POST', '/login', 'CSRF token required; rate-limited per account and address; a new session id on success.'),
  pub('POST', '/logout', 'CSRF token required; ends the session.'),
  pub('POST', '/language', 'CSRF token required; a cookie for the anonymous, the profile for the signed-in.'),
  pub('GET', '/transparency', 'The public transparency page (SPEC §5): published reports only, aggregates, no personal data.'),
  pub('GET', '/transparency/procedures', 'The procedure pack.'),
  pub('GET', '/transparency/:year.json', 'A published fiscal year (stable URL); unpublished → 404.'),
  pub('GET', '/transparency/:year.csv'),
  pub('GET', '/transparency/:year/:period.snapshot.json', 'The frozen snapshot whose hash is in the audit chain.'),
  pub('GET', '/transparency/:year/:period.json'),
  pub('GET', '/transparency/:year/:period.csv'),
  pub('GET', '/transparency/:year/:period', 'The printable published report.'),

  // ---------------------------------------------------------------- every signed-in person
  route('GET', '/', ANYONE, 'Dashboard for the person’s roles.'),
  route('GET', '/account', ANYONE),
  route('POST', '/account/tokens', ANYONE, 'Issues an API token for oneself.'),
  route('POST', '/account/tokens/:id/revoke', grants([], [...PERMISSION_ROLES]), 'Only one’s own tokens; another person’s token → 404.'),
  route('GET', '/account/password', ANYONE),
  route('POST', '/account/password', ANYONE, 'Needs the current password.'),
  route('POST', '/account/email', ANYONE, 'One’s own e-mail address for notifications, and e-mail on or off.'),
  route('GET', '/notifications', ANYONE, 'One’s own notifications; opening the page marks what it shows as read.'),
  route('POST', '/notifications/read', ANYONE, 'Marks all of one’s own notifications read.'),

  // ---------------------------------------------------------------- admin
  route('GET', '/admin', ADMIN),
  route('GET', '/admin/users', ADMIN),
  route('GET', '/admin/users/new', ADMIN),
  route('POST', '/admin/users', ADMIN),
  route('GET', '/admin/users/:id', ADMIN),
  route('POST', '/admin/users/:id', ADMIN),
  route('POST', '/admin/users/:id/reset-password', ADMIN),
  route('POST', '/admin/users/:id/revoke-tokens', ADMIN, 'Revokes every API token of the person; audited.'),
  route('GET', '/admin/departments', ADMIN),
  route('POST', '/admin/departments', ADMIN),
  route('GET', '/admin/departments/:id', ADMIN),
  route('POST', '/admin/departments/:id', ADMIN),
  route('GET', '/admin/settings', ADMIN),
  route('POST', '/admin/settings', ADMIN),
  route('GET', '/admin/categories', ADMIN),
  route('GET', '/admin/categories/:id', ADMIN),
  route('POST', '/admin/categories/:id', ADMIN),
  route('GET', '/audit', AUDITORS, 'The audit log and its verification.'),

  // ---------------------------------------------------------------- asset register
  route('GET', '/assets', ANYONE, 'Staff use it to find loanable assets.'),
  route('GET', '/assets/new', FINANCE),
  route('POST', '/assets', FINANCE),
  route('GET', '/assets/:id', ANYONE),
  route('GET', '/assets/:id/edit', FINANCE),
  route('POST', '/assets/:id', FINANCE),
  route('POST', '/assets/:id/status', FINANCE, 'An audited status change with a reason.'),
  route('GET', '/assets/export.csv', READERS),
  route('GET', '/assets/export.xlsx', READERS),
  route('GET', '/assets/import/template.csv', FINANCE),
  route('GET', '/assets/import', FINANCE),
  route('POST', '/assets/import', FINANCE, 'Multipart upload; the CSRF token travels in the form.'),
  route('GET', '/assets/import/:batchId', FINANCE),
  route('POST', '/assets/import/:batchId/confirm', FINANCE),
  route('GET', '/q/*code', ANYONE, 'The QR resolver (SPEC §5): what a scanned label opens.'),
  route('GET', '/labels', FINANCE),
  route('GET', '/labels/sheet', FINANCE),
  route('POST', '/labels/printed', FINANCE, 'The sheet’s print button records that labels were printed (the first-run checklist).'),
  route('GET', '/scan', ANYONE),

  // ---------------------------------------------------------------- stock and kits
  route('GET', '/stock', ANYONE),
  route('GET', '/stock/new', FINANCE),
  route('POST', '/stock', FINANCE),
  route('GET', '/stock/:id', ANYONE),
  route('POST', '/stock/:id/move', FINANCE, 'Stock-in, write-off, repair: audited with a reason.'),
  route('GET', '/kits', FINANCE),
  route('GET', '/kits/new', FINANCE),
  route('POST', '/kits', FINANCE),
  route('GET', '/kits/:id', FINANCE),
  route('POST', '/kits/:id', FINANCE),

  // ---------------------------------------------------------------- requests (the cart)
  route('GET', '/cart', REQUESTERS, 'A loan request for oneself: staff (and finance, who may also borrow).'),
  route('POST', '/cart/add', REQUESTERS),
  route('POST', '/cart/quantity', REQUESTERS),
  route('POST', '/cart/remove', REQUESTERS),
  route('POST', '/cart/clear', REQUESTERS),
  route('POST', '/cart', REQUESTERS, 'Submits the request (pending).'),
  route('GET', '/loans/new', FINANCE, 'Finance enters a loan for someone else (walk-in, community, agency, after the fact).'),
  route('POST', '/loans/new', FINANCE),
  route('GET', '/counter', FINANCE, 'The counter: request, approve and hand over in one visit.'),
  route('POST', '/counter', FINANCE),

  // ---------------------------------------------------------------- loans
  route('GET', '/loans', OWN_LOAN, 'Staff: the list shows only their own loans.'),
  route('GET', '/loans/queue', APPROVERS, 'Each sees the steps that are theirs.'),
  route('GET', '/loans/:id', OWN_LOAN),
  route(
    'POST',
    '/loans/:id/approve',
    APPROVERS,
    'Finance: the check, or the approval of an in-premises loan; executive: the final approval of an off-premises or inter-agency loan after the check (before it → 409). Nobody approves a loan they borrow or entered (403).',
  ),
  route(
    'POST',
    '/loans/:id/approve-paper',
    FINANCE,
    'Records an approval given on paper, the approver chosen from the list for the loan’s level (before or after the check; the check is recorded with it), with the signed slip’s scan (multipart). Never by the borrower; the recorder and the borrower are never the approver (403).',
  ),
  route('POST', '/loans/:id/paper/confirm', APPROVERS, 'Only the approver named on the loan’s paper approval (else 403 `not_named_approver`).'),
  route('POST', '/loans/:id/paper/dispute', APPROVERS, 'Only the named approver; a reason is required. A disputed loan is not handed over (409).'),
  route(
    'POST',
    '/loans/:id/paper/void',
    FINANCE,
    'A disputed or unconfirmed paper approval before hand-over, with a reason: the loan waits for an approval again.',
  ),
  route(
    'GET',
    '/paper-approvals',
    READERS,
    'The committee’s printable list: unconfirmed after 7 days, disputed, without a scan, one user entered + recorded + handed over.',
  ),
  route('POST', '/loans/:id/reject', APPROVERS, 'A reason is required.'),
  route('POST', '/loans/:id/cancel', BORROWER_OR_FINANCE, 'The borrower before hand-over; finance with a reason.'),
  route('POST', '/loans/:id/extensions', BORROWER_OR_FINANCE, 'Asked before the due date.'),
  route(
    'POST',
    '/loans/:id/extensions/:extId',
    APPROVERS,
    'Decided at the loan’s level: finance in the premises, the executive outside (or finance recording it on paper).',
  ),
  route('POST', '/loans/:id/follow-ups', FINANCE),
  route('POST', '/loans/:id/compensations/:compId', FINANCE),
  route('GET', '/loans/:id/handover', FINANCE, 'Not by the borrower, nor by the approver of an in-premises loan while that setting is on (403).'),
  route('POST', '/loans/:id/handover', FINANCE, 'As above; all items or none.'),
  route('GET', '/loans/:id/return', FINANCE),
  route('POST', '/loans/:id/return', FINANCE, 'Not by the borrower (403).'),
  route('GET', '/loans/:id/slip', OWN_LOAN, 'The borrow slip (A4).'),
  route('GET', '/loans/:id/follow-up-letter', FINANCE),
  route('GET', '/loans/:id/attachments', OWN_LOAN),
  route('POST', '/loans/:id/attachments', FINANCE, 'Multipart upload; the CSRF token travels in the form.'),
  route('GET', '/loans/:id/attachments/:attId', OWN_LOAN, 'The file itself.'),

  // ---------------------------------------------------------------- borrowers
  route('GET', '/borrowers', READERS),
  route('GET', '/borrowers/standing', FINANCE),
  route('GET', '/borrowers/me', ANYONE, 'One’s own borrowing record.'),
  route('GET', '/borrowers/users/:id', READERS),
  route('GET', '/borrowers/:id', READERS, 'An external borrower (community member, group, agency).'),

  // ---------------------------------------------------------------- register and reports
  route('GET', '/register', READERS, 'The loan-return register.'),
  route('GET', '/register/print', READERS),
  route('GET', '/register.csv', READERS),
  route('GET', '/register.xlsx', READERS),
  route('GET', '/reports', REPORT_READERS),
  route('GET', '/reports/print', REPORT_READERS),
  route('GET', '/reports.csv', REPORT_READERS),
  route('GET', '/reports.xlsx', REPORT_READERS),
  route('POST', '/reports/publications/:fy/:period/narrative', FINANCE, 'While the period’s report is a draft or sent back.'),
  route('POST', '/reports/publications/:fy/:period/submit', FINANCE, 'After the period has ended; freezes figures and narrative.'),
  route('POST', '/reports/publications/:fy/:period/review', grants(['committee']), 'A submitted report; not by whoever submitted it.'),
  route('POST', '/reports/publications/:fy/:period/approve', grants(['executive']), 'A reviewed report; not by whoever submitted it.'),
  route(
    'POST',
    '/reports/publications/:fy/:period/return',
    grants(['committee', 'executive']),
    'Committee: a submitted report; executive: submitted or reviewed.',
  ),
  route('GET', '/reports/publications/:fy/:period/memo', REPORT_READERS, 'The submission memo, once submitted.'),
  route('GET', '/reports/publications/:fy/:period/publish-request', REPORT_READERS, 'The request to publish, once submitted.'),

  // ---------------------------------------------------------------- JSON API v1 (bearer token, no CSRF)
  pub('POST', '/api/v1/tokens', 'Username and password → a bearer token; rate-limited.'),
  route('GET', '/api/v1/me', ANYONE),
  route('GET', '/api/v1/me/notifications', ANYONE, 'One’s own notifications; never marks them read.'),
  route('POST', '/api/v1/me/notifications/read', ANYONE, 'Marks the given ids (only one’s own) or all read.'),
  route('POST', '/api/v1/users', ADMIN),
  route('GET', '/api/v1/audit/verify', AUDITORS),
  route('GET', '/api/v1/assets', ANYONE),
  route('POST', '/api/v1/assets', FINANCE),
  route('GET', '/api/v1/assets/*code', ANYONE),
  route('POST', '/api/v1/stock', FINANCE),
  route('GET', '/api/v1/stock/*code', ANYONE),
  route(
    'POST',
    '/api/v1/loans',
    REQUESTERS,
    'Staff for themselves; finance may name a borrower or an external borrower, and record a paper approval (`paperApproval`, with `scan` as base64) and the hand-over (`handedOverOn`) — never on a loan they borrow themselves (403).',
  ),
  route('GET', '/api/v1/loans', OWN_LOAN, 'Staff: the list holds only their own loans.'),
  route('GET', '/api/v1/loans/:id', OWN_LOAN),
  route('POST', '/api/v1/loans/:id/approve', APPROVERS, 'As the page: finance checks or approves in-premises; executive approves after the check.'),
  route('POST', '/api/v1/loans/:id/reject', APPROVERS),
  route('POST', '/api/v1/loans/:id/paper-approval/confirm', APPROVERS, 'Only the approver named on the paper approval.'),
  route('POST', '/api/v1/loans/:id/paper-approval/dispute', APPROVERS, 'Only the named approver; `{reason}`.'),
  route('POST', '/api/v1/loans/:id/paper-approval/void', FINANCE, '`{reason}`; before hand-over.'),
  route('POST', '/api/v1/loans/:id/cancel', BORROWER_OR_FINANCE),
  route('POST', '/api/v1/loans/:id/handover', FINANCE),
  route('POST', '/api/v1/loans/:id/return', FINANCE),
  route('POST', '/api/v1/loans/:id/extensions', BORROWER_OR_FINANCE),
  route('POST', '/api/v1/loans/:id/extensions/:extId/decision', APPROVERS),
  route('POST', '/api/v1/loans/:id/follow-ups', FINANCE),
  route('GET', '/api/v1/reports/fiscal-years/:year', REPORT_READERS),
]

export function isApiPath(path: string): boolean {
  return path.startsWith('/api/')
}

const CELL: Record<Grant, string> = { yes: '✓', own: 'own', no: '✗' }

/** The table as Markdown (docs/PERMISSIONS.md holds exactly this; a test keeps them equal). */
export function renderPermissionsMarkdown(table: readonly RoutePermission[] = PERMISSIONS): string {
  const lines: string[] = []
  lines.push('# Who may use what')
  lines.push('')
  lines.push('<!-- Generated from server/web/permissions.ts by `npx tsx scripts/permissions-doc.ts`; do not edit by hand.')
  lines.push('     test/http/permissions.test.ts fails when this file, the table or the app’s routes disagree. -->')
  lines.push('')
  lines.push('One row per route the app serves. Roles combine: a person with several roles may do what any of them may.')
  lines.push('')
  lines.push('- ✓ allowed; **own** allowed on their own records only (a loan they borrow or entered, their own token) — someone else’s answers **404**;')
  lines.push('- ✗ refused: a page answers **403** (a page naming the roles it needs); the API answers **403** `forbidden`;')
  lines.push('- anonymous: `public` allowed; otherwise a page redirects **303** to `/login?next=<path>`, the API answers **401** `unauthenticated`.')
  lines.push(
    '- Every state-changing page (POST) needs the form’s CSRF token (else **403**, nothing changed). The API takes `Authorization: Bearer` only, no cookies, so no CSRF.',
  )
  lines.push('- Segregation of duties (SPEC §1) and order of steps come on top: a refusal for those is **403** (the rule named) or **409**.')
  lines.push('')
  const sections: Array<[string, (r: RoutePermission) => boolean]> = [
    ['Pages', (r) => !isApiPath(r.path)],
    ['JSON API v1', (r) => isApiPath(r.path)],
  ]
  for (const [title, pick] of sections) {
    const api = title !== 'Pages'
    lines.push(`## ${title}`)
    lines.push('')
    lines.push(`| method | path | anonymous | ${PERMISSION_ROLES.join(' | ')} | notes |`)
    lines.push(`|---|---|---|${PERMISSION_ROLES.map(() => '---').join('|')}|---|`)
    for (const r of table.filter(pick)) {
      const anon = r.public ? 'public' : api ? '401' : '303 → /login'
      const cells = PERMISSION_ROLES.map((role) => CELL[r.grants[role]])
      lines.push(`| ${r.method} | \`${r.path}\` | ${anon} | ${cells.join(' | ')} | ${r.note.replace(/\|/g, '\\|')} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}
