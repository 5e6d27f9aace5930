import { describe, expect, it } from 'vitest';
import type { OrgToday, OrgUsual } from './organisation.ts';
import {
  applyVerdict,
  evaluate,
  expectedPersons,
  LIMIT_LABELS,
  limitOf,
  type Situation,
  type Verdict,
} from './signals.ts';
import { type Counts, type DayCounts, freshState, type GuardState } from './state.ts';
import { BUILT_IN, type GuardThresholds, parseGuardConfig, SIGNALS, thresholdsFor } from './thresholds.ts';

const T0 = new Date('2026-03-02T09:00:00Z'); // Monday 10:00:00 in Paris
const COUNSELOR = thresholdsFor(BUILT_IN, 'counselor', 'AGENCY-1');
const PARTNER = thresholdsFor(BUILT_IN, 'partner_counselor', 'CAP-1');

/** The day `age` calendar days before T0's (2026-03-02). */
const dayBefore = (age: number): string =>
  new Date(Date.parse('2026-03-02T00:00:00Z') - age * 86_400_000).toISOString().slice(0, 10);

const situation = (extra: Partial<Situation> = {}): Situation => ({
  at: T0,
  probation: false,
  newSource: false,
  addressChanged: false,
  concurrentAddresses: 0,
  canaries: 0,
  ...extra,
});

/** Counters and fields to set in a fresh state: `{ d: { refused: 4 }, ack: { … } }`. */
type Patch = { m?: Partial<Counts>; h?: Partial<Counts>; d?: Partial<DayCounts> } & Partial<
  Omit<GuardState, 'm' | 'h' | 'd'>
>;

/** A fresh state (Monday 10:00 in Paris) with `patch` applied. */
const stateWith = (patch: Patch = {}): GuardState => {
  const s = freshState(T0, '2026-03-02');
  const { m, h, d, ...rest } = patch;
  Object.assign(s.m, m);
  Object.assign(s.h, h);
  Object.assign(s.d, d);
  Object.assign(s, rest);
  return s;
};

const verdictOf = (patch: Patch, t: GuardThresholds = COUNSELOR, extra: Partial<Situation> = {}): Verdict =>
  evaluate(stateWith(patch), situation(extra), t);

