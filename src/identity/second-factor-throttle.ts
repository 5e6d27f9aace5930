/**
 * Guessing a second factor is throttled like guessing a password: someone holding a phished password
 * gets a password session, and without this could try authenticator codes as fast as the server
 * answers. Failures of TOTP, recovery codes and WebAuthn count on the same per-account and
 * per-address counters as password failures (throttle.ts): backoff from the third, a 15-minute lock
 * at the tenth — which also ends the guessing session and tells the owner.
 */

import { systemCtx } from '../context.ts';
import type { Db, Tx } from '../db/types.ts';
import type { Account } from './accounts.ts';
import { recordEvent } from './events.ts';
import { queueNotice } from './notices.ts';
import { elevateSession, revokeSession, type Session } from './sessions.ts';
import { clearFailures, isBlocked, recordFailure, type ThrottleScope } from './throttle.ts';

const actor = systemCtx('second-factor').actor;

function keysOf(account: Account, address: string): { scope: ThrottleScope; key: string }[] {
  return [
    { scope: 'account', key: account.login },
    { scope: 'address', key: address },
  ];
}

/** True while the account or the address is in a backoff or a lock: the factor is not even checked. */
export function secondFactorBlocked(db: Db, account: Account, address: string, now: Date): Promise<boolean> {
  return db.tx(actor, (tx) => isBlocked(tx, keysOf(account, address), now));
}

/** Counts a failed second factor; at the lock, ends the session and tells the owner. */
export async function secondFactorFailure(
  db: Db,
  account: Account,
  options: { address: string; sessionIdHash: Buffer; now: Date; method: string },
): Promise<void> {
  await db.tx(actor, async (tx) => {
    let lockedNow = false;
    for (const { scope, key } of keysOf(account, options.address)) {
      const result = await recordFailure(tx, scope, key, options.now);
      if (scope === 'account' && result.locked) lockedNow = true;
    }
    await recordEvent(tx, {
      at: options.now,
      action: 'login.second_factor_failed',
      targetAccountId: account.id,
      organisationId: account.organisationId,
      sourceAddress: options.address,
      details: { method: options.method },
    });
    if (lockedNow) {
      await revokeSession(tx, options.sessionIdHash, 'second factor guessing');
      await recordEvent(tx, {
        at: options.now,
        action: 'login.locked',
        targetAccountId: account.id,
        organisationId: account.organisationId,
        sourceAddress: options.address,
        details: { after: 'second factor failures' },
      });
      // Queued with the lock, sent after the answer (notify/outbox.ts).
      await queueNotice(tx, account, options.now, {
        kind: 'login_locked',
        subject:
          'Votre compte Rempart est verrouillé pour 15 minutes / Your Rempart account is locked for 15 minutes',
        text:
          'Quelqu’un connaissant votre mot de passe a essayé dix fois votre second facteur : votre compte est verrouillé ' +
          'pour 15 minutes. Changez votre mot de passe et prévenez l’officier de sécurité.\n\n' +
          'Someone who knows your password tried your second factor ten times: your account is locked for 15 minutes. ' +
          'Change your password and tell the security officer.',
      });
    }
  });
}

/** A verified second factor clears the counters. */
export function secondFactorSuccess(db: Db, account: Account, address: string): Promise<void> {
  return db.tx(actor, (tx) => clearFailures(tx, keysOf(account, address)));
}

/**
 * A second factor was verified (login, enrolment or step-up), in the caller's transaction: the
 * session id changes and the session reaches 'mfa' with a fresh mfa_at; the event is recorded.
 */
export async function secondFactorVerified(
  tx: Tx,
  session: Session,
  account: Account,
  options: { now: Date; address: string; method: string },
): Promise<{ sessionId: string; csrfToken: string; expiresAt: Date }> {
  const elevated = await elevateSession(tx, session, options.now, options.address);
  await recordEvent(tx, {
    at: options.now,
    action: 'login.second_factor_ok',
    actorAccountId: account.id,
    targetAccountId: account.id,
    organisationId: account.organisationId,
    sourceAddress: options.address,
    details: { method: options.method },
  });
  return elevated;
}
