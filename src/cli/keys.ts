/** `rempart keys rotate`: a new key-encryption key, every data key re-wrapped under it. */
import type { Config } from '../config.ts';
import { openKeys } from '../crypto/open.ts';
import { addCurrentKek, retireKeks } from '../crypto/rotate.ts';
import { openDb } from '../db/open.ts';
import { kekIdsInUse, rewrapDataKeys } from '../registry/rewrap.ts';
import { progress } from './output.ts';

export interface RotateSummary {
  kekId: string;
  rewrapped: number;
  retired: string[];
  seconds: number;
}

/** Rotates the KEK; with `retire`, removes from the keyring the KEKs that no row uses any more. */
export async function runRotate(
  config: Config,
  options: { retire: boolean; json: boolean },
): Promise<RotateSummary> {
  const started = performance.now();
  const keys = await openKeys(config);
  const db = await openDb(config);
  const bar = progress('re-wrapping', !options.json);
  try {
    const kekId = await addCurrentKek(keys.keyring);
    const rewrapped = await rewrapDataKeys(db, keys.kms, (done, total) => bar.update(done, total));
    const retired = options.retire ? await retireKeks(keys.keyring, await kekIdsInUse(db)) : [];
    return { kekId, rewrapped, retired, seconds: Math.round(performance.now() - started) / 1000 };
  } finally {
    bar.stop();
    await db.close();
  }
}
