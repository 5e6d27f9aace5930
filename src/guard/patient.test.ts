/**
 * The guard against patient and colluding attackers (issue 13), on the decision code alone: the
 * reviewed usual day that grows at most baselineGrowth a week, escalation (a step-up given this week
 * is not asked again), the organisation's usual (medians; alerted days left out) and its signals
 * answered on the accounts driving the rise only, and a replay of simulated weeks (bench/guard-replay.ts)
 * in which honest owners are left alone and RAMP, COLLUDE and MIMIC are stopped within their goals.
 */
import { describe, expect, it } from 'vitest';
import { replay } from '../../bench/guard-replay.ts';
import { type Coverage, coverageValue, type OrgDay, orgUsual, orgValues } from './organisation.ts';
import { evaluate, type Situation } from './signals.ts';
import { freshState, ownExpected, rollOver, settleStepUp } from './state.ts';
import { BUILT_IN, thresholdsFor } from './thresholds.ts';

const PARTNER = thresholdsFor(BUILT_IN, 'partner_counselor', 'CAP-1');
const P = PARTNER.parameters;
const at = (day: string, time = '10:00'): Date => new Date(`${day}T${time}:00Z`);
const situation = (day: string, extra: Partial<Situation> = {}): Situation => ({
  at: at(day),
  probation: false,
  newSource: false,
  addressChanged: false,
  concurrentAddresses: 0,
  canaries: 0,
  ...extra,
});

/** Working days from 2026-03-02 (Monday), weekends skipped. */
const days = (n: number): string[] => {
  const out: string[] = [];
  for (let i = 0; out.length < n; i += 1) {
    const d = new Date(Date.parse('2026-03-02T00:00:00Z') + i * 86_400_000);
    if (d.getUTCDay() % 6 !== 0) out.push(d.toISOString().slice(0, 10));
  }
  return out;
};

describe('the reviewed usual day', () => {
  it('starts at the baseline of the first week, and the usual day held to grows at most baselineGrowth a week', () => {
    const s = freshState(at('2026-03-02'), '2026-03-02');
    const calendar = days(26);
    // A first week of 10 a day, then 10 more every day: the EWMA follows, the reviewed day does not.
    calendar.forEach((day, i) => {
      rollOver(s, at(day), day, P);
      s.d.persons = i < 5 ? 10 : 10 + 10 * (i - 4);
    });
    rollOver(s, at('2026-04-07'), '2026-04-07', P);
    expect(s.baseline!).toBeGreaterThan(150);
    // Four weekly steps since the first week: 10 × 1.15^4, and the day held to one step above.
    expect(s.ref).toBeCloseTo(10 * 1.15 ** 4, 5);
    expect(ownExpected(s, P)).toBeCloseTo(10 * 1.15 ** 5, 5);
    // Without the cap (an EWMA alone) the same account would be expected to read its ramp.
    expect(ownExpected({ ...s, ref: null }, P)).toBeCloseTo(s.baseline!, 5);
  });

  it('falls with the account: a quieter month is the usual day at once', () => {
    const s = freshState(at('2026-03-02'), '2026-03-02');
    days(21).forEach((day, i) => {
      rollOver(s, at(day), day, P);
      s.d.persons = i < 10 ? 20 : 4;
    });
    rollOver(s, at('2026-04-01'), '2026-04-01', P);
    expect(ownExpected(s, P)!).toBeLessThan(6);
  });
});

