/**
 * A sending thread of the notices' job (send-job.ts, `threads`): opens its own database pool, keys
 * and SMTP pool from the configuration, runs the email/SMS/portal loop (send-steps.ts) for the
 * incident with the job's run start (so the threads of one run never take each other's claims),
 * and posts its counts after each batch and when done.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { systemClock } from '../context.ts';
import { ensureNoticeSigningKeys } from '../crypto/keyring.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { fileSmsProvider, smtpNoticeMailer } from './channels.ts';
import type { DeliveryReport, SendOptions } from './send-job.ts';
import { type Run, sendMessages } from './send-steps.ts';

/** What the job hands a sending thread. */
export interface SendWorkerData {
  config: Config;
  incidentId: string;
  runStart: string;
  options: Omit<SendOptions, 'threads'>;
}

/** A thread's counts, posted after each batch (`progress`) and at the end (`done`). */
export type SendWorkerMessage =
  | { type: 'progress' | 'done'; report: DeliveryReport }
  | { type: 'error'; message: string };

const data = workerData as SendWorkerData;
const port = parentPort!;
const report: DeliveryReport = {
  incident: data.incidentId,
  notices: 0,
  created: 0,
  alreadySent: 0,
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

try {
  const { config } = data;
  const keys = await openKeys(config);
  const mailer =
    config.smtpUrl === undefined
      ? null
      : smtpNoticeMailer({
          url: config.smtpUrl,
          from: config.mailFrom,
          connections: data.options.concurrency,
        });
  const db = await openDb(config);
  const run: Run = {
    db,
    deps: {
      registry: keys.registry,
      noticeKeys: await ensureNoticeSigningKeys(keys.keyring),
      publicUrl: config.publicUrl,
      clock: systemClock,
      mailer,
      sms: fileSmsProvider(config.notify.smsDir, data.incidentId),
      letterDir: config.notify.letterDir,
    },
    incidentId: data.incidentId,
    runStart: new Date(data.runStart),
    options: data.options,
    report,
    progress: () => port.postMessage({ type: 'progress', report } satisfies SendWorkerMessage),
    creating: true,
  };
  port.on('message', (message: { type: 'created' }) => {
    if (message.type === 'created') run.creating = false;
  });
  try {
    await sendMessages(run);
  } finally {
    await mailer?.close();
    await db.close();
  }
  port.postMessage({ type: 'done', report } satisfies SendWorkerMessage);
} catch (error) {
  port.postMessage({
    type: 'error',
    message: error instanceof Error ? error.message : 'sending thread failed',
  } satisfies SendWorkerMessage);
}
port.close();
