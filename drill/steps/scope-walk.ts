/**
 * The walks of T2-scope (steps e and g): every operation of the API document, called with the
 * stolen partner session and values aimed at persons outside the caseload, so that a route added
 * later is tried without any change to the drill.
 */
import { statusSummary, succeeded } from '../attack.ts';
import type { DrillClient, Exchange } from '../client.ts';
import type { LeakedPerson } from '../leak.ts';
import { type Operation, walkOperations } from '../openapi.ts';
import type { StepResult } from '../report.ts';
import { type ApiFacts, CONTACT, JUSTIFICATION, reachedOutside, searchBy } from './scope-probe.ts';
import { step } from './stolen-password.ts';

/** Outside persons whose values drive the walk of every operation (the rest get the targeted steps). */
const WALKED_PERSONS = 4;

/** Routes that open, raise or end a session: walking them would end or lock the stolen session. */
export const isSessionRoute = (operation: Operation): boolean => operation.route.startsWith('/api/v1/auth/');

/**
 * (e): every operation of the API document with values aimed at outside persons: the routes under
 * /persons once per identifier kind (and once as a national read) for each of the first outside
 * persons, path ids being their real ids; every other operation once. The session routes
 * (/api/v1/auth/*) wait for step (g): logging out or failing second factors there would end the
 * very session under test before the control of step (f).
 */
export async function walkAll(
  attacker: DrillClient,
  operations: Operation[],
  outside: readonly LeakedPerson[],
  facts: ApiFacts,
  everyday: string,
): Promise<StepResult> {
  const walked = operations.filter((o) => !isSessionRoute(o));
  const personOps = walked.filter((o) => o.route.includes('/persons'));
  const otherOps = walked.filter((o) => !o.route.includes('/persons'));
  const targets = outside.slice(0, WALKED_PERSONS);
  const calls: Exchange[] = [];
  const common = (person: LeakedPerson): Record<string, unknown> => ({
    id: person.id,
    personId: person.id,
    personIds: outside.map((p) => p.id),
    purpose: everyday,
    email: 'attacker@evil.example',
  });
  for (const person of targets) {
    const sets = [
      ...facts.searchKinds.map((by) => ({ ...common(person), ...searchBy(person, by) })),
      { ...common(person), ...searchBy(person, 'nameBirth'), national: true, justification: JUSTIFICATION },
    ];
    for (const values of sets) calls.push(...(await walkOperations(attacker, personOps, values, 'given')));
  }
  if (targets[0]) {
    const person = targets[0];
    const values = {
      ...common(person),
      ...searchBy(person, 'agencyId'),
      nir: person.nir,
      lastName: person.lastName,
      firstName: person.firstNames,
      birthDate: person.birthDate,
      justification: JUSTIFICATION,
    };
    calls.push(...(await walkOperations(attacker, otherOps, values)));
  }
  const reached = reachedOutside(calls, new Set(outside.map((p) => p.id)));
  const changed = calls.filter((c) => c.route === CONTACT && succeeded(c));
  const through = [...new Set(calls.filter(succeeded).map((c) => `${c.method} ${c.route}`))];
  return step(
    '(e)',
    'every operation of the API document',
    reached.size === 0 && changed.length === 0,
    `${calls.length} calls to ${walked.length} operations (${personOps.length} under /persons, walked for ` +
      `${targets.length} outside persons × ${facts.searchKinds.length + 1} value sets; the session routes wait for step (g)): ` +
      `${reached.size} outside persons reached, ${changed.length} contact changes accepted; answers: ${statusSummary(calls)}` +
      (through.length > 0 ? `; succeeded: ${through.join(', ')}` : ''),
  );
}

/** (g): last, the session routes (/api/v1/auth/*), once each, logouts last, with the same values. */
export async function walkSessionRoutes(
  attacker: DrillClient,
  operations: Operation[],
  outside: readonly LeakedPerson[],
): Promise<StepResult> {
  const walked = operations.filter(isSessionRoute);
  const person = outside[0];
  const values = person
    ? { id: person.id, personId: person.id, ...searchBy(person, 'agencyId'), nir: person.nir }
    : {};
  const calls = await walkOperations(attacker, walked, values);
  const reached = reachedOutside(calls, new Set(outside.map((p) => p.id)));
  return step(
    '(g)',
    'the session routes, last',
    reached.size === 0,
    `${calls.length} calls to ${walked.length} operations: ${reached.size} outside persons reached; answers: ${statusSummary(calls)}`,
  );
}
