/**
 * COLLUDE (issue 13; docs/DESIGN.md section 2, T2 as the 2024 breach ran it: several partner
 * agents' accounts, used at once): 2, then 5, stolen partner counselor sessions of one Cap emploi,
 * each copied every morning by malware on its owner's machine and used from it (same address, same
 * browser), share the organisation's caseload between them. Each script stays near its own owner's
 * usual day: right after its owner's first login it reads as many persons again as the owner reads
 * in a usual day (USUAL_DAY), one every one to two minutes, each the crew's next unread person of
 * the caseload — every account alone looks like a busy day; only the organisation's day shows the
 * rise. Smarter than T2's script, a crew does not push on an account the guard asked a second factor
 * of: that account stops for the day and the others carry on. Three honest colleagues work in the same organisation meanwhile and must not be suspended.
 * A week (6 working days) of honest work first: the organisation's usual (drill/steps/crew.ts).
 When the session ends the script waits for the next morning's copy. At most 20 working days.
 * Goal (issue 13): every stolen account suspended before the organisation has read 50 persons
 * beyond its usual day (beyondBaseline: the sum over the attack days of the organisation's day beyond
 * the median of its warm-up days), the colleagues never suspended, nobody outside the caseload.
 */

import { Random } from '../random.ts';
import type { ScenarioResult, StepResult } from '../report.ts';
import type { CastSpec, Scenario, World } from '../scenario.ts';
import { describeAlerts, suspendingSignals } from '../steps/alerts.ts';
import { type CrewRun, runCrew, type Seat } from '../steps/crew.ts';
import { view } from '../steps/moves.ts';
import { step } from '../steps/stolen-password.ts';
import { USUAL_DAY } from '../steps/theft.ts';

/** The goal: every stolen account suspended before the organisation reads this many persons beyond its usual. */
export const COLLUDE_GOAL = 50;
/** Working days of honest work before the first copy (the organisation's usual needs 5). */
const WARMUP_DAYS = 6;
/** Working days of attack at most. */
const MAX_ATTACK_DAYS = 20;
/** Honest colleagues in the organisation. */
const COLLEAGUES = 3;

/** The cast of a crew of `accounts` stolen accounts in the Cap emploi of rank `rank`. */
function crewCast(accounts: number, rank: number): { victims: CastSpec[]; colleagues: CastSpec[] } {
  const spec = (name: string): CastSpec => ({
    name,
    role: 'partner_counselor',
    organisationKind: 'cap_emploi',
    organisationRank: rank,
    leak: true,
  });
  return {
    victims: Array.from({ length: accounts }, (_, i) => spec(`collude${accounts}-${i + 1}`)),
    colleagues: Array.from({ length: COLLEAGUES }, (_, i) => spec(`collude${accounts}-colleague-${i + 1}`)),
  };
}

/** The scenario with `accounts` stolen accounts, in an organisation no other scenario works in. */
function collude(accounts: number, rank: number): Scenario {
  const id = `COLLUDE-${accounts}`;
  const cast = crewCast(accounts, rank);
  const title = `${accounts} stolen partner sessions of one organisation sharing its caseload, each near its own usual day`;
  return {
    id,
    group: 'COLLUDE',
    title,
    cast: [...cast.victims, ...cast.colleagues],
    run: (world) => attack(world, id, title, cast.victims, cast.colleagues),
  };
}

