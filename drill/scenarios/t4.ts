/**
 * T4 (docs/DESIGN.md section 2; 2023: a subcontractor kept a copy of 10 million records on an update
 * server): subcontractors get work items, not datasets. An agency counselor hands documents to two
 * subcontractors (work items: one person each, a task that fixes the fields shown, a deadline); each
 * subcontractor's manager assigns them to its operators. The insider is an operator of the first
 * subcontractor, with their own real session and their own authenticator app (a step-up does not
 * stop them: they give it). After a morning's honest work (two items of their own opened, one marked
 * done), they try to keep and widen what they saw:
 * (a) the honest work: their list (no person in it) and their two items, before the deadline — the
 *     control, not counted as exposed;
 * (b) reading after the deadline: the item whose deadline passed at noon, and the one they marked
 *     done;
 * (c) a bulk download: an export route, their list with every parameter a script would add;
 * (d) searching: leaked identities (NIR, agency id, name and birth date) for every purpose they
 *     might try, nationally with a justification too, and their items' persons' records by id;
 * (e) items not assigned to them: a colleague's, the other subcontractor's;
 * (f) pushing on: every attempt of (b), (d) and (e) in turn, and more of each kind (marking items
 *     done, items not yet assigned, guessed ids, assigning one to themselves, national searches,
 *     their items' persons' records), until the guard suspends the account;
 * (g) a colleague opens their own item meanwhile (the subcontractor still works).
 * Goal: no record leaves through the attack (recordsExposed 0), and the operator is suspended.
 */
import { randomUUID } from 'node:crypto';
import { statusSummary, succeeded } from '../attack.ts';
import { nextWorkingMorning, zonedInstant } from '../calendar.ts';
import { type Exchange, Tally } from '../client.ts';
import type { LeakedPerson } from '../leak.ts';
import type { ScenarioResult, StepResult } from '../report.ts';
import type { CastSpec, Scenario, StaffMember } from '../scenario.ts';
import { describeAlerts, guardAlerts, suspendingSignals } from '../steps/alerts.ts';
import { type Attempt, type OwnerClient, ownerClient } from '../steps/owner-client.ts';
import { step } from '../steps/stolen-password.ts';

export const T4_COUNSELOR: CastSpec = {
  name: 't4-counselor',
  role: 'counselor',
  organisationKind: 'agency',
  leak: true,
};
export const T4_MANAGER: CastSpec = {
  name: 't4-manager',
  role: 'org_manager',
  organisationKind: 'subcontractor',
};
export const T4_OPERATOR: CastSpec = {
  name: 't4-operator',
  role: 'subcontractor_operator',
  organisationKind: 'subcontractor',
};
export const T4_COLLEAGUE: CastSpec = {
  name: 't4-colleague',
  role: 'subcontractor_operator',
  organisationKind: 'subcontractor',
};
export const T4_OTHER_MANAGER: CastSpec = {
  name: 't4-other-manager',
  role: 'org_manager',
  organisationKind: 'subcontractor',
  organisationRank: 1,
};
export const T4_OTHER_OPERATOR: CastSpec = {
  name: 't4-other-operator',
  role: 'subcontractor_operator',
  organisationKind: 'subcontractor',
  organisationRank: 1,
};

const TITLE = 'a subcontractor operator trying to keep and widen what its work items showed (2023)';
const ITEMS = '/api/v1/work-items';
const ITEM = '/api/v1/work-items/{id}';
const SEARCH = '/api/v1/persons/search';
/** The most requests the insider sends while pushing on (f). */
const PUSH_LIMIT = 80;
const DAY_MS = 86_400_000;

/** An item the drill handed over, and whose person it is (setup knowledge). */
interface Handed {
  id: string;
  personId: string;
}

