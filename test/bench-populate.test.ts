/**
 * `rempart bench populate` (bench/populate.ts) as an operator runs it, in child processes on PGlite
 * or the PostgreSQL server under test: killed again and again at growing intervals, it completes
 * one population with no duplicate and no gap (every event once, one link, one salt, one leaf, the
 * leaves numbered without a hole), which `rempart audit verify` accepts; run again it adds nothing;
 * with other options it refuses in one line, naming the option, and changes nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEmbedded } from '../src/db/open-embedded.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { defaultCanaryCount } from '../src/guard/canaries.ts';
import { cliEnv, lastJsonLine, rempart, spawnRempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

const PERSONS = 1000;
const EVENTS = 20_000;
const ACCOUNTS = 40;
const ARGS = [
  'bench',
  'populate',
  '--persons',
  String(PERSONS),
  '--events',
  String(EVENTS),
  '--accounts',
  String(ACCOUNTS),
  '--chunk',
  '1000',
  '--workers',
  '0',
  '--json',
];

interface State {
  loaded: number;
  completed: boolean;
  events: number;
  links: number;
  salts: number;
  leaves: number;
  top: number;
  pending: number;
  persons: number;
  canaries: number;
  accounts: number;
  hottest: number;
}

describe.skipIf(engine === 'citus')(`rempart bench populate, killed and resumed, on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-populate-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: server?.url });
  });
  afterEach(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The population's state, read as the owner (the command must have exited). */
  async function state(): Promise<State | undefined> {
    const driver = server
      ? await openPostgres(server.url, { max: 1 })
      : await openEmbedded(path.join(dir, 'data'));
    try {
      return await driver.transaction(async (tx) => {
        const [table] = await tx.query<{ t: string | null }>(
          `SELECT to_regclass('bench_population')::text AS t`,
        );
        if (table!.t === null) return undefined;
        const [row] = await tx.query<State>(
          `SELECT coalesce((SELECT sum(events) FROM bench_population_chunks), 0)::int AS loaded,
             coalesce((SELECT completed FROM bench_population), false) AS completed,
             (SELECT count(*)::int FROM audit_events) AS events,
             (SELECT count(*)::int FROM audit_event_persons) AS links,
             (SELECT count(*)::int FROM audit_event_salts) AS salts,
             (SELECT count(*)::int FROM audit_leaves) AS leaves,
             (SELECT coalesce(max(seq), -1)::int FROM audit_leaves) AS top,
             (SELECT count(*)::int FROM audit_pending) AS pending,
             (SELECT count(*)::int FROM persons) AS persons,
             (SELECT count(*)::int FROM guard_canaries) AS canaries,
             (SELECT count(*)::int FROM accounts WHERE login LIKE 'populate-%') AS accounts,
             (SELECT coalesce(max(c), 0)::int FROM (SELECT count(*) AS c FROM audit_event_persons
                GROUP BY person_id) x) AS hottest`,
        );
        return row;
      });
    } finally {
      await driver.close();
    }
  }

  it('a run killed at growing intervals completes one population that audit verify accepts', async () => {
    const seen: string[] = [];
    let finished: Awaited<ReturnType<typeof rempart>> | undefined;
    // The wait grows only after a kill that found no progress (the command's start alone takes a
    // few seconds, more on a loaded machine); after a kill that did, the next one comes as soon, so
    // that kills keep landing through every stage, the audit log's included, however fast the
    // machine is.
    let progress = '';
    for (let wait = 2500; finished === undefined; ) {
      const { child, result } = spawnRempart(ARGS, env);
      const ended = await Promise.race([
        result,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), wait)),
      ]);
      if (ended !== undefined) {
        finished = ended;
        break;
      }
      child.kill('SIGKILL');
      await result;
      const now = await state();
      const reached = JSON.stringify([now?.persons, now?.loaded, now?.leaves, now?.completed]);
      if (reached === progress) wait = Math.round(wait * 1.3);
      progress = reached;
      if (now === undefined || now.completed) continue;
      // Between kills: never more events than loaded, each loaded event with its link, salt and
      // queue row or leaf, and the tree without a hole.
      expect(now.events).toBe(now.loaded);
      expect(now.links).toBe(now.loaded);
      expect(now.salts).toBe(now.loaded);
      expect(now.leaves + now.pending).toBe(now.loaded);
      expect(now.top).toBe(now.leaves - 1);
      if (now.loaded > 0 && now.loaded < EVENTS) seen.push('loading');
      else if (now.loaded === EVENTS && now.leaves < EVENTS) seen.push('sequencing');
      else if (now.loaded === 0) seen.push('seeding');
    }
    // At least one kill landed in the middle of the audit log (else the test proves nothing).
    expect(seen.filter((s) => s === 'loading' || s === 'sequencing').length).toBeGreaterThan(0);
    expect(finished.code).toBe(0);
    const summary = lastJsonLine(finished.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ bench: 'populate', events: EVENTS, treeSize: EVENTS });
    // 'complete' when the last kill landed after the run was marked complete, before it exited
    expect(['resumed', 'complete']).toContain(summary.status);
    expect(summary.bytesPerEvent).toBeGreaterThan(100);
    expect(summary.bytesPerPerson).toBeGreaterThan(100);

    const after = await state();
    expect(after).toMatchObject({
      loaded: EVENTS,
      completed: true,
      events: EVENTS,
      links: EVENTS,
      salts: EVENTS,
      leaves: EVENTS,
      top: EVENTS - 1,
      pending: 0,
      persons: PERSONS,
      accounts: ACCOUNTS,
    });
    // Canaries as `rempart seed` plants them: at least one per agency, planted once (the runs
    // below leave their number as it is).
    expect(after!.canaries).toBeGreaterThanOrEqual(defaultCanaryCount(PERSONS));
    // The hot persons: one event in ten, over ten persons, on top of their even share.
    expect(after!.hottest).toBeGreaterThanOrEqual(EVENTS / 100);

    const verified = await rempart(['audit', 'verify', '--json'], env, 240_000);
    expect(verified.code).toBe(0);
    expect(lastJsonLine(verified.stdout)).toMatchObject({
      ok: true,
      events: EVENTS,
      leaves: EVENTS,
      problemCount: 0,
    });

    // bench reads on it: each scope checked against its own count, each history page complete.
    const reads = await rempart(
      ['bench', 'reads', '--accounts', '3', '--rounds', '1', '--json'],
      env,
      240_000,
    );
    expect(reads.code).toBe(0);
    expect(lastJsonLine(reads.stdout)).toMatchObject({
      bench: 'reads',
      persons: PERSONS,
      scopeMs: { accounts: 3 },
      historyMs: { persons: 10, entriesPerPage: 100 },
    });
    const readEvents = 10; // each history page recorded the person's own access

    const again = await rempart(ARGS, env);
    expect(again.code).toBe(0);
    expect(lastJsonLine(again.stdout)).toMatchObject({ status: 'complete', events: EVENTS });
    const now = await state();
    expect(now).toEqual({
      ...after,
      events: EVENTS + readEvents,
      links: EVENTS + readEvents,
      salts: EVENTS + readEvents,
      leaves: now!.leaves,
      top: now!.top,
      pending: now!.pending,
      hottest: now!.hottest,
    });

    const other = await rempart(
      ARGS.map((a) => (a === String(EVENTS) ? String(EVENTS + 1) : a)),
      env,
    );
    expect(other.code).toBe(1);
    expect(other.stderr.trim().split('\n')).toHaveLength(1);
    expect(other.stderr).toContain('events: this database holds a population of 20000');
    expect(await state()).toEqual(now);
  }, 300_000);
});
