import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BLIND_INDEX_BYTES, type BlindIndexKind, blindIndex, blindIndexKeys } from './blind-index.ts';

// Fixed master keys: every outcome below is the same on every run.
const MASTER = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const OTHER_MASTER = Buffer.from('1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100', 'hex');
const KINDS: BlindIndexKind[] = ['nir', 'agency_id', 'name_birth', 'email'];

/** A NIR-like string: sex, year, month, department, commune, order number, two-digit key. */
function nirLike(i: number): string {
  const sex = 1 + (i % 2);
  const year = String(Math.floor(i / 2) % 100).padStart(2, '0');
  const month = String(1 + (Math.floor(i / 200) % 12)).padStart(2, '0');
  const department = String(1 + (Math.floor(i / 2400) % 95)).padStart(2, '0');
  const commune = String(Math.floor(i / 228_000) % 1000).padStart(3, '0');
  const order = String(i % 997).padStart(3, '0');
  const body = `${sex}${year}${month}${department}${commune}${order}`;
  const key = String(97 - Number(BigInt(body) % 97n)).padStart(2, '0');
  return `${body}${key}`;
}

describe('blindIndexKeys', () => {
  it('derives one distinct sub-key per kind, none equal to the master key, deterministically', () => {
    const keys = blindIndexKeys(MASTER);
    expect(Object.keys(keys).sort()).toEqual([...KINDS].sort());
    const hex = KINDS.map((kind) => keys[kind].toString('hex'));
    expect(new Set(hex).size).toBe(KINDS.length);
    for (const kind of KINDS) {
      expect(keys[kind].length).toBe(32);
      expect(keys[kind].equals(MASTER)).toBe(false);
      expect(keys[kind].equals(blindIndexKeys(MASTER)[kind])).toBe(true);
      expect(keys[kind].equals(blindIndexKeys(OTHER_MASTER)[kind])).toBe(false);
    }
  });
});

describe('blindIndex', () => {
  const keys = blindIndexKeys(MASTER);
  const nir = '185057800608436';

  it('is deterministic and 8 bytes long', () => {
    expect(BLIND_INDEX_BYTES).toBe(8);
    const a = blindIndex(keys.nir, nir);
    const b = blindIndex(keys.nir, nir);
    expect(a.length).toBe(8);
    expect(a.equals(b)).toBe(true);
    expect(blindIndex(blindIndexKeys(Buffer.from(MASTER)).nir, nir).equals(a)).toBe(true);
  });

  it('differs for a one-character change', () => {
    expect(blindIndex(keys.nir, nir).equals(blindIndex(keys.nir, '185057800608437'))).toBe(false);
    expect(blindIndex(keys.nir, nir).equals(blindIndex(keys.nir, `${nir} `))).toBe(false);
  });

  it('differs across the kinds for the same value (domain separation)', () => {
    for (const value of [nir, 'DUPONT|1985-05-07', 'FT-0042', '']) {
      const indexes = KINDS.map((kind) => blindIndex(keys[kind], value).toString('hex'));
      expect(new Set(indexes).size).toBe(KINDS.length);
    }
  });

  it('differs under another master key', () => {
    const other = blindIndexKeys(OTHER_MASTER);
    for (const kind of KINDS) {
      expect(blindIndex(keys[kind], nir).equals(blindIndex(other[kind], nir))).toBe(false);
    }
  });

  it('is keyed: neither a plain hash of the value nor an HMAC under the master key itself', () => {
    const index = blindIndex(keys.nir, nir);
    expect(index.equals(createHash('sha256').update(nir).digest().subarray(0, 8))).toBe(false);
    expect(index.equals(createHmac('sha256', MASTER).update(nir).digest().subarray(0, 8))).toBe(false);
    expect(index.equals(createHmac('sha256', Buffer.alloc(32)).update(nir).digest().subarray(0, 8))).toBe(
      false,
    );
  });

  it('has no collision over 100,000 distinct NIR-like strings (the truncation is long enough)', () => {
    const seen = new Set<string>();
    const values = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const value = nirLike(i);
      values.add(value);
      seen.add(blindIndex(keys.nir, value).toString('hex'));
    }
    expect(values.size).toBe(100_000);
    expect(seen.size).toBe(100_000);
  });

  it('does not contain the plaintext (no 8-byte slice of the UTF-8 value)', () => {
    for (const value of [nir, 'DUPONT|1985-05-07', 'FT-0042-ABCDEFGH', '12345678']) {
      const bytes = Buffer.from(value, 'utf8');
      for (const kind of KINDS) {
        const index = blindIndex(keys[kind], value);
        for (let start = 0; start + 8 <= bytes.length; start++) {
          expect(index.equals(bytes.subarray(start, start + 8))).toBe(false);
        }
        expect(index.includes(bytes.subarray(0, Math.min(4, bytes.length)))).toBe(false);
      }
    }
  });
});
