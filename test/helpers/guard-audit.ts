/**
 * The guard's state of one account as its audit events say it should be (issue 15, decision 3:
 * the guard's counters are a function of the audit log): the windows recomputed from
 * the events alone, to compare with what guard_accounts holds.
 */
import { localParts } from '../../src/guard/calendar.ts';
import { epochHour, epochMinute, type GuardState } from '../../src/guard/state.ts';

/** An audit event of one of the test's accounts, with its persons. */
export interface EventRow {
  id: string;
  request_id: string;
  account_id: string;
  action: string;
  decision: string;
  reason: string | null;
  result_count: number;
  occurred_at: Date;
  persons: string[];
}

/** The window counters the guard keeps (state.ts, Counts). */
export interface Counts {
  views: number;
  searches: number;
  persons: number;
  empty: number;
  blocked: number;
}

const zero = (): Counts => ({ views: 0, searches: 0, persons: 0, empty: 0, blocked: 0 });

/**
 * The guard's windows for one account, recomputed from its audit events alone, in the order they
 * were written (the guard folds one account's requests one at a time, under its row, in that
 * order): a window restarts when the minute, hour or local day of an event differs from the last
 * one's, as the guard's does. Persons are told apart by the first 6 hex digits of their id, as the
 * guard's `seen` does (state.ts); the caller checks the day stays under its 200.
 */
export function recompute(
  events: readonly EventRow[],
  timeZone: string,
): {
  day: string;
  minute: number;
  hour: number;
  m: Counts;
  h: Counts;
  d: Counts & { refused: number };
  seen: Set<string>;
  observed: number;
} {
  let day = '';
  let minute = Number.NaN;
  let hour = Number.NaN;
  let m = zero();
  let h = zero();
  let d = { ...zero(), refused: 0 };
  let seen = new Set<string>();
  for (const event of events) {
    const at = new Date(event.occurred_at);
    const local = localParts(at, timeZone).day;
    if (epochMinute(at) !== minute) {
      minute = epochMinute(at);
      m = zero();
    }
    if (epochHour(at) !== hour) {
      hour = epochHour(at);
      h = zero();
    }
    if (local !== day) {
      day = local;
      d = { ...zero(), refused: 0 };
      seen = new Set();
    }
    let fresh = 0;
    if (event.decision === 'allow') {
      for (const id of event.persons) {
        const key = id.slice(0, 6).toLowerCase();
        if (!seen.has(key)) {
          seen.add(key);
          fresh += 1;
        }
      }
    }
    const search = event.action === 'person.search' ? 1 : 0;
    const empty = search && event.decision === 'allow' && event.result_count === 0 ? 1 : 0;
    for (const w of [m, h, d]) {
      w.searches += search;
      w.views += 1 - search;
      w.persons += fresh;
      w.empty += empty;
    }
  }
  return { day, minute, hour, m, h, d, seen, observed: events.length };
}

/** The `seen` string of a state as a set of 6-digit keys. */
export function seenKeys(state: GuardState): Set<string> {
  const keys = new Set<string>();
  for (let i = 0; i < state.seen.length; i += 6) keys.add(state.seen.slice(i, i + 6));
  return keys;
}

export const countsOf = (c: Counts): Counts => ({
  views: c.views,
  searches: c.searches,
  persons: c.persons,
  empty: c.empty,
  blocked: c.blocked,
});
