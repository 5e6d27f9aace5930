import { describe, expect, it } from 'vitest';
import { normaliseName } from '../registry/normalise.ts';
import {
  addEvent,
  agencyIdSweepKey,
  epochHour,
  epochMinute,
  freshState,
  type GuardEvent,
  type GuardState,
  nameSweepKey,
  notePersons,
  PERSON_SET_CAP,
  rollOver,
  settleStepUp,
  weekTotals,
} from './state.ts';

const ALPHA = 0.2;
const ROLL = { baselineAlpha: ALPHA, baselineMinDays: 5, baselineGrowth: 0.15 };
const GAP = 20;
const T0 = new Date('2026-03-02T09:00:00Z'); // Monday 10:00 in Paris

const at = (base: Date, minutes: number): Date => new Date(base.getTime() + minutes * 60_000);

/** An event with nothing in it but what is given. */
const event = (when: Date, day: string, extra: Partial<GuardEvent> = {}): GuardEvent => ({
  at: when,
  day,
  offHours: false,
  views: 0,
  searches: 0,
  newPersons: 0,
  national: false,
  refused: false,
  blocked: false,
  empty: false,
  canaries: 0,
  ...extra,
});

/** Folds one event as guard.ts does: roll over, then add. */
const fold = (state: GuardState, e: GuardEvent): boolean => {
  const changed = rollOver(state, e.at, e.day, ROLL);
  addEvent(state, e, GAP);
  return changed;
};

describe('rollOver', () => {
  it('folds the finished day into the baseline (EWMA) only if it was worked, and clears the day', () => {
    const s = freshState(T0, '2026-03-02');
    fold(s, event(T0, '2026-03-02', { views: 1, newPersons: 10, refused: true, offHours: true }));
    s.ack = { beyond_baseline: 25 };
    expect(s.d).toMatchObject({ views: 1, persons: 10, refused: 1, offHours: 10 });

    // Next day: the first worked day sets the baseline.
    expect(rollOver(s, at(T0, 24 * 60), '2026-03-03', ROLL)).toBe(true);
    expect(s.baseline).toBe(10);
    expect(s.days).toBe(1);
    expect(s.day).toBe('2026-03-03');
    expect(s.d).toEqual({
      views: 0,
      searches: 0,
      persons: 0,
      empty: 0,
      blocked: 0,
      refused: 0,
      national: 0,
      offHours: 0,
      provisionedAccounts: 0,
      caseloadPersons: 0,
      offHoursProvisioning: 0,
      exported: 0,
    });
    expect(s.ack).toEqual({});

    // A worked day of 20: 0.2 × 20 + 0.8 × 10 = 12.
    addEvent(s, event(at(T0, 24 * 60), '2026-03-03', { views: 1, newPersons: 20 }), GAP);
    rollOver(s, at(T0, 2 * 24 * 60), '2026-03-04', ROLL);
    expect(s.baseline).toBeCloseTo(12, 10);
    expect(s.days).toBe(2);

    // A day with nothing done (a day off, the state touched only at the start of the next):
    // not folded, the baseline and the count of days stay.
    rollOver(s, at(T0, 3 * 24 * 60), '2026-03-05', ROLL);
    expect(s.baseline).toBeCloseTo(12, 10);
    expect(s.days).toBe(2);

    // A worked day with searches only (no person reached) is folded as a day of 0.
    addEvent(s, event(at(T0, 3 * 24 * 60), '2026-03-05', { searches: 3, empty: true }), GAP);
    rollOver(s, at(T0, 4 * 24 * 60), '2026-03-06', ROLL);
    expect(s.baseline).toBeCloseTo(0.8 * 12, 10);
    expect(s.days).toBe(3);
  });

  it('keeps a day of exports only for the export windows, out of the usual day (T3)', () => {
    const s = freshState(T0, '2026-03-02');
    addEvent(s, event(T0, '2026-03-02', { views: 1, newPersons: 10 }), GAP);
    rollOver(s, at(T0, 24 * 60), '2026-03-03', ROLL);
    addEvent(s, event(at(T0, 24 * 60), '2026-03-03', { exported: 400 }), GAP);
    addEvent(s, event(at(T0, 24 * 60 + 5), '2026-03-03', { exported: 50 }), GAP);
    expect(s.d.exported).toBe(450);
    expect(s.d.persons).toBe(0);
    rollOver(s, at(T0, 2 * 24 * 60), '2026-03-04', ROLL);
    // The export day is remembered with its rows, and it did not fold a day of 0 into the baseline.
    expect(s.past?.at(-1)).toEqual({
      day: '2026-03-03',
      persons: 0,
      national: 0,
      offHours: 0,
      expected: null,
      exported: 450,
    });
    expect(s.baseline).toBe(10);
    expect(s.days).toBe(1);
    expect(s.d.exported).toBe(0);
  });

  it('returns false and keeps the day counters within the same day', () => {
    const s = freshState(T0, '2026-03-02');
    fold(s, event(T0, '2026-03-02', { views: 2, newPersons: 2 }));
    s.ack = { refused_per_day: 4 };
    expect(rollOver(s, at(T0, 5 * 60), '2026-03-02', ROLL)).toBe(false);
    expect(s.d.views).toBe(2);
    expect(s.ack).toEqual({ refused_per_day: 4 });
    expect(s.baseline).toBeNull();
  });

  it('keeps a pending step-up, a throttle and the sweep runs across days', () => {
    const s = freshState(T0, '2026-03-02');
    fold(s, event(T0, '2026-03-02', { searches: 1, sweep: { kind: 'agencyId', key: 100 } }));
    fold(s, event(at(T0, 1), '2026-03-02', { searches: 1, sweep: { kind: 'agencyId', key: 101 } }));
    s.stepUp = { since: T0.toISOString(), signals: { refused_per_day: 4 } };
    s.throttledUntil = at(T0, 15).toISOString();
    rollOver(s, at(T0, 24 * 60), '2026-03-03', ROLL);
    expect(s.stepUp).not.toBeNull();
    expect(s.throttledUntil).not.toBeNull();
    expect(s.seq.run).toBe(2);
  });
});

