/**
 * `rempart bench gate`: what the gate costs over HTTP, on PostgreSQL with durable commits. In one
 * run: a throwaway registry of N persons; counselors of the agency holding the most persons, each
 * with an 'mfa' session opened in the database; a sample of that agency's NIRs; VACUUM (ANALYZE) and
 * a checkpoint, as a registry in service would have had. Then the same load
 * (C concurrent keep-alive clients for T seconds, after a warm-up) against three servers, each a
 * child process started the same way:
 *
 *   - the baseline (bench/gate-baseline.ts): bare Fastify + pg doing the same indexed lookup, with
 *     no session, policy, audit or decryption; not part of the product;
 *   - `rempart serve` with REMPART_GUARD=off: counselor searches by NIR through the gate without
 *     the guard (session, CSRF, purpose, policy, scope in SQL and RLS, the audit event committed
 *     before the answer, decryption);
 *   - `rempart serve` as deployed, the guard on: the same, plus the guard's steps 4 and 7 (pending
 *     responses, persons counted, canaries checked, the account's state folded and written). The
 *     bench's agency gets levels that this load does not reach (an organisation entry in
 *     REMPART_GUARD_CONFIG): the guard does all its work on every request, and answers allow.
 *
 * Every gate answer must be 200 with exactly the sampled person; afterwards the audit log must hold
 * exactly one allowed event per answer. Throughput and latency are measured by the clients.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { childEnv, freePort } from '../drill/processes.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { wire } from '../src/db/postgres.ts';
import type { Db } from '../src/db/types.ts';
import { AppError } from '../src/errors.ts';
import { SIGNALS } from '../src/guard/thresholds.ts';
import { buildApp } from '../src/http/app.ts';
import { createAccount } from '../src/identity/accounts.ts';
import { CSRF_HEADER, openSession, SESSION_COOKIE } from '../src/identity/sessions.ts';
import { findPersonIds, openIdentity, type RegistryKeys } from '../src/registry/persons.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { CpuMeter, type CpuPerRequest, postmasterPid } from './cpu.ts';
import { percentile } from './lookup.ts';
import { throwaway } from './throwaway.ts';

const BIN = fileURLToPath(new URL('../bin/rempart.js', import.meta.url));
const BASELINE = fileURLToPath(new URL('./gate-baseline.ts', import.meta.url));
const THROWAWAY_POSTGRES = fileURLToPath(new URL('../scripts/throwaway-postgres.sh', import.meta.url));
const run = promisify(execFile);

export interface GateBenchOptions {
  persons: number;
  /** Concurrent keep-alive clients, each a counselor with its own session. */
  clients: number;
  /** Measured seconds per server (after the warm-up). */
  seconds: number;
  seed: number;
  /** NIRs sampled from the agency (each request takes the next one, round robin). */
  samples?: number;
  /** Write a V8 CPU profile of the `rempart serve` child into this folder (node --cpu-prof). */
  cpuProfileDir?: string;
  /**
   * Run on the configured database as it is (a population of `rempart bench populate`, its keyring
   * in REMPART_DATA) instead of a throwaway registry of `persons`: the bench's counselors, sessions
   * and audit events are added to it.
   */
  populated?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
  onNotice?: (line: string) => void;
}

