import { randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto'

// scrypt is memory-hard; N=2^15, r=8 takes ~32 MiB and tens of milliseconds per hash.
let N = 32768
const R = 8
const P = 1
const KEY_LEN = 64
const MAX_MEM = 64 * 1024 * 1024

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LEN, { N: n, r, p, maxmem: MAX_MEM }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** `scrypt$N$r$p$salt$hash`, so that the cost can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, N, R, P)
  return ['scrypt', N, R, P, salt.toString('base64'), key.toString('base64')].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  const salt = Buffer.from(parts[4]!, 'base64')
  const expected = Buffer.from(parts[5]!, 'base64')
  const key = await derive(password, salt, n, r, p)
  return key.length === expected.length && timingSafeEqual(key, expected)
}

/** A hash that matches nothing, verified against when the username is unknown so that timing does not tell. */
export function dummyHash(): string {
  return `scrypt$${N}$${R}$${P}$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(KEY_LEN).toString('base64')}`
}

/** Tests lower the cost so that a suite creating hundreds of users stays quick; stored hashes carry their own cost. */
export function setHashCostForTests(n: number): void {
  N = n
}

/** The current scrypt cost, so that a caller lowering it for bulk demo users can put it back. */
export function hashCost(): number {
  return N
}

/** A password a person can read aloud and type: no 0/O or 1/l/I. */
export function generatePassword(length = 14): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  let out = ''
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)]
  return out
}
