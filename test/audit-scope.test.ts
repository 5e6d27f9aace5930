/**
 * Breach scope and a person's access history from the audit log (docs/DESIGN.md sections 7, 9, 10; T7):
 * exactly the persons and fields the accounts received in [from, to), and who saw a person; the log
 * is readable by system actors, security officers and the DPO only; `rempart audit scope` logs itself.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditCtx, appendAudit } from '../src/audit/append.ts';
import {
  ACCESS_HISTORY_SQL,
  breachScope,
  personAccessHistory,
  type ScopeRequest,
} from '../src/audit/scope.ts';
import type { Actor } from '../src/context.ts';
import { openDb } from '../src/db/open.ts';
import type { Db } from '../src/db/types.ts';
import { cliEnv, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine, freshDb, type TestDb } from './helpers/db.ts';

const system: Actor = { kind: 'system', operation: 'test' };
const orgA = randomUUID();
const orgB = randomUUID();
const staffOf = (organisationId: string, role: string): Actor & { kind: 'staff' } => ({
  kind: 'staff',
  accountId: randomUUID(),
  organisationId,
  role,
});
const A = staffOf(orgA, 'counselor');
const B = staffOf(orgB, 'partner_counselor');
const C = staffOf(orgA, 'counselor');
const [p1, p2, p3, p4, p5, p6] = Array.from({ length: 6 }, () => randomUUID()) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const from = new Date('2026-03-01T00:00:00.000Z');
const to = new Date('2026-03-08T00:00:00.000Z');
const at = (ms: number): Date => new Date(from.getTime() + ms);
const DAY = 86_400_000;
const baseRequest: ScopeRequest = { accounts: [], from, to };

/** Writes the organisations and the events of the scenario; returns the event ids by name. */
async function given(db: Db): Promise<Record<string, string>> {
  await db.tx(system, (tx) =>
    tx.query(
      `INSERT INTO organisations (id, kind, code, name) VALUES
         ($1, 'agency', $3, 'Agence Paris 15e'), ($2, 'cap_emploi', $4, 'Cap emploi Paris')`,
      [orgA, orgB, `FT-T${orgA.slice(0, 6)}`, `CE-T${orgB.slice(0, 6)}`],
    ),
  );
  const write = (
    actor: Actor,
    when: Date,
    persons: { personId: string; fields: string[] }[],
    decision: 'allow' | 'deny' = 'allow',
  ): Promise<string> => {
    const ctx: AuditCtx = { actor, sessionRef: null, requestId: randomUUID(), sourceAddress: null, at: when };
    return db.tx(actor, (tx) =>
      appendAudit(tx, ctx, {
        action: actor.kind === 'system' ? 'person.import' : 'person.view',
        purpose: actor.kind === 'system' ? null : 'accompaniment',
        query: {},
        decision,
        ...(decision === 'deny' ? { reason: 'out_of_caseload' } : {}),
        resultCount: persons.length,
        persons,
      }),
    );
  };
  return {
    imported: await write(system, at(-10 * DAY), [{ personId: p1, fields: ['lastName', 'nir'] }]),
    // exactly at `from`: included; p2 matched with no field returned: not a disclosure
    atFrom: await write(A, from, [
      { personId: p1, fields: ['lastName', 'firstNames'] },
      { personId: p2, fields: [] },
    ]),
    day1: await write(A, at(DAY), [
      { personId: p1, fields: ['birthDate', 'lastName'] },
      { personId: p3, fields: ['email'] },
    ]),
    day2: await write(B, at(2 * DAY), [{ personId: p4, fields: ['nir', 'lastName'] }]),
    denied: await write(A, at(3 * DAY), [], 'deny'),
    // exactly at `to`: excluded
    atTo: await write(A, to, [{ personId: p5, fields: ['phone'] }]),
    before: await write(A, at(-1), [{ personId: p6, fields: ['address'] }]),
    otherAccount: await write(C, at(4 * DAY), [{ personId: p6, fields: ['address'] }]),
    last: await write(B, at(to.getTime() - from.getTime() - 1), [
      { personId: p1, fields: ['phone'] },
      { personId: p2, fields: [] },
    ]),
  };
}

