/** Server entry point: loadConfig → openDb → buildApp → listen; nothing else (CONVENTIONS.md). */
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { startLagWatch } from './audit/lag-watch.ts';
import { startSequencer } from './audit/sequencer.ts';
import { startWitnessing } from './audit/witnessing.ts';
import { type Config, loadConfig } from './config.ts';
import type { Clock } from './context.ts';
import { ensureNoticeSigningKeys } from './crypto/keyring.ts';
import { openKeys } from './crypto/open.ts';
import { openDb } from './db/open.ts';
import type { Db } from './db/types.ts';
import { isAppError } from './errors.ts';
import { alertSecurityOfficers } from './guard/audit-alerts.ts';
import { buildApp } from './http/app.ts';
import { CONSOLE_DIST } from './http/console-build.ts';
import { outboxMailer, smtpMailer } from './notify/mailer.ts';
import { startOutbox } from './notify/outbox-job.ts';
import { keyringNoticeKeys } from './notify/verify-notice.ts';
import { processReceipts } from './portal/receipts.ts';
import { startRetentionJob } from './retention/job.ts';
import { serverClock } from './simulated-clock.ts';

/** How often the access receipts job looks at the audit tree's new leaves. */
const RECEIPTS_EVERY_MS = 2000;

/** How long the start-up fold waits for another holder of the sequencer's lock. */
const START_FOLD_WAIT_MS = 10_000;

/**
 * Opens the database, builds the app and listens; closing the app closes the database. The clock
 * is the configuration's (REMPART_CLOCK) unless `options.clock` is given.
 */
