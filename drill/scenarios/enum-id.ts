/**
 * ENUM-ID (issue 5; docs/DESIGN.md section 6: searches that sweep sequential ids): a partner session
 * stolen on the owner's machine (drill/steps/theft.ts), after a week of the owner's ordinary work,
 * searches agency ids one after the other from one it holds from the leak — seven digits counted
 * up, each with its check letter worked out from the leaked ids (drill/steps/sweeps.ts) — back to
 * back, as a script does. Goal: throttled (429) within 20 requests; pushing on (waiting out each
 * throttle, then the next id) ends in a suspension.
 */
import type { CastSpec, Scenario } from '../scenario.ts';
import { runEnumeration } from '../steps/enumerate.ts';
import { byAgencyId } from '../steps/moves.ts';
import { followingAgencyIds, letterRuleHolds } from '../steps/sweeps.ts';

export const ENUM_ID_VICTIM: CastSpec = {
  name: 'enum-id-partner',
  role: 'partner_counselor',
  organisationKind: 'cap_emploi',
  leak: true,
};

/** Agency ids the script counts through at most. */
const SWEEP = 200;

const TITLE = 'a stolen partner session searching sequential agency ids';

export const enumId: Scenario = {
  id: 'ENUM-ID',
  title: TITLE,
  cast: [ENUM_ID_VICTIM],
  run: (world) =>
    runEnumeration(world, {
      id: 'ENUM-ID',
      title: TITLE,
      victim: ENUM_ID_VICTIM,
      what: 'sequential agency ids from a leaked one',
      sweep: ({ notes }) => {
        const start = notes.file[0]?.agencyId ?? '1234567A';
        if (!letterRuleHolds(notes.file.map((p) => p.agencyId))) {
          // The letter rule did not hold on the leaked ids: the script sweeps the digits with every letter.
          return followingAgencyIds(start, SWEEP).map((id) => byAgencyId(`${id.slice(0, 7)}A`));
        }
        return followingAgencyIds(start, SWEEP).map(byAgencyId);
      },
    }),
};
