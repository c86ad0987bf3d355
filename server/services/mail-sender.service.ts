/**
 * The outbox sender (SPEC §8, issue 18): e-mail leaves from `mail_outbox`, never from a request.
 *
 * One round: claim a few due rows in a short write transaction (a lease: `claimed_by` until
 * `claimed_until`), send each with nodemailer outside any transaction or lock, then mark it sent in
 * another short transaction. Two senders — loops of one process or of two — never claim one row
 * together (BEGIN IMMEDIATE), so each mail goes out once; only a process that dies between sending and
 * marking leaves a row to be sent again when its lease runs out (a duplicate, never a loss). A mail
 * server that is down or slow only delays: a failed attempt is retried after 1, 2, 4 … seconds, at
 * most 60; a mail server's permanent refusal (5xx) stops the retries and shows on the admin page.
 *
 * Times of the outbox are wall-clock times (the retries are about real seconds), not ctx.clock.
 */
import { randomUUID } from 'node:crypto'
import nodemailer, { type Transporter } from 'nodemailer'
import { writeTransaction } from '../../db/connection.js'
import * as repo from '../repositories/notification.repository.js'
import type { AppContext } from '../context.js'
import { onMailQueued } from './notification.service.js'

/** The longest wait between two attempts at one mail. */
export const MAX_BACKOFF_MS = 60_000

/** The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s … capped at 60 s. */
export function backoffMs(attempts: number, baseMs = 1000, maxMs = MAX_BACKOFF_MS): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)))
}

/** What sends one message; nodemailer's SMTP transport in the app, anything with sendMail in tests. */
export type MailTransport = Pick<Transporter, 'sendMail'> & { close?: () => void }

export function smtpTransport(url: string): MailTransport {
  // Short timeouts: a hung mail server holds one claimed row, not the loop (the lease outlives them).
  return nodemailer.createTransport(url, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 } as never)
}

export interface MailSenderOptions {
  transport?: MailTransport
  /** Rows claimed per round. */
  batch?: number
  /** How long a claim holds a row; must outlive one send with its timeouts. */
  leaseMs?: number
  /** How often an idle sender looks for mail queued by another process. */
  pollMs?: number
  baseBackoffMs?: number
  maxBackoffMs?: number
  now?: () => Date
}

export interface MailSender {
  /** Runs one round now (claims, sends, marks); answers how many were sent. */
  runOnce(): Promise<number>
  /** Stops the loop and waits for the round in flight (its claimed rows are marked). */
  stop(): Promise<void>
  readonly id: string
}

/** Starts the sender loop; none when SMTP_URL is unset and no transport is given. */
export function startMailSender(ctx: AppContext, opts: MailSenderOptions = {}): MailSender | undefined {
  const transport = opts.transport ?? (ctx.config.smtpUrl ? smtpTransport(ctx.config.smtpUrl) : undefined)
  if (!transport) return undefined
  const id = `${process.pid}-${randomUUID().slice(0, 8)}`
  const now = opts.now ?? (() => new Date())
  const batch = opts.batch ?? 10
  const leaseMs = opts.leaseMs ?? 120_000
  const pollMs = opts.pollMs ?? 5_000
  const maxBackoff = opts.maxBackoffMs ?? MAX_BACKOFF_MS
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let round: Promise<number> | undefined
  let again = false

  const sendOne = async (row: Awaited<ReturnType<typeof repo.claimDue>>[number]): Promise<boolean> => {
    try {
      await transport.sendMail({
        from: ctx.config.mailFrom,
        to: row.to_address,
        subject: row.subject,
        text: row.body,
        // The same id on a resend after a crash: a mail client can tell the copy.
        messageId: `<yuemkhuen-outbox-${row.id}-${row.created_at.replace(/\D/g, '')}@${new URL(ctx.config.publicBaseUrl).hostname}>`,
      })
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode
      const permanent = typeof code === 'number' && code >= 500 && code < 600
      const at = now()
      const next = new Date(at.getTime() + backoffMs(row.attempts + 1, opts.baseBackoffMs, maxBackoff)).toISOString()
      const message = err instanceof Error ? err.message : String(err)
      await writeTransaction(ctx.db, (trx) => repo.markFailed(trx, row.id, id, at.toISOString(), message, next, permanent))
      ctx.logger.warn({ outboxId: row.id, attempts: row.attempts + 1, permanent, err: message }, 'mail not sent')
      return false
    }
    await writeTransaction(ctx.db, (trx) => repo.markSent(trx, row.id, id, now().toISOString()))
    return true
  }

  const runOnce = (): Promise<number> => {
    if (round) {
      again = true
      return round
    }
    round = (async () => {
      let sent = 0
      for (;;) {
        again = false
        const at = now()
        // A plain read first: an idle sender takes no write lock (another process may be writing).
        const due = await repo.nextDueAt(ctx.db)
        if (due === undefined || due > at.toISOString()) break
        const rows = await writeTransaction(ctx.db, (trx) => repo.claimDue(trx, id, at.toISOString(), new Date(at.getTime() + leaseMs).toISOString(), batch))
        // One at a time: an office's mail server is small, and the order is the order of events.
        for (const row of rows) if (await sendOne(row)) sent++
        if ((rows.length < batch && !again) || stopped) break
      }
      return sent
    })().finally(() => {
      round = undefined
    })
    return round
  }

  const schedule = async () => {
    if (stopped) return
    let wait = pollMs
    try {
      await runOnce()
      const due = await repo.nextDueAt(ctx.db)
      if (due) wait = Math.min(pollMs, Math.max(0, Date.parse(due) - now().getTime()))
    } catch (err) {
      ctx.logger.error({ err }, 'mail sender round failed')
    }
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(() => void schedule(), Math.max(wait, 20))
    timer.unref()
  }

  const unsubscribe = onMailQueued(ctx.db, () => {
    if (stopped) return
    clearTimeout(timer)
    void schedule()
  })
  void schedule()

  return {
    id,
    runOnce,
    async stop() {
      stopped = true
      unsubscribe()
      clearTimeout(timer)
      await round?.catch(() => 0)
      transport.close?.()
    },
  }
}
