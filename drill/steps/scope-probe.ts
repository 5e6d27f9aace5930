/**
 * The steps of an attack with a stolen, fully authenticated partner session (T2; T5 and T9 for the
 * other partner kinds): the attacker holds the victim's session cookie and CSRF token, second factor
 * included, and identities of persons outside the victim organisation's caseload (an earlier leak).
 * It tries every route and parameter to reach them. Each step returns a StepResult; a step passes
 * when no outside person's data came back (and, for the control steps, when inside persons did).
 */
import { randomUUID } from 'node:crypto';
import { statusSummary, succeeded } from '../attack.ts';
import type { DrillClient, Exchange } from '../client.ts';
import type { LeakedPerson } from '../leak.ts';
import type { Operation, Schema } from '../openapi.ts';
import type { StepResult } from '../report.ts';
import { step } from './stolen-password.ts';

export const SEARCH = '/api/v1/persons/search';
export const VIEW = '/api/v1/persons/{id}';
export const NATIONAL_VIEW = '/api/v1/persons/{id}/national-view';
export const CONTACT = '/api/v1/persons/{id}/contact';

/** A justification a partner agent could plausibly type for a national read (T2b). */
export const JUSTIFICATION = 'Rendez-vous de suivi demandé par la personne, dossier transmis par l’agence';

/** Random ids of persons that may or may not exist, per outside person (guessing, T2 enumeration). */
const GUESSES_PER_PERSON = 1;

/** What the attacker can read off the API document: the purposes it may declare, the search kinds, the cap. */
export interface ApiFacts {
  purposes: string[];
  searchKinds: string[];
  cap: number | undefined;
}

function bodyProperty(
  operations: Operation[],
  method: string,
  route: string,
  name: string,
): Schema | undefined {
  const body = operations.find((o) => o.method === method && o.route === route)?.body;
  for (const variant of body?.oneOf ?? body?.anyOf ?? (body ? [body] : [])) {
    const property = variant.properties?.[name];
    if (property) return property;
  }
  return undefined;
}

/** The purposes, search kinds and cap declared in the document (what any attacker reads first). */
export function apiFacts(operations: Operation[]): ApiFacts {
  const strings = (values: unknown[] | undefined): string[] =>
    (values ?? []).filter((v): v is string => typeof v === 'string');
  const cap = bodyProperty(operations, 'POST', SEARCH, 'cap') as (Schema & { maximum?: number }) | undefined;
  return {
    purposes: strings(bodyProperty(operations, 'POST', SEARCH, 'purpose')?.enum),
    searchKinds: strings(bodyProperty(operations, 'POST', SEARCH, 'by')?.enum),
    cap: cap?.maximum,
  };
}

/** The search body fields that find `person` by one kind of identifier. */
export function searchBy(person: LeakedPerson, by: string): Record<string, unknown> {
  if (by === 'nir') return { by, nir: person.nir };
  if (by === 'agencyId') return { by, agencyId: person.agencyId };
  return { by, lastName: person.lastName, firstName: person.firstNames, birthDate: person.birthDate };
}

const path = (route: string, id: string): string => route.replace('{id}', encodeURIComponent(id));

/** True if an answer holds person `id` (by `id` or `personId` anywhere in it). */
function holds(exchange: Exchange, id: string): boolean {
  return JSON.stringify(exchange.body ?? null).includes(`"${id}"`);
}

/** Outside persons (ids) of whom anything came back in these exchanges' answers. */
export function reachedOutside(calls: readonly Exchange[], outside: ReadonlySet<string>): Set<string> {
  const reached = new Set<string>();
  for (const call of calls) for (const id of outside) if (holds(call, id)) reached.add(id);
  return reached;
}

/**
 * The control: persons of the caseload read with the everyday purpose, so that a refusal elsewhere
 * is the gate's, not a dead session's. Reads vary by person (found by agency id and by name + birth
 * date; viewed by id; both), so that what the attacker received differs in fields from one person
 * to the next — what T7 checks the audit log against, field for field.
 */
