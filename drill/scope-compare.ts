/**
 * T7's yardstick (docs/DESIGN.md section 2: "the audit log answers which persons, which fields, seen by
 * these accounts in this window, exactly"): the breach scope the operator gets from the audit log,
 * compared with what the attacker actually received, person for person and field for field.
 * Exact means equal sets: no person the attacker got is missing from the scope (a person who would
 * not be told), and no person in the scope was not received (the 2024 answer: announce the maximum).
 */

/** One person of a breach scope, as `rempart audit scope --json` prints it (other keys ignored). */
export interface ScopePerson {
  personId: string;
  fields: readonly string[];
}

/** A person whose field lists differ between the scope and what the attacker received. */
export interface FieldMismatch {
  personId: string;
  /** Fields the attacker received that the scope does not name. */
  missingFields: string[];
  /** Fields the scope names that the attacker did not receive. */
  extraFields: string[];
}

/** The comparison. */
export interface ScopeComparison {
  /** True only when both sides hold the same persons with the same fields. */
  scopeExact: boolean;
  personsInScope: number;
  personsReceived: number;
  /** Persons the attacker received that the scope leaves out, sorted. */
  missing: string[];
  /** Persons in the scope that the attacker did not receive, sorted. */
  extra: string[];
  fieldMismatches: FieldMismatch[];
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

/**
 * Compares a breach scope with the persons and fields received (person id → field names; an id
 * received alone has no fields, and is still a person the scope must name). Ids compare
 * case-insensitively (UUIDs); field names exactly.
 */
export function compareScope(
  scope: readonly ScopePerson[],
  received: ReadonlyMap<string, ReadonlySet<string>>,
): ScopeComparison {
  const inScope = new Map<string, Set<string>>();
  for (const person of scope) {
    const id = person.personId.toLowerCase();
    const fields = inScope.get(id) ?? new Set<string>();
    for (const field of person.fields) fields.add(field);
    inScope.set(id, fields);
  }
  const got = new Map<string, Set<string>>();
  for (const [personId, fields] of received) {
    const id = personId.toLowerCase();
    got.set(id, new Set([...(got.get(id) ?? []), ...fields]));
  }
  const missing = sorted([...got.keys()].filter((id) => !inScope.has(id)));
  const extra = sorted([...inScope.keys()].filter((id) => !got.has(id)));
  const fieldMismatches: FieldMismatch[] = [];
  for (const id of sorted(got.keys())) {
    const scoped = inScope.get(id);
    if (!scoped) continue;
    const fields = got.get(id)!;
    const missingFields = sorted([...fields].filter((f) => !scoped.has(f)));
    const extraFields = sorted([...scoped].filter((f) => !fields.has(f)));
    if (missingFields.length > 0 || extraFields.length > 0) {
      fieldMismatches.push({ personId: id, missingFields, extraFields });
    }
  }
  return {
    scopeExact: missing.length === 0 && extra.length === 0 && fieldMismatches.length === 0,
    personsInScope: inScope.size,
    personsReceived: got.size,
    missing,
    extra,
    fieldMismatches,
  };
}

/** Reads the `persons` of `rempart audit scope --json`'s last line; throws if it is not there. */
export function scopePersonsOf(printed: Record<string, unknown>): ScopePerson[] {
  const persons = printed.persons;
  if (!Array.isArray(persons)) throw new Error('rempart audit scope printed no persons list');
  return persons.map((entry: unknown) => {
    const person = entry as { personId?: unknown; fields?: unknown };
    if (
      typeof person.personId !== 'string' ||
      !Array.isArray(person.fields) ||
      !person.fields.every((f) => typeof f === 'string')
    ) {
      throw new Error('rempart audit scope printed a person without personId and fields');
    }
    return { personId: person.personId, fields: person.fields as string[] };
  });
}
