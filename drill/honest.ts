/**
 * The honest month (issue 5, item 6): a thousand staff (by default) doing their ordinary work
 * through the HTTP API only, over a month of simulated calendar days, before the attacks run on the
 * same server. The guard must leave them alone: the drill counts the suspensions, step-ups and
 * throttles they met (report.ts, `honest`).
 *
 * Setup (before): the operator created the accounts with `rempart account create --batch` and
 * noted their worklists (honest-plan.ts). Here each owner logs in once with the password and
 * enrols a passkey (passkey.ts) — after that, logins are passwordless, so a month of logins costs
 * no password hashing. Each working day (Monday–Friday, French public holidays off), the simulated
 * clock steps minute by minute through the day, and each minute's actions (honest-day.ts) are sent
 * concurrently (at most `concurrency` owners at once; one owner's actions in order). An owner:
 * - logs in with the passkey at the start of the day, and again when the session has been idle past
 *   the timeout (a browser knows its idle timer) or answers 401;
 * - on `step_up_required`, gives a fresh passkey assertion as second factor and tries again;
 * - on 429, comes back after Retry-After, later in the day;
 * - on `account_suspended`, stops: the account is suspended for the rest of the month.
 * The same seed gives the same month. Progress lines carry counts and dates, never personal data.
 */

import { addDays, dayLabel, isoDay, isWorkingDay, wallTime, zonedInstant } from './calendar.ts';
import { type DrillClient, type Exchange, guardResponseOf, Tally } from './client.ts';
import { type HonestAction, justification, mistyped, organisationFactor, planDay } from './honest-day.ts';
import type { HonestAccountPlan } from './honest-plan.ts';
import { enrolPasskey, passkeyFor, passkeyLogin, passkeySecondFactor } from './passkey.ts';
import { Random } from './random.ts';
import { type HonestResult, NO_HONEST } from './report.ts';
import type { World } from './scenario.ts';
import type { VirtualAuthenticator } from './virtual-authenticator.ts';

/** The purpose honest reads are made for (every role of the model holds it). */
const PURPOSE = 'accompaniment';
/** An owner whose session has been unused this long logs in again before acting (the idle timeout is 15 min). */
const IDLE_RELOGIN_MS = 14 * 60_000;

/** An honest account once created: the plan, and what its owner holds. */
export interface HonestOwner {
  plan: HonestAccountPlan;
  id: string;
  password: string;
  key: VirtualAuthenticator;
  client: DrillClient;
  /** Suspended by the guard: the owner stops for the rest of the month. */
  suspended: boolean;
  /** Simulated time of the session's last use (ms), or null with no session. */
  lastUse: number | null;
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function inPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(runners);
}

/** The owners of the planned accounts (created by the operator with these ids and passwords). */
export function honestOwners(
  world: World,
  plans: readonly HonestAccountPlan[],
  created: ReadonlyMap<string, { id: string; password: string }>,
): HonestOwner[] {
  return plans.map((plan) => {
    const account = created.get(plan.login);
    if (!account) throw new Error(`honest account ${plan.index} was not created`);
    return {
      plan,
      id: account.id,
      password: account.password,
      key: passkeyFor(world.baseUrl),
      // Honest owners keep no exchanges: a month of them would fill the memory.
      client: world.client(`honest ${plan.index}`, new Tally({ keepExchanges: false }), plan.workstation),
      suspended: false,
      lastUse: null,
    };
  });
}

