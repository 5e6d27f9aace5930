/**
 * A stolen session over simulated working days (T2, T2b, T5, T9, ENUM-ID, ENUM-NAME, CANARY): the
 * owner works every working day (OwnerAtWork: password and authenticator app from their workstation,
 * the honest model's day), first alone for `warmupDays` (the guard learns the account's usual day),
 * then under attack: each morning, right after the owner's first login, malware on the owner's
 * machine copies the session cookie and CSRF token and hands them to the attacker's script, which
 * starts `startAfterMinutes` later — from the owner's own workstation (same address and browser:
 * only behaviour can give it away) or from its own address and browser (an infostealer sending the
 * cookie out, T5 and T9). The script (Intruder) does the scenario's day of attack until the session
 * ends (the owner stepped up, logged out, or it idled out: the script waits for the next morning's
 * copy), the account is suspended, or it has nothing more to do. After each attack day the drill
 * asks the security officers' view whether the account is suspended.
 */
import { lowerIds, recordBreach } from '../breaches.ts';
import { addDays, isWorkingDay, wallTime, zonedInstant } from '../calendar.ts';
import { Tally } from '../client.ts';
import { parisDate } from '../honest.ts';
import type { HonestAccountPlan } from '../honest-plan.ts';
import type { CaseloadNotes } from '../leak.ts';
import type { ScenarioFigures, ScenarioResult, StepResult } from '../report.ts';
import type { StaffMember, World } from '../scenario.ts';
import { outsideAddress } from '../workstations.ts';
import { describeAlerts, type GuardAlert, guardAlerts, suspendingSignals } from './alerts.ts';
import { PersonDays } from './exposure.ts';
import { Intruder } from './intruder.ts';
import { OwnerAtWork } from './owner-at-work.ts';
import { Timeline } from './timeline.ts';

/** The browser of an attacker working from its own machine (T5, T9). */
export const ATTACKER_BROWSER =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

/** Slack either side of an attack's window (T7's incident), for the clocks' few ms of difference. */
export const WINDOW_SLACK_MS = 1000;

/** Distinct persons a usual working day, by role: the middle of the honest model's range (honest-plan.ts, WORK). */
export const USUAL_DAY = { partner_counselor: 10, counselor: 16 } as const;

/** What one day of attack sees. */
export interface AttackDay {
  world: World;
  timeline: Timeline;
  intruder: Intruder;
  notes: CaseloadNotes;
  member: StaffMember;
  owner: OwnerAtWork;
  /** 0 on the first day of attack (the day of the first copy). */
  day: number;
}

export interface TheftSpec {
  /** The scenario id (progress lines, the attacker's address). */
  id: string;
  /** The victim's name in the cast (a spec with `leak: true`). */
  victim: string;
  role: 'counselor' | 'partner_counselor';
  /** Where the script's requests come from. */
  from: 'workstation' | 'elsewhere';
  /** Working days the owner works alone first. */
  warmupDays: number;
  /** Working days of attack at most (the scenario ends earlier when the script is done or the account suspended). */
  maxAttackDays: number;
  /** Minutes after the owner's first login of the day at which the script starts. */
  startAfterMinutes: number;
  /** Runs once, on the first day of attack, before the script's first use of the session (T5: the password alone). */
  beforeAttack?: (day: AttackDay) => Promise<void>;
  /** The script's day with the stolen session: 'done' when it has nothing more to do. */
  attack: (day: AttackDay) => Promise<'again' | 'done'>;
}

/** What a theft left behind, for the scenario's figures. */
export interface TheftRun {
  member: StaffMember;
  notes: CaseloadNotes;
  tally: Tally;
  days: PersonDays;
  owner: OwnerAtWork;
  intruder: Intruder;
  /** Simulated time of the script's first request, if it made one. */
  attackStartedAt: Date | null;
  /** Working days of attack that ran. */
  attackDays: number;
  /**
   * The attack day (1: the first) at whose end the guard had answered the script other than allow
   * (a throttle, a step-up, a suspension); null: never.
   */
  daysToFirstResponse: number | null;
  /** The account's status at the end (security officers' view). */
  status: string | undefined;
  alerts: GuardAlert[];
  /** Distinct persons of whom the attacker received anything (lower-case ids). */
  exposed: Set<string>;
  /** Of those, persons the victim's organisation does not reach. */
  outside: string[];
}

