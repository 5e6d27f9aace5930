/**
 * Person sessions (docs/PORTAL.md): as staff sessions (identity/sessions.ts), an opaque random id in
 * an HttpOnly, Secure, SameSite=Strict cookie of its own name (a staff cookie is never a person's and
 * the other way round), only its SHA-256 stored; a CSRF token per session; an idle timeout and an
 * absolute lifetime (REMPART_PORTAL_IDLE_MINUTES, REMPART_PORTAL_MAX_HOURS).
 *
 * `startPersonSession` is the one way a login opens a person session: the email code login here, and
 * FranceConnect's callback once it has resolved exactly one person.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { PortalConfig } from '../config-portal.ts';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';

/** The person session's cookie; distinct from the staff's `rempart_session`. */
export const PERSON_SESSION_COOKIE = 'rempart_portal';

/** How a person logged in. */
export type PersonLoginMethod = 'email_code' | 'franceconnect';

/** A person's live session, as a request sees it. */
export interface PersonSession {
  idHash: Buffer;
  personId: string;
  method: PersonLoginMethod;
  createdAt: Date;
  expiresAt: Date;
  csrfHash: Buffer;
}

/** The defaults of REMPART_PORTAL_* (config-portal.ts), for callers without a configuration at hand. */
export const DEFAULT_PORTAL: PortalConfig = {
  idleMinutes: 15,
  maxHours: 2,
  codeMinutes: 10,
  showStaffNames: false,
};

/** Last use is written at most this often (as staff sessions: most requests only read). */
const TOUCH_SECONDS = 60;

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
const token = (): string => randomBytes(32).toString('base64url');
const actor = systemCtx('portal-session').actor;

/** Opens a session for the person in the caller's transaction; returns the raw id and CSRF token. */
export async function openPersonSession(
  tx: Tx,
  personId: string,
  method: PersonLoginMethod,
  now: Date,
  config: Pick<PortalConfig, 'maxHours'>,
): Promise<{ sessionId: string; csrfToken: string; expiresAt: Date }> {
  const sessionId = token();
  const csrfToken = token();
  const expiresAt = new Date(now.getTime() + config.maxHours * 3_600_000);
  await tx.query(
    `INSERT INTO person_sessions (id_hash, person_id, method, created_at, last_seen_at, expires_at, csrf_hash)
     VALUES ($1, $2, $3, $4, $4, $5, $6)`,
    [sha256(sessionId), personId, method, now, expiresAt, sha256(csrfToken)],
  );
  return { sessionId, csrfToken, expiresAt };
}

/** Sets the person session's cookie: HttpOnly, Secure, SameSite=Strict, until the session ends. */
export function setPersonCookie(reply: FastifyReply, sessionId: string, expiresAt: Date, now: Date): void {
  reply.setCookie(PERSON_SESSION_COOKIE, sessionId, {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'strict',
    maxAge: Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)),
  });
}

/** Clears the person session's cookie. */
export function clearPersonCookie(reply: FastifyReply): void {
  reply.clearCookie(PERSON_SESSION_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
}

/**
 * Opens a person session and sets its cookie on `reply`: what a login does once it has resolved
 * exactly one person (the email code here; FranceConnect's callback). Returns the CSRF token for
 * the client, and when the session ends.
 */
export async function startPersonSession(
  db: Db,
  reply: FastifyReply,
  personId: string,
  method: PersonLoginMethod,
  now: Date,
  config: Pick<PortalConfig, 'maxHours'> = DEFAULT_PORTAL,
): Promise<{ csrfToken: string; expiresAt: Date }> {
  const opened = await db.tx(actor, (tx) => openPersonSession(tx, personId, method, now, config));
  setPersonCookie(reply, opened.sessionId, opened.expiresAt, now);
  return { csrfToken: opened.csrfToken, expiresAt: opened.expiresAt };
}

interface Row {
  id_hash: Uint8Array;
  person_id: string;
  method: PersonLoginMethod;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  csrf_hash: Uint8Array;
}

/**
 * The live session of this cookie value, or undefined (then an ended one is revoked as such). A
 * person whose record was archived meanwhile keeps it: the right of access (GDPR art. 15) lasts as
 * long as Rempart holds their data, archived or not (docs/PORTAL.md, docs/FRANCECONNECT.md).
 */
export async function usePersonSession(
  db: Db,
  sessionId: string,
  now: Date,
  config: Pick<PortalConfig, 'idleMinutes'>,
): Promise<PersonSession | undefined> {
  if (sessionId.length < 20 || sessionId.length > 100) return undefined;
  const [row] = await db.read<Row>(
    actor,
    // The join: the record must still exist.
    `SELECT s.id_hash, s.person_id, s.method, s.created_at, s.last_seen_at, s.expires_at, s.csrf_hash
     FROM person_sessions s JOIN persons p ON p.id = s.person_id
     WHERE s.id_hash = $1 AND s.revoked_at IS NULL`,
    [sha256(sessionId)],
  );
  if (!row) return undefined;
  const ended =
    now >= row.expires_at
      ? 'expired'
      : now.getTime() >= row.last_seen_at.getTime() + config.idleMinutes * 60_000
        ? 'idle'
        : null;
  const stale = now.getTime() - row.last_seen_at.getTime() >= TOUCH_SECONDS * 1000;
  if (ended !== null || stale) {
    const live = await db.tx(actor, async (tx) => {
      if (ended !== null) {
        await revokePersonSession(tx, Buffer.from(row.id_hash), ended);
        return false;
      }
      const touched = await tx.query(
        'UPDATE person_sessions SET last_seen_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL RETURNING 1',
        [row.id_hash, now],
      );
      return touched.length === 1;
    });
    if (!live) return undefined;
  }
  return {
    idHash: Buffer.from(row.id_hash),
    personId: row.person_id,
    method: row.method,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    csrfHash: Buffer.from(row.csrf_hash),
  };
}

/** True if `provided` is this session's CSRF token (constant-time comparison of hashes). */
export function personCsrfMatches(session: PersonSession, provided: string | undefined): boolean {
  if (!provided || provided.length > 100) return false;
  return timingSafeEqual(sha256(provided), session.csrfHash);
}

/** Ends one person session. */
export async function revokePersonSession(tx: Tx, idHash: Buffer, reason: string): Promise<void> {
  await tx.query(
    'UPDATE person_sessions SET revoked_at = now(), revoked_reason = $2 WHERE id_hash = $1 AND revoked_at IS NULL',
    [idHash, reason],
  );
}
