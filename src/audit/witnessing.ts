/**
 * Submitting the audit log's checkpoints to witnesses (c2sp.org/tlog-witness), server side. For
 * each witness of REMPART_WITNESSES: the newest stored checkpoint, with a consistency proof from
 * the size the witness last cosigned (from audit_cosignatures, or what its 409 answer reports), and
 * its cosignature stored in audit_cosignatures. Runs on its own timer, never in a read's path: a
 * witness that is down is retried later with a growing delay. A witness that refuses for a
 * rollback, a fork or a signature it does not accept is a security alert (T-audit).
 */
import type { WitnessConfig } from '../config.ts';
import type { Db } from '../db/types.ts';
import { type CosignatureVerifier, cosignatureVerifierFromString, findCosignature } from './cosignature.ts';
import { consistencyProofFor, latestCheckpoint } from './proofs.ts';

/** What one submission to one witness gave. */
export type WitnessOutcome =
  | { witness: string; status: 'cosigned'; treeSize: number }
  | { witness: string; status: 'up_to_date'; treeSize: number }
  | { witness: string; status: 'nothing_to_witness' }
  | { witness: string; status: 'unavailable'; reason: string }
  | { witness: string; status: 'refused'; treeSize: number; httpStatus: number; reason: string };

/** How long one request to a witness may take. */
const REQUEST_TIMEOUT_MS = 10_000;

/** Submits the newest checkpoint to one witness and stores its cosignature. */
export async function witnessOnce(db: Db, witness: WitnessConfig): Promise<WitnessOutcome> {
  const verifier = cosignatureVerifierFromString(witness.key);
  const id = verifier.id;
  const { latest, cosigned } = await db.sequencerTx(async (tx) => {
    const checkpoint = await latestCheckpoint(tx);
    const [row] = await tx.query<{ size: string | null }>(
      'SELECT max(tree_size)::text AS size FROM audit_cosignatures WHERE witness = $1',
      [id],
    );
    return { latest: checkpoint, cosigned: row?.size == null ? undefined : Number(row.size) };
  });
  if (!latest) return { witness: id, status: 'nothing_to_witness' };
  if (cosigned !== undefined && cosigned >= latest.treeSize) {
    return { witness: id, status: 'up_to_date', treeSize: cosigned };
  }
  let old = cosigned ?? 0;
  // At most two tries: the first may learn the witness's size from its 409 (tlog-witness).
  for (let attempt = 0; attempt < 2; attempt++) {
    const proof = await db.sequencerTx((tx) => consistencyProofFor(tx, old, latest.treeSize));
    const body = `old ${old}\n${proof.map((h) => `${Buffer.from(h, 'hex').toString('base64')}\n`).join('')}\n${latest.note}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${witness.url}/add-checkpoint`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      text = await response.text();
    } catch (error) {
      return { witness: id, status: 'unavailable', reason: (error as Error).message };
    }
    if (response.status === 200) return store(db, verifier, latest.treeSize, latest.note, text);
    const refused = (reason: string): WitnessOutcome => ({
      witness: id,
      status: 'refused',
      treeSize: latest.treeSize,
      httpStatus: response.status,
      reason,
    });
    if (response.status === 409) {
      const size = /^(0|[1-9][0-9]{0,15})\n$/.exec(text);
      if (!size) return refused('its 409 answer carries no size');
      const theirs = Number(size[1]);
      if (theirs > latest.treeSize) {
        return refused(
          `it cosigned size ${theirs}, the log has ${latest.treeSize} (a rollback: the log was truncated)`,
        );
      }
      if (attempt === 0 && theirs !== old) {
        old = theirs;
        continue;
      }
      return refused(`it keeps answering 409 (size ${theirs})`);
    }
    if (response.status === 422)
      return refused('the checkpoint is not consistent with what it cosigned (a fork)');
    if (response.status === 403)
      return refused('it does not accept the log signature (the log key changed?)');
    if (response.status === 404) return refused('it does not follow this log (unknown origin)');
    if (response.status === 400) return refused(`it refused the request: ${text.trim().slice(0, 200)}`);
    return { witness: id, status: 'unavailable', reason: `HTTP ${response.status}` };
  }
  return { witness: id, status: 'unavailable', reason: 'no answer' };
}

