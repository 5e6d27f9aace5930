import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import type { Keyring } from './keyring.ts';
import { LocalKms, type WrappedKey } from './kms.ts';

const IV_BYTES = 12;
const TAG_BYTES = 16;

const PERSON_A = '0b6f3c1e-6a52-4f0e-9a51-1c2d3e4f5a6b';
const PERSON_B = '7c1d2e3f-8a9b-4c0d-8e1f-2a3b4c5d6e7f';

/** A keyring object built in memory, with the given KEKs; the first id is current. */
function keyringWith(...kekIds: string[]): Keyring {
  return {
    path: '/nonexistent/keyring.json',
    createdAt: '2024-01-01T00:00:00.000Z',
    kek: { current: kekIds[0]!, keys: new Map(kekIds.map((id) => [id, randomBytes(32)])) },
    blindIndex: { current: 'bi-1', keys: new Map([['bi-1', randomBytes(32)]]) },
    auditSigning: undefined,
    noticeSigning: undefined,
  };
}

/** Asserts that a promise rejects with decryption_failed, and that the error carries no key. */
async function expectUnwrapFailure(promise: Promise<Buffer>, secret: Buffer): Promise<AppError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AppError);
  const error = caught as AppError;
  expect(error.code).toBe('decryption_failed');
  const text = `${error.message} ${JSON.stringify(error)}`;
  expect(text).not.toContain(secret.toString('hex'));
  expect(text).not.toContain(secret.toString('base64'));
  return error;
}

