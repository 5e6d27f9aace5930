/**
 * The audit log as a transparency log (docs/DESIGN.md section 7): the sequencer folds events into an
 * RFC 6962 tree and signs checkpoints; proofs come from the stored subtrees; `verifyAudit` names
 * the first event that does not match after a database administrator tampers with the log.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditCtx, appendAudit } from '../src/audit/append.ts';
import {
  formatCheckpoint,
  type NoteSigner,
  newEd25519Signer,
  openNote,
  parseCheckpoint,
  signNote,
} from '../src/audit/checkpoint.ts';
import { canonicalEvent, eventLeafHash, loadEvents } from '../src/audit/leaf.ts';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../src/audit/merkle.ts';
import {
  consistencyProofFor,
  inclusionProofFor,
  inclusionProofsFor,
  latestCheckpoint,
} from '../src/audit/proofs.ts';
import {
  SEQUENCER_LOCK,
  type SequencerOptions,
  sequenceBatch,
  signCheckpointNow,
  startSequencer,
} from '../src/audit/sequencer.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import type { Actor, Clock } from '../src/context.ts';
import type { Db } from '../src/db/types.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';

const system: Actor = { kind: 'system', operation: 'test' };
const staffActors: Actor[] = [0, 1, 2].map(() => ({
  kind: 'staff',
  accountId: randomUUID(),
  organisationId: randomUUID(),
  role: 'counselor',
}));
const T0 = Date.parse('2026-03-02T09:00:00.000Z');

/** A clock the test moves by hand. */
function manualClock(start = T0): Clock & { advance(ms: number): void } {
  let now = start;
  return { now: () => new Date(now), advance: (ms) => (now += ms) };
}

let counter = 0;
/** Appends one event in its own transaction, as the gate would; returns its id. */
async function appendOne(db: Db, i = counter++): Promise<string> {
  const actor = i % 4 === 3 ? system : staffActors[i % 3]!;
  const ctx: AuditCtx = {
    actor,
    sessionRef: actor.kind === 'staff' ? randomBytes(8).toString('hex') : null,
    requestId: randomUUID(),
    sourceAddress: '127.0.0.1',
    at: new Date(T0 + i * 60_000),
  };
  return db.tx(actor, (tx) =>
    appendAudit(tx, ctx, {
      action: 'person.search',
      purpose: 'accompaniment',
      query: { by: 'name_birth', cap: 10 + (i % 7) },
      decision: 'allow',
      resultCount: i % 3,
      persons: Array.from({ length: i % 3 }, (_, k) => ({
        personId: randomUUID(),
        fields: k === 0 ? ['lastName', 'firstNames'] : ['email'],
      })),
    }),
  );
}

async function appendMany(db: Db, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; k < n; k += 1) ids.push(await appendOne(db));
  return ids;
}

interface Leaf {
  seq: number;
  eventId: string;
  hash: Buffer;
}

/** The stored leaves in order, read as the DBA would. */
async function leavesOf(t: TestDb): Promise<Leaf[]> {
  const rows = await t.driver.transaction((tx) =>
    tx.query<{ seq: string; event_id: string; hash: Uint8Array }>(
      'SELECT seq, event_id::text AS event_id, hash FROM audit_leaves ORDER BY seq',
    ),
  );
  return rows.map((r) => ({ seq: Number(r.seq), eventId: r.event_id, hash: Buffer.from(r.hash) }));
}

/** Runs statements with the append-only triggers off, as a superuser can (T: a rogue DBA). */
async function tamper(t: TestDb, ...statements: [string, unknown[]?][]): Promise<void> {
  await t.driver.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    for (const [sql, params] of statements) await tx.query(sql, params ?? []);
  });
}

function options(signer: NoteSigner, clock: Clock, extra: Partial<SequencerOptions> = {}): SequencerOptions {
  return { signer, clock, checkpointEvents: 5, checkpointSeconds: 3600, ...extra };
}