/** Checks the witness's answer against its key and stores the cosigned note. */
async function store(
  db: Db,
  verifier: CosignatureVerifier,
  size: number,
  note: string,
  answer: string,
): Promise<WitnessOutcome> {
  // The answer is signature lines only; appended to the note, the witness's must verify (tlog-witness).
  const lines = answer.split('\n').filter((line) => line.startsWith('\u2014 '));
  const cosigned = `${note}${lines.map((line) => `${line}\n`).join('')}`;
  let timestamp: number | undefined;
  try {
    timestamp = findCosignature(cosigned, verifier);
  } catch (error) {
    return {
      witness: verifier.id,
      status: 'refused',
      treeSize: size,
      httpStatus: 200,
      reason: (error as Error).message,
    };
  }
  if (timestamp === undefined) {
    return {
      witness: verifier.id,
      status: 'refused',
      treeSize: size,
      httpStatus: 200,
      reason: 'its answer holds no cosignature from its key',
    };
  }
  const mine = lines.filter((line) => line.startsWith(`\u2014 ${verifier.name} `));
  await db.sequencerTx((tx) =>
    tx.query(
      `INSERT INTO audit_cosignatures (witness, tree_size, cosigned_at, note) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [verifier.id, size, new Date(timestamp * 1000), `${note}${mine.map((line) => `${line}\n`).join('')}`],
    ),
  );
  return { witness: verifier.id, status: 'cosigned', treeSize: size };
}

/** A running submission loop. */
export interface Witnessing {
  /** Submits to every witness now (the loop's work); resolves to what each answered. */
  runOnce(): Promise<WitnessOutcome[]>;
  stop(): Promise<void>;
}

/**
 * Submits to every witness every `everyMs` (an unref'd timer), one round at a time; a witness that
 * is unavailable is skipped for 2, 4, ... up to 60 s. `onRefused` is called once per witness and
 * checkpoint size refused (the server raises a security alert).
 */
export function startWitnessing(
  db: Db,
  options: {
    witnesses: WitnessConfig[];
    everyMs: number;
    onRefused: (outcome: Extract<WitnessOutcome, { status: 'refused' }>) => Promise<void>;
    onError: (error: unknown) => void;
  },
): Witnessing {
  const backoff = new Map<string, { until: number; delay: number }>();
  const reported = new Set<string>();
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const runOnce = async (): Promise<WitnessOutcome[]> => {
    const outcomes: WitnessOutcome[] = [];
    for (const witness of options.witnesses) {
      const wait = backoff.get(witness.url);
      if (wait && Date.now() < wait.until) continue;
      let outcome: WitnessOutcome;
      try {
        outcome = await witnessOnce(db, witness);
      } catch (error) {
        options.onError(error);
        continue;
      }
      outcomes.push(outcome);
      if (outcome.status === 'unavailable') {
        const delay = Math.min(60_000, (wait?.delay ?? 1000) * 2);
        backoff.set(witness.url, { until: Date.now() + delay, delay });
      } else backoff.delete(witness.url);
      if (outcome.status === 'refused') {
        const key = `${outcome.witness} ${outcome.treeSize}`;
        if (!reported.has(key)) {
          reported.add(key);
          await options.onRefused(outcome);
        }
      }
    }
    return outcomes;
  };
  const timer = setInterval(() => {
    if (busy || options.witnesses.length === 0) return;
    busy = true;
    running = runOnce()
      .catch(options.onError)
      .finally(() => {
        busy = false;
      });
  }, options.everyMs);
  timer.unref();
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
