import path from 'node:path'
import { z } from 'zod'

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).optional(),
  DATABASE_PATH: z.string().min(1).default('data/yuemkhuen.db'),
  // PostgreSQL instead of the SQLite file (issue 19); the data folder (keys, anchor, attachments) stays beside DATABASE_PATH.
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be postgres://user:pass@host:port/db')
    .optional(),
  ATTACHMENTS_DIR: z.string().min(1).optional(),
  // Many agencies on one PostgreSQL server, told apart by host name (issue 20, SPEC §7).
  TENANCY: z.enum(['single', 'host']).default('single'),
  DATA_DIR: z.string().min(1).optional(),
  PUBLIC_BASE_URL: z.string().url().optional(),
  ADMIN_USERNAME: z.string().trim().min(1).optional(),
  ADMIN_PASSWORD: z.string().min(1).optional(),
  TRUST_PROXY: z.string().optional(),
  SESSION_SECRET: z.string().min(16).optional(),
  AUDIT_ANCHOR_KEY: z.string().min(16).optional(),
  AUDIT_ANCHOR_PATH: z.string().min(1).optional(),
  SESSION_IDLE_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BACKUP_DIR: z.string().min(1).optional(),
  BACKUP_KEEP: z.coerce.number().int().min(1).max(1000).default(14),
  BACKUP_EVERY_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 365)
    .default(24),
  // Notifications by e-mail (issue 18): smtp://user:password@host:port or smtps://…; unset, no e-mail is sent.
  SMTP_URL: z
    .string()
    .trim()
    .optional()
    .refine((v) => !v || /^smtps?:\/\/[^\s]+$/i.test(v), { message: 'must be smtp://host:port or smtps://host:port' }),
  MAIL_FROM: z.string().trim().min(3).optional(),
})

export interface Config {
  readonly env: 'development' | 'production' | 'test'
  readonly port: number
  readonly host: string | undefined
  readonly databasePath: string
  /** postgres://… when the app runs on PostgreSQL; wins over databasePath for the data (SPEC §5). */
  readonly databaseUrl?: string
  /** 'host': many agencies, one schema each, found by host name (needs DATABASE_URL). */
  readonly tenancy: 'single' | 'host'
  /** Loan attachments (scans, photos) live here, outside the database; back it up with the database file. */
  readonly attachmentsDir: string
  /** Base of every QR payload; a printed label keeps it for years (SPEC §5). */
  readonly publicBaseUrl: string
  readonly admin: { readonly username: string | undefined; readonly password: string | undefined }
  /** Express "trust proxy" value: false, true, a hop count, or a list of addresses. */
  readonly trustProxy: boolean | number | string
  readonly sessionSecret: string | undefined
  /** The key of the audit anchor's MACs (else the key file `audit-anchor.key` beside the data). */
  readonly auditAnchorKey: string | undefined
  /** The append-only anchor log (else `audit-anchor.log` beside the data); keep it off the database's disk if you can. */
  readonly auditAnchorPath: string | undefined
  readonly sessionIdleMinutes: number
  readonly logLevel: string
  /** Verified copies of the database (npm run backup, the daily timer, before migrations and restores). */
  readonly backupDir: string
  /** How many regular (daily and manual) backups retention keeps; pre-migration and pre-restore ones follow their own rule. */
  readonly backupKeep: number
  /** Hours between the server's own backups; 0 turns the timer off (an outside cron runs npm run backup instead). */
  readonly backupEveryHours: number
  /** The office's mail server (smtp:// or smtps://, with the account in it); undefined: notifications stay in the app. */
  readonly smtpUrl: string | undefined
  /** The From of every notification e-mail (else the account of SMTP_URL, else yuemkhuen@localhost). */
  readonly mailFrom: string
}

export class ConfigError extends Error {}

function parseTrustProxy(raw: string | undefined): boolean | number | string {
  if (raw === undefined || raw.trim() === '' || raw === 'false' || raw === '0') return false
  if (raw === 'true') return true
  if (/^\d+$/.test(raw)) return Number(raw)
  return raw
}

/** The account of an SMTP URL when it is an address (smtp://officer%40agency.go.th:pw@host): the usual From. */
function mailFromUrl(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    const user = decodeURIComponent(new URL(url).username)
    return user.includes('@') ? user : undefined
  } catch {
    return undefined
  }
}

/** The only reader of process.env (ARCHITECTURE.md): everything else gets a frozen Config. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`Invalid environment: ${lines.join('; ')}`)
  }
  const e = parsed.data
  if (e.TENANCY === 'host' && !e.DATABASE_URL)
    throw new ConfigError('Invalid environment: TENANCY=host needs DATABASE_URL (many agencies live on one PostgreSQL server)')
  const base = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '')
  return Object.freeze({
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databasePath: e.DATABASE_PATH,
    databaseUrl: e.DATABASE_URL,
    tenancy: e.TENANCY,
    attachmentsDir: e.ATTACHMENTS_DIR ?? path.join(path.dirname(e.DATABASE_PATH), 'attachments'),
    publicBaseUrl: base,
    admin: Object.freeze({ username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD }),
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    sessionSecret: e.SESSION_SECRET,
    auditAnchorKey: e.AUDIT_ANCHOR_KEY,
    auditAnchorPath: e.AUDIT_ANCHOR_PATH,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    logLevel: e.LOG_LEVEL,
    backupDir: e.BACKUP_DIR ?? path.join(path.dirname(e.DATABASE_PATH), 'backups'),
    backupKeep: e.BACKUP_KEEP,
    backupEveryHours: e.BACKUP_EVERY_HOURS,
    smtpUrl: e.SMTP_URL || undefined,
    mailFrom: e.MAIL_FROM ?? mailFromUrl(e.SMTP_URL) ?? 'yuemkhuen@localhost',
  })
}
