/**
 * T2 (docs/DESIGN.md section 2; the 2024 breach: weeks of low-volume probing from a live partner session,
 * then bulk queries): a Cap emploi counselor's session, stolen every morning by malware on the
 * owner's machine (drill/steps/theft.ts) and used from that same machine — same address, same
 * browser: the worst case, where only behaviour can give the attacker away. The owner works normally
 * every working day (the honest model's day, password and authenticator app, 6–15 persons of the
 * caseload spread over the day). The attacker holds the earlier leak's file (drill/leak.ts: hundreds
 * of identities, some in this caseload, most not).
 *
 * (a) Three simulated weeks (15 working days) of slow probing: each morning, a few minutes after
 *     the copy, two or three searches of the file's next identities (by agency id, or by name and
 *     birth date; most answer nobody: they are outside the caseload) and one or two reads of
 *     persons of the caseload it already knows, a minute or three apart.
 * (b) Then the bulk pull (drill/steps/bulk.ts): everything reachable, as fast as possible — every
 *     person it found, by id; the rest of the file, searched by agency id, each person found
 *     viewed; sequential agency ids after the ones found; views and national searches outside
 *     the caseload — morning after morning until it is done or the account is suspended.
 * When a step-up is asked the script cannot give it and goes on; throttled, it waits Retry-After.
 * Goal (issue 5): no person outside the caseload (outsideCaseload 0), and the account suspended
 * before beyondBaseline (drill/steps/exposure.ts) reaches 50; the owner's honest work is not
 * suspended before the attack.
 */

import { runOnce } from '../breaches.ts';
import { Random } from '../random.ts';
import type { ScenarioResult, StepResult } from '../report.ts';
import type { CastSpec, Scenario, World } from '../scenario.ts';
import { BulkPull } from '../steps/bulk.ts';
import { byAgencyId, byName, foundIds, view } from '../steps/moves.ts';
import { step } from '../steps/stolen-password.ts';
import { type AttackDay, ownerLeftAlone, runTheft, theftResult } from '../steps/theft.ts';

/** The victim: a Cap emploi counselor whose caseload the operator notes (and the leak covers). */
export const T2_VICTIM: CastSpec = {
  name: 't2-partner',
  role: 'partner_counselor',
  organisationKind: 'cap_emploi',
  leak: true,
};

/** Working days of slow probing: three simulated weeks. */
export const PROBING_DAYS = 15;
/** Working days the bulk pull may last at most. */
export const BULK_DAYS = 10;
/** The goal: suspended before this many persons beyond the account's normal day. */
export const BEYOND_GOAL = 50;

const TITLE =
  'a partner session stolen each morning on the owner’s own machine: three weeks of slow probing, then bulk (2024)';

/** What the probing did, for step (a). */
interface Probing {
  searches: number;
  empty: number;
  reads: number;
  requests: number;
  persons: number;
}

export const t2: Scenario = {
  id: 'T2',
  title: TITLE,
  cast: [T2_VICTIM],
  // Once per drill: T7 runs it when it was not selected (drill/breaches.ts).
  run: (world) => runOnce(world, 'T2', () => attackT2(world)),
};

