/** `rempart seed`: a synthetic population; creates whatever is missing first (keyring, database). */
import { mkdir } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { type SeedSummary, seedPopulation } from '../registry/seed.ts';
import { progress } from './output.ts';

export interface SeedCommandOptions {
  persons: number;
  seed: number;
  asOf?: string;
  workers?: number;
  json: boolean;
}

/** Runs the seed with a progress bar; returns the summary printed by the caller. */
export async function runSeed(config: Config, options: SeedCommandOptions): Promise<SeedSummary> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = await openKeys(config, { create: true });
  const db = await openDb(config);
  const bar = progress('seeding', !options.json);
  try {
    return await seedPopulation(db, keys.registry, {
      persons: options.persons,
      seed: options.seed,
      ...(options.asOf ? { asOf: options.asOf } : {}),
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.stop();
    await db.close();
  }
}
