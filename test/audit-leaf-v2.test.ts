/**
 * Audit leaves of format v2 (src/audit/leaf.ts, migration 0021): events written before the salt
 * keep their v1 leaves and still verify; `audit verify` recomputes a v2 leaf from the stored rows
 * and the salt, so a changed private field, another person's changed fields, a removed person link
 * or a changed salt is named; the portal's history proves v2 entries and shows v1 ones unproven
 * rather than with their clear text.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditCtx, appendAudit } from '../src/audit/append.ts';
import { type NoteSigner, newEd25519Signer } from '../src/audit/checkpoint.ts';
import {
  canonicalEventV1,
  canonicalEventV2,
  LEAF_FORMAT_V1,
  LEAF_FORMAT_V2,
  loadEvents,
  personSalt,
} from '../src/audit/leaf.ts';
import { leafHash } from '../src/audit/merkle.ts';
import { sequenceBatch, signCheckpointNow } from '../src/audit/sequencer.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import type { Actor } from '../src/context.ts';
import { myHistory } from '../src/portal/history.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';

const system: Actor = { kind: 'system', operation: 'test' };
const staff = {
  kind: 'staff',
  accountId: randomUUID(),
  organisationId: randomUUID(),
  role: 'counselor',
} as const;
const [me, other, third] = [randomUUID(), randomUUID(), randomUUID()];
const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const ctx = (i: number): AuditCtx => ({
  actor: staff,
  sessionRef: 'feedfacecafebeef',
  requestId: `req-${i}`,
  sourceAddress: '198.51.100.23',
  at: new Date(T0 + i * 60_000),
});

/** The append of v1 (before migration 0021): event, links and queue, no salt. */
async function appendV1(t: TestDb, i: number): Promise<string> {
  const c = ctx(i);
  const [row] = await t.db.tx(staff, (tx) =>
    tx.query<{ id: string }>(
      `WITH n AS (SELECT nextval('audit_events_id_seq') AS id),
       e AS (INSERT INTO audit_events (id, occurred_at, actor_kind, account_id, organisation_id, role, session_ref,
               request_id, source_address, purpose, action, query, justification, decision, reason, result_count)
             SELECT n.id, $1, 'staff', $2, $3, 'counselor', $4, $5, $6, 'accompaniment', 'person.search',
               '{"by":"nameBirth"}', 'Rendez-vous du mardi', 'allow', NULL, 2 FROM n),
       l AS (INSERT INTO audit_event_persons (event_id, person_id, fields, account_id, organisation_id, occurred_at)
             SELECT n.id, p, ARRAY['lastName'], $2, $3, $1 FROM n, unnest($7::uuid[]) AS p),
       q AS (INSERT INTO audit_pending (event_id) SELECT n.id FROM n)
       SELECT id::text AS id FROM n`,
      [c.at, staff.accountId, staff.organisationId, c.sessionRef, c.requestId, c.sourceAddress, [me, other]],
    ),
  );
  return row!.id;
}

/** A v2 search that returned `me`, `other` and `third`. */
const appendV2 = (t: TestDb, i: number): Promise<string> =>
  t.db.tx(staff, (tx) =>
    appendAudit(tx, ctx(i), {
      action: 'person.search',
      purpose: 'accompaniment',
      query: { by: 'nameBirth' },
      justification: 'Rendez-vous du mardi',
      decision: 'allow',
      resultCount: 3,
      persons: [
        { personId: me, fields: ['lastName', 'nir'] },
        { personId: other, fields: ['email'] },
        { personId: third, fields: ['phone'] },
      ],
    }),
  );

