/**
 * WebAuthn second factors in the database (docs/DESIGN.md §5): the `second_factors` rows of kind
 * 'webauthn' and the single-use challenge kept on the session. The ceremonies themselves (options,
 * signature checks) are in webauthn.ts; this file only loads, stores and counts.
 */
import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/types.ts';
import { asBuffer, textArray } from '../registry/columns.ts';
import type { Account } from './accounts.ts';
import { recordEvent } from './events.ts';
import { afterFirstFactor } from './factors.ts';
import type { StoredCredential } from './webauthn.ts';

/** The label of a credential enrolled without one. */
export const DEFAULT_WEBAUTHN_LABEL = 'Clé de sécurité';

interface CredentialRow {
  credential_id: string;
  public_key: Uint8Array;
  sign_count: string | number | bigint | null;
  transports: string[] | null;
}

/** The account's confirmed, unrevoked WebAuthn credentials, oldest first. */
export async function webauthnCredentials(tx: Tx, accountId: string): Promise<StoredCredential[]> {
  const rows = await tx.query<CredentialRow>(
    `SELECT credential_id, public_key, sign_count, transports FROM second_factors
     WHERE account_id = $1 AND kind = 'webauthn' AND confirmed_at IS NOT NULL AND revoked_at IS NULL
     ORDER BY created_at, id`,
    [accountId],
  );
  return rows.map((row) => ({
    credentialId: row.credential_id,
    publicKey: new Uint8Array(asBuffer(row.public_key)),
    // bigint column: a string from node-postgres, a number or bigint from PGlite.
    counter: Number(row.sign_count ?? 0),
    transports: row.transports ?? [],
  }));
}

/**
 * Stores a credential that verifyRegistration has just accepted, confirmed at once (the
 * registration ceremony is its owner's proof that it works), and does what follows a first factor
 * (recovery codes, probation). Returns null, storing nothing, if the credential id is already
 * registered to any account: WebAuthn §7.1 (registering a new credential) says to refuse it, and
 * the route answers that with the same error as a bad signature, so it tells no one which
 * credential ids exist.
 */
export async function enrolWebauthnCredential(
  tx: Tx,
  account: Account,
  credential: StoredCredential,
  label: string | undefined,
  now: Date,
): Promise<{ factorId: string; recoveryCodes: string[] | null } | null> {
  const factorId = randomUUID();
  const inserted = await tx.query(
    `INSERT INTO second_factors (id, account_id, kind, label, credential_id, public_key, sign_count, transports,
       created_at, confirmed_at)
     VALUES ($1, $2, 'webauthn', $3, $4, $5, $6, $7::text[], $8, $8)
     ON CONFLICT (credential_id) DO NOTHING RETURNING 1`,
    [
      factorId,
      account.id,
      label ?? DEFAULT_WEBAUTHN_LABEL,
      credential.credentialId,
      Buffer.from(credential.publicKey),
      credential.counter,
      textArray(credential.transports),
      now,
    ],
  );
  if (inserted.length !== 1) return null;
  await recordEvent(tx, {
    at: now,
    action: 'factor.webauthn_enrolled',
    actorAccountId: account.id,
    targetAccountId: account.id,
    organisationId: account.organisationId,
    details: { factorId },
  });
  return { factorId, recoveryCodes: await afterFirstFactor(tx, account, now) };
}

/**
 * Records a verified assertion: the new signature counter and the time of use. The UPDATE is
 * conditional on the counter the verification was made against, so of two requests racing with
 * the same assertion (or two clones with the same counter) only one passes (WebAuthn §6.1.1). False
 * if the counter moved in between, or the credential is gone.
 */
export async function recordWebauthnUse(
  tx: Tx,
  accountId: string,
  credential: StoredCredential,
  newCounter: number,
  now: Date,
): Promise<boolean> {
  const updated = await tx.query(
    `UPDATE second_factors SET sign_count = $4, last_used_at = $5
     WHERE credential_id = $1 AND account_id = $2 AND kind = 'webauthn' AND sign_count = $3
       AND confirmed_at IS NOT NULL AND revoked_at IS NULL
     RETURNING 1`,
    [credential.credentialId, accountId, credential.counter, newCounter, now],
  );
  return updated.length === 1;
}

/**
 * Takes the session's pending WebAuthn challenge: clears it and returns it if it has not expired.
 * One statement reads and clears it under a row lock, so a challenge answers one ceremony only,
 * even for two requests at once; it is gone whatever the outcome of the verification that follows
 * (no second try at the same challenge). The caller commits this before verifying.
 */
export async function takeChallenge(tx: Tx, sessionIdHash: Buffer, now: Date): Promise<string | null> {
  const rows = await tx.query<{ challenge: string | null; challenge_expires_at: Date | null }>(
    `WITH old AS (
       SELECT challenge, challenge_expires_at FROM sessions WHERE id_hash = $1 AND revoked_at IS NULL FOR UPDATE
     )
     UPDATE sessions SET challenge = NULL, challenge_expires_at = NULL FROM old
     WHERE sessions.id_hash = $1
     RETURNING old.challenge, old.challenge_expires_at`,
    [sessionIdHash],
  );
  const row = rows[0];
  if (!row || row.challenge === null || row.challenge_expires_at === null) return null;
  return now < row.challenge_expires_at ? row.challenge : null;
}
