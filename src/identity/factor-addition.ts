/**
 * Adding a second factor to an account that already has one: the way a stolen session would keep
 * its access after the session ends (T2: a session hijacked right after its owner's login is
 * "fresh"). It needs a full re-authentication in the request itself (OWASP ASVS 7.5.1): the
 * session's second factor verified within the step-up window AND the password typed again. A wrong
 * password counts on the brute-force counters (at the lock the session ends), and the owner is told
 * of every factor added (ASVS 6.3.7).
 */
import type { Config } from '../config.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { Account } from './accounts.ts';
import { confirmedFactorCount } from './factors.ts';
import { notifyAccount } from './notices.ts';
import { verifyPassword } from './passwords.ts';
import { secondFactorBlocked, secondFactorFailure } from './second-factor-throttle.ts';
import { isFresh, type Session } from './sessions.ts';

/**
 * Allows starting the enrolment of a factor: the first one from a password session, any further one
 * only with a fresh second factor and the password re-entered. Throws otherwise.
 */
export async function checkFactorAddition(
  db: Db,
  staff: { account: Account; session: Session },
  options: { password: string | undefined; address: string; now: Date; config: Pick<Config, 'sessions'> },
): Promise<void> {
  const { account, session } = staff;
  const existing = await db.tx({ kind: 'system', operation: 'factors' }, (tx) =>
    confirmedFactorCount(tx, account.id),
  );
  if (existing === 0) return;
  if (!isFresh(session, options.now, options.config)) {
    throw new AppError('step_up_required', 'verify your second factor again to add another');
  }
  if (options.password === undefined) {
    throw new AppError('step_up_required', 'type your password again to add another factor', {
      field: 'password',
    });
  }
  const blocked = await secondFactorBlocked(db, account, options.address, options.now);
  if (blocked || !(await verifyPassword(account.passwordHash, options.password))) {
    if (!blocked) {
      await secondFactorFailure(db, account, {
        address: options.address,
        sessionIdHash: session.idHash,
        now: options.now,
        method: 'password_reauthentication',
      });
    }
    throw new AppError(
      'step_up_required',
      'the password is wrong, or too many attempts: wait and try again',
      {
        field: 'password',
      },
    );
  }
}

/** Tells the owner a factor was added (not for the first factor of an account). */
export async function noticeFactorAdded(
  db: Db,
  account: Account,
  now: Date,
  kind: 'totp' | 'webauthn',
): Promise<void> {
  const what =
    kind === 'totp'
      ? 'une application d’authentification / an authenticator app'
      : 'une clé d’accès / a passkey';
  await notifyAccount(db, account, now, {
    kind: 'factor_added',
    subject: 'Un facteur a été ajouté à votre compte Rempart / A factor was added to your Rempart account',
    text:
      `Un second facteur (${what}) vient d’être ajouté à votre compte. Si ce n’est pas vous, prévenez ` +
      'immédiatement l’officier de sécurité : votre session a pu être volée.\n\n' +
      `A second factor (${what}) was just added to your account. If it was not you, tell the security ` +
      'officer at once: your session may have been stolen.',
  });
}
