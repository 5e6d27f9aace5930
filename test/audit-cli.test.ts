/** `rempart audit verify` as an operator runs it: exit 0 on an untouched log, 1 naming the event after tampering. */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/audit/append.ts';
import { createDb } from '../src/db/open.ts';
import { openPglite } from '../src/db/pglite.ts';
import { openPostgres } from '../src/db/postgres.ts';
import type { Driver } from '../src/db/types.ts';
import { cliEnv, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';

describe(`rempart audit verify on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-audit-cli-'));
    server = await emptyServerDatabase();
    env = cliEnv({
      REMPART_DATA: path.join(dir, 'data'),
      DATABASE_URL: server?.url,
      REMPART_AUDIT_CHECKPOINT_EVENTS: '3',
    });
  });
  afterEach(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The data folder's database with owner rights (the CLI is not running: PGlite is one process's). */
  async function withDriver<T>(fn: (driver: Driver) => Promise<T>): Promise<T> {
    const driver = server
      ? await openPostgres(server.url, { max: 2 })
      : await openPglite(path.join(dir, 'data', 'pglite'));
    try {
      return await fn(driver);
    } finally {
      await driver.close();
    }
  }

  it('exits 0 on an untouched log (sequencing what is pending first), 1 naming the altered event', async () => {
    await initDataDir(env);
    const ids = await withDriver(async (driver) => {
      const db = createDb(driver);
      const out: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        const actor = { kind: 'system', operation: 'test' } as const;
        out.push(
          await db.tx(actor, (tx) =>
            appendAudit(
              tx,
              { actor, sessionRef: null, requestId: randomUUID(), sourceAddress: null, at: new Date() },
              {
                action: 'person.view',
                purpose: null,
                query: { i },
                decision: 'allow',
                resultCount: 0,
                persons: [],
              },
            ),
          ),
        );
      }
      return out;
    });

    const clean = await rempart(['audit', 'verify', '--json'], env);
    expect(clean.stderr).toBe('');
    expect(clean.code).toBe(0);
    expect(lastJsonLine(clean.stdout)).toMatchObject({
      ok: true,
      events: 5,
      checkpoints: 1,
      publishedCheckpoints: 1,
      firstMismatch: null,
      problems: [],
    });
    expect(await readFile(path.join(dir, 'data', 'audit-checkpoints.txt'), 'utf8')).toMatch(
      /^rempart\/audit\/[0-9a-f]{8}\n5\n/,
    );

    await withDriver((driver) =>
      driver.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query(`UPDATE audit_events SET action = 'person.search' WHERE id = $1`, [ids[2]]);
      }),
    );
    const tampered = await rempart(['audit', 'verify', '--json'], env);
    expect(tampered.code).toBe(1);
    expect(lastJsonLine(tampered.stdout)).toMatchObject({
      ok: false,
      firstMismatch: { eventId: ids[2], seq: 2, reason: 'altered' },
    });
    const human = await rempart(['audit', 'verify'], env);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`first mismatch: event ${ids[2]} at leaf 2 (altered)`);
  });
});
