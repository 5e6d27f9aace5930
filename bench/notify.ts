/**
 * `rempart bench notify`: the incident notices' job at scale (GDPR art. 34; docs/NOTICES.md). A
 * throwaway registry of N persons and an incident over all of them; the job creates, signs and sends
 * every notice to a real SMTP server in this process (smtp-server), which checks each message's
 * signature against the published verifier keys (in a worker thread) and counts Message-IDs: `duplicates` is how many
 * messages arrived under a Message-ID already received (0 without a crash, by design). The seeding is
 * set-up, timed apart (`setupSeconds`); `seconds` is the job's, as `rempart notify send` runs it.
 */

import { availableParallelism, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SMTPServer } from 'smtp-server';
import type { Config } from '../src/config.ts';
import { systemClock } from '../src/context.ts';
import { ensureNoticeSigningKeys } from '../src/crypto/keyring.ts';
import { noticeVerifierKeys } from '../src/crypto/notice-signing.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { fileSmsProvider, smtpNoticeMailer } from '../src/notify/channels.ts';
import { type DeliveryReport, sendIncidentNotices } from '../src/notify/send-job.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { plantIncident } from './notify-incident.ts';
import { throwaway } from './throwaway.ts';

/** What to measure. */
export interface NotifyBenchOptions {
  notices: number;
  /** Sends in flight and SMTP connections, per sending thread (default 8). */
  concurrency?: number;
  /** Sending threads besides the job's (default 1 on PostgreSQL; none on PGlite). */
  threads?: number;
  onProgress?: (line: string) => void;
}

/** The figures (the JSON line of `rempart bench notify --json`). */
export interface NotifyBenchSummary {
  bench: 'notify';
  engine: 'pglite' | 'postgres';
  notices: number;
  /** The job's time: create, sign, encrypt, send, record. */
  seconds: number;
  noticesPerSecond: number;
  /** Notices delivered, every channel (the job's report). */
  delivered: number;
  /** Messages received at the SMTP server under a Message-ID already received. */
  duplicates: number;
  /** Emails received at the SMTP server, and how many of them verified against the published keys. */
  received: number;
  verified: number;
  byChannel: DeliveryReport['delivered'];
  failed: number;
  concurrency: number;
  threads: number;
  setupSeconds: number;
  /** CPU seconds of this process (every thread) during the job: what the figures cost, whatever the load. */
  cpuSeconds: number;
  /** The machine's 1-minute load average when the job started and ended (other work slows the figures). */
  loadAverage: [number, number];
  cores: number;
}

/**
 * A local SMTP server whose received messages are verified and counted by a worker thread
 * (notify-verify.worker.ts), in batches; `counts()` waits for every message handed over.
 */
async function countingServer(verifierKeys: string[]): Promise<{
  url: string;
  counts(): Promise<{ received: number; verified: number; duplicates: number }>;
  close(): Promise<void>;
}> {
  const worker = new Worker(new URL('./notify-verify.worker.ts', import.meta.url), {
    workerData: { verifierKeys },
  });
  let pending: Uint8Array[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    worker.postMessage(
      { raws: pending },
      pending.map((raw) => raw.buffer as ArrayBuffer),
    );
    pending = [];
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 1024 * 1024,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        // A copy of its own (transferable), not a slice of a pooled buffer.
        pending.push(new Uint8Array(Buffer.concat(chunks)));
        if (pending.length >= 200) flush();
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.server.address();
      if (address === null || typeof address === 'string') return reject(new Error('no TCP address'));
      resolve(address.port);
    });
  });
  return {
    url: `smtp://127.0.0.1:${port}?tls=off`,
    counts() {
      flush();
      return new Promise((resolve) => {
        worker.once('message', resolve);
        worker.postMessage({ done: true });
      });
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker.terminate();
    },
  };
}

/** Runs the benchmark in a throwaway registry; returns the figures. */
export async function benchNotify(base: Config, options: NotifyBenchOptions): Promise<NotifyBenchSummary> {
  const log = options.onProgress ?? (() => undefined);
  const concurrency = options.concurrency ?? 8;
  // Sending threads: PostgreSQL only (PGlite is one thread's database).
  const threads = base.databaseUrl === undefined ? 0 : (options.threads ?? 1);
  const { config, cleanup } = await throwaway(base);
  try {
    const setupStarted = performance.now();
    const keys = await openKeys(config, { create: true });
    const noticeKeys = await ensureNoticeSigningKeys(keys.keyring);
    const db = await openDb(config);
    try {
      log(`bench notify: seeding ${options.notices} persons`);
      await seedPopulation(db, keys.registry, { persons: options.notices, seed: 7 });
      const { incidentId } = await plantIncident(db, options.notices, new Date());
      const setupSeconds = Math.round(performance.now() - setupStarted) / 1000;
      const smtp = await countingServer(noticeVerifierKeys(noticeKeys));
      const mailer = smtpNoticeMailer({ url: smtp.url, from: config.mailFrom, connections: concurrency });
      const cpuBefore = process.cpuUsage();
      const loadBefore = loadavg()[0]!;
      let report: DeliveryReport;
      let counts: { received: number; verified: number; duplicates: number };
      try {
        report = await sendIncidentNotices(
          db,
          {
            registry: keys.registry,
            noticeKeys,
            publicUrl: config.publicUrl,
            clock: systemClock,
            mailer,
            sms: fileSmsProvider(`${config.dataDir}/sms`, incidentId),
            letterDir: `${config.dataDir}/letters`,
            log,
          },
          incidentId,
          {
            rate: 100_000,
            concurrency,
            letterBatch: config.notify.letterBatch,
            ...(threads > 0 ? { threads: { count: threads, config: { ...config, smtpUrl: smtp.url } } } : {}),
          },
        );
        await mailer.close();
        counts = await smtp.counts();
      } finally {
        await mailer.close();
        await smtp.close();
      }
      const cpu = process.cpuUsage(cpuBefore);
      const delivered = Object.values(report.delivered).reduce((a, b) => a + b, 0);
      return {
        bench: 'notify',
        engine: db.kind,
        notices: report.notices,
        seconds: report.seconds,
        noticesPerSecond: report.noticesPerSecond,
        delivered,
        duplicates: counts.duplicates,
        received: counts.received,
        verified: counts.verified,
        byChannel: report.delivered,
        failed: report.failed,
        concurrency,
        threads,
        setupSeconds,
        cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
        loadAverage: [Math.round(loadBefore * 10) / 10, Math.round(loadavg()[0]! * 10) / 10],
        cores: availableParallelism(),
      };
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
}
