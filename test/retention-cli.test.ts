/**
 * `rempart retention run|report` as an operator runs them: a dry run counts and changes nothing, a
 * run applies and says what it did (the JSON fields other tools read), a second run finds nothing
 * left, the report agrees; `--as-of` is for dry runs only, and a bad option is named.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

describe(`rempart retention on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-retention-cli-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url });
    await initDataDir(env);
    const seeded = await rempart(['seed', '--persons', '400', '--seed', '5', '--json'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a dry run counts, a run applies the same, the next finds nothing; the report agrees', async () => {
    const dry = await rempart(['retention', 'run', '--dry-run', '--json'], env);
    expect(dry.code, dry.stderr).toBe(0);
    const counted = lastJsonLine(dry.stdout);
    expect(counted).toMatchObject({ dryRun: true, scanned: 400, inconsistent: 0 });
    const actions = counted.actions as Record<string, number>;
    expect(Object.keys(actions).sort()).toEqual(['archive', 'destroy', 'expire_candidate']);
    expect(actions.archive! + actions.destroy!).toBeGreaterThan(0);

    const done = await rempart(['retention', 'run', '--json'], env);
    expect(done.code, done.stderr).toBe(0);
    expect(lastJsonLine(done.stdout)).toMatchObject({ dryRun: false, actions, scanned: 400 });
    const again = lastJsonLine((await rempart(['retention', 'run', '--json'], env)).stdout);
    expect(again.actions).toEqual({ archive: 0, destroy: 0, expire_candidate: 0 });

    const reported = await rempart(['retention', 'report', '--json'], env);
    expect(reported.code, reported.stderr).toBe(0);
    const report = lastJsonLine(reported.stdout);
    expect(report.persons).toMatchObject({ archived: actions.archive, destroyed: actions.destroy });
    expect(report.dueNow).toEqual({ archive: 0, destroy: 0, expire_candidate: 0 });
    expect((report.runs as unknown[]).length).toBe(3);
    const text = await rempart(['retention', 'report'], env);
    expect(text.stdout).toContain('Code du travail, article R.5312-44');
  });

  it('counts ahead with --as-of in a dry run only; a bad date is named', async () => {
    const ahead = await rempart(['retention', 'run', '--dry-run', '--as-of', '2060-01-01', '--json'], env);
    expect(ahead.code, ahead.stderr).toBe(0);
    const destroyed = (lastJsonLine(ahead.stdout).actions as Record<string, number>).destroy;
    expect(destroyed).toBeGreaterThan(0); // by 2060, every deregistration of the seed is 20 years old
    const refused = await rempart(['retention', 'run', '--as-of', '2060-01-01', '--json'], env);
    expect(refused.code).toBe(1);
    expect(lastJsonLine(refused.stdout)).toMatchObject({
      error: { code: 'validation_failed', issues: [{ field: 'as-of' }] },
    });
    const bad = await rempart(['retention', 'run', '--dry-run', '--as-of', '2060-13-01'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--as-of');
  });
});
