/**
 * The signals (docs/DESIGN.md section 6) measured on an account's state after an event, and the graded
 * response they call for: allow, throttle (429, Retry-After), step-up (a fresh second factor), or
 * suspend. Pure: the thresholds come from thresholds.ts, the state from state.ts.
 */
import { NO_ORG_VALUES, type OrgToday, type OrgValues, orgValues, shareByNow } from './organisation.ts';
import type { GuardState } from './state.ts';
import { markResponded, ownExpected, weekTotals } from './state.ts';
import type { GuardResponse, GuardThresholds, Levels, SignalName } from './thresholds.ts';
import {
  daysCounted,
  excessOver,
  gaveForFamily,
  MONTH_DAYS,
  pastSum,
  recentGiven,
  responseDays,
  signalFamily,
  WEEK_DAYS,
} from './windows.ts';

/** A signal that called for a response: its value and the level it reached. */
export interface Signal {
  name: SignalName;
  value: number;
  limit: number;
  response: GuardResponse;
  /**
   * A step-up turned into a suspension: the owner already gave one for this signal this week, or
   * the account drew responses on several days of the week (issue 13, escalation).
   */
  escalated?: boolean;
}

export interface Verdict {
  response: 'allow' | GuardResponse;
  /** The signals behind the response (all that reached a level, most severe first). */
  signals: Signal[];
  /** For a throttle: seconds before trying again. */
  retryAfter?: number;
  /** For a throttle: when it ends (ISO 8601). */
  retryAt?: string;
}

/**
 * Each signal's kind of limit in the words of the answer a throttled or stepped-up agent reads
 * (problem+json `limit`): what was counted and over which window, never the level itself (a
 * script told the threshold would stay one request below it, T2).
 */
export const LIMIT_LABELS: Record<SignalName, string> = {
  views_per_minute: 'records opened this minute',
  views_per_hour: 'records opened this hour',
  views_per_day: 'records opened today',
  searches_per_minute: 'searches this minute',
  searches_per_hour: 'searches this hour',
  searches_per_day: 'searches today',
  persons_per_minute: 'persons read this minute',
  persons_per_hour: 'persons read this hour',
  persons_per_day: 'persons read today',
  beyond_baseline: 'persons read today beyond your usual day',
  beyond_peers: 'persons read today beyond your colleagues’ usual day',
  refused_per_day: 'requests refused today',
  refused_per_week: 'requests refused this week',
  empty_searches_per_hour: 'searches that found nobody this hour',
  empty_searches_per_day: 'searches that found nobody today',
  empty_searches_per_week: 'searches that found nobody this week',
  sequential_sweep: 'agency ids searched in sequence',
  alphabetical_sweep: 'names searched in alphabetical order',
  off_hours_persons: 'persons read outside working hours today',
  national_persons: 'persons read through national searches today',
  blocked_per_hour: 'requests refused by the guard this hour',
  session_address_changed: 'a request from another address than the session’s',
  concurrent_addresses: 'sessions open from other addresses',
  canary: 'a protected record',
  provisioned_accounts_per_day: 'accounts and roles requested today',
  caseload_persons_per_day: 'persons added to caseloads today',
  off_hours_provisioning: 'provisioning outside working hours',
  beyond_baseline_week: 'persons read this week beyond your usual days',
  beyond_baseline_month: 'persons read this month beyond your usual days',
  national_persons_week: 'persons read through national searches this week',
  national_persons_month: 'persons read through national searches this month',
  off_hours_persons_week: 'persons read outside working hours this week',
  response_days_week: 'limits reached on several days this week',
  ahead_of_usual: 'persons read so far today beyond your usual day',
  org_beyond_usual: 'persons read by your organisation today beyond its usual',
  org_beyond_kind: 'persons read by your organisation today beyond organisations of its kind',
  org_beyond_usual_week: 'persons read by your organisation this week beyond its usual',
  org_empty_searches_week: 'searches of your organisation that found nobody this week',
  org_refused_week: 'requests of your organisation refused this week',
  org_caseload_week: 'persons of your organisation’s caseload read this week beyond its usual share',
  export_persons_week: 'persons exported this week',
  export_persons_month: 'persons exported this month',
  off_hours_exports_month: 'persons exported outside working hours this month',
};

/** The kinds of limit behind a verdict's response, in words (`limit` of the answer). */
export function limitOf(verdict: Verdict): string {
  const names = [
    ...new Set(verdict.signals.filter((s) => s.response === verdict.response).map((s) => s.name)),
  ];
  return names.length === 0 ? 'a limit of the guard' : names.map((n) => LIMIT_LABELS[n]).join('; ');
}

