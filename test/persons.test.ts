/**
 * The gate through its routes: purpose-bound search and view, per-role scope and fields, national
 * reads with a justification, contact updates, and the audit rows each call leaves (allowed or not).
 */

import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../src/db/postgres.ts';
import { IMPORT_COLUMNS, importPersons } from '../src/registry/import.ts';
import { buildNir, nirKey } from '../src/registry/nir.ts';
import { citusUrls } from './helpers/citus.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import {
  auditOfRequest,
  caseloadOf,
  type KnownPerson,
  type RegistryWorld,
  registryWorld,
} from './helpers/registry.ts';
import type { StaffClient } from './helpers/staff.ts';

/** 13 characters and their control key. */
const withKey = (first13: string): string => first13 + nirKey(first13);

describe(`persons through the gate (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: StaffClient;
  let partner: StaffClient;
  let inAgency: KnownPerson;
  let outside: KnownPerson;
  let inCaseload: KnownPerson;

  const auditOf = (id: string) => auditOfRequest(w, id);
  const requestId = (response: { headers: Record<string, unknown> }): string =>
    String(response.headers['x-request-id']);

  beforeAll(async () => {
    w = await registryWorld(200, { guard: LENIENT_GUARD });
    counselor = (await w.staff('counselor', w.agency)).client;
    partner = (await w.staff('partner_counselor', w.partner)).client;
    inAgency = w.persons.find((p) => p.agencyOrganisationId === w.agency && p.identity.email !== null)!;
    outside = w.persons.find(
      (p) =>
        p.agencyOrganisationId !== w.agency &&
        !p.caseloads.includes(w.agency) &&
        !p.caseloads.includes(w.partner),
    )!;
    inCaseload = caseloadOf(w, w.partner)[0]!;
  }, 120_000);
  afterAll(async () => {
    await w.close();
  });

  it('a counselor finds a person of its agency by NIR: list fields only (masked NIR, no contacts), audited', async () => {
    const response = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: inAgency.identity.nir,
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.results).toHaveLength(1);
    const [found] = body.results;
    expect(found.id).toBe(inAgency.id);
    expect(Object.keys(found).sort()).toEqual(['id', ...body.fields].sort());
    expect(found.nir).toBeUndefined();
    expect(found.email).toBeUndefined();
    expect(found.nirMasked).toMatch(/^[12] \d\d \d\d •• ••• ••• ••$/);
    expect(body.more).toBe(false);
    expect(body).not.toHaveProperty('total');
    const audit = await auditOf(requestId(response));
    expect(audit).toMatchObject({
      action: 'person.search',
      purpose: 'accompaniment',
      decision: 'allow',
      result_count: 1,
    });
    expect(audit.query).toEqual({ by: 'nir', cap: 10, national: false, more: false });
    expect(audit.persons).toEqual([{ person_id: inAgency.id, fields: body.fields }]);
    expect(JSON.stringify(audit)).not.toContain(inAgency.identity.nir);
  });

  it('finds by last name + first name + birth date, exact after normalisation (case, accents)', async () => {
    const { lastName, firstNames, birthDate } = inAgency.identity;
    const response = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nameBirth',
      lastName: lastName.toUpperCase(),
      firstName: firstNames.split(' ')[0]!.toLowerCase(),
      birthDate,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().results.map((r: { id: string }) => r.id)).toContain(inAgency.id);
    const prefix = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nameBirth',
      // a strict prefix (the first three letters were the whole of a three-letter name such as "Rey")
      lastName: lastName.slice(0, -1),
      firstName: firstNames.split(' ')[0]!,
      birthDate,
    });
    expect(prefix.json().results).toEqual([]);
  });

  it('a counselor views a person of its agency with every field for accompaniment, fewer for payment', async () => {
    const full = await counselor.request('GET', `/api/v1/persons/${inAgency.id}?purpose=accompaniment`);
    expect(full.statusCode).toBe(200);
    const { person, fields } = full.json();
    expect(person.nir).toBe(inAgency.identity.nir);
    expect(person.email).toBe(inAgency.identity.email);
    expect(Object.keys(person).sort()).toEqual(['id', ...fields].sort());
    const payment = await counselor.request('GET', `/api/v1/persons/${inAgency.id}?purpose=payment`);
    expect(payment.statusCode).toBe(200);
    expect(payment.json().person.email).toBeUndefined();
    expect(payment.json().person.address).toEqual(inAgency.identity.address);
    expect((await auditOf(requestId(payment))).persons).toEqual([
      { person_id: inAgency.id, fields: payment.json().fields },
    ]);
  });

  it('a counselor cannot view a person outside its agency and caseload: 404 like an unknown id, both audited', async () => {
    const out = await counselor.request('GET', `/api/v1/persons/${outside.id}?purpose=accompaniment`);
    const unknown = await counselor.request('GET', `/api/v1/persons/${randomUUID()}?purpose=accompaniment`);
    expect(out.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(out.json().code).toBe(unknown.json().code);
    expect(out.json().detail).toBe(unknown.json().detail);
    const audit = await auditOf(requestId(out));
    expect(audit).toMatchObject({ decision: 'deny', reason: 'not_found_or_out_of_scope', persons: [] });
  });

  it('a national read needs a justification, then reaches a person outside the agency; the justification is logged', async () => {
    const bare = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: outside.identity.nir,
      national: true,
    });
    expect(bare.statusCode).toBe(400);
    expect(bare.json().field).toBe('justification');
    const scoped = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: outside.identity.nir,
    });
    expect(scoped.json().results).toEqual([]);
    const justification = 'Personne reçue à l’accueil, inscrite dans une autre agence';
    const national = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: outside.identity.nir,
      national: true,
      justification,
    });
    expect(national.json().results.map((r: { id: string }) => r.id)).toEqual([outside.id]);
    expect(await auditOf(requestId(national))).toMatchObject({
      decision: 'allow',
      justification,
      query: { national: true },
    });
    const view = await counselor.request('POST', `/api/v1/persons/${outside.id}/national-view`, {
      purpose: 'accompaniment',
      justification,
    });
    expect(view.statusCode).toBe(200);
    expect(view.json().person.id).toBe(outside.id);
  });

  it('a partner counselor sees its caseload with accompaniment fields only, and no NIR search', async () => {
    const response = await partner.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'agencyId',
      agencyId: inCaseload.identity.agencyId,
    });
    expect(response.json().results.map((r: { id: string }) => r.id)).toEqual([inCaseload.id]);
    const view = await partner.request('GET', `/api/v1/persons/${inCaseload.id}?purpose=accompaniment`);
    expect(view.statusCode).toBe(200);
    expect(Object.keys(view.json().person).sort()).toEqual(
      ['id', 'agencyId', 'lastName', 'firstNames', 'birthDate', 'status', 'email', 'phone', 'address'].sort(),
    );
    const nir = await partner.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: inCaseload.identity.nir,
    });
    expect(nir.statusCode).toBe(403);
    expect(await auditOf(requestId(nir))).toMatchObject({ decision: 'deny', reason: 'search_not_allowed' });
    const national = await partner.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'agencyId',
      agencyId: outside.identity.agencyId,
      national: true,
      justification: 'Je veux voir cette personne hors de mon portefeuille',
    });
    expect(national.statusCode).toBe(403);
    expect(await auditOf(requestId(national))).toMatchObject({
      decision: 'deny',
      reason: 'national_not_allowed',
    });
  });

  it('a partner counselor reaches no person outside its caseload by any route, and learns no count', async () => {
    const allowed = new Set(caseloadOf(w, w.partner).map((p) => p.id));
    const others = w.persons.filter((p) => !allowed.has(p.id));
    expect(others.length).toBeGreaterThan(allowed.size * 5); // most of the population is outside
    const reached = new Set<string>();
    const shapes = new Set<string>();
    for (const person of w.persons) {
      const answers = [
        await partner.request('POST', '/api/v1/persons/search', {
          purpose: 'accompaniment',
          by: 'agencyId',
          agencyId: person.identity.agencyId,
        }),
        await partner.request('POST', '/api/v1/persons/search', {
          purpose: 'accompaniment',
          by: 'nameBirth',
          lastName: person.identity.lastName,
          firstName: person.identity.firstNames,
          birthDate: person.identity.birthDate,
        }),
        await partner.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`),
      ];
      for (const answer of answers) {
        const body = answer.json();
        for (const found of body.results ?? []) reached.add(found.id);
        if (body.person) reached.add(body.person.id);
        if (!allowed.has(person.id)) shapes.add(`${answer.statusCode} ${Object.keys(body).sort().join(',')}`);
      }
    }
    expect([...reached].filter((id) => !allowed.has(id))).toEqual([]);
    expect([...reached].sort()).toEqual([...allowed].sort());
    // Outside the caseload every answer has one of two shapes: an empty result list, or a 404.
    expect([...shapes].sort()).toEqual(
      ['200 cap,fields,more,results', '404 code,detail,requestId,status,title,type'].sort(),
    );
  }, 180_000);

  it.each([
    ['helpdesk', 'accompaniment'],
    ['org_manager', 'accompaniment'],
    ['subcontractor_operator', 'work_item'],
    ['administrator', 'accompaniment'],
  ] as const)('a %s cannot search (purpose %s): 403, audited', async (role, purpose) => {
    const { client } = await w.staff(role, role === 'org_manager' ? w.agency : w.national);
    const response = await client.request('POST', '/api/v1/persons/search', {
      purpose,
      by: 'agencyId',
      agencyId: inAgency.identity.agencyId,
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().results).toBeUndefined();
    expect((await auditOf(requestId(response))).decision).toBe('deny');
  });

  it('security officers and the DPO read only through a justified national read, for their own purpose', async () => {
    const { client: officer } = await w.staff('security_officer', w.national);
    const scoped = await officer.request(
      'GET',
      `/api/v1/persons/${inAgency.id}?purpose=incident_investigation`,
    );
    expect(scoped.statusCode).toBe(403);
    const wrongPurpose = await officer.request('POST', `/api/v1/persons/${inAgency.id}/national-view`, {
      purpose: 'accompaniment',
      justification: 'Enquête sur l’alerte 2026-118 du compte partenaire',
    });
    expect(wrongPurpose.statusCode).toBe(403);
    const view = await officer.request('POST', `/api/v1/persons/${inAgency.id}/national-view`, {
      purpose: 'incident_investigation',
      justification: 'Enquête sur l’alerte 2026-118 du compte partenaire',
    });
    expect(view.statusCode).toBe(200);
    expect(view.json().person.nir).toBeUndefined();
    const { client: dpo } = await w.staff('dpo', w.national);
    const request = await dpo.request('POST', '/api/v1/persons/search', {
      purpose: 'data_subject_request',
      by: 'nir',
      nir: inAgency.identity.nir,
      national: true,
      justification: 'Demande d’accès reçue par courrier le 20 novembre',
    });
    expect(request.json().results.map((r: { id: string }) => r.id)).toEqual([inAgency.id]);
  });

  it('a purpose the organisation no longer holds is refused at once', async () => {
    const { client } = await w.staff('counselor', w.agency);
    await w.t.driver.transaction((tx) =>
      tx.query(`UPDATE organisations SET purposes = array_remove(purposes, 'payment') WHERE id = $1`, [
        w.agency,
      ]),
    );
    try {
      const response = await client.request('GET', `/api/v1/persons/${inAgency.id}?purpose=payment`);
      expect(response.statusCode).toBe(403);
      expect(response.json().field).toBe('purpose');
    } finally {
      await w.t.driver.transaction((tx) =>
        tx.query(`UPDATE organisations SET purposes = array_append(purposes, 'payment') WHERE id = $1`, [
          w.agency,
        ]),
      );
    }
  });

  it('a counselor changes contact details: audited with field names before and after, never values', async () => {
    const target = w.persons.find((p) => p.agencyOrganisationId === w.agency && p.id !== inAgency.id)!;
    const response = await counselor.request('PATCH', `/api/v1/persons/${target.id}/contact`, {
      purpose: 'accompaniment',
      email: 'nouvelle.adresse@exemple.fr',
      phone: null,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ updated: ['email', 'phone'] });
    const audit = await auditOf(requestId(response));
    expect(audit).toMatchObject({ action: 'person.update_contact', decision: 'allow' });
    expect(audit.persons).toEqual([{ person_id: target.id, fields: ['email', 'phone'] }]);
    expect(audit.query.after).toEqual(['email']);
    expect(JSON.stringify(audit)).not.toContain('nouvelle.adresse');
    const view = await counselor.request('GET', `/api/v1/persons/${target.id}?purpose=accompaniment`);
    expect(view.json().person).toMatchObject({ email: 'nouvelle.adresse@exemple.fr', phone: null });
    expect(view.json().person.nir).toBe(target.identity.nir);
  });

  it.each([
    [{ purpose: 'accompaniment', agencyId: 'X' }, 'agencyId'],
    [{ purpose: 'accompaniment', email: 'not-an-email' }, 'email'],
    [
      { purpose: 'accompaniment', address: { line: '1 rue', postalCode: '7500', city: 'Paris' } },
      'address.postalCode',
    ],
  ])(
    'a contact update with bad or forbidden input is refused naming the field, nothing written: %j',
    async (body, field) => {
      const response = await counselor.request('PATCH', `/api/v1/persons/${inAgency.id}/contact`, body);
      expect(response.statusCode).toBe(400);
      expect(response.json().field ?? response.json().detail).toContain(field.split('.')[0]);
      const view = await counselor.request('GET', `/api/v1/persons/${inAgency.id}?purpose=accompaniment`);
      expect(view.json().person.email).toBe(inAgency.identity.email);
    },
  );

  it('partners cannot change contact details', async () => {
    const response = await partner.request('PATCH', `/api/v1/persons/${inCaseload.id}/contact`, {
      purpose: 'accompaniment',
      email: 'x@exemple.fr',
    });
    expect(response.statusCode).toBe(403);
  });

  // The event's row, and its person links. On Citus only the event's (a plain table on the
  // coordinator): there a right revoked on a distributed table does not stop a statement the
  // connection prepared before, so revoking cannot make the links' insert fail.
  it.each(engine === 'citus' ? ['audit_events'] : ['audit_events', 'audit_event_persons'])(
    'fails closed: when the audit row cannot be written (%s), the read returns no data',
    async (table) => {
      await w.t.driver.transaction((tx) => tx.query(`REVOKE INSERT ON ${table} FROM rempart_app`));
      try {
        const response = await counselor.request(
          'GET',
          `/api/v1/persons/${inAgency.id}?purpose=accompaniment`,
        );
        expect(response.statusCode).toBe(500);
        expect(response.body).not.toContain(inAgency.identity.lastName);
        expect(response.body).not.toContain(inAgency.identity.nir);
      } finally {
        await w.t.driver.transaction((tx) => tx.query(`GRANT INSERT ON ${table} TO rempart_app`));
      }
    },
  );

  it.runIf(engine === 'citus')(
    'fails closed when the worker holding the person is down: an error, no data, no allowed event; back when it is',
    async () => {
      const name = new URL(w.t.url!).pathname.slice(1);
      const [shard] = await w.t.driver.transaction((tx) =>
        tx.query<{ port: number }>(
          `SELECT n.nodeport AS port FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
            WHERE p.shardid = get_shard_id_for_distribution_column('persons', $1::uuid)`,
          [inAgency.id],
        ),
      );
      const worker = citusUrls!.find((url) => Number(new URL(url).port) === shard!.port)!;
      expect(worker).toBeDefined();
      // The worker stops taking connections to this database, and the ones open are cut: down, for it.
      const down = (allowed: boolean) =>
        runOnce(
          worker,
          `ALTER DATABASE ${name} ALLOW_CONNECTIONS ${allowed};
           SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`,
        );
      const view = () => counselor.request('GET', `/api/v1/persons/${inAgency.id}?purpose=accompaniment`);
      await down(false);
      try {
        for (const response of [
          await view(),
          // a search by name and birth date reads every shard
          await counselor.request('POST', '/api/v1/persons/search', {
            purpose: 'accompaniment',
            by: 'nameBirth',
            lastName: inAgency.identity.lastName,
            firstName: inAgency.identity.firstNames.split(' ')[0]!,
            birthDate: inAgency.identity.birthDate,
          }),
        ]) {
          expect(response.statusCode).toBeGreaterThanOrEqual(500);
          expect(response.body).not.toContain(inAgency.identity.lastName);
          expect(response.body).not.toContain(inAgency.identity.nir);
          const allowed = await w.t.driver.transaction((tx) =>
            tx.query(`SELECT 1 FROM audit_events WHERE request_id = $1 AND decision = 'allow'`, [
              requestId(response),
            ]),
          );
          expect(allowed).toEqual([]);
        }
      } finally {
        await down(true);
      }
      const back = await view();
      expect(back.statusCode).toBe(200);
      expect(back.body).toContain(inAgency.identity.lastName);
      expect(await auditOf(requestId(back))).toMatchObject({ decision: 'allow' });
    },
  );

  it('finds by NIR a person born in Tunis in 1950 whose NIR carries 96, and shows the country by name', async () => {
    const [agency] = await w.t.driver.transaction((tx) =>
      tx.query<{ code: string }>('SELECT code FROM organisations WHERE id = $1', [w.agency]),
    );
    const nir = buildNir({
      sex: '2',
      birthYear: 1950,
      birthMonth: 4,
      department: '96',
      commune: '101',
      order: 321,
    });
    const row: Record<string, string> = Object.fromEntries(IMPORT_COLUMNS.map((c) => [c, '']));
    Object.assign(row, {
      agency_id: '7654321T',
      nir,
      last_name: 'Ben Ammar',
      first_names: 'Leïla',
      sex: 'F',
      birth_date: '1950-04-12',
      birth_country_code: '99351',
      birth_place_name: 'Tunis',
      status: 'registered',
      agency_code: agency!.code,
      registered_on: '2025-01-06',
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'rempart-tunis-'));
    try {
      const file = path.join(dir, 'tunis.csv');
      await writeFile(file, stringify([row], { header: true, columns: [...IMPORT_COLUMNS] }));
      await importPersons(w.t.db, w.keys.registry, file, { today: '2026-01-01' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const found = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir,
    });
    expect(found.statusCode).toBe(200);
    const [result] = found.json().results;
    const view = await counselor.request('GET', `/api/v1/persons/${result.id}?purpose=accompaniment`);
    expect(view.statusCode).toBe(200);
    expect(view.json().person).toMatchObject({
      nir,
      birthDate: '1950-04-12',
      birthPlace: { countryCode: '99351', country: 'Tunisie', commune: 'Tunis' },
    });
    // A 96 NIR of a birth after Tunisia's independence cannot exist: refused, naming the field only.
    const body = withKey('2570496101321'); // a woman born in April 1957, Tunisia's 96
    const refused = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: body,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().field).toBe('nir');
    const problem = refused.json();
    expect(`${problem.detail} ${JSON.stringify(problem.issues)}`).not.toMatch(/[0-9]/);
    const said = JSON.stringify({ ...problem, requestId: undefined }); // a request id is random hex
    for (let k = 0; k + 4 <= body.length; k++) expect(said).not.toContain(body.slice(k, k + 4));
  });

  it('a search for a missing identifier names the field; identifiers never go in the URL', async () => {
    const response = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().field).toBe('nir');
    const bad = await counselor.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'nir',
      nir: '185057512345600',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().field).toBe('nir');
    expect(bad.body).not.toContain('185057512345600');
  });
});
