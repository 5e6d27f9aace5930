/**
 * The drill on the three-node Citus cluster (issue 18, point 4): `rempart drill T1 T2-scope T7` with
 * DATABASE_URL on the coordinator, as an operator runs it. Its sandbox makes the throwaway database
 * on every node and distributes it (drill/world.ts, src/db/citus-database.ts); then the stolen
 * password opens nothing (T1), a stolen session reaches nobody outside its caseload (T2-scope), and
 * the audit log's scope of the breach is exact, person for person and field for field, with genuine
 * notices for what left (T7). Runs only when REMPART_TEST_CITUS_URLS names a cluster.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { toJson } from '../drill/report.ts';
import { sandbox } from '../drill/world.ts';
import { withConnection } from '../src/db/postgres.ts';
import { citusUrls } from './helpers/citus.ts';
import { cliEnv, lastJsonLine, rempart } from './helpers/cli.ts';

type Report = ReturnType<typeof toJson>;

describe.runIf(citusUrls)('rempart drill T1 T2-scope T7 on the Citus cluster', () => {
  let result: Awaited<ReturnType<typeof rempart>>;
  let report: Report;

  beforeAll(async () => {
    result = await rempart(
      ['drill', 'T1', 'T2-scope', 'T7', '--json', '--persons', '2000', '--honest-accounts', '0'],
      cliEnv({ DATABASE_URL: citusUrls![0] }),
      290_000,
    );
    report = lastJsonLine(result.stdout) as Report;
  }, 300_000);

  it('makes its throwaway database on every node, distributed, and drops it from every node', async () => {
    const box = await sandbox(citusUrls![0]);
    const name = new URL(box.databaseUrl!).pathname.slice(1);
    const has = (url: string): Promise<boolean> =>
      withConnection(url, async (c) => {
        const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        return r.rowCount === 1;
      });
    try {
      expect(box.citus).toBe(true);
      expect(await Promise.all(citusUrls!.map(has))).toEqual([true, true, true]);
      const placed = await withConnection(box.databaseUrl!, async (c) => {
        const r = await c.query<{ table: string; method: string }>(
          `SELECT logicalrelid::regclass::text AS table, partmethod AS method FROM pg_dist_partition
            WHERE logicalrelid::regclass::text IN ('persons', 'audit_event_persons', 'accounts')
            ORDER BY 1`,
        );
        return r.rows.map((row) => [row.table, row.method]);
      });
      expect(placed).toEqual([
        ['accounts', 'n'],
        ['audit_event_persons', 'h'],
        ['persons', 'h'],
      ]);
    } finally {
      await box.remove();
    }
    expect(await Promise.all(citusUrls!.map(has))).toEqual([false, false, false]);
  });

  it('passes T1, T2-scope and T7', () => {
    const notes = report.scenarios.map((s) => `${s.id}: ${s.notes}`).join('\n');
    expect(
      report.scenarios.map((s) => [s.id, s.passed]),
      notes,
    ).toEqual([
      ['T1', true],
      ['T2-scope', true],
      ['T7', true],
    ]);
  });

  it('T2-scope reached nobody outside the caseload, having read inside it', () => {
    const t2 = report.scenarios.find((s) => s.id === 'T2-scope')!;
    expect(t2.outsideCaseload).toBe(0);
    expect(t2.recordsExposed).toBeGreaterThan(0);
  });

  it('T7: the scope is exact, and the notices mailed for what left are genuine', () => {
    const t7 = report.scenarios.find((s) => s.id === 'T7')!;
    expect(t7.notes).toContain('the scope is exact');
    expect(t7.notes).toMatch(/every notice genuine: ok, \d+ emails/);
    const genuine = /(\d+) of (\d+) genuine/.exec(t7.notes);
    expect(genuine, t7.notes).not.toBeNull();
    expect(Number(genuine![2])).toBeGreaterThan(0);
    expect(genuine![1]).toBe(genuine![2]);
    expect(t7.notes).toContain('the notices are exact');
  });
});
