/** The drill's scenarios, in the order `rempart drill` runs them. A new scenario: one file, one line here. */
import type { Scenario } from '../scenario.ts';
import { canary } from './canary.ts';
import { collude2, collude5 } from './collude.ts';
import { enumId } from './enum-id.ts';
import { enumName } from './enum-name.ts';
import { mimic } from './mimic.ts';
import { ramp } from './ramp.ts';
import { t1 } from './t1.ts';
import { t2 } from './t2.ts';
import { t2Scope } from './t2-scope.ts';
import { t2b } from './t2b.ts';
import { t3 } from './t3.ts';
import { t4 } from './t4.ts';
import { t5 } from './t5.ts';
import { t6 } from './t6.ts';
import { t7 } from './t7.ts';
import { t8 } from './t8.ts';
import { t9 } from './t9.ts';

export const SCENARIOS: readonly Scenario[] = [
  t1,
  t2Scope,
  t2,
  t2b,
  t5,
  t7,
  t6,
  t8,
  t3,
  t4,
  t9,
  enumId,
  enumName,
  canary,
  collude2,
  collude5,
  ramp,
  mimic,
];