/** What the guard knows of the request's circumstances beyond the account's counters. */
export interface Situation {
  at: Date;
  /** The account is on probation (new, or recovered). */
  probation: boolean;
  /** The session was opened from an address or device the account had not used lately. */
  newSource: boolean;
  /** The request comes from another address than the session's. */
  addressChanged: boolean;
  /** Other live sessions of the account from other addresses. */
  concurrentAddresses: number;
  /** Canary persons among those the request would return. */
  canaries: number;
  /** The organisation's day so far, this request included (null or absent: not known). */
  orgToday?: OrgToday | null;
  /** The request's local time (minutes since midnight), for the usual by this time of day. */
  minutes?: number;
}

const SEVERITY: Record<Verdict['response'], number> = { allow: 0, throttle: 1, step_up: 2, suspend: 3 };

/**
 * Volume signals: their levels shrink on probation and in sessions from a new address or device.
 * Provisioning levels do not: they are a handful already, and each request needs a fresh factor.
 */
const VOLUME: ReadonlySet<SignalName> = new Set<SignalName>([
  'views_per_minute',
  'views_per_hour',
  'views_per_day',
  'searches_per_minute',
  'searches_per_hour',
  'searches_per_day',
  'persons_per_minute',
  'persons_per_hour',
  'persons_per_day',
  'beyond_baseline',
  'beyond_peers',
  'off_hours_persons',
  'national_persons',
  'beyond_baseline_week',
  'beyond_baseline_month',
  'national_persons_week',
  'national_persons_month',
  'off_hours_persons_week',
  'ahead_of_usual',
  'export_persons_week',
  'export_persons_month',
  'off_hours_exports_month',
]);

/**
 * Signals over more than a day: a step-up the owner gave for one is remembered for a week (its ack
 * does not end with the day), so a value that stays high is not asked about again each morning.
 */
const LONG = (name: SignalName): boolean =>
  name.endsWith('_week') || name.endsWith('_month') || name.startsWith('org_');

/**
 * Families whose given step-ups are remembered a month for escalation: national reads leave the
 * account's own scope, and honest counselors make about two a week — a patient attacker who waits a
 * week for the step-up given to be forgotten is still answered by suspension (MIMIC). The usual
 * day's families (beyond_baseline) keep a week: an honest account's day does grow (a new caseload),
 * and the replay of 1,000 honest accounts suspended one of them with a month's memory. Export volume
 * keeps a month too (T3): honest exports are rare, and a step-up asked again within the month is the
 * pattern of exports repeated just under the levels.
 */
const MONTH_MEMORY: ReadonlySet<string> = new Set([
  'national_persons',
  'export_persons',
  'off_hours_exports',
]);

/**
 * Whether a step-up for `name` escalates: the owner already gave one for the same measure (its
 * family: the day's, the week's and the month's windows alike) within the last week (MONTH_MEMORY:
 * the last month).
 */
/**
 * The value the owner proved for a signal over more than a day: the highest step-up given this week
 * for its family (a busy week proven also answers the month's window for as much).
 */
function familyGiven(given: Record<string, { value: number }>, name: SignalName): number {
  let value = 0;
  for (const [other, g] of Object.entries(given)) {
    if (LONG(other as SignalName) && signalFamily(other) === signalFamily(name))
      value = Math.max(value, g.value);
  }
  return value;
}

function escalates(state: GuardState, name: SignalName): boolean {
  return gaveForFamily(
    state.given,
    name,
    state.day,
    MONTH_MEMORY.has(signalFamily(name)) ? MONTH_DAYS : WEEK_DAYS,
  );
}

/**
 * Signals about the session rather than the volume (an owner moving between networks): asked again
 * each time, never escalated, and not counted as a day with a response.
 */
const SESSION_SIGNALS: ReadonlySet<SignalName> = new Set<SignalName>([
  'session_address_changed',
  'concurrent_addresses',
]);

/** The account's usual day: its own baseline once it has enough history, else its peers' or the floor. */
export function expectedPersons(state: GuardState, t: GuardThresholds): number {
  const p = t.parameters;
  const own = ownExpected(state, p);
  if (own !== null) return own;
  return Math.max(state.peer ?? p.baselineFloor, state.baseline ?? 0);
}

/**
 * Persons so far today beyond what the account's usual day allows by this time of day: its usual
 * pace (its usual day × the share of its organisation's usual day done by now) times 1 + aheadMargin
 * (a busy honest day), plus two Poisson deviations of it. A stolen session reading a day's worth
 * right after the owner's morning login is far ahead; an honest busy day keeps the day's rhythm.
 */
function aheadOf(
  persons: number,
  own: number,
  state: GuardState,
  minutes: number,
  t: GuardThresholds,
): number {
  const pace = own * shareByNow(state.org, minutes);
  return Math.max(0, Math.round(persons - (1 + t.parameters.aheadMargin) * pace - 2 * Math.sqrt(pace)));
}

