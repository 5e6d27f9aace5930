/**
 * Four-eyes exports (issue 14, item 1; T3) through the app on a real database: a counselor requests
 * an export (purpose, fields, filter, recipient), which reads no person; the DPO or a manager of the
 * counselor's organisation decides it from a session with a fresh second factor. The requester, an
 * account the requester provisioned in the last 7 days, a manager of another organisation and a
 * stale session are refused; refusals are audit events and guard refusals.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportableFields } from '../src/exports/requests.ts';
import type { Account } from '../src/identity/accounts.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { type EnrolledStaff, enrolledStaff, StaffClient, totpAt } from './helpers/staff.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const requestId = (response: { headers: Record<string, unknown> }): string =>
  String(response.headers['x-request-id']);

interface AuditRow {
  action: string;
  purpose: string | null;
  decision: string;
  reason: string | null;
  query: Record<string, unknown>;
  result_count: number;
  persons: number;
}

async function auditOf(w: RegistryWorld, id: string): Promise<AuditRow> {
  const [row] = await w.t.driver.transaction((tx) =>
    tx.query<AuditRow>(
      `SELECT e.action, e.purpose, e.decision, e.reason, e.query, e.result_count,
         (SELECT count(*)::int FROM audit_event_persons l WHERE l.event_id = e.id) AS persons
       FROM audit_events e WHERE e.request_id = $1`,
      [id],
    ),
  );
  if (!row) throw new Error(`no audit event for request ${id}`);
  return row;
}

/** The refusals the guard counted for an account today (its state's day counters). */
async function refusalsOf(w: RegistryWorld, accountId: string): Promise<number> {
  const [row] = await w.t.driver.transaction((tx) =>
    tx.query<{ refused: number | null }>(
      `SELECT (state->'d'->>'refused')::int AS refused FROM guard_accounts WHERE account_id = $1`,
      [accountId],
    ),
  );
  return row?.refused ?? 0;
}

type Staff = EnrolledStaff;