export interface LoadFigures {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface GateBenchSummary {
  bench: 'gate';
  persons: number;
  clients: number;
  seconds: number;
  baselineHttpPerSecond: number;
  baselineP50Ms: number;
  baselineP99Ms: number;
  /** The gate as deployed, the guard on. */
  httpLookupsPerSecond: number;
  httpP50Ms: number;
  httpP99Ms: number;
  /** Gate ÷ baseline, requests per second. */
  ratio: number;
  /** The gate with the guard off (REMPART_GUARD=off), same load, same run. */
  unguardedPerSecond: number;
  unguardedP50Ms: number;
  unguardedP99Ms: number;
  /**
   * What the guard adds to the cost of a lookup: the median over the interleaved rounds of
   * (unguarded ÷ guarded requests per second) − 1 (one round alone is too noisy on a shared machine).
   */
  guardCost: number;
  /** Each round's guard cost, in the order they ran (at least 5 rounds). */
  guardCostRounds: number[];
  /**
   * CPU ms per answered request, measured loads only: the server process, PostgreSQL's processes
   * (null when its data folder is not readable on this machine) and the load client (this process).
   */
  cpuMsPerRequest: { baseline: CpuPerRequest; unguarded: CpuPerRequest; gate: CpuPerRequest };
  /**
   * Round trips to PostgreSQL per request, counted by the driver (src/db/postgres.ts `wire`) over
   * sequential searches through the gate in this process (the guard on, as the servers above); the
   * baseline makes one by construction.
   */
  roundTripsPerRequest: { baseline: number; gate: number };
  /** Allowed person.search events written by the bench's counselors (warm-up included). */
  auditEvents: number;
  /** Person links of those events (one each: every answer held one person). */
  auditPersonLinks: number;
  /** Gate answers that were 200 with exactly the sampled person (warm-up included). */
  gateAnswers: number;
  /** Requests not answered 200 with exactly the sampled person, on either server. */
  errors: number;
  firstError: string | null;
  accounts: number;
  samples: number;
  poolSize: number;
  /** The server's settings: the figures count only with fsync and synchronous_commit on (`durable`). */
  postgres: { version: string; fsync: string; synchronousCommit: string; durable: boolean };
  seedSeconds: number;
}

/** Runs the gate benchmark on the PostgreSQL server of DATABASE_URL, or on a durable throwaway one. */
export async function benchGate(base: Config, options: GateBenchOptions): Promise<GateBenchSummary> {
  if (options.populated) return benchGatePopulated(base, options);
  const server = base.databaseUrl === undefined ? await startDurablePostgres() : undefined;
  try {
    const { config, cleanup } = await throwaway({ ...base, databaseUrl: server?.url ?? base.databaseUrl });
    try {
      const keys = await openKeys(config, { create: true });
      const db = await openDb(config);
      let seedSeconds: number;
      let prepared: Prepared;
      try {
        options.onNotice?.(`seeding ${options.persons} persons`);
        const seeded = await seedPopulation(db, keys.registry, {
          persons: options.persons,
          seed: options.seed,
          onProgress: (done, total) => options.onProgress?.('seeding', done, total),
        });
        seedSeconds = seeded.seconds;
        prepared = await prepareGateBench(db, keys.registry, config, options);
      } finally {
        await db.close();
      }
      await settle(config.databaseUrl!);
      const summary = await measureGateBench(config, prepared, options);
      return { ...summary, persons: options.persons, seedSeconds };
    } finally {
      await cleanup();
    }
  } finally {
    await server?.stop();
  }
}

/** benchGate on the configured database as it is (`--populated`). */
async function benchGatePopulated(config: Config, options: GateBenchOptions): Promise<GateBenchSummary> {
  if (config.databaseUrl === undefined)
    throw new AppError('validation_failed', 'bench gate --populated needs DATABASE_URL', {
      field: 'DATABASE_URL',
    });
  const keys = await openKeys(config);
  const db = await openDb(config);
  let prepared: Prepared;
  let persons: number;
  try {
    const [row] = await db.tx(systemCtx('bench').actor, (tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM persons'),
    );
    persons = row!.n;
    prepared = await prepareGateBench(db, keys.registry, config, options);
  } finally {
    await db.close();
  }
  await settle(config.databaseUrl);
  const summary = await measureGateBench(config, prepared, options);
  return { ...summary, persons, seedSeconds: 0 };
}

/**
 * After the bulk load, what a registry in service has had time to do: VACUUM (ANALYZE) and a
 * checkpoint, so that neither runs in the middle of one server's measurement and not the other's.
 */
async function settle(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}

/** A started throwaway PostgreSQL server with PostgreSQL's default durability (fsync, synchronous commit). */
async function startDurablePostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const env = { ...process.env, PGPORT: String(port) };
  const { stdout } = await run('bash', [THROWAWAY_POSTGRES, 'start', '--durable'], { env });
  const dir = stdout.trim().split('\n').at(-1) ?? '';
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await run('bash', [THROWAWAY_POSTGRES, 'stop', dir], { env });
    },
  };
}

/** What the load needs: one session per client, and the sampled NIRs with their person ids. */
export interface Prepared {
  accountIds: string[];
  sessions: { sessionId: string; csrfToken: string }[];
  samples: { id: string; nir: string }[];
  organisationId: string;
  organisationCode: string;
}

