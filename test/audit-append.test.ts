/** Appending to the audit log: one statement, fail closed, in the actor's own name, append-only. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditCtx, appendAudit } from '../src/audit/append.ts';
import { canonicalEvent, eventLeafHash, loadEvents } from '../src/audit/leaf.ts';
import type { Actor } from '../src/context.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';

const staff: Actor = {
  kind: 'staff',
  accountId: randomUUID(),
  organisationId: randomUUID(),
  role: 'counselor',
};
const ctxOf = (actor: Actor): AuditCtx => ({
  actor,
  sessionRef: 'a1b2c3d4e5f60718',
  requestId: randomUUID(),
  sourceAddress: '127.0.0.1',
  at: new Date('2026-11-23T10:00:00.123Z'),
});

describe(`audit append (${engine})`, () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await freshDb();
  });
  afterAll(async () => {
    await t.close();
  });

  it('writes the event, one link per person with its fields, and queues it for the sequencer', async () => {
    const p1 = randomUUID();
    const p2 = randomUUID();
    const id = await t.db.tx(staff, (tx) =>
      appendAudit(tx, ctxOf(staff), {
        action: 'person.search',
        purpose: 'accompaniment',
        query: { by: 'nir', cap: 10 },
        decision: 'allow',
        resultCount: 2,
        persons: [
          { personId: p1, fields: ['lastName', 'firstNames'] },
          { personId: p2, fields: [] },
        ],
      }),
    );
    const { events, mismatches } = await t.db.tx({ kind: 'system', operation: 'test' }, (tx) =>
      loadEvents(tx, [id]),
    );
    expect(mismatches).toEqual([]);
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.occurredAt.toISOString()).toBe('2026-11-23T10:00:00.123Z');
    expect(event.accountId).toBe(staff.kind === 'staff' ? staff.accountId : null);
    expect(event.query).toEqual({ by: 'nir', cap: 10 });
    expect(event.persons.sort((a, b) => a.personId.localeCompare(b.personId))).toEqual(
      [
        { personId: p1, fields: ['lastName', 'firstNames'] },
        { personId: p2, fields: [] },
      ].sort((a, b) => a.personId.localeCompare(b.personId)),
    );
    const pending = await t.driver.transaction((tx) =>
      tx.query<{ event_id: string }>('SELECT event_id::text FROM audit_pending'),
    );
    expect(pending.map((r) => r.event_id)).toContain(id);
    // The leaf covers the links: one field more is another leaf.
    const changed = { ...event, persons: [{ personId: p1, fields: ['lastName', 'firstNames', 'nir'] }] };
    expect(eventLeafHash(changed).equals(eventLeafHash(event))).toBe(false);
    expect(canonicalEvent(event).toString()).not.toMatch(/undefined/);
  });

  it("a staff transaction cannot write an event in another account's name", async () => {
    const other: Actor = { ...staff, accountId: randomUUID() } as Actor;
    await expect(
      t.db.tx(staff, (tx) =>
        appendAudit(tx, ctxOf(other), {
          action: 'person.view',
          purpose: 'accompaniment',
          query: {},
          decision: 'allow',
          resultCount: 0,
          persons: [],
        }),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it.each([
    ['UPDATE audit_events SET decision = $$deny$$'],
    ['DELETE FROM audit_events'],
    ['TRUNCATE audit_events'],
    ['DELETE FROM audit_event_persons'],
    ['SELECT * FROM audit_pending'],
    ['DELETE FROM audit_pending'],
    ['INSERT INTO audit_leaves (seq, event_id, hash, sequenced_at) VALUES (0, 1, $$\\x00$$, now())'],
  ])('the application role cannot run: %s', async (sql) => {
    await expect(t.db.tx({ kind: 'system', operation: 'test' }, (tx) => tx.query(sql))).rejects.toThrow(
      /permission denied|append-only/,
    );
  });

  it.each([
    ['UPDATE audit_events SET decision = $$deny$$'],
    ['DELETE FROM audit_event_persons'],
    ['TRUNCATE audit_events'],
  ])('even the owner is refused by the trigger: %s', async (sql) => {
    await expect(t.driver.transaction((tx) => tx.query(sql))).rejects.toThrow(/append-only/);
  });

  it('refuses a query shape that carries an identifier value', async () => {
    await expect(
      t.db.tx(staff, (tx) =>
        appendAudit(tx, ctxOf(staff), {
          action: 'person.search',
          purpose: 'accompaniment',
          query: { by: '185057512345642' },
          decision: 'allow',
          resultCount: 0,
          persons: [],
        }),
      ),
    ).rejects.toMatchObject({ code: 'internal' });
  });
});
