/**
 * Message verification codes (docs/DESIGN.md section 2, T6). Every message Rempart sends carries a
 * code of 60 random bits, written as 12 Crockford base-32 characters in three groups
 * (`7QK4-M2ZD-9XAB`): short enough to read out or type from a letter, too many to guess (the public
 * check is throttled as well). Only the code's SHA-256 is stored (migration 0015).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Tx } from '../db/types.ts';

/** Crockford's base 32: no I, L, O, U (read as 1, 1, 0, and U never written). */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Characters in a code (5 bits each: 60 bits). */
export const CODE_LENGTH = 12;

/** The channels a message goes by. */
export type MessageChannel = 'email' | 'sms' | 'letter' | 'portal' | 'in_app';

/** A new random code, formatted `XXXX-XXXX-XXXX`. */
export function newMessageCode(): string {
  const bytes = randomBytes(8);
  let value = bytes.readBigUInt64BE() >> 4n; // 60 bits
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return `${out.slice(0, 4)}-${out.slice(4, 8)}-${out.slice(8)}`;
}

/**
 * A code as typed by a person, in its canonical form (`XXXX-XXXX-XXXX`), or null if it cannot be
 * one: case, spaces and hyphens are ignored, and I/L read as 1, O as 0 (Crockford).
 */
export function normalizeCode(input: string): string | null {
  if (input.length > 40) return null;
  const plain = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (plain.length !== CODE_LENGTH) return null;
  for (const c of plain) if (!ALPHABET.includes(c)) return null;
  return `${plain.slice(0, 4)}-${plain.slice(4, 8)}-${plain.slice(8)}`;
}

/** The stored hash of a canonical code. */
export function codeHash(code: string): Buffer {
  return createHash('sha256').update(code, 'utf8').digest();
}

/** A message to register: what it is, how it goes, to whom. */
export interface NewMessage {
  /** What the message is: 'incident_notice', 'access_receipt', 'account_locked', 'recovery_code'… */
  kind: string;
  channel: MessageChannel;
  at: Date;
  accountId?: string;
  personId?: string;
  incidentId?: string;
}

/**
 * Registers a message in the caller's transaction: draws its code, lets `render` write the exact
 * text with the code in it, and keeps the text's SHA-256 (not the text). Returns id, code and text.
 */
export async function registerMessage(
  tx: Tx,
  message: NewMessage,
  render: (code: string) => string,
): Promise<{ id: string; code: string; content: string }> {
  const id = randomUUID();
  const code = newMessageCode();
  const content = render(code);
  await tx.query(
    `INSERT INTO messages (id, code_hash, kind, channel, created_at, account_id, person_id, incident_id, content_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      id,
      codeHash(code),
      message.kind,
      message.channel,
      message.at,
      message.accountId ?? null,
      message.personId ?? null,
      message.incidentId ?? null,
      createHash('sha256').update(content, 'utf8').digest(),
    ],
  );
  return { id, code, content };
}

/** What anyone may learn of a genuine message from its code: nothing personal. */
export interface MessageFacts {
  kind: string;
  channel: MessageChannel;
  sentAt: Date;
}

/** The facts of the message with this code (canonical or as typed), or null if none (system actor). */
export async function findMessage(tx: Tx, input: string): Promise<(MessageFacts & { id: string }) | null> {
  const code = normalizeCode(input);
  if (!code) return null;
  const [row] = await tx.query<{ id: string; kind: string; channel: MessageChannel; created_at: Date }>(
    `SELECT id, kind, channel, created_at FROM messages WHERE code_hash = $1`,
    [codeHash(code)],
  );
  return row ? { id: row.id, kind: row.kind, channel: row.channel, sentAt: row.created_at } : null;
}

/** Where staff messages send their reader to check a code: PUBLIC_URL, set by loadConfig (src/config.ts). */
let verifierBase = 'http://localhost:8080';

/** Sets the public address written in staff messages as "<PUBLIC_URL>/verifier" (loadConfig calls it). */
export function setVerifierBase(publicUrl: string): void {
  verifierBase = publicUrl.replace(/\/+$/, '');
}

/** The lines a staff message ends with: its code and where to check it (T6: phishing imitates Rempart's mails). */
export function codeFooter(code: string): string {
  return (
    `\n\nCode de vérification de ce message : ${code}\n` +
    `Vérifiez-le sur ${verifierBase}/verifier avant d'agir. / Check this code at ${verifierBase}/verifier before acting.`
  );
}

/**
 * Registers a message to a staff account (or to nobody: null) and returns its text with the code
 * footer. With a null account the same statement runs and inserts nothing, so the login path of an
 * unknown login runs the statements of a real account's (T1: no enumeration by timing).
 */
export async function registerAccountMessage(
  tx: Tx,
  message: { kind: string; channel: MessageChannel; at: Date; accountId: string | null },
  text: string,
): Promise<string> {
  const code = newMessageCode();
  const content = text + codeFooter(code);
  await tx.query(
    `INSERT INTO messages (id, code_hash, kind, channel, created_at, account_id, content_hash)
     SELECT $1, $2, $3, $4, $5, $6::uuid, $7 WHERE $6::uuid IS NOT NULL`,
    [
      randomUUID(),
      codeHash(code),
      message.kind,
      message.channel,
      message.at,
      message.accountId,
      createHash('sha256').update(content, 'utf8').digest(),
    ],
  );
  return content;
}

/**
 * Registers several messages in one statement, in the caller's transaction: the same rows as
 * `registerMessage` each, for a job that writes thousands (the incident notices); `render` gets
 * each message's code and its index.
 */
export async function registerMessages(
  tx: Tx,
  messages: readonly NewMessage[],
  render: (code: string, index: number) => string,
): Promise<{ id: string; code: string; content: string }[]> {
  const out = messages.map((_, i) => {
    const code = newMessageCode();
    return { id: randomUUID(), code, content: render(code, i) };
  });
  if (out.length === 0) return out;
  const list = (values: (string | null)[]): string =>
    `{${values.map((v) => (v === null ? 'NULL' : `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)).join(',')}}`;
  const bytes = (values: Buffer[]): string =>
    `{${values.map((v) => `"\\\\x${v.toString('hex')}"`).join(',')}}`;
  await tx.query(
    `INSERT INTO messages (id, code_hash, kind, channel, created_at, account_id, person_id, incident_id, content_hash)
     SELECT * FROM unnest($1::uuid[], $2::bytea[], $3::text[], $4::text[], $5::timestamptz[], $6::uuid[], $7::uuid[], $8::uuid[], $9::bytea[])`,
    [
      list(out.map((m) => m.id)),
      bytes(out.map((m) => codeHash(m.code))),
      list(messages.map((m) => m.kind)),
      list(messages.map((m) => m.channel)),
      list(messages.map((m) => m.at.toISOString())),
      list(messages.map((m) => m.accountId ?? null)),
      list(messages.map((m) => m.personId ?? null)),
      list(messages.map((m) => m.incidentId ?? null)),
      bytes(out.map((m) => createHash('sha256').update(m.content, 'utf8').digest())),
    ],
  );
  return out;
}
