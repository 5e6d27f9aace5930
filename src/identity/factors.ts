/**
 * Second factors (docs/DESIGN.md section 5): TOTP (RFC 6238, ±1 step, a used code never again) and
 * single-use recovery codes; WebAuthn in webauthn.ts. Enrolment of the first factor moves a new
 * account from pending enrolment to probation and issues its ten recovery codes, shown once.
 * TOTP secrets are wrapped by the KMS, bound to the factor id, like persons' data keys.
 */
import { randomUUID } from 'node:crypto';
import type { Kms } from '../crypto/kms.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { asBuffer } from '../registry/columns.ts';
import { type Account, PROBATION_DAYS } from './accounts.ts';
import { recordEvent } from './events.ts';
import { hashRecoveryCode, newRecoveryCodes, normaliseRecoveryCode } from './recovery-codes.ts';
import { checkTotp, newTotpSecret, totpUri } from './totp.ts';

/** Starts a TOTP enrolment: the secret (to show once, as text and otpauth URI) and the factor id to confirm. */
export async function startTotpEnrolment(
  tx: Tx,
  kms: Kms,
  account: Account,
  now: Date,
): Promise<{ factorId: string; secret: string; uri: string }> {
  const factorId = randomUUID();
  const secret = newTotpSecret();
  const [wrapped] = await kms.wrapKeys([{ personId: factorId, dataKey: Buffer.from(secret, 'utf8') }]);
  await tx.query(
    `INSERT INTO second_factors (id, account_id, kind, label, secret_kek_id, secret_wrapped, created_at)
     VALUES ($1, $2, 'totp', 'Application d''authentification', $3, $4, $5)`,
    [factorId, account.id, wrapped!.kekId, wrapped!.wrapped, now],
  );
  await recordEvent(tx, {
    at: now,
    action: 'factor.totp_started',
    actorAccountId: account.id,
    targetAccountId: account.id,
  });
  return { factorId, secret, uri: totpUri(secret, account.login) };
}

interface TotpRow {
  id: string;
  secret_kek_id: string;
  secret_wrapped: Uint8Array;
  last_step: string | null;
}

async function secretOf(kms: Kms, row: TotpRow): Promise<string> {
  const key = await kms.unwrapKey(row.id, {
    kekId: row.secret_kek_id,
    wrapped: asBuffer(row.secret_wrapped),
  });
  return key.toString('utf8');
}

/**
 * Accepts the code on the row's factor if it is valid and newer than the last one used; records the
 * step atomically, so the same code cannot be used twice even by two requests at once.
 */
async function acceptTotp(tx: Tx, kms: Kms, row: TotpRow, code: string, now: Date): Promise<boolean> {
  const result = await checkTotp(
    await secretOf(kms, row),
    code,
    now,
    row.last_step === null ? null : Number(row.last_step),
  );
  if (!result.ok) return false;
  const updated = await tx.query(
    `UPDATE second_factors SET last_step = $2, last_used_at = $3, confirmed_at = coalesce(confirmed_at, $3)
     WHERE id = $1 AND (last_step IS NULL OR last_step < $2) RETURNING 1`,
    [row.id, result.step, now],
  );
  return updated.length === 1;
}

/**
 * Confirms a pending TOTP factor with a first valid code. For an account's first factor: issues the
 * recovery codes (returned once, stored hashed) and puts a pending account on probation.
 */
export async function confirmTotp(
  tx: Tx,
  kms: Kms,
  account: Account,
  factorId: string,
  code: string,
  now: Date,
): Promise<{ recoveryCodes: string[] | null }> {
  const rows = await tx.query<TotpRow>(
    `SELECT id, secret_kek_id, secret_wrapped, last_step FROM second_factors
     WHERE id = $1 AND account_id = $2 AND kind = 'totp' AND confirmed_at IS NULL AND revoked_at IS NULL`,
    [factorId, account.id],
  );
  const row = rows[0];
  if (!row)
    throw new AppError('not_found', 'no pending authenticator app with this id', { field: 'factorId' });
  if (!(await acceptTotp(tx, kms, row, code, now))) {
    throw new AppError('second_factor_failed', 'the code is wrong or has expired', { field: 'code' });
  }
  await recordEvent(tx, {
    at: now,
    action: 'factor.totp_confirmed',
    actorAccountId: account.id,
    targetAccountId: account.id,
  });
  return { recoveryCodes: await afterFirstFactor(tx, account, now) };
}

/** After a factor is confirmed: recovery codes if the account has none left, probation if it was pending. */
export async function afterFirstFactor(tx: Tx, account: Account, now: Date): Promise<string[] | null> {
  if (account.status === 'pending_enrolment' && account.demo) {
    // A demo account explores a synthetic population: no probation (docs/GUARD.md, "Demo accounts").
    await tx.query(`UPDATE accounts SET status = 'active', probation_until = NULL WHERE id = $1`, [
      account.id,
    ]);
  } else if (account.status === 'pending_enrolment') {
    await tx.query(`UPDATE accounts SET status = 'probation', probation_until = $2 WHERE id = $1`, [
      account.id,
      new Date(now.getTime() + PROBATION_DAYS * 86_400_000),
    ]);
    await recordEvent(tx, { at: now, action: 'account.probation_started', targetAccountId: account.id });
  }
  const unused = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL',
    [account.id],
  );
  if ((unused[0]?.n ?? 0) > 0) return null;
  const codes = newRecoveryCodes();
  for (const code of codes) {
    await tx.query('INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES ($1, $2, $3)', [
      account.id,
      hashRecoveryCode(code),
      now,
    ]);
  }
  await recordEvent(tx, {
    at: now,
    action: 'factor.recovery_codes_issued',
    targetAccountId: account.id,
    details: { count: codes.length },
  });
  return codes;
}

/** Verifies a TOTP code against the account's confirmed authenticator apps. */
export async function verifyTotp(
  tx: Tx,
  kms: Kms,
  account: Account,
  code: string,
  now: Date,
): Promise<boolean> {
  const rows = await tx.query<TotpRow>(
    `SELECT id, secret_kek_id, secret_wrapped, last_step FROM second_factors
     WHERE account_id = $1 AND kind = 'totp' AND confirmed_at IS NOT NULL AND revoked_at IS NULL`,
    [account.id],
  );
  for (const row of rows) if (await acceptTotp(tx, kms, row, code, now)) return true;
  return false;
}

/** Uses one recovery code (single use: marked used in the same statement that checks it). */
export async function useRecoveryCode(tx: Tx, account: Account, code: string, now: Date): Promise<boolean> {
  const normalised = normaliseRecoveryCode(code);
  if (normalised === null) return false;
  const rows = await tx.query(
    `UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1`,
    [account.id, hashRecoveryCode(normalised), now],
  );
  return rows.length === 1;
}

/** How many confirmed second factors the account has. */
export async function confirmedFactorCount(tx: Tx, accountId: string): Promise<number> {
  const rows = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM second_factors WHERE account_id = $1 AND confirmed_at IS NOT NULL AND revoked_at IS NULL',
    [accountId],
  );
  return rows[0]?.n ?? 0;
}