describe(`exports: requests and four-eyes decisions (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: Staff;
  let manager: Staff;
  let dpo: Staff;
  let otherManager: Staff;
  let recipient: string;

  const staff = (role: Account['role'], organisationId: string): Promise<Staff> =>
    enrolledStaff(w, role, organisationId);
  /** A second factor again, now: the session is fresh for STEP_UP_MINUTES. */
  const stepUp = async (s: Staff): Promise<void> => {
    w.clock.advance(31_000);
    const verified = await s.client.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(s.secret, w.clock.now()),
    });
    expect(verified.statusCode, verified.body).toBe(200);
  };
  const ask = (by: Staff = counselor, body: Record<string, unknown> = {}) =>
    by.client.request('POST', '/api/v1/exports', {
      purpose: 'accompaniment',
      fields: ['lastName', 'firstNames', 'birthDate', 'agencyId'],
      filter: { statuses: ['registered'] },
      recipientOrganisationId: recipient,
      ...body,
    });
  const asked = async (): Promise<string> => {
    const response = await ask();
    expect(response.statusCode, response.body).toBe(201);
    return response.json().export.id;
  };

  beforeAll(async () => {
    w = await registryWorld(60, { guard: LENIENT_GUARD });
    counselor = await staff('counselor', w.agency);
    manager = await staff('org_manager', w.agency);
    dpo = await staff('dpo', w.national);
    otherManager = await staff('org_manager', w.partner);
    recipient = await w.organisation({ kind: 'training_body' });
  }, 180_000);
  afterAll(async () => {
    await w?.close();
  });

  it('a counselor requests an export: 201, pending, the fields in the policy’s order, nothing of a person, audited', async () => {
    const response = await ask(counselor, {
      fields: ['birthDate', 'lastName'],
      filter: { statuses: ['registered', 'deregistered'], registeredFrom: '2020-01-01' },
    });
    expect(response.statusCode, response.body).toBe(201);
    const view = response.json().export;
    expect(view).toMatchObject({
      state: 'pending',
      purpose: 'accompaniment',
      fields: ['lastName', 'birthDate'],
      requestedBy: counselor.account.id,
      organisationId: w.agency,
      recipientOrganisationId: recipient,
      rowCount: null,
    });
    const audit = await auditOf(w, requestId(response));
    expect(audit).toMatchObject({ action: 'export.request', decision: 'allow', result_count: 0, persons: 0 });
    expect(audit.query).toMatchObject({
      exportId: view.id,
      fields: ['lastName', 'birthDate'],
      filter: ['registeredFrom', 'statuses'],
      recipientOrganisationId: recipient,
    });
  });

  it.each([
    [
      'a field the role cannot read for the purpose',
      { purpose: 'accompaniment', fields: ['nirMasked'] },
      403,
      'fields',
    ],
    [
      'a purpose not open to the role',
      { purpose: 'incident_investigation', fields: ['lastName'] },
      403,
      'purpose',
    ],
    ['an unknown field', { fields: ['password'] }, 400, 'fields/0'],
    ['an unknown status', { filter: { statuses: ['archived'] } }, 400, 'filter/statuses/0'],
    [
      'dates in the wrong order',
      { filter: { registeredFrom: '2024-01-01', registeredTo: '2023-01-01' } },
      400,
      'filter.registeredTo',
    ],
    ['free text in the filter', { filter: { lastName: 'Martin' } }, 400, 'filter'],
    ['an unknown recipient', { recipientOrganisationId: randomUUID() }, 400, 'recipientOrganisationId'],
  ])('a request with %s is refused, naming the field', async (_, body, status, fieldName) => {
    const response = await ask(counselor, body);
    expect(response.statusCode, response.body).toBe(status);
    expect(response.json().field).toContain(fieldName.split('/')[0]);
    expect(response.body).not.toContain('Martin');
  });

  it.each([
    ['a DPO', () => dpo],
    ['a manager', () => manager],
    ['a partner manager', () => otherManager],
  ])('%s cannot request an export (no export rule for the role)', async (_, who) => {
    const response = await ask(who(), { purpose: 'accompaniment', fields: ['lastName'] });
    expect(response.statusCode).toBe(403);
  });

  it('a partner counselor may export only what it reads: its view fields for accompaniment, never the NIR', async () => {
    const partner = await staff('partner_counselor', w.partner);
    const nir = await ask(partner, { fields: ['lastName', 'nir'] });
    expect(nir.statusCode).toBe(403);
    expect(nir.json().field).toBe('fields');
    const ok = await ask(partner, { fields: ['lastName', 'email'] });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().export).toMatchObject({ fields: ['lastName', 'email'], organisationId: w.partner });
  });

  it('the manager of the requester’s organisation approves from a fresh session; audited', async () => {
    const id = await asked();
    await stepUp(manager);
    const response = await manager.client.request('POST', `/api/v1/exports/${id}/approve`, { note: 'ok' });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().export).toMatchObject({ state: 'approved', decidedBy: manager.account.id });
    expect(await auditOf(w, requestId(response))).toMatchObject({
      action: 'export.approve',
      decision: 'allow',
      persons: 0,
    });
    // Decided once: a second decision conflicts.
    const again = await manager.client.request('POST', `/api/v1/exports/${id}/reject`, {});
    expect(again.statusCode).toBe(409);
  });

  it('the DPO rejects from a fresh session', async () => {
    const id = await asked();
    await stepUp(dpo);
    const response = await dpo.client.request('POST', `/api/v1/exports/${id}/reject`, {});
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().export.state).toBe('rejected');
  });

  it('a decision needs a second factor within STEP_UP_MINUTES', async () => {
    const id = await asked();
    await stepUp(manager);
    w.clock.advance(6 * MINUTE);
    const stale = await manager.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe('step_up_required');
  });

  it('self-approval is refused, audited as a denial and counted by the guard as a refusal', async () => {
    const id = await asked();
    await stepUp(counselor);
    const before = await refusalsOf(w, counselor.account.id);
    const response = await counselor.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(response.statusCode).toBe(403);
    // The client is told which rule refused, as a stable word (the console branches on it).
    expect(response.json()).toMatchObject({ code: 'forbidden', reason: 'self_approval' });
    expect(await auditOf(w, requestId(response))).toMatchObject({
      action: 'export.approve',
      decision: 'deny',
      reason: 'self_approval',
    });
    expect(await refusalsOf(w, counselor.account.id)).toBe(before + 1);
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ status: string }>('SELECT status FROM export_requests WHERE id = $1', [id]),
    );
    expect(row?.status).toBe('pending');
  });

  it('the database refuses a decision by the requester even if the code did not', async () => {
    const id = await asked();
    await expect(
      w.t.driver.transaction((tx) =>
        tx.query(
          `UPDATE export_requests SET status = 'approved', decided_by = requested_by, decided_at = now() WHERE id = $1`,
          [id],
        ),
      ),
    ).rejects.toThrow(/check/i);
  });

  it('a manager of another organisation sees no such export (404); a counselor cannot decide (403)', async () => {
    const id = await asked();
    await stepUp(otherManager);
    const other = await otherManager.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(other.statusCode).toBe(404);
    expect((await auditOf(w, requestId(other))).reason).toBe('not_found');
    const unknown = await otherManager.client.request('POST', `/api/v1/exports/${randomUUID()}/approve`, {});
    expect(unknown.statusCode).toBe(404);
    const colleague = await staff('counselor', w.agency);
    const byColleague = await colleague.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(byColleague.statusCode).toBe(404);
  });

  it('options: a counselor’s purposes with their exportable fields, and the recipients; nothing of a person, no audit event', async () => {
    const response = await counselor.client.request('GET', '/api/v1/exports/options');
    expect(response.statusCode, response.body).toBe(200);
    const options = response.json();
    const accompaniment = options.purposes.find((p: { id: string }) => p.id === 'accompaniment');
    expect(accompaniment.label).toEqual({ fr: 'Accompagnement', en: 'Accompaniment' });
    expect(accompaniment.fields).toEqual([...exportableFields('counselor', 'accompaniment')]);
    expect(options.purposes.map((p: { id: string }) => p.id)).not.toContain('incident_investigation');
    const listed = options.recipients.find((r: { id: string }) => r.id === recipient);
    expect(listed).toMatchObject({ kind: 'training_body', keyRegistered: false });
    expect(options.recipients.some((r: { id: string }) => r.id === w.national)).toBe(false);
    // Nothing of a person: no NIR, no agency id, no name as a value (organisation names may share a surname).
    for (const person of w.persons.slice(0, 20))
      for (const value of [person.identity.nir, person.identity.agencyId, `"${person.identity.lastName}"`])
        expect(response.body).not.toContain(value);
    const [events] = await w.t.driver.transaction((tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events WHERE request_id = $1', [
        requestId(response),
      ]),
    );
    expect(events?.n).toBe(0);

    // A partner counselor: accompaniment only, never the NIR; a manager: the recipients, no purpose.
    const partner = await staff('partner_counselor', w.partner);
    const partners = (await partner.client.request('GET', '/api/v1/exports/options')).json();
    expect(partners.purposes.map((p: { id: string }) => p.id)).toEqual(['accompaniment']);
    expect(partners.purposes[0].fields).not.toContain('nir');
    const managers = (await manager.client.request('GET', '/api/v1/exports/options')).json();
    expect(managers.purposes).toEqual([]);
    expect(managers.recipients.length).toBe(options.recipients.length);
    // Roles that neither request nor decide are refused.
    const operator = await staff('subcontractor_operator', await w.organisation({ kind: 'subcontractor' }));
    const refused = await operator.client.request('GET', '/api/v1/exports/options');
    expect(refused.statusCode).toBe(403);
  });

  it('lists: the requester’s own, the manager’s organisation’s, all for the DPO; none of another organisation', async () => {
    const listed = await counselor.client.request('GET', '/api/v1/exports');
    expect(listed.statusCode, listed.body).toBe(200);
    const mine = listed.json().exports;
    expect(mine.length).toBeGreaterThan(3);
    // Who asked and for whom, by name: a decider needs them.
    expect(mine[0]).toMatchObject({
      requesterLogin: counselor.account.login,
      requesterName: counselor.account.displayName,
    });
    expect(typeof mine[0].recipientName).toBe('string');
    expect(mine.every((e: { requestedBy: string }) => e.requestedBy === counselor.account.id)).toBe(true);
    const managers = (await manager.client.request('GET', '/api/v1/exports')).json().exports;
    expect(managers.length).toBe(mine.length);
    // The DPO: every organisation's (the agency's and the partner's one).
    const dpos = (await dpo.client.request('GET', '/api/v1/exports')).json().exports;
    expect(dpos.length).toBe(mine.length + 1);
    // The partner's manager: its organisation's only, none of the agency's.
    const others = (await otherManager.client.request('GET', '/api/v1/exports')).json().exports;
    expect(others.length).toBe(1);
    expect(others.every((e: { organisationId: string }) => e.organisationId === w.partner)).toBe(true);
  });
  it('an account the requester provisioned in the last 7 days is refused (audited, counted); after 7 days it may decide', async () => {
    // The requester asked for a manager account, which another manager approved (as provisioning records it).
    const helper = await staff('org_manager', w.agency);
    await w.t.driver.transaction((tx) =>
      tx.query(
        `INSERT INTO provisioning_requests (id, kind, organisation_id, requested_by, requested_at, target_account_id, payload, status, decided_by, decided_at)
         VALUES ($1, 'grant_role', $2, $3, $4, $5, '{"role":"org_manager"}', 'approved', $6, $4)`,
        [randomUUID(), w.agency, counselor.account.id, w.clock.now(), helper.account.id, manager.account.id],
      ),
    );
    const id = await asked();
    await stepUp(helper);
    const before = await refusalsOf(w, helper.account.id);
    const response = await helper.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json().reason).toBe('provisioned_by_requester');
    expect(await auditOf(w, requestId(response))).toMatchObject({
      decision: 'deny',
      reason: 'provisioned_by_requester',
    });
    expect(await refusalsOf(w, helper.account.id)).toBe(before + 1);
    // An account the requester created (accounts.created_by) counts too.
    const created = await staff('org_manager', w.agency);
    await w.t.driver.transaction((tx) =>
      tx.query('UPDATE accounts SET created_by = $2, created_at = $3 WHERE id = $1', [
        created.account.id,
        counselor.account.id,
        w.clock.now(),
      ]),
    );
    await stepUp(created);
    const byCreated = await created.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(byCreated.statusCode).toBe(403);
    expect((await auditOf(w, requestId(byCreated))).reason).toBe('provisioned_by_requester');

    // Eight days on (sessions have ended: a new login and second factor).
    w.clock.advance(8 * DAY);
    const again = new StaffClient(w.app);
    await again.login(helper.account.login);
    const verified = await again.request('POST', '/api/v1/auth/totp', {
      code: await totpAt(helper.secret, w.clock.now()),
    });
    expect(verified.statusCode, verified.body).toBe(200);
    const later = await again.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(later.statusCode, later.body).toBe(200);
  });
});
