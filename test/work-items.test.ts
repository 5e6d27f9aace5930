/**
 * Subcontractor work items (issue 14, item 3; T4) through the app on a real database: a counselor
 * hands one document for one person to a subcontractor, its manager assigns it, the operator opens
 * it through the gate — only the task's fields, pseudonymised where the task allows, only while
 * assigned and before the deadline — and marks it done. The operator cannot search, cannot open an
 * item not assigned to them, of another subcontractor, after its deadline or once done; every read
 * is an audit event naming the person and the fields; row-level security alone shows an operator
 * only their items and the persons of their live ones. The guard's part (counting, suspension) is
 * the second describe, on the built-in thresholds.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialsOf } from '../src/access/gate-work-items.ts';
import { WORK_TASK_IDS } from '../src/access/work-tasks.ts';
import type { Actor } from '../src/context.ts';
import { systemCtx } from '../src/context.ts';
import type { Account } from '../src/identity/accounts.ts';
import { setPolicyClock } from '../src/registry/work-items.ts';
import { archivePersons } from '../src/retention/run.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { auditOfRequest, type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { enrolled, type StaffClient, totpAt } from './helpers/staff.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const requestId = (response: { headers: Record<string, unknown> }): string =>
  String(response.headers['x-request-id']);

const auditOf = auditOfRequest;

/** The seeded subcontractors' ids (the synthetic population always plans ST-01 and ST-02). */
async function subcontractorIds(w: RegistryWorld): Promise<[string, string]> {
  const rows = await w.t.driver.transaction((tx) =>
    tx.query<{ id: string }>(`SELECT id FROM organisations WHERE kind = 'subcontractor' ORDER BY code`),
  );
  return [rows[0]!.id, rows[1]!.id];
}

/** Every identifying value of a person, to look for in an answer that must hold none of them. */
function identifyingValues(p: KnownPerson): string[] {
  const { identity } = p;
  return [
    p.id,
    identity.nir,
    identity.agencyId,
    identity.lastName,
    identity.firstNames,
    identity.birthDate,
    ...(identity.email ? [identity.email] : []),
    ...(identity.phone ? [identity.phone] : []),
    ...(identity.address ? [identity.address.line] : []),
  ];
}

