/**
 * `rempart drill`: replays the breaches of docs/DESIGN.md section 2 against a Rempart server started for
 * the occasion, through its public HTTP API only, after a month of honest work on the same server.
 * Setup is what an operator does — a throwaway data folder (or a new database on the DATABASE_URL
 * server), `rempart seed`, `rempart account create --batch`, `rempart serve` with mail going to a
 * local SMTP server — and the owners enrol their authenticator apps (scenario staff) or passkeys
 * (honest staff) through the API. Before the server starts, the operator notes the caseloads the
 * attacks aim around, with identities inside and outside them (drill/leak.ts), and the honest
 * owners' worklists (drill/honest-plan.ts); a scenario may run `rempart` commands as the operator
 * during the drill (World.operator: T7's `audit scope`).
 * The server runs on a simulated clock the drill sets (REMPART_CLOCK=simulated; drill/clock.ts)
 * and trusts its loopback proxy (TRUST_PROXY=127.0.0.1), so that each client is seen from its own
 * address (drill/workstations.ts). Enrolment happens in real time; the simulated time then starts on
 * a Monday morning at least 8 days later, the honest month runs (drill/honest.ts), and the
 * scenarios start on the Monday after it.
 * The attacks never call Rempart's modules or its database. Whatever happens, the server is stopped
 * and the folder and database removed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../src/config.ts';
import { AppError } from '../src/errors.ts';
import { planOrganisations } from '../src/registry/organisations-plan.ts';
import { addDays, dayLabel, mondayMorning, zonedInstant } from './calendar.ts';
import { SimulatedTime } from './clock.ts';
import { DRILL_DEFAULTS } from './defaults.ts';
import { enrolHonest, type HonestOwner, honestOwners, parisDate, runHonestMonth } from './honest.ts';
import { type HonestPlan, planHonestWork } from './honest-plan.ts';
import { type CaseloadNotes, noteCaseloads } from './leak.ts';
import { type Mailbox, openMailbox } from './mailbox.ts';
import { childEnv, freePort, rempartJson, type ServerProcess, startServe } from './processes.ts';
import { type DrillReport, honestPassed, NO_HONEST, type ScenarioResult } from './report.ts';
import type { CastSpec, OperatorOptions, Scenario, StaffMember, World } from './scenario.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { Workstations } from './workstations.ts';
import { castOf, enrol, openWorld, ownerPassword, sandbox } from './world.ts';

/** The population seed: the drill's organisations are known in advance from it (as an operator knows theirs). */
export const DRILL_SEED = 2024;

/** Persons inside and outside a noted caseload whose identities the attacker holds (CastSpec.leak). */
export const LEAKED = { inside: 4, outside: 12 };

export { DRILL_DEFAULTS } from './defaults.ts';

/** Simulated time starts on a Monday at 08:00 (Paris) at least this long after the real now: new accounts' probation (7 days) is over. */
export const START_AFTER_MS = 8 * 86_400_000;

export interface DrillOptions {
  /** Scenario ids (case-insensitive); empty: all. */
  ids: string[];
  /** Persons in the throwaway registry. */
  persons: number;
  /** Honest accounts working through the honest month before the attacks (0: no honest month). */
  honestAccounts?: number;
  /** Simulated calendar days of the honest month (only working days have work). */
  honestDays?: number;
  /** The environment the drill was started with (PATH, HOME for the child processes). */
  env: NodeJS.ProcessEnv;
  /** Where progress lines go (the CLI passes standard error on a terminal). */
  progress?: (line: string) => void;
}

/**
 * The scenarios named by `ids`, in the order given (all when empty); a group's name (`COLLUDE`)
 * names each of its scenarios. Unknown ids are an error naming the known ones.
 */
