/**
 * The guard's running state for one account (the JSON of `guard_accounts.state`) and the pure fold
 * of one observed event into it: counters by minute, hour and day, the last seven active days, the
 * sweep runs, the baseline (EWMA of distinct persons per working day) and the step-up in progress.
 * No I/O here: guard.ts reads the state under a row lock, folds, evaluates (signals.ts), writes back.
 */

import type { Coverage, KindUsual, OrgUsual } from './organisation.ts';
import { type Given, noteResponse, type PastDay, pushPast } from './windows.ts';

/** Counters of one window. */
export interface Counts {
  views: number;
  searches: number;
  /** Distinct persons first reached today, in this window. */
  persons: number;
  empty: number;
  /** Requests the guard itself refused (throttled, or waiting for a step-up). */
  blocked: number;
}

export interface DayCounts extends Counts {
  refused: number;
  national: number;
  offHours: number;
  provisionedAccounts: number;
  caseloadPersons: number;
  offHoursProvisioning: number;
  /**
   * Rows of approved exports produced today (T3; absent in a state stored before exports): scored
   * by the export windows, not as the account's own reading unless made outside working hours.
   */
  exported?: number;
  /** Of those, made outside working hours (absent: none). */
  offHoursExported?: number;
}

export interface GuardState {
  v: 1;
  /** The organisation's local day the day counters are for (YYYY-MM-DD). */
  day: string;
  /**
   * The persons reached today: the first 6 hex digits of each id, concatenated (PERSON_SET_CAP at
   * most, so that the state stays small enough to be stored inline; past it, every person counts as
   * new, which only over-counts an account already past most levels; two persons sharing 6 digits,
   * about one chance in a thousand for a day of 200, count once). The audit log keeps the exact
   * list; this only tells "new today" without a query.
   */
  seen: string;
  /** Epoch minute and hour of the minute and hour counters. */
  minute: number;
  hour: number;
  m: Counts;
  h: Counts;
  d: DayCounts;
  /** The last seven active days (today included): refused requests and empty searches. */
  week: { day: string; refused: number; empty: number }[];
  /** Consecutive agency-id searches close to each other; consecutive name searches in order. */
  seq: { last: number | null; run: number };
  /**
   * Consecutive name searches that found nobody, keys moving one way (up or down the alphabet),
   * each within ALPHA_QUIET_MS of the previous: a sweep. Searches that find someone do not count
   * (an agent working down an alphabetical list of their own persons finds them).
   */
  alpha: { last: number | null; run: number; dir?: number; at?: number };
  /** EWMA of distinct persons per working day, and how many days it has folded. */
  baseline: number | null;
  days: number;
  /** Peers' baseline (same role and organisation) read at the start of the day; null without peers. */
  peer: number | null;
  /**
   * The reviewed usual day (issue 13): the baseline when the account first had a week of history,
   * then moved once a working week, up by at most baselineGrowth (down freely). The account is held
   * to at most this × (1 + baselineGrowth): its usual day cannot be raised faster without review.
   */
  ref?: number | null;
  /**
   * EWMA of the squared difference between a day's distinct persons and the baseline it was held
   * to: how much the account's own days vary, so that the windows longer than a day allow an
   * irregular account its irregularity, and hold a steady one to its steadiness.
   */
  variance?: number | null;
  /** The account's past active days, for the windows longer than a day (windows.ts). */
  past?: PastDay[];
  /** Step-ups the owner gave in the last week, by signal (escalation; acks of the long windows). */
  given?: Record<string, Given>;
  /** The days of the last week on which the account drew a response (escalation). */
  responded?: string[];
  /** The peers' usual national reads a week (median), read at the start of the day. */
  peerNational?: number | null;
  /** The organisation's usual day, read at the start of the day (organisation.ts); null: no history. */
  org?: OrgUsual | null;
  /** Organisations of its kind, read at the start of the day (null: not enough of them yet). */
  kind?: KindUsual | null;
  /** The persons its organisation and itself reached over the last weeks, read at the start of the day. */
  cover?: Coverage | null;
  /** Signal values at which the owner last proved themselves by a step-up (per day). */
  ack: Record<string, number>;
  /** A step-up asked for and not yet given: since when, and the signal values that asked for it. */
  stepUp: { since: string; signals: Record<string, number> } | null;
  /**
   * The latest step-up given: a session whose second factor is older than this is still asked for
   * one, even after another session (the owner's, say) proved itself. A cookie copied before the
   * step-up does not ride on the owner's proof.
   */
  proofFloor?: string;
  /** The signals that step-up answered (for the audit of the sessions still refused by the floor). */
  proofSignals?: Record<string, number>;
  /** Requests are throttled until then (ISO). */
  throttledUntil: string | null;
  /** The signals behind the throttle in force (for the audit of the requests it refuses). */
  throttleSignals?: { name: string; value: number; limit: number; response: string }[];
  /**
   * What a security officer forgave by reinstating the account today: the day's counters at that
   * moment, subtracted from them until the day ends (a reinstated account starts afresh, not one
   * request short of the level that suspended it). Absent: nothing forgiven.
   */
  pardon?: Partial<
    Record<
      | 'persons'
      | 'national'
      | 'offHours'
      | 'views'
      | 'searches'
      | 'provisionedAccounts'
      | 'caseloadPersons'
      | 'exported'
      | 'offHoursExported',
      number
    >
  >;
}

