/** `rempart init`: the data folder, a new keyring (never overwritten) and the database schema. */
import { mkdir } from 'node:fs/promises';
import { type Config, describeDatabase } from '../config.ts';
import { createKeyring } from '../crypto/keyring.ts';
import { openDb } from '../db/open.ts';

export interface InitSummary {
  dataDir: string;
  keyring: string;
  database: string;
}

/** Creates the data folder (0700) and the keyring (0600), then applies the migrations. */
export async function runInit(config: Config): Promise<InitSummary> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  await createKeyring(config.keyringPath);
  const db = await openDb(config);
  await db.close();
  return { dataDir: config.dataDir, keyring: config.keyringPath, database: describeDatabase(config) };
}
