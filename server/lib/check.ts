/** What a pure rule returns: pass, or the one reason it fails (a message key is built from it). */
export type Check<R extends string> = { ok: true } | { ok: false; reason: R }