/** The attack, as described above. */
async function attackT2(world: World): Promise<ScenarioResult> {
  const startedAt = performance.now();
  const random = new Random(2024_02);
  const known = new Set<string>();
  const probing: Probing = { searches: 0, empty: 0, reads: 0, requests: 0, persons: 0 };
  let filePos = 0;
  let bulk: BulkPull | undefined;

  /** (a) A morning of probing: a few searches of the file, a read or two of known persons. */
  const probe = async ({ intruder, timeline, notes }: AttackDay): Promise<'again'> => {
    const draw = random.fork(`probe ${timeline.now().toISOString()}`);
    const searches = draw.int(2, 3);
    for (let i = 0; i < searches && !intruder.stopped; i += 1) {
      const person = notes.file[filePos];
      if (!person) break;
      filePos += 1;
      const move = draw.chance(0.5)
        ? byAgencyId(person.agencyId)
        : byName({ lastName: person.lastName, firstName: person.firstNames, birthDate: person.birthDate });
      const call = await intruder.push(move);
      if (call.status === 401) {
        filePos -= 1;
        break;
      }
      probing.searches += 1;
      const found = foundIds(call);
      if (call.status === 200 && found.length === 0) probing.empty += 1;
      for (const id of found) known.add(id);
      await intruder.pause(draw.int(60, 180) * 1000);
    }
    const candidates = [...new Set([...notes.inside.map((p) => p.id), ...known])];
    const reads = draw.int(1, 2);
    for (let i = 0; i < reads && !intruder.stopped && candidates.length > 0; i += 1) {
      const call = await intruder.push(view(draw.pick(candidates)));
      if (call.status === 200) probing.reads += 1;
      await intruder.pause(draw.int(60, 180) * 1000);
    }
    return 'again';
  };

  const run = await runTheft(world, {
    id: 'T2',
    victim: T2_VICTIM.name,
    role: 'partner_counselor',
    from: 'workstation',
    warmupDays: 0,
    maxAttackDays: PROBING_DAYS + BULK_DAYS,
    startAfterMinutes: 2,
    attack: async (day) => {
      if (day.day < PROBING_DAYS) {
        const answer = await probe(day);
        probing.requests = day.intruder.tally.requests;
        probing.persons = day.intruder.tally.persons.size;
        return answer;
      }
      if (day.day === PROBING_DAYS) world.progress('T2 (b) the bulk pull begins');
      bulk ??= new BulkPull(day.notes, known, day.notes.file.slice(filePos));
      return bulk.run(day.intruder);
    },
  });

  const beyond = run.days.beyondBaseline();
  const steps: StepResult[] = [];
  const probingResponses = run.tally.requestsToFirstResponse;
  steps.push(
    step(
      '(a)',
      'three weeks of slow probing',
      run.outside.length === 0,
      `${probing.searches} searches of leaked identities over ${Math.min(run.attackDays, PROBING_DAYS)} days ` +
        `(${probing.empty} answered by nobody), ${probing.reads} reads of persons of the caseload; ` +
        `${probing.requests} requests, ${probing.persons} persons received; ` +
        (probingResponses !== null && probingResponses <= probing.requests
          ? `the guard's first answer at request ${probingResponses} (${run.tally.firstResponse})`
          : 'the guard never answered during the probing'),
    ),
  );
  const counts = bulk?.counts;
  steps.push(
    step(
      '(b)',
      'the bulk pull',
      run.outside.length === 0 && run.tally.suspended && (beyond ?? 0) < BEYOND_GOAL,
      counts
        ? `${run.tally.requests - probing.requests} requests: ${counts.searches} searches answered ` +
            `(${counts.emptySearches} by nobody; ${counts.sequential} of sequential agency ids), ${counts.views} ` +
            `views of persons found, ${counts.outsideTries} tries outside the caseload, ${counts.refusedByGuard} ` +
            'refused by the guard; ' +
            (run.tally.suspended
              ? `suspended at request ${run.tally.requestsToSuspension}`
              : 'NEVER suspended') +
            `; beyondBaseline ${beyond ?? '-'} (goal: under ${BEYOND_GOAL})`
        : run.tally.suspended
          ? `the account was suspended during the probing, before any bulk (request ${run.tally.requestsToSuspension})`
          : 'the bulk pull never ran',
    ),
  );
  const passed =
    run.outside.length === 0 &&
    run.tally.suspended &&
    (beyond ?? 0) < BEYOND_GOAL &&
    ownerLeftAlone(run) &&
    run.attackStartedAt !== null;
  return theftResult(run, {
    id: 'T2',
    title: TITLE,
    passed,
    steps,
    remarks: [
      `${run.notes.organisation}: ${run.notes.caseload.size} persons in the caseload; the leaked file holds ` +
        `${run.notes.file.length} identities, ${run.notes.file.filter((p) => p.kind === 'inside').length} of them in it`,
    ],
    startedAt,
  });
}