/** Creates the counselors and their sessions in the largest agency, and samples its NIRs. */
export async function prepareGateBench(
  db: Db,
  keys: RegistryKeys,
  config: Pick<Config, 'sessions'>,
  options: Pick<GateBenchOptions, 'clients' | 'seed' | 'samples' | 'onProgress'>,
): Promise<Prepared> {
  const actor = systemCtx('bench').actor;
  const [agency] = await db.tx(actor, (tx) =>
    tx.query<{ id: string; code: string; persons: number }>(
      `SELECT p.agency_organisation_id AS id, o.code, count(*)::int AS persons
       FROM persons p JOIN organisations o ON o.id = p.agency_organisation_id
       GROUP BY p.agency_organisation_id, o.code ORDER BY persons DESC, id LIMIT 1`,
    ),
  );
  if (!agency) throw new Error('bench gate: the registry has no persons');
  const tag = randomBytes(3).toString('hex');
  const accountIds: string[] = [];
  const sessions: Prepared['sessions'] = [];
  for (let i = 0; i < options.clients; i++) {
    const now = new Date();
    const opened = await db.tx(actor, async (tx) => {
      const account = await createAccount(
        tx,
        {
          organisationId: agency.id,
          login: `bench-gate-${tag}-${i}`,
          displayName: `Bench counselor ${i}`,
          email: `bench-gate-${tag}-${i}@bench.invalid`,
          role: 'counselor',
          password: randomBytes(24).toString('base64url'),
        },
        now,
        null,
      );
      // As if enrolment were done: an active counselor with a second factor verified at login.
      await tx.query(`UPDATE accounts SET status = 'active' WHERE id = $1`, [account.id]);
      const session = await openSession(tx, account.id, { assurance: 'mfa', now, config });
      return { accountId: account.id, session };
    });
    accountIds.push(opened.accountId);
    sessions.push({ sessionId: opened.session.sessionId, csrfToken: opened.session.csrfToken });
    options.onProgress?.('accounts', i + 1, options.clients);
  }
  const wanted = options.samples ?? 2000;
  const samples = await db.tx(actor, async (tx) => {
    const rows = await tx.query<{ id: string }>(
      `SELECT id FROM persons WHERE agency_organisation_id = $1 ORDER BY md5(id::text || $2) LIMIT $3`,
      [agency.id, String(options.seed), wanted],
    );
    const out: { id: string; nir: string }[] = [];
    for (const [i, { id }] of rows.entries()) {
      const identity = await openIdentity(tx, keys, id, ['nir']);
      if (!identity) continue;
      // Only NIRs that match exactly one person in the registry: each answer must be that person.
      const found = await findPersonIds(tx, keys, { by: 'nir', nir: identity.nir }, 2);
      if (found.length === 1 && found[0] === id) out.push({ id, nir: identity.nir });
      options.onProgress?.('sampling', i + 1, rows.length);
    }
    return out;
  });
  if (samples.length === 0) throw new Error('bench gate: no NIR to look up');
  return { accountIds, sessions, samples, organisationId: agency.id, organisationCode: agency.code };
}

