/**
 * RAMP (issue 13): a Mission locale partner counselor's session, stolen each morning on the owner's
 * machine and used from it (drill/steps/theft.ts: same address, same browser), raising the account's
 * day slowly: on the n-th working day of attack, right after the owner's first login, the script
 * reads n persons of the caseload more than the owner does (one every one to two minutes, persons
 * off the owner's worklist first) — one more each day, as a patient attacker would to walk the
 * account's usual day up with it. The owner works a week first (the account's baseline), then goes
 * on working. At most 25 working days (5 weeks: 325 persons beyond the baseline if nothing answers).
 * Goal (issue 13): suspended before the account has read 100 persons beyond its first week's
 * baseline (beyondBaseline: the sum over the attack days of the distinct persons read through the
 * account beyond the owner's mean day of the first week, never below 0 on a day).
 */

import { Random } from '../random.ts';
import type { StepResult } from '../report.ts';
import type { CastSpec, Scenario } from '../scenario.ts';
import { dayOf } from '../steps/exposure.ts';
import { view } from '../steps/moves.ts';
import { step } from '../steps/stolen-password.ts';
import { ownerLeftAlone, runTheft, theftResult } from '../steps/theft.ts';

export const RAMP_VICTIM: CastSpec = {
  name: 'climb-partner',
  role: 'partner_counselor',
  organisationKind: 'mission_locale',
  organisationRank: 1,
  leak: true,
};

/** The goal: suspended before this many persons beyond the first week's baseline. */
export const RAMP_GOAL = 100;
/** Persons added each day of attack. */
const STEP = 1;
const WARMUP_DAYS = 5;
const MAX_ATTACK_DAYS = 25;

const TITLE = 'a partner session stolen each morning, its day raised by one person more every working day';

export const ramp: Scenario = {
  id: 'RAMP',
  title: TITLE,
  cast: [RAMP_VICTIM],
  async run(world) {
    const startedAt = performance.now();
    const random = new Random(2024_25);
    let queue: string[] | null = null;
    let next = 0;
    let read = 0;
    const run = await runTheft(world, {
      id: 'RAMP',
      victim: RAMP_VICTIM.name,
      role: 'partner_counselor',
      from: 'workstation',
      warmupDays: WARMUP_DAYS,
      maxAttackDays: MAX_ATTACK_DAYS,
      startAfterMinutes: 2,
      attack: async ({ intruder, notes, day }) => {
        if (queue === null) {
          const worklist = new Set(notes.worklist.map((p) => p.id.toLowerCase()));
          const all = [...notes.caseload].sort();
          queue = [...all.filter((id) => !worklist.has(id)), ...all.filter((id) => worklist.has(id))];
        }
        const today = new Set<string>();
        const extra = STEP * (day + 1);
        while (!intruder.stopped && today.size < extra && today.size < queue.length) {
          const person = queue[next % queue.length]!;
          const call = await intruder.push(view(person));
          if (intruder.dead) return 'again';
          next += 1;
          if (call.status === 200) {
            today.add(person);
            read += 1;
          }
          await intruder.pause(random.int(60, 120) * 1000);
        }
        return 'again';
      },
    });

    // The account's baseline: the owner's mean day over the first week (the warm-up).
    const firstAttack = run.attackStartedAt === null ? null : dayOf(run.attackStartedAt);
    const week = [...run.days.ownerDays].filter((d) => firstAttack === null || d < firstAttack);
    const baseline =
      week.length === 0 ? 0 : week.reduce((n, d) => n + (run.days.owner.get(d)?.size ?? 0), 0) / week.length;
    let beyond = 0;
    const byDay: number[] = [];
    for (const d of [...run.days.attackDays].sort()) {
      const persons = run.days.readOn(d);
      byDay.push(persons);
      beyond += Math.max(0, persons - baseline);
    }
    const beyondBaseline = Math.round(beyond);
    const steps: StepResult[] = [
      step(
        '(a)',
        'the account’s day raised by one person more every working day',
        run.tally.suspended && beyondBaseline < RAMP_GOAL && run.outside.length === 0,
        `${read} reads by the script over ${run.attackDays} days; the account's days ${byDay.join(', ')} against its ` +
          `first week's ${baseline.toFixed(1)}; ${beyondBaseline} persons beyond it; ` +
          (run.tally.suspended
            ? `suspended at request ${run.tally.requestsToSuspension}`
            : 'NEVER suspended') +
          ` (goal: before ${RAMP_GOAL}); the guard's first answer on attack day ${run.daysToFirstResponse ?? 'never'}`,
      ),
    ];
    const passed = steps[0]!.passed && ownerLeftAlone(run) && run.attackStartedAt !== null;
    return theftResult(run, {
      id: 'RAMP',
      title: TITLE,
      passed,
      steps,
      beyondBaseline,
      remarks: [`${run.notes.organisation}: ${run.notes.caseload.size} persons in the caseload`],
      startedAt,
    });
  },
};
