/**
 * `rempart audit verify`: first folds the pending events into the tree (so the newest are checked
 * too), then rebuilds the tree from the events and holds it against the stored leaves, subtrees,
 * signed checkpoints and the published checkpoint file (src/audit/verify.ts; docs/DESIGN.md section 7).
 */
import { availableParallelism } from 'node:os';
import { startSequencer } from '../audit/sequencer.ts';
import { type AuditReport, verifyAudit } from '../audit/verify.ts';
import { waitForServerSequencer } from '../audit/wait-sequenced.ts';
import type { Config } from '../config.ts';
import { type Keys, openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { isAppError } from '../errors.ts';

/** What the command prints: the report, how many pending events it sequenced first, and the key used. */
export interface AuditVerifyRun extends AuditReport {
  sequencedFirst: number;
  /** The checkpoint verifier key the checkpoints were checked with (what auditors are given). */
  verifierKey: string;
}

/**
 * Sequences what is pending, then verifies. The verifier key comes from the keyring unless `key` is
 * given (an auditor's copy); with `key` and no keyring, nothing is sequenced first.
 */
export async function runAuditVerify(
  config: Config,
  options: {
    from?: Date;
    to?: Date;
    key?: string;
    /** Witness keys whose cosignatures are required. */
    witness?: string[];
    /** Witness URLs to ask for their latest cosigned checkpoint. */
    witnessUrl?: string[];
    /** Worker threads on a PostgreSQL server (default: the machine's cores); none on PGlite. */
    workers?: number;
    onProgress?: (done: number, total: number) => void;
    onNotice?: (line: string) => void;
  },
): Promise<AuditVerifyRun> {
  let keys: Keys | undefined;
  try {
    keys = await openKeys(config);
  } catch (error) {
    // An auditor holds the verifier key and the published file, not the keyring's secrets.
    if (options.key === undefined || !isAppError(error) || error.code !== 'keyring_missing') throw error;
    options.onNotice?.('no keyring: pending events are not sequenced first');
  }
  const verifierKey = options.key ?? (keys as Keys).checkpointSigner.verifierKey;
  const db = await openDb(config);
  try {
    let sequencedFirst = 0;
    if (db.servedBy !== undefined) {
      // The server holding the embedded database sequences; the CLI waits for it (wait-sequenced.ts).
      sequencedFirst = await waitForServerSequencer(db);
    } else if (keys) {
      const sequencer = startSequencer(db, {
        signer: keys.checkpointSigner,
        checkpointEvents: config.audit.checkpointEvents,
        checkpointSeconds: config.audit.checkpointSeconds,
        checkpointFile: config.audit.checkpointFile,
        sequenceMs: config.audit.sequenceMs,
      });
      try {
        sequencedFirst = (await sequencer.flush()).sequenced;
      } finally {
        await sequencer.stop();
      }
    }
    const report = await verifyAudit(db, {
      verifierKey,
      checkpointFile: config.audit.checkpointFile,
      ...(options.from ? { from: options.from } : {}),
      ...(options.to ? { to: options.to } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      witnesses: options.witness ?? [],
      witnessUrls: options.witnessUrl ?? [],
      // On a server, worker threads read and recompute chunks over their own connections; the
      // embedded database is one connection in this process (or the server's), read here.
      ...(config.databaseUrl === undefined
        ? {}
        : { databaseUrl: config.databaseUrl, workers: options.workers ?? availableParallelism() }),
    });
    return { ...report, sequencedFirst, verifierKey };
  } finally {
    await db.close();
  }
}

/** The human report: a verdict line, the first mismatch, then the problems found. */
export function formatVerifyReport(run: AuditVerifyRun): string {
  const counts =
    `${run.leaves} leaves, ${run.events} events recomputed, ${run.checkpoints} checkpoints, ` +
    `${run.publishedCheckpoints} published`;
  const lines = [
    run.ok
      ? `audit log verified: ${counts}; no problem found`
      : `audit log NOT verified: ${run.problemCount} problem(s); ${counts}`,
  ];
  lines.push(`checkpoints checked with the verifier key ${run.verifierKey}`);
  if (run.witnesses) {
    lines.push(
      run.witnessedSize === null || run.witnessedSize === undefined
        ? 'witnessed: NO checkpoint cosigned by every given witness matches the log'
        : `witnessed size: ${run.witnessedSize} (cosigned by ${run.witnesses.length} witness(es))`,
    );
  }
  if (run.sequencedFirst > 0) lines.push(`(${run.sequencedFirst} pending events were sequenced first)`);
  if (run.firstMismatch) {
    const at = run.firstMismatch.seq === null ? 'with no leaf' : `at leaf ${run.firstMismatch.seq}`;
    lines.push(`first mismatch: event ${run.firstMismatch.eventId} ${at} (${run.firstMismatch.reason})`);
  }
  for (const p of run.problems) lines.push(`  ${p.kind}: ${p.message}`);
  if (run.problemCount > run.problems.length) {
    lines.push(`  … and ${run.problemCount - run.problems.length} more`);
  }
  for (const note of run.notes) lines.push(`note: ${note}`);
  return lines.join('\n');
}