describe(`audit scope and history (${engine})`, () => {
  let t: TestDb;
  let ids: Record<string, string>;
  beforeAll(async () => {
    t = await freshDb();
    ids = await given(t.db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('a scope holds exactly the persons and fields the accounts received in [from, to)', async () => {
    const scope = await t.db.tx(system, (tx) =>
      breachScope(tx, { accounts: [A.accountId, B.accountId.toUpperCase()], from, to }),
    );
    const expected = [
      {
        personId: p1,
        fields: ['birthDate', 'firstNames', 'lastName', 'phone'],
        firstAt: from,
        lastAt: at(to.getTime() - from.getTime() - 1),
        events: 3,
      },
      { personId: p3, fields: ['email'], firstAt: at(DAY), lastAt: at(DAY), events: 1 },
      { personId: p4, fields: ['lastName', 'nir'], firstAt: at(2 * DAY), lastAt: at(2 * DAY), events: 1 },
    ].sort((a, b) => (a.personId < b.personId ? -1 : 1));
    expect(scope.persons).toEqual(expected);
    expect(scope.personCount).toBe(3);
    expect(scope.accounts).toEqual([A.accountId, B.accountId]);
    // atFrom, day1, day2, last: the refused event and those outside the window do not count
    expect(scope.events).toBe(4);
    expect(scope.fieldCounts).toEqual({
      birthDate: 1,
      email: 1,
      firstNames: 1,
      lastName: 2,
      nir: 1,
      phone: 1,
    });
    expect(Object.keys(scope.fieldCounts)).toEqual(Object.keys(scope.fieldCounts).sort());
  });

  it('one account alone, and a window that holds only the event at `to` of the previous one', async () => {
    const onlyB = await t.db.tx(system, (tx) => breachScope(tx, { accounts: [B.accountId], from, to }));
    expect(onlyB.persons.map((p) => [p.personId, p.fields])).toEqual(
      [
        [p1, ['phone']],
        [p4, ['lastName', 'nir']],
      ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
    );
    const next = await t.db.tx(system, (tx) =>
      breachScope(tx, { accounts: [A.accountId], from: to, to: new Date(to.getTime() + DAY) }),
    );
    expect(next.persons.map((p) => [p.personId, p.fields])).toEqual([[p5, ['phone']]]);
  });

  it.each([
    [{ accounts: [] }, 'accounts'],
    [{ accounts: Array.from({ length: 101 }, () => randomUUID()) }, 'accounts'],
    [{ accounts: ['not-a-uuid'] }, 'accounts'],
    [{ accounts: [randomUUID()], from: to, to: from }, 'from'],
    [{ accounts: [randomUUID()], to: new Date(Number.NaN) }, 'to'],
  ])('refuses a bad request: %j', async (request: Partial<ScopeRequest>, field) => {
    await expect(
      t.db.tx(system, (tx) => breachScope(tx, { ...baseRequest, ...request })),
    ).rejects.toMatchObject({
      code: 'validation_failed',
      field,
    });
  });

  it("a person's history: who, when, from which organisation and role, for which purpose, newest first", async () => {
    const history = await t.db.tx(system, (tx) => personAccessHistory(tx, p1));
    expect(history.map((e) => e.eventId)).toEqual([ids.last, ids.day1, ids.atFrom, ids.imported]);
    expect(history[0]).toEqual({
      at: at(to.getTime() - from.getTime() - 1),
      eventId: ids.last,
      accountId: B.accountId,
      organisationId: orgB,
      organisationName: 'Cap emploi Paris',
      role: 'partner_counselor',
      purpose: 'accompaniment',
      action: 'person.view',
      fields: ['phone'],
    });
    expect(history[1]).toMatchObject({ organisationName: 'Agence Paris 15e', role: 'counselor' });
    expect(history[3]).toMatchObject({ accountId: null, organisationName: null, action: 'person.import' });
    const windowed = await t.db.tx(system, (tx) =>
      personAccessHistory(tx, p1, { from: at(DAY), to: at(DAY * 6), limit: 5 }),
    );
    expect(windowed.map((e) => e.eventId)).toEqual([ids.day1]);
    const newest = await t.db.tx(system, (tx) => personAccessHistory(tx, p1, { limit: 1 }));
    expect(newest.map((e) => e.eventId)).toEqual([ids.last]);
    // a match with no field returned is shown to the person, with no fields
    const matched = await t.db.tx(system, (tx) => personAccessHistory(tx, p2));
    expect(matched.map((e) => [e.eventId, e.fields])).toEqual([
      [ids.last, []],
      [ids.atFrom, []],
    ]);
    await expect(t.db.tx(system, (tx) => personAccessHistory(tx, p1, { limit: 0 }))).rejects.toMatchObject({
      field: 'limit',
    });
  });

  it("a person's history page reads that page, not every access, under the person's own row-level security", async () => {
    // 120 accesses of one person, some at the same instant; a page of 20, read as the person (the
    // portal): the links are read newest first from the index and the reading stops at the page,
    // with no sort of all the person's accesses (at 10,000,000 events, 1,016 links were read and
    // sorted for a page of 100: migration 0031).
    const person = randomUUID();
    const reader = staffOf(orgA, 'counselor'); // not in the other tests' scopes
    for (let i = 0; i < 120; i++) {
      const ctx: AuditCtx = {
        actor: reader,
        sessionRef: null,
        requestId: randomUUID(),
        sourceAddress: null,
        at: at(DAY + Math.floor(i / 2) * 1000),
      };
      await t.db.tx(reader, (tx) =>
        appendAudit(tx, ctx, {
          action: 'person.view',
          purpose: 'accompaniment',
          query: {},
          decision: 'allow',
          resultCount: 1,
          persons: [{ personId: person, fields: ['lastName'] }],
        }),
      );
    }
    const self = { kind: 'person', personId: person } as const;
    const page = await t.db.tx(self, (tx) => personAccessHistory(tx, person, { limit: 20 }));
    const all = await t.db.tx(system, (tx) => personAccessHistory(tx, person, { limit: 1000 }));
    expect(all).toHaveLength(120);
    // newest first, ties broken by the event id, newest first too
    const order = [...all].sort(
      (x, y) => y.at.getTime() - x.at.getTime() || Number(y.eventId) - Number(x.eventId),
    );
    expect(all.map((e) => e.eventId)).toEqual(order.map((e) => e.eventId));
    expect(page.map((e) => e.eventId)).toEqual(order.slice(0, 20).map((e) => e.eventId));
    if (engine === 'citus') return; // the links are read first on a shard (ACCESS_HISTORY_SQL_CITUS)
    const [plan] = await t.db.tx(self, (tx) =>
      tx.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${ACCESS_HISTORY_SQL}`, [
        person,
        '-infinity',
        'infinity',
        20,
      ]),
    );
    const nodes: { 'Node Type': string; 'Index Name'?: string; 'Actual Rows': number }[] = [];
    const walk = (node: Record<string, unknown>): void => {
      nodes.push(node as (typeof nodes)[number]);
      for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) walk(child);
    };
    const json = plan!['QUERY PLAN'];
    walk((typeof json === 'string' ? JSON.parse(json) : json)[0].Plan);
    expect(nodes.map((n) => n['Node Type'])).not.toContain('Sort');
    const links = nodes.find((n) => n['Index Name'] === 'audit_event_persons_person');
    expect(links?.['Actual Rows']).toBeLessThanOrEqual(20);
  });

  it.each([
    ['counselor', false],
    ['partner_counselor', false],
    ['org_manager', false],
    ['helpdesk', false],
    ['security_officer', true],
    ['dpo', true],
  ])('staff with role %s reads who received what: %s (RLS)', async (role, reads) => {
    // A's own organisation: whatever events a role may see of it (its own, its agents'), the person
    // links (who was reached, which fields) stay with security officers and the DPO.
    const actor = staffOf(orgA, role);
    const scope = await t.db.tx(actor, (tx) => breachScope(tx, { accounts: [A.accountId], from, to }));
    const history = await t.db.tx(actor, (tx) => personAccessHistory(tx, p1));
    expect(scope.persons.map((p) => p.personId).sort()).toEqual(reads ? [p1, p3].sort() : []);
    expect(scope.fieldCounts).toEqual(reads ? { birthDate: 1, email: 1, firstNames: 1, lastName: 1 } : {});
    expect(history.length).toBe(reads ? 4 : 0);
    if (reads) expect(scope.events).toBe(2);
  });
});

describe(`rempart audit scope on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;
  const dataDir = (): string => path.join(dir, 'data');
  const open = (): Promise<Db> => openDb({ dataDir: dataDir(), databaseUrl: server?.url });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-scope-'));
    server = await emptyServerDatabase();
    env = cliEnv({ REMPART_DATA: dataDir(), DATABASE_URL: server?.url });
    const db = await open();
    try {
      await given(db);
    } finally {
      await db.close();
    }
  });
  afterAll(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the scope as the JSON contract, and logs its own run', async () => {
    const args = ['audit', 'scope', '--account', A.accountId, '--account', B.accountId];
    const window = ['--from', from.toISOString(), '--to', to.toISOString()];
    const result = await rempart([...args, ...window, '--json'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const scope = lastJsonLine(result.stdout) as {
      persons: { personId: string; fields: string[]; firstAt: string; lastAt: string; events: number }[];
    };
    expect(Object.keys(scope).sort()).toEqual(
      ['accounts', 'events', 'fieldCounts', 'from', 'personCount', 'persons', 'to'].sort(),
    );
    expect(scope).toMatchObject({
      accounts: [A.accountId, B.accountId],
      from: from.toISOString(),
      to: to.toISOString(),
      personCount: 3,
      fieldCounts: { birthDate: 1, email: 1, firstNames: 1, lastName: 2, nir: 1, phone: 1 },
    });
    expect(scope.persons.find((p) => p.personId === p1)).toEqual({
      personId: p1,
      fields: ['birthDate', 'firstNames', 'lastName', 'phone'],
      firstAt: from.toISOString(),
      lastAt: new Date(to.getTime() - 1).toISOString(),
      events: 3,
    });
    const db = await open();
    try {
      // The event, then its links: on Citus one statement cannot join the two (docs/SCALING.md).
      const logged = await db.tx(system, async (tx) => {
        const events = await tx.query<{
          id: string;
          actor_kind: string;
          query: unknown;
          decision: string;
          result_count: number;
        }>(
          `SELECT id::text AS id, actor_kind, query, decision, result_count FROM audit_events e
           WHERE action = 'audit.scope'`,
        );
        const links = await tx.query<{ event_id: string }>(
          'SELECT event_id::text AS event_id FROM audit_event_persons WHERE event_id = ANY($1::bigint[])',
          [events.map((e) => e.id)],
        );
        return events.map(({ id, ...event }) => ({
          ...event,
          links: links.filter((l) => l.event_id === id).length,
        }));
      });
      expect(logged).toEqual([
        {
          actor_kind: 'system',
          query: { accounts: 2, from: from.toISOString(), to: to.toISOString() },
          decision: 'allow',
          result_count: 3,
          links: 0,
        },
      ]);
    } finally {
      await db.close();
    }
  });

  it('prints a summary and where the full list is, without --json', async () => {
    const result = await rempart(
      ['audit', 'scope', '--account', A.accountId, '--from', from.toISOString(), '--to', to.toISOString()],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/persons:\s+2/);
    expect(result.stdout).toMatch(/lastName\s+1\n/);
    expect(result.stdout).toContain(path.join(dataDir(), 'scopes'));
  });

  it('bench scope checks its planted breach and prints its figures as its last line', async () => {
    const result = await rempart(
      ['bench', 'scope', '--events', '50000', '--scope-persons', '500', '--json'],
      env,
    );
    expect(result.code).toBe(0);
    const summary = lastJsonLine(result.stdout);
    expect(summary).toMatchObject({ events: 50_000, scopePersons: 500, scopeEvents: 1050 });
    expect(summary.scopeMs).toMatchObject({ p50: expect.any(Number), max: expect.any(Number) });
    expect(summary.historyMs).toMatchObject({ p50: expect.any(Number), max: expect.any(Number) });
    expect(summary.fillSeconds).toBeGreaterThan(0);
  });

  it('bench verify sequences a log of real events, verifies all of it, and prints its figures as its last line', async () => {
    const result = await rempart(
      ['bench', 'verify', '--events', '5000', '--chunk', '1000', '--rounds', '1', '--json'],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = lastJsonLine(result.stdout);
    expect(summary).toMatchObject({ bench: 'verify', events: 5000, chunk: 1000 });
    // A checkpoint at its end at least; every verification accepted the 5,000 events (or it exits 1).
    expect(summary.checkpoints).toBeGreaterThanOrEqual(1);
    expect(summary.verifiedPerSecond).toBeGreaterThan(0);
    expect(summary.inTurnPerSecond).toBeGreaterThan(0);
    expect(summary.bytesPerEvent).toBeGreaterThan(100);
  });

  it.each([
    [
      ['--from', 'yesterday', '--to', '2026-03-08T00:00:00Z'],
      "option '--from <date-time>' argument 'yesterday' is invalid",
    ],
    [['--from', '2026-02-30T00:00:00Z', '--to', '2026-03-08T00:00:00Z'], "option '--from <date-time>'"],
    [['--from', '2026-03-01T00:00:00', '--to', '2026-03-08T00:00:00Z'], "option '--from <date-time>'"],
    [['--from', '2026-03-01T00:00:00Z', '--to', '2026-03-08'], "option '--to <date-time>'"],
  ])('names the bad option: %j', async (window, message) => {
    const result = await rempart(['audit', 'scope', '--account', A.accountId, ...window, '--json'], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('ISO-8601');
  });
});