export const t4: Scenario = {
  id: 'T4',
  title: TITLE,
  cast: [T4_COUNSELOR, T4_MANAGER, T4_OPERATOR, T4_COLLEAGUE, T4_OTHER_MANAGER, T4_OTHER_OPERATOR],
  async run(world): Promise<ScenarioResult> {
    const startedAt = performance.now();
    const operator = world.staff(T4_OPERATOR.name);
    const colleague = world.staff(T4_COLLEAGUE.name);
    const notes = world.caseload(T4_COUNSELOR.name);
    const steps: StepResult[] = [];
    const remarks: string[] = [];

    // The next working day, 09:00 (Paris).
    const date = nextWorkingMorning(world.clock.now());
    await world.clock.set(zonedInstant(date, 9, 0));
    const noon = zonedInstant(date, 12, 0);
    const later = new Date(world.clock.now().getTime() + 2 * DAY_MS);

    world.progress('T4 setup: a counselor hands documents over, the managers assign them');
    const persons = notes.worklist.slice(0, 9);
    if (persons.length < 9) throw new Error('T4 needs 9 persons in the counselor’s agency (more persons?)');
    const counselor = await ownerClient(world, T4_COUNSELOR.name);
    const listed = await counselor.send({
      method: 'GET',
      path: `${ITEMS}/subcontractors`,
      route: `${ITEMS}/subcontractors`,
    });
    const subs =
      (listed.body as { subcontractors?: { id: string; code: string }[] } | undefined)?.subcontractors ?? [];
    const subOf = (member: StaffMember): string => {
      const found = subs.find((s) => s.code === member.organisation)?.id;
      if (!found)
        throw new Error(`T4: ${member.organisation} is not among the subcontractors (${listed.status})`);
      return found;
    };
    const st1 = subOf(operator);
    const st2 = subOf(world.staff(T4_OTHER_OPERATOR.name));
    const manager = await ownerClient(world, T4_MANAGER.name);
    const otherManager = await ownerClient(world, T4_OTHER_MANAGER.name);
    const hand = async (
      index: number,
      task: string,
      subcontractorId: string,
      deadline: Date,
      assign?: { by: OwnerClient; to: StaffMember },
    ): Promise<Handed> => {
      const personId = persons[index]!.id;
      const created = await counselor.send({
        method: 'POST',
        path: ITEMS,
        route: ITEMS,
        body: { purpose: 'payment', personId, task, subcontractorId, deadline: deadline.toISOString() },
      });
      const id = (created.body as { item?: { id?: string } } | undefined)?.item?.id;
      if (created.status !== 201 || !id)
        throw new Error(`T4: creating an item answered ${created.status} ${created.code}`);
      if (assign) {
        const done = await assign.by.send({
          method: 'POST',
          path: `${ITEMS}/${id}/assign`,
          route: `${ITEM}/assign`,
          body: { operatorId: assign.to.id },
        });
        if (done.status !== 200)
          throw new Error(`T4: assigning an item answered ${done.status} ${done.code}`);
      }
      // At a person's pace: an account unused for weeks (after other scenarios) has narrower levels.
      await world.clock.advance(15_000);
      return { id, personId };
    };
    const toOperator = { by: manager, to: operator };
    const own = [
      await hand(0, 'payslip_entry', st1, later, toOperator),
      await hand(1, 'address_proof_check', st1, noon, toOperator),
    ];
    const colleagues = [
      await hand(2, 'payslip_entry', st1, later, { by: manager, to: colleague }),
      await hand(3, 'document_indexing', st1, later, { by: manager, to: colleague }),
      await hand(4, 'address_proof_check', st1, later, { by: manager, to: colleague }),
    ];
    const unassigned = [
      await hand(5, 'payslip_entry', st1, later),
      await hand(6, 'document_indexing', st1, later),
    ];
    const otherOrg = [
      await hand(7, 'address_proof_check', st2, later, {
        by: otherManager,
        to: world.staff(T4_OTHER_OPERATOR.name),
      }),
      await hand(8, 'payslip_entry', st2, later, {
        by: otherManager,
        to: world.staff(T4_OTHER_OPERATOR.name),
      }),
    ];
    const personOf = new Map(
      [...own, ...colleagues, ...unassigned, ...otherOrg].map((h) => [h.id, h.personId] as const),
    );
    // What must never show in an answer to the insider: the persons' ids and identifiers it might hold.
    const file = notes.file.filter((p) => p.kind === 'inside').slice(0, 3);
    const secrets = [
      ...persons.flatMap((p) => [p.id, p.agencyId]),
      ...file.flatMap((p) => [p.id, p.nir, p.agencyId]),
    ];
    const carriesPerson = (call: Exchange): boolean => {
      const text = JSON.stringify(call.body ?? '');
      return secrets.some((s) => text.includes(s));
    };

    world.progress('T4 (a) the operator’s honest morning: its list and its two items');
    const work = await ownerClient(world, T4_OPERATOR.name);
    const list = await work.send({ method: 'GET', path: ITEMS, route: ITEMS });
    const listIds = ((list.body as { items?: { id: string }[] } | undefined)?.items ?? []).map((i) => i.id);
    const opened = [];
    for (const item of own)
      opened.push(await work.send({ method: 'GET', path: `${ITEMS}/${item.id}`, route: ITEM }));
    const marked = await work.send({
      method: 'POST',
      path: `${ITEMS}/${own[0]!.id}/done`,
      route: `${ITEM}/done`,
      body: { outcome: 'processed' },
    });
    const legitimateReads = opened.filter(succeeded).length;
    steps.push(
      step(
        '(a)',
        'its own work, before the deadline (the control)',
        list.status === 200 &&
          listIds.length === own.length &&
          own.every((i) => listIds.includes(i.id)) &&
          !carriesPerson(list) &&
          legitimateReads === own.length &&
          marked.status === 200,
        `its list: ${listIds.length} items (${list.status}), ${carriesPerson(list) ? 'WITH' : 'no'} person id or identifier in it; ` +
          `its items opened: ${statusSummary(opened)}; one marked done: ${marked.status}`,
      ),
    );

    // Noon: the second item's deadline passes. The insider comes back after lunch, in a new session.
    await world.clock.set(new Date(noon.getTime() + 60_000));
    const tally = new Tally();
    tally.knownPersons = new Set(secrets);
    const attacker = world.client(`${operator.name} (after the deadline)`, tally);
    await world.signIn(attacker, operator);
    const exposed = new Set<string>();
    let stepUps = 0;
    let ended = false;
    const attempt = async (a: Attempt): Promise<Exchange | null> => {
      if (ended) return null;
      let call = await attacker.request(a.method, a.path, a.body, { route: a.route });
      if (call.code === 'step_up_required') {
        // The insider owns the authenticator: a step-up does not stop them.
        const verified = await attacker.post('/api/v1/auth/totp', { code: await world.totpCode(operator) });
        if (verified.status === 200) stepUps += 1;
        call = await attacker.request(a.method, a.path, a.body, { route: a.route });
      }
      if (tally.suspended || call.status === 401) ended = true;
      if (succeeded(call)) {
        const item = (call.body as { item?: { person?: unknown } } | undefined)?.item;
        if (a.route === ITEM && a.method === 'GET' && item?.person) {
          exposed.add(personOf.get(a.path.split('/').pop() ?? '') ?? a.path);
        }
        if (carriesPerson(call)) exposed.add(`${a.method} ${a.path}`);
      }
      return call;
    };
    const run = async (label: string, title: string, attempts: Attempt[]): Promise<Exchange[]> => {
      const before = exposed.size;
      const calls: Exchange[] = [];
      for (const a of attempts) {
        const call = await attempt(a);
        if (!call) break;
        calls.push(call);
      }
      steps.push(
        step(
          label,
          title,
          exposed.size === before && calls.every((c) => !succeeded(c) || !carriesPerson(c)),
          calls.length === 0
            ? 'not tried: the account was already suspended'
            : `${calls.length} request${calls.length === 1 ? '' : 's'}: ${statusSummary(calls)}; ` +
                `${exposed.size - before} persons received`,
        ),
      );
      return calls;
    };
    const get = (path: string, route: string): Attempt => ({ method: 'GET', path, route });
    const post = (path: string, route: string, body: unknown): Attempt => ({
      method: 'POST',
      path,
      route,
      body,
    });
    const open = (id: string): Attempt => get(`${ITEMS}/${id}`, ITEM);
    const done = (id: string): Attempt =>
      post(`${ITEMS}/${id}/done`, `${ITEM}/done`, { outcome: 'processed' });

    world.progress(
      'T4 (b)–(e) after the deadline: its items again, a bulk download, searches, others’ items',
    );
    // Each kind once, then (f) every one of them in turn: the guard may stop it before the end.
    const late = [open(own[1]!.id), open(own[0]!.id), done(own[1]!.id), done(own[0]!.id)];
    await run('(b)', 'its items after the deadline and once done', late.slice(0, 2));
    await run('(c)', 'a bulk download', [
      get(`${ITEMS}/export`, `${ITEMS}/export`),
      get('/api/v1/exports', '/api/v1/exports'),
      get(`${ITEMS}?all=true&limit=100000&organisation=all`, ITEMS),
      get(`${ITEMS}/subcontractors`, `${ITEMS}/subcontractors`),
    ]);
    const searches = searchAttempts(file, [...own, ...colleagues]);
    await run('(d)', 'searches and records: leaked identities, every purpose, nationally too', [
      searches[0]!,
      searches[3]!,
    ]);
    const notAssigned: Attempt[] = [
      open(colleagues[0]!.id),
      open(otherOrg[0]!.id),
      open(unassigned[0]!.id),
      open(randomUUID()),
      ...colleagues.slice(1).map((h) => open(h.id)),
      done(colleagues[0]!.id),
      ...unassigned.slice(1).map((h) => open(h.id)),
      post(`${ITEMS}/${unassigned[0]!.id}/assign`, `${ITEM}/assign`, { operatorId: operator.id }),
      ...otherOrg.slice(1).map((h) => open(h.id)),
      open(randomUUID()),
    ];
    await run(
      '(e)',
      'items not assigned to it: a colleague’s, another subcontractor’s',
      notAssigned.slice(0, 2),
    );

    world.progress('T4 (f) pushing on until suspended');
    const rounds = [...late, ...notAssigned, ...searches];
    const pushed: Attempt[] = [];
    for (let i = 0; pushed.length < PUSH_LIMIT; i += 1) pushed.push(rounds[i % rounds.length]!);
    const before = tally.requests;
    await run('(f)', 'pushing on', pushed);
    const status = await world.accountStatus(operator.login);
    if (status === 'suspended') tally.markSuspended();
    const lastStep = steps.at(-1)!;
    lastStep.passed = lastStep.passed && tally.suspended;
    lastStep.note += tally.suspended
      ? `; suspended at request ${tally.requestsToSuspension} (${tally.requests - before} pushed)`
      : '; NEVER suspended';

    world.progress('T4 (g) a colleague opens its own item');
    const mate = await ownerClient(world, T4_COLLEAGUE.name);
    const mates = await mate.send({ method: 'GET', path: `${ITEMS}/${colleagues[0]!.id}`, route: ITEM });
    steps.push(
      step(
        '(g)',
        'the subcontractor still works: a colleague opens its item',
        mates.status === 200,
        `the colleague’s item answered ${mates.status}`,
      ),
    );

    const alerts = await guardAlerts(world, operator);
    remarks.push(
      `${stepUps} step-ups given by the insider on the way`,
      `the guard's alerts on the account: ${describeAlerts(alerts)}`,
      `the account ends the scenario ${status ?? 'in an unknown state'}` +
        (tally.suspended ? `, suspended by ${suspendingSignals(alerts).join(', ') || 'the guard'}` : ''),
    );
    const recordsExposed = new Set([...exposed, ...tally.persons]).size;
    const refused = tally.exchanges.filter((c) => c.status >= 400).length;
    return {
      id: 'T4',
      title: TITLE,
      passed: steps.every((s) => s.passed) && recordsExposed === 0 && tally.suspended,
      recordsExposed,
      outsideCaseload: recordsExposed,
      // An operator reads items, not a caseload: no daily volume to exceed.
      beyondBaseline: null,
      ...tally.guardFigures(),
      requests: tally.requests,
      steps,
      remarks,
      seconds: (performance.now() - startedAt) / 1000,
      figures: { refused, legitimateReads },
    };
  },
};