/** The windows whose level follows the account's own variability (spreadLevel). */
const SPREAD_WINDOWS: Partial<Record<SignalName, number>> = {
  beyond_baseline_week: WEEK_DAYS,
  beyond_baseline_month: MONTH_DAYS,
};

/**
 * For the excess over a week or a month: spreadFactor of the account's own daily spread × √days
 * (the spread of a sum of independent days), for the step-up, and the configured ratio above it
 * for the suspension. An irregular account is allowed its irregularity; a steady one, with a low
 * configured level as the floor, is held to its steadiness. The spread is never taken below a
 * quarter of the usual day (a few days of history say little). 0 for the other signals.
 */
function spreadLevel(
  name: SignalName,
  response: GuardResponse,
  levels: Levels,
  state: GuardState,
  t: GuardThresholds,
): number {
  const span = SPREAD_WINDOWS[name];
  const own = ownExpected(state, t.parameters);
  if (span === undefined || own === null || response === 'throttle') return 0;
  const spread = Math.max(Math.sqrt(state.variance ?? 0), 0.25 * own);
  const stepUp = t.parameters.spreadFactor * spread * Math.sqrt(daysCounted(state.past, state.day, span));
  const ratio = response === 'suspend' && levels.step_up ? (levels.suspend ?? 0) / levels.step_up : 1;
  return stepUp * ratio;
}

/** Each signal's value now. */
export function measure(
  state: GuardState,
  situation: Situation,
  t: GuardThresholds,
): Record<SignalName, number> {
  const week = weekTotals(state);
  const peer = state.peer;
  // The day's counters, less what a reinstatement forgave today.
  const p = state.pardon ?? {};
  const day = (key: keyof NonNullable<GuardState['pardon']>): number =>
    Math.max(0, (state.d[key] ?? 0) - (p[key] ?? 0));
  const persons = day('persons');
  const expected = expectedPersons(state, t);
  const own = ownExpected(state, t.parameters);
  const weekExcess = excessOver(state.past, state.day, WEEK_DAYS, persons, own);
  const national = day('national');
  const exported = day('exported');
  const org: OrgValues =
    situation.orgToday && situation.minutes !== undefined
      ? orgValues(
          state.org,
          state.kind,
          situation.orgToday,
          Math.floor(situation.minutes / 60),
          { persons, expected, weekExcess, weekEmpty: week.empty, weekRefused: week.refused },
          t.parameters,
          state.cover,
        )
      : NO_ORG_VALUES;
  return {
    views_per_minute: state.m.views,
    views_per_hour: state.h.views,
    views_per_day: day('views'),
    searches_per_minute: state.m.searches,
    searches_per_hour: state.h.searches,
    searches_per_day: day('searches'),
    persons_per_minute: state.m.persons,
    persons_per_hour: state.h.persons,
    persons_per_day: persons,
    beyond_baseline: Math.max(0, persons - expected),
    beyond_peers: peer === null ? 0 : Math.max(0, persons - t.parameters.peerFactor * peer),
    refused_per_day: state.d.refused,
    refused_per_week: week.refused,
    empty_searches_per_hour: state.h.empty,
    empty_searches_per_day: state.d.empty,
    empty_searches_per_week: week.empty,
    sequential_sweep: state.seq.run,
    alphabetical_sweep: state.alpha.run,
    off_hours_persons: day('offHours'),
    national_persons: national,
    blocked_per_hour: state.h.blocked,
    session_address_changed: situation.addressChanged ? 1 : 0,
    concurrent_addresses: situation.concurrentAddresses,
    canary: situation.canaries,
    provisioned_accounts_per_day: day('provisionedAccounts'),
    caseload_persons_per_day: day('caseloadPersons'),
    off_hours_provisioning: state.d.offHoursProvisioning,
    beyond_baseline_week: weekExcess,
    beyond_baseline_month: excessOver(state.past, state.day, MONTH_DAYS, persons, own),
    national_persons_week: pastSum(state.past, state.day, WEEK_DAYS, (d) => d.national) + national,
    national_persons_month: pastSum(state.past, state.day, MONTH_DAYS, (d) => d.national) + national,
    off_hours_persons_week: pastSum(state.past, state.day, WEEK_DAYS, (d) => d.offHours) + day('offHours'),
    export_persons_week: pastSum(state.past, state.day, WEEK_DAYS, (d) => d.exported ?? 0) + exported,
    export_persons_month: pastSum(state.past, state.day, MONTH_DAYS, (d) => d.exported ?? 0) + exported,
    off_hours_exports_month:
      pastSum(state.past, state.day, MONTH_DAYS, (d) => d.offHoursExported ?? 0) + day('offHoursExported'),
    // Measured once the response is known (evaluate): 0 here.
    response_days_week: 0,
    ahead_of_usual:
      own === null || situation.minutes === undefined
        ? 0
        : aheadOf(persons, own, state, situation.minutes, t),
    ...org,
  };
}

