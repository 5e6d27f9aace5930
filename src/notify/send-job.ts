/**
 * The incident notices' job (`rempart notify send`; GDPR art. 34; docs/NOTICES.md): creates the
 * missing notices, then sends every notice not yet sent, by its channel, at a bounded rate, with
 * progress lines and a delivery report. Resumable: a rerun after a crash creates only the missing
 * notices and sends only those not recorded as sent; a notice found `claimed` (it may have left
 * before the crash) is sent again with the same Message-ID, never under a new one — the exactly-once
 * argument is in docs/NOTICES.md. Once every notice is sent, the incident's people_notified_at is set.
 */
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import type { Clock } from '../context.ts';
import { systemCtx } from '../context.ts';
import type { NoticeSigningKeys } from '../crypto/keyring.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { markPeopleNotified } from '../incidents/incidents.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import type { NoticeMailer, SmsProvider } from './channels.ts';
import { createNoticesPage, incidentDetectedAt, type NoticeChannel } from './notices-create.ts';
import { noticeStates, retryFailed } from './send-claims.ts';
import { type Run, sendLetters, sendMessages } from './send-steps.ts';
import type { SendWorkerData, SendWorkerMessage } from './send-worker.ts';

export { noticeMessageId } from './send-steps.ts';

/** What the job needs from outside: keys, channels, time, where to write. */
export interface SendDeps {
  registry: RegistryKeys;
  noticeKeys: NoticeSigningKeys;
  publicUrl: string;
  clock: Clock;
  /** The email channel (null: no SMTP server configured; email notices then fail). */
  mailer: NoticeMailer | null;
  sms: SmsProvider;
  letterDir: string;
  /** A progress line (stderr in the CLI); never personal data. */
  log?: (line: string) => void;
}

/** How fast and in what batches. */
export interface SendOptions {
  /** Sends per second at most (email, SMS and portal; letters are files, written per batch). */
  rate: number;
  /** Sends in flight at once. */
  concurrency: number;
  /** Letters per PDF. */
  letterBatch: number;
  /** Persons per transaction when creating notices (default 500). */
  createPage?: number;
  /**
   * Email/SMS/portal sent by this many threads (send-worker.ts), each with its own database pool,
   * keys and SMTP pool opened from `config`, the rate shared out; PostgreSQL only (PGlite is one
   * thread's). Default: none, sent by the job's own thread.
   */
  threads?: { count: number; config: Config };
}

/** The delivery report (the JSON of `rempart notify send --json`: a contract other parts read). */
export interface DeliveryReport {
  incident: string;
  /** Notices of the incident (after this run). */
  notices: number;
  /** Notices this run created. */
  created: number;
  /** Notices already sent before this run. */
  alreadySent: number;
  /** Notices this run sent, by channel. */
  delivered: Record<NoticeChannel, number>;
  /** Notices whose send failed in this run (a rerun retries them). */
  failed: number;
  seconds: number;
  /** Delivered notices per second of this run. */
  noticesPerSecond: number;
  letterFiles: string[];
  smsFile: string | null;
  /** Of the delivered, how many an earlier run had claimed without recording the outcome (same Message-ID). */
  resent: number;
  /** Notices still not sent after this run. */
  remaining: number;
  /** The incident's people_notified_at, once every notice is sent. */
  peopleNotifiedAt: string | null;
  /** Failure causes (SMTP codes, no text), by count. */
  errors: Record<string, number>;
}

const actor = systemCtx('notify').actor;

/**
 * The email/SMS/portal loop in `threads` sending threads (send-worker.ts), the rate shared out;
 * each thread's latest counts are kept in `reports` (its slot), merged by the caller.
 */
async function inThreads(
  run: Run,
  creation: Promise<void>,
  reports: DeliveryReport[],
  config: Config,
): Promise<void> {
  const count = run.options.threads!.count;
  run.deps.log?.(`notify: ${count} sending thread(s)`);
  const options = {
    rate: run.options.rate / count,
    concurrency: run.options.concurrency,
    letterBatch: run.options.letterBatch,
  };
  const workers = Array.from(
    { length: count },
    () =>
      new Worker(new URL('./send-worker.ts', import.meta.url), {
        workerData: {
          config,
          incidentId: run.incidentId,
          runStart: run.runStart.toISOString(),
          options,
        } satisfies SendWorkerData,
      }),
  );
  // Creation over (or failed): the threads stop once their claims come back empty.
  void creation.finally(() => {
    for (const worker of workers) worker.postMessage({ type: 'created' });
  });
  await Promise.all(
    workers.map(
      (worker, i) =>
        new Promise<void>((resolve, reject) => {
          worker.on('message', (message: SendWorkerMessage) => {
            if (message.type === 'error')
              reject(new AppError('internal', `sending thread: ${message.message}`));
            else {
              reports[i] = message.report;
              run.progress();
              if (message.type === 'done') resolve();
            }
          });
          worker.on('error', reject);
          worker.on('exit', (code) => {
            if (code !== 0) reject(new AppError('internal', `sending thread exited with code ${code}`));
            resolve();
          });
        }),
    ),
  );
}

