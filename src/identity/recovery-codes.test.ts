import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import {
  hashRecoveryCode,
  newRecoveryCodes,
  normaliseRecoveryCode,
  RECOVERY_CODE_ALPHABET,
} from './recovery-codes.ts';

const FORMAT = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/;

describe('newRecoveryCodes', () => {
  it('makes ten distinct codes by default, shown as XXXX-XXXX-XXXX-XXXX', () => {
    const codes = newRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(FORMAT);
  });

  it('makes as many as asked', () => {
    expect(newRecoveryCodes(3)).toHaveLength(3);
  });

  it('carries at least 80 bits per code: 16 symbols drawn from 32, none of them ambiguous', () => {
    expect(RECOVERY_CODE_ALPHABET).toHaveLength(32);
    expect(new Set(RECOVERY_CODE_ALPHABET).size).toBe(32);
    expect(RECOVERY_CODE_ALPHABET).not.toMatch(/[ILOU]/);
    expect(Math.log2(RECOVERY_CODE_ALPHABET.length ** 16)).toBeGreaterThanOrEqual(80);
    // What the generator actually draws: every symbol of the alphabet, about equally often, and
    // every position varies (a constant or biased position would lower the entropy).
    const codes = newRecoveryCodes(1000).map((code) => code.replaceAll('-', ''));
    const counts = new Map<string, number>();
    for (const code of codes) {
      expect(code).toHaveLength(16);
      for (const symbol of code) counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
    }
    expect([...counts.keys()].sort().join('')).toBe([...RECOVERY_CODE_ALPHABET].sort().join(''));
    // 16,000 draws, 500 expected per symbol, standard deviation about 22: 350..650 is ±7 σ.
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(350);
      expect(count).toBeLessThan(650);
    }
    for (let position = 0; position < 16; position += 1) {
      expect(new Set(codes.map((code) => code[position])).size).toBeGreaterThan(25);
    }
  });
});

describe('normaliseRecoveryCode', () => {
  it.each([
    ['as shown', 'ABCD-EFGH-JKMN-PQRS', 'ABCDEFGHJKMNPQRS'],
    ['lowercase', 'abcd-efgh-jkmn-pqrs', 'ABCDEFGHJKMNPQRS'],
    ['without dashes', 'ABCDEFGHJKMNPQRS', 'ABCDEFGHJKMNPQRS'],
    ['with spaces', ' abcd efgh jkmn pqrs ', 'ABCDEFGHJKMNPQRS'],
    ['O for 0, I and L for 1', 'O1IL-0000-TVWX-YZ23', '01110000TVWXYZ23'],
  ])('reads a code typed %s', (_why, input, expected) => {
    expect(normaliseRecoveryCode(input)).toBe(expected);
  });

  it.each([
    ['empty', ''],
    ['too short', 'ABCD-EFGH-JKMN-PQR'],
    ['too long', 'ABCD-EFGH-JKMN-PQRST'],
    ['with U, outside the alphabet', 'ABCD-EFGH-JKMN-PQRU'],
    ['with punctuation', 'ABCD.EFGH.JKMN.PQRS'],
    ['with accents', 'ÀBCD-EFGH-JKMN-PQRS'],
    ['huge', 'A'.repeat(10_000)],
    ['a TOTP code', '123456'],
  ])('returns null for malformed input (%s)', (_why, input) => {
    expect(normaliseRecoveryCode(input)).toBeNull();
  });
});

describe('hashRecoveryCode', () => {
  it('is the SHA-256 of the canonical form, the same however the code is typed', () => {
    const [code] = newRecoveryCodes(1);
    const canonical = code!.replaceAll('-', '');
    const expected = createHash('sha256').update(canonical).digest('hex');
    for (const variant of [code!, code!.toLowerCase(), canonical, code!.replaceAll('-', ' '), ` ${code} `]) {
      expect(hashRecoveryCode(variant)).toBe(expected);
    }
    expect(hashRecoveryCode(code!)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecoveryCode(code!)).not.toContain(canonical.toLowerCase());
  });

  it('gives different codes different hashes', () => {
    const codes = newRecoveryCodes(10);
    expect(new Set(codes.map(hashRecoveryCode)).size).toBe(10);
    expect(hashRecoveryCode('AAAA-AAAA-AAAA-AAAA')).not.toBe(hashRecoveryCode('AAAA-AAAA-AAAA-AAAB'));
  });

  it('refuses to hash a malformed code', () => {
    expect(() => hashRecoveryCode('not a code')).toThrow(ValidationError);
  });
});