/** Each owner's first login (password) and passkey enrolment, then logout; throws on the first failure. */
export async function enrolHonest(
  world: World,
  owners: readonly HonestOwner[],
  concurrency = 8,
): Promise<void> {
  let done = 0;
  await inPool(owners, concurrency, async (owner) => {
    const { client } = owner;
    const login = await client.post('/api/v1/auth/login', {
      login: owner.plan.login,
      password: owner.password,
    });
    if (login.status !== 200)
      throw new Error(
        `honest account ${owner.plan.index}: first login answered ${login.status} ${login.code ?? ''}`,
      );
    const enrolled = await enrolPasskey(client, owner.key);
    if (enrolled.status !== 200) {
      throw new Error(
        `honest account ${owner.plan.index}: passkey enrolment answered ${enrolled.status} ${enrolled.code ?? ''}`,
      );
    }
    await client.post('/api/v1/auth/logout', {});
    client.forget();
    done += 1;
    if (done % 250 === 0 || done === owners.length)
      world.progress(`honest: ${done} of ${owners.length} passkeys enrolled`);
  });
}

/** Counters of the month. */
interface Counts {
  reads: number;
  searches: number;
  nationalReads: number;
  stepUps: number;
  throttles: number;
  unexpected: number;
  /** `GET /api/v1/persons/{id} → 404 not_found` → times: what was unexpected, without personal data. */
  what: Map<string, number>;
}

/** The outcome of one action: done (whatever the answer), or come back after `retryAfter` seconds. */
type Outcome = { again?: number };

