/**
 * Single-use recovery codes (docs/DESIGN.md section 5), shown once at enrolment and stored hashed. Each is
 * 16 symbols of Crockford's base32 alphabet (no I, L, O or U, so nothing reads as another symbol):
 * 32^16 = 2^80 possibilities, drawn from node:crypto.
 */
import { createHash, randomInt } from 'node:crypto';
import { ValidationError } from '../errors.ts';

/** Crockford's base32 alphabet: digits and capitals without I, L, O and U. */
export const RECOVERY_CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 16;
const GROUP = 4;
const WELL_FORMED = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{${CODE_LENGTH}}$`, 'u');

/** `count` new random codes, each shown as XXXX-XXXX-XXXX-XXXX (80 bits each). */
export function newRecoveryCodes(count = 10): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    let code = '';
    for (let i = 0; i < CODE_LENGTH; i += 1) {
      if (i > 0 && i % GROUP === 0) code += '-';
      code += RECOVERY_CODE_ALPHABET[randomInt(RECOVERY_CODE_ALPHABET.length)];
    }
    codes.add(code);
  }
  return [...codes];
}

/**
 * The canonical form of a typed code (16 symbols, uppercase, no dashes or spaces), or null if it is
 * not one. As Crockford's decoding does, O reads as 0 and I or L as 1, the usual misreadings.
 */
export function normaliseRecoveryCode(input: string): string | null {
  if (input.length > 4 * CODE_LENGTH) return null;
  const compact = input
    .toUpperCase()
    .replace(/[\s-]+/gu, '')
    .replace(/O/gu, '0')
    .replace(/[IL]/gu, '1');
  return WELL_FORMED.test(compact) ? compact : null;
}

/**
 * SHA-256 (hex) of the canonical form. A fast unsalted hash is enough here, unlike for passwords: a
 * code is 80 random bits, not something a person chose, so there is no dictionary to try and a
 * stolen table of hashes costs 2^80 SHA-256 evaluations per code to reverse. NIST SP 800-63B (2017)
 * §5.1.2.2: look-up secrets of at least 64 bits "MAY simply be hashed using an approved hash function".
 * Being deterministic also lets the verifier find the code with one indexed lookup.
 */
export function hashRecoveryCode(code: string): string {
  const canonical = normaliseRecoveryCode(code);
  if (canonical === null) throw new ValidationError([{ field: 'code', message: 'is not a recovery code' }]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
