import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNote, signerFromPkcs8, signNote } from '../audit/checkpoint.ts';
import { AppError } from '../errors.ts';
import {
  addAuditSigningKey,
  createKeyring,
  KEYRING_FORMAT,
  type Keyring,
  type KeyringFile,
  loadKeyring,
  loadOrCreateKeyring,
  newKeyId,
  saveKeyring,
} from './keyring.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rempart-keyring-test-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The permission bits of a path. */
async function modeOf(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

/** The AppError a promise rejects with, or fails the test if it resolves or rejects otherwise. */
async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected the call to fail with an AppError');
}

const base64Key = (fill: number, length = 32): string => Buffer.alloc(length, fill).toString('base64');

/** A valid keyring file content, to be altered by each test. */
function validContent(): KeyringFile {
  return {
    format: KEYRING_FORMAT,
    createdAt: '2024-01-01T00:00:00.000Z',
    kek: { current: 'kek-1', keys: { 'kek-1': base64Key(1) } },
    blindIndex: { current: 'bi-1', keys: { 'bi-1': base64Key(2) } },
  };
}

/** Writes a keyring file with an exact mode (chmod, so the umask does not interfere). */
async function writeKeyringFile(file: string, content: unknown, mode = 0o600): Promise<void> {
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  await chmod(file, mode);
}

function expectSameKeys(a: Keyring, b: Keyring): void {
  expect(a.kek.current).toBe(b.kek.current);
  expect(a.blindIndex.current).toBe(b.blindIndex.current);
  expect([...a.kek.keys.keys()].sort()).toEqual([...b.kek.keys.keys()].sort());
  expect([...a.blindIndex.keys.keys()].sort()).toEqual([...b.blindIndex.keys.keys()].sort());
  for (const [id, key] of a.kek.keys) expect(key.equals(b.kek.keys.get(id)!)).toBe(true);
  for (const [id, key] of a.blindIndex.keys) expect(key.equals(b.blindIndex.keys.get(id)!)).toBe(true);
  expect(a.auditSigning).toEqual(b.auditSigning);
}

