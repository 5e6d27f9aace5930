/**
 * `rempart trace FILE --json` and `rempart bench export` as an operator runs them, on an initialised data folder: a file with no
 * identifying column is refused naming the field, a file whose NIRs are on no export names none.
 * (Tracing among exports is test/exports-trace.test.ts, through the same `traceLeak`.)
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNir } from '../src/registry/nir.ts';
import { cliEnv, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

describe(`rempart trace on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-trace-cli-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url });
    await initDataDir(env);
  }, 180_000);
  afterAll(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('names no export for NIRs on none, and refuses a file with nothing identifying, naming the field', async () => {
    const nir = buildNir({
      sex: '1',
      birthYear: 1985,
      birthMonth: 5,
      department: '75',
      commune: '056',
      order: 42,
    });
    const file = path.join(dir, 'leak.csv');
    await writeFile(file, `colonne\n${nir}\n`);
    const traced = await rempart(['trace', file, '--json'], env);
    expect(traced.code, traced.stderr).toBe(0);
    expect(lastJsonLine(traced.stdout)).toMatchObject({
      rows: 1,
      columns: { nir: 0, agencyId: null, nameBirth: null },
      matchedPersons: 0,
      canaryRows: 0,
      exportId: null,
      candidates: [],
      incidentId: null,
    });
    expect(traced.stdout + traced.stderr).not.toContain(nir);

    const bad = path.join(dir, 'bad.csv');
    await writeFile(bad, 'a,b\nfoo,bar\n');
    const refused = await rempart(['trace', bad, '--json'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('csv');
  });

  it('`rempart bench export --rows N --json` exports every row and reports its figures', async () => {
    const result = await rempart(['bench', 'export', '--rows', '300', '--json'], env, 300_000);
    expect(result.code, result.stderr).toBe(0);
    const summary = lastJsonLine(result.stdout);
    expect(summary).toMatchObject({ bench: 'export', engine, rows: 300, csvRows: 303 });
    for (const key of [
      'seedSeconds',
      'produceSeconds',
      'rowsPerSecond',
      'fileBytes',
      'downloadSeconds',
      'decryptSeconds',
    ])
      expect(summary[key], key).toEqual(expect.any(Number));
  }, 300_000);
});
