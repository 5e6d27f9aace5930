/** `rempart notify send`: the incident notices' job (docs/NOTICES.md), as the operator runs it. */
import type { Config } from '../config.ts';
import { systemClock } from '../context.ts';
import { ensureNoticeSigningKeys } from '../crypto/keyring.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { fileSmsProvider, smtpNoticeMailer } from '../notify/channels.ts';
import { type DeliveryReport, sendIncidentNotices } from '../notify/send-job.ts';

/** Creates and sends the incident's notices; progress lines on stderr; returns the delivery report. */
export async function runNotifySend(config: Config, incidentId: string): Promise<DeliveryReport> {
  const keys = await openKeys(config);
  const noticeKeys = await ensureNoticeSigningKeys(keys.keyring);
  const mailer =
    config.smtpUrl === undefined
      ? null
      : smtpNoticeMailer({
          url: config.smtpUrl,
          from: config.mailFrom,
          connections: config.notify.concurrency,
        });
  const sms = fileSmsProvider(config.notify.smsDir, incidentId);
  const db = await openDb(config);
  try {
    return await sendIncidentNotices(
      db,
      {
        registry: keys.registry,
        noticeKeys,
        publicUrl: config.publicUrl,
        clock: systemClock,
        mailer,
        sms,
        letterDir: config.notify.letterDir,
        log: (line) => console.error(line),
      },
      incidentId,
      {
        rate: config.notify.rate,
        concurrency: config.notify.concurrency,
        letterBatch: config.notify.letterBatch,
        // PGlite is one thread's database: sending threads only on a PostgreSQL server.
        ...(config.notify.threads > 0 && config.databaseUrl !== undefined
          ? { threads: { count: config.notify.threads, config } }
          : {}),
      },
    );
  } finally {
    await mailer?.close();
    await sms.close();
    await db.close();
  }
}
