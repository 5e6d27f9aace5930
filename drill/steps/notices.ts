/**
 * T7's notices, read where the persons get them (docs/DESIGN.md section 2, T7; GDPR art. 34): the
 * emails in the drill's mailbox (a real SMTP server), the letters in the print batches the
 * operator's `rempart notify send` wrote (PDF), the SMS in the provider's file sink. Each notice is
 * matched to its person by where it went (the operator's notes of the persons' contacts, setup
 * knowledge), its fields read back from its text (src/notify/notice-parse.ts), and checked:
 * an email's signature against the server's published notice keys (verifyNotice), a letter's or
 * an SMS's code through the public message check (a printed letter wraps its lines, so its text
 * is not the signed note byte for byte; an SMS carries no text to sign, only the code).
 */
import { readFile } from 'node:fs/promises';
import { verifyNotice } from '../../src/crypto/notice-signing.ts';
import { parseNoticeText } from '../../src/notify/notice-parse.ts';
import type { PersonContacts } from '../leak.ts';
import { lettersInPdf } from '../letters-read.ts';
import type { World } from '../scenario.ts';

/** One notice as its person received it. */
export interface ReceivedNotice {
  channel: 'email' | 'letter' | 'sms';
  incidentId: string;
  /** The person it went to (null: an address no noted person has). */
  personId: string | null;
  code: string;
  /** The fields it states (null for an SMS: it points to the portal, where the notice is). */
  fields: string[] | null;
  /** The signature verified (email) or the code is a genuine incident notice's (letter, SMS). */
  genuine: boolean;
}

/** What `rempart notify send --json` prints (the parts T7 reads). */
export interface SendReport {
  incident: string;
  notices: number;
  delivered: Record<string, number>;
  failed: number;
  letterFiles: string[];
  smsFile: string | null;
}

/** Reads the delivery report printed by `rempart notify send --json`; throws if it is not one. */
export function sendReportOf(printed: Record<string, unknown>): SendReport {
  const delivered = printed.delivered as Record<string, number> | undefined;
  if (typeof printed.incident !== 'string' || typeof printed.notices !== 'number' || !delivered) {
    throw new Error('rempart notify send printed no delivery report');
  }
  return {
    incident: printed.incident,
    notices: printed.notices,
    delivered,
    failed: Number(printed.failed ?? 0),
    letterFiles: Array.isArray(printed.letterFiles) ? (printed.letterFiles as string[]) : [],
    smsFile: typeof printed.smsFile === 'string' ? printed.smsFile : null,
  };
}

/** The notice verifier keys the server publishes (GET /api/v1/notices/keys); none when it answers otherwise. */
export async function publishedNoticeKeys(world: World): Promise<string[]> {
  const answer = await world.client('anyone (notice keys)').get('/api/v1/notices/keys');
  const keys = (answer.body as { keys?: { key?: unknown }[] } | undefined)?.keys;
  if (answer.status !== 200 || !Array.isArray(keys)) return [];
  return keys.flatMap((k) => (typeof k.key === 'string' ? [k.key] : []));
}

/** True when the public message check says the code is a genuine incident notice's. */
async function genuineCode(world: World, code: string, n: number): Promise<boolean> {
  // The check is throttled per source address: each letter's reader checks from their own.
  const answer = await world.client(`notice reader ${n}`).post('/api/v1/messages/verify', { code });
  const body = answer.body as { genuine?: boolean; kind?: string } | undefined;
  return answer.status === 200 && body?.genuine === true && body.kind === 'incident_notice';
}

/** Every notice of `incidents` delivered by email, letter or SMS, one per code. */
export async function receivedNotices(
  world: World,
  incidents: ReadonlySet<string>,
  reports: readonly SendReport[],
  contacts: readonly PersonContacts[],
  keys: readonly string[],
): Promise<ReceivedNotice[]> {
  const find = (kind: keyof PersonContacts, key: string): string | null => {
    for (const c of contacts) {
      const id = c[kind].get(key);
      if (id) return id;
    }
    return null;
  };
  const byCode = new Map<string, ReceivedNotice>();
  for (const message of world.mailbox.messages) {
    let parsed: ReturnType<typeof parseNoticeText>;
    try {
      parsed = parseNoticeText(message.text);
    } catch {
      continue; // not a notice (a login code, a staff mail)
    }
    if (!incidents.has(parsed.incidentId) || byCode.has(parsed.code)) continue; // a re-send: same code
    byCode.set(parsed.code, {
      channel: 'email',
      incidentId: parsed.incidentId,
      personId: find('email', message.to[0] ?? ''),
      code: parsed.code,
      fields: parsed.fields,
      genuine: verifyNotice(message.text, [...keys]).genuine,
    });
  }
  let n = 0;
  for (const report of reports) {
    for (const file of report.letterFiles) {
      for (const letter of lettersInPdf(await readFile(file))) {
        const parsed = parseNoticeText(letter.lines.join('\n'));
        if (byCode.has(parsed.code)) continue;
        byCode.set(parsed.code, {
          channel: 'letter',
          incidentId: parsed.incidentId,
          personId: find('letter', letter.block),
          code: parsed.code,
          fields: parsed.fields,
          genuine: await genuineCode(world, parsed.code, n++),
        });
      }
    }
    if (report.smsFile) {
      const lines = (await readFile(report.smsFile, 'utf8')).split('\n').filter((l) => l.trim() !== '');
      for (const line of lines) {
        const sms = JSON.parse(line) as { to?: string; text?: string };
        const code = /([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\s*$/.exec(sms.text ?? '')?.[1];
        if (!code || byCode.has(code)) continue;
        byCode.set(code, {
          channel: 'sms',
          incidentId: report.incident,
          personId: find('phone', sms.to ?? ''),
          code,
          fields: null,
          genuine: await genuineCode(world, code, n++),
        });
      }
    }
  }
  return [...byCode.values()];
}