export async function insideControl(
  attacker: DrillClient,
  inside: readonly LeakedPerson[],
  purpose: string,
  label: string,
  title: string,
): Promise<StepResult> {
  if (inside.length === 0) {
    return step(label, title, false, 'the caseload is empty: nothing shows that the stolen session works');
  }
  const calls: Exchange[] = [];
  let found = 0;
  let expected = 0;
  for (const [index, person] of inside.entries()) {
    const reads = (['search', 'view', 'both'] as const)[index % 3]!;
    if (reads !== 'view') {
      for (const by of ['agencyId', 'nameBirth']) {
        const call = await attacker.post(SEARCH, { purpose, ...searchBy(person, by) }, { route: SEARCH });
        calls.push(call);
        expected += 1;
        if (succeeded(call) && holds(call, person.id)) found += 1;
      }
    }
    if (reads !== 'search') {
      const view = await attacker.get(`${path(VIEW, person.id)}?purpose=${encodeURIComponent(purpose)}`, {
        route: VIEW,
      });
      calls.push(view);
      expected += 1;
      if (succeeded(view) && holds(view, person.id)) found += 1;
    }
  }
  return step(
    label,
    title,
    found === expected,
    `${inside.length} persons of the caseload (found by search, viewed by id, or both): ${found} of ${expected} ` +
      `searches and views answered with them; answers: ${statusSummary(calls)}`,
  );
}

/** Search variants of the everyday purpose: cap values, identifier spellings, misplaced justifications. */
function variants(person: LeakedPerson, purpose: string, cap: number | undefined): Record<string, unknown>[] {
  const agency = searchBy(person, 'agencyId');
  const name = searchBy(person, 'nameBirth');
  const out: Record<string, unknown>[] = [
    { purpose, ...agency, cap: 1 },
    { purpose, ...agency, cap: cap ?? 10 },
    { purpose, ...agency, cap: (cap ?? 10) + 1 },
    { purpose, ...agency, cap: 1_000_000 },
    { purpose, by: 'agencyId', agencyId: person.agencyId.toLowerCase() },
    { purpose, by: 'agencyId', agencyId: ` ${person.agencyId} ` },
    { purpose, ...name, lastName: person.lastName.toUpperCase() },
    { purpose, ...name, firstName: person.firstNames.split(/[,\s]+/)[0] },
    { purpose, ...agency, justification: JUSTIFICATION },
    { purpose, ...agency, national: false, justification: JUSTIFICATION },
    { purpose, ...name, national: true, justification: JUSTIFICATION, cap: 1 },
    {
      purpose,
      by: 'nir',
      nir: person.nir.replace(/^(.)(..)(..)(..)(...)(...)(..)$/, '$1 $2 $3 $4 $5 $6 $7'),
    },
  ];
  if (person.birthName) out.push({ purpose, ...name, lastName: person.birthName });
  return out;
}

/**
 * (c): searches for outside persons: each identifier kind the document lists (NIR, agency id, name
 * + birth date), each purpose of the list, everyday and national with a plausible justification,
 * then variants (cap values, identifier spellings, a birth name, a justification without a
 * national read).
 */
export async function outsideSearches(
  attacker: DrillClient,
  outside: readonly LeakedPerson[],
  facts: ApiFacts,
  everyday: string,
): Promise<StepResult> {
  const calls: Exchange[] = [];
  for (const person of outside) {
    for (const purpose of facts.purposes) {
      for (const by of facts.searchKinds) {
        for (const national of [false, true]) {
          const body = {
            purpose,
            ...searchBy(person, by),
            ...(national ? { national: true, justification: JUSTIFICATION } : {}),
          };
          calls.push(await attacker.post(SEARCH, body, { route: SEARCH }));
        }
      }
    }
    for (const body of variants(person, everyday, facts.cap)) {
      calls.push(await attacker.post(SEARCH, body, { route: SEARCH }));
    }
  }
  const reached = reachedOutside(calls, new Set(outside.map((p) => p.id)));
  const nonEmpty = calls.filter(
    (c) => succeeded(c) && ((c.body as { results?: unknown[] }).results ?? []).length > 0,
  );
  return step(
    '(c)',
    'searches for persons outside the caseload',
    reached.size === 0 && nonEmpty.length === 0,
    `${calls.length} searches for ${outside.length} outside persons (${facts.searchKinds.join(', ')} × ` +
      `${facts.purposes.length} purposes × everyday/national, then cap and spelling variants): ` +
      `${reached.size} outside persons reached, ${nonEmpty.length} non-empty answers; answers: ${statusSummary(calls)}`,
  );
}

