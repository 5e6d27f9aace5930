/**
 * The portal's built-in login (docs/PORTAL.md): a one-time code by email. No enumeration (OWASP ASVS
 * 6.3.8; T6: a list of who is on file is what phishers want): the same answer, and no quicker or
 * slower, whether the address is on file or not. The address is found through its blind index
 * (migration 0019) and confirmed by decrypting the candidate's email (a truncated HMAC can collide);
 * a challenge row is written for unknown addresses too, with a code no one receives. Requests are
 * counted per address typed and per source address, whether the address is known or not.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { PortalConfig } from '../config-portal.ts';
import { systemCtx } from '../context.ts';
import { normaliseEmail } from '../crypto/blind-index.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { registerMessage } from '../notify/codes.ts';
import { queuePersonMail } from '../notify/outbox.ts';
import { byteaArray } from '../registry/columns.ts';
import { emailIndex, openSealedRow, type RegistryKeys, type SealedRow } from '../registry/persons.ts';

/** Wrong codes allowed per challenge; then it is dead (8 digits: 5 tries in 10^8). */
export const MAX_CODE_ATTEMPTS = 5;
/** Login codes asked per address typed, per window. */
export const EMAIL_REQUESTS_PER_WINDOW = 5;
/** Login codes asked per source address, per window. */
export const ADDRESS_REQUESTS_PER_WINDOW = 30;
/** The throttle's window. */
export const THROTTLE_WINDOW_MS = 15 * 60_000;

const actor = systemCtx('portal-login').actor;
const sha256 = (...parts: string[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part, 'utf8').update('\n');
  return hash.digest();
};
const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,253}\.[^\s@]{1,63}$/;

/** What a login request needs. */
export interface LoginRequest {
  email: string;
  /** The source address (request.ip), for the throttle. */
  sourceAddress: string;
  now: Date;
  /** Where the person checks the mail's code (PUBLIC_URL). */
  publicUrl: string;
}

/** Counts one request for `key`; past `limit` in the window, the `throttled` error to raise after commit. */
async function countRequest(tx: Tx, key: string, limit: number, now: Date): Promise<AppError | null> {
  const [row] = await tx.query<{ count: number; window_start: Date }>(
    `INSERT INTO person_login_throttle (key, window_start, count) VALUES ($1, $2, 1)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN person_login_throttle.window_start <= $3 THEN 1 ELSE person_login_throttle.count + 1 END,
       window_start = CASE WHEN person_login_throttle.window_start <= $3 THEN $2 ELSE person_login_throttle.window_start END
     RETURNING count, window_start`,
    [key, now, new Date(now.getTime() - THROTTLE_WINDOW_MS)],
  );
  if (row && row.count > limit) {
    const retryAt = new Date(row.window_start.getTime() + THROTTLE_WINDOW_MS);
    return new AppError('throttled', 'too many login codes asked: try again later', {
      retryAfter: Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000)),
      retryAt: retryAt.toISOString(),
      limit: 'portal login codes',
    });
  }
  return null;
}

/** The one person whose email is this address (not archived), or null: none, or more than one. */
async function personByEmail(tx: Tx, keys: RegistryKeys, email: string): Promise<{ id: string } | null> {
  const hashes = keys.allBlindIndexes.map((k) => emailIndex(k, email)!);
  const rows = await tx.query<SealedRow & { status: string }>(
    `SELECT id, status, kek_id, wrapped_key, sealed FROM persons WHERE email_bi = ANY($1::bytea[]) LIMIT 10`,
    [byteaArray(hashes)],
  );
  const confirmed: string[] = [];
  for (const row of rows) {
    const identity = await openSealedRow(keys, row, ['email']);
    if (identity.email !== null && identity.email !== undefined && normaliseEmail(identity.email) === email) {
      if (row.status !== 'archived') confirmed.push(row.id);
    }
  }
  // Two records with one address: neither may log in with it (the login would have to guess whom).
  return confirmed.length === 1 ? { id: confirmed[0]! } : null;
}

/** The mail with the code (French first, then English), registered with its verification code (T6). */
function loginMail(code: string, minutes: number, publicUrl: string, messageCode: string): string {
  return (
    `Bonjour,\n\nVotre code de connexion à votre espace Rempart : ${code}\n` +
    `Il est valable ${minutes} minutes. Ne le communiquez à personne : aucun agent ne vous le demandera.\n` +
    `Si vous n'avez rien demandé, ignorez ce message.\n\n` +
    `Your Rempart login code: ${code} (valid ${minutes} minutes). Never give it to anyone.\n\n` +
    `Code de vérification de ce message / this message's verification code: ${messageCode}\n` +
    `Vérifiez-le sur / check it at ${publicUrl}/verifier\n`
  );
}

