/**
 * The drill's setup pieces, as an operator and the staff would do them: a throwaway folder and
 * database, owners' passwords and authenticator apps (enrolled through the API), and the World the
 * scenarios attack — the server's address, the staff's mailboxes, and sign-in as the owners do it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import { runDistribute } from '../src/cli/distribute.ts';
import { citusNodes, createCitusDatabase, dropCitusDatabase, onDatabase } from '../src/db/citus-database.ts';
import { runOnce } from '../src/db/postgres.ts';
import { DrillClient, type Tally } from './client.ts';
import type { CaseloadNotes } from './leak.ts';
import type { Mailbox } from './mailbox.ts';
import type {
  CastSpec,
  ClientOptions,
  DrillClock,
  OperatorOptions,
  Scenario,
  StaffMember,
  World,
} from './scenario.ts';
import { outsideAddress } from './workstations.ts';

const TOTP_PERIOD_MS = 30_000;

/** The security officer every drill has: it watches account statuses (World.accountStatus). */
export const WATCHER: CastSpec = { name: 'security', role: 'security_officer', organisationKind: 'national' };

/** The union of the scenarios' casts and the watcher; one name, one account. */
export function castOf(scenarios: Scenario[]): CastSpec[] {
  const byName = new Map<string, CastSpec>();
  for (const spec of [WATCHER, ...scenarios.flatMap((s) => s.cast)]) {
    const seen = byName.get(spec.name);
    if (
      seen &&
      (seen.role !== spec.role ||
        seen.organisationKind !== spec.organisationKind ||
        (seen.organisationRank ?? 0) !== (spec.organisationRank ?? 0))
    ) {
      throw new Error(`drill cast: two scenarios describe "${spec.name}" differently`);
    }
    byName.set(spec.name, spec);
  }
  return [...byName.values()];
}

/**
 * A throwaway folder, and a throwaway database on the server when there is one. On a Citus
 * coordinator (the citus extension in the database of DATABASE_URL) the database is made on every
 * node and distributed, as an operator sets one up: `rempart db distribute` after the migrations.
 */
