/**
 * Email to staff account owners about security events (docs/DESIGN.md sections 5 and 9): an SMTP mailer
 * for real delivery and an in-memory outbox for the embedded demo. Both append the anti-phishing
 * footer (T6), and neither puts a recipient or a body into an error (CONVENTIONS.md, "Errors").
 */
import { isIP } from 'node:net';
import nodemailer from 'nodemailer';
import { AppError, ValidationError } from '../errors.ts';

/** One plain-text message to one recipient. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Sends mail; `close` releases the transport. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  close(): Promise<void>;
}

/**
 * Ends every mail (T6: after each breach, phishing with accurate personal data followed): the one
 * sentence a person can hold any message against, whatever it knows about them.
 */
export const MAIL_FOOTER =
  'Rempart ne vous demande jamais de mot de passe ni de code, ni par e-mail ni par téléphone. / ' +
  'Rempart never asks for a password or a code, by email or by phone.';

const TIMEOUT_MS = 10_000;

/**
 * One addr-spec and nothing else: a comma, a semicolon or angle brackets would let a value add
 * recipients to a notice about someone else's account. Linear, no backtracking (ASVS 1.3.12).
 */
const SINGLE_ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/;

/** Hosts on which `?tls=off` is accepted: a relay on this machine, never across a network. */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Refuses a message that could not be a single, well-formed notice; names fields, not values. */
function checkMail(mail: Mail): void {
  if (!SINGLE_ADDRESS.test(mail.to)) {
    throw new ValidationError([{ field: 'to', message: 'must be a single email address' }]);
  }
  // Header injection: a line break in the subject would start a new header.
  if (/[\r\n]/.test(mail.subject)) {
    throw new ValidationError([{ field: 'subject', message: 'must be a single line' }]);
  }
}

/** The mail with MAIL_FOOTER appended after a signature separator. */
function withFooter(mail: Mail): Mail {
  return { to: mail.to, subject: mail.subject, text: `${mail.text.trimEnd()}\n\n-- \n${MAIL_FOOTER}\n` };
}

/** Where an SMTP URL points (parseSmtpUrl). */
export interface SmtpTarget {
  host: string;
  port: number | undefined;
  secure: boolean;
  auth: { user: string; pass: string } | undefined;
  ignoreTLS: boolean;
}

/**
 * Reads `smtp://host:port`, `smtps://user:pass@host:port`, optionally `?tls=off`. Parsed here
 * rather than by nodemailer, whose URL parser turns any query parameter into a transport option
 * (`?tls.rejectUnauthorized=false` would silently turn off certificate checks, ASVS 12.3.1).
 * Messages never quote the URL, which may hold a password.
 */
export function parseSmtpUrl(text: string): SmtpTarget {
  const refuse = (message: string): AppError =>
    new AppError('bad_configuration', `SMTP URL ${message}`, { field: 'smtp url' });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('is not a valid URL');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw refuse('must start with smtp:// or smtps://');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw refuse('has no host');
  if (url.pathname !== '' && url.pathname !== '/') throw refuse('must not have a path');
  const parameters = [...url.searchParams.keys()];
  if (parameters.some((name) => name !== 'tls')) throw refuse('accepts only the parameter tls=off');
  const tls = url.searchParams.get('tls');
  if (tls !== null && tls !== 'off') throw refuse('accepts only the parameter tls=off');
  const ignoreTLS = tls === 'off';
  if (ignoreTLS && (url.protocol === 'smtps:' || !isLoopback(host))) {
    throw refuse('may turn TLS off only for smtp:// on a loopback host');
  }
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  return {
    host,
    port: url.port === '' ? undefined : Number(url.port),
    secure: url.protocol === 'smtps:',
    auth: user !== '' || pass !== '' ? { user, pass } : undefined,
    ignoreTLS,
  };
}

/** The one error a caller sees: the server's reply may echo the recipient, so it stays out. */
function notificationFailed(error: unknown): AppError {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  // Keep only what an operator needs to tell a refusal from an outage: codes, never text.
  const detail = [
    typeof code === 'string' ? code : undefined,
    typeof responseCode === 'number' ? responseCode : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(' ');
  return new AppError('notification_failed', 'the mail server refused or could not be reached', {
    cause: new Error(detail === '' ? 'smtp error' : `smtp error ${detail}`),
  });
}

/**
 * Sends through an SMTP server, one connection per mail (notices are rare; no pool to keep
 * alive). `smtp://` upgrades with STARTTLS when the server offers it, as nodemailer does by
 * default; `smtps://` is TLS from the start; certificates are always verified. `?tls=off`
 * (loopback `smtp://` only, e.g. a local relay or a test server) never attempts STARTTLS.
 */
export function smtpMailer(options: { url: string; from: string }): Mailer {
  const target = parseSmtpUrl(options.url);
  if (/[\r\n]/.test(options.from)) {
    throw new AppError('bad_configuration', 'mail sender must be a single line', { field: 'from' });
  }
  const transport = nodemailer.createTransport({
    host: target.host,
    port: target.port,
    secure: target.secure,
    auth: target.auth,
    ignoreTLS: target.ignoreTLS,
    pool: false,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    // Notices are plain text built by Rempart: nothing may make the transport read a file or URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(mail: Mail): Promise<void> {
      checkMail(mail);
      const message = withFooter(mail);
      let rejected: unknown[];
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
        });
        rejected = info.rejected;
      } catch (error) {
        throw notificationFailed(error);
      }
      if (rejected.length > 0) throw notificationFailed(undefined);
    },
    async close(): Promise<void> {
      transport.close();
    },
  };
}

/**
 * Keeps mails in memory, footer included, for the embedded demo when no SMTP server is
 * configured: nothing is delivered, and the demo says so when it starts. Not a test double for
 * delivery (tests use a real SMTP server, test/helpers/smtp.ts). Keeps the last `limit` mails
 * so that a long-running demo does not grow without bound.
 */
export function outboxMailer(limit = 1000): Mailer & { sent: Mail[] } {
  const sent: Mail[] = [];
  return {
    sent,
    async send(mail: Mail): Promise<void> {
      checkMail(mail);
      sent.push(withFooter(mail));
      if (sent.length > limit) sent.splice(0, sent.length - limit);
    },
    async close(): Promise<void> {},
  };
}