/**
 * Starts a login: always answers a challenge (an opaque token the client sends back with the
 * code), and mails a code only if exactly one person on file has this address. A malformed address
 * is refused (that says nothing about the registry); too many requests are refused alike for known
 * and unknown addresses.
 */
export async function startEmailLogin(
  db: Db,
  keys: RegistryKeys,
  request: LoginRequest,
  config: Pick<PortalConfig, 'codeMinutes'>,
): Promise<{ challenge: string; expiresAt: Date }> {
  const email = normaliseEmail(request.email);
  if (email.length > 254 || !EMAIL.test(email)) {
    throw new AppError('validation_failed', 'email is not an email address', { field: 'email' });
  }
  const { now } = request;
  const challenge = randomBytes(32).toString('base64url');
  const code = String(randomInt(0, 100_000_000)).padStart(8, '0');
  const expiresAt = new Date(now.getTime() + config.codeMinutes * 60_000);
  // The throttle counts in a transaction of its own, committed before it refuses: a refused
  // request still counts.
  const refused = await db.tx(actor, async (tx) => {
    const digest = emailIndex(keys.blindIndex, email)!.toString('hex');
    const byEmail = await countRequest(tx, `email:${digest}`, EMAIL_REQUESTS_PER_WINDOW, now);
    const byAddress = await countRequest(
      tx,
      `address:${request.sourceAddress}`,
      ADDRESS_REQUESTS_PER_WINDOW,
      now,
    );
    return byEmail ?? byAddress;
  });
  if (refused) throw refused;
  await db.tx(actor, async (tx) => {
    const person = await personByEmail(tx, keys, email);
    await tx.query(
      `INSERT INTO person_login_challenges (id_hash, person_id, code_hash, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5)`,
      [sha256(challenge), person?.id ?? null, sha256(challenge, code), now, expiresAt],
    );
    if (!person) return;
    const message = await registerMessage(
      tx,
      { kind: 'portal_login_code', channel: 'email', at: now, personId: person.id },
      (messageCode) =>
        loginMail(`${code.slice(0, 4)} ${code.slice(4)}`, config.codeMinutes, request.publicUrl, messageCode),
    );
    await queuePersonMail(
      tx,
      {
        personId: person.id,
        address: email,
        kind: 'portal_login_code',
        subject: 'Rempart : votre code de connexion / your login code',
        text: message.content,
      },
      now,
    );
  });
  return { challenge, expiresAt };
}

/**
 * Checks a challenge's code. The person id if it is right, unused, unexpired and the challenge
 * belongs to a person; otherwise `login_failed`, the same for every reason (a replayed code, a
 * wrong one, an unknown address's challenge, an expired one). The fifth wrong code kills it.
 */
export async function verifyEmailLogin(
  db: Db,
  request: { challenge: string; code: string; now: Date },
): Promise<string> {
  const failed = new AppError('login_failed', 'this code is wrong, used or expired: ask for a new one');
  const code = request.code.replace(/\s/g, '');
  if (request.challenge.length > 100 || !/^\d{8}$/.test(code)) throw failed;
  const personId = await db.tx(actor, async (tx) => {
    const [row] = await tx.query<{
      person_id: string | null;
      code_hash: Uint8Array;
      expires_at: Date;
      attempts: number;
      used_at: Date | null;
    }>(
      `SELECT person_id, code_hash, expires_at, attempts, used_at FROM person_login_challenges
       WHERE id_hash = $1 FOR UPDATE`,
      [sha256(request.challenge)],
    );
    if (!row || row.used_at !== null || row.expires_at <= request.now || row.attempts >= MAX_CODE_ATTEMPTS) {
      return null;
    }
    const right = timingSafeEqual(Buffer.from(row.code_hash), sha256(request.challenge, code));
    if (!right) {
      await tx.query('UPDATE person_login_challenges SET attempts = attempts + 1 WHERE id_hash = $1', [
        sha256(request.challenge),
      ]);
      return null;
    }
    await tx.query('UPDATE person_login_challenges SET used_at = $2 WHERE id_hash = $1', [
      sha256(request.challenge),
      request.now,
    ]);
    return row.person_id;
  });
  if (personId === null) throw failed;
  return personId;
}
