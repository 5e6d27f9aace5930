/**
 * Server-side sessions (docs/DESIGN.md section 5): an opaque random id in an HttpOnly, Secure,
 * SameSite=Strict cookie, only its SHA-256 in the database; a CSRF token per session, required on
 * every state-changing request; an idle timeout and an absolute lifetime; an assurance level
 * ('password' until a second factor is verified, then 'mfa'); the id changes when the level does.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { networkOf, noteSources } from '../guard/sources.ts';
import { type GuardSituationRow, type GuardView, guardViewOf, newSourceDays } from '../guard/view.ts';
import { ACCOUNT_COLUMNS, type Account, type AccountRow, loginRefusal, toAccount } from './accounts.ts';

export const SESSION_COOKIE = 'rempart_session';
export const CSRF_HEADER = 'x-csrf-token';

export type Assurance = 'password' | 'mfa';

export interface Session {
  idHash: Buffer;
  accountId: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  assurance: Assurance;
  mfaAt: Date | null;
  csrfHash: Buffer;
  challenge: string | null;
  challengeExpiresAt: Date | null;
}

/**
 * A session's last use is written at most this often. Most requests then only read, and their
 * transaction commits without waiting for a WAL flush. The idle timeout counts from the last write,
 * so a session ends at most this long before its idle timeout after its last use, never later.
 */
export const SESSION_TOUCH_SECONDS = 60;

interface SessionRow {
  id_hash: Uint8Array;
  account_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  assurance: Assurance;
  mfa_at: Date | null;
  csrf_hash: Uint8Array;
  challenge: string | null;
  challenge_expires_at: Date | null;
}

const SESSION_COLUMNS = `s.id_hash, s.account_id, s.created_at, s.last_seen_at, s.expires_at, s.assurance,
  s.mfa_at, s.csrf_hash, s.challenge, s.challenge_expires_at`;

const sha256 = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
const token = (): string => randomBytes(32).toString('base64url');