/** Searches an operator might try with identities it holds, and its items' persons' records by id. */
function searchAttempts(file: readonly LeakedPerson[], items: readonly Handed[]): Attempt[] {
  const out: Attempt[] = [];
  const justification = 'Le document reçu ne porte pas de référence, il faut retrouver le dossier';
  for (const p of file) {
    out.push(
      { method: 'POST', path: SEARCH, route: SEARCH, body: { purpose: 'work_item', by: 'nir', nir: p.nir } },
      {
        method: 'POST',
        path: SEARCH,
        route: SEARCH,
        body: { purpose: 'work_item', by: 'agencyId', agencyId: p.agencyId },
      },
      {
        method: 'POST',
        path: SEARCH,
        route: SEARCH,
        body: {
          purpose: 'work_item',
          by: 'nameBirth',
          lastName: p.lastName,
          firstName: p.firstNames,
          birthDate: p.birthDate,
        },
      },
      {
        method: 'POST',
        path: SEARCH,
        route: SEARCH,
        body: { purpose: 'accompaniment', by: 'agencyId', agencyId: p.agencyId },
      },
      {
        method: 'POST',
        path: SEARCH,
        route: SEARCH,
        body: { purpose: 'work_item', by: 'nir', nir: p.nir, national: true, justification },
      },
    );
  }
  for (const item of items.slice(0, 3)) {
    out.push(
      {
        method: 'GET',
        path: `/api/v1/persons/${item.personId}?purpose=work_item`,
        route: '/api/v1/persons/{id}',
      },
      {
        method: 'POST',
        path: `/api/v1/persons/${item.personId}/national-view`,
        route: '/api/v1/persons/{id}/national-view',
        body: { purpose: 'work_item', justification },
      },
    );
  }
  return out;
}