describe('evaluate: each response level is reached', () => {
  /** Sets a signal's value `v` in the state, or in the situation `x`. */
  type Setter = (s: GuardState, v: number, x: Partial<Situation>) => void;
  const d =
    (field: keyof GuardState['d']): Setter =>
    (s, v) => {
      s.d[field] = v;
    };
  const h =
    (field: keyof GuardState['h']): Setter =>
    (s, v) => {
      s.h[field] = v;
    };
  const m =
    (field: keyof GuardState['m']): Setter =>
    (s, v) => {
      s.m[field] = v;
    };
  const run =
    (field: 'seq' | 'alpha'): Setter =>
    (s, v) => {
      s[field] = { last: 7, run: v };
    };
  const x =
    (field: 'addressChanged' | 'concurrentAddresses' | 'canaries'): Setter =>
    (_s, v, extra) => {
      Object.assign(extra, { [field]: field === 'addressChanged' ? v >= 1 : v });
    };
  // With no history and no peers the usual day is the floor (25).
  const beyondFloor: Setter = (s, v) => {
    s.d.persons = 25 + v;
  };
  // Its own usual day is 100 (enough history) and its peers read 20: v beyond 2 × 20.
  const beyondPeers: Setter = (s, v) => {
    Object.assign(s, { baseline: 100, days: 10, peer: 20 });
    s.d.persons = 40 + v;
  };
  // spread over four active days
  const week =
    (field: 'refused' | 'empty'): Setter =>
    (s, v) => {
      s.week = [0, 1, 2, 3].map((i) => ({
        day: `2026-02-2${i}`,
        refused: 0,
        empty: 0,
        [field]: Math.floor(v / 4) + (i < v % 4 ? 1 : 0),
      }));
    };

  // Past days held to 10 a day: v persons beyond them over the window. The account is steady
  // (usual day 2 today, no variance): the configured levels apply, not its spread.
  const pastExcess =
    (ages: number[]): Setter =>
    (s, v) => {
      Object.assign(s, { baseline: 2, ref: 2, days: 10, variance: 0 });
      s.past = ages.map((age, i) => ({
        day: dayBefore(age),
        persons: 10 + Math.floor(v / ages.length) + (i < v % ages.length ? 1 : 0),
        national: 0,
        offHours: 0,
        expected: 10,
      }));
    };
  const pastCount =
    (field: 'national' | 'offHours' | 'exported' | 'offHoursExported', ages: number[]): Setter =>
    (s, v) => {
      s.past = ages.map((age, i) => ({
        day: dayBefore(age),
        persons: 20,
        national: 0,
        offHours: 0,
        expected: null,
        [field]: Math.floor(v / ages.length) + (i < v % ages.length ? 1 : 0),
      }));
    };
  const WEEK = [1, 2, 3, 6];
  const MONTH_ONLY = [10, 12, 20, 29];
  // Its usual day is 4: an honest busy day may read 2 × 4 + 2 × √4 = 12 by the end of the day. An
  // irregular account (spread 20): its week's levels are far above today's excess.
  const ahead: Setter = (s, v, extra) => {
    Object.assign(s, { baseline: 4, ref: 4, days: 10, variance: 400 });
    s.d.persons = 12 + v;
    extra.minutes = 23 * 60 + 59;
  };
  // The organisation's usual: 100 persons a day, all of it by 10:00, no spread; the account (no
  // history: the floor, 25) has read 40 by 10:00, a driver.
  const orgUsual = (over: Partial<OrgUsual> = {}): OrgUsual => ({
    days: 20,
    byHour: Array.from({ length: 24 }, (_, h) => (h < 9 ? 0 : 100)),
    spreadByHour: Array.from({ length: 24 }, () => 0),
    weekExcess: 0,
    weekDays: 0,
    weekEmpty: 0,
    weekRefused: 0,
    usualEmpty: 0,
    usualRefused: 0,
    ...over,
  });
  const orgToday = (over: Partial<OrgToday> = {}): OrgToday => ({
    persons: 0,
    empty: 0,
    refused: 0,
    accounts: 0,
    ...over,
  });
  const orgDay: Setter = (s, v, extra) => {
    s.org = orgUsual();
    s.d.persons = 40;
    Object.assign(extra, { minutes: 10 * 60, orgToday: orgToday({ persons: 200 + v }) });
  };
  // No usual of its own; its kind reads 10 a day per account: 2 active accounts may read
  // 2 × 10 × 2 + 3 × √20 ≈ 53.4 persons.
  const orgKind: Setter = (s, v, extra) => {
    s.kind = { perAccount: 10, samples: 20 };
    s.d.persons = 40;
    Object.assign(extra, { minutes: 17 * 60, orgToday: orgToday({ persons: 53 + v, accounts: 2 }) });
  };
  const orgWeek: Setter = (s, v, extra) => {
    s.org = orgUsual({ weekExcess: 100 + v, weekDays: 0 });
    s.d.persons = 40;
    Object.assign(extra, { minutes: 10 * 60, orgToday: orgToday() });
  };
  const orgCount =
    (field: 'empty' | 'refused'): Setter =>
    (s, v, extra) => {
      s.org = orgUsual(field === 'empty' ? { weekEmpty: v + 3 } : { weekRefused: v + 3 });
      s.week = [
        { day: '2026-02-27', refused: field === 'refused' ? 5 : 0, empty: field === 'empty' ? 5 : 0 },
      ];
      Object.assign(extra, { minutes: 10 * 60, orgToday: orgToday() });
    };
  // Three usual weeks of 100 distinct persons (no caseload known: counts): 2 × 100 + 3 × √100 = 230
  // may be reached in the 6 days before; the account reached 40 of them, with no week before (it
  // drives the rise).
  const orgCover: Setter = (s, v, extra) => {
    s.cover = { weeks: [230 + v, 100, 100, 100], caseloads: [0, 0, 0, 0], own: [40, 0, 0, 0] };
    s.d.persons = 40;
    Object.assign(extra, { minutes: 10 * 60, orgToday: orgToday() });
  };
  // v − 1 earlier days of the week with a response, and a step-up asked now (refused_per_day).
  const responseDays: Setter = (s, v) => {
    s.responded = Array.from({ length: v - 1 }, (_, i) => dayBefore(i + 1));
    s.d.refused = 6;
  };

  const table: [string, GuardThresholds, Setter, number, Verdict['response']][] = [
    ['views_per_minute', COUNSELOR, m('views'), 30, 'throttle'],
    ['views_per_hour', COUNSELOR, h('views'), 200, 'throttle'],
    ['views_per_day', COUNSELOR, d('views'), 400, 'throttle'],
    ['views_per_day', PARTNER, d('views'), 250, 'throttle'],
    ['searches_per_minute', COUNSELOR, m('searches'), 20, 'throttle'],
    ['searches_per_hour', COUNSELOR, h('searches'), 150, 'throttle'],
    ['searches_per_day', COUNSELOR, d('searches'), 400, 'throttle'],
    ['persons_per_minute', COUNSELOR, m('persons'), 15, 'throttle'],
    ['persons_per_hour', COUNSELOR, h('persons'), 80, 'throttle'],
    ['persons_per_hour', PARTNER, h('persons'), 50, 'throttle'],
    ['persons_per_day', COUNSELOR, d('persons'), 300, 'suspend'],
    ['persons_per_day', PARTNER, d('persons'), 150, 'suspend'],
    ['beyond_baseline', COUNSELOR, beyondFloor, 60, 'step_up'],
    ['beyond_baseline', COUNSELOR, beyondFloor, 150, 'suspend'],
    ['beyond_baseline', PARTNER, beyondFloor, 25, 'step_up'],
    ['beyond_baseline', PARTNER, beyondFloor, 40, 'suspend'],
    ['beyond_peers', COUNSELOR, beyondPeers, 60, 'step_up'],
    ['beyond_peers', PARTNER, beyondPeers, 40, 'step_up'],
    ['refused_per_day', COUNSELOR, d('refused'), 6, 'step_up'],
    ['refused_per_day', COUNSELOR, d('refused'), 20, 'suspend'],
    ['refused_per_day', PARTNER, d('refused'), 4, 'step_up'],
    ['refused_per_day', PARTNER, d('refused'), 12, 'suspend'],
    ['refused_per_week', COUNSELOR, week('refused'), 12, 'step_up'],
    ['refused_per_week', COUNSELOR, week('refused'), 30, 'suspend'],
    ['refused_per_week', PARTNER, week('refused'), 8, 'step_up'],
    ['refused_per_week', PARTNER, week('refused'), 20, 'suspend'],
    ['empty_searches_per_hour', COUNSELOR, h('empty'), 10, 'throttle'],
    ['empty_searches_per_day', COUNSELOR, d('empty'), 20, 'step_up'],
    ['empty_searches_per_day', COUNSELOR, d('empty'), 60, 'suspend'],
    ['empty_searches_per_day', PARTNER, d('empty'), 10, 'step_up'],
    ['empty_searches_per_day', PARTNER, d('empty'), 30, 'suspend'],
    ['empty_searches_per_week', COUNSELOR, week('empty'), 40, 'step_up'],
    ['empty_searches_per_week', COUNSELOR, week('empty'), 100, 'suspend'],
    ['empty_searches_per_week', PARTNER, week('empty'), 20, 'step_up'],
    ['empty_searches_per_week', PARTNER, week('empty'), 45, 'suspend'],
    ['sequential_sweep', COUNSELOR, run('seq'), 6, 'throttle'],
    ['sequential_sweep', COUNSELOR, run('seq'), 20, 'suspend'],
    ['alphabetical_sweep', COUNSELOR, run('alpha'), 8, 'throttle'],
    ['alphabetical_sweep', COUNSELOR, run('alpha'), 24, 'suspend'],
    ['off_hours_persons', COUNSELOR, d('offHours'), 15, 'step_up'],
    ['off_hours_persons', COUNSELOR, d('offHours'), 50, 'suspend'],
    ['off_hours_persons', PARTNER, d('offHours'), 10, 'step_up'],
    ['off_hours_persons', PARTNER, d('offHours'), 30, 'suspend'],
    ['national_persons', COUNSELOR, d('national'), 10, 'step_up'],
    ['national_persons', COUNSELOR, d('national'), 40, 'suspend'],
    ['blocked_per_hour', COUNSELOR, h('blocked'), 20, 'suspend'],
    ['session_address_changed', COUNSELOR, x('addressChanged'), 1, 'step_up'],
    ['concurrent_addresses', COUNSELOR, x('concurrentAddresses'), 1, 'step_up'],
    ['canary', COUNSELOR, x('canaries'), 1, 'suspend'],
    ['provisioned_accounts_per_day', COUNSELOR, d('provisionedAccounts'), 5, 'step_up'],
    ['provisioned_accounts_per_day', COUNSELOR, d('provisionedAccounts'), 12, 'suspend'],
    ['caseload_persons_per_day', COUNSELOR, d('caseloadPersons'), 200, 'step_up'],
    ['caseload_persons_per_day', COUNSELOR, d('caseloadPersons'), 500, 'suspend'],
    ['off_hours_provisioning', COUNSELOR, d('offHoursProvisioning'), 1, 'step_up'],
    ['beyond_baseline_week', COUNSELOR, pastExcess(WEEK), 35, 'step_up'],
    ['beyond_baseline_week', COUNSELOR, pastExcess(WEEK), 60, 'suspend'],
    ['beyond_baseline_week', PARTNER, pastExcess(WEEK), 20, 'step_up'],
    ['beyond_baseline_week', PARTNER, pastExcess(WEEK), 35, 'suspend'],
    ['beyond_baseline_month', COUNSELOR, pastExcess(MONTH_ONLY), 60, 'step_up'],
    ['beyond_baseline_month', COUNSELOR, pastExcess(MONTH_ONLY), 100, 'suspend'],
    ['beyond_baseline_month', PARTNER, pastExcess(MONTH_ONLY), 35, 'step_up'],
    ['beyond_baseline_month', PARTNER, pastExcess(MONTH_ONLY), 60, 'suspend'],
    ['national_persons_week', COUNSELOR, pastCount('national', WEEK), 12, 'step_up'],
    ['national_persons_week', COUNSELOR, pastCount('national', WEEK), 30, 'suspend'],
    ['national_persons_month', COUNSELOR, pastCount('national', MONTH_ONLY), 30, 'step_up'],
    ['national_persons_month', COUNSELOR, pastCount('national', MONTH_ONLY), 60, 'suspend'],
    ['off_hours_persons_week', COUNSELOR, pastCount('offHours', WEEK), 30, 'step_up'],
    ['off_hours_persons_week', COUNSELOR, pastCount('offHours', WEEK), 80, 'suspend'],
    ['off_hours_persons_week', PARTNER, pastCount('offHours', WEEK), 20, 'step_up'],
    ['off_hours_persons_week', PARTNER, pastCount('offHours', WEEK), 60, 'suspend'],
    ['export_persons_week', COUNSELOR, pastCount('exported', WEEK), 1000, 'step_up'],
    ['export_persons_week', COUNSELOR, pastCount('exported', WEEK), 10_000, 'suspend'],
    ['export_persons_week', COUNSELOR, d('exported'), 1000, 'step_up'],
    ['export_persons_month', COUNSELOR, pastCount('exported', MONTH_ONLY), 2000, 'step_up'],
    ['export_persons_month', COUNSELOR, pastCount('exported', MONTH_ONLY), 20_000, 'suspend'],
    ['off_hours_exports_month', COUNSELOR, pastCount('offHoursExported', MONTH_ONLY), 15, 'step_up'],
    ['off_hours_exports_month', COUNSELOR, pastCount('offHoursExported', MONTH_ONLY), 100, 'suspend'],
    ['off_hours_exports_month', COUNSELOR, d('offHoursExported'), 15, 'step_up'],
    ['response_days_week', COUNSELOR, responseDays, 3, 'suspend'],
    ['ahead_of_usual', COUNSELOR, ahead, 12, 'step_up'],
    ['ahead_of_usual', COUNSELOR, ahead, 60, 'suspend'],
    ['ahead_of_usual', PARTNER, ahead, 6, 'step_up'],
    ['ahead_of_usual', PARTNER, ahead, 30, 'suspend'],
    ['org_beyond_usual', COUNSELOR, orgDay, 1, 'step_up'],
    ['org_beyond_usual', COUNSELOR, orgDay, 10, 'suspend'],
    ['org_beyond_kind', COUNSELOR, orgKind, 1, 'step_up'],
    ['org_beyond_kind', COUNSELOR, orgKind, 20, 'suspend'],
    ['org_beyond_usual_week', COUNSELOR, orgWeek, 20, 'step_up'],
    ['org_beyond_usual_week', COUNSELOR, orgWeek, 40, 'suspend'],
    ['org_empty_searches_week', COUNSELOR, orgCount('empty'), 10, 'step_up'],
    ['org_empty_searches_week', COUNSELOR, orgCount('empty'), 30, 'suspend'],
    ['org_refused_week', COUNSELOR, orgCount('refused'), 10, 'step_up'],
    ['org_refused_week', COUNSELOR, orgCount('refused'), 30, 'suspend'],
    ['org_caseload_week', COUNSELOR, orgCover, 1, 'step_up'],
    ['org_caseload_week', COUNSELOR, orgCover, 20, 'suspend'],
  ];

  const cases = table.map(([name, t, set, level, response]) => ({
    name,
    role: t === PARTNER ? 'partner_counselor' : 'counselor',
    t,
    set,
    level,
    response,
  }));

  const at = (t: GuardThresholds, set: Setter, v: number): Verdict => {
    const s = freshState(T0, '2026-03-02');
    const extra: Partial<Situation> = {};
    set(s, v, extra);
    return evaluate(s, situation(extra), t);
  };

  it.each(cases)(
    '$name reaches $response at $level ($role), and not one below',
    ({ name, t, set, level, response }) => {
      const verdict = at(t, set, level);
      expect(verdict.response).toBe(response);
      expect(verdict.signals[0]).toEqual({ name, value: level, limit: level, response });
      const below = at(t, set, level - 1);
      expect(below.signals.find((s) => s.name === name && s.response === response)).toBeUndefined();
    },
  );

  it('the table covers every level of the built-in configuration', () => {
    const covered = new Set(cases.map((c) => `${c.role} ${c.name} ${c.response}`));
    const wanted: string[] = [];
    for (const name of SIGNALS) {
      for (const response of Object.keys(COUNSELOR.levels[name]))
        wanted.push(`counselor ${name} ${response}`);
    }
    for (const [name, levels] of Object.entries(BUILT_IN.roles.partner_counselor?.levels ?? {})) {
      for (const response of Object.keys(levels)) wanted.push(`partner_counselor ${name} ${response}`);
    }
    expect(wanted.filter((w) => !covered.has(w))).toEqual([]);
  });

  it('allows a state with nothing in it', () => {
    expect(evaluate(freshState(T0, '2026-03-02'), situation(), COUNSELOR)).toEqual({
      response: 'allow',
      signals: [],
    });
  });
});