/** A new session for the account; returns the raw id (for the cookie) and CSRF token (for the client). */
export async function openSession(
  tx: Tx,
  accountId: string,
  options: {
    assurance: Assurance;
    now: Date;
    config: Pick<Config, 'sessions'> & Partial<Pick<Config, 'guard'>>;
    address?: string;
    userAgent?: string;
  },
): Promise<{ sessionId: string; csrfToken: string; expiresAt: Date }> {
  const sessionId = token();
  const csrfToken = token();
  const expiresAt = new Date(options.now.getTime() + options.config.sessions.maxHours * 3_600_000);
  // The guard notes where the account logs in from; a network or device not used lately marks the session.
  const flags = await noteSources(
    tx,
    accountId,
    { address: options.address, userAgent: options.userAgent },
    options.now,
    newSourceDays(options.config.guard),
  );
  await tx.query(
    `INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, assurance, mfa_at, csrf_hash,
       source_address, user_agent, guard_flags, source_network)
     VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      sha256(sessionId),
      accountId,
      options.now,
      expiresAt,
      options.assurance,
      options.assurance === 'mfa' ? options.now : null,
      sha256(csrfToken),
      options.address ?? null,
      options.userAgent?.slice(0, 200) ?? null,
      flags,
      options.address ? networkOf(options.address) : null,
    ],
  );
  return { sessionId, csrfToken, expiresAt };
}

/** A staff member's live session, with the account and the purposes its organisation holds. */
export interface StaffSession {
  session: Session;
  account: Account;
  organisationPurposes: string[];
  /** What the guard needs of this request's circumstances (its state's pending responses, the session's origin). */
  guard: GuardView;
}

/**
 * The statement behind every authenticated request: the session (by its id's hash, $1), its
 * account, the purposes its organisation holds, and what the guard needs; $2 is now, $3 the idle
 * limit. With `enter`, the same statement also switches its transaction to the account's actor
 * context (the settings the row-level security policies read) when the session is live by its
 * times and its account's status, so that the statements sent behind it in the same write run as
 * that staff member (src/access/gate-session.ts); the caller still checks the row
 * (`staffSessionOf`) before anything read that way is used, and rolls back if it fails.
 */
export function staffSessionSql(enter: boolean): string {
  const switched = enter
    ? `, CASE WHEN s.expires_at > $2 AND s.last_seen_at > $3 AND a.status NOT IN ('disabled', 'suspended', 'locked') THEN
         set_config('rempart.actor_kind', 'staff', true) || set_config('rempart.org_id', a.organisation_id::text, true)
         || set_config('rempart.role', a.role, true) || set_config('rempart.account_id', a.id::text, true)
       END AS entered`
    : '';
  return `SELECT ${SESSION_COLUMNS}, ${ACCOUNT_COLUMNS}, o.purposes, o.code AS organisation_code, o.time_zone,
       o.working_hours, s.source_address, s.guard_flags, g.throttled_until, g.step_up_since,
       g.state AS guard_state, g.seen AS guard_seen, g.version AS guard_version,
       od.day AS org_day, od.persons AS org_persons, od.empty AS org_empty, od.refused AS org_refused,
       od.accounts AS org_accounts,
       (SELECT count(DISTINCT c.source_network)::int FROM sessions c
        WHERE c.account_id = s.account_id AND c.revoked_at IS NULL AND c.expires_at > $2 AND c.last_seen_at > $3
          AND c.source_network IS DISTINCT FROM s.source_network)
         AS concurrent_addresses${switched}
     FROM sessions s JOIN accounts a ON a.id = s.account_id JOIN organisations o ON o.id = a.organisation_id
       LEFT JOIN guard_accounts g ON g.account_id = a.id
       -- The organisation's day so far: its stripes added up (migration 0028); no row, no day.
       LEFT JOIN LATERAL (
         SELECT to_char(d.day, 'YYYY-MM-DD') AS day, sum(d.persons)::int AS persons, sum(d.empty)::int AS empty,
           sum(d.refused)::int AS refused, sum(d.accounts)::int AS accounts
         FROM guard_organisation_days d
         WHERE d.organisation_id = a.organisation_id AND d.day = ($2::timestamptz AT TIME ZONE o.time_zone)::date
         GROUP BY d.day) od ON true
     WHERE s.id_hash = $1 AND s.revoked_at IS NULL`;
}

/** The parameters of staffSessionSql for a session id (undefined: not the shape of one). */
export function staffSessionParams(
  sessionId: string,
  now: Date,
  config: Pick<Config, 'sessions'>,
): [Buffer, Date, Date] | undefined {
  if (sessionId.length < 20 || sessionId.length > 100) return undefined;
  return [sha256(sessionId), now, new Date(now.getTime() - config.sessions.idleMinutes * 60_000)];
}

/** A row of staffSessionSql. */
export interface StaffSessionRow extends SessionRow, AccountRow, GuardSituationRow {
  purposes: string[];
}

/**
 * What a row of staffSessionSql says: the live session ready for use; or that it has ended (then it
 * is to be revoked, with the reason); or that it is live but its last use is to be written
 * (SESSION_TOUCH_SECONDS).
 */
export function staffSessionOf(
  row: StaffSessionRow,
  now: Date,
  config: Pick<Config, 'sessions'>,
): { live: StaffSession; touch: boolean } | { ended: string } {
  const account = toAccount(row);
  const ended =
    sessionEnded(row, now, config) ?? (loginRefusal(account, now) === null ? null : 'account cannot log in');
  if (ended !== null) return { ended };
  return {
    live: {
      session: toSession(row, isStale(row, now) ? now : row.last_seen_at),
      account,
      organisationPurposes: row.purposes ?? [],
      guard: guardViewOf(row),
    },
    touch: isStale(row, now),
  };
}

/**
 * What every authenticated request needs, read in one statement (staffSessionSql): the live
 * session, its account, and the purposes the account's organisation holds (read each time, so a
 * change applies at once). Undefined if the session is not live (then it is revoked as such), or if
 * the account may not log in now (then the session is revoked). A read-only round trip in the
 * common case; a write only to revoke, or to mark the session used (SESSION_TOUCH_SECONDS).
 */
export async function useStaffSession(
  db: Db,
  sessionId: string,
  now: Date,
  config: Pick<Config, 'sessions'>,
): Promise<StaffSession | undefined> {
  const params = staffSessionParams(sessionId, now, config);
  if (!params) return undefined;
  const actor = systemCtx('session').actor;
  const [row] = await db.read<StaffSessionRow>(actor, staffSessionSql(false), params);
  if (!row) return undefined;
  const read = staffSessionOf(row, now, config);
  if ('ended' in read || read.touch) {
    // The write re-checks that the session is still open: a revocation in between stands.
    const live = await db.tx(actor, async (tx) => {
      if ('ended' in read) {
        await revokeSession(tx, Buffer.from(row.id_hash), read.ended);
        return false;
      }
      const touched = await tx.query(
        'UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL RETURNING 1',
        [row.id_hash, now],
      );
      return touched.length === 1;
    });
    if (!live) return undefined;
  }
  return 'live' in read ? read.live : undefined;
}

/** Why a session read with SESSION_COLUMNS has ended ('expired', 'idle'), or null if it is live. */
function sessionEnded(
  row: SessionRow,
  now: Date,
  config: Pick<Config, 'sessions'>,
): 'expired' | 'idle' | null {
  if (now >= row.expires_at) return 'expired';
  if (now.getTime() >= row.last_seen_at.getTime() + config.sessions.idleMinutes * 60_000) return 'idle';
  return null;
}

/** Whether the session's recorded last use is old enough to be written again. */
function isStale(row: SessionRow, now: Date): boolean {
  return now.getTime() - row.last_seen_at.getTime() >= SESSION_TOUCH_SECONDS * 1000;
}

function toSession(row: SessionRow, lastSeenAt: Date): Session {
  return {
    idHash: Buffer.from(row.id_hash),
    accountId: row.account_id,
    createdAt: row.created_at,
    lastSeenAt,
    expiresAt: row.expires_at,
    assurance: row.assurance,
    mfaAt: row.mfa_at,
    csrfHash: Buffer.from(row.csrf_hash),
    challenge: row.challenge,
    challengeExpiresAt: row.challenge_expires_at,
  };
}

/** True if `provided` is this session's CSRF token (constant-time comparison of hashes). */
export function csrfMatches(session: Session, provided: string | undefined): boolean {
  if (!provided || provided.length > 100) return false;
  return timingSafeEqual(sha256(provided), session.csrfHash);
}

/** True if the session's second factor is recent enough for a sensitive action (step-up). */
export function isFresh(session: Session, now: Date, config: Pick<Config, 'sessions'>): boolean {
  return (
    session.assurance === 'mfa' &&
    session.mfaAt !== null &&
    now.getTime() - session.mfaAt.getTime() < config.sessions.stepUpMinutes * 60_000
  );
}

/**
 * Raises the session to 'mfa' after a verified second factor. The old id is revoked and a new one
 * issued (no session fixation: an id known before the second factor is worthless after it). The
 * session is bound to the address the factor was verified from (the guard's session_address_changed
 * compares later requests with it).
 */
export async function elevateSession(
  tx: Tx,
  session: Session,
  now: Date,
  address?: string,
): Promise<{ sessionId: string; csrfToken: string; expiresAt: Date }> {
  await revokeSession(tx, session.idHash, 'elevated');
  const sessionId = token();
  const csrfToken = token();
  await tx.query(
    `INSERT INTO sessions (id_hash, account_id, created_at, last_seen_at, expires_at, assurance, mfa_at, csrf_hash,
       source_address, user_agent, guard_flags, source_network)
     SELECT $2, account_id, created_at, $3, expires_at, 'mfa', $3, $4, coalesce($5, source_address), user_agent,
       guard_flags, coalesce($6, source_network)
     FROM sessions WHERE id_hash = $1`,
    [
      session.idHash,
      sha256(sessionId),
      now,
      sha256(csrfToken),
      address ?? null,
      address ? networkOf(address) : null,
    ],
  );
  return { sessionId, csrfToken, expiresAt: session.expiresAt };
}

/** Stores a pending WebAuthn challenge on the session (valid five minutes). */
export async function setChallenge(
  tx: Tx,
  session: Session,
  challenge: string | null,
  now: Date,
): Promise<void> {
  await tx.query('UPDATE sessions SET challenge = $2, challenge_expires_at = $3 WHERE id_hash = $1', [
    session.idHash,
    challenge,
    challenge === null ? null : new Date(now.getTime() + 5 * 60_000),
  ]);
}

/** Ends one session. */
export async function revokeSession(tx: Tx, idHash: Buffer, reason: string): Promise<void> {
  await tx.query(
    'UPDATE sessions SET revoked_at = now(), revoked_reason = $2 WHERE id_hash = $1 AND revoked_at IS NULL',
    [idHash, reason],
  );
}

/** Ends every session of the account ("log out everywhere", suspension); returns how many. */
export async function revokeAllSessions(
  tx: Tx,
  accountId: string,
  reason: string,
  at?: Date,
): Promise<number> {
  const rows = await tx.query(
    `UPDATE sessions SET revoked_at = coalesce($3::timestamptz, now()), revoked_reason = $2
     WHERE account_id = $1 AND revoked_at IS NULL RETURNING 1`,
    [accountId, reason, at ?? null],
  );
  return rows.length;
}

export interface SessionSummary {
  id: string;
  current: boolean;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  assurance: Assurance;
  sourceAddress: string | null;
  userAgent: string | null;
}

/** The account's live sessions (the id shown is a short digest, never the cookie value). */
export async function listSessions(
  tx: Tx,
  accountId: string,
  current: Session,
  now: Date,
): Promise<SessionSummary[]> {
  const rows = await tx.query<{
    id_hash: Uint8Array;
    created_at: Date;
    last_seen_at: Date;
    expires_at: Date;
    assurance: Assurance;
    source_address: string | null;
    user_agent: string | null;
  }>(
    `SELECT id_hash, created_at, last_seen_at, expires_at, assurance, source_address, user_agent FROM sessions
     WHERE account_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC`,
    [accountId, now],
  );
  return rows.map((r) => ({
    id: Buffer.from(r.id_hash).toString('hex').slice(0, 16),
    current: Buffer.from(r.id_hash).equals(current.idHash),
    createdAt: r.created_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    assurance: r.assurance,
    sourceAddress: r.source_address,
    userAgent: r.user_agent,
  }));
}