/** Runs the honest month from the simulated day `start` (Paris date) for `days` calendar days. */
export async function runHonestMonth(
  world: World,
  owners: readonly HonestOwner[],
  options: {
    start: { year: number; month: number; day: number };
    days: number;
    seed: number;
    concurrency?: number;
  },
): Promise<HonestResult> {
  const concurrency = options.concurrency ?? 32;
  const began = performance.now();
  const counts: Counts = {
    reads: 0,
    searches: 0,
    nationalReads: 0,
    stepUps: 0,
    throttles: 0,
    unexpected: 0,
    what: new Map(),
  };
  const random = new Random(options.seed);
  let workingDays = 0;
  let from: Date | null = null;

  const surprise = (what: string): void => {
    counts.unexpected += 1;
    counts.what.set(what, (counts.what.get(what) ?? 0) + 1);
  };
  const unexpected = (call: Exchange): void =>
    surprise(`${call.method} ${call.route} → ${call.status}${call.code ? ` ${call.code}` : ''}`);

  /** A fresh session: the passkey alone (passwordless; it also ends a new account's probation). */
  const logIn = async (owner: HonestOwner): Promise<boolean> => {
    const answer = await passkeyLogin(owner.client, owner.key);
    if (answer.status === 200) {
      owner.lastUse = world.clock.now().getTime();
      return true;
    }
    if (answer.code === 'account_suspended') owner.suspended = true;
    else unexpected(answer);
    owner.lastUse = null;
    return false;
  };

  /**
   * Sends one request (`send` may run twice: after a new login or a step-up), and sorts the answer:
   * success, a guard response (counted), or unexpected.
   */
  const request = async (
    owner: HonestOwner,
    send: () => Promise<Exchange>,
  ): Promise<{ call?: Exchange; again?: number }> => {
    const now = world.clock.now().getTime();
    if (owner.lastUse === null || now - owner.lastUse > IDLE_RELOGIN_MS) {
      if (!(await logIn(owner))) return {};
    }
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const call = await send();
      owner.lastUse = world.clock.now().getTime();
      if (call.status === 200) return { call };
      const guard = guardResponseOf(call);
      if (guard === 'suspend') {
        owner.suspended = true;
        return {};
      }
      if (guard === 'throttle') {
        counts.throttles += 1;
        return { again: call.retryAfter ?? 60 };
      }
      if (call.code === 'step_up_required' && attempt < 2) {
        counts.stepUps += 1;
        const stepped = await passkeySecondFactor(owner.client, owner.key);
        if (stepped.status !== 200) {
          unexpected(stepped);
          return {};
        }
        continue;
      }
      if (call.code === 'unauthenticated' && attempt < 2) {
        if (!(await logIn(owner))) return {};
        continue;
      }
      unexpected(call);
      return {};
    }
    return {};
  };

  const view = async (owner: HonestOwner, id: string): Promise<Outcome> => {
    const route = '/api/v1/persons/{id}';
    const { call, again } = await request(owner, () =>
      owner.client.get(`/api/v1/persons/${id}?purpose=${PURPOSE}`, { route }),
    );
    if (call) counts.reads += 1;
    return again === undefined ? {} : { again };
  };

  const search = (owner: HonestOwner, body: Record<string, unknown>) => {
    counts.searches += 1;
    return request(owner, () => owner.client.post('/api/v1/persons/search', { purpose: PURPOSE, ...body }));
  };

  /** One action; `draw` varies justifications and typos. */
  const act = async (owner: HonestOwner, action: HonestAction, draw: Random): Promise<Outcome> => {
    switch (action.kind) {
      case 'login':
        await logIn(owner);
        return {};
      case 'view':
        return view(owner, action.item.id);
      case 'lookup': {
        const { call, again } = await search(owner, { by: 'agencyId', agencyId: action.item.agencyId });
        if (again !== undefined) return { again };
        const results = (call?.body as { results?: { id: string }[] } | undefined)?.results ?? [];
        // The worklist person is in scope: the search finds them (else the model is wrong: unexpected).
        if (call && !results.some((r) => r.id === action.item.id)) {
          surprise('a search by agency id did not find the worklist person');
        }
        return view(owner, action.item.id);
      }
      case 'typo': {
        const { again } = await search(owner, {
          by: 'agencyId',
          agencyId: mistyped(action.item.agencyId, draw),
        });
        return again === undefined ? {} : { again };
      }
      case 'national': {
        const why = justification(draw);
        const { call, again } = await search(owner, {
          by: 'nameBirth',
          lastName: action.identity.lastName,
          firstName: action.identity.firstNames,
          birthDate: action.identity.birthDate,
          national: true,
          justification: why,
        });
        if (again !== undefined) return { again };
        const found = (call?.body as { results?: { id: string }[] } | undefined)?.results?.[0];
        if (!found) return {};
        const route = '/api/v1/persons/{id}/national-view';
        const read = await request(owner, () =>
          owner.client.post(
            `/api/v1/persons/${found.id}/national-view`,
            { purpose: PURPOSE, justification: why },
            { route },
          ),
        );
        if (read.call) {
          counts.reads += 1;
          counts.nationalReads += 1;
        }
        return read.again === undefined ? {} : { again: read.again };
      }
      case 'logout':
        if (owner.lastUse !== null && world.clock.now().getTime() - owner.lastUse <= IDLE_RELOGIN_MS) {
          await owner.client.post('/api/v1/auth/logout', {});
        }
        owner.client.forget();
        owner.lastUse = null;
        return {};
    }
  };

  for (let d = 0; d < options.days; d += 1) {
    const date = addDays(options.start, d);
    const dayStarted = performance.now();
    if (!isWorkingDay(date)) {
      world.progress(
        `honest: day ${d + 1} of ${options.days}, ${dayLabel(date)}: no work (weekend or public holiday)`,
      );
      continue;
    }
    workingDays += 1;
    // The day's plan: minute → owners → their actions of that minute, in order.
    const byMinute = new Map<number, Map<HonestOwner, HonestAction[]>>();
    const schedule = (minute: number, owner: HonestOwner, actions: HonestAction[]): void => {
      const minuteOwners = byMinute.get(minute) ?? new Map<HonestOwner, HonestAction[]>();
      minuteOwners.set(owner, [...(minuteOwners.get(owner) ?? []), ...actions]);
      byMinute.set(minute, minuteOwners);
    };
    let working = 0;
    const organisationDays = new Map<string, number>();
    const organisationDay = (code: string): number => {
      let factor = organisationDays.get(code);
      if (factor === undefined) {
        factor = organisationFactor(random.fork(`organisation ${code} ${isoDay(date)}`));
        organisationDays.set(code, factor);
      }
      return factor;
    };
    for (const owner of owners) {
      if (owner.suspended) continue;
      const actions = planDay(
        owner.plan,
        random.fork(`${owner.plan.index} ${isoDay(date)}`),
        organisationDay(owner.plan.organisation),
      );
      if (actions.length > 0) working += 1;
      for (const action of actions) schedule(action.minute, owner, [action]);
    }
    const draw = random.fork(`draws ${isoDay(date)}`);
    const requestsBefore = owners.reduce((n, o) => n + o.client.tally.requests, 0);
    const lastMinute = 24 * 60 - 1;
    for (;;) {
      const pending = [...byMinute.keys()];
      if (pending.length === 0) break;
      const minute = Math.min(...pending);
      const minuteOwners = byMinute.get(minute)!;
      byMinute.delete(minute);
      const at = zonedInstant(date, Math.floor(minute / 60), minute % 60);
      if (at.getTime() > world.clock.now().getTime()) await world.clock.set(at);
      from ??= at;
      await inPool([...minuteOwners], concurrency, async ([owner, actions]) => {
        for (let i = 0; i < actions.length; i += 1) {
          if (owner.suspended) return;
          const outcome = await act(owner, actions[i]!, draw);
          if (outcome.again !== undefined) {
            // Throttled: this action and the rest of the minute's come back after Retry-After, within the day.
            const later = minute + Math.max(1, Math.ceil(outcome.again / 60));
            if (later <= lastMinute) schedule(later, owner, actions.slice(i));
            return;
          }
        }
      });
    }
    const requests = owners.reduce((n, o) => n + o.client.tally.requests, 0) - requestsBefore;
    const suspended = owners.filter((o) => o.suspended).length;
    world.progress(
      `honest: day ${d + 1} of ${options.days}, ${dayLabel(date)}: ${working} accounts worked, ${requests.toLocaleString('en')} requests; ` +
        `so far ${suspended} suspensions, ${counts.stepUps} step-ups, ${counts.throttles} throttles, ${counts.unexpected} unexpected ` +
        `(${((performance.now() - dayStarted) / 1000).toFixed(1)} s)`,
    );
  }

  // The security officers' view: an account suspended without its owner being told counts too.
  const statuses = await accountStatuses(world);
  let suspensions = 0;
  for (const owner of owners) {
    if (owner.suspended || statuses.get(owner.plan.login.toLowerCase()) === 'suspended') suspensions += 1;
  }
  const notes = [...counts.what]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([what, n]) => `unexpected: ${what} ×${n}`);
  return {
    ...NO_HONEST,
    accounts: owners.length,
    accountDays: owners.length * workingDays,
    suspensions,
    stepUps: counts.stepUps,
    throttles: counts.throttles,
    days: options.days,
    workingDays,
    requests: owners.reduce((n, o) => n + o.client.tally.requests, 0),
    reads: counts.reads,
    searches: counts.searches,
    nationalReads: counts.nationalReads,
    unexpected: counts.unexpected,
    notes,
    from: from?.toISOString() ?? null,
    to: world.clock.now().toISOString(),
    seconds: (performance.now() - began) / 1000,
  };
}

/** Every account's status as the security officers see it (login → status); empty if unreadable. */
async function accountStatuses(world: World): Promise<Map<string, string>> {
  const officer = world.staff('security');
  const client = world.client('security officer (honest month)');
  try {
    await world.signIn(client, officer);
    const answer = await client.get('/api/v1/accounts');
    const accounts =
      (answer.body as { accounts?: { login: string; status: string }[] } | undefined)?.accounts ?? [];
    return new Map(accounts.map((a) => [a.login.toLowerCase(), a.status]));
  } catch {
    return new Map();
  } finally {
    await client.post('/api/v1/auth/logout', {}).catch(() => undefined);
  }
}

/** The first Paris calendar date of a simulated instant. */
export function parisDate(at: Date): { year: number; month: number; day: number } {
  const { year, month, day } = wallTime(at);
  return { year, month, day };
}