type Read = { what: 'view' | 'national-view' | 'contact'; purpose: string };

async function read(attacker: DrillClient, id: string, r: Read): Promise<Exchange> {
  if (r.what === 'view') {
    return attacker.get(`${path(VIEW, id)}?purpose=${encodeURIComponent(r.purpose)}`, { route: VIEW });
  }
  if (r.what === 'national-view') {
    return attacker.post(
      path(NATIONAL_VIEW, id),
      { purpose: r.purpose, justification: JUSTIFICATION },
      { route: NATIONAL_VIEW },
    );
  }
  return attacker.patch(
    path(CONTACT, id),
    { purpose: r.purpose, email: 'attacker@evil.example', phone: '+33612345678' },
    { route: CONTACT },
  );
}

const answerOf = (call: Exchange): string => `${call.status} ${call.code ?? ''}`.trimEnd();

/**
 * (d): reads by id: the view, the national view with a justification and a contact change, for
 * each purpose, by the real ids of outside persons, by upper-cased ids, and by guessed ids. The
 * answers for real outside ids must be those for guessed ids (absent and out of scope look alike:
 * no probing of which ids exist), and no contact change may go through.
 */
export async function outsideReads(
  attacker: DrillClient,
  outside: readonly LeakedPerson[],
  facts: ApiFacts,
): Promise<StepResult> {
  const reads: Read[] = facts.purposes.flatMap((purpose) =>
    (['view', 'national-view', 'contact'] as const).map((what) => ({ what, purpose })),
  );
  const real: Exchange[] = [];
  const guessed: Exchange[] = [];
  const answers = { real: new Map<string, Set<string>>(), guessed: new Map<string, Set<string>>() };
  const note = (side: 'real' | 'guessed', r: Read, call: Exchange): void => {
    const key = `${r.what} ${r.purpose}`;
    const set = answers[side].get(key) ?? new Set<string>();
    set.add(answerOf(call));
    answers[side].set(key, set);
  };
  for (const person of outside) {
    for (const r of reads) {
      const call = await read(attacker, person.id, r);
      real.push(call);
      note('real', r, call);
    }
    // The same id in capitals: a UUID is case-insensitive, a scope check on text might not be.
    real.push(await read(attacker, person.id.toUpperCase(), { what: 'view', purpose: reads[0]!.purpose }));
    for (let g = 0; g < GUESSES_PER_PERSON; g += 1) {
      const id = randomUUID();
      for (const r of reads) {
        const call = await read(attacker, id, r);
        guessed.push(call);
        note('guessed', r, call);
      }
    }
  }
  const calls = [...real, ...guessed];
  const reached = reachedOutside(calls, new Set(outside.map((p) => p.id)));
  const changed = calls.filter((c) => c.route === CONTACT && succeeded(c));
  const oracle = [...answers.real].filter(([key, seen]) => {
    const other = answers.guessed.get(key);
    return !other || [...seen].sort().join('|') !== [...other].sort().join('|');
  });
  return step(
    '(d)',
    'reads and contact changes by id',
    reached.size === 0 && changed.length === 0 && oracle.length === 0,
    `${real.length} calls with the real ids of ${outside.length} outside persons and ${guessed.length} with guessed ids ` +
      `(view, national view, contact change × ${facts.purposes.length} purposes): ${reached.size} outside persons reached, ` +
      `${changed.length} contact changes accepted; ` +
      (oracle.length === 0
        ? 'real and guessed ids answered alike'
        : `real and guessed ids answered DIFFERENTLY for ${oracle.map(([key]) => key).join(', ')} (ids can be probed)`) +
      `; answers: ${statusSummary(calls)}`,
  );
}