export async function startServer(
  config: Config,
  options: { clock?: Clock; consoleDir?: string } = {},
): Promise<{ app: FastifyInstance; db: Db; url: string }> {
  // A simulated clock without the parent that sets it is refused before anything is opened.
  const time = options.clock
    ? { clock: options.clock, simulated: false, close: () => undefined }
    : serverClock(config);
  const { clock } = time;
  let db: Db | undefined;
  let app: FastifyInstance;
  const mailer = config.smtpUrl ? smtpMailer({ url: config.smtpUrl, from: config.mailFrom }) : outboxMailer();
  let keys: Awaited<ReturnType<typeof openKeys>>;
  try {
    // The keyring must be there and sound before anything listens: refuse to start otherwise.
    keys = await openKeys(config);
    // A keyring written before the notices gets its first notice key now, so that the server
    // publishes it (GET /api/v1/notices/keys) from the start, not only after a first `notify send`.
    await ensureNoticeSigningKeys(keys.keyring);
    db = await openDb(config, { share: true });
    app = await buildApp(config, {
      db,
      kms: keys.kms,
      registry: keys.registry,
      clock,
      consoleDir: options.consoleDir ?? CONSOLE_DIST,
      checkpointVerifierKey: keys.checkpointSigner.verifierKey,
      noticeKeys: keyringNoticeKeys(keys.keyring.path),
    });
  } catch (error) {
    time.close();
    await db?.close();
    await mailer.close();
    throw error;
  }
  if (!config.guardEnabled) {
    app.log.warn(
      'the guard is off (REMPART_GUARD=off): no throttle, step-up or suspension; for measuring its cost only',
    );
  }
  if (time.simulated) {
    app.log.warn(
      'time is simulated (REMPART_CLOCK=simulated): the parent process sets it; for the drill only, never for real use',
    );
    // The drill that drives the clock is gone (it crashed or was killed): a server on a frozen
    // plan of time has no one to serve, stop as on SIGTERM.
    const orphaned = (): void => {
      app.log.warn('the process setting the simulated time is gone: stopping');
      process.kill(process.pid, 'SIGTERM');
    };
    process.once('disconnect', orphaned);
    // Once closed, nothing listens on the channel: a listener left there would keep the process
    // alive after SIGTERM until the drill's grace ran out and it was killed (10 s per stop).
    app.addHook('onClose', async () => {
      process.off('disconnect', orphaned);
    });
  }
  // The audit sequencer folds new events into the Merkle tree and signs checkpoints, also appended
  // to the checkpoint file (docs/DESIGN.md section 7). Several server processes may run one each: a
  // database lock lets one work at a time.
  const opened = db;
  const sequencer = startSequencer(opened, {
    signer: keys.checkpointSigner,
    clock,
    ...config.audit,
    onError: (error) => app.log.error({ err: error }, 'audit sequencer failed; retrying'),
  });
  // The outbox job sends the mails that transactions queued (notify/outbox.ts): at start (what a
  // crash or a CLI command left), after each answer that queued one, and every few seconds for
  // retries. An answer never waits for the mail server (T1, docs/SECURITY.md).
  const outbox = startOutbox(opened, mailer, {
    clock,
    onError: (error) => app.log.error({ err: error }, 'mail outbox failed; retrying'),
  });
  app.addHook('onResponse', async () => outbox.wakeIfQueued());
  // Access receipts (docs/PORTAL.md): read from the audit tree's new leaves every few seconds.
  // One run at a time; a stop waits for the run under way (the database closes after it), so that a
  // run cut by the stop does not report a failure.
  let receiptsRun: Promise<void> | null = null;
  let stopping = false;
  const receipts = setInterval(() => {
    if (receiptsRun || stopping) return;
    receiptsRun = processReceipts(opened, keys.registry, clock.now(), config.publicUrl)
      .then(
        (written) => (written > 0 ? outbox.wakeIfQueued() : undefined),
        (error: unknown) => {
          if (!stopping) app.log.error({ err: error }, 'portal receipts failed; retrying');
        },
      )
      .finally(() => {
        receiptsRun = null;
      });
  }, RECEIPTS_EVERY_MS);
  receipts.unref();
  // Retention (docs/RETENTION.md): once a day, at REMPART_RETENTION_DAILY_AT local time.
  const retention = startRetentionJob(opened, {
    clock,
    config: config.retention,
    onRun: (report) =>
      app.log.info({ asOf: report.asOf, actions: report.actions, seconds: report.seconds }, 'retention run'),
    onError: (error) => app.log.error({ err: error }, 'retention run failed; the next look retries'),
  });
  app.addHook('preClose', async () => {
    stopping = true;
    clearInterval(receipts);
    await receiptsRun;
    await retention.stop();
  });
  // What a crash (kill -9) left pending is folded before anything is served: until then those
  // events are covered by no signed checkpoint (issue 10, section 2). Another process holding the
  // lock (a second server, or a superuser stalling it) is waited for a while; past that the server
  // serves all the same and the lag watch below alerts the security officers.
  try {
    const folded = await sequencer.flush({ checkpoint: true, maxWaitMs: START_FOLD_WAIT_MS });
    if (folded.sequenced > 0) {
      app.log.info({ sequenced: folded.sequenced }, 'audit: events left pending were folded at start');
    }
  } catch (error) {
    app.log.error(
      { err: error },
      'audit: pending events could not be folded at start; the lag alert will tell',
    );
  }
  const lagWatch = startLagWatch(opened, {
    clock,
    alertSeconds: config.audit.lagAlertSeconds,
    onError: (error) => app.log.error({ err: error }, 'audit lag watch failed; retrying'),
  });
  // Each new checkpoint goes to the witnesses (c2sp.org/tlog-witness) on a timer of its own: a
  // witness that is down delays nothing; one that refuses is a security alert (T-audit).
  const witnessing = startWitnessing(opened, {
    witnesses: config.audit.witnesses,
    everyMs: Math.max(1000, config.audit.sequenceMs),
    onRefused: async (outcome) => {
      app.log.error(
        { witness: outcome.witness, treeSize: outcome.treeSize },
        `audit: a witness refused: ${outcome.reason}`,
      );
      await alertSecurityOfficers(opened, clock.now(), {
        action: 'audit.witness_refused',
        subject: "Rempart : un témoin refuse le journal d'audit / a witness refused the audit log",
        text:
          `Le témoin ${outcome.witness} refuse le point de contrôle de taille ${outcome.treeSize} : ${outcome.reason}.\n` +
          `The witness ${outcome.witness} refused the checkpoint of size ${outcome.treeSize}: ${outcome.reason}.\n\n` +
          'A witness refuses a log that was truncated, forked or re-signed with another key. Run ' +
          "`rempart audit verify --witness KEY` and compare with the witness's latest checkpoint.",
        details: { witness: outcome.witness, treeSize: outcome.treeSize, httpStatus: outcome.httpStatus },
      });
    },
    onError: (error) => app.log.error({ err: error }, 'audit witnessing failed; retrying'),
  });
  app.addHook('onClose', async () => {
    await outbox.stop();
    await witnessing.stop();
    await lagWatch.stop();
    await sequencer
      .flush()
      .catch((error: unknown) => app.log.error({ err: error }, 'audit sequencer flush failed'));
    await sequencer.stop();
    time.close();
    await mailer.close();
    await opened.close();
  });
  try {
    const url = await app.listen({ host: config.host, port: config.port });
    return { app, db: opened, url };
  } catch (error) {
    await app.close();
    throw error;
  }
}

async function main(): Promise<void> {
  const { app } = await startServer(loadConfig());
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    // A second signal while closing: the operator insists, stop now.
    if (closing) process.exit(1);
    closing = true;
    app.log.info({ signal }, 'closing');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'close failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((error: unknown) => {
    // A bad configuration (or an unreachable database) is the operator's to fix: one line, the
    // reason, no stack trace (docs/DESIGN.md section 12). AppError messages carry no personal data.
    if (isAppError(error)) {
      console.error(`rempart: ${error.message.replace(/\s+/g, ' ')}`);
    } else {
      console.error(error);
    }
    process.exit(1);
  });
}
