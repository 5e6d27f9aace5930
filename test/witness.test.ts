/**
 * Witnesses of the audit log (issue 10, section 2; c2sp.org/tlog-witness, tlog-cosignature): a
 * witness cosigns only checkpoints that extend the last one it cosigned, keeps that across restarts,
 * refuses rollbacks, forks and re-signed logs; `audit verify --witness` then catches a database and
 * checkpoint file rewritten together, and `--witness-url` a truncation back to an older witnessed size.
 * Real HTTP on loopback, real Ed25519 (node:crypto), real databases.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/audit/append.ts';
import { type NoteSigner, newEd25519Signer } from '../src/audit/checkpoint.ts';
import { cosignatureVerifierFromString, findCosignature } from '../src/audit/cosignature.ts';
import { latestCheckpoint } from '../src/audit/proofs.ts';
import { startSequencer } from '../src/audit/sequencer.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { witnessOnce } from '../src/audit/witnessing.ts';
import { systemCtx } from '../src/context.ts';
import type { Db } from '../src/db/types.ts';
import { originHash } from '../src/witness/add-checkpoint.ts';
import { createWitnessKey, readWitnessKey } from '../src/witness/files.ts';
import { type RunningWitness, startWitness } from '../src/witness/server.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';

const system = systemCtx('test').actor;
const ORIGIN = 'rempart.test/audit';
const T0 = Date.parse('2026-12-01T09:00:00Z');

/** Appends events number `from` to `to` - 1, each at a fixed time: two databases given the same calls hold the same log. */
async function events(t: TestDb, from: number, to: number, tag = 'read'): Promise<void> {
  const { db } = t;
  for (let i = from; i < to; i++) {
    await db.tx(system, (tx) =>
      appendAudit(
        tx,
        {
          actor: system,
          sessionRef: null,
          requestId: `r-${i}`,
          sourceAddress: null,
          at: new Date(T0 + i * 1000),
        },
        {
          action: `test.${tag}`,
          purpose: null,
          query: { i },
          decision: 'allow',
          resultCount: 0,
          persons: [],
        },
      ),
    );
  }
  // Each event's secret salt made a function of its content (as the database's owner can), so that
  // two logs written with the same events hold the same leaves (leaf format v2, src/audit/leaf.ts).
  await t.driver.transaction(async (tx) => {
    await tx.query('ALTER TABLE audit_event_salts DISABLE TRIGGER audit_event_salts_append_only');
    await tx.query(
      `UPDATE audit_event_salts s SET salt = sha256(convert_to(e.action || ':' || e.request_id, 'UTF8'))
       FROM audit_events e WHERE e.id = s.event_id`,
    );
    await tx.query('ALTER TABLE audit_event_salts ENABLE TRIGGER audit_event_salts_append_only');
  });
}

/** Folds what is pending and signs a checkpoint of the whole tree, as the server does. */
async function checkpoint(db: Db, signer: NoteSigner, file: string): Promise<void> {
  const sequencer = startSequencer(db, {
    signer,
    checkpointEvents: 1_000_000,
    checkpointSeconds: 86_400,
    checkpointFile: file,
    sequenceMs: 60_000,
  });
  try {
    await sequencer.flush({ checkpoint: true });
  } finally {
    await sequencer.stop();
  }
}

async function post(url: string, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
  return { status: response.status, text: await response.text() };
}