describe('newKeyId', () => {
  it('carries the kind and date and a random suffix, so two ids differ', () => {
    const now = new Date('2024-05-06T12:00:00Z');
    const a = newKeyId('kek', now);
    const b = newKeyId('kek', now);
    expect(a).toMatch(/^kek-2024-05-06-[0-9a-f]{8}$/);
    expect(newKeyId('bi', now)).toMatch(/^bi-2024-05-06-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });
});

describe('createKeyring', () => {
  it('writes the file with mode 0600 inside a folder it creates with mode 0700', async () => {
    const folder = path.join(dir, 'data');
    const file = path.join(folder, 'keyring.json');
    await createKeyring(file);
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(folder)).toBe(0o700);
  });

  it('creates missing intermediate folders with mode 0700 too', async () => {
    const outer = path.join(dir, 'a');
    const inner = path.join(outer, 'b');
    const file = path.join(inner, 'keyring.json');
    await createKeyring(file);
    expect(await modeOf(outer)).toBe(0o700);
    expect(await modeOf(inner)).toBe(0o700);
    expect(await modeOf(file)).toBe(0o600);
  });

  it('stores a current KEK and a current blind-index key of 32 bytes each, with ids', async () => {
    const file = path.join(dir, 'keyring.json');
    const now = new Date('2024-03-04T05:06:07.000Z');
    const keyring = await createKeyring(file, now);
    const content = JSON.parse(await readFile(file, 'utf8')) as KeyringFile;

    expect(content.format).toBe(KEYRING_FORMAT);
    expect(content.createdAt).toBe(now.toISOString());
    expect(content.kek.current).toMatch(/^kek-2024-03-04-[0-9a-f]{8}$/);
    expect(content.blindIndex.current).toMatch(/^bi-2024-03-04-[0-9a-f]{8}$/);
    expect(Object.keys(content.kek.keys)).toEqual([content.kek.current]);
    expect(Object.keys(content.blindIndex.keys)).toEqual([content.blindIndex.current]);

    const kek = Buffer.from(content.kek.keys[content.kek.current]!, 'base64');
    const bi = Buffer.from(content.blindIndex.keys[content.blindIndex.current]!, 'base64');
    expect(kek.length).toBe(32);
    expect(bi.length).toBe(32);
    // Two independent random keys: not the same key reused, not all zero.
    expect(kek.equals(bi)).toBe(false);
    expect(kek.equals(Buffer.alloc(32))).toBe(false);
    expect(bi.equals(Buffer.alloc(32))).toBe(false);

    // The returned keyring holds exactly what was written.
    expect(keyring.path).toBe(file);
    expect(keyring.kek.current).toBe(content.kek.current);
    expect(keyring.blindIndex.current).toBe(content.blindIndex.current);
    expect(keyring.kek.keys.get(content.kek.current)!.equals(kek)).toBe(true);
    expect(keyring.blindIndex.keys.get(content.blindIndex.current)!.equals(bi)).toBe(true);
  });

  it('holds an Ed25519 checkpoint signing key named after a random log origin', async () => {
    const file = path.join(dir, 'keyring.json');
    const now = new Date('2024-03-04T05:06:07.000Z');
    const keyring = await createKeyring(file, now);
    const content = JSON.parse(await readFile(file, 'utf8')) as KeyringFile;
    expect(content.auditSigning).toEqual(keyring.auditSigning);
    expect(content.auditSigning!.name).toMatch(/^rempart\/audit\/[0-9a-f]{8}$/);
    expect(content.auditSigning!.createdAt).toBe(now.toISOString());
    const signer = signerFromPkcs8(content.auditSigning!.name, content.auditSigning!.pkcs8);
    const note = signNote('origin\n1\nAAAA\n', [signer]);
    expect(openNote(note, [signer.verifierKey]).verifiedBy).toEqual([content.auditSigning!.name]);
  });

  it('draws fresh keys and ids for every keyring', async () => {
    const a = await createKeyring(path.join(dir, 'a.json'));
    const b = await createKeyring(path.join(dir, 'b.json'));
    expect(a.kek.current).not.toBe(b.kek.current);
    expect(a.blindIndex.current).not.toBe(b.blindIndex.current);
    expect(a.kek.keys.get(a.kek.current)!.equals(b.kek.keys.get(b.kek.current)!)).toBe(false);
    expect(a.auditSigning!.name).not.toBe(b.auditSigning!.name);
    expect(a.auditSigning!.pkcs8).not.toBe(b.auditSigning!.pkcs8);
    expect(
      a.blindIndex.keys.get(a.blindIndex.current)!.equals(b.blindIndex.keys.get(b.blindIndex.current)!),
    ).toBe(false);
  });

  it('refuses to overwrite an existing keyring and leaves it byte-for-byte unchanged', async () => {
    const file = path.join(dir, 'keyring.json');
    const first = await createKeyring(file);
    const before = await readFile(file);

    const error = await appErrorOf(createKeyring(file));
    expect(error.code).toBe('keyring_exists');

    expect((await readFile(file)).equals(before)).toBe(true);
    expect(await modeOf(file)).toBe(0o600);
    expectSameKeys(await loadKeyring(file), first);
  });

  it('refuses to overwrite any existing file at the path, whatever it holds', async () => {
    const file = path.join(dir, 'keyring.json');
    const before = Buffer.from('not a keyring, but not ours to destroy\n');
    await writeFile(file, before);
    await chmod(file, 0o644);

    const error = await appErrorOf(createKeyring(file));
    expect(error.code).toBe('keyring_exists');
    expect((await readFile(file)).equals(before)).toBe(true);
    expect(await modeOf(file)).toBe(0o644);
  });
});

