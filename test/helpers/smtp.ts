/**
 * A real SMTP server for tests (CONVENTIONS.md, "Tests"): smtp-server on 127.0.0.1, a free port,
 * plain (no STARTTLS, it is local), collecting every message. The parser (drill/mailbox.ts) reads the simple
 * single-part text/plain messages the mailer sends and fails loudly on anything else, so that a
 * change of shape is a failing test rather than a silently wrong `text`.
 */

import { SMTPServer } from 'smtp-server';
import { parseMessage } from '../../drill/mailbox.ts';

export interface ReceivedMessage {
  /** Envelope sender (MAIL FROM). */
  from: string;
  /** Envelope recipients (RCPT TO). */
  to: string[];
  /** The message source as received. */
  raw: string;
  /** Decoded Subject header. */
  subject: string;
  /** Decoded text body, line breaks as `\n`. */
  text: string;
  /** Every header, lower-case names, unfolded and decoded (the last one wins). */
  headers: Record<string, string>;
}

export interface TestSmtpServer {
  /** `smtp://127.0.0.1:<port>`. */
  url: string;
  port: number;
  messages: ReceivedMessage[];
  /** Resolves once at least `count` messages have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a server; recipients in `refuseRecipients` get a 550 that echoes their address. */
export async function startSmtpServer(
  options: { refuseRecipients?: string[] } = {},
): Promise<TestSmtpServer> {
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  const refused = new Set((options.refuseRecipients ?? []).map((address) => address.toLowerCase()));

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 1024 * 1024,
    onRcptTo(address, _session, callback) {
      if (!refused.has(address.address.toLowerCase())) return callback();
      // Echo the address, as real servers do: the mailer must keep it out of its error.
      const error = Object.assign(new Error(`<${address.address}>: mailbox unavailable`), {
        responseCode: 550,
      });
      return callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(new Error('message too large'));
        try {
          const source = Buffer.concat(chunks);
          const mailFrom = session.envelope.mailFrom;
          messages.push({
            from: mailFrom === false ? '' : mailFrom.address,
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
            raw: source.toString('utf8'),
            ...parseMessage(source),
          });
        } catch (error) {
          return callback(error as Error);
        }
        for (const wake of waiters) wake();
        return callback();
      });
    },
  });

  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no TCP address'));
      resolve(address.port);
    });
  });

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    waitFor(count, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} message(s), got ${messages.length} after ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
