import path from 'node:path'
import { Kysely, PostgresDialect, sql } from 'kysely'
import pg from 'pg'
import { openPostgres, type PgDb } from '../db/connection.js'
import { migrateToLatest } from '../db/migrator.js'
import { type Config, loadConfig } from './config.js'

/**
 * Many agencies on one PostgreSQL server (issue 20, SPEC §7): each agency is a schema of its own,
 * found by the request's host name in a registry (schema `yuemkhuen`, table `agency`). An agency's
 * connections are its own small pool whose every connection has the agency's schema as its
 * search_path from the moment it opens ("a dedicated connection"): a schema is never switched on a
 * pooled connection, so nothing of one agency can leak into another's query. Everything keyed by the
 * database handle — caches, the write lock (keyed by the schema), the change counter — is therefore
 * per agency too.
 */

export interface Agency {
  slug: string
  host: string
  name: string
  baseUrl: string
  createdAt: string
}

interface RegistryRow {
  slug: string
  host: string
  name: string
  base_url: string
  created_at: string
}

interface RegistryDatabase {
  'yuemkhuen.agency': RegistryRow
}

export type Registry = Kysely<RegistryDatabase>

/** A slug names the schema and the folder: lower-case Latin letters, digits and `_`, starting with a letter. */
export const SLUG_PATTERN = /^[a-z][a-z0-9_]{1,39}$/

/** A host name as a browser sends it, without port: letters, digits, dots and hyphens. */
export const HOST_PATTERN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/

export class TenancyError extends Error {}

export function schemaOf(slug: string): string {
  if (!SLUG_PATTERN.test(slug)) throw new TenancyError(`invalid agency slug "${slug}": lower-case letters, digits and _ (2–40), starting with a letter`)
  return `agency_${slug}`
}

/** The host name a request is matched by: lower case, no port, no trailing dot. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '')
}

/** The registry's own small pool (public search path); it holds no agency's rows. */
export function openRegistry(url: string): { db: Registry; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 2, idleTimeoutMillis: 10_000 })
  pool.on('error', () => undefined)
  const db = new Kysely<RegistryDatabase>({ dialect: new PostgresDialect({ pool }) })
  return { db, close: () => db.destroy() }
}

export async function ensureRegistry(db: Registry): Promise<void> {
  await sql`CREATE SCHEMA IF NOT EXISTS yuemkhuen`.execute(db)
  await sql`CREATE TABLE IF NOT EXISTS yuemkhuen.agency (
              slug text PRIMARY KEY,
              host text NOT NULL UNIQUE,
              name text NOT NULL,
              base_url text NOT NULL,
              created_at text NOT NULL)`.execute(db)
}

function toAgency(r: RegistryRow): Agency {
  return { slug: r.slug, host: r.host, name: r.name, baseUrl: r.base_url, createdAt: r.created_at }
}

export async function listAgencies(db: Registry): Promise<Agency[]> {
  const rows = await db.selectFrom('yuemkhuen.agency').selectAll().orderBy('slug').execute()
  return rows.map(toAgency)
}

export async function findAgencyByHost(db: Registry, host: string): Promise<Agency | undefined> {
  const r = await db.selectFrom('yuemkhuen.agency').selectAll().where('host', '=', normalizeHost(host)).executeTakeFirst()
  return r && toAgency(r)
}

export async function findAgency(db: Registry, slug: string): Promise<Agency | undefined> {
  const r = await db.selectFrom('yuemkhuen.agency').selectAll().where('slug', '=', slug).executeTakeFirst()
  return r && toAgency(r)
}

export async function registerAgency(db: Registry, a: Omit<Agency, 'createdAt'>, at: string): Promise<Agency> {
  const row: RegistryRow = { slug: a.slug, host: normalizeHost(a.host), name: a.name, base_url: a.baseUrl.replace(/\/+$/, ''), created_at: at }
  await db.insertInto('yuemkhuen.agency').values(row).execute()
  return toAgency(row)
}

export async function schemaExists(db: Registry, slug: string): Promise<boolean> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = ${schemaOf(slug)}`.execute(db)
  return (r.rows[0]?.n ?? 0) > 0
}

/** Opens an agency's database: its own pool, every connection in its schema (created if missing). */
export function openAgencyDb(url: string, slug: string, opts: { poolSize?: number } = {}): PgDb {
  return openPostgres(url, { searchPath: schemaOf(slug), poolSize: opts.poolSize ?? 4, idleTimeoutMillis: 30_000 })
}

/** Creates the agency's schema if it is missing and migrates it to the latest version. */
export async function migrateAgency(registry: Registry, url: string, slug: string): Promise<PgDb> {
  await sql.raw(`CREATE SCHEMA IF NOT EXISTS ${schemaOf(slug)}`).execute(registry)
  const handle = openAgencyDb(url, slug)
  try {
    await migrateToLatest(handle.db)
  } catch (e) {
    await handle.close()
    throw e
  }
  return handle
}

/** What of the environment is the installation's and never an agency's own: each agency keeps its keys and files in its folder. */
const PER_AGENCY = [
  'DATABASE_PATH',
  'ATTACHMENTS_DIR',
  'AUDIT_ANCHOR_PATH',
  'AUDIT_ANCHOR_KEY',
  'SESSION_SECRET',
  'BACKUP_DIR',
  'PUBLIC_BASE_URL',
  'ADMIN_USERNAME',
  'ADMIN_PASSWORD',
]

/** The folder that holds every agency's folder: DATA_DIR, else the folder of DATABASE_PATH. */
export function dataDirOf(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.DATA_DIR || path.dirname(env.DATABASE_PATH || 'data/yuemkhuen.db'))
}

/** An agency's configuration: the installation's, with its own folder `DATA_DIR/<slug>/` and its own PUBLIC_BASE_URL. */
export function agencyConfig(env: NodeJS.ProcessEnv, agency: Pick<Agency, 'slug' | 'baseUrl'>): Config {
  const own: NodeJS.ProcessEnv = { ...env }
  for (const k of PER_AGENCY) delete own[k]
  own.DATABASE_PATH = path.join(dataDirOf(env), agency.slug, 'yuemkhuen.db')
  own.PUBLIC_BASE_URL = agency.baseUrl
  return loadConfig(own)
}
