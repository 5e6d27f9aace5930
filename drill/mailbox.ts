/**
 * The mailboxes of the drill's staff: a real SMTP server (smtp-server) on 127.0.0.1 that the Rempart
 * server under drill delivers to (SMTP_URL), so that what a victim receives is read as the real
 * owner would read it — from their mailbox, not from Rempart's memory. It reads the single-part
 * text/plain messages Rempart sends (quoted-printable or base64, UTF-8) and keeps the rest raw.
 */
import { SMTPServer } from 'smtp-server';

/** One message as delivered. */
export interface Delivered {
  /** Envelope recipients (RCPT TO), lower case. */
  to: string[];
  /** Decoded Subject header. */
  subject: string;
  /** Decoded text body, line breaks as `\n`. */
  text: string;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface Mailbox {
  /** `smtp://127.0.0.1:<port>?tls=off` (a relay on this machine: Rempart accepts tls=off only there). */
  url: string;
  messages: Delivered[];
  /** Messages delivered to `address`. */
  to(address: string): Delivered[];
  /** Resolves with the first message to `address` (among those after the first `skip`) matching `test`, or undefined after `timeoutMs`. */
  waitFor(
    address: string,
    test: (message: Delivered) => boolean,
    options?: { skip?: number; timeoutMs?: number },
  ): Promise<Delivered | undefined>;
  close(): Promise<void>;
}

/** Subject, text and headers of a single-part text/plain UTF-8 message (what Rempart sends); anything else throws. */
export function parseMessage(source: Buffer): {
  subject: string;
  text: string;
  headers: Record<string, string>;
} {
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

/** Starts the SMTP server on a free loopback port. */
export async function openMailbox(): Promise<Mailbox> {
  const messages: Delivered[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push({
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
          at: Date.now(),
          ...parseMessage(Buffer.concat(chunks)),
        });
        for (const wake of waiters) wake();
        callback();
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
  const to = (address: string): Delivered[] => messages.filter((m) => m.to.includes(address.toLowerCase()));
  return {
    url: `smtp://127.0.0.1:${port}?tls=off`,
    messages,
    to,
    waitFor(address, test, { skip = 0, timeoutMs = 10_000 } = {}) {
      return new Promise((resolve) => {
        const check = (): void => {
          const found = to(address).slice(skip).find(test);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(undefined);
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