async function attack(
  world: World,
  id: string,
  title: string,
  victims: CastSpec[],
  colleagues: CastSpec[],
): Promise<ScenarioResult> {
  const startedAt = performance.now();
  const random = new Random(2024_13);
  // The crew's work list: the caseload, in a fixed order; each script takes the next unread person.
  let queue: string[] | null = null;
  let taken = 0;
  const run = await runCrew(world, {
    id,
    victims: victims.map((v) => v.name),
    colleagues: colleagues.map((c) => c.name),
    warmupDays: WARMUP_DAYS,
    maxAttackDays: MAX_ATTACK_DAYS,
    startAfterMinutes: 2,
    attack: async ({ intruder, notes }) => {
      queue ??= [...notes.caseload].sort();
      let read = 0;
      while (!intruder.stopped && read < USUAL_DAY.partner_counselor) {
        const person = queue[taken];
        if (person === undefined) return 'done';
        const call = await intruder.push(view(person));
        if (intruder.dead) return 'again'; // this person again on the next copy
        // Asked for a second factor it cannot give: this account is spent for the day; the person
        // stays on the crew's list for another account or the next copy.
        if (call.code === 'step_up_required') return 'again';
        if (call.status === 429) continue;
        taken += 1;
        if (call.status === 200) read += 1;
        await intruder.pause(random.int(60, 120) * 1000);
      }
      return 'again';
    },
  });
  return crewResult(run, { id, title, startedAt, caseloadRead: taken });
}

const who = (s: Seat): string =>
  `${s.member.name}: ${s.status ?? '?'}${s.suspendedOnDay === null ? '' : ` (seen on attack day ${s.suspendedOnDay})`}` +
  (s.status === 'suspended' ? ` by ${suspendingSignals(s.alerts).join(', ') || 'the guard'}` : '');

function crewResult(
  run: CrewRun,
  options: { id: string; title: string; startedAt: number; caseloadRead: number },
): ScenarioResult {
  const colleaguesLeft = run.colleagues.every((c) => c.status !== 'suspended' && !c.owner.suspended);
  const ownersLeft = run.victims.every(
    (v) =>
      !v.owner.suspendedAt || (run.attackStartedAt !== null && v.owner.suspendedAt >= run.attackStartedAt),
  );
  const steps: StepResult[] = [
    step(
      '(a)',
      'the crew shares the caseload, each script near its own usual day',
      run.allSuspended && run.beyondBaseline < COLLUDE_GOAL && run.outside.length === 0,
      `${run.requests} requests over ${run.attackDays} days; ${run.exposed.size} distinct persons received ` +
        `(${options.caseloadRead} of ${run.notes.caseload.size} of the caseload taken in hand); the organisation's day ` +
        `${run.attack.join(', ')} against its usual ${run.usualDay} (warm-up ${run.warmup.join(', ')}); ` +
        (run.allSuspended
          ? `every stolen account suspended, ${run.beyondBaseline} persons beyond the usual`
          : `NOT every stolen account suspended, ${run.beyondBaseline} persons beyond the usual`) +
        ` (goal: under ${COLLUDE_GOAL}); the guard's first answer on attack day ${run.daysToFirstResponse ?? 'never'}`,
    ),
    step(
      '(b)',
      'the honest colleagues and owners go on working',
      colleaguesLeft && ownersLeft,
      run.colleagues.map(who).join('; '),
    ),
  ];
  const passed = steps.every((s) => s.passed) && run.attackStartedAt !== null;
  return {
    id: options.id,
    title: options.title,
    passed,
    recordsExposed: run.exposed.size,
    outsideCaseload: run.outside.length,
    beyondBaseline: run.beyondBaseline,
    requestsToFirstResponse: run.requestsToFirstResponse,
    requestsToSuspension: run.allSuspended ? run.requestsToSuspension : null,
    suspended: run.allSuspended,
    requests: run.requests,
    steps,
    remarks: [
      `${run.notes.organisation}: ${run.notes.caseload.size} persons in the caseload`,
      ...run.victims.map(
        (v) => `${who(v)}; its owner: ${v.owner.summary()}; the guard's alerts: ${describeAlerts(v.alerts)}`,
      ),
      ...run.colleagues.map((c) => `${c.member.name}'s owner: ${c.owner.summary()}`),
    ],
    seconds: (performance.now() - options.startedAt) / 1000,
    figures: { daysToFirstResponse: run.daysToFirstResponse },
  };
}

/** Two stolen accounts, in the second Cap emploi; five, in the third. */
export const collude2 = collude(2, 1);
export const collude5 = collude(5, 2);
