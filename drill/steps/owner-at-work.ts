/**
 * The owner of an account a scenario attacks, doing their ordinary work on the same server while
 * the attack runs (T2, T2b, T5, T9, ENUM-*, CANARY): the honest month's model of a day
 * (drill/honest-day.ts: a personal mean of distinct persons, a morning peak, lookups by agency id,
 * a mistyped search now and then, a national search for counselors), but logging in as the
 * scenario's cast does, with password and authenticator app from their workstation. The owner
 * - logs in at the start of the day, and again when their own session has been idle 14 minutes
 *   (the browser's idle timer; the timeout is 15) or answers 401;
 * - on `step_up_required`, verifies the authenticator app again (POST /api/v1/auth/totp: the
 *   session id changes, so a copy of the old cookie dies) and tries again;
 * - on 429, comes back after Retry-After, the same day;
 * - on `account_suspended` (or a login refused while the account is suspended), stops.
 * Every person named in an answer to the owner is noted for the day (PersonDays): the owner's
 * normal day, against which beyondBaseline is measured, comes from this.
 */
import { addDays, isoDay, zonedInstant } from '../calendar.ts';
import { type DrillClient, type Exchange, Tally } from '../client.ts';
import { type HonestAction, justification, mistyped, planDay } from '../honest-day.ts';
import type { HonestAccountPlan } from '../honest-plan.ts';
import { Random } from '../random.ts';
import type { StaffMember, World } from '../scenario.ts';
import { dayOf, type PersonDays } from './exposure.ts';
import { SEARCH, VIEW } from './scope-probe.ts';
import type { Timeline } from './timeline.ts';

/** The purpose honest reads are made for. */
const PURPOSE = 'accompaniment';
/** The owner's browser logs in again after this long unused (the idle timeout is 15 minutes). */
const IDLE_RELOGIN_MS = 14 * 60_000;
const NATIONAL_VIEW = '/api/v1/persons/{id}/national-view';

/** An honest owner working through simulated days on a timeline. */
export class OwnerAtWork {
  /** The owner's browser (its requests are counted apart from the attacker's). */
  readonly client: DrillClient;
  /** Fresh second factors the guard asked of the owner (and the owner gave). */
  stepUps = 0;
  /** 429 answers the owner met. */
  throttles = 0;
  /** Logins with password and authenticator app. */
  logins = 0;
  /** Successful reads (views and national views). */
  reads = 0;
  /** The simulated time the owner found the account suspended, if they did. */
  suspendedAt: Date | null = null;
  /** Answers the model did not expect, by `METHOD route → status code`. */
  readonly unexpected = new Map<string, number>();
  /** Called after each login, with whether it is the day's first (T2: the malware copies the cookie then). */
  onLogin: ((firstOfDay: boolean) => Promise<void> | void) | undefined;

  readonly #world: World;
  readonly #member: StaffMember;
  readonly #plan: HonestAccountPlan;
  readonly #random: Random;
  readonly #timeline: Timeline;
  readonly #days: PersonDays;
  #lastUse: number | null = null;
  #loginDay: string | null = null;

  constructor(options: {
    world: World;
    member: StaffMember;
    plan: HonestAccountPlan;
    seed: number;
    timeline: Timeline;
    days: PersonDays;
  }) {
    this.#world = options.world;
    this.#member = options.member;
    this.#plan = options.plan;
    this.#random = new Random(options.seed);
    this.#timeline = options.timeline;
    this.#days = options.days;
    this.client = options.world.client(`${options.member.name} (owner)`, new Tally({ keepExchanges: false }));
  }

  /** True once the owner found the account suspended. */
  get suspended(): boolean {
    return this.suspendedAt !== null;
  }

  /** Plans the owner's working day `date` (Paris) on the timeline; returns how many actions it holds (0: a day away). */
  scheduleDay(date: { year: number; month: number; day: number }): number {
    const actions = planDay(this.#plan, this.#random.fork(`day ${isoDay(date)}`));
    const draw = this.#random.fork(`draws ${isoDay(date)}`);
    const end = zonedInstant(addDays(date, 1), 0);
    for (const action of actions) {
      const at = zonedInstant(date, Math.floor(action.minute / 60), action.minute % 60);
      const run = async (): Promise<void> => {
        const again = await this.#act(action, draw);
        if (again === undefined) return;
        // Throttled: the owner comes back after Retry-After, within the day.
        const later = new Date(this.#timeline.now().getTime() + Math.max(60, again) * 1000);
        if (later.getTime() < end.getTime()) this.#timeline.schedule(later, run);
      };
      this.#timeline.schedule(at, run);
    }
    return actions.length;
  }

  #surprise(call: Exchange): void {
    const key = `${call.method} ${call.route} → ${call.status}${call.code ? ` ${call.code}` : ''}`;
    this.unexpected.set(key, (this.unexpected.get(key) ?? 0) + 1);
  }

  #suspend(): void {
    this.suspendedAt ??= this.#timeline.now();
    this.#lastUse = null;
  }

