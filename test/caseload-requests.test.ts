/** T8: widening a caseload is a request that another manager approves, for the agency's own persons only. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { engine } from './helpers/db.ts';
import { enrolled, type StaffClient, type StaffWorld, staffWorld } from './helpers/staff.ts';

describe(`caseload requests on ${engine}`, () => {
  let world: StaffWorld;
  let agency: string;
  let otherAgency: string;
  let partner: string;
  let mine: string[];
  let theirs: string;
  let firstManager: StaffClient;
  let secondManager: StaffClient;
  let partnerManager: StaffClient;

  const caseloadOf = (organisationId: string) =>
    world.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ person_id: string }>(
        'SELECT person_id FROM caseloads WHERE organisation_id = $1 ORDER BY person_id',
        [organisationId],
      ),
    );

  beforeAll(async () => {
    world = await staffWorld();
    agency = await world.organisation({ kind: 'agency' });
    otherAgency = await world.organisation({ kind: 'agency' });
    partner = await world.organisation({ kind: 'cap_emploi' });
    const person = async (organisationId: string): Promise<string> => {
      const id = randomUUID();
      const marker = Buffer.from(id.replace(/-/g, '').slice(0, 16), 'hex');
      await world.t.db.tx(systemCtx('test').actor, (tx) =>
        tx.query(
          `INSERT INTO persons (id, status, agency_organisation_id, kek_id, wrapped_key, bi_key_id, agency_id_bi, nir_bi, name_birth_bi, sealed)
           VALUES ($1, 'registered', $2, 'k', '\\x00', 'b', $3, $3, $3, '\\x01')`,
          [id, organisationId, marker],
        ),
      );
      return id;
    };
    mine = [await person(agency), await person(agency)];
    theirs = await person(otherAgency);
    firstManager = (
      await enrolled(world, await world.account({ organisationId: agency, role: 'org_manager' }))
    ).client;
    secondManager = (
      await enrolled(world, await world.account({ organisationId: agency, role: 'org_manager' }))
    ).client;
    partnerManager = (
      await enrolled(world, await world.account({ organisationId: partner, role: 'org_manager' }))
    ).client;
  });
  afterAll(async () => {
    await world.close();
  });

  it('entrusts persons to a partner only once another manager of the agency approves', async () => {
    const asked = await firstManager.request('POST', '/api/v1/provisioning-requests', {
      kind: 'widen_caseload',
      partnerOrganisationId: partner,
      personIds: mine,
    });
    expect(asked.statusCode).toBe(201);
    const id = asked.json().id;
    expect(await caseloadOf(partner)).toEqual([]);
    expect(
      (await firstManager.request('POST', `/api/v1/provisioning-requests/${id}/approve`)).json().code,
    ).toBe('forbidden');
    expect(
      (await partnerManager.request('POST', `/api/v1/provisioning-requests/${id}/approve`)).statusCode,
    ).toBe(404);
    expect(
      (await secondManager.request('POST', `/api/v1/provisioning-requests/${id}/approve`)).json().status,
    ).toBe('approved');
    expect((await caseloadOf(partner)).map((r) => r.person_id)).toEqual([...mine].sort());
  });

  it('refuses persons of another agency, a partner widening its own caseload, and an agency as recipient', async () => {
    const cases = [
      [
        firstManager,
        { kind: 'widen_caseload', partnerOrganisationId: partner, personIds: [mine[0], theirs] },
        'forbidden',
      ],
      [
        partnerManager,
        { kind: 'widen_caseload', partnerOrganisationId: partner, personIds: [theirs] },
        'forbidden',
      ],
      [
        firstManager,
        { kind: 'widen_caseload', partnerOrganisationId: otherAgency, personIds: [mine[0]] },
        'validation_failed',
      ],
    ] as const;
    for (const [client, body, code] of cases) {
      expect((await client.request('POST', '/api/v1/provisioning-requests', body)).json().code).toBe(code);
    }
  });
});