describe(`audit leaves v1 and v2 (${engine})`, () => {
  let t: TestDb;
  let signer: NoteSigner;
  let v1: string;
  let v2: string[];
  const seq = { signer: undefined as unknown as NoteSigner, checkpointEvents: 100, checkpointSeconds: 3600 };
  const verify = () => verifyAudit(t.db, { verifierKey: signer.verifierKey, chunkSize: 16 });

  beforeAll(async () => {
    t = await freshDb();
    signer = newEd25519Signer(`rempart/audit/${randomBytes(4).toString('hex')}`);
    seq.signer = signer;
    v1 = await appendV1(t, 0);
    v2 = [];
    for (let i = 1; i <= 5; i++) v2.push(await appendV2(t, i));
    while ((await sequenceBatch(t.db, seq)).sequenced > 0);
    await signCheckpointNow(t.db, seq);
  });
  afterAll(async () => t?.close());

  it('keeps a v1 event’s v1 leaf and gives new events v2 leaves; both verify', async () => {
    const { events } = await t.db.tx(system, (tx) => loadEvents(tx, [v1, v2[0]!]));
    const [old, next] = events;
    expect(old!.salt).toBeNull();
    expect(next!.salt).toHaveLength(32);
    // The one-shot HMAC of leaf.ts is RFC 2104's.
    expect(personSalt(next!.salt!, me)).toEqual(createHmac('sha256', next!.salt!).update(me).digest());
    const leaves = await t.driver.transaction((tx) =>
      tx.query<{ event_id: string; hash: Uint8Array }>(
        'SELECT event_id::text AS event_id, hash FROM audit_leaves WHERE event_id = ANY($1::bigint[]) ORDER BY seq',
        [[v1, v2[0]]],
      ),
    );
    expect(Buffer.from(leaves[0]!.hash)).toEqual(leafHash(canonicalEventV1(old!)));
    expect(Buffer.from(leaves[1]!.hash)).toEqual(leafHash(canonicalEventV2(next!, next!.salt!)));
    expect(JSON.parse(canonicalEventV1(old!).toString())[0]).toBe(LEAF_FORMAT_V1);
    // The v2 form holds nothing of the private part or of the persons in clear.
    const text = canonicalEventV2(next!, next!.salt!).toString();
    expect(JSON.parse(text)[0]).toBe(LEAF_FORMAT_V2);
    for (const secret of [staff.accountId, 'feedface', 'req-1', '198.51.100.23', 'mardi', me, other, 'nir'])
      expect(text).not.toContain(secret);
    expect(await verify()).toMatchObject({ ok: true, events: 6, leaves: 6 });
  });

  it('proves v2 entries in the history and shows a v1 entry without proof or clear text', async () => {
    const history = await myHistory(
      t.db,
      me,
      { sessionRef: null, requestId: 'portal', sourceAddress: null, at: new Date(T0 + 3_600_000) },
      { verifierKey: signer.verifierKey, showStaffNames: false },
    );
    const old = history.entries.find((e) => e.eventId === v1)!;
    expect(old).toMatchObject({ leafFormat: LEAF_FORMAT_V1, proof: null, personSalt: null, commitments: [] });
    const next = history.entries.find((e) => e.eventId === v2[0])!;
    expect(next).toMatchObject({ leafFormat: LEAF_FORMAT_V2, fields: ['lastName', 'nir'] });
    expect(next.proof).not.toBeNull();
    expect(next.commitments).toHaveLength(3);
    const body = JSON.stringify(history);
    for (const secret of [staff.accountId, 'feedface', 'req-', '198.51.100.23', 'mardi', other, third])
      expect(body).not.toContain(secret);
  });

  it('names a v2 event whose private field, other person’s fields, person link or salt was changed', async () => {
    const [privateField, otherFields, removedLink, salt] = v2 as [string, string, string, string];
    await t.driver.transaction(async (tx) => {
      // A rogue database administrator: the append-only triggers off.
      await tx.query('SET LOCAL session_replication_role = replica');
      await tx.query(`UPDATE audit_events SET source_address = '203.0.113.9' WHERE id = $1`, [privateField]);
      await tx.query(
        `UPDATE audit_event_persons SET fields = '{email,nir}' WHERE event_id = $1 AND person_id = $2`,
        [otherFields, other],
      );
      await tx.query('DELETE FROM audit_event_persons WHERE event_id = $1 AND person_id = $2', [
        removedLink,
        third,
      ]);
      await tx.query('UPDATE audit_event_salts SET salt = $2 WHERE event_id = $1', [salt, randomBytes(32)]);
    });
    const report = await verify();
    expect(report.ok).toBe(false);
    const altered = report.problems.filter((p) => p.kind === 'altered').map((p) => p.eventId);
    expect(altered.sort()).toEqual([privateField, otherFields, removedLink, salt].sort());
  });
});
