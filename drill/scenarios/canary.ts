/**
 * CANARY (issue 5; docs/DESIGN.md sections 4 and 6: canary persons that no legitimate workflow reaches):
 * an agency counselor's session stolen on the owner's machine (drill/steps/theft.ts), after a week
 * of the owner's ordinary work, sweeps its agency: the agency's persons of the leaked file, each
 * searched by agency id and, when found, viewed — back to back, as a script does. The operator
 * knows which persons are canaries (drill/leak.ts notes the canaries the agency reaches, setup
 * knowledge); the attacker's list holds one, as a leaked file taken from the registry would: the
 * drill puts it fifth in the sweep, so that the sweep reaches it before any volume signal could stop
 * it (in a real file, at two canaries per thousand persons, a sweep meets one after some hundreds).
 * The seed plants canaries at random over the registry, so a small agency may hold none: then the
 * attacker's leaked list holds a canary registered elsewhere, and the sweep is of leaked identities
 * by national search (NIR and a justification, which counselors may make), the canary fifth again.
 * Goal: the account is suspended by the very request that touched the canary, and that request
 * returned nothing of it (nor did any other).
 */
import type { Exchange } from '../client.ts';
import type { ScenarioResult, StepResult } from '../report.ts';
import type { CastSpec, Scenario } from '../scenario.ts';
import type { Move } from '../steps/intruder.ts';
import { byAgencyId, foundIds, JUSTIFICATIONS, nationalByNir, nationalView, view } from '../steps/moves.ts';
import { step } from '../steps/stolen-password.ts';
import { ownerLeftAlone, runTheft, theftResult } from '../steps/theft.ts';

export const CANARY_VICTIM: CastSpec = {
  name: 'canary-counselor',
  role: 'counselor',
  organisationKind: 'agency',
  leak: true,
};

/** The canary's place in the sweep (1-based). */
export const CANARY_PLACE = 5;
/** Persons of the agency the sweep goes through at most. */
const SWEEP = 60;

const TITLE = 'a stolen counselor session sweeping its agency reaches a canary person';

export const canary: Scenario = {
  id: 'CANARY',
  title: TITLE,
  cast: [CANARY_VICTIM],
  async run(world): Promise<ScenarioResult> {
    const startedAt = performance.now();
    const notes = world.caseload(CANARY_VICTIM.name);
    // A canary of the agency if it holds one; else one registered elsewhere, looked up nationally
    // (the seed plants canaries at random: a small agency may hold none).
    const inAgency = notes.canaries[0];
    const target = inAgency ?? notes.canariesElsewhere[0];
    const national = inAgency === undefined;
    if (!target) {
      return {
        id: 'CANARY',
        title: TITLE,
        passed: false,
        recordsExposed: 0,
        outsideCaseload: 0,
        beyondBaseline: null,
        requestsToFirstResponse: null,
        requestsToSuspension: null,
        suspended: false,
        requests: 0,
        steps: [
          step(
            '(a)',
            'the sweep reaches a canary',
            false,
            "the operator's notes hold no canary person at all: the registry has none (guard_canaries, planted by " +
              '`rempart seed`), so there is nothing to touch',
          ),
        ],
        remarks: ['the attack was not run'],
        seconds: (performance.now() - startedAt) / 1000,
      };
    }
    const canaryId = target.id.toLowerCase();
    let moves: Move[] | undefined;
    let position = 0;
    let touch: { request: number; answer: Exchange } | undefined;
    const run = await runTheft(world, {
      id: 'CANARY',
      victim: CANARY_VICTIM.name,
      role: 'counselor',
      from: 'workstation',
      warmupDays: 5,
      maxAttackDays: 3,
      startAfterMinutes: 2,
      attack: async ({ intruder, notes: noted }) => {
        if (!moves) {
          const list = noted.file.filter((p) => (national ? p.kind !== 'inside' : p.kind === 'inside'));
          const sweep = list.slice(0, SWEEP - 1);
          sweep.splice(CANARY_PLACE - 1, 0, target);
          moves = sweep.map((p, i) =>
            national ? nationalByNir(p, JUSTIFICATIONS[i % JUSTIFICATIONS.length]!) : byAgencyId(p.agencyId),
          );
        }
        while (!intruder.stopped) {
          const move = moves[position];
          if (!move) return 'done';
          const call = await intruder.push(move);
          if (intruder.dead) return 'again';
          position += 1;
          const asked = move.body as { agencyId?: string; nir?: string; justification?: string };
          if (asked.agencyId === target.agencyId || (national && asked.nir === target.nir)) {
            touch ??= { request: intruder.tally.requests, answer: call };
          }
          for (const id of foundIds(call)) {
            await intruder.push(
              national ? nationalView(id, asked.justification ?? JUSTIFICATIONS[0]!) : view(id),
            );
          }
        }
        return 'again';
      },
    });

    const leaked = run.exposed.has(canaryId);
    const sameRequest =
      touch !== undefined &&
      touch.answer.code === 'account_suspended' &&
      run.tally.requestsToSuspension === touch.request;
    const steps: StepResult[] = [
      step(
        '(a)',
        'the sweep reaches a canary',
        sameRequest && !leaked,
        touch
          ? `the canary was searched at the script's request ${touch.request}, answered ` +
              `${touch.answer.status}${touch.answer.code ? ` ${touch.answer.code}` : ''}; ` +
              (run.tally.suspended
                ? `the account was suspended at request ${run.tally.requestsToSuspension}` +
                  (sameRequest ? ', by that very request' : ', NOT by that request')
                : 'the account was NEVER suspended') +
              `; the canary's data ${leaked ? 'CAME BACK' : 'never came back'}`
          : `the sweep never reached the canary (${position} searches sent; ` +
              (run.tally.suspended
                ? `suspended before it, at request ${run.tally.requestsToSuspension})`
                : 'never suspended)'),
      ),
    ];
    const passed = sameRequest && !leaked && ownerLeftAlone(run);
    return theftResult(run, {
      id: 'CANARY',
      title: TITLE,
      passed,
      steps,
      remarks: [
        `${notes.organisation}: ${notes.caseload.size} persons in its everyday scope, ${notes.canaries.length} of them ` +
          `canaries (the operator's notes); ` +
          (national
            ? 'the agency holds no canary: the attacker sweeps leaked identities of persons registered elsewhere ' +
              'by national searches (NIR and a justification), a canary among them'
            : 'the attacker sweeps the agency by agency id') +
          `; the canary is ${CANARY_PLACE}th in the sweep`,
      ],
      startedAt,
    });
  },
};
