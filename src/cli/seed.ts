/** `rempart seed`: a synthetic population; creates whatever is missing first (keyring, database). */
import { mkdir } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { defaultCanaryCount, plantCanaries } from '../guard/canaries.ts';
import { type SeedSummary, seedPopulation } from '../registry/seed.ts';
import { progress } from './output.ts';

export interface SeedCommandOptions {
  persons: number;
  seed: number;
  asOf?: string;
  workers?: number;
  /** Canary persons to plant (default: defaultCanaryCount of the persons seeded). */
  canaries?: number;
  json: boolean;
}

/** Runs the seed with a progress bar; returns the summary printed by the caller. */
export async function runSeed(
  config: Config,
  options: SeedCommandOptions,
): Promise<SeedSummary & { canaries: number }> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const keys = await openKeys(config, { create: true });
  const db = await openDb(config);
  const bar = progress('seeding', !options.json);
  try {
    // Canaries: persons of this population in no caseload, known to the guard only; planted in the
    // transaction that completes the run, so a resumed run plants them once (src/registry/seed.ts).
    const wanted = options.canaries ?? defaultCanaryCount(options.persons);
    let canaries = 0;
    const summary = await seedPopulation(db, keys.registry, {
      persons: options.persons,
      seed: options.seed,
      ...(options.asOf ? { asOf: options.asOf } : {}),
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      onProgress: (done, total) => bar.update(done, total),
      finish: async (tx) => {
        canaries = await plantCanaries(tx, wanted, options.seed, new Date());
        return canaries;
      },
    });
    return { ...summary, canaries };
  } finally {
    bar.stop();
    await db.close();
  }
}