describe('expectedPersons', () => {
  it('is the floor without history or peers, the peers’ baseline until its own is trusted, then its own', () => {
    expect(expectedPersons(stateWith(), PARTNER)).toBe(25);
    expect(expectedPersons(stateWith({ peer: 40 }), PARTNER)).toBe(40);
    // Less than baselineMinDays of history: the larger of the peers' (or the floor) and its own.
    expect(expectedPersons(stateWith({ baseline: 60, days: 4 }), PARTNER)).toBe(60);
    expect(expectedPersons(stateWith({ baseline: 10, days: 4 }), PARTNER)).toBe(25);
    // Enough history: its own, even below the floor or its peers'.
    expect(expectedPersons(stateWith({ baseline: 10, days: 5, peer: 40 }), PARTNER)).toBe(10);
  });
});

describe('probation and a new source shrink volume levels only', () => {
  it('probation: × 0.25 on volume levels (beyond_baseline step-up at 6 instead of 25)', () => {
    expect(verdictOf({ d: { persons: 31 } }, PARTNER).response).toBe('allow');
    const probation = verdictOf({ d: { persons: 31 } }, PARTNER, { probation: true });
    expect(probation.response).toBe('step_up');
    expect(probation.signals[0]).toMatchObject({ name: 'beyond_baseline', value: 6, limit: 6 });
    // suspend levels shrink as well: 40 × 0.25 = 10 beyond the floor
    expect(verdictOf({ d: { persons: 35 } }, PARTNER, { probation: true }).response).toBe('suspend');
    // views_per_minute 30 × 0.25 = 7.5 → 8
    expect(verdictOf({ m: { views: 8 } }, COUNSELOR, { probation: true }).signals[0]).toMatchObject({
      name: 'views_per_minute',
      limit: 8,
    });
  });

  it('a new address or device: × 0.5; both: × 0.125', () => {
    expect(verdictOf({ m: { views: 15 } }, COUNSELOR, { newSource: true }).response).toBe('throttle');
    expect(verdictOf({ m: { views: 14 } }, COUNSELOR, { newSource: true }).response).toBe('allow');
    const both = verdictOf({ m: { views: 4 } }, COUNSELOR, { newSource: true, probation: true });
    expect(both.signals[0]).toMatchObject({ name: 'views_per_minute', limit: 4 }); // 3.75 → 4
  });

  it.each<[string, Patch]>([
    ['refused_per_day', { d: { refused: 3 } }],
    ['sequential_sweep', { seq: { last: 1, run: 5 } }],
    ['alphabetical_sweep', { alpha: { last: 1, run: 7 } }],
    ['empty_searches_per_hour', { h: { empty: 9 } }],
    ['blocked_per_hour', { h: { blocked: 19 } }],
  ])('%s keeps its level on probation from a new source', (_name, patch) => {
    expect(verdictOf(patch, PARTNER, { probation: true, newSource: true }).response).toBe('allow');
  });

  it('a canary suspends on probation as at any time (not a volume)', () => {
    expect(verdictOf({}, PARTNER, { probation: true, newSource: true, canaries: 1 }).signals).toEqual([
      { name: 'canary', value: 1, limit: 1, response: 'suspend' },
    ]);
  });

  it('a level never shrinks below 1', () => {
    const tiny = thresholdsFor(
      parseGuardConfig({ defaults: { levels: { views_per_minute: { throttle: 1 } } } }),
      'counselor',
      'X',
    );
    const both = { probation: true, newSource: true };
    expect(verdictOf({}, tiny, both).response).toBe('allow');
    expect(verdictOf({ m: { views: 1 } }, tiny, both).signals[0]).toMatchObject({ limit: 1 });
  });
});