describe(`audit log witnesses (${engine})`, () => {
  let dir: string;
  const dbs: TestDb[] = [];
  let witness: RunningWitness | undefined;
  let witnessKey: string;
  const logKey = newEd25519Signer(ORIGIN);
  const stateFile = () => path.join(dir, 'witness-state.json');
  const startIt = async () => {
    witness = await startWitness({
      cosigner: await readWitnessKey(path.join(dir, 'witness.key')),
      stateFile: stateFile(),
      logKeys: [logKey.verifierKey],
    });
    return witness;
  };
  const db = async () => {
    const t = await freshDb();
    dbs.push(t);
    return t;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-witness-'));
    witnessKey = (await createWitnessKey(path.join(dir, 'witness.key'), 'witness.dpo.test')).verifierKey;
  });
  afterAll(async () => {
    await witness?.close();
    for (const t of dbs) await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('cosigns a growing log, keeps its state across a restart, and refuses a rollback and a fork', async () => {
    const { url } = await startIt();
    const w = { url, key: witnessKey };
    const log = await db();
    const file = path.join(dir, 'log-checkpoints.txt');
    await events(log, 0, 5);
    await checkpoint(log.db, logKey, file);
    expect(await witnessOnce(log.db, w)).toEqual({
      witness: expect.any(String),
      status: 'cosigned',
      treeSize: 5,
    });
    const five = (await log.db.sequencerTx(latestCheckpoint))!.note;
    await events(log, 5, 8);
    await checkpoint(log.db, logKey, file);
    // From 5 to 8 with the consistency proof the log serves.
    expect(await witnessOnce(log.db, w)).toMatchObject({ status: 'cosigned', treeSize: 8 });
    expect(await witnessOnce(log.db, w)).toMatchObject({ status: 'up_to_date', treeSize: 8 });

    const verified = await verifyAudit(log.db, {
      verifierKey: logKey.verifierKey,
      checkpointFile: file,
      witnesses: [witnessKey],
    });
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
    expect(verified.witnessedSize).toBe(8);
    expect(verified.witnesses).toEqual([{ witness: expect.any(String), witnessedSize: 8, cosignatures: 2 }]);

    // A restart: the witness still knows it cosigned 8 (the state was persisted before it answered).
    await witness!.close();
    const again = await startIt();
    const latest = await fetch(`${again.url}/${originHash(ORIGIN)}/checkpoint`);
    expect(latest.status).toBe(200);
    const latestNote = await latest.text();
    expect(latestNote.split('\n').slice(0, 2)).toEqual([ORIGIN, '8']);
    expect(findCosignature(latestNote, cosignatureVerifierFromString(witnessKey))).toBeGreaterThan(0);

    // Rollback: the checkpoint of size 5 again, from 8 (old > size: 400) or from 5 (409 says 8).
    expect(await post(again.url, `old 8\n\n${five}`)).toMatchObject({ status: 400 });
    expect(await post(again.url, `old 5\n\n${five}`)).toEqual({ status: 409, text: '8\n' });
    expect(await post(again.url, `old 0\n\n${five}`)).toEqual({ status: 409, text: '8\n' });

    // Fork: another history under the same key, at the same size and beyond: 422 after the 409.
    const forked = await db();
    await events(forked, 0, 8, 'other');
    await checkpoint(forked.db, logKey, path.join(dir, 'fork-8.txt'));
    expect(await witnessOnce(forked.db, { url: again.url, key: witnessKey })).toMatchObject({
      status: 'refused',
      httpStatus: 422,
      treeSize: 8,
    });
    await events(forked, 8, 11, 'other');
    await checkpoint(forked.db, logKey, path.join(dir, 'fork-11.txt'));
    expect(await witnessOnce(forked.db, { url: again.url, key: witnessKey })).toMatchObject({
      status: 'refused',
      httpStatus: 422,
      treeSize: 11,
    });
    // A shorter history (a truncated log) is a rollback: the witness is at 8.
    const short = await db();
    await events(short, 0, 3);
    await checkpoint(short.db, logKey, path.join(dir, 'short.txt'));
    expect(await witnessOnce(short.db, { url: again.url, key: witnessKey })).toMatchObject({
      status: 'refused',
      httpStatus: 409,
    });
    // Nothing of this moved the witness.
    expect(await (await fetch(`${again.url}/${originHash(ORIGIN)}/checkpoint`)).text()).toBe(latestNote);
  });

  it('detects the database and the file rewritten together and re-signed with a new key, and a truncation to an older witnessed size', async () => {
    await witness?.close();
    await rm(stateFile(), { force: true });
    const { url } = await startIt();
    const w = { url, key: witnessKey };
    const log = await db();
    await events(log, 0, 5);
    await checkpoint(log.db, logKey, path.join(dir, 'real.txt'));
    await witnessOnce(log.db, w);
    const cosigned5 = await log.db.sequencerTx((tx) =>
      tx.query<{ witness: string; tree_size: string; cosigned_at: Date; note: string }>(
        'SELECT * FROM audit_cosignatures',
      ),
    );
    await events(log, 5, 9);
    await checkpoint(log.db, logKey, path.join(dir, 'real.txt'));
    expect(await witnessOnce(log.db, w)).toMatchObject({ status: 'cosigned', treeSize: 9 });

    // The rewrite: other events, a new log key under the same origin, a new checkpoint file; even
    // the old cosignatures copied over.
    const newKey = newEd25519Signer(ORIGIN);
    const rewritten = await db();
    await events(rewritten, 0, 9, 'forged');
    const forgedFile = path.join(dir, 'forged.txt');
    await checkpoint(rewritten.db, newKey, forgedFile);
    const copy = async (target: TestDb, rows: typeof cosigned5) => {
      for (const row of rows) {
        await target.driver.transaction((tx) =>
          tx.query(
            'INSERT INTO audit_cosignatures (witness, tree_size, cosigned_at, note) VALUES ($1, $2, $3, $4)',
            [row.witness, row.tree_size, row.cosigned_at, row.note],
          ),
        );
      }
    };
    await copy(rewritten, cosigned5);
    // Without a witness the rewrite verifies: that is the window witnesses close.
    const alone = await verifyAudit(rewritten.db, {
      verifierKey: newKey.verifierKey,
      checkpointFile: forgedFile,
    });
    expect(alone.ok).toBe(true);
    const withWitness = await verifyAudit(rewritten.db, {
      verifierKey: newKey.verifierKey,
      checkpointFile: forgedFile,
      witnesses: [witnessKey],
    });
    expect(withWitness.ok).toBe(false);
    expect(withWitness.witnessedSize).toBeNull();
    expect(withWitness.problems.map((p) => p.kind)).toContain('witness');
    // And the witness refuses the rewritten log's checkpoints: not signed by the key it follows.
    expect(await witnessOnce(rewritten.db, w)).toMatchObject({ status: 'refused', httpStatus: 403 });

    // The truncation: the same first 5 events, the same key, the cosignature of 5 kept: the stored
    // cosignatures alone vouch for it; the witness's own latest (9) does not.
    const truncated = await db();
    await events(truncated, 0, 5);
    const truncatedFile = path.join(dir, 'truncated.txt');
    await checkpoint(truncated.db, logKey, truncatedFile);
    await copy(truncated, cosigned5);
    const stored = await verifyAudit(truncated.db, {
      verifierKey: logKey.verifierKey,
      checkpointFile: truncatedFile,
      witnesses: [witnessKey],
    });
    expect(stored.problems).toEqual([]);
    expect(stored.witnessedSize).toBe(5);
    const asked = await verifyAudit(truncated.db, {
      verifierKey: logKey.verifierKey,
      checkpointFile: truncatedFile,
      witnesses: [witnessKey],
      witnessUrls: [url],
    });
    expect(asked.ok).toBe(false);
    expect(asked.problems).toContainEqual(
      expect.objectContaining({
        kind: 'witness',
        treeSize: 9,
        message: expect.stringContaining('the log has only 5 leaves'),
      }),
    );
  });
});
