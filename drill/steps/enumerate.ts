/**
 * An enumeration script on a stolen partner session (ENUM-ID, ENUM-NAME): a list of searches sent
 * back to back, with the Intruder's policy (throttled: wait Retry-After, try once more, go on; a
 * step-up it cannot give: go on), across mornings if the session ends, until the account is
 * suspended or the list is done. Goal (issue 5): throttled within 20 requests; pushing on ends in
 * a suspension.
 */
import { statusSummary } from '../attack.ts';
import type { Exchange } from '../client.ts';
import type { ScenarioResult, StepResult } from '../report.ts';
import type { CastSpec, World } from '../scenario.ts';
import type { Move } from './intruder.ts';
import { foundIds } from './moves.ts';
import { step } from './stolen-password.ts';
import { type AttackDay, ownerLeftAlone, runTheft, theftResult } from './theft.ts';

/** The goal: the first answer of the guard within this many requests. */
export const FIRST_RESPONSE_GOAL = 20;

/** Runs an enumeration (`sweep` builds the list from the notes) and returns its result. */
export async function runEnumeration(
  world: World,
  options: {
    id: string;
    title: string;
    victim: CastSpec;
    /** What the sweep is, for the step's title. */
    what: string;
    sweep: (day: AttackDay) => Move[];
  },
): Promise<ScenarioResult> {
  const startedAt = performance.now();
  let moves: Move[] | undefined;
  let position = 0;
  const answers: Exchange[] = [];
  let found = 0;
  const run = await runTheft(world, {
    id: options.id,
    victim: options.victim.name,
    role: 'partner_counselor',
    from: 'workstation',
    warmupDays: 5,
    maxAttackDays: 5,
    startAfterMinutes: 2,
    attack: async (day) => {
      moves ??= options.sweep(day);
      while (!day.intruder.stopped) {
        const move = moves[position];
        if (!move) return 'done';
        const call = await day.intruder.push(move);
        if (day.intruder.dead) return 'again';
        position += 1;
        answers.push(call);
        found += foundIds(call).length;
      }
      return 'again';
    },
  });
  const first = run.tally.requestsToFirstResponse;
  const steps: StepResult[] = [
    step(
      '(a)',
      options.what,
      first !== null && first <= FIRST_RESPONSE_GOAL && run.tally.suspended,
      `${position} of ${moves?.length ?? 0} searches sent (${found} persons found); the guard's first answer ` +
        (first === null ? 'NEVER came' : `at request ${first} (${run.tally.firstResponse})`) +
        ` (goal: within ${FIRST_RESPONSE_GOAL}); ` +
        (run.tally.suspended ? `suspended at request ${run.tally.requestsToSuspension}` : 'NEVER suspended') +
        `; answers: ${statusSummary(answers)}`,
    ),
  ];
  const passed =
    first !== null &&
    first <= FIRST_RESPONSE_GOAL &&
    run.tally.suspended &&
    run.outside.length === 0 &&
    ownerLeftAlone(run);
  return theftResult(run, {
    id: options.id,
    title: options.title,
    passed,
    steps,
    remarks: [`${run.notes.organisation}: ${run.notes.caseload.size} persons in the caseload`],
    startedAt,
  });
}
