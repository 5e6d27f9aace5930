/**
 * The public check of a message's code (docs/DESIGN.md section 2, T6: phishing with accurate personal
 * data followed each breach). Anyone may type the code a message carries and learn whether Rempart
 * sent it, with its kind, channel and date; never to whom. A malformed code and an unknown one get
 * the same answer, so the answer teaches nothing about the code's format beyond "not genuine".
 * Codes carry 60 random bits; the check is throttled per source address and overall, so that the
 * codes cannot be enumerated (2^60 / (10 per minute) is far beyond any campaign).
 */
import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { findMessage, type MessageChannel } from './codes.ts';

/** Checks allowed per source address per window. */
export const VERIFY_PER_ADDRESS = 10;
/** Checks allowed from all sources together per window (a distributed guess is capped too). */
export const VERIFY_GLOBAL = 600;
/** The throttle's window. */
export const VERIFY_WINDOW_MS = 60_000;

const actor = systemCtx('message-verify').actor;

/** The answer to a check: a genuine message's facts, or only `genuine: false`. */
export type Verification =
  | { genuine: true; kind: string; channel: MessageChannel; sentAt: Date }
  | { genuine: false };

/** What a check needs. */
export interface VerifyRequest {
  /** The code as typed (any case, spaces or hyphens). */
  code: string;
  /** The source address (request.ip), for the throttle. */
  sourceAddress: string;
  now: Date;
}

/** Limits of the throttle (tests and operators may lower or raise them). */
export interface VerifyLimits {
  perAddress: number;
  global: number;
  windowMs: number;
}

/**
 * Counts one check for `key` in the fixed-window counters the portal login uses (table
 * person_login_throttle, migration 0019; keys prefixed `message-verify:`); past `limit`, the
 * `throttled` error to raise after commit.
 */
async function count(
  tx: Tx,
  key: string,
  limit: number,
  windowMs: number,
  now: Date,
): Promise<AppError | null> {
  const [row] = await tx.query<{ count: number; window_start: Date }>(
    `INSERT INTO person_login_throttle (key, window_start, count) VALUES ($1, $2, 1)
     ON CONFLICT (key) DO UPDATE SET
       count = CASE WHEN person_login_throttle.window_start <= $3 THEN 1 ELSE person_login_throttle.count + 1 END,
       window_start = CASE WHEN person_login_throttle.window_start <= $3 THEN $2 ELSE person_login_throttle.window_start END
     RETURNING count, window_start`,
    [key, now, new Date(now.getTime() - windowMs)],
  );
  if (row && row.count > limit) {
    const retryAt = new Date(row.window_start.getTime() + windowMs);
    const what = key.startsWith('notice-verify:') ? 'notices' : 'codes';
    return new AppError('throttled', `too many ${what} checked: try again later`, {
      retryAfter: Math.max(1, Math.ceil((retryAt.getTime() - now.getTime()) / 1000)),
      retryAt: retryAt.toISOString(),
      limit: what === 'codes' ? 'message code checks' : 'notice checks',
    });
  }
  return null;
}

/**
 * Counts one public check from `sourceAddress` against `limits`, per address and overall, in the
 * counters under `prefix` (`message-verify`, `notice-verify`: one allowance per kind of check), in a
 * transaction committed before a refusal, so a refused guess still counts. Throws `throttled` past a
 * limit.
 */
export async function countPublicCheck(
  db: Db,
  prefix: string,
  sourceAddress: string,
  now: Date,
  limits: VerifyLimits,
): Promise<void> {
  const refused = await db.tx(actor, async (tx) => {
    const byAddress = await count(
      tx,
      `${prefix}:address:${sourceAddress}`,
      limits.perAddress,
      limits.windowMs,
      now,
    );
    // An address already refused does not eat the global allowance of everyone else.
    if (byAddress) return byAddress;
    return count(tx, `${prefix}:global`, limits.global, limits.windowMs, now);
  });
  if (refused) throw refused;
}

/** The default limits: VERIFY_PER_ADDRESS per address and VERIFY_GLOBAL overall per VERIFY_WINDOW_MS. */
export const VERIFY_LIMITS: VerifyLimits = {
  perAddress: VERIFY_PER_ADDRESS,
  global: VERIFY_GLOBAL,
  windowMs: VERIFY_WINDOW_MS,
};

/**
 * Checks a message code. Every request counts (malformed ones too) in a transaction committed
 * before a refusal, so a refused guess still counts; then `throttled`, or the verification.
 */
export async function verifyMessageCode(
  db: Db,
  request: VerifyRequest,
  limits: VerifyLimits = VERIFY_LIMITS,
): Promise<Verification> {
  await countPublicCheck(db, 'message-verify', request.sourceAddress, request.now, limits);
  const found = await db.tx(actor, (tx) => findMessage(tx, request.code));
  if (!found) return { genuine: false };
  return { genuine: true, kind: found.kind, channel: found.channel, sentAt: found.sentAt };
}
