/**
 * One-time codes mailed to an account's registered address (recovery reset or cancel, activation):
 * 16 characters of Crockford base32 (80 bits), stored as SHA-256 only. Guessing one is hopeless;
 * whoever holds one holds the registered mailbox.
 */
import { createHash } from 'node:crypto';
import { newRecoveryCodes, normaliseRecoveryCode } from './recovery-codes.ts';

/** A fresh code, grouped for reading (XXXX-XXXX-XXXX-XXXX). */
export function newOneTimeCode(): string {
  return newRecoveryCodes(1)[0]!;
}

/** The stored form of a code as typed (null if it cannot be a code). */
export function oneTimeCodeHash(input: string): Buffer | null {
  const code = normaliseRecoveryCode(input);
  return code === null ? null : createHash('sha256').update(code, 'utf8').digest();
}