describe('notePersons: the persons reached today', () => {
  const id = (n: number): string => `${n.toString(16).padStart(6, '0')}00-0000-4000-8000-000000000000`;

  it('counts a person once a day, whatever the case of its id, and afresh the next day', () => {
    const s = freshState(T0, '2026-03-02');
    expect(notePersons(s, [id(1), id(2)])).toBe(2);
    expect(notePersons(s, [id(2), id(3), id(3)])).toBe(1);
    expect(notePersons(s, [id(0xabcdef).toUpperCase()])).toBe(1);
    expect(notePersons(s, [id(0xabcdef)])).toBe(0);
    rollOver(s, at(T0, 24 * 60), '2026-03-03', ROLL);
    expect(s.seen).toBe('');
    expect(notePersons(s, [id(1)])).toBe(1);
  });

  it('keeps no person id whole (6 hex digits of each)', () => {
    const s = freshState(T0, '2026-03-02');
    notePersons(s, [id(0x123456), id(0xfedcba)]);
    expect(s.seen).toBe('123456fedcba');
    expect(s.seen).not.toContain(id(0x123456));
  });

  it('past PERSON_SET_CAP persons, every person counts as new (over-counting, never under)', () => {
    const s = freshState(T0, '2026-03-02');
    const many = Array.from({ length: PERSON_SET_CAP }, (_, i) => id(i + 1));
    expect(notePersons(s, many)).toBe(PERSON_SET_CAP);
    expect(notePersons(s, many.slice(0, 5))).toBe(0);
    const beyond = id(0xfff000);
    expect(notePersons(s, [beyond])).toBe(1);
    expect(notePersons(s, [beyond])).toBe(1);
  });
});

