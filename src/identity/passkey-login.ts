/**
 * Passwordless login with a passkey (docs/DESIGN.md section 13, "lockout as a weapon"): whoever knows an
 * agent's login can lock it by failing ten passwords, again and again. The owner still gets in with a
 * bound passkey — a user-verified WebAuthn assertion is two factors by itself (the key, and the PIN
 * or biometric that unlocks it) — without a helpdesk call. The account lock does not apply to this
 * path; the per-address throttle does, and so do the account's status and its organisation's
 * contract. The options name no account (discoverable credentials), so they reveal nothing.
 */
import { createHash } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { asBuffer } from '../registry/columns.ts';
import { type Account, accountById, endProbationIfDue, loginRefusal } from './accounts.ts';
import { recordEvent } from './events.ts';
import { openSession } from './sessions.ts';
import { clearFailures, isBlocked, recordFailure } from './throttle.ts';
import {
  authenticationOptions,
  type RelyingParty,
  type StoredCredential,
  verifyAuthentication,
} from './webauthn.ts';
import { recordWebauthnUse } from './webauthn-factors.ts';

const CHALLENGE_MINUTES = 5;
const actor = systemCtx('passkey').actor;
const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
const failed = (): AppError => new AppError('second_factor_failed', 'passkey verification failed');

/** Options for navigator.credentials.get() with no account named; the challenge is kept (hashed) five minutes. */
export async function passkeyOptions(
  db: Db,
  rp: RelyingParty,
  now: Date,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { options, challenge } = await authenticationOptions(rp, []);
  await db.tx(actor, async (tx) => {
    await tx.query('DELETE FROM passkey_challenges WHERE expires_at < $1', [
      new Date(now.getTime() - 3_600_000),
    ]);
    await tx.query('INSERT INTO passkey_challenges (challenge_hash, expires_at) VALUES ($1, $2)', [
      sha256(challenge),
      new Date(now.getTime() + CHALLENGE_MINUTES * 60_000),
    ]);
  });
  return options;
}

function challengeOf(response: AuthenticationResponseJSON): string | null {
  try {
    const client = JSON.parse(
      Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8'),
    ) as { challenge?: unknown };
    return typeof client.challenge === 'string' ? client.challenge : null;
  } catch {
    return null;
  }
}

export interface PasskeyLogin {
  account: Account;
  sessionId: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Verifies a passkey assertion and opens an 'mfa' session; any failure is the same 401. */
export async function passkeyLogin(
  db: Db,
  deps: { config: Pick<Config, 'sessions'>; rp: RelyingParty; now: Date },
  input: { response: AuthenticationResponseJSON; address: string; userAgent?: string },
): Promise<PasskeyLogin> {
  const { now } = deps;
  const addressKey = [{ scope: 'address' as const, key: input.address }];
  const fail = async (reason: string, account?: Account): Promise<never> => {
    await db.tx(actor, async (tx) => {
      await recordFailure(tx, 'address', input.address, now);
      await recordEvent(tx, {
        at: now,
        action: 'login.passkey_failed',
        targetAccountId: account?.id ?? null,
        organisationId: account?.organisationId ?? null,
        sourceAddress: input.address,
        details: { reason },
      });
    });
    throw failed();
  };
  if (await db.tx(actor, (tx) => isBlocked(tx, addressKey, now))) throw failed();
  const challenge = challengeOf(input.response);
  if (challenge === null) return fail('malformed');
  const found = await db.tx(actor, async (tx) => {
    const taken = await tx.query(
      'UPDATE passkey_challenges SET used_at = $2 WHERE challenge_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING 1',
      [sha256(challenge), now],
    );
    if (taken.length === 0) return { reason: 'unknown challenge' as const };
    const rows = await tx.query<{
      account_id: string;
      credential_id: string;
      public_key: Uint8Array;
      sign_count: string;
      transports: string[] | null;
    }>(
      `SELECT account_id, credential_id, public_key, sign_count, transports FROM second_factors
       WHERE credential_id = $1 AND kind = 'webauthn' AND confirmed_at IS NOT NULL AND revoked_at IS NULL`,
      [input.response.id],
    );
    const row = rows[0];
    if (!row) return { reason: 'unknown credential' as const };
    const account = await accountById(tx, row.account_id);
    const credential: StoredCredential = {
      credentialId: row.credential_id,
      publicKey: asBuffer(row.public_key),
      counter: Number(row.sign_count),
      transports: row.transports ?? [],
    };
    return { account, credential };
  });
  if (!('credential' in found)) return fail(found.reason);
  const { account, credential } = found;
  if (!account) return fail('unknown account');
  const refusal = loginRefusal(account, now);
  if (refusal !== null) return fail(refusal, account);
  let newCounter: number;
  try {
    ({ newCounter } = await verifyAuthentication(deps.rp, challenge, credential, input.response));
  } catch {
    return fail('assertion', account);
  }
  const session = await db.tx(actor, async (tx) => {
    if (!(await recordWebauthnUse(tx, account.id, credential, newCounter, now))) return null;
    await endProbationIfDue(tx, account, now);
    await clearFailures(tx, [{ scope: 'account', key: account.login }, ...addressKey]);
    await recordEvent(tx, {
      at: now,
      action: 'login.passkey_ok',
      actorAccountId: account.id,
      targetAccountId: account.id,
      organisationId: account.organisationId,
      sourceAddress: input.address,
    });
    return openSession(tx, account.id, {
      assurance: 'mfa',
      now,
      config: deps.config,
      address: input.address,
      ...(input.userAgent ? { userAgent: input.userAgent } : {}),
    });
  });
  if (session === null) return fail('counter', account);
  return { account, ...session };
}