describe('loadKeyring', () => {
  it('round-trips a created keyring', async () => {
    const file = path.join(dir, 'keyring.json');
    const created = await createKeyring(file);
    const loaded = await loadKeyring(file);
    expect(loaded.path).toBe(file);
    expectSameKeys(loaded, created);
  });

  it('accepts a file only its owner can read (0600, 0400)', async () => {
    const file = path.join(dir, 'keyring.json');
    await writeKeyringFile(file, validContent(), 0o400);
    const keyring = await loadKeyring(file);
    expect(keyring.kek.keys.get('kek-1')!.equals(Buffer.alloc(32, 1))).toBe(true);
    expect(keyring.blindIndex.keys.get('bi-1')!.equals(Buffer.alloc(32, 2))).toBe(true);
  });

  it.each([
    ['group-readable', 0o640],
    ['world-readable', 0o604],
    ['group- and world-readable', 0o644],
    ['group-writable', 0o620],
    ['world-writable', 0o602],
    ['group-executable', 0o610],
  ])('refuses a %s file (%o) with keyring_invalid and a chmod 600 hint', async (_label, mode) => {
    const file = path.join(dir, 'keyring.json');
    await createKeyring(file);
    await chmod(file, mode);
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    expect(error.message).toContain('chmod 600');
  });

  it('refuses a missing file with keyring_missing', async () => {
    const error = await appErrorOf(loadKeyring(path.join(dir, 'nothing-here.json')));
    expect(error.code).toBe('keyring_missing');
  });

  it('refuses invalid JSON', async () => {
    const file = path.join(dir, 'keyring.json');
    await writeKeyringFile(file, '{"format": "rempart-keyring/1", "kek": ');
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
  });

  it.each([
    ['another version', 'rempart-keyring/2'],
    ['another product', 'other-keyring/1'],
    ['no format', undefined],
  ])('refuses an unknown format (%s)', async (_label, format) => {
    const file = path.join(dir, 'keyring.json');
    await writeKeyringFile(file, { ...validContent(), format });
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    expect(error.message).toContain('format');
  });

  it.each([
    ['a 128-bit KEK', 'kek', 16],
    ['a 255-bit-ish (31-byte) KEK', 'kek', 31],
    ['a 264-bit (33-byte) KEK', 'kek', 33],
    ['an empty KEK', 'kek', 0],
    ['a 128-bit blind-index key', 'blindIndex', 16],
    ['a 512-bit blind-index key', 'blindIndex', 64],
  ] as const)('refuses %s (keys must be 256 bits)', async (_label, set, length) => {
    const file = path.join(dir, 'keyring.json');
    const content = validContent();
    const bad = base64Key(9, length);
    // The bad key is an extra one, not the current one: every key is checked.
    content[set].keys['extra-key'] = bad;
    await writeKeyringFile(file, content);
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    expect(error.message).toContain('256 bits');
    expect(error.message).toContain('extra-key');
    // The message names the key, never its material.
    if (bad.length > 0) expect(error.message).not.toContain(bad);
  });

  it.each([
    ['KEK', 'kek'],
    ['blind-index', 'blindIndex'],
  ] as const)('refuses a current %s id that has no key', async (_label, set) => {
    const file = path.join(dir, 'keyring.json');
    const content = validContent();
    content[set].current = 'retired-key';
    await writeKeyringFile(file, content);
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    expect(error.message).toContain('current');
  });

  it.each([
    ['KEK', 'kek'],
    ['blind-index', 'blindIndex'],
  ] as const)('refuses a keyring without a %s key set', async (_label, set) => {
    const file = path.join(dir, 'keyring.json');
    const content: Partial<KeyringFile> = validContent();
    delete content[set];
    await writeKeyringFile(file, content);
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
  });

  it.each([
    ['null', null],
    ['a number', 42],
    ['a key that is a number', { ...validContent(), kek: { current: 'k', keys: { k: 12345 } } }],
    [
      'a key with stray characters',
      { ...validContent(), kek: { current: 'k', keys: { k: `${base64Key(1)}!!` } } },
    ],
  ])('refuses a file holding %s with keyring_invalid, not a crash', async (_label, content) => {
    const file = path.join(dir, 'keyring.json');
    await writeKeyringFile(file, content);
    expect((await appErrorOf(loadKeyring(file))).code).toBe('keyring_invalid');
  });

  it('refuses a keyring whose folder others may write to (they could swap the keyring)', async () => {
    const folder = path.join(dir, 'shared');
    await mkdir(folder, { mode: 0o700 });
    const file = path.join(folder, 'keyring.json');
    await writeKeyringFile(file, validContent());
    await expect(loadKeyring(file)).resolves.toBeDefined();
    await chmod(folder, 0o777);
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    expect(error.message).toContain('chmod 700');
  });

  it('never puts key material in its errors', async () => {
    const file = path.join(dir, 'keyring.json');
    const content = validContent();
    content.kek.current = 'missing';
    await writeKeyringFile(file, content);
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    const text = `${error.message} ${JSON.stringify(error)}`;
    expect(text).not.toContain(content.kek.keys['kek-1']!);
    expect(text).not.toContain(content.blindIndex.keys['bi-1']!);
  });
});

