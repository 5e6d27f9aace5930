/**
 * `rempart import`'s peak memory does not come from the engine's defaults (issue 10 §4; the measure
 * at 1,000,000 rows is `rempart bench import-memory`, docs/BENCHMARKS.md). Run as an operator runs
 * it (bin/rempart.js, a child process), a small file's import peaks far below the 300 MB bound.
 * Without the fix it does not: on PGlite, optimising PGlite's WebAssembly alone peaked at about
 * 900 MB within the first second; on PostgreSQL, V8's default young generation and the modules of
 * the whole command took it above 300 MB by 10,000 rows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeImportFile } from '../bench/import-file.ts';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { upsertOrganisations } from '../src/registry/organisations.ts';
import { cliEnv, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

// Far below 300 MB, far above what the import needs here (about 200 MB on PGlite, 150 MB on PostgreSQL).
const BOUND_MB = 250;

describe(`rempart import's peak memory, on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-import-memory-'));
    server = await emptyServerDatabase();
  });
  afterEach(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it(`stays under ${BOUND_MB} MB, and imports every row`, async () => {
    const vars = { REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url };
    const config = loadConfig(vars);
    await openKeys(config, { create: true });
    const db = await openDb(config);
    try {
      await db.tx(systemCtx('test').actor, (tx) =>
        upsertOrganisations(tx, [
          { code: 'FT-DG', kind: 'national', name: 'France Travail', parentCode: null, department: null },
          { code: 'FT-75056', kind: 'agency', name: 'FT Paris', parentCode: 'FT-DG', department: '75' },
        ]),
      );
    } finally {
      await db.close();
    }
    const rows = engine === 'pglite' ? 2000 : 10_000;
    const file = path.join(dir, 'persons.csv');
    await writeImportFile(file, rows, 'FT-75056');

    const result = await rempart(['import', file, '--json'], cliEnv(vars));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = lastJsonLine(result.stdout) as { imported: number; peakRssMb: number };
    expect(summary.imported).toBe(rows);
    expect(summary.peakRssMb).toBeGreaterThan(50);
    expect(summary.peakRssMb).toBeLessThan(BOUND_MB);
  }, 120_000);
});
