/**
 * GET /api/v1/incidents: security officers and the DPO list the incidents, newest first, with the
 * counts of each scope (persons, events, persons per field) and never a person id; every other role
 * is refused, and nobody logged out gets anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breachScope } from '../src/audit/scope.ts';
import { systemCtx } from '../src/context.ts';
import type { Role } from '../src/identity/accounts.ts';
import { openIncident } from '../src/incidents/incidents.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { StaffClient } from './helpers/staff.ts';

const HOUR = 3_600_000;

describe(`the list of incidents (${engine})`, () => {
  let w: RegistryWorld;
  let first: string;
  let second: string;
  let readIds: string[];

  beforeAll(async () => {
    w = await registryWorld(60, { guard: LENIENT_GUARD });
    // A counselor reads three persons of the agency: the scope of the incident about them.
    const reader = await w.staff('counselor', w.agency);
    const read = w.persons.filter((p) => p.agencyOrganisationId === w.agency).slice(0, 3);
    readIds = read.map((p) => p.id);
    for (const person of read) {
      const viewed = await reader.client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
      expect(viewed.statusCode, viewed.body).toBe(200);
    }
    const opened = async (accounts: string[], note: string) =>
      w.t.db.tx(systemCtx('test').actor, async (tx) =>
        openIncident(tx, {
          openedAt: w.clock.now(),
          openedBy: reader.account.id,
          kind: 'compromised_account',
          scope: await breachScope(tx, {
            accounts,
            from: new Date(w.clock.now().getTime() - HOUR),
            to: new Date(w.clock.now().getTime() + 1),
          }),
          note,
        }),
      );
    first = await opened([reader.account.id], 'first incident note');
    w.clock.advance(60_000);
    const idle = await w.account({ role: 'counselor', organisationId: w.agency });
    second = await opened([idle.id], 'second incident note');
  });
  afterAll(async () => {
    await w?.close();
  });

  it.each<[Role]>([['security_officer'], ['dpo']])(
    '%s: every incident, newest first, with its counts and no person id',
    async (role) => {
      const { client } = await w.staff(role, w.national);
      const listed = await client.request('GET', '/api/v1/incidents');
      expect(listed.statusCode, listed.body).toBe(200);
      const { incidents } = listed.json() as {
        incidents: { id: string; personCount: number; events: number; fieldCounts: Record<string, number> }[];
      };
      expect(incidents.map((i) => i.id)).toEqual([second, first]);
      expect(incidents[0]).toMatchObject({
        personCount: 0,
        events: 0,
        fieldCounts: {},
        note: 'second incident note',
      });
      expect(incidents[1]).toMatchObject({
        personCount: 3,
        events: 3,
        kind: 'compromised_account',
        status: 'open',
      });
      expect(incidents[1]!.fieldCounts.lastName).toBe(3);
      for (const id of readIds) expect(listed.body).not.toContain(id);
    },
  );

  it.each<[Role, () => string]>([
    ['counselor', () => w.agency],
    ['partner_counselor', () => w.partner],
    ['org_manager', () => w.agency],
    ['helpdesk', () => w.national],
    ['administrator', () => w.national],
  ])('%s: refused', async (role, organisation) => {
    const { client } = await w.staff(role, organisation());
    const listed = await client.request('GET', '/api/v1/incidents');
    expect(listed.statusCode).toBe(403);
    expect(listed.json().code).toBe('forbidden');
  });

  it('nobody logged out', async () => {
    expect((await new StaffClient(w.app).request('GET', '/api/v1/incidents')).statusCode).toBe(401);
  });
});
