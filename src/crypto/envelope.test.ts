import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import { newDataKey, openFields, type PlainField, sealFields } from './envelope.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 3;

const PERSON_A = '0b6f3c1e-6a52-4f0e-9a51-1c2d3e4f5a6b';
const PERSON_B = '7c1d2e3f-8a9b-4c0d-8e1f-2a3b4c5d6e7f';

const ADDRESS = JSON.stringify({ line: '12 rue de l’Église', postcode: '75004', city: 'Paris' });

const FIELDS: PlainField[] = [
  { code: 1, name: 'agencyId', value: 'FT-0042' },
  { code: 3, name: 'lastName', value: 'Lefèvre-Ñúñez 🎉' },
  { code: 9, name: 'email', value: '' },
  { code: 11, name: 'address', value: ADDRESS },
];

/** Every field of FIELDS, plus one code that is not in the record (phone). */
const ALL = new Map<number, string>([
  ...FIELDS.map((f): [number, string] => [f.code, f.name]),
  [10, 'phone'],
]);
const ORIGINAL = new Map<number, string | null>([...FIELDS.map((f): [number, string] => [f.code, f.value])]);
ORIGINAL.set(10, null);

/** The non-empty plaintexts, which no error may ever carry. */
const SECRETS = FIELDS.map((f) => f.value).filter((v) => v.length > 0);

/** One field's segment in a sealed record: [start, end), start being its code byte. */
interface Segment {
  code: number;
  start: number;
  end: number;
}

/** Parses the documented layout independently of openFields: version, then code | length | body. */
function layout(record: Buffer): Segment[] {
  expect(record[0]).toBe(1);
  const segments: Segment[] = [];
  let offset = 1;
  while (offset < record.length) {
    const length = record.readUInt16BE(offset + 1);
    segments.push({ code: record[offset]!, start: offset, end: offset + HEADER_BYTES + length });
    offset += HEADER_BYTES + length;
  }
  expect(offset).toBe(record.length);
  return segments;
}

/** The AppError a call throws, or fails the test if it returns. */
function thrownBy(call: () => unknown): AppError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected the call to throw an AppError');
}

/** Asserts a decryption_failed error that carries none of the plaintexts. */
function expectSafeDecryptionFailure(error: unknown): void {
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe('decryption_failed');
  const text = [
    appError.message,
    String(appError),
    JSON.stringify(appError),
    JSON.stringify(appError.issues),
    appError.cause instanceof Error ? appError.cause.message : String(appError.cause ?? ''),
  ].join('\n');
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

function expectDecryptionFailure(call: () => unknown): void {
  expectSafeDecryptionFailure(thrownBy(call));
}

describe('sealFields / openFields round trip', () => {
  it('returns every sealed value, including accents, emoji, an empty string and JSON', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    const opened = openFields(key, PERSON_A, sealed, ALL);
    expect(opened).toEqual(ORIGINAL);
    expect(opened.get(3)).toBe('Lefèvre-Ñúñez 🎉');
    expect(opened.get(9)).toBe('');
    expect(JSON.parse(opened.get(11)!)).toEqual(JSON.parse(ADDRESS));
  });

  it('accepts the record as a Uint8Array view at a non-zero offset (as a database driver returns it)', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    const backing = new Uint8Array(sealed.length + 7);
    backing.set(sealed, 5);
    const view = new Uint8Array(backing.buffer, 5, sealed.length);
    expect(openFields(key, PERSON_A, view, ALL)).toEqual(ORIGINAL);
  });

  it('uses a fresh 256-bit random data key each time', () => {
    const a = newDataKey();
    const b = newDataKey();
    expect(a.length).toBe(32);
    expect(a.equals(b)).toBe(false);
  });

  it('opens only the requested fields; absent requested fields are null, others are not returned', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    const opened = openFields(
      key,
      PERSON_A,
      sealed,
      new Map([
        [3, 'lastName'],
        [10, 'phone'],
      ]),
    );
    expect([...opened.keys()].sort((x, y) => x - y)).toEqual([3, 10]);
    expect(opened.get(3)).toBe('Lefèvre-Ñúñez 🎉');
    expect(opened.get(10)).toBeNull();
    expect(opened.has(1)).toBe(false);
    expect(opened.has(9)).toBe(false);
    expect(opened.has(11)).toBe(false);
  });

  it('does not decrypt fields that are not requested (a corrupt unrequested field does not matter)', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    const address = layout(sealed).find((s) => s.code === 11)!;
    sealed[address.end - 1]! ^= 0xff; // breaks the address tag
    expect(openFields(key, PERSON_A, sealed, new Map([[3, 'lastName']])).get(3)).toBe('Lefèvre-Ñúñez 🎉');
    expectDecryptionFailure(() => openFields(key, PERSON_A, sealed, new Map([[11, 'address']])));
  });

  it('refuses to seal an empty record, and refuses to open one (a record emptied by tampering)', () => {
    const key = newDataKey();
    expect(() => sealFields(key, PERSON_A, [])).toThrow(AppError);
    expectDecryptionFailure(() => openFields(key, PERSON_A, Buffer.from([1]), ALL));
  });

  it('authenticates the field list even when every requested field is absent', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    const absent = new Map([[10, 'phone']]);
    expect(openFields(key, PERSON_A, sealed, absent, ALL)).toEqual(new Map([[10, null]]));
    expectDecryptionFailure(() => openFields(key, PERSON_B, sealed, absent, ALL));
  });

  it('refuses a field too long for its 16-bit length, without echoing the value', () => {
    const key = newDataKey();
    const max = 0xffff - IV_BYTES - TAG_BYTES;
    const fits = 'é'.repeat(Math.floor(max / 2)) + 'x'; // multi-byte characters: the limit is in bytes
    expect(Buffer.byteLength(fits)).toBe(max);
    const sealed = sealFields(key, PERSON_A, [{ code: 2, name: 'nir', value: fits }]);
    expect(openFields(key, PERSON_A, sealed, new Map([[2, 'nir']])).get(2)).toBe(fits);

    const tooLong = `${fits}y`;
    const error = thrownBy(() => sealFields(key, PERSON_A, [{ code: 2, name: 'nir', value: tooLong }]));
    expect(error.code).toBe('validation_failed');
    expect(error.field).toBe('nir');
    expect(error.message).not.toContain('éééé');
  });
});