describe('a step-up proven is not asked again until the value grows by another level', () => {
  it('refused_per_day (partner: step-up 4, suspend 12)', () => {
    const refused = (n: number, ack: number): Verdict =>
      verdictOf({ d: { refused: n }, ack: { refused_per_day: ack } }, PARTNER);
    expect(refused(4, 4).response).toBe('allow');
    expect(refused(7, 4).response).toBe('allow');
    expect(refused(8, 4).signals[0]).toMatchObject({
      name: 'refused_per_day',
      response: 'step_up',
      limit: 4,
    });
    // Proven at 8, the next step-up would be at 12; but 12 is the suspend level, which does not move.
    expect(refused(11, 8).response).toBe('allow');
    expect(refused(12, 8).response).toBe('suspend');
    expect(refused(12, 100).response).toBe('suspend');
  });

  it('beyond_baseline (partner: step-up 25, suspend 40): proven at 25, the suspension still comes at 40', () => {
    const beyond = (persons: number): Verdict =>
      verdictOf({ d: { persons }, ack: { beyond_baseline: 25 } }, PARTNER);
    expect(beyond(50).response).toBe('allow');
    expect(beyond(64).response).toBe('allow');
    expect(beyond(65).signals[0]).toMatchObject({ name: 'beyond_baseline', response: 'suspend', limit: 40 });
  });

  it('a proof of one signal does not excuse another', () => {
    const verdict = verdictOf({ d: { refused: 4 }, ack: { off_hours_persons: 10 } }, PARTNER);
    expect(verdict.response).toBe('step_up');
  });

  it('an address change is asked about every time, whatever was proven before (the elevated session is bound to its new address)', () => {
    const verdict = verdictOf({ ack: { session_address_changed: 1 } }, COUNSELOR, { addressChanged: true });
    expect(verdict.response).toBe('step_up');
  });

  it('applyVerdict records the step-up and its values; a later one keeps the first time asked', () => {
    const s = stateWith({ d: { refused: 4 } });
    applyVerdict(s, evaluate(s, situation(), PARTNER), T0);
    expect(s.stepUp).toEqual({ since: T0.toISOString(), signals: { refused_per_day: 4 } });
    s.d.offHours = 10;
    const later = new Date(T0.getTime() + 60_000);
    applyVerdict(s, evaluate(s, situation({ at: later }), PARTNER), later);
    expect(s.stepUp).toEqual({
      since: T0.toISOString(),
      signals: { refused_per_day: 4, off_hours_persons: 10 },
    });
    expect(s.throttledUntil).toBeNull();
  });
});

