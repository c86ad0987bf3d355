/** Shared by the benchmarks (bench/run.ts, bench/agencies.ts). */

/** Signs a user in through the app's own form at `base`; the session cookie (name=value) back. */
export async function signInCookie(base: string, user: { username: string; password: string }): Promise<string> {
  const login = await fetch(`${base}/login`)
  const cookie0 = login.headers.get('set-cookie')!.split(';')[0]!
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await login.text())![1]!
  const signed = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie0 },
    body: new URLSearchParams({ _csrf: csrf, username: user.username, password: user.password, next: '/' }),
  })
  if (signed.status !== 303 && signed.status !== 302) throw new Error(`sign-in failed: ${signed.status}`)
  return signed.headers.get('set-cookie')!.split(';')[0]!
}