/** The owner's day as the honest model plans it, on the organisation's worklist. */
export function ownerPlan(
  role: TheftSpec['role'],
  member: StaffMember,
  notes: CaseloadNotes,
): HonestAccountPlan {
  return {
    index: 0,
    login: member.login,
    role,
    organisation: member.organisation,
    workstation: member.workstation,
    worklist: notes.worklist,
    // Counselors now and then read someone registered elsewhere, nationally (the honest model).
    elsewhere:
      role === 'counselor'
        ? notes.outside.slice(0, 6).map((p) => ({
            lastName: p.lastName,
            firstNames: p.firstNames,
            birthDate: p.birthDate,
          }))
        : [],
    dailyMean: USUAL_DAY[role],
  };
}

/** A seed from a text (FNV-1a). */
export function seedOf(text: string): number {
  let h = 2166136261;
  for (const ch of text) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

/** Runs a theft: warm-up days, then attack days until the script is done, the account suspended, or maxAttackDays. */
export async function runTheft(world: World, spec: TheftSpec): Promise<TheftRun> {
  const member = world.staff(spec.victim);
  const notes = world.caseload(spec.victim);
  const timeline = new Timeline(world.clock);
  const days = new PersonDays();
  const owner = new OwnerAtWork({
    world,
    member,
    plan: ownerPlan(spec.role, member, notes),
    seed: seedOf(spec.id),
    timeline,
    days,
  });
  const tally = new Tally();
  // Ids the operator knows: seen on a route outside /persons, they count too.
  tally.knownPersons = new Set([
    ...notes.caseload,
    ...notes.file.map((p) => p.id),
    ...notes.canaries.map((p) => p.id),
  ]);
  const client =
    spec.from === 'workstation'
      ? world.client('attacker', tally, {
          address: member.workstation.address,
          userAgent: member.workstation.userAgent,
        })
      : world.client('attacker', tally, {
          address: outsideAddress(`${spec.id} attacker`),
          userAgent: ATTACKER_BROWSER,
        });
  const intruder = new Intruder(client, timeline, days);

  let attacking = false;
  let attackDay = 0;
  let finished = false;
  let attackStartedAt: Date | null = null;
  // The window T7's incident covers: from the script's first move (its password-only tries included).
  let windowFrom: Date | null = null;
  let before = spec.beforeAttack;
  const context = (): AttackDay => ({
    world,
    timeline,
    intruder,
    notes,
    member,
    owner,
    day: attackDay,
  });
  owner.onLogin = (first) => {
    if (!first || !attacking || finished || intruder.suspended) return;
    // The malware copies the morning's session; the script starts a little later.
    intruder.steal(owner.client);
    const at = new Date(timeline.now().getTime() + spec.startAfterMinutes * 60_000);
    timeline.schedule(at, async () => {
      if (finished || intruder.suspended) return;
      const today = context();
      if (windowFrom === null) {
        windowFrom = timeline.now();
        // From now on, what the owner reads through the account may be in the incident's window.
        owner.client.tally.clock = () => world.clock.now().getTime();
        owner.client.tally.receivedLog = [];
      }
      if (before) {
        const once = before;
        before = undefined;
        await once(today);
      }
      if (intruder.stopped) return;
      attackStartedAt ??= timeline.now();
      if ((await spec.attack(today)) === 'done') finished = true;
    });
  };

  // The first working day starting after now, at 07:00 (Paris).
  let date = parisDate(world.clock.now());
  if (wallTime(world.clock.now()).hour >= 7) date = addDays(date, 1);
  let working = 0;
  let status: string | undefined;
  let daysToFirstResponse: number | null = null;
  for (let calendarDays = 0; calendarDays < 400 && !finished; calendarDays += 1) {
    if (!isWorkingDay(date)) {
      date = addDays(date, 1);
      continue;
    }
    attacking = working >= spec.warmupDays;
    if (attacking && attackDay >= spec.maxAttackDays) break;
    await timeline.until(zonedInstant(date, 7, 0));
    owner.scheduleDay(date);
    await timeline.until(zonedInstant(date, 23, 59));
    if (attacking) {
      world.progress(
        `${spec.id}: attack day ${attackDay + 1} (${date.year}-${date.month}-${date.day}): ${intruder.tally.requests} attacker requests so far, ` +
          `${days.attackerPersons().size} persons received`,
      );
      attackDay += 1;
      status = await world.accountStatus(member.login);
      if (status === 'suspended') {
        tally.markSuspended();
        finished = true;
      }
      if (tally.requestsToFirstResponse !== null) daysToFirstResponse ??= attackDay;
    }
    if (owner.suspended) finished = true;
    working += 1;
    date = addDays(date, 1);
  }
  timeline.clear();
  status = await world.accountStatus(member.login);
  if (status === 'suspended' && attackStartedAt !== null) tally.markSuspended();
  const alerts = await guardAlerts(world, member);

  const exposed = new Set([...tally.persons].map((id) => id.toLowerCase()));
  for (const id of tally.received.keys()) exposed.add(id.toLowerCase());
  for (const id of days.attackerPersons()) exposed.add(id);
  const outside = [...exposed].filter((id) => !notes.caseload.has(id));
  // The attack's window, a second either side (the server's clock and the drill's agree to a few ms):
  // from the script's first move to its last answer. What the owner read in it counts with it.
  const from = windowFrom === null ? null : new Date((windowFrom as Date).getTime() - WINDOW_SLACK_MS);
  const to = new Date((intruder.lastAnswerAt ?? world.clock.now()).getTime() + WINDOW_SLACK_MS);
  const ownerInWindow = new Map<string, Set<string>>();
  for (const { at, got } of owner.client.tally.receivedLog ?? []) {
    if (from === null || at < from.getTime() || at >= to.getTime()) continue;
    for (const [id, fields] of got)
      ownerInWindow.set(id, new Set([...(ownerInWindow.get(id) ?? []), ...fields]));
  }
  recordBreach(world, {
    scenario: spec.id,
    victim: member,
    notes,
    from,
    to,
    attacker: lowerIds(tally.received),
    owner: lowerIds(ownerInWindow),
  });
  return {
    member,
    notes,
    tally,
    days,
    owner,
    intruder,
    attackStartedAt,
    attackDays: attackDay,
    daysToFirstResponse: daysToFirstResponse ?? (tally.requestsToFirstResponse === null ? null : attackDay),
    status,
    alerts,
    exposed,
    outside,
  };
}

/** Remarks every theft reports: the owner's days, the guard's alerts, the worst day. */
export function theftRemarks(run: TheftRun): string[] {
  const mean = run.days.ownerMean();
  const worst = run.days.worstAttackDay();
  const remarks = [
    run.owner.summary(),
    `${run.attackDays} days of attack; the script met ${run.intruder.stepUpsMet} step-ups it could not give and ` +
      `waited out ${run.intruder.throttlesMet} throttles`,
    worst
      ? `worst attack day ${worst.day}: ${worst.persons} distinct persons read through the account, against the owner's ` +
        `normal day of ${mean === null ? '?' : mean.toFixed(1)}`
      : 'no attack day',
    `the guard's alerts on the account: ${describeAlerts(run.alerts)}`,
    `the account ends the scenario ${run.status ?? 'in an unknown state'}` +
      (run.tally.suspended
        ? `, suspended by ${suspendingSignals(run.alerts).join(', ') || 'the guard'}`
        : ', never suspended'),
  ];
  if (run.owner.suspendedAt && run.attackStartedAt && run.owner.suspendedAt < run.attackStartedAt) {
    remarks.push('the OWNER was suspended before the attack began: honest work stopped by the guard');
  }
  return remarks;
}

/** True when the owner's honest work was not suspended before the attack began. */
export function ownerLeftAlone(run: TheftRun): boolean {
  if (!run.owner.suspendedAt) return true;
  return run.attackStartedAt !== null && run.owner.suspendedAt >= run.attackStartedAt;
}

/** A theft's ScenarioResult: the common figures, the scenario's verdict, steps and remarks. */
export function theftResult(
  run: TheftRun,
  options: {
    id: string;
    title: string;
    passed: boolean;
    steps: StepResult[];
    remarks: string[];
    startedAt: number;
    requestsToFirstResponse?: number | null;
    /** beyondBaseline as the scenario defines it (default: PersonDays.beyondBaseline, the worst attack day). */
    beyondBaseline?: number | null;
    figures?: ScenarioFigures;
  },
): ScenarioResult {
  const figures = run.tally.guardFigures();
  return {
    id: options.id,
    title: options.title,
    passed: options.passed,
    recordsExposed: run.exposed.size,
    outsideCaseload: run.outside.length,
    beyondBaseline: options.beyondBaseline === undefined ? run.days.beyondBaseline() : options.beyondBaseline,
    ...figures,
    ...(options.requestsToFirstResponse === undefined
      ? {}
      : { requestsToFirstResponse: options.requestsToFirstResponse }),
    requests: run.tally.requests,
    steps: options.steps,
    remarks: [...options.remarks, ...theftRemarks(run)],
    seconds: (performance.now() - options.startedAt) / 1000,
    figures: { ...options.figures, daysToFirstResponse: run.daysToFirstResponse },
  };
}