describe('minute and hour windows', () => {
  it('count within the epoch minute and hour, and start again in the next', () => {
    const s = freshState(T0, '2026-03-02');
    fold(s, event(T0, '2026-03-02', { views: 1, newPersons: 1 }));
    fold(s, event(new Date(T0.getTime() + 59_999), '2026-03-02', { views: 1, newPersons: 1 }));
    expect(s.m.views).toBe(2);
    expect(s.h.views).toBe(2);
    // 10:01: a new minute, the same hour.
    fold(s, event(at(T0, 1), '2026-03-02', { views: 1, newPersons: 1, searches: 1, empty: true }));
    expect(s.minute).toBe(epochMinute(at(T0, 1)));
    expect(s.m).toEqual({ views: 1, searches: 1, persons: 1, empty: 1, blocked: 0 });
    expect(s.h).toEqual({ views: 3, searches: 1, persons: 3, empty: 1, blocked: 0 });
    // 10:59:59 still the same hour; 11:00 a new one.
    fold(s, event(new Date(T0.getTime() + 3_599_999), '2026-03-02', { blocked: true }));
    expect(s.h.blocked).toBe(1);
    fold(s, event(at(T0, 60), '2026-03-02', { views: 1 }));
    expect(s.hour).toBe(epochHour(at(T0, 60)));
    expect(s.h).toEqual({ views: 1, searches: 0, persons: 0, empty: 0, blocked: 0 });
    expect(s.d).toMatchObject({ views: 4, searches: 1, persons: 3, empty: 1, blocked: 1 });
  });

  it('counts national and off-hours persons, and off-hours provisioning, by day', () => {
    const s = freshState(T0, '2026-03-02');
    fold(s, event(T0, '2026-03-02', { views: 1, newPersons: 1, national: true }));
    fold(s, event(at(T0, 1), '2026-03-02', { searches: 1, newPersons: 3, offHours: true }));
    fold(s, event(at(T0, 2), '2026-03-02', { offHours: true, provisionedAccounts: 2 }));
    fold(s, event(at(T0, 3), '2026-03-02', { offHours: false, caseloadPersons: 40 }));
    expect(s.d).toMatchObject({
      national: 1,
      offHours: 3,
      provisionedAccounts: 2,
      caseloadPersons: 40,
      offHoursProvisioning: 1,
    });
  });
});

