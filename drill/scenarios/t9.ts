/**
 * T9 (docs/DESIGN.md section 2; 2025: a training provider's stolen credentials on a partner portal,
 * 340,000 people): T5's attack (drill/scenarios/t5.ts) on a training body's counselor — every
 * partner kind is bound to its caseload and its purposes, with the same defences.
 */
import type { Scenario } from '../scenario.ts';
import { stolenCredentials } from './t5.ts';

export const t9: Scenario = stolenCredentials({
  id: 'T9',
  title:
    'a training body counselor’s phished password and a session cookie stolen by an infostealer, used from the attacker’s machine (2025)',
  victimKind: 'training_body',
});
