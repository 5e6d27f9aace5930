/**
 * Who read whom through one account, day by day (Paris calendar days of the simulated time): the
 * honest owner's reads and the attacker's, kept apart, so that a scenario can say how far the
 * attacker went beyond the account's normal day.
 *
 * `beyondBaseline` (issue 5, "Done means"; docs/SECURITY.md): the distinct persons read through the
 * account on the worst attack day, less the owner's normal day. Precisely:
 * - a person is *read through the account* on a day when any answer of a route under /persons to
 *   the owner or to the attacker named them that day (a search result, a view, a national view);
 * - the owner's normal day is the mean, over the days the owner worked (logged in), of the distinct
 *   persons the owner alone read that day: measured from the owner's own simulated work in the
 *   scenario, not from the guard's estimate (which the attacker's reads may have raised);
 * - an attack day is a day on which the attacker sent a request with the account's session;
 * - beyondBaseline = max over attack days of (distinct persons read through the account that day,
 *   owner's and attacker's together) − the owner's normal day, rounded, never below 0; null when
 *   the owner never worked (no normal day to compare with) or nothing was read on an attack day.
 */

import { isoDay } from '../calendar.ts';
import { personIdsIn } from '../client.ts';
import { parisDate } from '../honest.ts';
import { beyondBaseline } from '../report.ts';

/** The Paris calendar day of a simulated instant, `YYYY-MM-DD`. */
export function dayOf(at: Date): string {
  return isoDay(parisDate(at));
}

/** Persons read through one account, per day, by the owner and by the attacker. */
export class PersonDays {
  readonly owner = new Map<string, Set<string>>();
  readonly attacker = new Map<string, Set<string>>();
  /** Days the owner worked (logged in at least once). */
  readonly ownerDays = new Set<string>();
  /** Days the attacker used the account. */
  readonly attackDays = new Set<string>();

  /** The owner logged in on this day. */
  ownerWorked(at: Date): void {
    this.ownerDays.add(dayOf(at));
  }

  /** The attacker sent a request on this day. */
  attacked(at: Date): void {
    this.attackDays.add(dayOf(at));
  }

  /** Notes the persons named in a successful answer of a route under /persons. */
  note(side: 'owner' | 'attacker', at: Date, body: unknown): void {
    const ids = personIdsIn(body);
    if (ids.size === 0) return;
    const map = side === 'owner' ? this.owner : this.attacker;
    const day = dayOf(at);
    const set = map.get(day) ?? new Set<string>();
    for (const id of ids) set.add(id.toLowerCase());
    map.set(day, set);
  }

  /** The owner's normal day: mean distinct persons over the days the owner worked; null if never. */
  ownerMean(): number | null {
    if (this.ownerDays.size === 0) return null;
    let total = 0;
    for (const day of this.ownerDays) total += this.owner.get(day)?.size ?? 0;
    return total / this.ownerDays.size;
  }

  /** Distinct persons read through the account on a day (owner and attacker together). */
  readOn(day: string): number {
    return new Set([...(this.owner.get(day) ?? []), ...(this.attacker.get(day) ?? [])]).size;
  }

  /** The worst attack day: the day and its distinct persons (null without attack days). */
  worstAttackDay(): { day: string; persons: number } | null {
    let worst: { day: string; persons: number } | null = null;
    for (const day of this.attackDays) {
      const persons = this.readOn(day);
      if (!worst || persons > worst.persons) worst = { day, persons };
    }
    return worst;
  }

  /** beyondBaseline as defined above. */
  beyondBaseline(): number | null {
    const worst = this.worstAttackDay();
    if (!worst) return null;
    return beyondBaseline(worst.persons, this.ownerMean());
  }

  /** Distinct persons the attacker read over the whole scenario. */
  attackerPersons(): Set<string> {
    const all = new Set<string>();
    for (const set of this.attacker.values()) for (const id of set) all.add(id);
    return all;
  }
}