describe(`work items (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: StaffClient;
  let partner: StaffClient;
  let manager: StaffClient;
  let otherManager: StaffClient;
  let opA: { client: StaffClient; account: Account };
  let opB: { client: StaffClient; account: Account };
  let opC: { client: StaffClient; account: Account };
  let st1: string;
  let st2: string;
  let agencyPersons: KnownPerson[];
  let outside: KnownPerson;

  const soon = (hours = 24): string => new Date(w.clock.now().getTime() + hours * HOUR).toISOString();
  const create = (
    personId: string,
    task: string,
    options: { purpose?: string; subcontractorId?: string; deadline?: string; by?: StaffClient } = {},
  ) =>
    (options.by ?? counselor).request('POST', '/api/v1/work-items', {
      purpose: options.purpose ?? 'payment',
      personId,
      task,
      subcontractorId: options.subcontractorId ?? st1,
      deadline: options.deadline ?? soon(),
    });
  const caseloadPerson = (): KnownPerson => w.persons.find((p) => p.caseloads.includes(w.partner))!;
  /** Creates an item and assigns it to `to` (by ST-01's manager unless `via`); returns its id. */
  const handed = async (
    person: KnownPerson,
    task: string,
    to: Account,
    options: { deadline?: string; subcontractorId?: string; via?: StaffClient } = {},
  ): Promise<string> => {
    const created = await create(person.id, task, options);
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().item.id as string;
    const assigned = await (options.via ?? manager).request('POST', `/api/v1/work-items/${id}/assign`, {
      operatorId: to.id,
    });
    expect(assigned.statusCode, assigned.body).toBe(200);
    return id;
  };

  beforeAll(async () => {
    w = await registryWorld(120, { guard: LENIENT_GUARD });
    [st1, st2] = await subcontractorIds(w);
    counselor = (await w.staff('counselor', w.agency)).client;
    partner = (await w.staff('partner_counselor', w.partner)).client;
    manager = (await w.staff('org_manager', st1)).client;
    otherManager = (await w.staff('org_manager', st2)).client;
    opA = await w.staff('subcontractor_operator', st1);
    opB = await w.staff('subcontractor_operator', st1);
    opC = await w.staff('subcontractor_operator', st2);
    agencyPersons = w.persons.filter(
      (p) => p.agencyOrganisationId === w.agency && p.identity.address !== null,
    );
    outside = w.persons.find((p) => p.agencyOrganisationId !== w.agency && !p.caseloads.includes(w.agency))!;
    expect(agencyPersons.length).toBeGreaterThan(20);
  }, 180_000);
  afterAll(async () => {
    await w?.close();
  });

  it('the SQL lists the same tasks as the code', async () => {
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ def: string }>(
        `SELECT pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
         WHERE c.conrelid = 'work_items'::regclass AND pg_get_constraintdef(c.oid) LIKE '%task%'`,
      ),
    );
    const listed = [...(row?.def ?? '').matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();
    expect(listed).toEqual([...WORK_TASK_IDS].sort());
  });

  it('the tasks: the fields each shows, and for which purposes a role hands it over', async () => {
    const byCounselor = (await counselor.request('GET', '/api/v1/work-items/tasks')).json().tasks;
    const purposes = Object.fromEntries(
      byCounselor.map((t: { id: string; purposes: string[] }) => [t.id, t.purposes]),
    );
    expect(purposes).toEqual({
      payslip_entry: ['payment'],
      document_indexing: ['accompaniment', 'payment'],
      address_proof_check: ['accompaniment', 'payment'],
    });
    const byOperator = (await opA.client.request('GET', '/api/v1/work-items/tasks')).json().tasks;
    expect(byOperator.every((t: { purposes: string[] }) => t.purposes.length === 0)).toBe(true);
    expect(byOperator.find((t: { id: string }) => t.id === 'payslip_entry')).toMatchObject({
      fields: ['initials', 'birthYear'],
      pseudonymised: true,
      maxDays: 5,
    });
  });

  it('a counselor hands a document for a person of its agency to a subcontractor: 201, nothing of the person returned, audited', async () => {
    const person = agencyPersons[0]!;
    const response = await create(person.id, 'payslip_entry');
    expect(response.statusCode, response.body).toBe(201);
    const { item } = response.json();
    expect(item).toMatchObject({ task: 'payslip_entry', state: 'open', subcontractorId: st1 });
    expect(item.reference).toMatch(/^DOS-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    for (const value of identifyingValues(person)) expect(response.body).not.toContain(value);
    const audit = await auditOf(w, requestId(response));
    expect(audit).toMatchObject({
      action: 'work_item.create',
      purpose: 'payment',
      decision: 'allow',
      persons: [],
    });
    expect(audit.query).toMatchObject({
      personId: person.id,
      itemId: item.id,
      task: 'payslip_entry',
      subcontractorId: st1,
    });
  });

  it('creation refuses: a person outside the scope (404 like an unknown id), a task the purpose does not hand over, a bad deadline or subcontractor, other roles', async () => {
    const person = agencyPersons[1]!;
    const out = await create(outside.id, 'payslip_entry');
    const unknown = await create(randomUUID(), 'payslip_entry');
    expect(out.statusCode).toBe(404);
    expect(unknown.statusCode).toBe(404);
    expect(out.json().detail).toBe(unknown.json().detail);
    expect(await auditOf(w, requestId(out))).toMatchObject({
      decision: 'deny',
      reason: 'not_found_or_out_of_scope',
    });
    // Accompaniment does not hand payslips over (policy.ts `delegate`).
    const task = await create(person.id, 'payslip_entry', { purpose: 'accompaniment' });
    expect(task.statusCode).toBe(403);
    expect(task.json().field).toBe('task');
    for (const deadline of [soon(-1), soon(24 * 6), 'demain']) {
      const bad = await create(person.id, 'payslip_entry', { deadline });
      expect(bad.statusCode, deadline).toBe(400);
      expect(bad.json().field).toBe('deadline');
    }
    const notSub = await create(person.id, 'payslip_entry', { subcontractorId: w.agency });
    expect(notSub.statusCode).toBe(400);
    expect(notSub.json().field).toBe('subcontractorId');
    const byPartner = await create(caseloadPerson().id, 'document_indexing', {
      purpose: 'accompaniment',
      by: partner,
    });
    expect(byPartner.statusCode).toBe(403);
    const byOperator = await create(person.id, 'document_indexing', { purpose: 'work_item', by: opA.client });
    expect(byOperator.statusCode).toBe(403);
    // Nothing was created by any of them.
    const [count] = await w.t.driver.transaction((tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM work_items WHERE person_id = ANY($1::uuid[])', [
        [person.id, outside.id],
      ]),
    );
    expect(count!.n).toBe(0);
  });
  it('the subcontractor’s manager assigns to its own operators only; nobody else assigns', async () => {
    const created = await create(agencyPersons[2]!.id, 'document_indexing');
    const id = created.json().item.id;
    const toOtherOrg = await manager.request('POST', `/api/v1/work-items/${id}/assign`, {
      operatorId: opC.account.id,
    });
    expect(toOtherOrg.statusCode).toBe(404);
    const byOtherManager = await otherManager.request('POST', `/api/v1/work-items/${id}/assign`, {
      operatorId: opC.account.id,
    });
    expect(byOtherManager.statusCode).toBe(404);
    expect(await auditOf(w, requestId(byOtherManager))).toMatchObject({
      action: 'work_item.assign',
      decision: 'deny',
      reason: 'work_item_not_assignable',
    });
    const byOperator = await opA.client.request('POST', `/api/v1/work-items/${id}/assign`, {
      operatorId: opA.account.id,
    });
    expect(byOperator.statusCode).toBe(403);
    const ok = await manager.request('POST', `/api/v1/work-items/${id}/assign`, {
      operatorId: opA.account.id,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().item).toEqual({ id, state: 'assigned', operatorId: opA.account.id });
    expect(await auditOf(w, requestId(ok))).toMatchObject({
      action: 'work_item.assign',
      decision: 'allow',
      persons: [],
    });
  });

  it('lists: each sees the items it deals with, and no list holds anything of the person', async () => {
    const person = agencyPersons[3]!;
    const id = await handed(person, 'address_proof_check', opA.account);
    const listOf = async (client: StaffClient) => {
      const response = await client.request('GET', '/api/v1/work-items');
      expect(response.statusCode).toBe(200);
      for (const value of identifyingValues(person)) expect(response.body).not.toContain(value);
      return response.json().items as { id: string; state: string; assignedTo: { id: string } | null }[];
    };
    const mine = (await listOf(opA.client)).find((i) => i.id === id);
    expect(mine).toMatchObject({ state: 'assigned', assignedTo: { id: opA.account.id } });
    expect((await listOf(opB.client)).some((i) => i.id === id)).toBe(false);
    expect((await listOf(opC.client)).some((i) => i.id === id)).toBe(false);
    expect((await listOf(manager)).some((i) => i.id === id)).toBe(true);
    expect((await listOf(otherManager)).some((i) => i.id === id)).toBe(false);
    expect((await listOf(counselor)).some((i) => i.id === id)).toBe(true);
    expect((await partner.request('GET', '/api/v1/work-items')).statusCode).toBe(403);
  });

  it.each([
    ['payslip_entry', ['initials', 'birthYear']],
    ['document_indexing', ['agencyId', 'initials']],
    ['address_proof_check', ['lastName', 'firstNames', 'address']],
  ] as const)(
    'the operator opens a %s item: exactly %j, audited with the person and those fields',
    async (task, fields) => {
      const person = agencyPersons[4 + WORK_TASK_IDS.indexOf(task)]!;
      const id = await handed(person, task, opA.account);
      const response = await opA.client.request('GET', `/api/v1/work-items/${id}`);
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json();
      expect(body.fields).toEqual(fields);
      expect(Object.keys(body.item.person).sort()).toEqual([...fields].sort());
      const { identity } = person;
      const expected: Record<string, unknown> = {
        initials: initialsOf(identity.firstNames, identity.lastName),
        birthYear: identity.birthDate.slice(0, 4),
        agencyId: identity.agencyId,
        lastName: identity.lastName,
        firstNames: identity.firstNames,
        address: identity.address,
      };
      for (const field of fields) expect(body.item.person[field], field).toEqual(expected[field]);
      // Never the person's id, NIR, birth date or contact details; no name where the task is pseudonymised.
      for (const value of [person.id, identity.nir, identity.birthDate, identity.email, identity.phone]) {
        if (value) expect(response.body).not.toContain(value);
      }
      if (task !== 'address_proof_check') expect(response.body).not.toContain(identity.lastName);
      if (task !== 'document_indexing') expect(response.body).not.toContain(identity.agencyId);
      const audit = await auditOf(w, requestId(response));
      expect(audit).toMatchObject({
        action: 'work_item.view',
        purpose: 'work_item',
        decision: 'allow',
        result_count: 1,
        persons: [{ person_id: person.id, fields: [...fields] }],
      });
      expect(audit.query).toEqual({ itemId: id, task });
    },
  );

  it('initials: first given name and last name, accents dropped', () => {
    expect(initialsOf('Élodie, Marie', 'de Villiers')).toBe('E. D.');
    expect(initialsOf('Jean-Pierre', 'Œuvray')).toBe('J. O.');
  });

  it('an item not assigned to the operator, of another subcontractor, not yet assigned, or unknown: 404 alike, nothing returned, audited', async () => {
    const person = agencyPersons[8]!;
    const ofB = await handed(person, 'address_proof_check', opB.account);
    const ofC = await handed(agencyPersons[9]!, 'address_proof_check', opC.account, {
      subcontractorId: st2,
      via: otherManager,
    });
    const unassigned = (await create(agencyPersons[10]!.id, 'address_proof_check')).json().item.id;
    const answers = [];
    for (const id of [ofB, ofC, unassigned, randomUUID()]) {
      const response = await opA.client.request('GET', `/api/v1/work-items/${id}`);
      expect(response.statusCode).toBe(404);
      expect(response.body).not.toContain(person.identity.lastName);
      answers.push(response.json());
      expect(await auditOf(w, requestId(response))).toMatchObject({
        action: 'work_item.view',
        decision: 'deny',
        reason: 'work_item_not_open',
        persons: [],
      });
      // Nor can it be marked done by someone else.
      const done = await opA.client.request('POST', `/api/v1/work-items/${id}/done`, {
        outcome: 'processed',
      });
      expect(done.statusCode).toBe(404);
    }
    expect(new Set(answers.map((a) => `${a.code} ${a.detail}`)).size).toBe(1);
    // The operator it is assigned to opens it.
    expect((await opB.client.request('GET', `/api/v1/work-items/${ofB}`)).statusCode).toBe(200);
  });

  it('after its deadline an item is closed: it opens for nobody, cannot be done or reassigned, and lists say closed', async () => {
    const person = agencyPersons[11]!;
    const id = await handed(person, 'address_proof_check', opA.account, { deadline: soon(0.15) });
    expect((await opA.client.request('GET', `/api/v1/work-items/${id}`)).statusCode).toBe(200);
    w.clock.advance(10 * MINUTE);
    const late = await opA.client.request('GET', `/api/v1/work-items/${id}`);
    expect(late.statusCode).toBe(404);
    expect(late.body).not.toContain(person.identity.lastName);
    expect(await auditOf(w, requestId(late))).toMatchObject({
      decision: 'deny',
      reason: 'work_item_not_open',
    });
    expect(
      (await opA.client.request('POST', `/api/v1/work-items/${id}/done`, { outcome: 'processed' }))
        .statusCode,
    ).toBe(404);
    expect(
      (await manager.request('POST', `/api/v1/work-items/${id}/assign`, { operatorId: opB.account.id }))
        .statusCode,
    ).toBe(404);
    const listed = (await opA.client.request('GET', '/api/v1/work-items')).json().items;
    expect(listed.find((i: { id: string }) => i.id === id)).toMatchObject({ state: 'closed' });
  });

  it('a person archived by retention while their item is assigned: the item opens for nobody', async () => {
    const person = agencyPersons[20]!;
    const id = await handed(person, 'payslip_entry', opA.account);
    expect((await opA.client.request('GET', `/api/v1/work-items/${id}`)).statusCode).toBe(200);
    await w.t.driver.transaction((tx) =>
      tx.query(`UPDATE persons SET status = 'deregistered' WHERE id = $1`, [person.id]),
    );
    const archived = await w.t.db.tx(systemCtx('test').actor, (tx) =>
      archivePersons(tx, [person.id], '2026-03-02', w.clock.now()),
    );
    expect(archived).toBe(1);
    expect((await opA.client.request('GET', `/api/v1/work-items/${id}`)).statusCode).toBe(404);
  });

  it('once done, an item shows nothing, even to its operator', async () => {
    const person = agencyPersons[12]!;
    const id = await handed(person, 'payslip_entry', opA.account);
    const done = await opA.client.request('POST', `/api/v1/work-items/${id}/done`, { outcome: 'processed' });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().item).toEqual({ id, state: 'done', outcome: 'processed' });
    expect(await auditOf(w, requestId(done))).toMatchObject({
      action: 'work_item.complete',
      decision: 'allow',
      persons: [],
    });
    expect((await opA.client.request('GET', `/api/v1/work-items/${id}`)).statusCode).toBe(404);
    expect(
      (await opA.client.request('POST', `/api/v1/work-items/${id}/done`, { outcome: 'rejected' })).statusCode,
    ).toBe(404);
    const listed = (await opA.client.request('GET', '/api/v1/work-items')).json().items;
    expect(listed.find((i: { id: string }) => i.id === id)).toMatchObject({
      state: 'done',
      outcome: 'processed',
    });
  });

  it('an operator cannot search at all, nor read a record, even of its own item’s person: refused and audited', async () => {
    const person = agencyPersons[13]!;
    await handed(person, 'address_proof_check', opA.account);
    const { nir, agencyId, lastName, firstNames, birthDate } = person.identity;
    const attempts = [
      ['POST', '/api/v1/persons/search', { purpose: 'work_item', by: 'agencyId', agencyId }],
      ['POST', '/api/v1/persons/search', { purpose: 'work_item', by: 'nir', nir }],
      [
        'POST',
        '/api/v1/persons/search',
        { purpose: 'work_item', by: 'nameBirth', lastName, firstName: firstNames, birthDate },
      ],
      ['POST', '/api/v1/persons/search', { purpose: 'accompaniment', by: 'agencyId', agencyId }],
      [
        'POST',
        '/api/v1/persons/search',
        {
          purpose: 'work_item',
          by: 'agencyId',
          agencyId,
          national: true,
          justification: 'Le document à traiter ne porte pas de référence lisible',
        },
      ],
      ['GET', `/api/v1/persons/${person.id}?purpose=work_item`, undefined],
    ] as const;
    for (const [method, url, body] of attempts) {
      const response = await opA.client.request(method, url, body);
      expect(response.statusCode, url).toBe(403);
      for (const value of identifyingValues(person).slice(1)) expect(response.body).not.toContain(value);
      expect(await auditOf(w, requestId(response))).toMatchObject({ decision: 'deny' });
    }
  });

  it('row-level security alone: as the operator, the database shows its own items and only the persons of its live ones', async () => {
    const live = agencyPersons[14]!;
    const id = await handed(live, 'payslip_entry', opA.account);
    const shortLived = agencyPersons[18]!;
    await handed(shortLived, 'payslip_entry', opA.account, { deadline: soon(0.1) });
    const finished = agencyPersons[19]!;
    const doneId = await handed(finished, 'payslip_entry', opA.account);
    expect(
      (await opA.client.request('POST', `/api/v1/work-items/${doneId}/done`, { outcome: 'processed' }))
        .statusCode,
    ).toBe(200);
    const actor: Actor = {
      kind: 'staff',
      accountId: opA.account.id,
      organisationId: st1,
      role: 'subcontractor_operator',
    };
    const asOperator = (now: Date | null) =>
      w.t.db.tx(actor, async (tx) => {
        if (now) await setPolicyClock(tx, now);
        const items = await tx.query<{ id: string; assigned_to: string; person_id: string }>(
          'SELECT id, assigned_to, person_id FROM work_items',
        );
        const persons = await tx.query<{ id: string }>('SELECT id FROM persons');
        return { items, persons: persons.map((p) => p.id) };
      });
    const now = await asOperator(w.clock.now());
    expect(now.items.every((i) => i.assigned_to === opA.account.id)).toBe(true);
    expect(now.items.map((i) => i.id)).toEqual(expect.arrayContaining([id, doneId]));
    // The persons of its live items (assigned, not done, before the deadline; not archived), and no one else.
    const [expected] = await w.t.driver.transaction((tx) =>
      tx.query<{ ids: string[] }>(
        `SELECT coalesce(array_agg(DISTINCT person_id::text), '{}') AS ids FROM work_items
         WHERE assigned_to = $1 AND state = 'assigned' AND deadline > $2
           AND person_id IN (SELECT id FROM persons WHERE status IN ('registered', 'deregistered', 'candidate'))`,
        [opA.account.id, w.clock.now()],
      ),
    );
    expect(now.persons.sort()).toEqual([...expected!.ids].sort());
    expect(now.persons).toEqual(expect.arrayContaining([live.id, shortLived.id]));
    expect(now.persons).not.toContain(finished.id);
    expect(now.persons.length).toBeLessThan(w.persons.length);
    // Seven minutes on, the short-lived item is closed: its person is gone, the other stays.
    const later = await asOperator(new Date(w.clock.now().getTime() + 7 * MINUTE));
    expect(later.persons).toContain(live.id);
    expect(later.persons).not.toContain(shortLived.id);
    // Without the application's clock nothing is live (fail closed); past every deadline, nothing.
    expect((await asOperator(null)).persons).toEqual([]);
    expect((await asOperator(new Date(w.clock.now().getTime() + 6 * 24 * HOUR))).persons).toEqual([]);
    // Another operator of the same organisation sees none of them.
    const other = await w.t.db.tx({ ...actor, accountId: opB.account.id }, async (tx) => {
      await setPolicyClock(tx, w.clock.now());
      return {
        items: await tx.query<{ id: string }>('SELECT id FROM work_items WHERE id = $1', [id]),
        persons: await tx.query<{ id: string }>('SELECT id FROM persons WHERE id = $1', [live.id]),
      };
    });
    expect(other).toEqual({ items: [], persons: [] });
    // The operator cannot take another's item, nor change what an item is about.
    const ofB = await handed(agencyPersons[15]!, 'payslip_entry', opB.account);
    const taken = await w.t.db.tx(actor, async (tx) => {
      await setPolicyClock(tx, w.clock.now());
      return tx.query('UPDATE work_items SET assigned_to = $2 WHERE id = $1 RETURNING id', [
        ofB,
        opA.account.id,
      ]);
    });
    expect(taken).toEqual([]);
    await expect(
      w.t.db.tx(actor, (tx) =>
        tx.query('UPDATE work_items SET person_id = $2 WHERE id = $1', [id, agencyPersons[16]!.id]),
      ),
      // The column is not granted; on Citus it is also the distribution column, which no one may change.
    ).rejects.toThrow(engine === 'citus' ? /modifying the partition value/ : /permission denied/);
  });

  it('row-level security alone: a counselor cannot create an item for a person outside its scope', async () => {
    const [account] = await w.t.driver.transaction((tx) =>
      tx.query<{ id: string }>(
        `SELECT id FROM accounts WHERE organisation_id = $1 AND role = 'counselor' LIMIT 1`,
        [w.agency],
      ),
    );
    const actor: Actor = {
      kind: 'staff',
      accountId: account!.id,
      organisationId: w.agency,
      role: 'counselor',
    };
    const insert = (personId: string) =>
      w.t.db.tx(actor, async (tx) => {
        await setPolicyClock(tx, w.clock.now());
        await tx.query(
          `INSERT INTO work_items (id, person_id, reference, task, purpose, created_by, creator_organisation_id,
             subcontractor_id, deadline, created_at)
           VALUES ($1, $2, 'DOS-AAAA-BBBB', 'payslip_entry', 'payment', $3, $4, $5, $6, $7)`,
          [randomUUID(), personId, account!.id, w.agency, st1, soon(), w.clock.now()],
        );
      });
    await expect(insert(outside.id)).rejects.toThrow(/row-level security/);
    await expect(insert(agencyPersons[16]!.id)).resolves.toBeUndefined();
  });

  it('fails closed: when the audit row cannot be written, opening an item returns nothing', async () => {
    const person = agencyPersons[17]!;
    const id = await handed(person, 'address_proof_check', opA.account);
    await w.t.driver.transaction((tx) => tx.query('REVOKE INSERT ON audit_event_persons FROM rempart_app'));
    try {
      const response = await opA.client.request('GET', `/api/v1/work-items/${id}`);
      expect(response.statusCode).toBe(500);
      expect(response.body).not.toContain(person.identity.lastName);
    } finally {
      await w.t.driver.transaction((tx) => tx.query('GRANT INSERT ON audit_event_persons TO rempart_app'));
    }
  });

  it('no bulk or export route exists for work items: the API document lists only these operations', async () => {
    const document = (await w.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .filter(([path]) => path.startsWith('/api/v1/work-items'))
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    expect(operations).toEqual(
      [
        'GET /api/v1/work-items',
        'POST /api/v1/work-items',
        'GET /api/v1/work-items/tasks',
        'GET /api/v1/work-items/subcontractors',
        'GET /api/v1/work-items/{id}',
        'POST /api/v1/work-items/{id}/assign',
        'POST /api/v1/work-items/{id}/done',
      ].sort(),
    );
  });
});

describe(`work items and the guard (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: StaffClient;
  let manager: StaffClient;
  let st1: string;
  let agencyPersons: KnownPerson[];

  beforeAll(async () => {
    w = await registryWorld(80);
    [st1] = await subcontractorIds(w);
    counselor = (await w.staff('counselor', w.agency)).client;
    manager = (await w.staff('org_manager', st1)).client;
    agencyPersons = w.persons.filter((p) => p.agencyOrganisationId === w.agency);
  }, 180_000);
  afterAll(async () => {
    await w?.close();
  });

  const hand = async (person: KnownPerson, to: Account): Promise<string> => {
    const created = await counselor.request('POST', '/api/v1/work-items', {
      purpose: 'payment',
      personId: person.id,
      task: 'payslip_entry',
      subcontractorId: st1,
      deadline: new Date(w.clock.now().getTime() + 24 * HOUR).toISOString(),
    });
    const id = created.json().item.id as string;
    await manager.request('POST', `/api/v1/work-items/${id}/assign`, { operatorId: to.id });
    return id;
  };
  const stateOf = async (accountId: string) => {
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ state: { d: { views: number; persons: number; refused: number } } }>(
        'SELECT state FROM guard_accounts WHERE account_id = $1',
        [accountId],
      ),
    );
    return row?.state.d;
  };

  it('opening an item counts as a read of its person; a refused open counts as a refusal', async () => {
    const account = await w.account({ role: 'subcontractor_operator', organisationId: st1 });
    const { client } = await enrolled(w, account);
    const id = await hand(agencyPersons[0]!, account);
    expect((await client.request('GET', `/api/v1/work-items/${id}`)).statusCode).toBe(200);
    expect(await stateOf(account.id)).toMatchObject({ views: 1, persons: 1, refused: 0 });
    expect((await client.request('GET', `/api/v1/work-items/${randomUUID()}`)).statusCode).toBe(404);
    expect(await stateOf(account.id)).toMatchObject({ views: 2, persons: 1, refused: 1 });
    // Marking done reads nothing.
    expect(
      (await client.request('POST', `/api/v1/work-items/${id}/done`, { outcome: 'processed' })).statusCode,
    ).toBe(200);
    expect(await stateOf(account.id)).toMatchObject({ views: 2, persons: 1 });
  });

  it('an operator who keeps searching and opening items not theirs is suspended, having received nothing', async () => {
    const account = await w.account({ role: 'subcontractor_operator', organisationId: st1 });
    const { client, secret } = await enrolled(w, account);
    const colleague = await w.account({ role: 'subcontractor_operator', organisationId: st1 });
    await enrolled(w, colleague);
    const theirs = await hand(agencyPersons[1]!, colleague);
    const target = agencyPersons[2]!;
    let requests = 0;
    let stepUps = 0;
    let suspendedAt: number | null = null;
    for (let i = 0; i < 40 && suspendedAt === null; i += 1) {
      const response =
        i % 2 === 0
          ? await client.request('GET', `/api/v1/work-items/${theirs}`)
          : await client.request('POST', '/api/v1/persons/search', {
              purpose: 'work_item',
              by: 'agencyId',
              agencyId: target.identity.agencyId,
            });
      requests += 1;
      expect(response.statusCode).not.toBe(200);
      for (const value of identifyingValues(target).slice(1)) expect(response.body).not.toContain(value);
      const code = response.json().code;
      if (code === 'account_suspended') suspendedAt = requests;
      else if (code === 'step_up_required') {
        // The insider owns the authenticator: a step-up does not stop them, so they give it.
        w.clock.advance(31_000);
        const verified = await client.request('POST', '/api/v1/auth/totp', {
          code: await totpAt(secret, w.clock.now()),
        });
        expect(verified.statusCode, verified.body).toBe(200);
        stepUps += 1;
      }
    }
    expect(stepUps).toBeGreaterThan(0);
    expect(suspendedAt).not.toBeNull();
    expect(suspendedAt!).toBeLessThanOrEqual(20);
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ status: string }>('SELECT status FROM accounts WHERE id = $1', [account.id]),
    );
    expect(row!.status).toBe('suspended');
    // The colleague's item is untouched and still theirs.
    const [item] = await w.t.driver.transaction((tx) =>
      tx.query<{ assigned_to: string; state: string }>(
        'SELECT assigned_to, state FROM work_items WHERE id = $1',
        [theirs],
      ),
    );
    expect(item).toEqual({ assigned_to: colleague.id, state: 'assigned' });
  });
});