/** Measures the baseline then the gate on a prepared registry (config points at it). */
export async function measureGateBench(
  config: Config,
  prepared: Prepared,
  options: Pick<GateBenchOptions, 'clients' | 'seconds' | 'cpuProfileDir' | 'onProgress' | 'onNotice'>,
): Promise<Omit<GateBenchSummary, 'persons' | 'seedSeconds'>> {
  if (config.databaseUrl === undefined) throw new Error('bench gate needs PostgreSQL');
  const warmUpSeconds = Math.min(5, Math.max(1, Math.round(options.seconds / 4)));
  const env = (port: number): NodeJS.ProcessEnv =>
    childEnv(process.env, {
      DATABASE_URL: config.databaseUrl,
      REMPART_DATA: config.dataDir,
      REMPART_KEYRING: config.keyringPath,
      REMPART_DB_POOL_SIZE: String(config.databasePoolSize),
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    });
  const body = (i: number): string => {
    const sample = prepared.samples[i % prepared.samples.length]!;
    return JSON.stringify({ purpose: 'accompaniment', by: 'nir', nir: sample.nir });
  };
  const expected = (i: number): string => prepared.samples[i % prepared.samples.length]!.id;

  // PostgreSQL's postmaster, for its processes' CPU time (null: another machine, or not readable).
  const admin = new pg.Client({ connectionString: config.databaseUrl });
  await admin.connect();
  let postmaster: number | null;
  try {
    const { rows } = await admin.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    postmaster = rows[0] ? postmasterPid(rows[0].dir) : null;
  } finally {
    await admin.end();
  }
  const answered = (r: LoadResult): number => r.ok;

  // The baseline: the same requests, bodies and checks, without the session.
  const port = await freePort();
  const child = await startChild([process.execPath, BASELINE], env(port), port);
  const baselineCpu = new CpuMeter(child.pid, postmaster);
  let baseline: LoadResult;
  try {
    const load = {
      port,
      clients: options.clients,
      headers: () => ({}),
      body,
      expected,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    };
    await runLoad({ ...load, seconds: warmUpSeconds, stage: 'baseline warm-up' });
    baseline = await baselineCpu.measure(
      () => runLoad({ ...load, seconds: options.seconds, stage: 'baseline' }),
      answered,
    );
  } finally {
    await child.stop();
  }

  // The bench's agency: no level this load reaches, so the guard counts everything and allows.
  const guardConfig = path.join(config.dataDir, 'bench-guard.json');
  const none = Object.fromEntries(SIGNALS.map((name) => [name, {}]));
  await writeFile(
    guardConfig,
    JSON.stringify({ organisations: { [prepared.organisationCode]: { levels: none } } }),
  );
  const profile =
    options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
  // Both servers run side by side; the load alternates between them in rounds, so that what the
  // shared machine does meanwhile falls on both alike (their ratio is the figure that counts).
  const start = async (extra: NodeJS.ProcessEnv) => {
    const port = await freePort();
    const child = await startChild(
      [process.execPath, ...profile, BIN, 'serve'],
      { ...env(port), ...extra },
      port,
    );
    return { port, child };
  };
  const load = (port: number) => ({
    port,
    clients: options.clients,
    headers: (client: number) => {
      const session = prepared.sessions[client % prepared.sessions.length]!;
      return { cookie: `${SESSION_COOKIE}=${session.sessionId}`, [CSRF_HEADER]: session.csrfToken };
    },
    body,
    expected,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const off = await start({ REMPART_GUARD: 'off' });
  let on: Awaited<ReturnType<typeof start>> | undefined;
  // At least five rounds: the guard's cost is their median (a noisy round does not decide it).
  const rounds = Math.max(5, Math.min(10, Math.floor(options.seconds / 4)));
  const slice = options.seconds / rounds;
  const parts: { off: LoadResult[]; on: LoadResult[]; warm: LoadResult[] } = { off: [], on: [], warm: [] };
  const cpu = { off: new CpuMeter(off.child.pid, postmaster), on: new CpuMeter(undefined, postmaster) };
  try {
    on = await start({ REMPART_GUARD_CONFIG: guardConfig });
    cpu.on = new CpuMeter(on.child.pid, postmaster);
    parts.warm.push(
      await runLoad({ ...load(off.port), seconds: warmUpSeconds, stage: 'gate, guard off, warm-up' }),
    );
    parts.warm.push(await runLoad({ ...load(on.port), seconds: warmUpSeconds, stage: 'gate warm-up' }));
    for (let r = 0; r < rounds; r++) {
      // Which goes first alternates, so that neither always follows the other's load.
      const order: ['off' | 'on', number][] =
        r % 2 === 0
          ? [
              ['off', off.port],
              ['on', on.port],
            ]
          : [
              ['on', on.port],
              ['off', off.port],
            ];
      for (const [which, port] of order) {
        const stage = which === 'off' ? `gate, guard off (${r + 1}/${rounds})` : `gate (${r + 1}/${rounds})`;
        parts[which].push(
          await cpu[which].measure(() => runLoad({ ...load(port), seconds: slice, stage }), answered),
        );
      }
    }
  } finally {
    await off.child.stop();
    await on?.child.stop();
  }
  const roundTrips = await countRoundTrips(config, prepared, guardConfig, body);
  const unguarded = { warm: parts.warm[0]!, measured: merge(parts.off, slice) };
  const guarded = { warm: parts.warm[1]!, measured: merge(parts.on, slice) };
  const gate = guarded.measured;

  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  let audit: { events: number; links: number };
  let postgres: GateBenchSummary['postgres'];
  try {
    // Read as the owner (no row-level security): every event of the bench's counselors counts.
    const { rows } = await client.query<{ events: number; links: number }>(
      `WITH e AS (
         SELECT id FROM audit_events
         WHERE action = 'person.search' AND decision = 'allow' AND account_id = ANY($1::uuid[])
       )
       SELECT (SELECT count(*)::int FROM e) AS events,
         (SELECT count(*)::int FROM audit_event_persons l JOIN e ON l.event_id = e.id) AS links`,
      [prepared.accountIds],
    );
    audit = { events: rows[0]?.events ?? 0, links: rows[0]?.links ?? 0 };
    const setting = async (name: string): Promise<string> =>
      (await client.query<{ v: string }>(`SELECT current_setting($1) AS v`, [name])).rows[0]?.v ?? '';
    const fsync = await setting('fsync');
    const synchronousCommit = await setting('synchronous_commit');
    postgres = {
      version: await setting('server_version'),
      fsync,
      synchronousCommit,
      durable: fsync === 'on' && synchronousCommit === 'on',
    };
  } finally {
    await client.end();
  }
  const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
  const guardCostRounds = parts.off.map((o, i) => round(o.perSecond / parts.on[i]!.perSecond - 1, 3));
  const runs = [...parts.warm, ...parts.off, ...parts.on];
  const firstError = baseline.firstError ?? runs.find((r) => r.firstError)?.firstError;
  return {
    bench: 'gate',
    clients: options.clients,
    seconds: options.seconds,
    baselineHttpPerSecond: Math.round(baseline.perSecond),
    baselineP50Ms: round(baseline.p50Ms, 2),
    baselineP99Ms: round(baseline.p99Ms, 2),
    httpLookupsPerSecond: Math.round(gate.perSecond),
    httpP50Ms: round(gate.p50Ms, 2),
    httpP99Ms: round(gate.p99Ms, 2),
    ratio: round(gate.perSecond / baseline.perSecond, 3),
    unguardedPerSecond: Math.round(unguarded.measured.perSecond),
    unguardedP50Ms: round(unguarded.measured.p50Ms, 2),
    unguardedP99Ms: round(unguarded.measured.p99Ms, 2),
    guardCost: round(median(guardCostRounds), 3),
    guardCostRounds,
    cpuMsPerRequest: {
      baseline: baselineCpu.perRequest(),
      unguarded: cpu.off.perRequest(),
      gate: cpu.on.perRequest(),
    },
    roundTripsPerRequest: { baseline: 1, gate: round(roundTrips, 2) },
    auditEvents: audit.events,
    auditPersonLinks: audit.links,
    gateAnswers: runs.reduce((n, r) => n + r.ok, 0),
    errors: baseline.errors + runs.reduce((n, r) => n + r.errors, 0),
    firstError: firstError ?? null,
    accounts: prepared.accountIds.length,
    samples: prepared.samples.length,
    poolSize: config.databasePoolSize,
    postgres,
  };
}

/** Searches counted for roundTripsPerRequest (after the load: each account's day has begun). */
const ROUND_TRIP_SEARCHES = 100;

/**
 * Round trips per gated search, counted by the driver in this process: the app built here as
 * `rempart serve` builds it, with the same guard configuration, on the same database and sessions.
 */
async function countRoundTrips(
  config: Config,
  prepared: Prepared,
  guardConfig: string,
  body: (i: number) => string,
): Promise<number> {
  const here = loadConfig({
    ...process.env,
    DATABASE_URL: config.databaseUrl,
    REMPART_DATA: config.dataDir,
    REMPART_KEYRING: config.keyringPath,
    REMPART_DB_POOL_SIZE: String(config.databasePoolSize),
    REMPART_GUARD_CONFIG: guardConfig,
    LOG_LEVEL: 'warn',
  });
  const keys = await openKeys(here);
  const db = await openDb(here);
  const app = await buildApp(here, {
    db,
    kms: keys.kms,
    registry: keys.registry,
    logStream: new PassThrough(),
  });
  try {
    const before = wire.roundTrips;
    for (let i = 0; i < ROUND_TRIP_SEARCHES; i++) {
      const session = prepared.sessions[i % prepared.sessions.length]!;
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/persons/search',
        headers: {
          cookie: `${SESSION_COOKIE}=${session.sessionId}`,
          [CSRF_HEADER]: session.csrfToken,
          'content-type': 'application/json',
        },
        payload: body(i),
      });
      if (response.statusCode !== 200) throw new Error(`round-trip count: answer ${response.statusCode}`);
    }
    return (wire.roundTrips - before) / ROUND_TRIP_SEARCHES;
  } finally {
    await app.close();
    await db.close();
  }
}