describe('retryAfter', () => {
  const retryAfter = (patch: Patch, at: Date, t: GuardThresholds = COUNSELOR): number | undefined => {
    const verdict = evaluate(stateWith(patch), situation({ at }), t);
    expect(verdict.response).toBe('throttle');
    return verdict.retryAfter;
  };

  it('runs to the end of the minute for a per-minute signal', () => {
    expect(retryAfter({ m: { views: 30 } }, new Date('2026-03-02T09:00:15Z'))).toBe(45);
    expect(retryAfter({ m: { views: 30 } }, new Date('2026-03-02T09:00:59.500Z'))).toBe(1);
    expect(retryAfter({ m: { views: 30 } }, new Date('2026-03-02T09:00:00Z'))).toBe(60);
  });

  it('runs to the end of the hour for a per-hour signal, at most throttleMinutes (15)', () => {
    expect(retryAfter({ h: { views: 200 } }, new Date('2026-03-02T09:50:00Z'))).toBe(600);
    expect(retryAfter({ h: { views: 200 } }, new Date('2026-03-02T09:10:00Z'))).toBe(900);
  });

  it('a sweep or a daily quota: throttleMinutes, whatever it is set to', () => {
    expect(retryAfter({ seq: { last: 1, run: 6 } }, T0)).toBe(900);
    expect(retryAfter({ d: { views: 400 } }, T0)).toBe(900);
    const short = thresholdsFor(
      parseGuardConfig({ defaults: { parameters: { throttleMinutes: 2 } } }),
      'counselor',
      'X',
    );
    expect(retryAfter({ seq: { last: 1, run: 6 } }, T0, short)).toBe(120);
    expect(retryAfter({ h: { views: 200 } }, new Date('2026-03-02T09:50:00Z'), short)).toBe(120);
  });

  it('says when it ends (retryAt) and which kinds of limit, in words without numbers', () => {
    const at = new Date('2026-03-02T09:55:30Z');
    const verdict = verdictOf({ m: { views: 30 }, h: { searches: 150 } }, COUNSELOR, { at });
    expect(verdict.retryAt).toBe('2026-03-02T10:00:00.000Z');
    expect(Date.parse(verdict.retryAt!) - at.getTime()).toBe(verdict.retryAfter! * 1000);
    expect(limitOf(verdict)).toBe('records opened this minute; searches this hour');
    for (const label of Object.values(LIMIT_LABELS)) expect(label).not.toMatch(/\d/);
  });

  it('the longest of the windows that overflowed', () => {
    const verdict = verdictOf({ m: { views: 30 }, h: { searches: 150 } }, COUNSELOR, {
      at: new Date('2026-03-02T09:55:30Z'),
    });
    expect(verdict.retryAfter).toBe(270);
    expect(verdict.signals.map((s) => s.name).sort()).toEqual(['searches_per_hour', 'views_per_minute']);
  });

  it('applyVerdict throttles until then', () => {
    const s = stateWith({ m: { views: 30 } });
    const at = new Date('2026-03-02T09:00:15Z');
    applyVerdict(s, evaluate(s, situation({ at }), COUNSELOR), at);
    expect(s.throttledUntil).toBe('2026-03-02T09:01:00.000Z');
    expect(s.stepUp).toBeNull();
  });
});

describe('several signals', () => {
  it('answer with the most severe, and list all that reached a level, most severe first', () => {
    const verdict = verdictOf(
      { m: { views: 30 }, d: { refused: 6, offHours: 15 } }, // a throttle, two step-ups
      COUNSELOR,
      { canaries: 1 }, // a suspension
    );
    expect(verdict.response).toBe('suspend');
    expect(verdict.retryAfter).toBeUndefined();
    expect(verdict.signals.map((s) => s.response)).toEqual(['suspend', 'step_up', 'step_up', 'throttle']);
    expect(verdict.signals[0]!.name).toBe('canary');
    const stepUps = verdict.signals.filter((s) => s.response === 'step_up').map((s) => s.name);
    expect(stepUps.sort()).toEqual(['off_hours_persons', 'refused_per_day']);
  });

  it('a step-up outranks a throttle, and a step-up verdict carries no Retry-After', () => {
    const verdict = verdictOf({ m: { views: 30 }, d: { refused: 6 } });
    expect(verdict.response).toBe('step_up');
    expect(verdict.retryAfter).toBeUndefined();
    expect(verdict.signals.map((s) => s.name)).toEqual(['refused_per_day', 'views_per_minute']);
  });
});