  async #logIn(): Promise<boolean> {
    if (this.suspended) return false;
    try {
      await this.#world.signIn(this.client, this.#member);
    } catch {
      this.#lastUse = null;
      // A login refused: the owner learns why from their manager (the security officers' view).
      if ((await this.#world.accountStatus(this.#member.login)) === 'suspended') this.#suspend();
      else this.unexpected.set('login refused', (this.unexpected.get('login refused') ?? 0) + 1);
      return false;
    }
    const now = this.#timeline.now();
    this.logins += 1;
    this.#lastUse = now.getTime();
    this.#days.ownerWorked(now);
    const first = this.#loginDay !== dayOf(now);
    this.#loginDay = dayOf(now);
    await this.onLogin?.(first);
    return true;
  }

  /** One request, sent again after a new login or a step-up; a 429 gives the seconds to wait. */
  async #request(send: () => Promise<Exchange>): Promise<{ call?: Exchange; again?: number }> {
    if (this.suspended) return {};
    const now = this.#timeline.now().getTime();
    if (this.#lastUse === null || now - this.#lastUse > IDLE_RELOGIN_MS) {
      if (!(await this.#logIn())) return {};
    }
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const call = await send();
      this.#lastUse = this.#timeline.now().getTime();
      if (call.status === 200) {
        this.#days.note('owner', this.#timeline.now(), call.body);
        return { call };
      }
      if (call.code === 'account_suspended') {
        this.#suspend();
        return {};
      }
      if (call.status === 429) {
        this.throttles += 1;
        return { again: call.retryAfter ?? 60 };
      }
      if (call.code === 'step_up_required' && attempt < 2) {
        this.stepUps += 1;
        const stepped = await this.client.post('/api/v1/auth/totp', {
          code: await this.#world.totpCode(this.#member),
        });
        if (stepped.status !== 200) {
          this.#surprise(stepped);
          return {};
        }
        continue;
      }
      if (call.code === 'unauthenticated' && attempt < 2) {
        if (!(await this.#logIn())) return {};
        continue;
      }
      this.#surprise(call);
      return {};
    }
    return {};
  }

  async #view(id: string): Promise<number | undefined> {
    const { call, again } = await this.#request(() =>
      this.client.get(`/api/v1/persons/${id}?purpose=${PURPOSE}`, { route: VIEW }),
    );
    if (call) this.reads += 1;
    return again;
  }

  #search(body: Record<string, unknown>): Promise<{ call?: Exchange; again?: number }> {
    return this.#request(() => this.client.post(SEARCH, { purpose: PURPOSE, ...body }, { route: SEARCH }));
  }

  /** One action of the day; returns the seconds to wait when throttled. */
  async #act(action: HonestAction, draw: Random): Promise<number | undefined> {
    if (this.suspended) return undefined;
    switch (action.kind) {
      case 'login':
        await this.#logIn();
        return undefined;
      case 'view':
        return this.#view(action.item.id);
      case 'lookup': {
        const { again } = await this.#search({ by: 'agencyId', agencyId: action.item.agencyId });
        if (again !== undefined) return again;
        return this.#view(action.item.id);
      }
      case 'typo': {
        const { again } = await this.#search({
          by: 'agencyId',
          agencyId: mistyped(action.item.agencyId, draw),
        });
        return again;
      }
      case 'national': {
        const why = justification(draw);
        const { call, again } = await this.#search({
          by: 'nameBirth',
          lastName: action.identity.lastName,
          firstName: action.identity.firstNames,
          birthDate: action.identity.birthDate,
          national: true,
          justification: why,
        });
        if (again !== undefined) return again;
        const found = (call?.body as { results?: { id: string }[] } | undefined)?.results?.[0];
        if (!found) return undefined;
        const read = await this.#request(() =>
          this.client.post(
            NATIONAL_VIEW.replace('{id}', found.id),
            { purpose: PURPOSE, justification: why },
            { route: NATIONAL_VIEW },
          ),
        );
        if (read.call) this.reads += 1;
        return read.again;
      }
      case 'logout':
        if (this.#lastUse !== null && this.#timeline.now().getTime() - this.#lastUse <= IDLE_RELOGIN_MS) {
          await this.client.post('/api/v1/auth/logout', {});
        }
        this.client.forget();
        this.#lastUse = null;
        return undefined;
    }
  }

  /** One line on the owner's days (counts only). */
  summary(): string {
    const mean = this.#days.ownerMean();
    const unexpected = [...this.unexpected].map(([what, n]) => `${what} ×${n}`).join(', ');
    return (
      `the owner worked ${this.#days.ownerDays.size} days (${mean === null ? 'no' : mean.toFixed(1)} distinct persons a day on average), ` +
      `${this.logins} logins with password and authenticator app, ${this.reads} reads; the guard asked the owner ` +
      `${this.stepUps} step-ups (each given) and throttled them ${this.throttles} times` +
      (this.suspendedAt
        ? `; the owner found the account suspended at ${this.suspendedAt.toISOString()}`
        : '') +
      (unexpected ? `; unexpected answers: ${unexpected}` : '')
    );
  }
}
