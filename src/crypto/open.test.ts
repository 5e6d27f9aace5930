import { randomBytes } from 'node:crypto';
import { access, chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openNote, signNote } from '../audit/checkpoint.ts';
import { AppError } from '../errors.ts';
import { blindIndexKeys } from './blind-index.ts';
import { KEYRING_FORMAT, loadKeyring } from './keyring.ts';
import { openKeys } from './open.ts';

let dir: string;
let keyringPath: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rempart-open-test-'));
  keyringPath = path.join(dir, 'data', 'keyring.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error('expected openKeys to fail');
}

describe('openKeys', () => {
  it('creates the keyring when asked, then loads the same keys on the next call', async () => {
    const first = await openKeys({ keyringPath }, { create: true });
    expect(first.created).toBe(true);
    expect((await stat(keyringPath)).mode & 0o777).toBe(0o600);
    const bytes = await readFile(keyringPath);

    const second = await openKeys({ keyringPath }, { create: true });
    expect(second.created).toBe(false);
    expect((await readFile(keyringPath)).equals(bytes)).toBe(true);

    const onDisk = await loadKeyring(keyringPath);
    expect(second.registry.blindIndexKeyId).toBe(onDisk.blindIndex.current);
    expect(first.registry.blindIndexKeyId).toBe(onDisk.blindIndex.current);
    expect(second.kms.currentKekId()).toBe(onDisk.kek.current);

    // The registry's blind-index sub-keys derive from the keyring's current blind-index key.
    const expected = blindIndexKeys(onDisk.blindIndex.keys.get(onDisk.blindIndex.current)!);
    expect(second.registry.blindIndex.nir.equals(expected.nir)).toBe(true);
    expect(second.registry.allBlindIndexes[0]!.nir.equals(expected.nir)).toBe(true);

    // Same KEKs: a data key wrapped by the first opening unwraps with the second.
    const dataKey = randomBytes(32);
    const [wrapped] = await first.kms.wrapKeys([{ personId: 'p-1', dataKey }]);
    expect((await second.registry.kms.unwrapKey('p-1', wrapped!)).equals(dataKey)).toBe(true);
  });

  it('exposes the checkpoint signer of the keyring, the same at every opening', async () => {
    const first = await openKeys({ keyringPath }, { create: true });
    const second = await openKeys({ keyringPath });
    const onDisk = await loadKeyring(keyringPath);
    expect(first.checkpointSigner.name).toBe(onDisk.auditSigning!.name);
    expect(second.checkpointSigner.verifierKey).toBe(first.checkpointSigner.verifierKey);
    const note = signNote('rempart/audit/x\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', [
      first.checkpointSigner,
    ]);
    expect(openNote(note, [second.checkpointSigner.verifierKey]).verifiedBy).toEqual([
      first.checkpointSigner.name,
    ]);
  });

  it('adds a checkpoint signing key to a keyring written before the audit log, and saves it (0600)', async () => {
    await openKeys({ keyringPath }, { create: true });
    const content = JSON.parse(await readFile(keyringPath, 'utf8')) as Record<string, unknown>;
    expect(content.format).toBe(KEYRING_FORMAT);
    delete content.auditSigning;
    await writeFile(keyringPath, JSON.stringify(content));
    await chmod(keyringPath, 0o600);

    const upgraded = await openKeys({ keyringPath });
    expect(upgraded.checkpointSigner.name).toMatch(/^rempart\/audit\/[0-9a-f]{8}$/);
    expect((await stat(keyringPath)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(keyringPath, 'utf8')) as { auditSigning: { name: string } };
    expect(saved.auditSigning.name).toBe(upgraded.checkpointSigner.name);
    expect((await openKeys({ keyringPath })).checkpointSigner.verifierKey).toBe(
      upgraded.checkpointSigner.verifierKey,
    );
  });

  it('loads an existing keyring without create', async () => {
    const created = await openKeys({ keyringPath }, { create: true });
    const loaded = await openKeys({ keyringPath });
    expect(loaded.created).toBe(false);
    expect(loaded.registry.blindIndexKeyId).toBe(created.registry.blindIndexKeyId);
    expect(loaded.kms.currentKekId()).toBe(created.kms.currentKekId());
  });

  it('without create, fails with keyring_missing on a missing path and creates nothing', async () => {
    const error = await rejection(openKeys({ keyringPath }));
    expect(error.code).toBe('keyring_missing');
    await expect(access(keyringPath)).rejects.toThrow();
    const explicit = await rejection(openKeys({ keyringPath }, { create: false }));
    expect(explicit.code).toBe('keyring_missing');
    await expect(access(keyringPath)).rejects.toThrow();
  });

  it('with create, refuses (and keeps) a keyring that others can read instead of replacing it', async () => {
    await openKeys({ keyringPath }, { create: true });
    await chmod(keyringPath, 0o644);
    const bytes = await readFile(keyringPath);
    const error = await rejection(openKeys({ keyringPath }, { create: true }));
    expect(error.code).toBe('keyring_invalid');
    expect((await readFile(keyringPath)).equals(bytes)).toBe(true);
  });
});
