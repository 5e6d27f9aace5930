/**
 * `rempart drill`: replays the breaches of DESIGN.md section 2 against a Rempart server started for
 * the occasion, through its public HTTP API only. Setup is what an operator does — a throwaway data
 * folder (or a new database on the DATABASE_URL server), `rempart seed`, `rempart account create`,
 * `rempart serve` with mail going to a local SMTP server — and the owners enrol their authenticator
 * apps through the API. For scenarios that aim around a caseload (T2-scope, T7), the operator notes
 * it before the server starts, with identities inside and outside it (drill/leak.ts); a scenario may
 * run `rempart` commands as the operator during the drill (World.operator: T7's `audit scope`).
 * The attacks never call Rempart's modules or its database. Whatever happens, the server is stopped
 * and the folder and database removed.
 */
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../src/config.ts';
import { AppError } from '../src/errors.ts';
import { planOrganisations } from '../src/registry/organisations-plan.ts';
import { type CaseloadNotes, noteCaseloads } from './leak.ts';
import { type Mailbox, openMailbox } from './mailbox.ts';
import { childEnv, freePort, rempartJson, type ServerProcess, startServe } from './processes.ts';
import type { DrillReport, ScenarioResult } from './report.ts';
import type { Scenario, StaffMember, World } from './scenario.ts';
import { SCENARIOS } from './scenarios/index.ts';
import { castOf, enrol, openWorld, ownerPassword, sandbox } from './world.ts';

/** The population seed: the drill's organisations are known in advance from it (as an operator knows theirs). */
export const DRILL_SEED = 2024;

/** Persons inside and outside a noted caseload whose identities the attacker holds (CastSpec.leak). */
export const LEAKED = { inside: 4, outside: 12 };

export interface DrillOptions {
  /** Scenario ids (case-insensitive); empty: all. */
  ids: string[];
  /** Persons in the throwaway registry. */
  persons: number;
  /** The environment the drill was started with (PATH, HOME for the child processes). */
  env: NodeJS.ProcessEnv;
  /** Where progress lines go (the CLI passes standard error on a terminal). */
  progress?: (line: string) => void;
}

/** The scenarios named by `ids`, in the order given (all when empty); unknown ids are an error naming the known ones. */
export function selectScenarios(ids: string[], known: readonly Scenario[] = SCENARIOS): Scenario[] {
  if (ids.length === 0) return [...known];
  const byId = new Map(known.map((s) => [s.id.toUpperCase(), s]));
  const unknown = ids.filter((id) => !byId.has(id.toUpperCase()));
  if (unknown.length > 0) {
    throw new AppError(
      'validation_failed',
      `unknown scenario ${unknown.join(', ')}; known scenarios: ${known.map((s) => s.id).join(', ')}`,
      { field: 'id' },
    );
  }
  return [...new Set(ids.map((id) => byId.get(id.toUpperCase())!))];
}

/** Runs the scenarios on a fresh server; always stops it and removes what setup made. */
export async function runDrill(
  config: Pick<Config, 'databaseUrl'>,
  options: DrillOptions,
): Promise<DrillReport> {
  const scenarios = selectScenarios(options.ids);
  const say = options.progress ?? ((): void => undefined);
  const cast = castOf(scenarios);
  // The operator knows the codes of their organisations; for a seeded population they follow from
  // the seed (a pure function, no database): setup knowledge only, never used by an attack.
  const organisations = planOrganisations(DRILL_SEED, options.persons);

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

    const staff = new Map<string, StaffMember>();
    for (const spec of cast) {
      const organisation = organisations.find((o) => o.kind === spec.organisationKind)?.code;
      if (!organisation)
        throw new Error(`the seeded population has no organisation of kind ${spec.organisationKind}`);
      const login = `drill.${spec.name}.${randomBytes(3).toString('hex')}`;
      const password = ownerPassword();
      const passwordFile = path.join(box.dir, `${login}.password`);
      await writeFile(passwordFile, password, { mode: 0o600 });
      say(
        `setup: rempart account create --login ${login} --role ${spec.role} --organisation ${organisation}`,
      );
      const created = await operator(
        rempartJson(
          [
            ...['account', 'create', '--login', login, '--organisation', organisation, '--role', spec.role],
            ...['--email', `${login}@drill.rempart.invalid`, '--display-name', `Drill ${spec.name}`],
            ...['--password-file', passwordFile],
          ],
          env,
          { signal: children.signal },
        ),
      );
      await rm(passwordFile, { force: true });
      if (typeof created.id !== 'string') throw new Error('rempart account create printed no account id');
      staff.set(spec.name, {
        name: spec.name,
        id: created.id,
        login,
        password,
        email: `${login}@drill.rempart.invalid`,
        role: spec.role,
        organisation,
        secret: '',
        recoveryCodes: [],
        lastStep: Number.NEGATIVE_INFINITY,
      });
    }

    // The operator's notes on the caseloads the attacks aim around (before serve: PGlite is one process).
    const leaked = cast.filter((spec) => spec.leak).map((spec) => staff.get(spec.name)!.organisation);
    let caseloads = new Map<string, CaseloadNotes>();
    if (leaked.length > 0) {
      say(`setup: noting the caseloads of ${[...new Set(leaked)].join(', ')}`);
      caseloads = await operator(noteCaseloads(env, leaked, LEAKED));
    }

    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    const serveEnv = childEnv(options.env, {
      ...base,
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: baseUrl,
      SMTP_URL: mailbox.url,
    });
    say(`setup: rempart serve on ${baseUrl}`);
    server = await startServe(serveEnv, baseUrl);

    const sandboxed = box;
    const operatorCommand = async (args: string[]): Promise<Record<string, unknown>> => {
      // PGlite is one process: the operator's command needs the server stopped, as in production.
      const pglite = sandboxed.databaseUrl === undefined;
      say(`operator: rempart ${args.join(' ')}${pglite ? ' (server stopped meanwhile: PGlite)' : ''}`);
      if (pglite) await server?.stop();
      try {
        return await operator(rempartJson(args, env, { signal: children.signal }));
      } finally {
        if (pglite && !children.signal.aborted) server = await startServe(serveEnv, baseUrl);
      }
    };

    const world = openWorld({
      baseUrl,
      mailbox,
      staff,
      persons: options.persons,
      caseloads,
      operator: operatorCommand,
      progress: say,
    });
    for (const member of staff.values()) {
      say(`setup: ${member.name} enrols an authenticator app`);
      await enrol(world, member);
    }

    const results: ScenarioResult[] = [];
    for (const scenario of scenarios) {
      say(`${scenario.id}: ${scenario.title}`);
      results.push(await runOne(scenario, world));
    }
    return {
      passed: results.every((r) => r.passed),
      persons: options.persons,
      database: config.databaseUrl ? 'postgres' : 'pglite',
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
      requests: 0,
      requestsToSuspension: null,
      steps: [],
      remarks: [
        `the scenario stopped on an error: ${error instanceof Error ? error.message : String(error)}`,
      ],
      seconds: (performance.now() - started) / 1000,
    };
  }
}
