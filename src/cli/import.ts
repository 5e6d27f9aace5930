/** `rempart import FILE.csv`: validated import, all or nothing unless --skip-invalid. */
import path from 'node:path';
import type { Config } from '../config.ts';
import { systemClock } from '../context.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { type ImportSummary, importPersons } from '../registry/import.ts';
import { checkImportPaths } from '../registry/import-files.ts';
import { progress } from './output.ts';

export interface ImportCommandOptions {
  skipInvalid: boolean;
  rejects?: string;
  json: boolean;
}

/** Imports a CSV file of persons into the registry. */
export async function runImport(
  config: Config,
  file: string,
  options: ImportCommandOptions,
): Promise<ImportSummary> {
  // A missing file or rejects folder is told in one line before the keys or database are opened.
  const rejects =
    options.rejects ?? (options.skipInvalid ? `${file.replace(/\.csv$/i, '')}.rejects.csv` : undefined);
  await checkImportPaths(file, rejects);
  const keys = await openKeys(config);
  // Small PGlite buffers if this process opens the folder: they count whole in its peak memory.
  const db = await openDb(config, { compact: true });
  const bar = progress('importing', !options.json);
  try {
    return await importPersons(db, keys.registry, file, {
      skipInvalid: options.skipInvalid,
      ...(options.rejects ? { rejectsPath: options.rejects } : {}),
      // Rejected rows wait here until the import commits; a killed import's are removed next time.
      tempDir: path.join(config.dataDir, 'import-tmp'),
      today: systemClock.now().toISOString().slice(0, 10),
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.stop();
    await db.close();
  }
}
