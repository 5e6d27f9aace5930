/**
 * The guard's operator commands: `rempart seed` plants canaries (one per agency at least, none in a
 * partner's caseload or a counselor's worklist, nothing in `persons` marking them), `rempart guard
 * canaries` counts and plants more, `rempart guard config` prints the effective thresholds with the
 * operator's file applied, and refuses a bad file naming the field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPglite } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Driver } from '../src/db/types.ts';
import { BUILT_IN, thresholdsFor } from '../src/guard/thresholds.ts';
import { cliEnv, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

describe(`rempart guard and canaries on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-guard-cli-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url });
  });
  afterEach(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function withDriver<T>(fn: (driver: Driver) => Promise<T>): Promise<T> {
    const driver = server
      ? await openPostgres(server.url, { max: 2 })
      : await openPglite(path.join(dir, 'data', 'pglite'));
    try {
      return await fn(driver);
    } finally {
      await driver.close();
    }
  }

  it('seed plants canaries in every agency, followed by no partner and no counselor; guard canaries counts and adds', async () => {
    await initDataDir(env);
    const seeded = await rempart(['seed', '--persons', '600', '--seed', '3', '--json'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    const summary = lastJsonLine(seeded.stdout);
    const facts = await withDriver((driver) =>
      driver.transaction(async (tx) => {
        const [agencies] = await tx.query<{ n: number; covered: number }>(
          `SELECT count(*)::int AS n,
             count(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM guard_canaries g JOIN persons p ON p.id = g.person_id
               WHERE p.agency_organisation_id = o.id))::int AS covered
           FROM organisations o WHERE o.kind = 'agency'
             AND EXISTS (SELECT 1 FROM persons p WHERE p.agency_organisation_id = o.id)`,
        );
        const [followed] = await tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM guard_canaries g JOIN persons p ON p.id = g.person_id
           JOIN caseloads c ON c.person_id = p.id
           WHERE c.organisation_id <> p.agency_organisation_id OR c.counselor_id IS NOT NULL`,
        );
        const [total] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM guard_canaries');
        const columns = await tx.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'persons'`,
        );
        return {
          agencies: agencies!,
          followed: followed!.n,
          total: total!.n,
          columns: columns.map((c) => c.column_name),
        };
      }),
    );
    expect(summary.canaries).toBe(facts.total);
    expect(facts.total).toBeGreaterThanOrEqual(Math.max(1, facts.agencies.n));
    expect(facts.agencies.covered).toBe(facts.agencies.n);
    expect(facts.followed).toBe(0);
    expect(facts.columns.some((c) => c.includes('canary'))).toBe(false);

    const more = await rempart(['guard', 'canaries', '--plant', '3', '--json'], env);
    expect(more.code, more.stderr).toBe(0);
    expect(lastJsonLine(more.stdout)).toEqual({ planted: 3, canaries: facts.total + 3 });
  });

  it('guard config prints the effective thresholds, with the operator file applied per role and organisation', async () => {
    const builtIn = await rempart(['guard', 'config', '--role', 'partner_counselor', '--json'], env);
    expect(builtIn.code, builtIn.stderr).toBe(0);
    expect(lastJsonLine(builtIn.stdout)).toEqual(
      JSON.parse(JSON.stringify(thresholdsFor(BUILT_IN, 'partner_counselor', ''))),
    );

    const file = path.join(dir, 'guard.json');
    await writeFile(
      file,
      JSON.stringify({
        roles: { partner_counselor: { levels: { beyond_baseline: { step_up: 10, suspend: 20 } } } },
        organisations: {
          'ML-001': { levels: { canary: { suspend: 1 }, off_hours_persons: { step_up: 3 } } },
        },
      }),
    );
    const applied = await rempart(
      ['guard', 'config', '--role', 'partner_counselor', '--organisation', 'ML-001', '--json'],
      { ...env, REMPART_GUARD_CONFIG: file },
    );
    expect(applied.code, applied.stderr).toBe(0);
    const levels = (lastJsonLine(applied.stdout) as { levels: Record<string, unknown> }).levels;
    expect(levels.beyond_baseline).toEqual({ step_up: 10, suspend: 20 });
    expect(levels.off_hours_persons).toEqual({ step_up: 3 });

    await writeFile(
      file,
      JSON.stringify({ roles: { partner_counselor: { levels: { bogus: { suspend: 1 } } } } }),
    );
    const bad = await rempart(['guard', 'config', '--json'], { ...env, REMPART_GUARD_CONFIG: file });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('roles.partner_counselor.levels.bogus');
  });
});
