/**
 * A real SMTP server for tests (CONVENTIONS.md, "Tests"): smtp-server on 127.0.0.1, a free port,
 * plain (no STARTTLS, it is local), collecting every message. The parser below reads the simple
 * single-part text/plain messages the mailer sends and fails loudly on anything else, so that a
 * change of shape is a failing test rather than a silently wrong `text`.
 */
import { SMTPServer } from 'smtp-server';

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

/** Subject, text and headers of a single-part text/plain message. */
function parseMessage(source: Buffer): Pick<ReceivedMessage, 'subject' | 'text' | 'headers'> {
  // Headers are ASCII once encoded; latin1 keeps every body byte as one char for the decoders.
  const binary = source.toString('latin1');
  const split = binary.search(/\r?\n\r?\n/);
  const head = split === -1 ? binary : binary.slice(0, split);
  const body = split === -1 ? '' : binary.slice(split).replace(/^\r?\n\r?\n/, '');

  const headers: Record<string, string> = {};
  // Unfolding (RFC 5322 section 2.2.3): a line break followed by white space is removed.
  for (const line of head.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = decodeEncodedWords(line.slice(colon + 1).trim());
  }

  const contentType = (headers['content-type'] ?? 'text/plain').toLowerCase();
  if (!contentType.startsWith('text/plain')) throw new Error(`unsupported Content-Type: ${contentType}`);
  const charset = /charset="?([^";\s]+)/.exec(contentType)?.[1] ?? 'us-ascii';
  checkCharset(charset);

  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  let bytes: Buffer;
  if (encoding === 'quoted-printable') bytes = decodeQuotedPrintable(body);
  else if (encoding === 'base64') bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else if (encoding === '7bit' || encoding === '8bit') bytes = Buffer.from(body, 'latin1');
  else throw new Error(`unsupported Content-Transfer-Encoding: ${encoding}`);

  const text = utf8(bytes).replace(/\r\n/g, '\n');
  return { subject: headers.subject ?? '', text, headers };
}

function checkCharset(charset: string): void {
  if (!['utf-8', 'utf8', 'us-ascii'].includes(charset.toLowerCase())) {
    throw new Error(`unsupported charset: ${charset}`);
  }
}

function utf8(bytes: Buffer): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}

/** RFC 2045 section 6.7: soft line breaks (`=` at the end of a line) vanish, `=XX` is one byte. */
function decodeQuotedPrintable(text: string): Buffer {
  const bytes = text
    .replace(/[ \t]+(?=\r?\n)/g, '')
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1');
}

/**
 * RFC 2047 encoded words (`=?UTF-8?Q?...?=`, `=?UTF-8?B?...?=`). White space between two adjacent
 * encoded words is dropped, and their bytes are joined before decoding, since a character may be
 * split across two words.
 */
function decodeEncodedWords(value: string): string {
  const word = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;
  let out = '';
  let pending: Buffer[] = [];
  let last = 0;
  const flush = (): void => {
    if (pending.length > 0) out += utf8(Buffer.concat(pending));
    pending = [];
  };
  for (const match of value.matchAll(word)) {
    const [whole, charset = '', kind = '', data = ''] = match;
    const between = value.slice(last, match.index);
    if (pending.length === 0 || !/^\s*$/.test(between)) {
      flush();
      out += between;
    }
    checkCharset(charset.replace(/\*.*$/, '')); // RFC 2231 language suffix: UTF-8*fr
    pending.push(
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
    last = match.index + whole.length;
  }
  flush();
  return out + value.slice(last);
}