describe('the audit signing key of a keyring written before the audit log', () => {
  it('loads without one, then addAuditSigningKey adds it, saves it 0600 and keeps every other key', async () => {
    const file = path.join(dir, 'keyring.json');
    await writeKeyringFile(file, validContent());
    const old = await loadKeyring(file);
    expect(old.auditSigning).toBeUndefined();

    const added = await addAuditSigningKey(old, new Date('2025-02-03T00:00:00.000Z'));
    expect(added.name).toMatch(/^rempart\/audit\/[0-9a-f]{8}$/);
    expect(old.auditSigning).toEqual(added);
    expect(await modeOf(file)).toBe(0o600);
    const content = JSON.parse(await readFile(file, 'utf8')) as KeyringFile;
    expect(content.auditSigning).toEqual(added);
    expect(content.createdAt).toBe(validContent().createdAt);
    expect(content.kek).toEqual(validContent().kek);
    expect(content.blindIndex).toEqual(validContent().blindIndex);
    expect(await readdir(dir)).toEqual(['keyring.json']);

    // Once there, it is the key: never replaced.
    const reloaded = await loadKeyring(file);
    expect(await addAuditSigningKey(reloaded)).toEqual(added);
    expect((JSON.parse(await readFile(file, 'utf8')) as KeyringFile).auditSigning).toEqual(added);
  });

  it('two processes upgrading the same keyring at once end up with one key', async () => {
    const file = path.join(dir, 'keyring.json');
    await writeKeyringFile(file, validContent());
    const [a, b] = await Promise.all([loadKeyring(file), loadKeyring(file)]);
    const [ka, kb] = await Promise.all([addAuditSigningKey(a!), addAuditSigningKey(b!)]);
    expect(ka).toEqual(kb);
    expect((await loadKeyring(file)).auditSigning).toEqual(ka);
  });

  it('survives a KEK rotation (saveKeyring keeps it)', async () => {
    const file = path.join(dir, 'keyring.json');
    const keyring = await createKeyring(file);
    const signing = keyring.auditSigning;
    keyring.kek.keys.set('kek-2', Buffer.alloc(32, 7));
    keyring.kek.current = 'kek-2';
    await saveKeyring(keyring, keyring.createdAt);
    expect((await loadKeyring(file)).auditSigning).toEqual(signing);
  });

  it.each([
    ['a name with a space', { name: 'rempart audit', pkcs8: 'x', createdAt: '2024-01-01' }],
    ['a name with a plus', { name: 'rempart+audit', pkcs8: 'x', createdAt: '2024-01-01' }],
    [
      'a key that is not PKCS#8',
      { name: 'rempart/audit/00000000', pkcs8: base64Key(1), createdAt: '2024-01-01' },
    ],
    ['a string', 'rempart/audit/00000000'],
  ])('refuses a keyring whose audit signing key is malformed: %s', async (_label, auditSigning) => {
    const file = path.join(dir, 'keyring.json');
    await writeKeyringFile(file, { ...validContent(), auditSigning });
    const error = await appErrorOf(loadKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    expect(error.message).toContain('audit signing key');
  });

  it.skipIf(process.getuid?.() === 0)(
    'refuses, with keyring_invalid, to invent a key it cannot save (read-only folder)',
    async () => {
      const folder = path.join(dir, 'ro');
      await mkdir(folder, { mode: 0o700 });
      const file = path.join(folder, 'keyring.json');
      await writeKeyringFile(file, validContent());
      const keyring = await loadKeyring(file);
      await chmod(folder, 0o500);
      try {
        const error = await appErrorOf(addAuditSigningKey(keyring));
        expect(error.code).toBe('keyring_invalid');
        expect(keyring.auditSigning).toBeUndefined();
      } finally {
        await chmod(folder, 0o700);
      }
    },
  );
});

describe('loadOrCreateKeyring', () => {
  it('creates the keyring once, then loads the same keys without rewriting it', async () => {
    const file = path.join(dir, 'data', 'keyring.json');
    const first = await loadOrCreateKeyring(file);
    expect(first.created).toBe(true);
    expect(await modeOf(file)).toBe(0o600);
    const bytes = await readFile(file);

    const second = await loadOrCreateKeyring(file);
    expect(second.created).toBe(false);
    expectSameKeys(second.keyring, first.keyring);
    expect((await readFile(file)).equals(bytes)).toBe(true);
  });

  it('does not replace a keyring it refuses to load (wrong mode): it fails and leaves it as is', async () => {
    const file = path.join(dir, 'keyring.json');
    await createKeyring(file);
    await chmod(file, 0o644);
    const bytes = await readFile(file);

    const error = await appErrorOf(loadOrCreateKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    expect((await readFile(file)).equals(bytes)).toBe(true);
    expect(await modeOf(file)).toBe(0o644);
  });

  it('does not replace a corrupt keyring: it fails and leaves it as is', async () => {
    const file = path.join(dir, 'keyring.json');
    await writeKeyringFile(file, '{ corrupt');
    const error = await appErrorOf(loadOrCreateKeyring(file));
    expect(error.code).toBe('keyring_invalid');
    expect(await readFile(file, 'utf8')).toBe('{ corrupt');
  });
});

describe('saveKeyring (rotation)', () => {
  it('keeps mode 0600 and round-trips added keys and the new current ids', async () => {
    const file = path.join(dir, 'keyring.json');
    const createdAt = '2024-01-01T00:00:00.000Z';
    const keyring = await createKeyring(file, new Date(createdAt));
    const oldKek = keyring.kek.current;
    const oldBi = keyring.blindIndex.current;

    const newKek = newKeyId('kek');
    const newBi = newKeyId('bi');
    keyring.kek.keys.set(newKek, Buffer.alloc(32, 0xa1));
    keyring.kek.current = newKek;
    keyring.blindIndex.keys.set(newBi, Buffer.alloc(32, 0xb2));
    keyring.blindIndex.current = newBi;
    await saveKeyring(keyring, createdAt);

    expect(await modeOf(file)).toBe(0o600);
    const loaded = await loadKeyring(file);
    expectSameKeys(loaded, keyring);
    expect(loaded.kek.current).toBe(newKek);
    expect(loaded.blindIndex.current).toBe(newBi);
    // The old keys stay, so data wrapped or indexed under them is still readable.
    expect(loaded.kek.keys.has(oldKek)).toBe(true);
    expect(loaded.blindIndex.keys.has(oldBi)).toBe(true);
    expect(loaded.kek.keys.get(newKek)!.equals(Buffer.alloc(32, 0xa1))).toBe(true);

    const content = JSON.parse(await readFile(file, 'utf8')) as KeyringFile;
    expect(content.format).toBe(KEYRING_FORMAT);
    expect(content.createdAt).toBe(createdAt);
  });

  it('leaves no temporary copy of the keys behind', async () => {
    const folder = path.join(dir, 'data');
    await mkdir(folder);
    const file = path.join(folder, 'keyring.json');
    const keyring = await createKeyring(file);
    keyring.kek.keys.set('kek-extra', Buffer.alloc(32, 3));
    await saveKeyring(keyring, '2024-01-01T00:00:00.000Z');
    await saveKeyring(keyring, '2024-01-01T00:00:00.000Z');
    expect(await readdir(folder)).toEqual(['keyring.json']);
  });
});
