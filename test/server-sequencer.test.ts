/** The server sequences audit events on its own and publishes signed checkpoints to the file. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../drill/processes.ts';
import { appendAudit } from '../src/audit/append.ts';
import { openNote } from '../src/audit/checkpoint.ts';
import { readCheckpointFile } from '../src/audit/checkpoint-file.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import { loadConfig } from '../src/config.ts';
import { openKeys } from '../src/crypto/open.ts';
import { createDb } from '../src/db/open.ts';
import { startServer } from '../src/main.ts';
import { engine, freshDb, type TestDb } from './helpers/db.ts';

describe(`the server's audit sequencer (${engine})`, () => {
  let dir: string;
  let t: TestDb | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-seq-'));
    if (engine !== 'pglite') t = await freshDb();
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('folds new events into the tree within a second and appends the signed checkpoint to the file', async () => {
    const config = loadConfig({
      REMPART_DATA: dir,
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      REMPART_AUDIT_SEQUENCE_MS: '20',
      REMPART_AUDIT_CHECKPOINT_EVENTS: '1',
      ...(t?.url ? { DATABASE_URL: t.url } : {}),
    });
    const keys = await openKeys(config, { create: true });
    const { app, db } = await startServer(config);
    try {
      const at = new Date();
      await db.tx({ kind: 'system', operation: 'test' }, (tx) =>
        appendAudit(
          tx,
          {
            actor: { kind: 'system', operation: 'test' },
            sessionRef: null,
            requestId: 'r-1',
            sourceAddress: null,
            at,
          },
          { action: 'test.event', purpose: null, query: {}, decision: 'allow', resultCount: 0, persons: [] },
        ),
      );
      const deadline = Date.now() + 5_000;
      let text = '';
      while (Date.now() < deadline) {
        text = await readFile(config.audit.checkpointFile, 'utf8').catch(() => '');
        if (text.includes('\n1\n')) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const notes: string[] = [];
      for await (const entry of readCheckpointFile(config.audit.checkpointFile)) {
        if ('note' in entry) notes.push(entry.note);
      }
      const note = notes.find((n) => n.includes('\n1\n'));
      expect(note).toBeDefined();
      expect(openNote(note!, [keys.checkpointSigner.verifierKey]).verifiedBy).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it.skipIf(engine === 'pglite')(
    'two server processes on one database append and sequence concurrently: one log, verified',
    async () => {
      const base = {
        REMPART_DATA: dir,
        LOG_LEVEL: 'silent',
        REMPART_AUDIT_SEQUENCE_MS: '15',
        REMPART_AUDIT_CHECKPOINT_EVENTS: '25',
        DATABASE_URL: t!.url!,
      };
      const configA = loadConfig({ ...base, PORT: String(await freePort()) });
      const configB = loadConfig({ ...base, PORT: String(await freePort()) });
      const keys = await openKeys(configA, { create: true });
      const a = await startServer(configA);
      const b = await startServer(configB);
      try {
        const system = { kind: 'system', operation: 'test' } as const;
        const append = (db: typeof a.db, i: number) =>
          db.tx(system, (tx) =>
            appendAudit(
              tx,
              { actor: system, sessionRef: null, requestId: `r-${i}`, sourceAddress: null, at: new Date() },
              {
                action: 'test.event',
                purpose: null,
                query: { i },
                decision: 'allow',
                resultCount: 0,
                persons: [],
              },
            ),
          );
        await Promise.all(Array.from({ length: 200 }, (_, i) => append(i % 2 === 0 ? a.db : b.db, i)));
        const deadline = Date.now() + 10_000;
        for (;;) {
          const [row] = await t!.driver.transaction((tx) =>
            tx.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_pending'),
          );
          if (row?.n === 0 || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        await a.app.close();
        await b.app.close();
      }
      const db = createDb(t!.driver);
      const report = await verifyAudit(db, {
        verifierKey: keys.checkpointSigner.verifierKey,
        checkpointFile: configA.audit.checkpointFile,
      });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      expect(report.events).toBeGreaterThanOrEqual(200);
      expect(report.publishedCheckpoints).toBeGreaterThanOrEqual(2);
    },
  );
});
