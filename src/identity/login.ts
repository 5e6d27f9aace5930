/**
 * Password login (first factor). Every refusal — unknown login, wrong password, locked, suspended or
 * disabled account, ended contract, throttled key — gives the same error and runs one argon2id
 * verification, so neither the answer nor its timing tells which accounts exist (no enumeration).
 * The session it opens has 'password' assurance: it reaches only enrolment and the second factor.
 */
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import {
  type Account,
  endProbationIfDue,
  findAccountByLogin,
  loginRefusal,
  normaliseLogin,
} from './accounts.ts';
import { recordEvent } from './events.ts';
import { queueNotice } from './notices.ts';
import { verifyPassword } from './passwords.ts';
import { openSession } from './sessions.ts';
import { clearFailures, isBlocked, recordFailure } from './throttle.ts';

/** The one answer to every failed login. */
export function loginFailed(): AppError {
  return new AppError(
    'login_failed',
    'the login or the password is wrong, or this account cannot log in now',
  );
}

export interface LoginResult {
  account: Account;
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
  /** What the session must do next: enrol a first second factor, or verify one. */
  next: 'enrol_second_factor' | 'verify_second_factor';
  factors: ('webauthn' | 'totp' | 'recovery_code')[];
}

/** What the owner of an account locked by ten failed logins is told. */
const LOCK_NOTICE = {
  kind: 'login_locked',
  subject:
    'Votre compte Rempart est verrouillé pour 15 minutes / Your Rempart account is locked for 15 minutes',
  text:
    'Dix tentatives de connexion ont échoué : votre compte est verrouillé pour 15 minutes.\n' +
    "Si ce n'était pas vous, prévenez votre responsable et l'officier de sécurité.\n\n" +
    'Ten login attempts failed: your account is locked for 15 minutes.\n' +
    'If this was not you, tell your manager and the security officer.',
};

/** Checks login and password and opens a 'password' session; throws loginFailed() otherwise. */
export async function passwordLogin(
  db: Db,
  deps: { config: Pick<Config, 'sessions'>; now: Date },
  input: { login: string; password: string; address: string; userAgent?: string },
): Promise<LoginResult> {
  const actor = systemCtx('login').actor;
  const login = normaliseLogin(input.login).slice(0, 64);
  const keys = [
    { scope: 'account' as const, key: login },
    { scope: 'address' as const, key: input.address },
  ];
  const { account, blocked } = await db.tx(actor, async (tx) => ({
    account: await findAccountByLogin(tx, login),
    blocked: await isBlocked(tx, keys, deps.now),
  }));
  // Always one verification, against a dummy hash when the account is unknown.
  const passwordOk = await verifyPassword(account?.passwordHash ?? null, input.password);
  // The throttle is checked first, for known and unknown logins alike: a blocked key records no new
  // failure whether or not an account has that login (T1; before, unknown logins went on writing
  // failure records while known ones were blocked, and answered 2-3 ms later at the median).
  const refusal = blocked
    ? 'throttled'
    : account === undefined
      ? 'unknown login'
      : !passwordOk
        ? 'wrong password'
        : loginRefusal(account, deps.now);

  if (refusal !== null) {
    // From here on, known and unknown logins run the same statements in the same order, values
    // aside (test/login-statements.test.ts): the counters are keyed by the login as typed, the
    // tenth failure locks that key either way, and the lock's notice is written with an account
    // that may be null (then the same INSERTs insert nothing). Its mail is queued, not sent: the
    // answer never waits for a mail server (it took 160-190 ms against 30-40 ms).
    await db.tx(actor, async (tx) => {
      let locked = false;
      if (refusal !== 'throttled') {
        for (const { scope, key } of keys) {
          const result = await recordFailure(tx, scope, key, deps.now);
          if (scope === 'account' && result.locked) locked = true;
        }
      }
      await recordEvent(tx, {
        at: deps.now,
        action: 'login.failed',
        targetAccountId: account?.id ?? null,
        organisationId: account?.organisationId ?? null,
        sourceAddress: input.address,
        details: { reason: refusal },
      });
      if (locked) {
        await recordEvent(tx, {
          at: deps.now,
          action: 'login.locked',
          targetAccountId: account?.id ?? null,
          organisationId: account?.organisationId ?? null,
          sourceAddress: input.address,
        });
        await queueNotice(tx, account, deps.now, LOCK_NOTICE);
      }
    });
    throw loginFailed();
  }

  return db.tx(actor, async (tx) => {
    const found = await endProbationIfDue(tx, account!, deps.now);
    await clearFailures(tx, keys);
    const factors = await tx.query<{ kind: 'webauthn' | 'totp' }>(
      `SELECT DISTINCT kind FROM second_factors
       WHERE account_id = $1 AND confirmed_at IS NOT NULL AND revoked_at IS NULL ORDER BY kind`,
      [found.id],
    );
    const codes = await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL',
      [found.id],
    );
    const session = await openSession(tx, found.id, {
      assurance: 'password',
      now: deps.now,
      config: deps.config,
      address: input.address,
      ...(input.userAgent ? { userAgent: input.userAgent } : {}),
    });
    await recordEvent(tx, {
      at: deps.now,
      action: 'login.password_ok',
      actorAccountId: found.id,
      targetAccountId: found.id,
      organisationId: found.organisationId,
      sourceAddress: input.address,
    });
    const kinds: LoginResult['factors'] = factors.map((f) => f.kind);
    if ((codes[0]?.n ?? 0) > 0) kinds.push('recovery_code');
    return {
      account: found,
      ...session,
      next: factors.length === 0 ? 'enrol_second_factor' : 'verify_second_factor',
      factors: kinds,
    };
  });
}