export async function sandbox(
  databaseUrl: string | undefined,
): Promise<{ dir: string; databaseUrl: string | undefined; citus: boolean; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'rempart-drill-'));
  if (databaseUrl === undefined) {
    return {
      dir,
      databaseUrl: undefined,
      citus: false,
      remove: () => rm(dir, { recursive: true, force: true }),
    };
  }
  const name = `rempart_drill_${randomBytes(5).toString('hex')}`;
  let nodes: string[] | undefined;
  try {
    nodes = await citusNodes(databaseUrl);
    if (nodes) {
      await createCitusDatabase(nodes, name);
      await runDistribute({ databaseUrl: onDatabase(databaseUrl, name) });
    } else {
      await runOnce(databaseUrl, `CREATE DATABASE ${name}`);
    }
  } catch (error) {
    if (nodes) await dropCitusDatabase(nodes, name).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const cluster = nodes;
  return {
    dir,
    databaseUrl: onDatabase(databaseUrl, name),
    citus: cluster !== undefined,
    async remove() {
      try {
        if (cluster) await dropCitusDatabase(cluster, name);
        else await runOnce(databaseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A password an owner would choose: long, random, not on any list. */
export function ownerPassword(): string {
  return `rampart ${randomBytes(9).toString('base64url')} meadow ${randomBytes(3).toString('hex')}`;
}

/**
 * The owner's next TOTP code at the simulated time, never of a step already used: when the step
 * the code needs is still ahead, the clock moves on to it (30 s at most) instead of waiting.
 */
export async function nextTotp(clock: DrillClock, member: StaffMember): Promise<string> {
  for (;;) {
    const step = Math.floor(clock.now().getTime() / TOTP_PERIOD_MS);
    // The server accepts one step either side; the next step's code lets a second login follow at once.
    const target = Math.max(step, member.lastStep + 1);
    if (target <= step + 1) {
      member.lastStep = target;
      return generate({ secret: member.secret, epoch: (target * TOTP_PERIOD_MS) / 1000 });
    }
    await clock.set(new Date((target - 1) * TOTP_PERIOD_MS + 100));
  }
}

/** A new client: at the given address and browser (kept), or from outside until an owner signs in on it. */
export function newClient(
  baseUrl: string,
  label: string,
  tally?: Tally,
  options: ClientOptions = {},
): DrillClient {
  return new DrillClient(baseUrl, tally, label, {
    address: options.address ?? outsideAddress(label),
    ...(options.userAgent === undefined ? {} : { userAgent: options.userAgent }),
    pinned: options.address !== undefined || options.userAgent !== undefined,
  });
}

/** The owner's first login: enrol an authenticator app, keep the recovery codes, log out. */
export async function enrol(world: World, member: StaffMember): Promise<void> {
  const client = world.client(`${member.name} (enrolment)`).seat(member.workstation);
  const login = await client.post('/api/v1/auth/login', { login: member.login, password: member.password });
  if (login.status !== 200) throw new Error(`${member.name}: first login answered ${login.status}`);
  const started = await client.post('/api/v1/me/factors/totp', {});
  const factor = started.body as { factorId?: string; secret?: string };
  if (started.status !== 200 || !factor.secret || !factor.factorId) {
    throw new Error(`${member.name}: starting enrolment answered ${started.status}`);
  }
  member.secret = factor.secret;
  const confirmed = await client.post('/api/v1/me/factors/totp/confirm', {
    factorId: factor.factorId,
    code: await world.totpCode(member),
  });
  if (confirmed.status !== 200)
    throw new Error(`${member.name}: confirming enrolment answered ${confirmed.status}`);
  member.recoveryCodes = (confirmed.body as { recoveryCodes?: string[] }).recoveryCodes ?? [];
  await client.post('/api/v1/auth/logout', {});
}

/** The World the scenarios attack. */
export function openWorld(options: {
  baseUrl: string;
  clock: DrillClock;
  mailbox: Mailbox;
  staff: Map<string, StaffMember>;
  persons: number;
  /** The caseload notes, by organisation code. */
  caseloads?: Map<string, CaseloadNotes>;
  operator?: (args: string[], options?: OperatorOptions) => Promise<Record<string, unknown>>;
  progress: (line: string) => void;
}): World {
  const { baseUrl, clock, mailbox, staff, persons, progress } = options;
  let watch: DrillClient | undefined;
  const world: World = {
    baseUrl,
    clock,
    mailbox,
    persons,
    honestOwners: [],
    staff(name) {
      const member = staff.get(name);
      if (!member) throw new Error(`no staff member "${name}" in the drill's cast`);
      return member;
    },
    client: (label, tally, clientOptions) => newClient(baseUrl, label, tally, clientOptions),
    totpCode: (member) => nextTotp(clock, member),
    async signIn(client, member) {
      client.seat(member.workstation);
      // An attacker's failures on the account may make the server ask for a pause first (backoff);
      // an owner waits and tries again, as people do (simulated time: no real wait).
      let login = await client.post('/api/v1/auth/login', {
        login: member.login,
        password: member.password,
      });
      for (const pause of [1_000, 3_000, 10_000]) {
        if (login.status !== 401) break;
        await clock.advance(pause);
        login = await client.post('/api/v1/auth/login', { login: member.login, password: member.password });
      }
      if (login.status !== 200)
        throw new Error(`${member.name} could not log in (${login.status} ${login.code})`);
      const verified = await client.post('/api/v1/auth/totp', { code: await nextTotp(clock, member) });
      if (verified.status !== 200) {
        throw new Error(
          `${member.name}'s authenticator code was refused (${verified.status} ${verified.code})`,
        );
      }
      return verified;
    },
    async accountStatus(login) {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        if (!watch) {
          watch = newClient(baseUrl, 'security officer');
          await world.signIn(watch, world.staff(WATCHER.name));
        }
        const answer = await watch.get('/api/v1/accounts');
        if (answer.status === 404) return undefined;
        if (answer.status === 200) {
          const accounts = (answer.body as { accounts?: { login: string; status: string }[] }).accounts ?? [];
          return accounts.find((a) => a.login.toLowerCase() === login.toLowerCase())?.status;
        }
        watch = undefined; // the session ended (idle timeout): sign in again
      }
      return undefined;
    },
    caseload(name) {
      const member = world.staff(name);
      const notes = options.caseloads?.get(member.organisation);
      if (!notes) throw new Error(`the drill noted no caseload for "${name}" (leak: true in its cast spec)`);
      return notes;
    },
    operator(args, operatorOptions) {
      if (!options.operator) throw new Error('this drill world runs no operator commands');
      return options.operator(args, operatorOptions);
    },
    progress,
  };
  return world;
}
