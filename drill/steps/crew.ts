/**
 * Several stolen sessions of one organisation at once (COLLUDE): the crew's owners and a few honest
 * colleagues work every working day in the same organisation (OwnerAtWork, the honest model's day,
 * password and authenticator app from their workstations); after `warmupDays` working days alone,
 * each morning right after each victim's first login, malware on that owner's machine copies the
 * session and the crew's script uses it from the same machine (Intruder: same address, same
 * browser) `startAfterMinutes` later. Everything runs on one timeline, so the organisation's day is
 * what the guard sees: every account's reads together, hour by hour.
 *
 * The organisation's day, as the drill measures it (the guard's own definition, src/guard/
 * organisation.ts): the sum over its accounts of the distinct persons read through each account that
 * day (owner and attacker together). Its usual is the median of the warm-up days; beyondBaseline is
 * the sum over the attack days, until every stolen account is suspended, of the organisation's day
 * beyond that usual (never below 0 on a day). The organisation starts with no recent history: the
 * crew begins more than ORG_SPAN_DAYS after anything else the drill did (an honest month whose
 * owners stop when the scenarios start would otherwise leave the organisation a usual day nobody
 * works any more).
 */

import { ORG_SPAN_DAYS } from '../../src/guard/organisation.ts';
import { addDays, isWorkingDay, mondayMorning, wallTime, zonedInstant } from '../calendar.ts';
import { Tally } from '../client.ts';
import { parisDate } from '../honest.ts';
import type { CaseloadNotes } from '../leak.ts';
import type { StaffMember, World } from '../scenario.ts';
import { type GuardAlert, guardAlerts } from './alerts.ts';
import { dayOf, PersonDays } from './exposure.ts';
import { Intruder } from './intruder.ts';
import { OwnerAtWork } from './owner-at-work.ts';
import { ownerPlan, seedOf } from './theft.ts';
import { Timeline } from './timeline.ts';

/** One account of the crew's organisation: its owner at work and, for a victim, the script on its session. */
export interface Seat {
  member: StaffMember;
  owner: OwnerAtWork;
  days: PersonDays;
  /** The script on the stolen session (victims only). */
  intruder: Intruder | null;
  /** The account's status at the end (security officers' view). */
  status: string | undefined;
  /** The attack day (1: the first) at whose end the account was seen suspended; null: never. */
  suspendedOnDay: number | null;
  alerts: GuardAlert[];
}

/** What one victim's script sees on one day of attack. */
export interface CrewDay {
  world: World;
  timeline: Timeline;
  intruder: Intruder;
  notes: CaseloadNotes;
  seat: Seat;
  /** The victim's place in the crew (0-based). */
  index: number;
  /** 0 on the first day of attack. */
  day: number;
}

export interface CrewSpec {
  id: string;
  /** Cast names of the stolen accounts (partner counselors of one organisation, `leak: true`). */
  victims: string[];
  /** Cast names of honest colleagues in the same organisation (never attacked). */
  colleagues: string[];
  warmupDays: number;
  maxAttackDays: number;
  startAfterMinutes: number;
  /** One victim's day of attack: 'done' when that script has nothing more to do. */
  attack: (day: CrewDay) => Promise<'again' | 'done'>;
}

export interface CrewRun {
  notes: CaseloadNotes;
  victims: Seat[];
  colleagues: Seat[];
  /** The organisation's day (see above) on each warm-up day, then on each attack day. */
  warmup: number[];
  attack: number[];
  /** The median of the warm-up days. */
  usualDay: number;
  /** Persons beyond the usual day, summed over the attack days until every stolen account was suspended. */
  beyondBaseline: number;
  attackDays: number;
  /** Every stolen account was seen suspended. */
  allSuspended: boolean;
  /** The first attack day by whose end the guard had answered a script other than allow; null: never. */
  daysToFirstResponse: number | null;
  /**
   * The scripts' requests, all together in the order sent; the count at the guard's first answer to
   * any of them; the count by the end of the day the last stolen account was seen suspended.
   */
  requests: number;
  requestsToFirstResponse: number | null;
  requestsToSuspension: number | null;
  /** Distinct persons the scripts received (lower-case ids), and those outside the caseload. */
  exposed: Set<string>;
  outside: string[];
  attackStartedAt: Date | null;
}