describe('confidentiality of a sealed record', () => {
  it('gives different bytes when the same plaintext is sealed twice (random IVs)', () => {
    const key = newDataKey();
    const a = sealFields(key, PERSON_A, FIELDS);
    const b = sealFields(key, PERSON_A, FIELDS);
    expect(a.length).toBe(b.length);
    expect(a.equals(b)).toBe(false);
    const segmentsA = layout(a);
    const segmentsB = layout(b);
    segmentsA.forEach((s, i) => {
      const t = segmentsB[i]!;
      const bodyA = a.subarray(s.start + HEADER_BYTES, s.end);
      const bodyB = b.subarray(t.start + HEADER_BYTES, t.end);
      // IV, ciphertext and tag all differ, field by field (the empty field has only IV and tag).
      expect(bodyA.subarray(0, IV_BYTES).equals(bodyB.subarray(0, IV_BYTES))).toBe(false);
      expect(bodyA.subarray(IV_BYTES).equals(bodyB.subarray(IV_BYTES))).toBe(false);
    });
  });

  it('never reuses an IV between the fields of one record', () => {
    const sealed = sealFields(newDataKey(), PERSON_A, FIELDS);
    const ivs = layout(sealed).map((s) =>
      sealed.subarray(s.start + HEADER_BYTES, s.start + HEADER_BYTES + IV_BYTES).toString('hex'),
    );
    expect(new Set(ivs).size).toBe(FIELDS.length);
  });

  it('does not contain any plaintext', () => {
    const sealed = sealFields(newDataKey(), PERSON_A, FIELDS);
    for (const secret of SECRETS) expect(sealed.includes(Buffer.from(secret, 'utf8'))).toBe(false);
  });
});

describe('tampering with a sealed record', () => {
  // Fixed key and IVs: the record, and so every outcome below, is the same on every run.
  const KEY = Buffer.alloc(32, 0x5a);
  const IVS = Buffer.from(Array.from({ length: IV_BYTES * FIELDS.length }, (_, i) => (i * 37 + 11) & 0xff));
  const RECORD = sealFields(KEY, PERSON_A, FIELDS, IVS);
  const SEGMENTS = layout(RECORD);
  const SUBSET = new Map<number, string>([
    [3, 'lastName'],
    [10, 'phone'],
  ]);
  const MASKS = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff];

  it.each([
    ['every field requested', ALL],
    ['a subset requested', SUBSET],
  ])('never returns a wrong value when any single byte is flipped (%s)', (label, wanted) => {
    expect(openFields(KEY, PERSON_A, RECORD, wanted)).toEqual(
      new Map([...wanted.keys()].map((c) => [c, ORIGINAL.get(c)])),
    );
    let failures = 0;
    let returned = 0;
    for (let position = 0; position < RECORD.length; position++) {
      const segment = SEGMENTS.find((s) => position >= s.start && position < s.end);
      for (const mask of MASKS) {
        const tampered = Buffer.from(RECORD);
        tampered[position]! ^= mask;
        let opened: Map<number, string | null>;
        try {
          opened = openFields(KEY, PERSON_A, tampered, wanted);
        } catch (error) {
          expectSafeDecryptionFailure(error);
          failures++;
          continue;
        }
        returned++;
        // Returning at all is only acceptable when the byte lies in the IV, ciphertext or tag of a
        // field that was not requested (its header holds the code that the field list binds).
        const where = `byte ${position} ^ 0x${mask.toString(16)}`;
        expect(segment, where).toBeDefined();
        expect(wanted.has(segment!.code), where).toBe(false);
        expect(position >= segment!.start + 3, where).toBe(true);
        expect(opened, where).toEqual(new Map([...wanted.keys()].map((c) => [c, ORIGINAL.get(c)])));
      }
    }
    expect(failures).toBeGreaterThan(0);
    if (label === 'every field requested') expect(returned).toBe(0);
  });

  it('fails on every truncation, including on a field boundary (fields cannot be dropped)', () => {
    for (let length = 0; length < RECORD.length; length++) {
      expectDecryptionFailure(() => openFields(KEY, PERSON_A, RECORD.subarray(0, length), ALL));
    }
  });

  it('fails on bytes appended after the last field', () => {
    for (const extra of [
      Buffer.from([11]),
      Buffer.from([11, 0]),
      Buffer.from([11, 0, 40]),
      Buffer.alloc(45, 0xee),
    ]) {
      expectDecryptionFailure(() => openFields(KEY, PERSON_A, Buffer.concat([RECORD, extra]), ALL));
    }
  });

  // The record is whole: every field's AAD holds the list of the record's field codes, so a field
  // cannot be made to disappear and pass for "absent" (null).
  it('detects a requested field whose code byte was rewritten to an unused code', () => {
    const tampered = Buffer.from(RECORD);
    tampered[SEGMENTS[0]!.start] = 200; // agencyId moved under a code nobody asks for
    expectDecryptionFailure(() => openFields(KEY, PERSON_A, tampered, ALL));
  });

  it('detects a record cut on a field boundary (fields silently dropped)', () => {
    const truncated = RECORD.subarray(0, SEGMENTS[1]!.end); // drops email and address
    expectDecryptionFailure(() => openFields(KEY, PERSON_A, truncated, ALL));
  });
});

