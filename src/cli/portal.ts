/** `rempart portal index-emails`: the email blind index for records written before the portal. */
import type { Config } from '../config.ts';
import { openKeys } from '../crypto/open.ts';
import { openDb } from '../db/open.ts';
import { indexEmails } from '../portal/index-emails.ts';

/** Indexes the missing email blind indexes; returns how many and how long. */
export async function runIndexEmails(config: Config): Promise<{ indexed: number; seconds: number }> {
  const started = performance.now();
  const keys = await openKeys(config);
  const db = await openDb(config);
  try {
    const indexed = await indexEmails(db, keys.registry);
    return { indexed, seconds: Math.round(performance.now() - started) / 1000 };
  } finally {
    await db.close();
  }
}
