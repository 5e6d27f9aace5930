/** KEK rotation: every data key re-wrapped, every field still readable, the old key retired. */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { loadKeyring } from '../src/crypto/keyring.ts';
import { LocalKms } from '../src/crypto/kms.ts';
import { addCurrentKek, retireKeks } from '../src/crypto/rotate.ts';
import { IDENTITY_FIELDS, type Identity } from '../src/registry/person.ts';
import { openIdentity, registryKeys } from '../src/registry/persons.ts';
import { kekIdsInUse, rewrapDataKeys } from '../src/registry/rewrap.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';
import { freshKeys, type TestKeys } from './helpers/keys.ts';

const actor = systemCtx('test').actor;

describe(`key rotation on ${engine}`, () => {
  let t: TestDb;
  let keys: TestKeys;
  beforeAll(async () => {
    [t, keys] = await Promise.all([freshDb(), freshKeys()]);
    await seedPopulation(t.db, keys.registry, { persons: 2300, seed: 9, workers: 0 });
  });
  afterAll(async () => {
    await t.close();
    await keys.cleanup();
  });

  async function identities(registry = keys.registry): Promise<Map<string, Identity>> {
    return t.db.tx(actor, async (tx) => {
      const rows = await tx.query<{ id: string }>('SELECT id FROM persons ORDER BY id LIMIT 200');
      const out = new Map<string, Identity>();
      for (const { id } of rows) out.set(id, (await openIdentity(tx, registry, id, IDENTITY_FIELDS))!);
      return out;
    });
  }

  it('re-wraps every data key under the new KEK; the data reads the same; the old KEK can then be retired', async () => {
    const before = await identities();
    const oldKek = keys.keyring.kek.current;
    const sealedBefore = await t.db.tx(actor, (tx) =>
      tx.query<{ id: string; sealed: Uint8Array }>('SELECT id, sealed FROM persons'),
    );

    const newKek = await addCurrentKek(keys.keyring);
    expect(newKek).not.toBe(oldKek);
    expect(await rewrapDataKeys(t.db, keys.kms)).toBe(2300);
    expect([...(await kekIdsInUse(t.db))]).toEqual([newKek]);
    expect(await rewrapDataKeys(t.db, keys.kms)).toBe(0);

    // The field ciphertexts are untouched: only the wrapped keys changed.
    const sealedAfter = await t.db.tx(actor, (tx) =>
      tx.query<{ id: string; sealed: Uint8Array }>('SELECT id, sealed FROM persons'),
    );
    const byId = new Map(sealedAfter.map((r) => [r.id, Buffer.from(r.sealed).toString('hex')]));
    expect(sealedBefore.every((r) => byId.get(r.id) === Buffer.from(r.sealed).toString('hex'))).toBe(true);

    expect(await retireKeks(keys.keyring, await kekIdsInUse(t.db))).toEqual([oldKek]);
    const reloaded = await loadKeyring(keys.keyring.path);
    expect([...reloaded.kek.keys.keys()]).toEqual([newKek]);
    expect(JSON.parse(await readFile(keys.keyring.path, 'utf8')).kek.current).toBe(newKek);
    const after = await identities(registryKeys(reloaded, new LocalKms(reloaded)));
    expect(after).toEqual(before);
  });
});
