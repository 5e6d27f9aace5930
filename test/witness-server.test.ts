/**
 * Witnesses with the real processes (issue 10, section 2): `rempart witness init` and `witness serve`
 * as an operator runs them elsewhere, the server submitting its checkpoints to REMPART_WITNESSES and
 * storing the cosignatures, `rempart audit verify --witness` reporting the witnessed size, and a
 * witness's refusal raised as a security alert.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../drill/processes.ts';
import { appendAudit } from '../src/audit/append.ts';
import { startSequencer } from '../src/audit/sequencer.ts';
import { witnessOnce } from '../src/audit/witnessing.ts';
import { loadConfig } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import type { Db } from '../src/db/types.ts';
import { startServer } from '../src/main.ts';
import { originHash } from '../src/witness/add-checkpoint.ts';
import { createWitnessKey } from '../src/witness/files.ts';
import { startWitness } from '../src/witness/server.ts';
import { cliEnv, lastJsonLine, rempart, startRempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine, freshDb } from './helpers/db.ts';

const system = systemCtx('test').actor;

async function events(db: Db, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    await db.tx(system, (tx) =>
      appendAudit(
        tx,
        { actor: system, sessionRef: null, requestId: `${tag}-${i}`, sourceAddress: null, at: new Date() },
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
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe(`the server and its witnesses (${engine})`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-witness-srv-'));
    server = await emptyServerDatabase();
  });
  afterAll(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a witness process cosigns what the server submits, keeps it across its restart, and audit verify --witness reports it', async () => {
    const data = path.join(dir, 'data');
    const baseEnv = { REMPART_DATA: data, ...(server ? { DATABASE_URL: server.url } : {}) };
    const config = loadConfig({
      ...baseEnv,
      PORT: String(await freePort()),
      LOG_LEVEL: 'silent',
      REMPART_AUDIT_SEQUENCE_MS: '20',
      REMPART_AUDIT_CHECKPOINT_EVENTS: '1',
    });
    const logKey = (await openKeys(config, { create: true })).checkpointSigner.verifierKey;

    const keyFile = path.join(dir, 'witness.key');
    const init = await rempart(
      ['witness', 'init', '--key', keyFile, '--name', 'witness.dpo.test', '--json'],
      cliEnv({}),
    );
    expect(init.code).toBe(0);
    const witnessKey = lastJsonLine(init.stdout).verifierKey as string;
    expect(witnessKey).toMatch(/^witness\.dpo\.test\+[0-9a-f]{8}\+/);
    // Never overwritten: a second init fails and says why.
    const again = await rempart(['witness', 'init', '--key', keyFile, '--name', 'x'], cliEnv({}));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('never overwritten');

    const port = await freePort();
    const witnessUrl = `http://127.0.0.1:${port}`;
    const serveArgs = [
      'witness',
      'serve',
      '--key',
      keyFile,
      '--state',
      path.join(dir, 'state.json'),
      '--log',
      logKey,
      '--port',
      String(port),
    ];
    const latest = async () => {
      const response = await fetch(`${witnessUrl}/${originHash(logKey.split('+')[0]!)}/checkpoint`);
      return { status: response.status, text: await response.text() };
    };
    let witness = startRempart(serveArgs, cliEnv({}));
    try {
      await until('the witness to listen', async () => ((await latest()).status === 404 ? true : undefined));
      const running = await startServer({
        ...config,
        audit: { ...config.audit, witnesses: [{ url: witnessUrl, key: witnessKey }] },
      });
      let size = 0;
      try {
        await events(running.db, 6, 'read');
        const [row] = await until('a cosignature stored', async () => {
          const rows = await running.db.sequencerTx((tx) =>
            tx.query<{ size: number }>('SELECT max(tree_size)::int AS size FROM audit_cosignatures'),
          );
          return (rows[0]?.size ?? 0) >= 6 ? rows : undefined;
        });
        size = row!.size;
      } finally {
        await running.app.close();
      }
      const before = await latest();
      expect(before.status).toBe(200);
      expect(before.text.split('\n')[1]).toBe(String(size));

      // The witness process restarts: it serves the same latest checkpoint.
      witness.child.kill('SIGTERM');
      await new Promise((resolve) => witness.child.once('exit', resolve));
      witness = startRempart(serveArgs, cliEnv({}));
      const after = await until('the witness back', async () => {
        const got = await latest();
        return got.status === 200 ? got : undefined;
      });
      expect(after.text).toBe(before.text);

      const verify = await rempart(
        ['audit', 'verify', '--witness', witnessKey, '--witness-url', witnessUrl, '--json'],
        cliEnv(baseEnv),
      );
      expect(verify.stderr).not.toContain('Error');
      const report = lastJsonLine(verify.stdout);
      expect(report).toMatchObject({ ok: true, witnessedSize: size, problemCount: 0 });
      expect(verify.code).toBe(0);
      // A witness whose cosignatures the log does not have: exit 1.
      const stranger = (await createWitnessKey(path.join(dir, 'other.key'), 'witness.other.test'))
        .verifierKey;
      const refused = await rempart(['audit', 'verify', '--witness', stranger, '--json'], cliEnv(baseEnv));
      expect(refused.code).toBe(1);
      expect(lastJsonLine(refused.stdout)).toMatchObject({ ok: false, witnessedSize: null });
    } finally {
      witness.child.kill('SIGTERM');
    }
  });

  it("a witness's refusal (the log rolled back) is a security alert", async () => {
    const data = path.join(dir, 'data-2');
    const db2 = await emptyServerDatabase();
    try {
      const config = loadConfig({
        REMPART_DATA: data,
        ...(db2 ? { DATABASE_URL: db2.url } : {}),
        PORT: String(await freePort()),
        LOG_LEVEL: 'silent',
        REMPART_AUDIT_SEQUENCE_MS: '20',
        REMPART_AUDIT_CHECKPOINT_EVENTS: '1',
      });
      const signer = (await openKeys(config, { create: true })).checkpointSigner;
      const cosigner = await createWitnessKey(path.join(dir, 'w2.key'), 'witness.partner.test');
      const witness = await startWitness({
        cosigner,
        stateFile: path.join(dir, 'w2-state.json'),
        logKeys: [signer.verifierKey],
      });
      const w = { url: witness.url, key: cosigner.verifierKey };
      // The witness has already cosigned a longer history of this log (what the log held before
      // someone cut it short).
      const longer = await freshDb();
      try {
        await events(longer.db, 20, 'before');
        const sequencer = startSequencer(longer.db, {
          signer,
          checkpointEvents: 1000,
          checkpointSeconds: 3600,
          sequenceMs: 60_000,
        });
        await sequencer.flush({ checkpoint: true });
        await sequencer.stop();
        expect(await witnessOnce(longer.db, w)).toMatchObject({ status: 'cosigned', treeSize: 20 });
      } finally {
        await longer.close();
      }
      const running = await startServer({ ...config, audit: { ...config.audit, witnesses: [w] } });
      try {
        await events(running.db, 3, 'after');
        const alerts = await until('the refusal alert', async () => {
          const rows = await running.db.tx(system, (tx) =>
            tx.query<{ details: { witness: string; httpStatus: number } }>(
              "SELECT details FROM security_events WHERE action = 'audit.witness_refused'",
            ),
          );
          return rows.length > 0 ? rows : undefined;
        });
        expect(alerts[0]!.details).toMatchObject({
          witness: expect.stringMatching(/^witness\.partner\.test\+/),
          httpStatus: 409,
        });
      } finally {
        await running.app.close();
        await witness.close();
      }
    } finally {
      await db2?.drop();
    }
  });
});
