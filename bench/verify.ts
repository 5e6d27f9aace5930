/**
 * `rempart bench verify`: how fast `rempart audit verify` checks a log of real events (issue 18:
 * at least 200,000 events/s). A throwaway database gets N events with one person link each (the
 * synthetic log of `bench scope`, bench/audit-fill.ts), each with its salt, queued for the
 * sequencer; the sequencer then sequences them as it does in service (leaves, subtrees, signed
 * checkpoints), and `verifyAudit` runs over the whole log as the CLI runs it, reading the next
 * chunk while checking one, alternated with runs that read one chunk after the other. The benchmark
 * fails unless every verification accepts every event; it reports the time of each stage and the
 * audit tables' size per event.
 */
import { availableParallelism } from 'node:os';
import { newEd25519Signer } from '../src/audit/checkpoint.ts';
import { sequenceBatch, signCheckpointNow } from '../src/audit/sequencer.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import type { Config } from '../src/config.ts';
import { fillAuditLog, planBreach } from './audit-fill.ts';
import { withThrowawayDb } from './throwaway.ts';

export interface VerifyBenchOptions {
  events: number;
  /** Leaves read per verification transaction (`verifyAudit`'s chunkSize). */
  chunk?: number;
  /** Verifications of each kind, alternated (default 2); the best of each is reported. */
  rounds?: number;
  /** Worker threads of the third kind (default: the machine's cores; server only). */
  workers?: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** The figures (the JSON line of `rempart bench verify --json`). */
export interface VerifyBenchSummary {
  bench: 'verify';
  engine: 'pglite' | 'postgres';
  events: number;
  chunk: number;
  fillSeconds: number;
  indexSeconds: number;
  sequenceSeconds: number;
  sequencedPerSecond: number;
  checkpoints: number;
  verifySeconds: number;
  verifiedPerSecond: number;
  /** CPU time of this process during the verification, user + system. */
  verifyCpuSeconds: number;
  /** The same verification reading one chunk after the other (no read ahead). */
  inTurnSeconds: number;
  inTurnPerSecond: number;
  /** Worker threads of the third kind of run (0 on PGlite: none), and its time. */
  workers: number;
  workersSeconds: number | null;
  workersPerSecond: number | null;
  /** The audit tables (events, links, salts, leaves, subtrees, checkpoints) with their indexes. */
  bytesPerEvent: number;
}

/** The audit log's tables whose size makes `bytesPerEvent` (bench populate's too). */
export const AUDIT_TABLES = [
  'audit_events',
  'audit_event_persons',
  'audit_event_salts',
  'audit_leaves',
  'audit_nodes',
  'audit_checkpoints',
];

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

export async function benchVerify(base: Config, options: VerifyBenchOptions): Promise<VerifyBenchSummary> {
  const chunk = options.chunk ?? 5000;
  return withThrowawayDb(base, async (driver, db, config) => {
    const planted = planBreach(
      options.events,
      Math.max(10, Math.min(5000, Math.floor(options.events / 200))),
    );
    const { fillSeconds, indexSeconds } = await fillAuditLog(
      driver,
      options.events,
      planted,
      options.onProgress,
    );
    // Each event's salt (32 bytes, as the gate draws them) and its place in the sequencer's queue.
    await driver.transaction((tx) =>
      tx.exec(`INSERT INTO audit_event_salts (event_id, salt)
                   SELECT id, sha256(int8send(id) || 'bench-verify'::bytea) FROM audit_events;
                 INSERT INTO audit_pending (event_id) SELECT id FROM audit_events`),
    );
    const signer = newEd25519Signer('rempart/bench-verify');
    const sequencing = { signer, checkpointEvents: 100_000, checkpointSeconds: 3600 };
    const sequenceStarted = performance.now();
    let treeSize = 0;
    for (;;) {
      const batch = await sequenceBatch(db, sequencing);
      treeSize = batch.treeSize;
      options.onProgress?.('sequencing', treeSize, options.events);
      if (batch.sequenced === 0) break;
    }
    await signCheckpointNow(db, sequencing);
    const sequenceSeconds = (performance.now() - sequenceStarted) / 1000;
    if (treeSize !== options.events) {
      throw new Error(`bench verify: ${treeSize} leaves sequenced for ${options.events} events`);
    }
    await driver.transaction((tx) => tx.exec(`ANALYZE ${AUDIT_TABLES.join(', ')}`));

    // Timed both ways, alternated: reading the next chunk while checking this one (as the CLI
    // runs), and one chunk after the other.
    const timed = async (how: { readAhead?: boolean; workers?: number }) => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const report = await verifyAudit(db, {
        verifierKey: signer.verifierKey,
        chunkSize: chunk,
        ...how,
        ...(config.databaseUrl === undefined ? {} : { databaseUrl: config.databaseUrl }),
        onProgress: (done, total) => options.onProgress?.('verifying', done, total),
      });
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      if (!report.ok || report.events !== options.events || report.leaves !== options.events) {
        throw new Error(
          `bench verify: the verification did not accept the log: ${report.problemCount} problems, ` +
            `${report.events} events, ${report.leaves} leaves (first: ${report.firstMismatch?.reason ?? 'none'})`,
        );
      }
      return { seconds, cpuSeconds: (used.user + used.system) / 1e6, checkpoints: report.checkpoints };
    };
    // Worker threads only on a server: PGlite is one connection in this process.
    const workers = config.databaseUrl === undefined ? 0 : (options.workers ?? availableParallelism());
    const runs = {
      ahead: [] as number[],
      inTurn: [] as number[],
      workers: [] as number[],
      cpu: [] as number[],
    };
    let checkpoints = 0;
    for (let round = 0; round < (options.rounds ?? 2); round++) {
      const a = await timed({ readAhead: true });
      runs.ahead.push(a.seconds);
      runs.cpu.push(a.cpuSeconds);
      checkpoints = a.checkpoints;
      runs.inTurn.push((await timed({ readAhead: false })).seconds);
      if (workers > 0) runs.workers.push((await timed({ workers })).seconds);
    }
    const best = (xs: number[]): number => Math.min(...xs);
    const verifySeconds = best(runs.ahead);
    const inTurnSeconds = best(runs.inTurn);
    const workersSeconds = workers > 0 ? best(runs.workers) : null;
    const [size] = await driver.transaction((tx) =>
      tx.query<{ bytes: string }>(
        `SELECT sum(pg_total_relation_size(t::regclass))::text AS bytes FROM unnest($1::text[]) t`,
        [AUDIT_TABLES],
      ),
    );
    return {
      bench: 'verify',
      engine: db.kind,
      events: options.events,
      chunk,
      fillSeconds: round(fillSeconds),
      indexSeconds: round(indexSeconds),
      sequenceSeconds: round(sequenceSeconds),
      sequencedPerSecond: Math.round(options.events / sequenceSeconds),
      checkpoints,
      verifySeconds: round(verifySeconds, 2),
      verifiedPerSecond: Math.round(options.events / verifySeconds),
      verifyCpuSeconds: round(Math.min(...runs.cpu), 2),
      inTurnSeconds: round(inTurnSeconds, 2),
      inTurnPerSecond: Math.round(options.events / inTurnSeconds),
      workers,
      workersSeconds: workersSeconds === null ? null : round(workersSeconds, 2),
      workersPerSecond: workersSeconds === null ? null : Math.round(options.events / workersSeconds),
      bytesPerEvent: Math.round(Number(size?.bytes ?? 0) / options.events),
    };
  });
}
