/**
 * `rempart seed` and `rempart import` when things go wrong, as an operator meets it (child
 * processes, PGlite or the PostgreSQL server under test): a seed killed midway and run again
 * completes one population (no duplicates, canaries once); an import of a missing file, a folder
 * or into a missing folder says so in one line with exit 1; a killed --skip-invalid import leaves
 * its temporary rejects (personal data) only until the next import; a control character in an
 * option is refused naming it.
 */
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeImportFile } from '../bench/import-file.ts';
import { systemCtx } from '../src/context.ts';
import { openDb } from '../src/db/open.ts';
import { defaultCanaryCount } from '../src/guard/canaries.ts';
import { cliEnv, initDataDir, lastJsonLine, rempart, startRempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

describe(`rempart seed and import under failure, on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-cli-input-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url });
  });
  afterEach(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs SQL as the system actor on the command's database (the command must have exited). */
  async function query<R>(sql: string): Promise<R[]> {
    const db = await openDb({ dataDir: path.join(dir, 'data'), databaseUrl: server?.url });
    try {
      return await db.tx(systemCtx('test').actor, (tx) => tx.query<R>(sql));
    } finally {
      await db.close();
    }
  }

  const population = (): Promise<{ persons: number; pairs: number; canaries: number; runs: number }[]> =>
    query(
      `SELECT (SELECT count(*)::int FROM persons) AS persons,
         (SELECT count(DISTINCT name_birth_bi)::int FROM persons) AS pairs,
         (SELECT count(*)::int FROM guard_canaries) AS canaries,
         (SELECT count(*)::int FROM seed_runs) AS runs`,
    );

  it('a seed killed midway and run again completes the same population, once', async () => {
    // Ten chunks of 1,000 (src/registry/population.ts, CHUNK), on an initialised folder: the first
    // chunk is written within about 2.5 s, the last several seconds later even on a quiet machine,
    // and each wait below is at most 1.6 s longer than the one before, so a kill lands midway.
    const persons = 10_000;
    await initDataDir(env);
    const args = ['seed', '--persons', String(persons), '--seed', '21', '--workers', '0', '--json'];
    // Kill it after some chunks are written, before it ends: wait longer each time it was too early.
    let written = 0;
    for (let wait = 2500; written === 0; wait *= 1.3) {
      const { child } = startRempart(args, env);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, wait));
      child.kill('SIGKILL');
      await exited;
      const [now] = await population();
      written = now!.persons;
      expect(written).toBeLessThan(persons); // killed before the end: else the test proves nothing
    }
    const [killed] = await population();
    expect(killed!.canaries).toBe(0);

    const resumed = await rempart(args, env);
    expect(resumed.code).toBe(0);
    expect(lastJsonLine(resumed.stdout)).toMatchObject({
      status: 'resumed',
      persons: persons - written,
      canaries: defaultCanaryCount(persons),
    });
    const [after] = await population();
    expect(after).toMatchObject({ persons, canaries: defaultCanaryCount(persons), runs: 1 });
    // A second population would repeat every name + birth date pair of the first.
    expect(after!.pairs).toBeGreaterThan(persons * 0.99);

    const again = await rempart(['seed', '--persons', String(persons), '--seed', '21'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already holds the population of seed 21');
    expect(await population()).toEqual([after]);
  }, 240_000);

  it.each([
    ['a missing file', (d: string) => [path.join(d, 'absent.csv')], 'rempart: file: does not exist'],
    ['a folder', (d: string) => [d], 'rempart: file: is a folder'],
    [
      'a rejects file in a missing folder',
      (d: string) => [path.join(d, 'in.csv'), '--skip-invalid', '--rejects', path.join(d, 'nope', 'r.csv')],
      'rempart: rejects: its folder does not exist',
    ],
    [
      'rejects = the input by another path',
      (d: string) => [path.join(d, 'in.csv'), '--rejects', path.join(d, '.', 'in.csv')],
      'rempart: rejects: is the input file',
    ],
  ])('import refuses %s in one line, exit 1', async (_name, argsOf, message) => {
    await writeFile(path.join(dir, 'in.csv'), 'agency_id\n');
    const result = await rempart(['import', ...argsOf(dir)], env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a killed --skip-invalid import leaves its rejects only until the next import', async () => {
    await initDataDir(env);
    expect((await rempart(['seed', '--persons', '20', '--seed', '4'], env)).code).toBe(0);
    const [agency] = await query<{ code: string }>(
      `SELECT code FROM organisations WHERE kind = 'agency' LIMIT 1`,
    );
    const file = path.join(dir, 'big.csv');
    await writeImportFile(file, 40_000, agency!.code, 2);
    const temp = path.join(dir, 'data', 'import-tmp');
    const { child } = startRempart(['import', file, '--skip-invalid'], env);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let seen: string[] = [];
    for (let tries = 0; seen.length === 0 && tries < 2000; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      seen = await readdir(temp).catch(() => []);
    }
    expect(seen).toHaveLength(1);
    // Owner-only, in Rempart's own owner-only folder, while it holds rejected persons.
    expect((await stat(temp)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(temp, seen[0]!))).mode & 0o777).toBe(0o600);
    child.kill('SIGKILL');
    await exited;
    expect(await readdir(temp)).toEqual(seen);
    await expect(stat(file.replace(/\.csv$/, '.rejects.csv'))).rejects.toThrow();

    const small = path.join(dir, 'small.csv');
    await writeImportFile(small, 10, agency!.code);
    const next = await rempart(['import', small, '--json'], env);
    expect(next.code).toBe(0);
    expect(lastJsonLine(next.stdout)).toMatchObject({ rows: 10, imported: 10, rejected: 0 });
    expect(await readdir(temp)).toEqual([]);
  }, 240_000);

  it('refuses a control character in an option, naming it', async () => {
    await mkdir(path.join(dir, 'data'), { recursive: true });
    const result = await rempart(
      [
        'account',
        'create',
        '--login',
        'agent\u001b[2J',
        '--organisation',
        'FT-DG',
        '--role',
        'counselor',
        '--email',
        'a@example.fr',
        '--display-name',
        'Agent',
      ],
      env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('rempart: --login: must not contain control characters');
  });
});