/** Sequences until nothing is pending. */
async function drain(db: Db, opts: SequencerOptions): Promise<void> {
  for (;;) {
    const r = await sequenceBatch(db, opts);
    if (r.sequenced === 0 && !r.busy) return;
  }
}

describe(`audit log sequencing and proofs (${engine})`, () => {
  let t: TestDb;
  let signer: NoteSigner;
  beforeEach(async () => {
    t = await freshDb();
    signer = newEd25519Signer(`rempart/audit/${randomBytes(4).toString('hex')}`);
  });
  afterEach(async () => {
    await t.close();
  });

  it('events appended concurrently, with two sequencers running, make one tree: every event once, root = rootOf(leaves)', async () => {
    const clock = manualClock();
    const a = startSequencer(t.db, { ...options(signer, clock), sequenceMs: 10, maxBatch: 7 });
    const b = startSequencer(t.db, { ...options(signer, clock), sequenceMs: 10, maxBatch: 5 });
    const ids = await Promise.all(Array.from({ length: 60 }, () => appendOne(t.db)));
    await a.flush();
    await b.flush();
    await a.stop();
    await b.stop();

    const leaves = await leavesOf(t);
    expect(leaves.map((l) => l.seq)).toEqual(leaves.map((_, i) => i));
    expect(leaves.map((l) => l.eventId).sort()).toEqual([...ids].sort());
    const { events } = await t.db.tx(system, (tx) => loadEvents(tx, ids));
    const byId = new Map(events.map((e) => [e.id, eventLeafHash(e)]));
    for (const leaf of leaves) expect(leaf.hash.equals(byId.get(leaf.eventId)!)).toBe(true);
    const pending = await t.driver.transaction((tx) => tx.query('SELECT 1 FROM audit_pending'));
    expect(pending).toHaveLength(0);

    // Every complete subtree is stored, with the hash of its leaves.
    const nodes = await t.driver.transaction((tx) =>
      tx.query<{ level: number; idx: string; hash: Uint8Array }>('SELECT level, idx, hash FROM audit_nodes'),
    );
    expect(nodes).toHaveLength(30 + 15 + 7 + 3 + 1);
    for (const n of nodes) {
      const width = 2 ** n.level;
      const start = Number(n.idx) * width;
      expect(Buffer.from(n.hash).equals(rootOf(leaves.slice(start, start + width).map((l) => l.hash)))).toBe(
        true,
      );
    }
    // A sequencer's last batch may already have signed this size (then there is nothing new to
    // sign): either way, the newest checkpoint covers every leaf.
    await signCheckpointNow(t.db, options(signer, clock));
    const cp = await t.db.tx(system, (tx) => latestCheckpoint(tx));
    expect(cp?.treeSize).toBe(60);
    expect(parseCheckpoint(openNote(cp!.note, [signer.verifierKey]).body).rootHash).toEqual(
      rootOf(leaves.map((l) => l.hash)),
    );
    expect((await verifyAudit(t.db, { verifierKey: signer.verifierKey, clock })).ok).toBe(true);
  });

  it('an event committed after a later id was sequenced gets the next leaf, not its id order', async () => {
    const clock = manualClock();
    const before = await appendMany(t.db, 3);
    // The next id is taken by a transaction that has not committed yet ...
    const [{ id: reserved }] = (await t.driver.transaction((tx) =>
      tx.query<{ id: string }>(`SELECT nextval('audit_events_id_seq')::text AS id`),
    )) as [{ id: string }];
    const later = await appendOne(t.db);
    await drain(t.db, options(signer, clock));
    // ... which commits now, with the lower id.
    await t.driver.transaction((tx) =>
      tx.query(`SELECT setval('audit_events_id_seq', $1::bigint - 1)`, [reserved]),
    );
    const late = await appendOne(t.db);
    expect(late).toBe(reserved);
    await drain(t.db, options(signer, clock));
    const leaves = await leavesOf(t);
    expect(leaves.map((l) => l.eventId)).toEqual([...before, later, late]);
    await signCheckpointNow(t.db, options(signer, clock));
    const cp = await t.db.tx(system, latestCheckpoint);
    expect(cp!.rootHash).toBe(rootOf(leaves.map((l) => l.hash)).toString('hex'));
    expect((await verifyAudit(t.db, { verifierKey: signer.verifierKey, clock })).ok).toBe(true);
  });

  it.runIf(engine !== 'pglite')(
    'two transactions committing out of id order, really interleaved, are both sequenced once',
    async () => {
      const clock = manualClock();
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let firstId = '';
      const slow = t.db.tx(system, async (tx) => {
        firstId = await appendAudit(
          tx,
          { actor: system, sessionRef: null, requestId: randomUUID(), sourceAddress: null, at: new Date(T0) },
          { action: 'person.view', purpose: null, query: {}, decision: 'allow', resultCount: 0, persons: [] },
        );
        await gate;
      });
      while (firstId === '') await new Promise((r) => setTimeout(r, 5));
      const fast = await appendOne(t.db);
      expect(BigInt(fast)).toBeGreaterThan(BigInt(firstId));
      await drain(t.db, options(signer, clock));
      release();
      await slow;
      await drain(t.db, options(signer, clock));
      expect((await leavesOf(t)).map((l) => l.eventId).slice(-2)).toEqual([fast, firstId]);
      expect((await verifyAudit(t.db, { verifierKey: signer.verifierKey, clock })).ok).toBe(true);
    },
  );

  it.runIf(engine !== 'pglite')(
    'while another process holds the sequencer lock, a batch does nothing, and flush waits for it',
    async () => {
      const clock = manualClock();
      await appendMany(t.db, 3);
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked = false;
      const holder = t.driver.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SEQUENCER_LOCK]);
        locked = true;
        await gate;
      });
      while (!locked) await new Promise((r) => setTimeout(r, 5));
      expect(await sequenceBatch(t.db, options(signer, clock))).toEqual({
        sequenced: 0,
        treeSize: 0,
        busy: true,
      });
      const sequencer = startSequencer(t.db, { ...options(signer, clock), sequenceMs: 1000 });
      const flushing = sequencer.flush();
      await new Promise((r) => setTimeout(r, 200));
      release();
      await holder;
      expect(await flushing).toEqual({ sequenced: 3, treeSize: 3 });
      await sequencer.stop();
    },
  );

  it('signs a checkpoint every N events, or when the last is older than the interval, and appends it to the file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'rempart-audit-'));
    try {
      const file = path.join(dir, 'checkpoints.txt');
      const clock = manualClock();
      const opts = options(signer, clock, {
        checkpointEvents: 5,
        checkpointSeconds: 60,
        maxBatch: 5,
        checkpointFile: file,
      });
      await appendMany(t.db, 12);
      const results = [];
      for (let k = 0; k < 3; k += 1) results.push(await sequenceBatch(t.db, opts));
      expect(results.map((r) => [r.sequenced, r.checkpoint?.treeSize])).toEqual([
        [5, 5],
        [5, 10],
        [2, undefined],
      ]);
      // Nothing new, but the last checkpoint is a minute old and 2 leaves came since.
      clock.advance(59_000);
      expect((await sequenceBatch(t.db, opts)).checkpoint).toBeUndefined();
      clock.advance(1_000);
      expect((await sequenceBatch(t.db, opts)).checkpoint?.treeSize).toBe(12);
      clock.advance(120_000);
      expect((await sequenceBatch(t.db, opts)).checkpoint).toBeUndefined(); // no new leaf: no new checkpoint

      const leaves = (await leavesOf(t)).map((l) => l.hash);
      const rows = await t.driver.transaction((tx) =>
        tx.query<{ tree_size: string; root_hash: Uint8Array; signed_at: Date; note: string }>(
          'SELECT tree_size, root_hash, signed_at, note FROM audit_checkpoints ORDER BY tree_size',
        ),
      );
      expect(rows.map((r) => Number(r.tree_size))).toEqual([5, 10, 12]);
      for (const row of rows) {
        const body = parseCheckpoint(openNote(row.note, [signer.verifierKey]).body);
        expect(body.origin).toBe(signer.name);
        expect(body.rootHash.equals(rootOf(leaves.slice(0, body.size)))).toBe(true);
        expect(Buffer.from(row.root_hash).equals(body.rootHash)).toBe(true);
      }
      expect(rows[2]!.signed_at.getTime()).toBe(T0 + 60_000);
      const text = await readFile(file, 'utf8');
      expect(text).toBe(rows.map((r) => `${r.note}\n`).join(''));
      expect((await stat(file)).mode & 0o777).toBe(0o644);
      const report = await verifyAudit(t.db, {
        verifierKey: signer.verifierKey,
        checkpointFile: file,
        clock,
      });
      expect(report).toMatchObject({
        ok: true,
        events: 12,
        leaves: 12,
        checkpoints: 3,
        publishedCheckpoints: 3,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an inclusion proof for a real event verifies against the signed root; for a forged event it does not', async () => {
    const clock = manualClock();
    const ids = await appendMany(t.db, 23);
    await drain(t.db, options(signer, clock, { checkpointEvents: 1000 }));
    const cp = await signCheckpointNow(t.db, options(signer, clock));
    const { rootHash, size } = parseCheckpoint(openNote(cp!.note, [signer.verifierKey]).body);
    expect(size).toBe(23);

    const target = ids[9]!;
    const proof = await t.db.tx(system, (tx) => inclusionProofFor(tx, target));
    expect(proof).toMatchObject({ eventId: target, leafIndex: 9, treeSize: 23 });
    const [event] = (await t.db.tx(system, (tx) => loadEvents(tx, [target]))).events;
    const leaf = leafHash(canonicalEvent(event!));
    expect(proof.leafHash).toBe(leaf.toString('hex'));
    const path_ = proof.proof.map((h) => Buffer.from(h, 'hex'));
    expect(verifyInclusion(leaf, 9, 23, path_, rootHash)).toBe(true);

    // A forged event: the same event claiming one more person seen, or another decision.
    const forged = [
      { ...event!, resultCount: event!.resultCount + 1 },
      { ...event!, decision: 'deny' as const },
      { ...event!, persons: [...event!.persons, { personId: randomUUID(), fields: ['nir'] }] },
    ];
    for (const f of forged) expect(verifyInclusion(eventLeafHash(f), 9, 23, path_, rootHash)).toBe(false);
    // An event never appended has no leaf to prove.
    await expect(t.db.tx(system, (tx) => inclusionProofFor(tx, '999999'))).rejects.toMatchObject({
      code: 'not_found',
    });
    // Not yet under a checkpoint: no proof against the signed root.
    const fresh = await appendOne(t.db);
    await drain(t.db, options(signer, clock, { checkpointEvents: 1000 }));
    await expect(t.db.tx(system, (tx) => inclusionProofFor(tx, fresh))).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('a consistency proof between two checkpoints verifies, and fails against another root', async () => {
    const clock = manualClock();
    await appendMany(t.db, 13);
    await drain(t.db, options(signer, clock, { checkpointEvents: 1000 }));
    const first = parseCheckpoint(
      openNote((await signCheckpointNow(t.db, options(signer, clock)))!.note, [signer.verifierKey]).body,
    );
    await appendMany(t.db, 21);
    await drain(t.db, options(signer, clock, { checkpointEvents: 1000 }));
    const second = parseCheckpoint(
      openNote((await signCheckpointNow(t.db, options(signer, clock)))!.note, [signer.verifierKey]).body,
    );
    expect([first.size, second.size]).toEqual([13, 34]);
    const proof = (await t.db.tx(system, (tx) => consistencyProofFor(tx, 13, 34))).map((h) =>
      Buffer.from(h, 'hex'),
    );
    expect(verifyConsistency(13, 34, first.rootHash, second.rootHash, proof)).toBe(true);
    expect(verifyConsistency(13, 34, randomBytes(32), second.rootHash, proof)).toBe(false);
    expect(verifyConsistency(13, 34, first.rootHash, randomBytes(32), proof)).toBe(false);
    await expect(t.db.tx(system, (tx) => consistencyProofFor(tx, 13, 35))).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('proofs read from the stored subtrees equal merkle.ts array-based proofs, sizes 1 to 70', async () => {
    const clock = manualClock();
    await appendMany(t.db, 70);
    // Uneven batches, so the right edge is rebuilt from the database at many sizes.
    for (let batch = 1; ; batch = (batch % 6) + 1) {
      const r = await sequenceBatch(
        t.db,
        options(signer, clock, { maxBatch: batch, checkpointEvents: 1000 }),
      );
      if (r.sequenced === 0) break;
    }
    const leaves = await leavesOf(t);
    const hashes = leaves.map((l) => l.hash);
    const hex = (bs: Buffer[]): string[] => bs.map((b) => b.toString('hex'));
    await t.db.tx(system, async (tx) => {
      for (let size = 1; size <= 70; size += 1) {
        const indexes = new Set([0, size - 1, size >> 1, Math.floor(size / 3), (size * 13 + 5) % size]);
        for (const index of indexes) {
          const p = await inclusionProofFor(tx, leaves[index]!.eventId, size);
          expect(p.leafIndex).toBe(index);
          expect(p.proof).toEqual(hex(inclusionProof(hashes, index, size)));
        }
        // Every leaf's proof at once (a history page), leaves past the size left out.
        const batch = await inclusionProofsFor(
          tx,
          leaves.slice(0, Math.min(70, size + 3)).map((l) => l.eventId),
          size,
        );
        expect(batch.size).toBe(size);
        for (let index = 0; index < size; index++) {
          const p = batch.get(leaves[index]!.eventId)!;
          expect(p.leafIndex).toBe(index);
          expect(p.proof).toEqual(hex(inclusionProof(hashes, index, size)));
        }
        const olds =
          size <= 20 || size % 9 === 0
            ? Array.from({ length: size + 1 }, (_, m) => m)
            : [0, 1, size >> 1, size - 1, size];
        for (const old of olds) {
          expect(await consistencyProofFor(tx, old, size)).toEqual(hex(consistencyProof(hashes, old, size)));
        }
      }
    });
  });
});

describe(`audit verify names what a database administrator changed (${engine})`, () => {
  let t: TestDb;
  let signer: NoteSigner;
  let dir: string;
  let file: string;
  let ids: string[];
  let clock: ReturnType<typeof manualClock>;
  const verify = (
    extra: { verifierKey?: string; checkpointFile?: string | undefined; from?: Date; to?: Date } = {},
  ) =>
    verifyAudit(t.db, {
      verifierKey: signer.verifierKey,
      checkpointFile: file,
      clock,
      chunkSize: 16,
      ...extra,
    });
  const problemKinds = async (extra = {}) => new Set((await verify(extra)).problems.map((p) => p.kind));

  beforeEach(async () => {
    counter = 0; // event i occurred at T0 + i minutes
    t = await freshDb();
    signer = newEd25519Signer(`rempart/audit/${randomBytes(4).toString('hex')}`);
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-audit-'));
    file = path.join(dir, 'checkpoints.txt');
    clock = manualClock(T0 + 86_400_000);
    ids = await appendMany(t.db, 40);
    await drain(t.db, options(signer, clock, { checkpointEvents: 10, maxBatch: 10, checkpointFile: file }));
    const untouched = await verify();
    expect(untouched).toMatchObject({
      ok: true,
      events: 40,
      leaves: 40,
      checkpoints: 4,
      publishedCheckpoints: 4,
    });
  });
  afterEach(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an altered field of an old event: named, with its position', async () => {
    await tamper(t, ['UPDATE audit_events SET result_count = result_count + 1000 WHERE id = $1', [ids[6]]]);
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.firstMismatch).toEqual({ eventId: ids[6], seq: 6, reason: 'altered' });
    // Rebuilt from the events, the tree no longer has the signed roots.
    expect(report.problems.filter((p) => p.kind === 'checkpoint').map((p) => p.treeSize)).toEqual([
      10, 20, 30, 40,
    ]);
    expect(report.problems.filter((p) => p.kind === 'published')).toHaveLength(4);
  });

  it.runIf(engine !== 'pglite')(
    'worker threads, each reading its chunks over its own connection, find the same problems in the same order',
    async () => {
      const inWorkers = (extra: { from?: Date; to?: Date } = {}) =>
        verifyAudit(t.db, {
          verifierKey: signer.verifierKey,
          checkpointFile: file,
          clock,
          chunkSize: 7,
          workers: 2,
          databaseUrl: t.url!,
          ...extra,
        });
      expect(await inWorkers()).toMatchObject({ ok: true, events: 40, leaves: 40, checkpoints: 4 });
      await tamper(
        t,
        ['UPDATE audit_events SET result_count = result_count + 1000 WHERE id = $1', [ids[6]]],
        ['DELETE FROM audit_events WHERE id = $1', [ids[17]]],
        ["UPDATE audit_event_persons SET fields = '{nir}' WHERE event_id = $1", [ids[25]]],
        ['UPDATE audit_nodes SET hash = sha256(hash) WHERE level = 2 AND idx = 8', []],
      );
      const here = await verify();
      const there = await inWorkers();
      expect(here.ok).toBe(false);
      expect(there.problems).toEqual(here.problems);
      expect(there.firstMismatch).toEqual({ eventId: ids[6], seq: 6, reason: 'altered' });
      const window = { from: new Date(T0 + 20 * 60_000), to: new Date(T0 + 30 * 60_000) };
      expect((await inWorkers(window)).problems).toEqual((await verify(window)).problems);
    },
  );

  it('a deleted event: named by the leaf that still holds it', async () => {
    await tamper(t, ['DELETE FROM audit_events WHERE id = $1', [ids[17]]]);
    const report = await verify();
    expect(report.firstMismatch).toEqual({ eventId: ids[17], seq: 17, reason: 'deleted' });
  });

  it('a deleted event and its leaf: the missing position, the leaves and the checkpoints tell', async () => {
    await tamper(
      t,
      ['DELETE FROM audit_event_persons WHERE event_id = $1', [ids[17]]],
      ['DELETE FROM audit_events WHERE id = $1', [ids[17]]],
      ['DELETE FROM audit_leaves WHERE event_id = $1', [ids[17]]],
    );
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'missing_leaf', seq: 17 });
    expect(report.problems.some((p) => p.kind === 'checkpoint' && p.treeSize === 20)).toBe(true);
  });

  it('an inserted event with no leaf: named', async () => {
    const [row] = await t.driver.transaction(async (tx) =>
      tx.query<{ id: string }>(
        `INSERT INTO audit_events (occurred_at, actor_kind, request_id, action, decision, result_count)
         VALUES ($1, 'system', 'forged', 'person.view', 'allow', 0) RETURNING id::text AS id`,
        [new Date(T0)],
      ),
    );
    const report = await verify();
    expect(report.firstMismatch).toEqual({ eventId: row!.id, seq: null, reason: 'inserted' });
  });

  it('an inserted event with a leaf written by hand: named, at its position', async () => {
    const [row] = await t.driver.transaction(async (tx) =>
      tx.query<{ id: string }>(
        `WITH e AS (INSERT INTO audit_events (occurred_at, actor_kind, request_id, action, decision, result_count)
           VALUES ($1, 'system', 'forged', 'person.view', 'allow', 0) RETURNING id)
         INSERT INTO audit_leaves (seq, event_id, hash, sequenced_at) SELECT 40, id, $2, now() FROM e
         RETURNING event_id::text AS id`,
        [new Date(T0), randomBytes(32)],
      ),
    );
    const report = await verify();
    expect(report.firstMismatch).toEqual({ eventId: row!.id, seq: 40, reason: 'altered' });
  });

  it('two events reordered (their leaves swapped): named', async () => {
    await tamper(
      t,
      ['UPDATE audit_leaves SET event_id = -1 WHERE seq = 3'],
      ['UPDATE audit_leaves SET event_id = $1 WHERE seq = 12', [ids[3]]],
      ['UPDATE audit_leaves SET event_id = $1 WHERE seq = 3', [ids[12]]],
    );
    const report = await verify();
    expect(report.firstMismatch).toEqual({ eventId: ids[12], seq: 3, reason: 'reordered' });
    expect(report.problems.filter((p) => p.kind === 'reordered').map((p) => p.eventId)).toEqual([
      ids[12],
      ids[3],
    ]);
  });

  it("a link row's fields or account altered: the event is named", async () => {
    const [link] = await t.driver.transaction((tx) =>
      tx.query<{ event_id: string }>(
        `SELECT event_id::text AS event_id FROM audit_event_persons WHERE event_id = ANY($1::bigint[]) ORDER BY event_id LIMIT 1 OFFSET 5`,
        [ids],
      ),
    );
    const seq = ids.indexOf(link!.event_id);
    await tamper(t, [
      "UPDATE audit_event_persons SET fields = ARRAY['lastName'] WHERE event_id = $1",
      [link!.event_id],
    ]);
    expect((await verify()).firstMismatch).toEqual({ eventId: link!.event_id, seq, reason: 'altered' });

    const [other] = await t.driver.transaction((tx) =>
      tx.query<{ event_id: string }>(
        `SELECT event_id::text AS event_id FROM audit_event_persons WHERE event_id = ANY($1::bigint[]) AND event_id < $2 ORDER BY event_id LIMIT 1`,
        [ids, link!.event_id],
      ),
    );
    // The scope queries read the link's own account column: moving a read to another account.
    await tamper(t, [
      'UPDATE audit_event_persons SET account_id = $2 WHERE event_id = $1',
      [other!.event_id, randomUUID()],
    ]);
    const report = await verify();
    expect(report.firstMismatch).toEqual({
      eventId: other!.event_id,
      seq: ids.indexOf(other!.event_id),
      reason: 'link',
    });
  });

  it('a link whose event does not exist: named', async () => {
    await tamper(t, [
      `INSERT INTO audit_event_persons (event_id, person_id, fields, occurred_at) VALUES (987654, $1, '{nir}', $2)`,
      [randomUUID(), new Date(T0)],
    ]);
    const report = await verify();
    expect(report.problems).toContainEqual(
      expect.objectContaining({ kind: 'orphan_link', eventId: '987654' }),
    );
  });

  it('the whole log rewritten consistently and re-signed with a new key: the keyring key and the published file reject it', async () => {
    const forger = newEd25519Signer(signer.name); // even under the same origin
    await tamper(
      t,
      ['UPDATE audit_events SET decision = $$deny$$ WHERE id = $1', [ids[8]]],
      ['DELETE FROM audit_checkpoints'],
      ['DELETE FROM audit_nodes'],
      ['DELETE FROM audit_leaves'],
      ['INSERT INTO audit_pending (event_id) SELECT id FROM audit_events'],
    );
    // The forger's sequencer cannot reach the published file.
    await drain(t.db, options(forger, clock, { checkpointEvents: 10, maxBatch: 10 }));
    expect((await leavesOf(t)).length).toBe(40);

    // With the keyring's verifier key: every stored checkpoint's signature fails, and every
    // published checkpoint disagrees with the rewritten tree.
    const withKey = await verify();
    expect(withKey.ok).toBe(false);
    expect(withKey.firstMismatch).toBeUndefined(); // the rewrite is consistent event by event ...
    const bad = withKey.problems.filter((p) => p.kind === 'checkpoint' && /signature/.test(p.message));
    expect(bad.map((p) => p.treeSize)).toEqual([10, 20, 30, 40]);
    expect(withKey.problems.some((p) => p.kind === 'published' && /root/.test(p.message))).toBe(true);

    // Even with the forger's key given to the verifier, the published checkpoints reject it.
    const withForgersKey = await verify({ verifierKey: forger.verifierKey });
    expect(withForgersKey.ok).toBe(false);
    expect(withForgersKey.problems.filter((p) => p.kind === 'checkpoint')).toEqual([]);
    const published = withForgersKey.problems.filter((p) => p.kind === 'published' && /root/.test(p.message));
    expect(published.map((p) => p.treeSize)).toEqual([10, 20, 30, 40]);

    // Which is why the file must be out of the administrators' reach: without it, and with the
    // forger's key, nothing is left to tell.
    expect((await verify({ verifierKey: forger.verifierKey, checkpointFile: undefined })).ok).toBe(true);
  });

  it('a forged checkpoint row (valid format, wrong root) is rejected, signed by another key or by ours', async () => {
    const other = newEd25519Signer(signer.name);
    const forge = (size: number, by: NoteSigner) =>
      signNote(formatCheckpoint({ origin: signer.name, size, rootHash: randomBytes(32), extensions: [] }), [
        by,
      ]);
    const seven = forge(7, other);
    const fifteen = forge(15, signer); // as if the signing key had leaked
    await t.driver.transaction(async (tx) => {
      for (const [size, note] of [
        [7, seven],
        [15, fifteen],
      ] as const) {
        await tx.query(
          'INSERT INTO audit_checkpoints (tree_size, root_hash, signed_at, note) VALUES ($1, $2, now(), $3)',
          [size, parseCheckpoint(note.slice(0, note.lastIndexOf('\n\n') + 1)).rootHash, note],
        );
      }
    });
    const report = await verify();
    expect(report.ok).toBe(false);
    const checkpoints = report.problems.filter((p) => p.kind === 'checkpoint');
    expect(checkpoints.some((p) => p.treeSize === 7 && /signature/.test(p.message))).toBe(true);
    expect(checkpoints.some((p) => p.treeSize === 7 && /root/.test(p.message))).toBe(true);
    expect(checkpoints.some((p) => p.treeSize === 15 && /signature/.test(p.message))).toBe(false);
    expect(checkpoints.some((p) => p.treeSize === 15 && /root/.test(p.message))).toBe(true);
    // The chain between successive checkpoints breaks around the forged ones.
    expect(report.problems.some((p) => p.kind === 'consistency')).toBe(true);
    expect(report.firstMismatch).toBeUndefined();
  });

  it('a stored subtree altered (what proofs are served from): reported', async () => {
    await tamper(t, ['UPDATE audit_nodes SET hash = $1 WHERE level = 2 AND idx = 3', [randomBytes(32)]]);
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ kind: 'node', message: expect.stringContaining('2/3') }),
    ]);
  });

  it('--from/--to recompute only the events of the window; the rest of the tree is taken as stored', async () => {
    await tamper(t, ['UPDATE audit_events SET purpose = $$payment$$ WHERE id = $1', [ids[25]]]);
    const at25 = new Date(T0 + 25 * 60_000);
    const inside = await verify({ from: at25, to: new Date(at25.getTime() + 60_000) });
    expect(inside.events).toBe(1);
    expect(inside.firstMismatch).toEqual({ eventId: ids[25], seq: 25, reason: 'altered' });
    const outside = await verify({ from: new Date(T0), to: at25 });
    expect(outside.events).toBe(25);
    expect(outside.ok).toBe(true);
    expect(outside.notes.join(' ')).toContain('window');
  });

  it('a queued event that is gone, and an event stuck in the queue: named', async () => {
    await tamper(t, ['INSERT INTO audit_pending (event_id) VALUES (555555)']);
    const late = await appendOne(t.db, 0); // occurred at T0, a day before the verifier's clock
    const report = await verify();
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'deleted', eventId: '555555' }));
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'stuck', eventId: late }));
    expect((await problemKinds({ verifierKey: signer.verifierKey })).has('inserted')).toBe(false);
  });
});