describe('LocalKms', () => {
  it('wraps and unwraps a batch of 100 data keys, each bound to its person', async () => {
    const kms = new LocalKms(keyringWith('kek-1'));
    const items = Array.from({ length: 100 }, (_, i) => ({
      personId: `person-${i}`,
      dataKey: randomBytes(32),
    }));
    const wrapped = await kms.wrapKeys(items);
    expect(wrapped).toHaveLength(100);
    for (const [i, item] of items.entries()) {
      const w = wrapped[i]!;
      expect(w.kekId).toBe('kek-1');
      expect(w.wrapped.length).toBe(IV_BYTES + 32 + TAG_BYTES);
      const unwrapped = await kms.unwrapKey(item.personId, w);
      expect(unwrapped.equals(item.dataKey)).toBe(true);
    }
    // Every wrap has its own IV.
    const ivs = new Set(wrapped.map((w) => w.wrapped.subarray(0, IV_BYTES).toString('hex')));
    expect(ivs.size).toBe(100);
  });

  it('the synchronous variants agree with the asynchronous ones', async () => {
    const kms = new LocalKms(keyringWith('kek-1'));
    const dataKey = randomBytes(32);
    const [syncWrapped] = kms.wrapKeysSync([{ personId: PERSON_A, dataKey }]);
    expect((await kms.unwrapKey(PERSON_A, syncWrapped!)).equals(dataKey)).toBe(true);
    const [asyncWrapped] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
    expect(kms.unwrapKeySync(PERSON_A, asyncWrapped!).equals(dataKey)).toBe(true);
  });

  it('never outputs the key: the wrapped bytes differ from it, and two wraps of one key differ', async () => {
    const kms = new LocalKms(keyringWith('kek-1'));
    const dataKey = randomBytes(32);
    const [first, second] = await kms.wrapKeys([
      { personId: PERSON_A, dataKey },
      { personId: PERSON_A, dataKey },
    ]);
    for (const w of [first!, second!]) {
      expect(w.wrapped.includes(dataKey)).toBe(false);
      expect(w.wrapped.subarray(IV_BYTES, IV_BYTES + 32).equals(dataKey)).toBe(false);
    }
    expect(first!.wrapped.equals(second!.wrapped)).toBe(false);
    // Also across separate calls.
    const [third] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
    expect(third!.wrapped.equals(first!.wrapped)).toBe(false);
    expect((await kms.unwrapKey(PERSON_A, first!)).equals(dataKey)).toBe(true);
    expect((await kms.unwrapKey(PERSON_A, second!)).equals(dataKey)).toBe(true);
  });

  it("fails to unwrap a person's key under another person's id", async () => {
    const kms = new LocalKms(keyringWith('kek-1'));
    const dataKey = randomBytes(32);
    const [wrapped] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
    expect((await kms.unwrapKey(PERSON_A, wrapped!)).equals(dataKey)).toBe(true);
    await expectUnwrapFailure(kms.unwrapKey(PERSON_B, wrapped!), dataKey);
    await expectUnwrapFailure(kms.unwrapKey(`${PERSON_A} `, wrapped!), dataKey);
  });

  it('fails on an unknown KEK id, naming the id but not any key', async () => {
    const keyring = keyringWith('kek-1');
    const kms = new LocalKms(keyring);
    const dataKey = randomBytes(32);
    const [wrapped] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
    const error = await expectUnwrapFailure(
      kms.unwrapKey(PERSON_A, { kekId: 'kek-retired', wrapped: wrapped!.wrapped }),
      dataKey,
    );
    expect(error.message).toContain('kek-retired');
    expect(error.message).not.toContain(keyring.kek.keys.get('kek-1')!.toString('base64'));
  });

  it('fails when another KEK of the same keyring is named (the id is not a free label)', async () => {
    const kms = new LocalKms(keyringWith('kek-1', 'kek-2'));
    const dataKey = randomBytes(32);
    const [wrapped] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
    expect(wrapped!.kekId).toBe('kek-1');
    await expectUnwrapFailure(
      kms.unwrapKey(PERSON_A, { kekId: 'kek-2', wrapped: wrapped!.wrapped }),
      dataKey,
    );
  });

  it('fails when a KMS with other KEKs (another installation) unwraps', async () => {
    const dataKey = randomBytes(32);
    const [wrapped] = await new LocalKms(keyringWith('kek-1')).wrapKeys([{ personId: PERSON_A, dataKey }]);
    await expectUnwrapFailure(new LocalKms(keyringWith('kek-1')).unwrapKey(PERSON_A, wrapped!), dataKey);
  });

  it('fails when any single byte of the wrapped key is altered', async () => {
    const kms = new LocalKms(keyringWith('kek-1'));
    const dataKey = randomBytes(32);
    const [wrapped] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
    for (let position = 0; position < wrapped!.wrapped.length; position++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const altered = Buffer.from(wrapped!.wrapped);
        altered[position]! ^= mask;
        await expectUnwrapFailure(kms.unwrapKey(PERSON_A, { kekId: 'kek-1', wrapped: altered }), dataKey);
      }
    }
  });

  it('fails on a truncated, extended or empty wrapped key', async () => {
    const kms = new LocalKms(keyringWith('kek-1'));
    const dataKey = randomBytes(32);
    const [wrapped] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
    const bytes = wrapped!.wrapped;
    for (let length = 0; length < bytes.length; length++) {
      await expectUnwrapFailure(
        kms.unwrapKey(PERSON_A, { kekId: 'kek-1', wrapped: bytes.subarray(0, length) }),
        dataKey,
      );
    }
    for (const extra of [Buffer.from([0]), randomBytes(16)]) {
      await expectUnwrapFailure(
        kms.unwrapKey(PERSON_A, { kekId: 'kek-1', wrapped: Buffer.concat([bytes, extra]) }),
        dataKey,
      );
    }
  });

  describe('rotation', () => {
    it('keeps unwrapping keys wrapped under the old KEK after the current one changes', async () => {
      const keyring = keyringWith('kek-old');
      const kms = new LocalKms(keyring);
      expect(kms.currentKekId()).toBe('kek-old');
      const oldItems = Array.from({ length: 10 }, (_, i) => ({
        personId: `p-${i}`,
        dataKey: randomBytes(32),
      }));
      const oldWrapped = await kms.wrapKeys(oldItems);
      expect(oldWrapped.every((w) => w.kekId === 'kek-old')).toBe(true);

      // Rotate: a new KEK becomes current; the old one stays for unwrapping.
      keyring.kek.keys.set('kek-new', randomBytes(32));
      keyring.kek.current = 'kek-new';
      expect(kms.currentKekId()).toBe('kek-new');

      for (const [i, item] of oldItems.entries()) {
        expect((await kms.unwrapKey(item.personId, oldWrapped[i]!)).equals(item.dataKey)).toBe(true);
      }

      const dataKey = randomBytes(32);
      const [fresh] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
      expect(fresh!.kekId).toBe('kek-new');
      expect((await kms.unwrapKey(PERSON_A, fresh!)).equals(dataKey)).toBe(true);
      // The new wrap really is under the new KEK: relabelled as the old one, it does not unwrap.
      await expectUnwrapFailure(
        kms.unwrapKey(PERSON_A, { kekId: 'kek-old', wrapped: fresh!.wrapped }),
        dataKey,
      );
      // And an old wrap relabelled as the new KEK does not unwrap either.
      await expectUnwrapFailure(
        kms.unwrapKey(oldItems[0]!.personId, { kekId: 'kek-new', wrapped: oldWrapped[0]!.wrapped }),
        oldItems[0]!.dataKey,
      );
    });

    it('cannot unwrap old keys once the old KEK is retired', async () => {
      const keyring = keyringWith('kek-old');
      const kms = new LocalKms(keyring);
      const dataKey = randomBytes(32);
      const [wrapped] = await kms.wrapKeys([{ personId: PERSON_A, dataKey }]);
      keyring.kek.keys.set('kek-new', randomBytes(32));
      keyring.kek.current = 'kek-new';
      keyring.kek.keys.delete('kek-old');
      await expectUnwrapFailure(kms.unwrapKey(PERSON_A, wrapped! satisfies WrappedKey), dataKey);
    });
  });
});
