/**
 * Leak tracing (issue 14, item 2; T3) through the app on a real database: the same persons are
 * exported 20 times to 20 recipients; one file "leaks" as a partial, shuffled copy with columns
 * dropped, renamed and reordered; the trace names that export among the 20 by its canary rows, and
 * opens an incident whose scope is that export's rows. Without canaries (they were cut out), the
 * row set still narrows it to the exports holding those persons.
 */
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../src/identity/accounts.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { type EnrolledStaff, enrolledStaff, signInAgain } from './helpers/staff.ts';

type Staff = EnrolledStaff;

/** A seeded pseudo-random generator (mulberry32): the leak's sample is the same on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = ['agencyId', 'nir', 'lastName', 'firstNames', 'birthDate', 'email'];
const CANARIES = 8;

describe(`exports: tracing a leak (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: Staff;
  let manager: Staff;
  let dpo: Staff;
  let officer: Staff;
  let inScope: KnownPerson[];
  const exports: { id: string; recipient: string; identity: string }[] = [];

  const staff = (role: Account['role'], organisationId: string): Promise<Staff> =>
    enrolledStaff(w, role, organisationId);
  const relogin = (s: Staff): Promise<void> => signInAgain(w, s);
  /** The decrypted CSV of export `i`, as its recipient opens it. */
  const fileOf = async (i: number): Promise<string[][]> => {
    const e = exports[i]!;
    const download = await counselor.client.request('GET', `/api/v1/exports/${e.id}/file`);
    expect(download.statusCode).toBe(200);
    const decrypter = new Decrypter();
    decrypter.addIdentity(e.identity);
    return parse(await decrypter.decrypt(new Uint8Array(download.rawPayload), 'text'));
  };
  const trace = (csv: string) =>
    officer.client.request('POST', '/api/v1/exports/trace', { lines: csv.trimEnd().split('\n') });

  beforeAll(async () => {
    w = await registryWorld(60, {
      guard: LENIENT_GUARD,
      env: { REMPART_EXPORT_CANARY_ROWS: String(CANARIES) },
    });
    counselor = await staff('counselor', w.agency);
    manager = await staff('org_manager', w.agency);
    dpo = await staff('dpo', w.national);
    officer = await staff('security_officer', w.national);
    inScope = w.persons.filter((p) => p.agencyOrganisationId === w.agency || p.caseloads.includes(w.agency));
    for (let i = 0; i < 20; i++) {
      const recipient = await w.organisation({ kind: 'training_body' });
      const identity = await generateIdentity();
      await relogin(dpo);
      const key = await dpo.client.request('POST', '/api/v1/exports/recipients', {
        organisationId: recipient,
        ageRecipient: await identityToRecipient(identity),
      });
      expect(key.statusCode, key.body).toBe(200);
      await relogin(counselor);
      const asked = await counselor.client.request('POST', '/api/v1/exports', {
        purpose: 'accompaniment',
        fields: FIELDS,
        filter: {},
        recipientOrganisationId: recipient,
      });
      const id = asked.json().export.id as string;
      await relogin(manager);
      expect((await manager.client.request('POST', `/api/v1/exports/${id}/approve`, {})).statusCode).toBe(
        200,
      );
      const made = await counselor.client.request('POST', `/api/v1/exports/${id}/produce`, {
        purpose: 'accompaniment',
      });
      expect(made.statusCode, made.body).toBe(200);
      exports.push({ id, recipient, identity });
    }
    await relogin(counselor);
  }, 300_000);
  afterAll(async () => {
    await w?.close();
  });

  it('a partial, shuffled copy with NIR and agency id dropped, columns renamed and reordered, names its export among 20 and opens an incident for its rows', async () => {
    const [header, ...rows] = await fileOf(13);
    expect(rows.length).toBe(inScope.length + CANARIES);
    const col = (name: string) => header!.indexOf(name);
    const random = prng(13);
    // 70% of the rows, shuffled; birth date first, then first names and last name, renamed; no NIR, no agency id.
    const sample = rows
      .filter(() => random() < 0.7)
      .map((r) => ({ r, k: random() }))
      .sort((a, b) => a.k - b.k)
      .map(({ r }) => [r[col('birthDate')]!, r[col('firstNames')]!, r[col('lastName')]!]);
    const leaked = stringify([['naissance', 'prenom_usuel', 'NOM'], ...sample]);

    await relogin(officer);
    const response = await trace(leaked);
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json();
    expect(result).toMatchObject({ exportId: exports[13]!.id, basis: 'canary', rows: sample.length });
    expect(result.columns.nameBirth).toEqual([2, 1, 0]);
    expect(result.canaryRows).toBeGreaterThan(0);
    expect(result.candidates[0]).toMatchObject({
      exportId: exports[13]!.id,
      recipientOrganisationId: exports[13]!.recipient,
      requestedBy: counselor.account.id,
      approvedBy: manager.account.id,
    });
    // Every other export holds the same persons: only the canaries tell them apart.
    expect(result.candidates.length).toBe(20);
    expect(result.candidates.slice(1).every((c: { canaries: number }) => c.canaries === 0)).toBe(true);

    // The incident's scope: the export's rows, with the fields exported.
    expect(result.incidentId).toEqual(expect.any(String));
    const persons = await w.t.driver.transaction((tx) =>
      tx.query<{ person_id: string; fields: string[] }>(
        'SELECT person_id, fields FROM incident_persons WHERE incident_id = $1',
        [result.incidentId],
      ),
    );
    expect(persons.map((p) => p.person_id).sort()).toEqual(inScope.map((p) => p.id).sort());
    expect(persons[0]!.fields).toEqual([...FIELDS].sort());
    // The trace is on the officer's record.
    const [event] = await w.t.driver.transaction((tx) =>
      tx.query<{ action: string; query: Record<string, unknown> }>(
        `SELECT action, query FROM audit_events WHERE request_id = $1 AND action = 'export.trace'`,
        [String(response.headers['x-request-id'])],
      ),
    );
    expect(event).toMatchObject({
      action: 'export.trace',
      query: { exportId: exports[13]!.id, basis: 'canary' },
    });
  });

  it('a copy by NIR only, canaries cut out, is narrowed to the exports holding those persons (no single one named)', async () => {
    const [header, ...rows] = await fileOf(4);
    const nirs = new Set(inScope.map((p) => p.identity.nir));
    const real = rows.filter((r) => nirs.has(r[header!.indexOf('nir')]!));
    const leaked = stringify([['x'], ...real.slice(0, 5).map((r) => [r[header!.indexOf('nir')]!])]);
    const response = await trace(leaked);
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json();
    expect(result).toMatchObject({
      exportId: null,
      basis: null,
      matchedPersons: 5,
      canaryRows: 0,
      incidentId: null,
    });
    expect(result.candidates.length).toBe(20);
    expect(result.candidates.every((c: { rowsMatched: number }) => c.rowsMatched === 5)).toBe(true);
  });

  it('a file with nothing identifying is refused naming the field; other roles may not trace', async () => {
    const bad = await trace('a,b\nfoo,bar\n');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field ?? bad.json().issues?.[0]?.field).toBe('csv');
    await relogin(counselor);
    const byCounselor = await counselor.client.request('POST', '/api/v1/exports/trace', {
      lines: ['a', 'b'],
    });
    expect(byCounselor.statusCode).toBe(403);
  });
});
