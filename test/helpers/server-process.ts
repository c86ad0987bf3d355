/**
 * The real server as a child process on a file database, for the race and fault tests: it runs
 * `node --import tsx server/main.ts` (no prior build needed), and these helpers speak to it over
 * HTTP with fetch and bearer tokens, run the user CLI beside it, and open the file afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import type { Role } from '../../db/schema.js'

export const ROOT = path.resolve(import.meta.dirname, '..', '..')

/** The first administrator, made from ADMIN_USERNAME/ADMIN_PASSWORD on an empty file. */
export const ADMIN = { username: 'chief', password: 'a-long-secret-1' } as const

export interface ServerProcess {
  child: ChildProcess
  port: number
  /** http://127.0.0.1:<port> */
  base: string
  /** What the process wrote to stdout and stderr (the last 64 kB of each). */
  output(): string
  /** Sends the signal and resolves with the exit code (null when a signal ended it) and the signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const KEEP = 64 * 1024
const tail = (s: string) => (s.length > KEEP ? s.slice(-KEEP) : s)

/** Starts the server on a free port with the database at `databasePath` and waits until it listens. */
export function startServer(databasePath: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_PATH: databasePath,
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      SESSION_SECRET: 'race-and-fault-test-session-secret',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal }
      resolve(exited)
    })
  })
  const output = () => `${out}\n${err}`
  return new Promise((resolve, reject) => {
    let listening = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`server did not start: ${output()}`))
    }, 60_000)
    child.stderr!.on('data', (d: Buffer) => (err = tail(err + d.toString())))
    child.stdout!.on('data', (d: Buffer) => {
      out = tail(out + d.toString())
      if (listening) return
      const m = /"port":(\d+)[^\n]*listening/.exec(out)
      if (!m) return
      listening = true
      clearTimeout(timer)
      const port = Number(m[1])
      resolve({
        child,
        port,
        base: `http://127.0.0.1:${port}`,
        output,
        stop: (signal: NodeJS.Signals = 'SIGTERM') => {
          if (!exited) child.kill(signal)
          return exit
        },
      })
    })
    void exit.then(({ code, signal }) => {
      if (listening) return
      clearTimeout(timer)
      reject(new Error(`server exited (${code ?? signal}) before listening: ${output()}`))
    })
  })
}

export interface Reply<T = unknown> {
  status: number
  body: T
}

/** One JSON API call; a body that is not JSON comes back as text. */
export async function call<T = unknown>(
  base: string,
  method: 'GET' | 'POST',
  urlPath: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${base}${urlPath}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) })
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // keep the text
  }
  return { status: res.status, body: body as T }
}

/** The API as one caller. */
export function apiAs(base: string, token?: string) {
  return {
    get: <T = unknown>(urlPath: string) => call<T>(base, 'GET', urlPath, { token }),
    post: <T = unknown>(urlPath: string, body: unknown = {}) => call<T>(base, 'POST', urlPath, { token, body }),
  }
}

export async function tokenFor(base: string, username: string, password: string): Promise<string> {
  const r = await call<{ token: string }>(base, 'POST', '/api/v1/tokens', { body: { username, password } })
  if (r.status !== 201) throw new Error(`token for ${username}: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body.token
}

/**
 * A person signs in through the pages with the temporary password an admin gave them and chooses
 * their own (a temporary password gets no API token: 403 password_change_required).
 */
export async function choosePassword(base: string, username: string, temporary: string, chosen: string): Promise<void> {
  let cookie = ''
  const send = async (urlPath: string, form?: Record<string, string>) => {
    const res = await fetch(`${base}${urlPath}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form).toString() : undefined,
    })
    const set = res.headers.get('set-cookie')
    if (set) cookie = set.split(';')[0]!
    return { status: res.status, text: await res.text() }
  }
  const csrf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? ''
  const login = await send('/login')
  const signedIn = await send('/login', { _csrf: csrf(login.text), username, password: temporary, next: '/' })
  if (signedIn.status !== 303) throw new Error(`sign-in of ${username}: ${signedIn.status}`)
  const page = await send('/account/password')
  const changed = await send('/account/password', { _csrf: csrf(page.text), currentPassword: temporary, newPassword: chosen, confirmPassword: chosen })
  if (changed.status !== 303) throw new Error(`password change of ${username}: ${changed.status}`)
}

/** An account made by the admin through POST /api/v1/users, its own password chosen, and a bearer token for it. */
export async function userWithToken(base: string, adminToken: string, username: string, roles: Role[]): Promise<{ username: string; token: string }> {
  const temporary = `tmp-${username}-long-enough`
  const password = `pw-${username}-long-enough`
  const r = await call(base, 'POST', '/api/v1/users', { token: adminToken, body: { username, password: temporary, name: `ทดสอบ ${username}`, roles } })
  if (r.status !== 201) throw new Error(`user ${username}: ${r.status} ${JSON.stringify(r.body)}`)
  await choosePassword(base, username, temporary, password)
  return { username, token: await tokenFor(base, username, password) }
}

/** Runs `scripts/user.ts` (what `npm run user` runs) as its own process on the file. */
export function runUserCli(args: string[], databasePath: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/user.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_PATH: databasePath },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })))
}

/** Opens the file directly (the server stopped, or as a second reader beside it): for checks only. */
export function openFile(databasePath: string, opts: { readonly?: boolean } = {}): BetterSqlite3.Database {
  const db = new BetterSqlite3(databasePath, { readonly: opts.readonly ?? false })
  db.pragma('busy_timeout = 5000')
  return db
}

/** The date `days` from today in Asia/Bangkok (the server's calendar), as YYYY-MM-DD. */
export function bangkokDay(days = 0): string {
  const ms = Date.now() + 7 * 3_600_000 + days * 86_400_000
  return new Date(ms).toISOString().slice(0, 10)
}
