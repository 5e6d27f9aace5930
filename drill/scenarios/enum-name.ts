/**
 * ENUM-NAME (issue 5; docs/DESIGN.md section 6: searches that sweep alphabetical names): a partner
 * session stolen on the owner's machine (drill/steps/theft.ts), after a week of the owner's
 * ordinary work, searches by name and birth date through the most common French surnames in
 * alphabetical order, each with a common first name and a birth date (drill/steps/sweeps.ts), back
 * to back. Goal: throttled (429) within 20 requests; pushing on ends in a suspension.
 */
import type { CastSpec, Scenario } from '../scenario.ts';
import { runEnumeration } from '../steps/enumerate.ts';
import { byName } from '../steps/moves.ts';
import { COMMON_SURNAMES, nameSweep } from '../steps/sweeps.ts';

export const ENUM_NAME_VICTIM: CastSpec = {
  name: 'enum-name-partner',
  role: 'partner_counselor',
  organisationKind: 'mission_locale',
  leak: true,
};

const TITLE = 'a stolen partner session sweeping common surnames in alphabetical order';

export const enumName: Scenario = {
  id: 'ENUM-NAME',
  title: TITLE,
  cast: [ENUM_NAME_VICTIM],
  run: (world) =>
    runEnumeration(world, {
      id: 'ENUM-NAME',
      title: TITLE,
      victim: ENUM_NAME_VICTIM,
      what: 'common surnames in alphabetical order, with a first name and a birth date',
      sweep: () => nameSweep(COMMON_SURNAMES.length).map(byName),
    }),
};