/**
 * The response the account's state calls for. A step-up level is reached again only after the
 * value has grown by one more level since the owner last proved themselves (state.ack; for the
 * signals over more than a day, the week's `given`): an honest agent who steps up carries on; the
 * rest of the levels (throttle, suspend) do not move. Escalation (issue 13): a step-up the owner
 * already gave for the same signal this week is not asked again, the account is suspended; and a
 * response on `response_days_week` days of a week suspends.
 */
export function evaluate(state: GuardState, situation: Situation, t: GuardThresholds): Verdict {
  const values = measure(state, situation, t);
  const given = recentGiven(state.given, state.day);
  const factor =
    (situation.probation ? t.parameters.probationFactor : 1) *
    (situation.newSource ? t.parameters.newSourceFactor : 1);
  const signals: Signal[] = [];
  for (const [name, value] of Object.entries(values) as [SignalName, number][]) {
    if (value <= 0) continue;
    const levels: Levels = t.levels[name] ?? {};
    const scale = VOLUME.has(name) ? factor : 1;
    let reached: Signal | undefined;
    for (const response of ['suspend', 'step_up', 'throttle'] as const) {
      const level = levels[response];
      if (level === undefined) continue;
      const limit = Math.max(
        1,
        Math.round(Math.max(level, spreadLevel(name, response, levels, state, t)) * scale),
      );
      // A proven step-up excuses the same value again, except for an address: the elevated session
      // is bound to the address it was proven from, so another address is another question.
      const session = SESSION_SIGNALS.has(name);
      const ack = state.ack[name] ?? 0;
      const proven =
        response !== 'step_up' || name === 'session_address_changed'
          ? 0
          : LONG(name)
            ? Math.max(ack, familyGiven(given, name))
            : ack;
      if (value >= limit && value >= proven + limit) {
        reached =
          response === 'step_up' && !session && escalates(state, name)
            ? { name, value, limit, response: 'suspend', escalated: true }
            : { name, value, limit, response };
        break;
      }
    }
    if (reached) signals.push(reached);
  }
  signals.sort((a, b) => SEVERITY[b.response] - SEVERITY[a.response]);
  const first = signals[0]?.response ?? 'allow';
  // Responses on several days of a week: the owner's routine logins clear each one; the account
  // goes to review instead.
  if (first === 'throttle' || first === 'step_up') {
    const counted = signals.some((s) => !SESSION_SIGNALS.has(s.name));
    const level = t.levels.response_days_week?.suspend;
    const days = responseDays(state.responded, state.day, true);
    if (counted && level !== undefined && days >= level) {
      signals.unshift({
        name: 'response_days_week',
        value: days,
        limit: level,
        response: 'suspend',
      });
    }
  }
  const response = signals[0]?.response ?? 'allow';
  if (response !== 'throttle') return { response, signals };
  const seconds = retryAfter(signals, situation.at, t);
  const retryAt = new Date(situation.at.getTime() + seconds * 1000).toISOString();
  return { response, signals, retryAfter: seconds, retryAt };
}

/** Seconds a throttle lasts: to the end of the window that overflowed, at most throttleMinutes. */
function retryAfter(signals: Signal[], at: Date, t: GuardThresholds): number {
  const cap = t.parameters.throttleMinutes * 60;
  const ms = at.getTime();
  let seconds = 0;
  for (const s of signals) {
    if (s.response !== 'throttle') continue;
    if (s.name.endsWith('_per_minute')) seconds = Math.max(seconds, 60 - Math.floor((ms % 60_000) / 1000));
    else if (s.name.endsWith('_per_hour'))
      seconds = Math.max(seconds, 3600 - Math.floor((ms % 3_600_000) / 1000));
    else seconds = cap;
  }
  return Math.max(1, Math.min(cap, seconds));
}

/** Records the response in the state: a throttle until when, a step-up since when and for what. */
export function applyVerdict(state: GuardState, verdict: Verdict, at: Date): void {
  if (verdict.response !== 'allow' && verdict.signals.some((s) => !SESSION_SIGNALS.has(s.name))) {
    markResponded(state);
  }
  if (verdict.response === 'throttle' && verdict.retryAfter !== undefined) {
    state.throttledUntil =
      verdict.retryAt ?? new Date(at.getTime() + verdict.retryAfter * 1000).toISOString();
    state.throttleSignals = verdict.signals.filter((s) => s.response === 'throttle');
  }
  if (verdict.response === 'step_up') {
    const asked = Object.fromEntries(
      verdict.signals.filter((s) => s.response === 'step_up').map((s) => [s.name, s.value]),
    );
    state.stepUp = {
      since: state.stepUp?.since ?? at.toISOString(),
      signals: { ...state.stepUp?.signals, ...asked },
    };
  }
}