describe('escalation', () => {
  const stepUpThenAgain = (givenDay: string, today: string) => {
    const s = freshState(at(today), today);
    // The owner gave a step-up for refused_per_day on `givenDay`.
    s.day = givenDay;
    s.stepUp = { since: at(givenDay, '09:00').toISOString(), signals: { refused_per_day: 4 } };
    settleStepUp(s, at(givenDay, '09:30'));
    s.day = today;
    s.ack = {};
    s.d.refused = 4;
    return evaluate(s, situation(today), PARTNER);
  };

  it('a step-up the owner already gave this week for the same signal is not asked again: the account is suspended', () => {
    const verdict = stepUpThenAgain('2026-03-03', '2026-03-05');
    expect(verdict.response).toBe('suspend');
    expect(verdict.signals[0]).toMatchObject({
      name: 'refused_per_day',
      response: 'suspend',
      escalated: true,
    });
  });

  it('a week later it is a step-up again', () => {
    const verdict = stepUpThenAgain('2026-02-25', '2026-03-05');
    expect(verdict.response).toBe('step_up');
    expect(verdict.signals[0]).toMatchObject({ name: 'refused_per_day', response: 'step_up' });
    expect(verdict.signals[0]!.escalated).toBeUndefined();
  });

  /** A counselor who gave a step-up for `givenFor` on `givenDay`, reaching `value` national persons over the week today. */
  const nationalAgain = (givenFor: string, givenDay: string, today: string) => {
    const counselor = thresholdsFor(BUILT_IN, 'counselor', 'FT-1');
    const s = freshState(at(today), today);
    s.given = { [givenFor]: { value: 12, day: givenDay } };
    // Earlier in the week: 8 national persons on each of two days; today 8 more.
    s.past = [-2, -1].map((offset) => ({
      day: new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10),
      persons: 8,
      national: 8,
      offHours: 0,
      expected: 16,
    }));
    s.d.national = 8;
    s.d.persons = 8;
    return evaluate(s, situation(today), counselor);
  };

  it('national reads: a step-up given for the week’s window escalates the next one of the family for a month (MIMIC)', () => {
    // 24 national persons over the week: the week's level (12) again above what was proven (12).
    const verdict = nationalAgain('national_persons_week', '2026-02-23', '2026-03-05');
    expect(verdict.response).toBe('suspend');
    expect(verdict.signals[0]).toMatchObject({ name: 'national_persons_week', escalated: true });
    // The day's window is of the same family: a step-up given for it counts too.
    expect(nationalAgain('national_persons', '2026-02-23', '2026-03-05').response).toBe('suspend');
  });

  it('national reads: after a month the memory is gone, a step-up again', () => {
    const verdict = nationalAgain('national_persons_week', '2026-02-01', '2026-03-05');
    expect(verdict.response).toBe('step_up');
    expect(verdict.signals[0]!.escalated).toBeUndefined();
  });

  /** A counselor who gave a step-up for export volume on `givenDay`; two weekly exports of 999 rows in the month, a third today. */
  const exportAgain = (givenDay: string, today: string) => {
    const counselor = thresholdsFor(BUILT_IN, 'counselor', 'FT-1');
    const s = freshState(at(today), today);
    s.given = { export_persons_month: { value: 2000, day: givenDay } };
    s.past = [-14, -7].map((offset) => ({
      day: new Date(Date.parse(`${today}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10),
      persons: 0,
      national: 0,
      offHours: 0,
      expected: null,
      exported: 999,
    }));
    s.d.exported = 999;
    return evaluate(s, situation(today), counselor);
  };

  it('exports (T3): a step-up given for export volume escalates the next one for a month, whatever the week', () => {
    // Three exports of 999 rows, a week apart: each under the week's level (1,000); the month's
    // window reaches 2,997, above the 2,000 proven three weeks ago: suspended, not asked again.
    const verdict = exportAgain('2026-02-12', '2026-03-05');
    expect(verdict.response).toBe('suspend');
    expect(verdict.signals[0]).toMatchObject({ name: 'export_persons_month', escalated: true });
    // Without a step-up given in the month, it is one.
    const fresh = exportAgain('2026-01-20', '2026-03-05');
    expect(fresh.response).toBe('step_up');
    expect(fresh.signals[0]!.name).toBe('export_persons_month');
  });

  it('the usual day’s family keeps a week only: a step-up given ten days ago for it does not escalate another family', () => {
    const verdict = nationalAgain('beyond_baseline_week', '2026-03-04', '2026-03-05');
    expect(verdict.response).toBe('step_up');
  });

  it('an address change is asked every time and never escalates', () => {
    const s = freshState(at('2026-03-05'), '2026-03-05');
    s.given = { session_address_changed: { value: 1, day: '2026-03-04' } };
    const verdict = evaluate(s, situation('2026-03-05', { addressChanged: true }), PARTNER);
    expect(verdict.response).toBe('step_up');
  });

  it('a week-long value the owner proved yesterday is not asked about again today', () => {
    const s = freshState(at('2026-03-05'), '2026-03-05');
    // Usual day 10, spread 10: the week's step-up level is 4 × 10 × √4 = 80 (suspension 140).
    Object.assign(s, { baseline: 10, ref: 10, days: 10, variance: 100 });
    s.past = ['2026-03-02', '2026-03-03', '2026-03-04'].map((day) => ({
      day,
      persons: 37,
      national: 0,
      offHours: 0,
      expected: 10,
    }));
    const asked = evaluate(s, situation('2026-03-05'), PARTNER);
    expect(asked.signals[0]).toMatchObject({
      name: 'beyond_baseline_week',
      value: 81,
      limit: 80,
      response: 'step_up',
    });
    // The step-up given yesterday answered both windows (the month holds the same days).
    expect(asked.signals.map((x) => x.name)).toEqual(['beyond_baseline_week', 'beyond_baseline_month']);
    s.given = {
      beyond_baseline_week: { value: 81, day: '2026-03-04' },
      beyond_baseline_month: { value: 81, day: '2026-03-04' },
    };
    expect(evaluate(s, situation('2026-03-05'), PARTNER).response).toBe('allow');
  });
});

describe('the organisation', () => {
  const hours = (perHour: Record<number, number>): number[] =>
    Array.from({ length: 24 }, (_, h) => perHour[h] ?? 0);
  const day = (d: string, persons: number, alerted = false): OrgDay => ({
    day: d,
    persons,
    byHour: hours({ 9: persons / 2, 14: persons / 2 }),
    empty: 1,
    refused: 0,
    alerted,
  });

  it('its usual is the median of its days by hour; alerted days are left out, and five days are needed', () => {
    const past = [
      day('2026-03-02', 100),
      day('2026-03-03', 110),
      day('2026-03-04', 90),
      day('2026-03-05', 400, true),
      day('2026-03-06', 100),
    ];
    expect(orgUsual(past, '2026-03-09')).toBeNull();
    const usual = orgUsual([...past, day('2026-03-09', 120)], '2026-03-10')!;
    expect(usual.days).toBe(5);
    expect(usual.byHour[23]).toBe(100);
    expect(usual.byHour[9]).toBe(50);
    // The week's sums count every day of the 6 before (the alerted one too).
    expect(usual.weekExcess).toBe(90 + 400 + 100 + 120 - 4 * 100);
  });

  it('answers the accounts driving a rise, not their colleagues', () => {
    const usual = orgUsual(
      ['02', '03', '04', '05', '06'].map((d) => day(`2026-03-${d}`, 100)),
      '2026-03-09',
    )!;
    const today = { persons: 400, byHour: hours({ 9: 400 }), empty: 0, refused: 0, accounts: 8 };
    const own = { expected: 10, weekExcess: 0, weekEmpty: 0, weekRefused: 0 };
    const driver = orgValues(usual, null, today, 9, { ...own, persons: 20 }, P);
    const colleague = orgValues(usual, null, today, 9, { ...own, persons: 6 }, P);
    expect(driver.org_beyond_usual).toBeGreaterThan(0);
    expect(colleague.org_beyond_usual).toBe(0);
  });

  it('a new organisation is compared with organisations of its kind from its first day', () => {
    const kind = { perAccount: 10, samples: 40 };
    const today = { persons: 90, byHour: hours({ 9: 90 }), empty: 0, refused: 0, accounts: 3 };
    const own = { expected: 10, weekExcess: 0, weekEmpty: 0, weekRefused: 0, persons: 40 };
    // No usual of its own: 3 accounts at the kind's pace allow 3 × 10 × 2 + 3 × √30; 90 is beyond.
    expect(orgValues(null, kind, today, 17, own, P).org_beyond_kind).toBe(
      Math.round(90 - 60 - 3 * Math.sqrt(30)),
    );
    expect(orgValues(null, kind, { ...today, persons: 70 }, 17, own, P).org_beyond_kind).toBe(0);
    // Too few organisation-days of its kind: no comparison.
    expect(orgValues(null, { ...kind, samples: 3 }, today, 17, own, P).org_beyond_kind).toBe(0);
  });
});

describe('the share of its caseload an organisation reads in a week', () => {
  // Its usual week: 100 distinct persons of a caseload of 1,000 (10 %), three full weeks running.
  const cover = (week0: number, own: number[], caseloads = [1000, 1000, 1000, 1000]): Coverage => ({
    weeks: [week0, 100, 90, 110],
    caseloads,
    own,
  });
  const today = {
    persons: 60,
    byHour: Array.from({ length: 24 }, (_, h) => (h === 9 ? 60 : 0)),
    empty: 0,
    refused: 0,
    accounts: 4,
  };

  it('counts the 6 days before beyond twice the usual share and 3 deviations, for an account reaching more than its own week', () => {
    // Allowed: 100 × 2 + 3 × √100 = 230. 240 distinct persons in the 6 days before: 10 beyond.
    expect(coverageValue(cover(240, [60, 20, 20, 20]), { drives: false }, P)).toBe(10);
    // One short of the level: nothing.
    expect(coverageValue(cover(230, [60, 20, 20, 20]), { drives: false }, P)).toBe(0);
    // A colleague reading its usual week (20 persons) is not asked about it…
    expect(coverageValue(cover(240, [15, 20, 20, 20]), { drives: false }, P)).toBe(0);
    // …unless it drives the day's or the week's rise.
    expect(coverageValue(cover(240, [15, 20, 20, 20]), { drives: true }, P)).toBe(10);
  });

  it('a caseload that doubled makes twice the persons normal: shares are compared, not counts', () => {
    // The usual share (10 %) of today's caseload of 2,000 is 200: 240 is within 2 × 200 + 3√200.
    expect(coverageValue(cover(240, [60, 20, 20, 20], [2000, 1000, 1000, 1000]), { drives: false }, P)).toBe(
      0,
    );
    // Without caseloads (an organisation that has none), counts are compared.
    expect(coverageValue(cover(240, [60, 20, 20, 20], [0, 0, 0, 0]), { drives: false }, P)).toBe(10);
  });

  it('leaves out a week under half the largest, and needs two full weeks', () => {
    // A first week begun on its last day (5 persons) is left out: the usual is 105 (100 and 110), not
    // 100 (the median of the three): 260 − 210 − 3√105 = 19 beyond, not 30.
    const begun: Coverage = { weeks: [260, 100, 110, 5], caseloads: [0, 0, 0, 0], own: [60, 20, 20, 1] };
    expect(coverageValue(begun, { drives: false }, P)).toBe(19);
    // One full week only: no comparison.
    const young: Coverage = {
      weeks: [400, 100, 5, 0],
      caseloads: [1000, 1000, 1000, 1000],
      own: [60, 20, 0, 0],
    };
    expect(coverageValue(young, { drives: true }, P)).toBe(0);
    expect(coverageValue(null, { drives: true }, P)).toBe(0);
  });

  it('orgValues carries it for a driver even where the organisation has no usual day yet, and not without a day', () => {
    const own = { expected: 10, weekExcess: 0, weekEmpty: 0, weekRefused: 0, persons: 20 };
    expect(orgValues(null, null, today, 9, own, P, cover(240, [60, 20, 20, 20])).org_caseload_week).toBe(10);
    expect(orgValues(null, null, today, 9, own, P).org_caseload_week).toBe(0);
    expect(orgValues(null, null, null, 9, own, P, cover(240, [60, 20, 20, 20])).org_caseload_week).toBe(0);
  });
});

describe('replayed weeks (bench/guard-replay.ts)', () => {
  const base = { seed: 7, accounts: 100, days: 20, warmupDays: 5 };

  it('honest owners (organisation days and campaigns included): no suspension, under 1 step-up per 1,000 account-days', () => {
    const r = replay({ ...base, accounts: 250, attack: { kind: 'none' } });
    expect(r.accountDays).toBeGreaterThan(4000);
    expect(r.honestSuspensions).toBe(0);
    expect((1000 * r.honestStepUps) / r.accountDays).toBeLessThan(1);
  });

  it.each([
    ['COLLUDE-2', { kind: 'collude', accounts: 2 } as const, 50],
    ['COLLUDE-5', { kind: 'collude', accounts: 5 } as const, 50],
    ['RAMP', { kind: 'ramp', step: 1 } as const, 100],
    ['MIMIC', { kind: 'mimic', perDay: 8 } as const, 40],
  ])('%s is suspended within its goal (%s)', (_name, attack, goal) => {
    const r = replay({ ...base, attack });
    expect(r.attack!.suspended, JSON.stringify(r.attack)).toBe(true);
    expect(r.attack!.suspendedAfter!).toBeLessThan(goal);
    expect(r.attack!.daysToFirstResponse!).toBeLessThanOrEqual(attack.kind === 'ramp' ? 15 : 5);
  });
});
