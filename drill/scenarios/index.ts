/** The drill's scenarios, in the order `rempart drill` runs them. A new scenario: one file, one line here. */
import type { Scenario } from '../scenario.ts';
import { t1 } from './t1.ts';

export const SCENARIOS: readonly Scenario[] = [t1];