describe('ciphertext swapping (values moved between persons, fields or keys)', () => {
  it('fails to open a record sealed for person A as person B, even with the same data key', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    expectDecryptionFailure(() => openFields(key, PERSON_B, sealed, ALL));
    for (const [code, name] of ALL) {
      if (code === 10) continue; // absent: nothing to decrypt
      expectDecryptionFailure(() => openFields(key, PERSON_B, sealed, new Map([[code, name]])));
    }
  });

  it("fails on a field spliced from person A's record into person B's", () => {
    const key = newDataKey();
    const a = sealFields(key, PERSON_A, [{ code: 3, name: 'lastName', value: 'Martin' }]);
    const b = sealFields(key, PERSON_B, [{ code: 3, name: 'lastName', value: 'Bernard' }]);
    expect(openFields(key, PERSON_B, b, new Map([[3, 'lastName']])).get(3)).toBe('Bernard');
    // B's record now holds A's segment: same key, same code, same field name.
    expectDecryptionFailure(() => openFields(key, PERSON_B, a, new Map([[3, 'lastName']])));
  });

  it("fails when a field's bytes are moved under another field's code", () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, [{ code: 2, name: 'nir', value: '185057800608436' }]);
    const moved = Buffer.from(sealed);
    moved[1] = 3; // the NIR's ciphertext now claims to be the last name
    expectDecryptionFailure(() => openFields(key, PERSON_A, moved, new Map([[3, 'lastName']])));
  });

  it('fails when two fields swap codes', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    const [first, second] = layout(sealed);
    const swapped = Buffer.from(sealed);
    swapped[first!.start] = second!.code;
    swapped[second!.start] = first!.code;
    expectDecryptionFailure(() => openFields(key, PERSON_A, swapped, ALL));
    expectDecryptionFailure(() => openFields(key, PERSON_A, swapped, new Map([[first!.code, 'agencyId']])));
    expectDecryptionFailure(() => openFields(key, PERSON_A, swapped, new Map([[second!.code, 'lastName']])));
  });

  it('binds the field name, not only its code: the right code read under another name fails', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    expectDecryptionFailure(() => openFields(key, PERSON_A, sealed, new Map([[3, 'birthName']])));
  });

  it('fails with a wrong data key, including one that differs by a single bit', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    expectDecryptionFailure(() => openFields(newDataKey(), PERSON_A, sealed, ALL));
    const nearly = Buffer.from(key);
    nearly[31]! ^= 0x01;
    expectDecryptionFailure(() => openFields(nearly, PERSON_A, sealed, ALL));
  });

  it('fails with a data key of the wrong size', () => {
    const sealed = sealFields(newDataKey(), PERSON_A, FIELDS);
    expectDecryptionFailure(() => openFields(Buffer.alloc(16), PERSON_A, sealed, ALL));
  });

  it('refuses an unknown version byte or an empty record', () => {
    const key = newDataKey();
    const sealed = sealFields(key, PERSON_A, FIELDS);
    for (const version of [0, 2, 0x7f, 0xff]) {
      const other = Buffer.from(sealed);
      other[0] = version;
      expectDecryptionFailure(() => openFields(key, PERSON_A, other, ALL));
    }
    expectDecryptionFailure(() => openFields(key, PERSON_A, Buffer.alloc(0), ALL));
  });
});