describe('sweeps', () => {
  const search = (s: GuardState, i: number, sweep: GuardEvent['sweep']): void => {
    fold(s, event(at(T0, i), '2026-03-02', { searches: 1, empty: true, ...(sweep ? { sweep } : {}) }));
  };

  it('a run of agency-id searches each within the gap of the previous grows by one each', () => {
    const s = freshState(T0, '2026-03-02');
    [1_000_000, 1_000_001, 1_000_002, 1_000_010, 1_000_030].forEach((key, i) => {
      search(s, i, { kind: 'agencyId', key });
    });
    expect(s.seq).toEqual({ last: 1_000_030, run: 5 });
  });

  it('a search further than the gap from the previous one starts a new run', () => {
    const s = freshState(T0, '2026-03-02');
    search(s, 0, { kind: 'agencyId', key: 500 });
    search(s, 1, { kind: 'agencyId', key: 520 });
    expect(s.seq.run).toBe(2);
    search(s, 2, { kind: 'agencyId', key: 541 });
    expect(s.seq).toEqual({ last: 541, run: 1 });
  });

  it('descending ids count as well as ascending ones', () => {
    const s = freshState(T0, '2026-03-02');
    for (let i = 0; i < 6; i++) search(s, i, { kind: 'agencyId', key: 9_000_000 - i });
    expect(s.seq.run).toBe(6);
  });

  it('repeating the same id neither grows nor breaks the run (a retry is not a step of the sweep, nor a way out of it)', () => {
    const s = freshState(T0, '2026-03-02');
    for (let i = 0; i < 5; i++) search(s, i, { kind: 'agencyId', key: 42 + i });
    expect(s.seq.run).toBe(5);
    search(s, 5, { kind: 'agencyId', key: 46 });
    expect(s.seq.run).toBe(5);
    search(s, 6, { kind: 'agencyId', key: 47 });
    expect(s.seq.run).toBe(6);
  });

  it('name searches and agency-id searches keep separate runs; other searches leave both alone', () => {
    const s = freshState(T0, '2026-03-02');
    search(s, 0, { kind: 'agencyId', key: 10 });
    search(s, 1, { kind: 'name', key: nameSweepKey('ABADIE') });
    search(s, 2, { kind: 'agencyId', key: 11 });
    search(s, 3, undefined);
    search(s, 4, { kind: 'name', key: nameSweepKey('BERNARD') });
    expect(s.seq).toEqual({ last: 11, run: 2 });
    expect(s.alpha).toMatchObject({ last: nameSweepKey('BERNARD'), run: 2 });
  });

  it('alphabetical runs: names in order grow the run, one out of order starts again', () => {
    const s = freshState(T0, '2026-03-02');
    const names = ['Abadie', 'Adam', 'Bernard', 'Blanc', 'Caron', 'Durand', 'Étienne', 'Faure'];
    names.forEach((name, i) => {
      search(s, i, { kind: 'name', key: nameSweepKey(normaliseName(name)) });
    });
    expect(s.alpha.run).toBe(names.length);
    search(s, 20, { kind: 'name', key: nameSweepKey(normaliseName('Blanc')) });
    expect(s.alpha.run).toBe(1);
  });

  it('names in no particular order (honest work) do not make a run', () => {
    const s = freshState(T0, '2026-03-02');
    const names = [
      'Martin',
      'Bernard',
      'Thomas',
      'Petit',
      'Robert',
      'Richard',
      'Durand',
      'Dubois',
      'Moreau',
      'Laurent',
    ];
    let longest = 0;
    names.forEach((name, i) => {
      search(s, i, { kind: 'name', key: nameSweepKey(normaliseName(name)) });
      longest = Math.max(longest, s.alpha.run);
    });
    // A run goes either way (a sweep from Z to A is a sweep too), so two names in any order start
    // one; names in no order break it soon, far below the throttle level (8).
    expect(longest).toBeLessThanOrEqual(4);
  });

  it('a sweep down the alphabet is a run too; a name found, or half an hour of quiet, breaks nothing and ends it', () => {
    const s = freshState(T0, '2026-03-02');
    const down = ['Vidal', 'Roux', 'Petit', 'Morel', 'Leroy', 'Girard', 'Dupont', 'Blanc'];
    down.forEach((name, i) => {
      search(s, i, { kind: 'name', key: nameSweepKey(normaliseName(name)) });
    });
    expect(s.alpha.run).toBe(down.length);
    // A name search that finds someone leaves the run as it is.
    fold(s, event(at(T0, 9), '2026-03-02', { searches: 1, empty: false, sweep: { kind: 'name', key: 1 } }));
    expect(s.alpha.run).toBe(down.length);
    // Thirty-one minutes later, the next empty search starts again.
    search(s, 41, { kind: 'name', key: nameSweepKey(normaliseName('Adam')) });
    expect(s.alpha.run).toBe(1);
  });
});

