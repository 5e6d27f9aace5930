/**
 * The channels of the incident notices (docs/NOTICES.md, "Channels"): email through a real SMTP
 * server (nodemailer, pooled), SMS through a provider interface (a file sink by default). Letters
 * are in letters.ts; the portal needs no sending (every notice is readable there, notices-read.ts).
 * No error carries an address, a phone number or a text: the server's reply may echo the recipient.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { AppError } from '../errors.ts';
import { parseSmtpUrl } from './mailer.ts';

/** One notice by email: the signed text as the body, a fixed Message-ID (the rerun's idempotency key). */
export interface NoticeMail {
  to: string;
  messageId: string;
  subject: string;
  text: string;
}

/** Sends notice emails; resolves once the server accepted the message (250 after DATA). */
export interface NoticeMailer {
  send(mail: NoticeMail): Promise<void>;
  close(): Promise<void>;
}

/** The subject of every notice email (no personal data: the subject is seen on lock screens). */
export const NOTICE_SUBJECT = 'Rempart : information sur une violation de vos données personnelles';

const TIMEOUT_MS = 30_000;
const ONE_ADDRESS = /^[^\s@<>,;:"()[\]\\]+@[^\s@<>,;:"()[\]\\]+$/;

/** The error of a failed send: SMTP codes only (an operator tells a refusal from an outage), never text. */
export function sendFailed(error: unknown): AppError {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const detail = [typeof code === 'string' ? code : '', typeof responseCode === 'number' ? responseCode : '']
    .filter((part) => part !== '')
    .join(' ');
  return new AppError('notification_failed', `the notice could not be sent${detail ? ` (${detail})` : ''}`);
}

/**
 * An SMTP notice mailer with `connections` pooled connections (a 100,000-person incident cannot
 * open one connection per notice). The URL rules are the staff mailer's (mailer.ts parseSmtpUrl).
 */
export function smtpNoticeMailer(options: { url: string; from: string; connections: number }): NoticeMailer {
  const target = parseSmtpUrl(options.url);
  if (/[\r\n]/.test(options.from))
    throw new AppError('bad_configuration', 'mail sender must be a single line', { field: 'from' });
  const transport = nodemailer.createTransport({
    host: target.host,
    port: target.port,
    secure: target.secure,
    auth: target.auth,
    ignoreTLS: target.ignoreTLS,
    pool: true,
    maxConnections: options.connections,
    maxMessages: Number.POSITIVE_INFINITY,
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(mail) {
      if (!ONE_ADDRESS.test(mail.to)) throw new AppError('notification_failed', 'not a single email address');
      let rejected: unknown[];
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          // Base64 rather than quoted-printable: encoded and decoded natively, where quoted-printable
          // walks a French text character by character (most of the send's cost at 100,000 notices).
          textEncoding: 'base64',
          messageId: mail.messageId,
        });
        rejected = info.rejected;
      } catch (error) {
        throw sendFailed(error);
      }
      if (rejected.length > 0) throw sendFailed({ code: 'EENVELOPE' });
    },
    async close() {
      transport.close();
    },
  };
}

/** One SMS: to a phone number, a short text, the notice's id (the provider's idempotency key). */
export interface Sms {
  to: string;
  text: string;
  id: string;
}

/**
 * An SMS provider (an operator's gateway plugs in here). `send` resolves once the provider accepted
 * the SMS; `file` is where the default sink writes (null for a real provider).
 */
export interface SmsProvider {
  send(sms: Sms): Promise<void>;
  readonly file: string | null;
  close(): Promise<void>;
}

/**
 * The default provider: appends one JSON line per SMS to `<dir>/incident-<id>.jsonl` (mode 0600: it
 * holds phone numbers), for an operator to hand to a gateway, and for tests and drills to read.
 */
export function fileSmsProvider(dir: string, incidentId: string): SmsProvider {
  const file = path.join(dir, `incident-${incidentId}.jsonl`);
  let ready: Promise<unknown> | undefined;
  return {
    file,
    async send(sms) {
      ready ??= mkdir(dir, { recursive: true, mode: 0o700 });
      await ready;
      await appendFile(file, `${JSON.stringify({ id: sms.id, to: sms.to, text: sms.text })}\n`, {
        mode: 0o600,
      });
    },
    async close() {},
  };
}

/** The SMS alert: no field of the person, just where to read the notice and its code (T6: checkable). */
export function smsText(publicUrl: string, code: string): string {
  const base = publicUrl.replace(/\/+$/, '');
  return `Rempart : vos données ont été concernées par un incident. Lisez l'avis dans votre espace ${base}/mon-espace. Code à vérifier sur ${base}/verifier : ${code}`;
}
