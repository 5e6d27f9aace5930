/**
 * Issue 15's crash test: `rempart serve` killed (SIGKILL) under load, in the middle of concurrent
 * gated reads. Decision 3: the audit log is durable and is the truth about what each account read;
 * the guard's counters are a function of it, and after a crash the guard takes the same decisions
 * as before it. So, after the kill and before anything else touches the database:
 * - every answer a client received (a 200 with its X-Request-Id) has its allow audit event, naming
 *   exactly the persons the answer held (docs/ARCHITECTURE.md: the gate audits in the transaction
 *   that answers);
 * - each account's guard state (guard_accounts: the day, hour and minute windows, the persons seen
 *   today, the version) is what the audit log says, recomputed here from the events alone, and its
 *   organisation's day (guard_organisation_days, summed per organisation and day whatever its
 *   layout) is the sum of its accounts' days;
 * - a restarted server finds the same guard state, and the next request of each account gets the
 *   answer it would have got before: allow for the accounts under load, and a step-up still asked
 *   of an account the guard held at one before the crash; each request moves the state by itself
 *   only; and the audit log still verifies (`rempart audit verify`).
 * On PGlite the kill is also a crash of the embedded database (it runs inside the server's process).
 * The server's guard counts everything but answers only that step-up (test/helpers/guard.ts): a bulk
 * load from a few new accounts would otherwise be throttled at once, and this test is about
 * durability, not levels. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillClient } from '../drill/client.ts';
import { type LeakedPerson, noteCaseloads } from '../drill/leak.ts';
import { type ServerProcess, startServe } from '../drill/processes.ts';
import { JUSTIFICATIONS } from '../drill/steps/moves.ts';
import { openEmbedded } from '../src/db/open-embedded.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Driver } from '../src/db/types.ts';
import { type GuardState, loadState } from '../src/guard/state.ts';
import { cliEnv, freePort, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';
import { LENIENT_GUARD_FILE } from './helpers/guard.ts';
import { countsOf, type EventRow, recompute, seenKeys } from './helpers/guard-audit.ts';
import { PASSWORD, totpAt } from './helpers/staff.ts';

const PERSONS = 1000;
const ACCOUNTS = 4;
/** A national read without a step-up given: the guard's step-up (national_persons at 1 for counselors). */
const JUSTIFICATION = JUSTIFICATIONS[0]!;
/** Parallel clients per account (two tabs of one session): the guard's row sees concurrent writers. */
const CLIENTS_PER_ACCOUNT = 2;
/** The kill comes once this many answers have come back, requests still in flight. */
const KILL_AFTER = 300;
/** Persons each account draws from (the guard keeps 200 a day exactly; past that it over-counts). */
const REACH = 120;
const SEARCH = '/api/v1/persons/search';
const PURPOSE = 'accompaniment';

/** An enrolled counselor: its session's client and its authenticator app's secret. */
interface Staff {
  login: string;
  id: string;
  client: DrillClient;
  secret: string;
}

/** An answer a client received: the server's request id, the account, and the persons it held. */
interface Answer {
  requestId: string;
  account: string;
  persons: string[];
}

/** What the guard holds: each account's state and version, and the organisation days summed. */
interface GuardTables {
  accounts: Map<string, { state: GuardState; version: number }>;
  days: {
    organisation_id: string;
    day: string;
    persons: number;
    empty: number;
    refused: number;
    accounts: number;
    by_hour: number;
  }[];
}

