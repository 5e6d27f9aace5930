/** `rempart reindex`: the name + birth date indexes of rows written under an older name key (migration 0029). */
import type { Config } from '../config.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { type ReindexResult, reindexNameKeys } from '../registry/reindex.ts';
import { progress } from './output.ts';

export interface ReindexSummary extends ReindexResult {
  /** True when no row was at an older version: the run wrote nothing. */
  upToDate: boolean;
  seconds: number;
  personsPerSecond: number;
}

/** Reindexes what is left to reindex; counts only, never a name. */
export async function runReindex(
  config: Config,
  options: { json: boolean; concurrency?: number },
): Promise<ReindexSummary> {
  const started = performance.now();
  const keys = await openKeys(config);
  const db = await openDb(config);
  const bar = progress('reindexing', !options.json);
  try {
    const result = await reindexNameKeys(db, keys.registry, {
      ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
      onProgress: (done, total) => bar.update(done, total),
    });
    const seconds = Math.round(performance.now() - started) / 1000;
    const done = result.persons + result.archived;
    return {
      ...result,
      upToDate: result.pending === 0,
      seconds,
      personsPerSecond: seconds > 0 ? Math.round(done / seconds) : 0,
    };
  } finally {
    bar.stop();
    await db.close();
  }
}
