import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

/** One message as the test SMTP server received it, with its subject and text decoded. */
export interface ReceivedMail {
  from: string
  to: string[]
  subject: string
  text: string
  messageId: string
  raw: string
}

/** RFC 2047 encoded words (=?UTF-8?B?…?= / =?UTF-8?Q?…?=), as nodemailer writes a Thai subject. */
function decodeWords(s: string): string {
  return s.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs: string, enc: string, data: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  )
}

function parse(raw: string, envelope: { from: string; to: string[] }): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const bodyRaw = raw.slice(split + 4)
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(head)?.[1] ?? ''
  const cte = header('Content-Transfer-Encoding').toLowerCase()
  const text =
    cte === 'base64'
      ? Buffer.from(bodyRaw.replace(/\s+/g, ''), 'base64').toString('utf8')
      : cte === 'quoted-printable'
        ? Buffer.from(
            bodyRaw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          ).toString('utf8')
        : bodyRaw
  return { ...envelope, subject: decodeWords(header('Subject')), text: text.replace(/\r\n/g, '\n'), messageId: header('Message-ID'), raw }
}

export interface TestSmtp {
  url: string
  port: number
  mails: ReceivedMail[]
  /** Stops listening (the "mail server down" case); start() again on the same port. */
  stop(): Promise<void>
  start(): Promise<void>
  /** Waits until at least `n` mails have arrived (or throws after `ms`). */
  waitFor(n: number, ms?: number): Promise<ReceivedMail[]>
}

/** A real SMTP server (smtp-server) on a free localhost port, keeping what it receives. */
export async function startTestSmtp(port = 0): Promise<TestSmtp> {
  const mails: ReceivedMail[] = []
  let server: SMTPServer | undefined
  let boundPort = port
  const listen = async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('end', () => {
          const envelope = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          }
          mails.push(parse(Buffer.concat(chunks).toString('utf8'), envelope))
          callback()
        })
      },
    })
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject)
      server!.listen(boundPort, '127.0.0.1', () => resolve())
    })
    boundPort = ((server as unknown as { server: { address(): AddressInfo } }).server.address() as AddressInfo).port
  }
  await listen()
  return {
    get url() {
      return `smtp://127.0.0.1:${boundPort}`
    },
    get port() {
      return boundPort
    },
    mails,
    async stop() {
      const s = server
      server = undefined
      if (s) await new Promise<void>((r) => s.close(() => r()))
    },
    start: listen,
    async waitFor(n, ms = 10_000) {
      const until = Date.now() + ms
      while (mails.length < n) {
        if (Date.now() > until) throw new Error(`expected ${n} mails, got ${mails.length}`)
        await new Promise((r) => setTimeout(r, 20))
      }
      return mails
    },
  }
}