/** A name sweep ends after this long without an empty name search. */
export const ALPHA_QUIET_MS = 30 * 60_000;

/** Persons remembered per day in `seen`, and the hex digits kept of each id. */
export const PERSON_SET_CAP = 200;
const KEY_DIGITS = 6;

/** Adds the persons to today's set; returns how many were not in it (all of them once the set is full). */
export function notePersons(state: GuardState, personIds: readonly string[]): number {
  let fresh = 0;
  for (const id of personIds) {
    const key = id.slice(0, KEY_DIGITS).toLowerCase();
    if (holds(state.seen, key)) continue;
    fresh += 1;
    if (state.seen.length < PERSON_SET_CAP * KEY_DIGITS) state.seen += key;
  }
  return fresh;
}

/** Whether `seen` holds `key` at a key boundary. */
function holds(seen: string, key: string): boolean {
  for (let i = seen.indexOf(key); i !== -1; i = seen.indexOf(key, i + 1)) {
    if (i % KEY_DIGITS === 0) return true;
  }
  return false;
}

/** What one request (or provisioning act) adds. */
export interface GuardEvent {
  at: Date;
  /** The organisation's local day and whether `at` is outside its working hours. */
  day: string;
  offHours: boolean;
  views: number;
  searches: number;
  /** Persons in the answer that this account had not reached earlier today. */
  newPersons: number;
  national: boolean;
  /** Refused by the policy (out of scope, purpose, search kind). */
  refused: boolean;
  /** Refused by the guard before the read (throttle in force, step-up pending). */
  blocked: boolean;
  /** A search that found nobody. */
  empty: boolean;
  /** The sortable key of a search, for sweep detection: agency-id number, or name prefix. */
  sweep?: { kind: 'agencyId' | 'name'; key: number };
  canaries: number;
  provisionedAccounts?: number;
  caseloadPersons?: number;
  /** Rows of an approved export produced by this request (person.export). */
  exported?: number;
}

const zero = (): Counts => ({ views: 0, searches: 0, persons: 0, empty: 0, blocked: 0 });
const zeroDay = (): DayCounts => ({
  ...zero(),
  refused: 0,
  national: 0,
  offHours: 0,
  provisionedAccounts: 0,
  caseloadPersons: 0,
  offHoursProvisioning: 0,
  exported: 0,
});

export const epochMinute = (at: Date): number => Math.floor(at.getTime() / 60_000);
export const epochHour = (at: Date): number => Math.floor(at.getTime() / 3_600_000);

/** A new account's state. */
export function freshState(at: Date, day: string): GuardState {
  return {
    v: 1,
    day,
    seen: '',
    minute: epochMinute(at),
    hour: epochHour(at),
    m: zero(),
    h: zero(),
    d: zeroDay(),
    week: [],
    seq: { last: null, run: 0 },
    alpha: { last: null, run: 0 },
    baseline: null,
    days: 0,
    peer: null,
    ack: {},
    stepUp: null,
    throttledUntil: null,
  };
}

/** The parameters a new day needs. */
export interface RollParameters {
  baselineAlpha: number;
  baselineMinDays: number;
  baselineGrowth: number;
}

/** Working days between two moves of the reviewed usual day (`ref`). */
export const REF_STEP_DAYS = 5;

/**
 * The usual day the account is held to once it has a history of its own: its baseline, but never
 * more than the reviewed usual day raised by one step of growth (null: no history of its own yet).
 */
export function ownExpected(
  state: GuardState,
  p: Pick<RollParameters, 'baselineMinDays' | 'baselineGrowth'>,
): number | null {
  if (state.baseline === null || state.days < p.baselineMinDays) return null;
  const ref = state.ref ?? state.baseline;
  return Math.min(state.baseline, ref * (1 + p.baselineGrowth));
}

