import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

/*
 * Secrets never live in the database or its backups (SPEC §5, issue 13): a copy of the database must
 * not be a key to signed-in sessions. Each comes from the environment, or from a key file beside the
 * data, created once with mode 0600 (owner only). Back the key files up apart from the database; to
 * rotate one, stop the server, delete its file (or change the variable) and start again — everyone
 * signs in again.
 */

/** The key file of a secret: `<folder>/<name>.key`. */
export function keyFilePath(folder: string, name: string): string {
  return path.join(folder, `${name}.key`)
}

/**
 * The secret from its key file, created (32 random bytes, base64url, mode 0600) when there is none.
 * A file others may read is narrowed to its owner; an empty or unreadable one is an error, never
 * silently replaced (that would end every session without a word).
 */
export function secretFromKeyFile(folder: string, name: string): { value: string; created: boolean } {
  const file = keyFilePath(folder, name)
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 })
  try {
    const fd = fs.openSync(file, 'wx', 0o600)
    const value = randomBytes(32).toString('base64url')
    try {
      fs.writeSync(fd, `${value}\n`)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    return { value, created: true }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600)
  const value = fs.readFileSync(file, 'utf8').trim()
  if (value.length < 16) throw new Error(`${file} holds no usable secret (at least 16 characters): fix or delete it`)
  return { value, created: false }
}
