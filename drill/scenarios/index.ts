/** The drill's scenarios, in the order `rempart drill` runs them. A new scenario: one file, one line here. */
import type { Scenario } from '../scenario.ts';
import { t1 } from './t1.ts';
import { t2Scope } from './t2-scope.ts';
import { t7 } from './t7.ts';

export const SCENARIOS: readonly Scenario[] = [t1, t2Scope, t7];