/**
 * Moves the state to the event's day, minute and hour: a new day folds the finished one into the
 * baseline and the past days (if it was a working day for the account), moves the reviewed usual
 * day once a working week, and clears the day's counters and acks.
 * Returns true when the day changed (the caller then refreshes the peers' and organisation's usual).
 */
export function rollOver(state: GuardState, at: Date, day: string, p: RollParameters): boolean {
  const minute = epochMinute(at);
  const hour = epochHour(at);
  if (minute !== state.minute) {
    state.minute = minute;
    state.m = zero();
  }
  if (hour !== state.hour) {
    state.hour = hour;
    state.h = zero();
  }
  if (day === state.day) return false;
  const worked = state.d.persons > 0 || state.d.views > 0 || state.d.searches > 0;
  const exported = state.d.exported ?? 0;
  const offHoursExported = state.d.offHoursExported ?? 0;
  const exports = exported > 0 ? { exported, ...(offHoursExported > 0 ? { offHoursExported } : {}) } : {};
  if (!worked && exported > 0) {
    // A day of exports only: kept for the export windows, out of the usual day (expected null).
    state.past = pushPast(state.past, {
      day: state.day,
      persons: 0,
      national: 0,
      offHours: 0,
      expected: null,
      ...exports,
    });
  }
  if (worked) {
    const d = state.d;
    state.past = pushPast(state.past, {
      day: state.day,
      persons: d.persons,
      national: d.national,
      offHours: d.offHours,
      expected: ownExpected(state, p),
      ...exports,
    });
    const alpha = p.baselineAlpha;
    if (state.baseline !== null) {
      // Winsorised at three spreads: the days of an attack (or one odd day) do not teach the account
      // that it is irregular, so its levels do not widen under a patient attacker.
      const cap = 3 * Math.max(Math.sqrt(state.variance ?? 0), 0.25 * state.baseline);
      const deviation = Math.min(Math.abs(d.persons - state.baseline), cap) ** 2;
      state.variance = state.variance == null ? deviation : alpha * deviation + (1 - alpha) * state.variance;
    }
    state.baseline = state.baseline === null ? d.persons : alpha * d.persons + (1 - alpha) * state.baseline;
    state.days += 1;
    const since = state.days - p.baselineMinDays;
    if (since === 0 || (since > 0 && (state.ref ?? null) === null)) state.ref = state.baseline;
    else if (since > 0 && since % REF_STEP_DAYS === 0) {
      state.ref = Math.min(state.baseline, (state.ref ?? state.baseline) * (1 + p.baselineGrowth));
    }
  }
  state.day = day;
  state.seen = '';
  state.d = zeroDay();
  state.ack = {};
  delete state.pardon;
  return true;
}

/**
 * A security officer reinstated the account (review queue): no response pending, the windows and
 * the week's refusals and empty searches cleared, sweeps ended, and the day's volume so far forgiven
 * (`pardon`). The baseline is kept: what was read still happened.
 */
export function reinstateState(state: GuardState): void {
  state.stepUp = null;
  delete state.proofFloor;
  delete state.proofSignals;
  state.throttledUntil = null;
  state.m = zero();
  state.h = zero();
  const d = state.d;
  state.pardon = {
    persons: d.persons,
    national: d.national,
    offHours: d.offHours,
    views: d.views,
    searches: d.searches,
    provisionedAccounts: d.provisionedAccounts,
    caseloadPersons: d.caseloadPersons,
    exported: d.exported ?? 0,
    offHoursExported: d.offHoursExported ?? 0,
  };
  state.d = { ...d, refused: 0, empty: 0, blocked: 0, offHoursProvisioning: 0 };
  state.week = [];
  // Reviewed: the usual day as it now stands is accepted, the escalation memory cleared.
  if (state.baseline !== null && state.days > 0) state.ref = state.baseline;
  delete state.given;
  delete state.responded;
  state.seq = { last: null, run: 0 };
  state.alpha = { last: null, run: 0 };
}

/**
 * Clears a pending step-up once a second factor was given after it was asked for; remembers the
 * values proven (today's acks) and, for escalation, that the owner gave it (a week).
 */
export function settleStepUp(state: GuardState, mfaAt: Date | null): void {
  if (state.stepUp && mfaAt && mfaAt.getTime() > Date.parse(state.stepUp.since)) {
    const given = { ...state.given };
    for (const [name, value] of Object.entries(state.stepUp.signals)) {
      state.ack[name] = Math.max(state.ack[name] ?? 0, value);
      given[name] = { value: Math.max(given[name]?.value ?? 0, value), day: state.day };
    }
    state.given = given;
    state.proofFloor = state.stepUp.since;
    state.proofSignals = state.stepUp.signals;
    state.stepUp = null;
  }
}

