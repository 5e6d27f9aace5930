/**
 * T2b (docs/DESIGN.md section 2, T2, with the 2023 leak's identifiers): an agency counselor's session,
 * stolen each morning by malware on the owner's machine and used from it (drill/steps/theft.ts:
 * same address, same browser). Counselors may read any person nationally with a written
 * justification; the attacker holds a list of real identities — NIRs, names, birth dates — of
 * persons registered with other agencies (the leaked file, drill/leak.ts) and looks them up one by
 * one: a national search by NIR with a plausible justification, varied from one to the next, then
 * the national view of the person found, one person every one to three minutes (a patient script,
 * below every per-minute rate). The owner works a week first, then goes on working meanwhile. When
 * a step-up is asked the script cannot give it and goes on; when the session ends it waits for the
 * next morning's copy.
 * Goal (issue 5): the account is suspended before the attacker has read 200 distinct persons.
 */

import { Random } from '../random.ts';
import type { StepResult } from '../report.ts';
import type { CastSpec, Scenario } from '../scenario.ts';
import { foundIds, JUSTIFICATIONS, nationalByNir, nationalView } from '../steps/moves.ts';
import { step } from '../steps/stolen-password.ts';
import { ownerLeftAlone, runTheft, theftResult } from '../steps/theft.ts';

export const T2B_VICTIM: CastSpec = {
  name: 't2b-counselor',
  role: 'counselor',
  organisationKind: 'agency',
  leak: true,
};

/** The goal: suspended before this many distinct persons. */
export const PERSONS_GOAL = 200;
/** Persons of the leaked list the script goes through at most (more than the goal: the goal must be reachable). */
const LIST = 250;

const TITLE =
  'an agency counselor’s session stolen each morning: leaked identities looked up one by one by justified national reads';

export const t2b: Scenario = {
  id: 'T2b',
  title: TITLE,
  cast: [T2B_VICTIM],
  async run(world) {
    const startedAt = performance.now();
    const random = new Random(2023);
    let position = 0;
    const counts = { searches: 0, found: 0, views: 0, refusedByGuard: 0 };
    let listSize = 0;
    const run = await runTheft(world, {
      id: 'T2b',
      victim: T2B_VICTIM.name,
      role: 'counselor',
      from: 'workstation',
      warmupDays: 5,
      maxAttackDays: 30,
      startAfterMinutes: 2,
      attack: async ({ intruder, notes }) => {
        const list = notes.file.filter((p) => p.kind !== 'inside').slice(0, LIST);
        listSize = list.length;
        while (!intruder.stopped) {
          const person = list[position];
          if (!person) return 'done';
          const why = random.pick(JUSTIFICATIONS);
          const search = await intruder.push(nationalByNir(person, why));
          if (intruder.dead) return 'again'; // this person again on the next copy
          position += 1;
          if (search.status === 200) counts.searches += 1;
          else if (search.status === 429 || search.code === 'step_up_required') counts.refusedByGuard += 1;
          for (const id of foundIds(search)) {
            counts.found += 1;
            const read = await intruder.push(nationalView(id, why));
            if (read.status === 200) counts.views += 1;
            else if (read.status === 429 || read.code === 'step_up_required') counts.refusedByGuard += 1;
          }
          await intruder.pause(random.int(60, 180) * 1000);
        }
        return 'again';
      },
    });

    const exposed = run.exposed.size;
    const steps: StepResult[] = [
      step(
        '(a)',
        'leaked identities looked up one by one, nationally, with justifications',
        run.tally.suspended && exposed < PERSONS_GOAL,
        `${position} of ${listSize} leaked identities tried over ${run.attackDays} days: ${counts.searches} national ` +
          `searches answered (${counts.found} persons found), ${counts.views} national views, ${counts.refusedByGuard} ` +
          `refused by the guard; ${exposed} distinct persons received; ` +
          (run.tally.suspended
            ? `suspended at request ${run.tally.requestsToSuspension}`
            : 'NEVER suspended') +
          ` (goal: before ${PERSONS_GOAL} persons)`,
      ),
    ];
    const passed =
      run.tally.suspended && exposed < PERSONS_GOAL && ownerLeftAlone(run) && run.attackStartedAt !== null;
    return theftResult(run, {
      id: 'T2b',
      title: TITLE,
      passed,
      steps,
      remarks: [
        `${run.notes.organisation}: ${run.notes.caseload.size} persons in its everyday scope; the attacker's list ` +
          `holds ${listSize} identities registered elsewhere (outsideCaseload counts the persons read outside the ` +
          'agency: national reads are open to counselors, the goal is the suspension)',
      ],
      startedAt,
    });
  },
};
