import { expect } from 'chai'
import { AppError } from '../../server/errors.js'

/** Awaits a promise that must fail with an AppError of this code (and message key, when given). */
export async function rejects(p: Promise<unknown>, code: string, key?: string): Promise<AppError> {
  try {
    await p
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(AppError)
    expect((e as AppError).code, (e as AppError).messageKey).to.equal(code)
    if (key) expect((e as AppError).messageKey).to.equal(key)
    return e as AppError
  }
  throw new Error(`expected ${code}`)
}