export function selectScenarios(ids: string[], known: readonly Scenario[] = SCENARIOS): Scenario[] {
  if (ids.length === 0) return [...known];
  const named = (id: string): Scenario[] =>
    known.filter(
      (s) => s.id.toUpperCase() === id.toUpperCase() || s.group?.toUpperCase() === id.toUpperCase(),
    );
  const unknown = ids.filter((id) => named(id).length === 0);
  if (unknown.length > 0) {
    const groups = [...new Set(known.flatMap((s) => (s.group ? [s.group] : [])))];
    throw new AppError(
      'validation_failed',
      `unknown scenario ${unknown.join(', ')}; known scenarios: ${[...known.map((s) => s.id), ...groups].join(', ')}`,
      { field: 'id' },
    );
  }
  return [...new Set(ids.flatMap(named))];
}

/** Runs the honest month, then the scenarios, on a fresh server; always stops it and removes what setup made. */
export async function runDrill(
  config: Pick<Config, 'databaseUrl'>,
  options: DrillOptions,
): Promise<DrillReport> {
  const scenarios = selectScenarios(options.ids);
  const say = options.progress ?? ((): void => undefined);
  const honestAccounts = options.honestAccounts ?? 0;
  const honestDays = options.honestDays ?? DRILL_DEFAULTS.honestDays;
  const cast = castOf(scenarios);
  // The operator knows the codes of their organisations; for a seeded population they follow from
  // the seed (a pure function, no database): setup knowledge only, never used by an attack.
  const organisations = planOrganisations(DRILL_SEED, options.persons);
  const workstations = new Workstations(organisations.map((o) => o.code));

  let box: Awaited<ReturnType<typeof sandbox>> | undefined;
  let mailbox: Mailbox | undefined;
  let server: ServerProcess | undefined;
  let cleaned: Promise<void> | undefined;
  const children = new AbortController();
  let command: Promise<unknown> | undefined; // the `rempart` child running now, if any
  const operator = <T>(pending: Promise<T>): Promise<T> => {
    command = pending;
    return pending;
  };
  const cleanup = (): Promise<void> => {
    cleaned ??= (async () => {
      children.abort();
      await command?.catch(() => undefined);
      await server?.stop().catch(() => undefined);
      await mailbox?.close().catch(() => undefined);
      await box?.remove();
    })();
    return cleaned;
  };
  const onSignal = (): void => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    say(`setup: throwaway ${config.databaseUrl ? 'database on the PostgreSQL server' : 'PGlite folder'}`);
    box = await sandbox(config.databaseUrl);
    if (box.citus)
      say('setup: the database is on a Citus cluster: made on every node, rempart db distribute');
    mailbox = await openMailbox();
    const base = {
      LOG_LEVEL: 'warn',
      REMPART_DATA: path.join(box.dir, 'data'),
      DATABASE_URL: box.databaseUrl,
    };
    const env = childEnv(options.env, base);

    say(`setup: rempart seed --persons ${options.persons}`);
    await operator(
      rempartJson(['seed', '--persons', String(options.persons), '--seed', String(DRILL_SEED)], env, {
        signal: children.signal,
      }),
    );

    // The operator's notes (before serve: PGlite is one process): the caseloads the attacks aim
    // around, and the honest owners' worklists.
    const staff = new Map<string, StaffMember>();
    const orgOf = (spec: CastSpec): string => {
      const rank = spec.organisationRank ?? 0;
      const found = organisations.filter((o) => o.kind === spec.organisationKind)[rank]?.code;
      if (!found) {
        throw new Error(
          `the seeded population has no organisation of kind ${spec.organisationKind} at rank ${rank} (more persons?)`,
        );
      }
      return found;
    };
    const leaked = cast.filter((spec) => spec.leak).map(orgOf);
    let caseloads = new Map<string, CaseloadNotes>();
    if (leaked.length > 0) {
      say(`setup: noting the caseloads of ${[...new Set(leaked)].join(', ')}`);
      caseloads = await operator(noteCaseloads(env, leaked, LEAKED));
    }
    const run = randomBytes(3).toString('hex');
    let honestPlan: HonestPlan | undefined;
    if (honestAccounts > 0) {
      say(`setup: noting the worklists of ${honestAccounts} honest accounts`);
      honestPlan = await operator(
        planHonestWork(env, {
          accounts: honestAccounts,
          seed: DRILL_SEED,
          loginPrefix: `honest.${run}`,
          workstations,
        }),
      );
      say(`setup: ${honestPlan.summary}`);
    }

    // Every account in one `rempart account create --batch`: the cast, then the honest owners.
    const passwords = path.join(box.dir, 'passwords');
    await mkdir(passwords, { recursive: true, mode: 0o700 });
    const lines: string[] = [];
    const passwordOf = new Map<string, string>();
    const addLine = async (
      login: string,
      organisation: string,
      role: string,
      displayName: string,
    ): Promise<void> => {
      const password = ownerPassword();
      passwordOf.set(login, password);
      const passwordFile = `${login}.password`;
      await writeFile(path.join(passwords, passwordFile), password, { mode: 0o600 });
      lines.push(
        JSON.stringify({
          login,
          organisation,
          role,
          email: `${login}@drill.rempart.invalid`,
          displayName,
          passwordFile,
        }),
      );
    };
    const castLogins = new Map<string, { login: string; organisation: string }>();
    for (const spec of cast) {
      const organisation = orgOf(spec);
      const login = `drill.${spec.name}.${randomBytes(3).toString('hex')}`;
      castLogins.set(spec.name, { login, organisation });
      await addLine(login, organisation, spec.role, `Drill ${spec.name}`);
    }
    for (const account of honestPlan?.accounts ?? []) {
      await addLine(account.login, account.organisation, account.role, `Honest agent ${account.index}`);
    }
    const batch = path.join(passwords, 'accounts.jsonl');
    await writeFile(batch, `${lines.join('\n')}\n`, { mode: 0o600 });
    say(
      `setup: rempart account create --batch (${lines.length} accounts: ${cast.length} for the scenarios, ` +
        `${honestPlan?.accounts.length ?? 0} honest)`,
    );
    const created = await operator(
      rempartJson(['account', 'create', '--batch', batch], env, {
        signal: children.signal,
        timeoutMs: 1_800_000,
      }),
    );
    await rm(passwords, { recursive: true, force: true });
    const ids = new Map(
      ((created.accounts ?? []) as { login: string; id: string }[]).map((a) => [a.login.toLowerCase(), a.id]),
    );
    const idOf = (login: string): string => {
      const id = ids.get(login.toLowerCase());
      if (!id) throw new Error(`rempart account create --batch printed no id for ${login}`);
      return id;
    };
    for (const spec of cast) {
      const { login, organisation } = castLogins.get(spec.name)!;
      staff.set(spec.name, {
        name: spec.name,
        id: idOf(login),
        login,
        password: passwordOf.get(login)!,
        email: `${login}@drill.rempart.invalid`,
        role: spec.role,
        organisation,
        secret: '',
        recoveryCodes: [],
        lastStep: Number.NEGATIVE_INFINITY,
        workstation: workstations.next(organisation),
      });
    }

    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    const serveEnv = childEnv(options.env, {
      ...base,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: baseUrl,
      SMTP_URL: mailbox.url,
      // The drill's time (src/simulated-clock.ts), and its clients' addresses passed on by the
      // loopback "proxy" (drill/workstations.ts).
      REMPART_CLOCK: 'simulated',
      TRUST_PROXY: '127.0.0.1',
      // The drill's world is its seed as of its start: retention archiving its deregistered persons
      // at 02:30 on the first simulated night would change the honest month under the figures.
      REMPART_RETENTION_DAILY_AT: 'off',
    });
    say(`setup: rempart serve on ${baseUrl} (simulated time)`);
    server = await startServe(serveEnv, baseUrl);
    const clock = new SimulatedTime((at) => {
      if (!server) throw new Error('no server to set the time of');
      return server.setClock(at);
    });

    const sandboxed = box;
    // The operator's commands during the drill write to the same people as the server: the public
    // address their messages cite and the mail server (T7's `rempart notify send`).
    const operatorEnv = childEnv(options.env, { ...base, PUBLIC_URL: baseUrl, SMTP_URL: mailbox.url });
    const operatorCommand = async (
      args: string[],
      options: OperatorOptions = {},
    ): Promise<Record<string, unknown>> => {
      // PGlite is one process: the operator's command needs the server stopped, as in production
      // (unless it opens no database).
      const pglite = sandboxed.databaseUrl === undefined && options.database !== false;
      say(`operator: rempart ${args.join(' ')}${pglite ? ' (server stopped meanwhile: PGlite)' : ''}`);
      if (pglite) await server?.stop();
      try {
        return await operator(rempartJson(args, operatorEnv, { signal: children.signal }));
      } finally {
        if (pglite && !children.signal.aborted) {
          server = await startServe(serveEnv, baseUrl);
          // A new server process starts on the system's time: give it the drill's again.
          await clock.resend();
        }
      }
    };

    const world = openWorld({
      baseUrl,
      clock,
      mailbox,
      staff,
      persons: options.persons,
      caseloads,
      operator: operatorCommand,
      progress: say,
    });
    // Enrolment happens now, in real time: the accounts' probation (7 days) is over when the
    // simulated time starts, at least 8 days ahead.
    for (const member of staff.values()) {
      say(`setup: ${member.name} enrols an authenticator app`);
      await enrol(world, member);
    }
    let owners: HonestOwner[] = [];
    if (honestPlan) {
      owners = honestOwners(
        world,
        honestPlan.accounts,
        new Map(
          honestPlan.accounts.map((a) => [
            a.login,
            { id: idOf(a.login), password: passwordOf.get(a.login)! },
          ]),
        ),
      );
      say(`setup: ${owners.length} honest owners log in and enrol a passkey`);
      await enrolHonest(world, owners);
      world.honestOwners.push(...owners);
    }

    const start = mondayMorning(new Date(Date.now() + START_AFTER_MS));
    await clock.set(start);
    say(`simulated time starts ${start.toISOString()} (${dayLabel(parisDate(start))}, 08:00 Paris)`);
    let honest = NO_HONEST;
    if (owners.length > 0) {
      say(`honest month: ${owners.length} accounts, ${honestDays} days from ${dayLabel(parisDate(start))}`);
      honest = await runHonestMonth(world, owners, {
        start: parisDate(start),
        days: honestDays,
        seed: DRILL_SEED,
      });
      // The attacks start on the Monday after the honest month.
      const next = mondayMorning(zonedInstant(addDays(parisDate(start), honestDays), 0));
      if (next.getTime() > clock.now().getTime()) await clock.set(next);
      say(`scenarios start ${clock.now().toISOString()} (${dayLabel(parisDate(clock.now()))})`);
    }

    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      say(`${scenario.id}: ${scenario.title}`);
      results.push(await runOne(scenario, world));
    }
    return {
      passed: results.every((r) => r.passed) && (honest.accounts === 0 || honestPassed(honest)),
      persons: options.persons,
      database: config.databaseUrl ? 'postgres' : 'pglite',
      honest,
      scenarios: results,
    };
  } finally {
    say('teardown: stopping the server, removing the throwaway data');
    await cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Runs one scenario; an exception fails that scenario (with its message) rather than the drill. */
async function runOne(scenario: Scenario, world: World): Promise<ScenarioResult> {
  const started = performance.now();
  try {
    return await scenario.run(world);
  } catch (error) {
    return {
      id: scenario.id,
      title: scenario.title,
      passed: false,
      recordsExposed: 0,
      outsideCaseload: 0,
      beyondBaseline: null,
      requestsToFirstResponse: null,
      requestsToSuspension: null,
      suspended: false,
      requests: 0,
      steps: [],
      remarks: [
        `the scenario stopped on an error: ${error instanceof Error ? error.message : String(error)}`,
      ],
      seconds: (performance.now() - started) / 1000,
    };
  }
}
