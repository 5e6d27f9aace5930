/**
 * MIMIC (issue 13): an agency counselor's session, stolen each morning on the owner's machine and
 * used from it (drill/steps/theft.ts), making justified national reads at a few times the honest
 * rate, every working day: 8 a day (honest counselors make about 1.7 a week), each a national
 * search by NIR of a leaked identity registered elsewhere, with a plausible justification varied
 * from one to the next, then the national view of the person found, ten to twenty-five minutes
 * apart — under every per-day level a hasty script would cross. The owner works a week first, then
 * goes on working. At most 20 working days (160 persons if nothing answers).
 * Goal (issue 13): the guard answers within the first week of attack (daysToFirstResponse ≤ 5) and
 * the account is suspended before 40 persons outside the agency were read.
 */

import { Random } from '../random.ts';
import type { StepResult } from '../report.ts';
import type { CastSpec, Scenario } from '../scenario.ts';
import { foundIds, JUSTIFICATIONS, nationalByNir, nationalView } from '../steps/moves.ts';
import { step } from '../steps/stolen-password.ts';
import { ownerLeftAlone, runTheft, theftResult } from '../steps/theft.ts';

export const MIMIC_VICTIM: CastSpec = {
  name: 'mimic-counselor',
  role: 'counselor',
  organisationKind: 'agency',
  organisationRank: 1,
  leak: true,
};

/** National reads a day. */
export const MIMIC_PER_DAY = 8;
/** The goals: answered within this many working days of attack; suspended before this many persons outside the agency. */
export const MIMIC_DAYS_GOAL = 5;
export const MIMIC_OUTSIDE_GOAL = 40;
const WARMUP_DAYS = 5;
const MAX_ATTACK_DAYS = 20;

const TITLE =
  'an agency counselor’s session stolen each morning: 8 justified national reads every working day';

export const mimic: Scenario = {
  id: 'MIMIC',
  title: TITLE,
  cast: [MIMIC_VICTIM],
  async run(world) {
    const startedAt = performance.now();
    const random = new Random(2024_08);
    let position = 0;
    const counts = { searches: 0, views: 0, refusedByGuard: 0 };
    const run = await runTheft(world, {
      id: 'MIMIC',
      victim: MIMIC_VICTIM.name,
      role: 'counselor',
      from: 'workstation',
      warmupDays: WARMUP_DAYS,
      maxAttackDays: MAX_ATTACK_DAYS,
      startAfterMinutes: 2,
      attack: async ({ intruder, notes }) => {
        const list = notes.file.filter((p) => p.kind !== 'inside');
        let today = 0;
        while (!intruder.stopped && today < MIMIC_PER_DAY) {
          const person = list[position];
          if (!person) return 'done';
          const why = random.pick(JUSTIFICATIONS);
          const search = await intruder.push(nationalByNir(person, why));
          if (intruder.dead) return 'again';
          position += 1;
          if (search.status === 200) counts.searches += 1;
          else if (search.status === 429 || search.code === 'step_up_required') counts.refusedByGuard += 1;
          for (const id of foundIds(search)) {
            const read = await intruder.push(nationalView(id, why));
            if (read.status === 200) {
              counts.views += 1;
              today += 1;
            } else if (read.status === 429 || read.code === 'step_up_required') counts.refusedByGuard += 1;
          }
          await intruder.pause(random.int(10, 25) * 60_000);
        }
        return 'again';
      },
    });
    const outside = run.outside.length;
    const answered = run.daysToFirstResponse !== null && run.daysToFirstResponse <= MIMIC_DAYS_GOAL;
    const steps: StepResult[] = [
      step(
        '(a)',
        'justified national reads at a few times the honest rate, every working day',
        answered && run.tally.suspended && outside < MIMIC_OUTSIDE_GOAL,
        `${counts.searches} national searches answered and ${counts.views} national views over ${run.attackDays} days, ` +
          `${counts.refusedByGuard} refused by the guard; ${outside} persons outside the agency received; the guard's ` +
          `first answer on attack day ${run.daysToFirstResponse ?? 'never'} (goal: by day ${MIMIC_DAYS_GOAL}); ` +
          (run.tally.suspended
            ? `suspended at request ${run.tally.requestsToSuspension}`
            : 'NEVER suspended') +
          ` (goal: before ${MIMIC_OUTSIDE_GOAL} persons outside)`,
      ),
    ];
    return theftResult(run, {
      id: 'MIMIC',
      title: TITLE,
      passed: steps[0]!.passed && ownerLeftAlone(run) && run.attackStartedAt !== null,
      steps,
      remarks: [
        `${run.notes.organisation}: ${run.notes.caseload.size} persons in its everyday scope (outsideCaseload counts ` +
          'the persons read outside the agency: national reads are open to counselors, the goal is the answer and the suspension)',
      ],
      startedAt,
    });
  },
};