describe('week ring', () => {
  it('keeps the last seven active days, today included', () => {
    const s = freshState(T0, '2026-03-02');
    for (let d = 0; d < 9; d++) {
      const when = at(T0, d * 24 * 60);
      const day = when.toISOString().slice(0, 10);
      fold(s, event(when, day, { views: 1, refused: true }));
      fold(s, event(at(when, 1), day, { searches: 1, empty: true }));
      if (d === 8) fold(s, event(at(when, 2), day, { views: 1, refused: true }));
    }
    expect(s.week.map((w) => w.day)).toEqual([
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
      '2026-03-10',
    ]);
    expect(s.week.at(-1)).toEqual({ day: '2026-03-10', refused: 2, empty: 1 });
    expect(weekTotals(s)).toEqual({ refused: 8, empty: 7 });
  });

  it('counts active days, not calendar days: a quiet week does not wipe slow probing', () => {
    const s = freshState(T0, '2026-03-02');
    fold(s, event(T0, '2026-03-02', { views: 1, refused: true }));
    const later = at(T0, 20 * 24 * 60);
    fold(s, event(later, '2026-03-22', { views: 1, refused: true }));
    expect(weekTotals(s).refused).toBe(2);
  });
});

describe('settleStepUp', () => {
  it('clears the step-up and remembers the values proven once a factor is given after it was asked', () => {
    const s = freshState(T0, '2026-03-02');
    s.stepUp = { since: T0.toISOString(), signals: { beyond_baseline: 26, refused_per_day: 4 } };
    s.ack = { refused_per_day: 6 };
    settleStepUp(s, null);
    expect(s.stepUp).not.toBeNull();
    settleStepUp(s, T0); // given at the very moment it was asked: not after it
    expect(s.stepUp).not.toBeNull();
    settleStepUp(s, new Date(T0.getTime() - 1000));
    expect(s.stepUp).not.toBeNull();
    settleStepUp(s, new Date(T0.getTime() + 1000));
    expect(s.stepUp).toBeNull();
    expect(s.ack).toEqual({ beyond_baseline: 26, refused_per_day: 6 });
  });
});

describe('nameSweepKey', () => {
  it('orders names as the alphabet does, on the first three letters', () => {
    const names = ['zola', 'a', 'martin', 'aa', 'ab', 'b', 'abz', 'maa', 'mart', 'z'];
    const byKey = [...names].sort((x, y) => nameSweepKey(x) - nameSweepKey(y) || x.localeCompare(y));
    expect(byKey).toEqual(['a', 'aa', 'ab', 'abz', 'b', 'maa', 'mart', 'martin', 'z', 'zola']);
    expect(nameSweepKey('martin')).toBe(nameSweepKey('mart')); // a coarse bucket: the name is not kept
    expect(nameSweepKey('a')).toBeLessThan(nameSweepKey('aa'));
    expect(nameSweepKey('zzz')).toBe(26 * 729 + 26 * 27 + 26);
  });

  it('keys the gate’s normalised (upper-case) names, ignoring what is not a letter', () => {
    // The gate passes normaliseName(lastName), which is upper case.
    expect(nameSweepKey(normaliseName('Dupont'))).toBe(nameSweepKey('dupont'));
    expect(nameSweepKey(normaliseName("d'Artagnan"))).toBe(nameSweepKey('dartagnan'));
    expect(nameSweepKey(normaliseName('Ébrard'))).toBe(nameSweepKey('ebrard'));
    expect(nameSweepKey(normaliseName('Martin'))).toBeGreaterThan(nameSweepKey(normaliseName('Dupont')));
    expect(nameSweepKey(normaliseName('Zola'))).toBeGreaterThan(nameSweepKey(normaliseName('Martin')));
  });
});

describe('agencyIdSweepKey', () => {
  it.each([
    ['1234567A', 1_234_567],
    ['0000001Z', 1],
    ['1234567a', 1_234_567],
    ['9999999Q', 9_999_999],
  ])('%s → %i', (id, key) => {
    expect(agencyIdSweepKey(id)).toBe(key);
  });

  it.each(['123456A', '12345678A', '1234567', '1234567AB', 'A1234567', '1234 567A', ''])(
    '%j is not an agency id',
    (id) => {
      expect(agencyIdSweepKey(id)).toBeUndefined();
    },
  );
});
