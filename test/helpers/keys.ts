/** Key material for tests: a real keyring file in a temporary folder, and the KMS built on it. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Keys, openKeys } from '../../src/crypto/open.ts';

export interface TestKeys extends Keys {
  dir: string;
  cleanup(): Promise<void>;
}

/** A new keyring in a fresh temporary folder. */
export async function freshKeys(): Promise<TestKeys> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rempart-keys-'));
  const keys = await openKeys({ keyringPath: path.join(dir, 'keyring.json') }, { create: true });
  return { ...keys, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