/** Sends (or creates and sends) every notice of the incident; returns the delivery report. */
export async function sendIncidentNotices(
  db: Db,
  deps: SendDeps,
  incidentId: string,
  options: SendOptions,
): Promise<DeliveryReport> {
  const started = performance.now();
  const log = deps.log ?? (() => undefined);
  const runStart = deps.clock.now();
  const { detectedAt, before } = await db.tx(actor, async (tx) => {
    const detectedAt = await incidentDetectedAt(tx, incidentId);
    await retryFailed(tx, incidentId);
    return { detectedAt, before: await noticeStates(tx, incidentId) };
  });
  const report: DeliveryReport = {
    incident: incidentId,
    notices: 0,
    created: 0,
    alreadySent: before.sent ?? 0,
    delivered: { email: 0, sms: 0, letter: 0, portal: 0 },
    failed: 0,
    seconds: 0,
    noticesPerSecond: 0,
    letterFiles: [],
    smsFile: null,
    resent: 0,
    remaining: 0,
    peopleNotifiedAt: null,
    errors: {},
  };

  const persons = await db.tx(actor, (tx) =>
    tx.query<{ n: number }>('SELECT count(*)::int AS n FROM incident_persons WHERE incident_id = $1', [
      incidentId,
    ]),
  );
  const todo = (persons[0]?.n ?? 0) - report.alreadySent;
  log(
    `notify: incident ${incidentId}: ${persons[0]?.n ?? 0} persons, ${report.alreadySent} notices already sent`,
  );
  let lastLog = performance.now();
  // The sending threads' counts (when `threads`), latest snapshot of each.
  const threadReports: DeliveryReport[] = [];
  const progress = (force = false): void => {
    if (!force && performance.now() - lastLog < 1000) return;
    lastLog = performance.now();
    const d = { ...report.delivered };
    for (const other of threadReports)
      for (const channel of Object.keys(d) as NoticeChannel[]) d[channel] += other.delivered[channel];
    const failed = report.failed + threadReports.reduce((n, r) => n + r.failed, 0);
    const done = d.email + d.sms + d.letter + d.portal;
    const rate = done / Math.max(0.001, (performance.now() - started) / 1000);
    log(
      `notify: ${done}/${todo} sent (email ${d.email}, letter ${d.letter}, sms ${d.sms}, portal ${d.portal}), ${failed} failed, ${rate.toFixed(1)}/s`,
    );
  };

  // 1. The missing notices, one transaction per page of persons; sending starts as soon as the
  // first page is committed (the claims take what is committed), so creating and sending overlap.
  const run: Run = { db, deps, incidentId, runStart, options, report, progress, creating: true };
  const creation = (async () => {
    try {
      for (let after: string | null = null; ; ) {
        const page = await db.tx(actor, (tx) =>
          createNoticesPage(
            tx,
            deps,
            { id: incidentId, detectedAt },
            after,
            options.createPage ?? 500,
            deps.clock.now(),
          ),
        );
        if (page.last === null) break;
        report.created += page.created;
        after = page.last;
      }
      log(
        `notify: ${report.created} notices created in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    } finally {
      run.creating = false;
    }
  })();

  // 2. Letters (files, CPU-bound; after the creation, for full batches) and the other channels
  // (network-bound) side by side. The first failure stops the run (after the others settle).
  const threads = options.threads?.count ?? 0;
  const results = await Promise.allSettled([
    creation,
    creation.then(() => sendLetters(run)),
    threads > 0 ? inThreads(run, creation, threadReports, options.threads!.config) : sendMessages(run),
  ]);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  for (const other of threadReports) {
    for (const channel of Object.keys(report.delivered) as NoticeChannel[])
      report.delivered[channel] += other.delivered[channel];
    report.failed += other.failed;
    report.resent += other.resent;
    report.smsFile ??= other.smsFile;
    for (const [key, n] of Object.entries(other.errors)) report.errors[key] = (report.errors[key] ?? 0) + n;
  }

  // 4. The report; people_notified_at once every notice is sent.
  const after = await db.tx(actor, async (tx) => {
    const states = await noticeStates(tx, incidentId);
    const count = Object.values(states).reduce((a, b) => a + b, 0);
    const persons = await tx.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM incident_persons WHERE incident_id = $1',
      [incidentId],
    );
    if (count === persons[0]?.n && (states.sent ?? 0) === count)
      await markPeopleNotified(tx, incidentId, deps.clock.now());
    const [row] = await tx.query<{ people_notified_at: Date | null }>(
      'SELECT people_notified_at FROM incidents WHERE id = $1',
      [incidentId],
    );
    return { states, count, notifiedAt: row?.people_notified_at ?? null };
  });
  report.notices = after.count;
  report.remaining = after.count - (after.states.sent ?? 0);
  report.peopleNotifiedAt = after.notifiedAt?.toISOString() ?? null;
  report.seconds = Math.round(performance.now() - started) / 1000;
  const delivered = Object.values(report.delivered).reduce((a, b) => a + b, 0);
  report.noticesPerSecond = Math.round((delivered / Math.max(0.001, report.seconds)) * 10) / 10;
  progress(true);
  return report;
}
