/**
 * The attacker's script holding a stolen session (T2, T2b, T5, T9, ENUM-*, CANARY): the cookie and
 * CSRF token copied from the owner's browser, sent from wherever the scenario says. Its policy is a
 * script's, not a person's:
 * - 429: it waits Retry-After (keeping the session alive with a request to /api/v1/me every
 *   KEEPALIVE_MS, as a script that wants to keep its session would) and sends the request again,
 *   at most `retries` times, then goes on with the next one;
 * - `step_up_required`: it has no authenticator, so it cannot answer; it goes on with its next
 *   request, as a script does;
 * - 401: the session is over (the owner stepped up or logged out, the idle timeout, a
 *   revocation): it waits for the next copy;
 * - `account_suspended`: it stops.
 * Every request is counted on the attacker's tally, and the persons of every successful answer on
 * the day's ledger (PersonDays).
 */
import type { DrillClient, Exchange, Method, Tally } from '../client.ts';
import type { PersonDays } from './exposure.ts';
import type { Timeline } from './timeline.ts';

/** A script waiting out a throttle touches its session this often (the idle timeout is 15 minutes). */
export const KEEPALIVE_MS = 10 * 60_000;

/** A request as the script builds it. */
export interface Move {
  method: Method;
  path: string;
  body?: unknown;
  /** The route pattern (for the tally and the notes). */
  route: string;
}

/** The attacker's client on a stolen session. */
export class Intruder {
  readonly client: DrillClient;
  /** True once the session answered 401: nothing more until the next copy. */
  dead = true;
  /** True once an answer said the account is suspended. */
  suspended = false;
  /** `step_up_required` answers the script could not meet. */
  stepUpsMet = 0;
  /** 429 answers it waited out. */
  throttlesMet = 0;
  /** The simulated time its last answer came back (null: it sent nothing). */
  lastAnswerAt: Date | null = null;
  readonly #timeline: Timeline;
  readonly #days: PersonDays;

  constructor(client: DrillClient, timeline: Timeline, days: PersonDays) {
    this.client = client;
    this.#timeline = timeline;
    this.#days = days;
  }

  get tally(): Tally {
    return this.client.tally;
  }

  /** True when the script cannot go on now: the session is over or the account suspended. */
  get stopped(): boolean {
    return this.dead || this.suspended;
  }

  /** The malware hands over a copy of the owner's session (cookie and CSRF token). */
  steal(owner: DrillClient): void {
    this.client.adopt(owner);
    this.dead = false;
  }

  /** One request, noted; no retry. */
  async send(move: Move): Promise<Exchange> {
    this.#days.attacked(this.#timeline.now());
    const call = await this.client.request(move.method, move.path, move.body, { route: move.route });
    this.lastAnswerAt = this.#timeline.now();
    if (call.status >= 200 && call.status < 300 && move.route.includes('/persons')) {
      this.#days.note('attacker', this.#timeline.now(), call.body);
    }
    if (call.code === 'account_suspended') this.suspended = true;
    else if (call.status === 401) this.dead = true;
    else if (call.code === 'step_up_required') this.stepUpsMet += 1;
    return call;
  }

  /** A request with the script's policy on 429 (wait Retry-After, send again up to `retries` times). */
  async push(move: Move, retries = 1): Promise<Exchange> {
    let call = await this.send(move);
    for (let attempt = 0; attempt < retries && call.status === 429 && !this.stopped; attempt += 1) {
      this.throttlesMet += 1;
      await this.pause((call.retryAfter ?? 60) * 1000 + 1000);
      if (this.stopped) break;
      call = await this.send(move);
    }
    if (call.status === 429 && !this.stopped) {
      // Given up on this one: the script waits the throttle out, then goes on with the next.
      this.throttlesMet += 1;
      await this.pause((call.retryAfter ?? 60) * 1000 + 1000);
    }
    return call;
  }

  /** Waits `ms` of simulated time (the owner's work goes on meanwhile), keeping the session alive. */
  async pause(ms: number): Promise<void> {
    let left = ms;
    while (left > 0 && !this.stopped) {
      const step = Math.min(left, KEEPALIVE_MS);
      await this.#timeline.wait(step);
      left -= step;
      if (left > 0 && !this.stopped) {
        const me = await this.client.get('/api/v1/me');
        if (me.status === 401) this.dead = true;
        if (me.code === 'account_suspended') this.suspended = true;
      }
    }
  }
}