interface Child {
  /** The process id (its CPU time is read from /proc: bench/cpu.ts). */
  pid: number | undefined;
  stop(): Promise<void>;
}

/** Starts a server child process and waits until GET /api/health answers 200. */
async function startChild(command: string[], env: NodeJS.ProcessEnv, port: number): Promise<Child> {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${args.at(-1)} exited before answering: ${output.trim().slice(-2000)}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/health`);
      await response.arrayBuffer();
      if (response.status === 200) return { pid: child.pid, stop };
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 120_000) {
      await stop();
      throw new Error(`${args.at(-1)} did not answer within 120 s: ${output.trim().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

interface LoadResult extends LoadFigures {
  ok: number;
  firstError: string | undefined;
}

/** Rounds of one server as one result: requests per second over all rounds, mean p50, worst p99. */
function merge(results: LoadResult[], seconds: number): LoadResult {
  const ok = results.reduce((n, r) => n + r.ok, 0);
  return {
    requests: results.reduce((n, r) => n + r.requests, 0),
    perSecond: ok / (seconds * results.length),
    p50Ms: results.reduce((n, r) => n + r.p50Ms, 0) / results.length,
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
    errors: results.reduce((n, r) => n + r.errors, 0),
    ok,
    firstError: results.find((r) => r.firstError)?.firstError,
  };
}

/**
 * C clients, each sending one search at a time over its own keep-alive connection for `seconds`;
 * an answer counts as good if it is 200 with exactly the expected person.
 */
async function runLoad(load: {
  port: number;
  clients: number;
  seconds: number;
  stage: string;
  headers: (client: number) => Record<string, string>;
  body: (i: number) => string;
  expected: (i: number) => string;
  onProgress?: (stage: string, done: number, total: number) => void;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: load.clients });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const end = started + load.seconds * 1000;
  const ticker = setInterval(
    () =>
      load.onProgress?.(
        load.stage,
        Math.min(load.seconds, Math.round((performance.now() - started) / 1000)),
        load.seconds,
      ),
    1000,
  );
  const one = async (client: number): Promise<void> => {
    const headers = load.headers(client);
    while (performance.now() < end) {
      const i = next++;
      const body = load.body(i);
      const sent = performance.now();
      const answer = await post(agent, load.port, headers, body).catch((error: Error) => ({
        status: 0,
        text: error.message,
      }));
      latencies.push(performance.now() - sent);
      const problem = check(answer, load.expected(i));
      if (problem !== undefined) {
        errors++;
        firstError ??= problem;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: load.clients }, (_, client) => one(client)));
  } finally {
    clearInterval(ticker);
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  load.onProgress?.(load.stage, load.seconds, load.seconds);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    ok: latencies.length - errors,
    perSecond: (latencies.length - errors) / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    errors,
    firstError,
  };
}

/** Why an answer is not 200 with exactly the expected person, or undefined. */
function check(answer: { status: number; text: string }, id: string): string | undefined {
  if (answer.status !== 200) return `status ${answer.status}: ${answer.text.slice(0, 300)}`;
  try {
    const results = (JSON.parse(answer.text) as { results?: { id?: string }[] }).results;
    if (results?.length !== 1) return `${results?.length ?? 'no'} results instead of 1`;
    if (results[0]?.id !== id) return 'not the sampled person';
    return undefined;
  } catch {
    return 'not JSON';
  }
}

function post(
  agent: http.Agent,
  port: number,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/api/v1/persons/search',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The median of a non-empty list. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