const median = (values: readonly number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Runs the crew: warm-up days, then attack days until every stolen account is suspended, every script done, or maxAttackDays. */
export async function runCrew(world: World, spec: CrewSpec): Promise<CrewRun> {
  const notes = world.caseload(spec.victims[0]!);
  const timeline = new Timeline(world.clock);
  // An organisation with no recent past: more than ORG_SPAN_DAYS after anything earlier.
  await world.clock.set(
    mondayMorning(new Date(world.clock.now().getTime() + (ORG_SPAN_DAYS + 1) * 86_400_000), 6),
  );

  const seat = (name: string, victim: boolean): Seat => {
    const member = world.staff(name);
    if (member.organisation !== notes.organisation) {
      throw new Error(`${spec.id}: ${name} is not in ${notes.organisation}`);
    }
    const days = new PersonDays();
    const owner = new OwnerAtWork({
      world,
      member,
      plan: ownerPlan('partner_counselor', member, notes),
      seed: seedOf(`${spec.id} ${name}`),
      timeline,
      days,
    });
    let intruder: Intruder | null = null;
    if (victim) {
      const client = world.client(`${name} attacker`, tally, {
        address: member.workstation.address,
        userAgent: member.workstation.userAgent,
      });
      intruder = new Intruder(client, timeline, days);
    }
    return { member, owner, days, intruder, status: undefined, suspendedOnDay: null, alerts: [] };
  };
  // One tally for the crew's scripts: requests counted in the order they were sent, all sessions together.
  const tally = new Tally();
  tally.knownPersons = new Set([...notes.caseload, ...notes.file.map((p) => p.id)]);
  const victims = spec.victims.map((name) => seat(name, true));
  const colleagues = spec.colleagues.map((name) => seat(name, false));
  const everyone = [...victims, ...colleagues];

  let attacking = false;
  let attackDay = 0;
  let attackStartedAt: Date | null = null;
  const done = new Set<Seat>();
  const stopped = (s: Seat): boolean => done.has(s) || s.suspendedOnDay !== null || s.intruder!.suspended;
  for (const [index, victim] of victims.entries()) {
    const intruder = victim.intruder!;
    victim.owner.onLogin = (first) => {
      if (!first || !attacking || stopped(victim)) return;
      intruder.steal(victim.owner.client);
      const at = new Date(timeline.now().getTime() + spec.startAfterMinutes * 60_000);
      timeline.schedule(at, async () => {
        if (stopped(victim) || intruder.stopped) return;
        attackStartedAt ??= timeline.now();
        const answer = await spec.attack({
          world,
          timeline,
          intruder,
          notes,
          seat: victim,
          index,
          day: attackDay,
        });
        if (answer === 'done') done.add(victim);
      });
    };
  }

  const warmup: number[] = [];
  const attack: number[] = [];
  let beyond = 0;
  let counting = true;
  let daysToFirstResponse: number | null = null;
  let requestsToSuspension: number | null = null;

  let date = parisDate(world.clock.now());
  if (wallTime(world.clock.now()).hour >= 7) date = addDays(date, 1);
  let working = 0;
  for (let calendarDays = 0; calendarDays < 400; calendarDays += 1) {
    if (!isWorkingDay(date)) {
      date = addDays(date, 1);
      continue;
    }
    attacking = working >= spec.warmupDays;
    if (attacking && (attackDay >= spec.maxAttackDays || victims.every(stopped))) break;
    await timeline.until(zonedInstant(date, 7, 0));
    for (const s of everyone) if (!s.owner.suspended) s.owner.scheduleDay(date);
    await timeline.until(zonedInstant(date, 23, 59));
    const day = dayOf(zonedInstant(date, 12, 0));
    const orgDay = everyone.reduce((n, s) => n + s.days.readOn(day), 0);
    if (!attacking) warmup.push(orgDay);
    else {
      attackDay += 1;
      attack.push(orgDay);
      if (counting) beyond += Math.max(0, orgDay - median(warmup));
      for (const v of victims) {
        if (v.suspendedOnDay !== null) continue;
        v.status = await world.accountStatus(v.member.login);
        if (v.status === 'suspended' || v.intruder!.suspended) v.suspendedOnDay = attackDay;
      }
      if (tally.requestsToFirstResponse !== null || victims.some((v) => v.suspendedOnDay !== null)) {
        daysToFirstResponse ??= attackDay;
      }
      if (counting && victims.every((v) => v.suspendedOnDay !== null)) {
        // The scripts stop at their account's suspension: the day's count is the count then, give or take the last answers.
        counting = false;
        requestsToSuspension = tally.requests;
      }
      world.progress(
        `${spec.id}: attack day ${attackDay}: the organisation's day ${orgDay} persons (usual ${median(warmup)}), ` +
          `${victims.filter((v) => v.suspendedOnDay !== null).length} of ${victims.length} stolen accounts suspended`,
      );
    }
    working += 1;
    date = addDays(date, 1);
  }
  timeline.clear();
  for (const s of everyone) {
    s.status = await world.accountStatus(s.member.login);
    s.alerts = await guardAlerts(world, s.member);
  }
  const exposed = new Set<string>();
  for (const v of victims) {
    for (const id of v.days.attackerPersons()) exposed.add(id);
  }
  for (const id of tally.received.keys()) exposed.add(id.toLowerCase());
  return {
    notes,
    victims,
    colleagues,
    warmup,
    attack,
    usualDay: median(warmup),
    beyondBaseline: Math.round(beyond),
    attackDays: attackDay,
    allSuspended: victims.every((v) => v.suspendedOnDay !== null),
    daysToFirstResponse,
    requests: tally.requests,
    requestsToFirstResponse:
      tally.requestsToFirstResponse ?? (daysToFirstResponse === null ? null : requestsToSuspension),
    requestsToSuspension,
    exposed,
    outside: [...exposed].filter((id) => !notes.caseload.has(id)),
    attackStartedAt,
  };
}
