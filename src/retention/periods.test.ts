import { describe, expect, it } from 'vitest';
import { cutoffs, DEFAULT_PERIODS, minusMonths, type RetentionFacts, retentionAction } from './periods.ts';

describe('minusMonths, as PostgreSQL counts date - interval', () => {
  it.each([
    ['2026-12-16', 12, '2025-12-16'],
    ['2026-03-31', 1, '2026-02-28'],
    ['2028-03-31', 1, '2028-02-29'],
    ['2045-12-16', 240, '2025-12-16'],
    ['2026-01-15', 13, '2024-12-15'],
    ['2024-02-29', 12, '2023-02-28'],
  ])('%s minus %i months is %s', (asOf, months, expected) => {
    expect(minusMonths(asOf, months)).toBe(expected);
  });
});

describe('retentionAction', () => {
  const due = cutoffs('2026-12-16', DEFAULT_PERIODS);
  const facts = (over: Partial<RetentionFacts>): RetentionFacts => ({
    status: 'deregistered',
    lastEnd: '2025-12-16',
    open: false,
    activeOn: '2026-01-01',
    canary: false,
    ...over,
  });

  it('archives a deregistered person on the day the archive period ends, not the day before', () => {
    expect(due.archive).toBe('2025-12-16');
    expect(retentionAction(facts({ lastEnd: '2025-12-16' }), due)).toBe('archive');
    expect(retentionAction(facts({ lastEnd: '2025-12-17' }), due)).toBeNull();
  });

  it('destroys on the 20th anniversary of deregistration, archived or not', () => {
    expect(due.destroy).toBe('2006-12-16');
    expect(retentionAction(facts({ lastEnd: '2006-12-16' }), due)).toBe('destroy');
    expect(retentionAction(facts({ lastEnd: '2006-12-16', status: 'archived' }), due)).toBe('destroy');
    expect(retentionAction(facts({ lastEnd: '2006-12-17', status: 'archived' }), due)).toBeNull();
  });

  it('expires a candidate-only space after its inactivity period', () => {
    expect(retentionAction(facts({ status: 'candidate', lastEnd: null, activeOn: '2024-12-16' }), due)).toBe(
      'expire_candidate',
    );
    expect(
      retentionAction(facts({ status: 'candidate', lastEnd: null, activeOn: '2024-12-17' }), due),
    ).toBeNull();
  });

  it('never touches a registered person, a canary, or a record whose periods disagree with its status', () => {
    expect(retentionAction(facts({ status: 'registered', lastEnd: '1990-01-01' }), due)).toBeNull();
    expect(retentionAction(facts({ canary: true, lastEnd: '1990-01-01' }), due)).toBeNull();
    expect(retentionAction(facts({ open: true, lastEnd: '1990-01-01' }), due)).toBeNull();
    expect(retentionAction(facts({ lastEnd: null }), due)).toBeNull();
    expect(retentionAction(facts({ status: 'destroyed', lastEnd: '1990-01-01' }), due)).toBeNull();
  });

  it('follows shorter configured periods', () => {
    const short = cutoffs('2026-12-16', { archiveMonths: 3, destroyYears: 5, candidateMonths: 6 });
    expect(retentionAction(facts({ lastEnd: '2026-09-16' }), short)).toBe('archive');
    expect(retentionAction(facts({ lastEnd: '2021-12-16', status: 'archived' }), short)).toBe('destroy');
  });
});