describe(`rempart serve killed under load: the audit log and the guard after the crash (${engine})`, () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;
  let baseUrl: string;
  let server: ServerProcess | undefined;
  let organisationId: string;
  let timeZone: string;
  /** The accounts under load. */
  const accounts: Staff[] = [];
  /** An account the guard holds at a step-up from before the crash (no load on it). */
  let held: Staff;
  let inside: LeakedPerson[];
  let outside: LeakedPerson[];

  /** Owner rights on the database (the server's folder on PGlite: its socket while a server holds it). */
  async function asOwner<T>(fn: (driver: Driver) => Promise<T>): Promise<T> {
    const driver = database
      ? await openPostgres(database.url, { max: 1 })
      : await openEmbedded(env.REMPART_DATA!, { waitMs: 30_000 });
    try {
      return await fn(driver);
    } finally {
      await driver.close();
    }
  }

  /**
   * The audit events of the test's accounts and the guard's tables, in one transaction as the
   * database owner, and whether the folder was opened by this process (PGlite: no server held it).
   */
  async function snapshot(
    afterKill = false,
  ): Promise<{ events: EventRow[]; guard: GuardTables; openedHere: boolean }> {
    // PostgreSQL goes on with what the dead server had sent it (a last write carries its COMMIT):
    // its connections are waited out first, so that nothing commits after the snapshot.
    if (afterKill && database) await asOwner(quiet);
    return asOwner((driver) =>
      driver.transaction(async (tx) => {
        // One snapshot for the events and the guard's tables.
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        const ids = [...accounts, held].map((a) => a.id);
        const events = await tx.query<EventRow>(
          `SELECT e.id::text, e.request_id, e.account_id::text, e.action, e.decision, e.reason, e.result_count,
             e.occurred_at,
             coalesce(array_agg(p.person_id::text ORDER BY p.person_id) FILTER (WHERE p.person_id IS NOT NULL), '{}') AS persons
           FROM audit_events e LEFT JOIN audit_event_persons p ON p.event_id = e.id
           WHERE e.account_id = ANY($1::uuid[])
           GROUP BY e.id ORDER BY e.id`,
          [ids],
        );
        const rows = await tx.query<{
          account_id: string;
          state: Omit<GuardState, 'seen'>;
          seen: Uint8Array;
          version: number;
        }>('SELECT account_id, state, seen, version FROM guard_accounts WHERE account_id = ANY($1::uuid[])', [
          ids,
        ]);
        // Summed per organisation and day: the same with one row a day or several (stripes).
        const days = await tx.query<GuardTables['days'][number]>(
          `SELECT organisation_id::text, to_char(day, 'YYYY-MM-DD') AS day,
             sum(persons)::int AS persons, sum(empty)::int AS empty, sum(refused)::int AS refused,
             sum(accounts)::int AS accounts,
             sum((SELECT sum(x) FROM unnest(by_hour) x))::int AS by_hour
           FROM guard_organisation_days GROUP BY organisation_id, day ORDER BY organisation_id, day`,
        );
        const guard = {
          accounts: new Map(
            rows.map((r) => [
              r.account_id,
              { state: loadState(r.state, r.seen)!, version: Number(r.version) },
            ]),
          ),
          days,
        };
        return { events, guard, openedHere: driver.servedBy === undefined };
      }),
    );
  }

  /** Waits until no other connection to the database is left (the killed server's), 15 s at most. */
  async function quiet(driver: Driver): Promise<void> {
    for (let waited = 0; ; waited += 50) {
      const [row] = await driver.transaction((tx) =>
        tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        ),
      );
      if (row?.n === 0) return;
      if (waited > 15_000) throw new Error(`${row?.n} connections of the killed server are still open`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** One search by NIR with the account's session: the status, problem code, request id and persons. */
  async function search(
    client: DrillClient,
    nir: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ status: number; code?: string; requestId: string | null; persons: string[] }> {
    const response = await fetch(new URL(SEARCH, baseUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        'x-csrf-token': client.csrf ?? '',
      },
      body: JSON.stringify({ purpose: PURPOSE, by: 'nir', nir, ...extra }),
    });
    const body = (await response.json()) as { results?: { id: string }[]; code?: string };
    return {
      status: response.status,
      ...(body.code === undefined ? {} : { code: body.code }),
      requestId: response.headers.get('x-request-id'),
      persons: (body.results ?? []).map((r) => r.id).sort(),
    };
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-crash-'));
    database = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: path.join(dir, 'data'), DATABASE_URL: database?.url });
    await initDataDir(env);
    const seeded = await rempart(['seed', '--persons', String(PERSONS), '--seed', '15', '--json'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    // The agency with the most persons, and the persons the operator knows in it and outside it.
    const [agency] = await asOwner((driver) =>
      driver.transaction((tx) =>
        tx.query<{ code: string; id: string; time_zone: string }>(
          `SELECT o.code, o.id::text, o.time_zone FROM organisations o JOIN persons p ON p.agency_organisation_id = o.id
           WHERE o.kind = 'agency' GROUP BY o.id ORDER BY count(*) DESC, o.code LIMIT 1`,
        ),
      ),
    );
    organisationId = agency!.id;
    timeZone = agency!.time_zone;
    const notes = (await noteCaseloads(env, [agency!.code], { inside: REACH + 20, outside: 20 })).get(
      agency!.code,
    )!;
    const canaries = new Set(notes.canaries.map((c) => c.id));
    inside = notes.inside.filter((p) => !canaries.has(p.id)).slice(0, REACH);
    outside = notes.outside;
    expect(inside.length).toBe(REACH);
    expect(outside.length).toBeGreaterThan(0);
    // Counselors of that agency, each enrolled with an authenticator app through the API.
    await writeFile(path.join(dir, 'password'), PASSWORD, { mode: 0o600 });
    const logins = Array.from({ length: ACCOUNTS + 1 }, (_, i) => `crash.counselor${i + 1}`);
    await writeFile(
      path.join(dir, 'accounts.jsonl'),
      logins
        .map((login) =>
          JSON.stringify({
            login,
            organisation: agency!.code,
            role: 'counselor',
            email: `${login}@agency.example`,
            displayName: `Agent ${login}`,
            passwordFile: 'password',
          }),
        )
        .join('\n'),
    );
    const created = await rempart(
      ['account', 'create', '--batch', path.join(dir, 'accounts.jsonl'), '--json'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const ids = (lastJsonLine(created.stdout) as { accounts: { login: string; id: string }[] }).accounts;
    const guardFile = path.join(dir, 'guard.json');
    // The guard counts everything and answers nothing, except a step-up at a counselor's first
    // national read (the held account's).
    const roles = LENIENT_GUARD_FILE.roles;
    const counselor = { levels: { ...roles.counselor!.levels, national_persons: { step_up: 1 } } };
    await writeFile(guardFile, JSON.stringify({ ...LENIENT_GUARD_FILE, roles: { ...roles, counselor } }));
    env = { ...env, REMPART_GUARD_CONFIG: guardFile, HOST: '127.0.0.1', PORT: String(await freePort()) };
    baseUrl = `http://127.0.0.1:${env.PORT}`;
    server = await startServe(env, baseUrl);
    for (const { login, id } of ids) {
      const client = new DrillClient(baseUrl, undefined, login);
      expect((await client.post('/api/v1/auth/login', { login, password: PASSWORD })).status).toBe(200);
      const started = await client.post('/api/v1/me/factors/totp', {});
      const factor = started.body as { factorId: string; secret: string };
      expect(started.status).toBe(200);
      const confirmed = await client.post('/api/v1/me/factors/totp/confirm', {
        factorId: factor.factorId,
        code: await totpAt(factor.secret, new Date()),
      });
      expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
      accounts.push({ login, id, client, secret: factor.secret });
    }
    held = accounts.pop()!;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every answer in the audit log and the guard equal to it across a SIGKILL and a restart', async () => {
    // The held account: its first national read asks for a step-up (nothing returned), and so does
    // its next request, until it gives one.
    const national = await search(held.client, outside[0]!.nir, {
      national: true,
      justification: JUSTIFICATION,
    });
    expect([national.status, national.code]).toEqual([403, 'step_up_required']);
    const pending = await search(held.client, inside[0]!.nir);
    expect([pending.status, pending.code]).toEqual([403, 'step_up_required']);

    const started = Date.now();
    const answers: Answer[] = [];
    const failures = { refused: [] as number[], beforeKill: 0, unanswered: 0 };
    let inFlight = 0;
    let inFlightAtKill = -1;
    let answersAtKill = -1;
    const killed = new Promise<void>((resolve) => server!.child.once('exit', () => resolve()));
    let stop = false;
    const kill = (): void => {
      if (inFlightAtKill >= 0) return;
      inFlightAtKill = inFlight;
      answersAtKill = answers.length;
      server!.child.kill('SIGKILL');
    };
    // Each client: searches by NIR, mostly persons of the agency (repeats included), one in ten
    // someone outside it (an empty answer), until the server is gone.
    const loop = async (account: (typeof accounts)[number], k: number): Promise<void> => {
      for (let i = 0; !stop; i += 1) {
        const person =
          i % 10 === 9
            ? outside[(k + i) % outside.length]!
            : inside[Math.floor(Math.random() * inside.length)]!;
        let answer: Awaited<ReturnType<typeof search>> | undefined;
        inFlight += 1;
        try {
          answer = await search(account.client, person.nir);
        } catch {
          // Connection refused or reset: the server is gone.
        } finally {
          inFlight -= 1;
        }
        if (answer === undefined) {
          if (inFlightAtKill < 0) failures.beforeKill += 1;
          else failures.unanswered += 1;
          stop = true;
        } else if (answer.status === 200 && answer.requestId) {
          answers.push({ requestId: answer.requestId, account: account.id, persons: answer.persons });
          if (answers.length >= KILL_AFTER) kill();
        } else {
          // Not what this load expects (a 429 would loop forever): end it, the assertions say why.
          failures.refused.push(answer.status);
          stop = true;
          kill();
        }
      }
    };
    await Promise.all(
      accounts.flatMap((account, a) =>
        Array.from({ length: CLIENTS_PER_ACCOUNT }, (_, c) => loop(account, a * CLIENTS_PER_ACCOUNT + c)),
      ),
    );
    await killed;
    const loadSeconds = (Date.now() - started) / 1000;
    expect(server!.child.signalCode).toBe('SIGKILL');
    expect(failures.refused, 'every answer was a 200').toEqual([]);
    expect(failures.beforeKill, 'no request failed before the kill').toBe(0);
    expect(inFlightAtKill, 'requests were in flight at the kill').toBeGreaterThan(0);

    // Right after the crash, before any server runs again.
    const crashed = await snapshot(true);
    const { events } = crashed;
    const before = crashed.guard;
    // On PGlite this process opened the folder the dead server held (no socket to a live one).
    expect(crashed.openedHere).toBe(true);

    // 1. Every answer received is on record: its allow event, naming exactly its persons.
    const byRequest = new Map(events.map((e) => [e.request_id, e]));
    const loadEvents = events.filter((e) => e.account_id !== held.id);
    const missing = answers.filter((a) => !byRequest.has(a.requestId));
    const wrong = answers.filter((a) => {
      const e = byRequest.get(a.requestId);
      return (
        e !== undefined &&
        (e.decision !== 'allow' ||
          e.action !== 'person.search' ||
          e.account_id !== a.account ||
          e.persons.join() !== a.persons.join())
      );
    });
    const summary =
      `${answers.length} answers received (${answersAtKill} at the kill, ${inFlightAtKill} requests in flight), ` +
      `${loadEvents.length} audit events of the load, ${failures.unanswered} requests unanswered, load ${loadSeconds.toFixed(1)} s`;
    // What the kill caught, in the test's output.
    console.info(`crash under load (${engine}): ${summary}`);
    expect(
      missing.map((a) => a.requestId),
      `answers with no audit event; ${summary}`,
    ).toEqual([]);
    expect(
      wrong.map((a) => a.requestId),
      `answers whose event differs; ${summary}`,
    ).toEqual([]);
    expect(answers.filter((a) => a.persons.length > 0).length).toBeGreaterThan(KILL_AFTER / 2);
    // Committed but never answered: the kill came between the commit and the answer (at most one
    // per request in flight).
    const answered = new Set(answers.map((a) => a.requestId));
    expect(loadEvents.filter((e) => !answered.has(e.request_id)).length).toBeLessThanOrEqual(inFlightAtKill);

    // 2. Each account's guard state is what its audit events say.
    for (const account of accounts) {
      const own = events.filter((e) => e.account_id === account.id);
      const expected = recompute(own, timeZone);
      const held = before.accounts.get(account.id);
      expect(held, `${account.login} has a guard row`).toBeDefined();
      const { state, version } = held!;
      expect(expected.seen.size).toBeLessThan(200);
      expect(
        {
          day: state.day,
          minute: state.minute,
          hour: state.hour,
          m: countsOf(state.m),
          h: countsOf(state.h),
        },
        account.login,
      ).toEqual({
        day: expected.day,
        minute: expected.minute,
        hour: expected.hour,
        m: expected.m,
        h: expected.h,
      });
      expect({ ...countsOf(state.d), refused: state.d.refused }, account.login).toEqual(expected.d);
      expect(seenKeys(state), account.login).toEqual(expected.seen);
      // One guard write per request it counted: the version is the number of its audit events.
      expect(version, account.login).toBe(expected.observed);
    }
    // The held account: both its requests refused on record, each counted once, the step-up pending.
    const heldEvents = events.filter((e) => e.account_id === held.id);
    expect(heldEvents.map((e) => [e.decision, e.reason])).toEqual([
      ['deny', 'guard.step_up'],
      ['deny', 'guard.step_up'],
    ]);
    const heldBefore = before.accounts.get(held.id)!;
    expect(heldBefore.version).toBe(heldEvents.length);
    expect(heldBefore.state.stepUp).not.toBeNull();
    expect(heldBefore.state.d.blocked).toBe(1);
    // The organisation's day is the sum of its accounts' days (the held account's national read included).
    const states = [...before.accounts.values()].map((a) => a.state);
    expect(states).toHaveLength(ACCOUNTS + 1);
    const orgPersons = states.reduce((n, state) => n + state.d.persons, 0);
    const orgEmpty = states.reduce((n, state) => n + state.d.empty, 0);
    const orgAccounts = states.filter((state) => state.d.persons > 0).length;
    const today = before.accounts.get(accounts[0]!.id)!.state.day;
    expect(before.days.filter((d) => d.organisation_id === organisationId)).toEqual([
      {
        organisation_id: organisationId,
        day: today,
        persons: orgPersons,
        empty: orgEmpty,
        refused: 0,
        accounts: orgAccounts,
        by_hour: orgPersons,
      },
    ]);

    // 3. A restarted server: it serves, and finds the same guard state.
    server = await startServe(env, baseUrl);
    const after = (await snapshot()).guard;
    expect(after).toEqual(before);

    // 4. The next request of each account: the answer it would have had before the crash (allow;
    // the held account's step-up), counted once on top of the state the crash left (a person
    // already seen today: no new person).
    const stillHeld = await search(held.client, inside[0]!.nir);
    expect([stillHeld.status, stillHeld.code]).toEqual([403, 'step_up_required']);
    for (const account of accounts) {
      const own = seenKeys(before.accounts.get(account.id)!.state);
      const again = inside.find((p) => own.has(p.id.slice(0, 6)))!;
      const answer = await search(account.client, again.nir);
      expect(answer.status, account.login).toBe(200);
      expect(answer.persons).toEqual([again.id]);
    }
    const later = await snapshot();
    const next = later.guard;
    for (const account of accounts) {
      const was = before.accounts.get(account.id)!;
      const now = next.accounts.get(account.id)!;
      expect(now.version, account.login).toBe(was.version + 1);
      expect(now.state.d.searches).toBe(was.state.d.searches + 1);
      expect(now.state.d.persons).toBe(was.state.d.persons);
      expect(now.state.seen).toBe(was.state.seen);
      expect(now.state.throttledUntil).toBeNull();
      expect(now.state.stepUp).toBeNull();
    }
    const heldLater = next.accounts.get(held.id)!;
    expect(heldLater.version).toBe(heldBefore.version + 1);
    expect(heldLater.state.stepUp).toEqual(heldBefore.state.stepUp);
    expect(heldLater.state.d.blocked).toBe(heldBefore.state.d.blocked + 1);
    expect(later.events.length).toBe(events.length + ACCOUNTS + 1);
    // Once the held account gives its second factor again (the next 30-second step's code: its
    // enrolment used this one), it reads.
    const stepped = await held.client.post('/api/v1/auth/totp', {
      code: await totpAt(held.secret, new Date(Date.now() + 30_000)),
    });
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
    const read = await search(held.client, inside[0]!.nir);
    expect(read.status).toBe(200);
    expect(read.persons).toEqual([inside[0]!.id]);
    // The log the crash left still verifies (its hash chain, its tree, the checkpoints published),
    // with the events written since (docs/SECURITY.md).
    const verified = await rempart(['audit', 'verify', '--json'], env);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(lastJsonLine(verified.stdout)).toMatchObject({
      ok: true,
      events: later.events.length + 1,
      firstMismatch: null,
      problems: [],
    });
  }, 120_000);
});
