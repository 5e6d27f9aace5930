/**
 * `rempart bench export --rows N`: the cost of one export of N rows (docs/EXPORTS.md). Seeds a
 * throwaway registry of N persons (a temporary PGlite folder, or a new database on the PostgreSQL
 * server of DATABASE_URL), puts every person in one agency's scope (its caseload), then, as that
 * agency's counselor and manager with real sessions, requests, approves and produces the export
 * through the same functions the routes call: the gate's read and audit event of N persons, canaries,
 * CSV, age encryption, storage; then one download. Seeding is not counted. The off-hours rule and
 * the guard are lifted for the run: it measures cost, whatever the hour (the guard's volume levels
 * would rightly stop an account reading N persons in a day).
 */
import { randomBytes } from 'node:crypto';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import type { GateCtx, GateDeps } from '../src/access/gate.ts';
import type { Config } from '../src/config.ts';
import { systemCtx } from '../src/context.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import type { Db } from '../src/db/types.ts';
import { decideExport } from '../src/exports/decision.ts';
import { downloadExport, produceExport } from '../src/exports/file.ts';
import { requestExport } from '../src/exports/requests.ts';
import { createAccount, type Role } from '../src/identity/accounts.ts';
import { openSession, useStaffSession as staffSessionOf } from '../src/identity/sessions.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { throwaway } from './throwaway.ts';

export interface ExportBenchSummary {
  bench: 'export';
  engine: 'pglite' | 'postgres';
  rows: number;
  seedSeconds: number;
  /** The gate's read of every row, its audit event, canaries, CSV, age encryption, storage. */
  produceSeconds: number;
  rowsPerSecond: number;
  fileBytes: number;
  downloadSeconds: number;
  /** The recipient's decryption of the file (age), and its rows counted. */
  decryptSeconds: number;
  csvRows: number;
}

const FIELDS = ['agencyId', 'nir', 'lastName', 'firstNames', 'birthDate', 'address', 'status'];

/** A staff member with a fresh 'mfa' session, as the gate sees them. */
async function staffCtx(db: Db, config: Config, organisationId: string, role: Role): Promise<GateCtx> {
  const actor = systemCtx('bench').actor;
  const tag = randomBytes(4).toString('hex');
  const now = new Date();
  const opened = await db.tx(actor, async (tx) => {
    const account = await createAccount(
      tx,
      {
        organisationId,
        login: `bench-export-${tag}`,
        displayName: `Bench ${role}`,
        email: `bench-export-${tag}@bench.invalid`,
        role,
        password: randomBytes(24).toString('base64url'),
      },
      now,
      null,
    );
    await tx.query(`UPDATE accounts SET status = 'active' WHERE id = $1`, [account.id]);
    return openSession(tx, account.id, { assurance: 'mfa', now, config });
  });
  const auth = await staffSessionOf(db, opened.sessionId, now, config);
  if (!auth) throw new Error('bench export: the session did not open');
  return {
    accountId: auth.account.id,
    organisationId: auth.account.organisationId,
    role: auth.account.role as Role,
    organisationPurposes: auth.organisationPurposes,
    sessionIdHash: auth.session.idHash,
    requestId: `bench-export-${tag}`,
    sourceAddress: null,
    probation: false,
    mfaAt: auth.session.mfaAt,
    guard: auth.guard,
  };
}

/** Runs the export benchmark. */
export async function benchExport(
  base: Config,
  options: { rows: number; seed: number; onProgress?: (stage: string, done: number, total: number) => void },
): Promise<ExportBenchSummary> {
  const { config, cleanup } = await throwaway(base);
  try {
    const keys = await openKeys(config, { create: true });
    const db = await openDb(config);
    try {
      const seeded = await seedPopulation(db, keys.registry, {
        persons: options.rows,
        seed: options.seed,
        onProgress: (done, total) => options.onProgress?.('seeding', done, total),
      });
      const system = systemCtx('bench').actor;
      const agency = await db.tx(system, async (tx) => {
        const [row] = await tx.query<{ id: string }>(
          `SELECT agency_organisation_id AS id FROM persons GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
        );
        // Every live person in this agency's scope: its caseload takes the others.
        await tx.query(
          `INSERT INTO caseloads (person_id, organisation_id, counselor_id, since)
           SELECT p.id, $1, NULL, current_date - 1 FROM persons p
           WHERE p.agency_organisation_id <> $1 ON CONFLICT DO NOTHING`,
          [row!.id],
        );
        return row!.id;
      });
      const [live] = await db.tx(system, (tx) =>
        tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM persons WHERE status IN ('registered', 'deregistered', 'candidate')`,
        ),
      );
      const deps: GateDeps = {
        db,
        keys: keys.registry,
        clock: { now: () => new Date() },
        // The bench measures the export's cost: the guard's volume levels would (rightly) stop N rows.
        guard: null,
        exports: {
          ...config.exports,
          maxRows: Math.max(config.exports.maxRows, options.rows),
          largeRows: Math.max(config.exports.largeRows, options.rows),
        },
      };
      const counselor = await staffCtx(db, config, agency, 'counselor');
      const manager = await staffCtx(db, config, agency, 'org_manager');
      const recipient = await db.tx(system, async (tx) => {
        const [org] = await tx.query<{ id: string }>(
          `SELECT id FROM organisations WHERE kind = 'training_body' ORDER BY code LIMIT 1`,
        );
        return org!.id;
      });
      const identity = await generateIdentity();
      const key = await identityToRecipient(identity);
      await db.tx(system, (tx) =>
        tx.query(
          `INSERT INTO export_recipients (organisation_id, age_recipient, registered_by, registered_at)
           VALUES ($1, $2, $3, now())`,
          [recipient, key, manager.accountId],
        ),
      );
      const asked = await requestExport(deps, counselor, {
        purpose: 'accompaniment',
        fields: FIELDS,
        filter: {},
        recipientOrganisationId: recipient,
      });
      await decideExport(deps, manager, asked.id, { approve: true });
      options.onProgress?.('export', 0, 1);
      const t0 = performance.now();
      const produced = await produceExport(deps, counselor, asked.id, 'accompaniment');
      const produceSeconds = (performance.now() - t0) / 1000;
      options.onProgress?.('export', 1, 1);
      const t1 = performance.now();
      const { file } = await downloadExport(deps, counselor, asked.id);
      const downloadSeconds = (performance.now() - t1) / 1000;
      const t2 = performance.now();
      const decrypter = new Decrypter();
      decrypter.addIdentity(identity);
      const csv = await decrypter.decrypt(new Uint8Array(file), 'text');
      const decryptSeconds = (performance.now() - t2) / 1000;
      const rows = produced.rowCount ?? 0;
      if (rows !== live?.n) throw new Error(`bench export: ${rows} rows exported, ${live?.n} live persons`);
      return {
        bench: 'export',
        engine: db.kind,
        rows,
        seedSeconds: seeded.seconds,
        produceSeconds: round(produceSeconds),
        rowsPerSecond: Math.round(rows / produceSeconds),
        fileBytes: file.length,
        downloadSeconds: round(downloadSeconds),
        decryptSeconds: round(decryptSeconds),
        csvRows: csv.trimEnd().split('\n').length - 1,
      };
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