/** Adds the event's counts (after rollOver). */
export function addEvent(state: GuardState, event: GuardEvent, sequentialGap: number): void {
  for (const window of [state.m, state.h, state.d]) {
    window.views += event.views;
    window.searches += event.searches;
    window.persons += event.newPersons;
    window.empty += event.empty ? 1 : 0;
    window.blocked += event.blocked ? 1 : 0;
  }
  const d = state.d;
  if (event.refused) d.refused += 1;
  if (event.national) d.national += event.newPersons;
  if (event.offHours) {
    d.offHours += event.newPersons;
    if ((event.provisionedAccounts ?? 0) + (event.caseloadPersons ?? 0) > 0) d.offHoursProvisioning += 1;
  }
  d.provisionedAccounts += event.provisionedAccounts ?? 0;
  d.caseloadPersons += event.caseloadPersons ?? 0;
  if (event.exported) {
    d.exported = (d.exported ?? 0) + event.exported;
    if (event.offHours) d.offHoursExported = (d.offHoursExported ?? 0) + event.exported;
  }

  let today = state.week.find((w) => w.day === state.day);
  if (!today) {
    today = { day: state.day, refused: 0, empty: 0 };
    state.week = [...state.week, today].slice(-7);
  }
  if (event.refused) today.refused += 1;
  if (event.empty) today.empty += 1;

  if (event.sweep?.kind === 'agencyId') {
    const { last } = state.seq;
    // The same id again is a retry: it neither extends the run nor ends it (else one repeat in
    // every five searches would keep a sweep under the throttle).
    if (event.sweep.key !== last) {
      const close = last !== null && Math.abs(event.sweep.key - last) <= sequentialGap;
      state.seq = { last: event.sweep.key, run: close ? state.seq.run + 1 : 1 };
    }
  } else if (event.sweep?.kind === 'name' && event.empty) {
    const { last, dir = 0, at = 0 } = state.alpha;
    const key = event.sweep.key;
    const now = event.at.getTime();
    const step = last === null ? 0 : Math.sign(key - last);
    const continues =
      last !== null && now - at <= ALPHA_QUIET_MS && (step === 0 || dir === 0 || step === dir);
    state.alpha = continues
      ? { last: key, run: state.alpha.run + 1, dir: step === 0 ? dir : step, at: now }
      : { last: key, run: 1, dir: 0, at: now };
  }
}

/** Notes that the account drew a response today (escalation: responses on several days of a week). */
export function markResponded(state: GuardState): void {
  state.responded = noteResponse(state.responded, state.day);
}

/** The week's totals. */
export function weekTotals(state: GuardState): { refused: number; empty: number } {
  return state.week.reduce((t, w) => ({ refused: t.refused + w.refused, empty: t.empty + w.empty }), {
    refused: 0,
    empty: 0,
  });
}

/**
 * The sortable key of a name search: the first three letters of the normalised last name in base 27
 * (a coarse bucket, 19,683 of them; the name itself is never kept).
 */
export function nameSweepKey(normalisedLastName: string): number {
  // normaliseName gives upper case: fold it, or every name keys to 0 and any name searches, in
  // any order, make an "alphabetical" run.
  const letters = normalisedLastName
    .toLowerCase()
    .replace(/[^a-z]/g, '')
    .slice(0, 3)
    .padEnd(3, '`');
  let key = 0;
  for (const ch of letters) key = key * 27 + (ch.charCodeAt(0) - 96);
  return key;
}

/** The sortable key of an agency-id search: its seven digits. */
export function agencyIdSweepKey(agencyId: string): number | undefined {
  const digits = /^(\d{7})[A-Z]$/.exec(agencyId.toUpperCase());
  return digits ? Number(digits[1]) : undefined;
}

/** The state as stored: the JSON without `seen`, and `seen` as bytes. */
export function stored(state: GuardState): { json: string; seen: Buffer } {
  const { seen, ...rest } = state;
  return { json: JSON.stringify(rest), seen: Buffer.from(seen, 'hex') };
}

/** A state as read: the JSON and the `seen` bytes put together. */
export function loadState(json: Omit<GuardState, 'seen'> | null, seen: Uint8Array | null): GuardState | null {
  if (!json) return null;
  return { ...json, seen: seen ? Buffer.from(seen).toString('hex') : '' } as GuardState;
}
