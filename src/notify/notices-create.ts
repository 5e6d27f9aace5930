/**
 * Creating an incident's notices (GDPR art. 34; docs/NOTICES.md): one per person of
 * incident_persons, paged by person id, one transaction per page. Each notice is a registered
 * message (codes.ts: kind `incident_notice`, its code and the SHA-256 of its exact text), signed
 * (c2sp.org signed note), and stored encrypted under the person's data key with the channel chosen
 * from the contact details the person has. UNIQUE (incident_id, person_id) and the "already has a
 * notice" check make a rerun create only the missing ones: a person never gets two notices (two
 * codes, two texts) for one incident.
 */
import { randomUUID } from 'node:crypto';
import { signNote } from '../audit/checkpoint.ts';
import type { NoticeSigningKeys } from '../crypto/keyring.ts';
import { noticeSigner } from '../crypto/notice-signing.ts';
import type { Tx } from '../db/types.ts';
import { AppError } from '../errors.ts';
import { incidentPersonsPage } from '../incidents/incidents.ts';
import { byteaArray, plainArray } from '../registry/columns.ts';
import type { Identity } from '../registry/person.ts';
import type { RegistryKeys, SealedRow } from '../registry/persons.ts';
import { registerMessages } from './codes.ts';
import { type PersonKeyRow, sealNoticeText, withPersonKey } from './notice-crypto.ts';
import { renderNoticeText } from './notice-text.ts';

/** The channel a notice goes by. */
export type NoticeChannel = 'email' | 'sms' | 'letter' | 'portal';

/**
 * The channel from the contact details on file (docs/NOTICES.md, "Channels"): email first (the full
 * signed notice, delivered in seconds); else a letter (the full notice on paper, art. 34 asks for a
 * direct communication); else an SMS alert (too short for the notice: it points to the portal and
 * gives the code); else the portal only. Every notice is readable in the portal whatever its channel.
 */
export function chooseChannel(
  contact: Partial<Pick<Identity, 'email' | 'phone' | 'address'>>,
): NoticeChannel {
  if (contact.email) return 'email';
  if (contact.address) return 'letter';
  if (contact.phone) return 'sms';
  return 'portal';
}

/** What creating notices needs: the keys and the facts every notice states. */
export interface CreateDeps {
  registry: RegistryKeys;
  noticeKeys: NoticeSigningKeys;
  publicUrl: string;
}

/** The incident's detection date (stated in every notice), or not_found. */
export async function incidentDetectedAt(tx: Tx, incidentId: string): Promise<Date> {
  const [row] = await tx.query<{ detected_at: Date }>('SELECT detected_at FROM incidents WHERE id = $1', [
    incidentId,
  ]);
  if (!row) throw new AppError('not_found', 'incident: no such incident', { field: 'incident' });
  return row.detected_at;
}

/**
 * Creates the notices of one page of the incident's persons (after `after`, at most `limit`) that
 * have none yet, in the caller's transaction (system actor). Returns the page's last person id (null
 * when the page was empty: done) and how many notices it created.
 */
export async function createNoticesPage(
  tx: Tx,
  deps: CreateDeps,
  incident: { id: string; detectedAt: Date },
  after: string | null,
  limit: number,
  now: Date,
): Promise<{ last: string | null; created: number }> {
  const page = await incidentPersonsPage(tx, incident.id, after, limit);
  if (page.length === 0) return { last: null, created: 0 };
  const ids = page.map((p) => p.personId);
  const existing = await tx.query<{ person_id: string }>(
    'SELECT person_id FROM notices WHERE incident_id = $1 AND person_id = ANY($2::uuid[])',
    [incident.id, plainArray(ids)],
  );
  const done = new Set(existing.map((r) => r.person_id));
  const missing = page.filter((p) => !done.has(p.personId));
  if (missing.length > 0) {
    const rows = await tx.query<SealedRow>(
      'SELECT id, kek_id, wrapped_key, sealed FROM persons WHERE id = ANY($1::uuid[])',
      [plainArray(missing.map((p) => p.personId))],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    // Channels first (one decryption of the contact fields each), then every message in one statement.
    const channels: NoticeChannel[] = [];
    for (const person of missing) {
      const row = byId.get(person.personId);
      if (!row) throw new AppError('internal', 'a person of the incident is not in the registry');
      channels.push(
        await withPersonKey(deps.registry, row, (key) =>
          chooseChannel(key.fields(['email', 'phone', 'address'])),
        ),
      );
    }
    // One signer per page: building it parses the PKCS#8 key (signedNoticeText does so per call).
    const signer = noticeSigner(deps.noticeKeys);
    const messages = await registerMessages(
      tx,
      missing.map((person, i) => ({
        kind: 'incident_notice',
        channel: channels[i]!,
        at: now,
        personId: person.personId,
        incidentId: incident.id,
      })),
      (code, i) =>
        signNote(
          renderNoticeText({
            incidentId: incident.id,
            fields: missing[i]!.fields,
            code,
            publicUrl: deps.publicUrl,
            detectedAt: incident.detectedAt,
          }),
          [signer],
        ),
    );
    const out = {
      id: [] as string[],
      person: [] as string[],
      message: [] as string[],
      channel: [] as string[],
    };
    const sealed: Buffer[] = [];
    for (const [i, person] of missing.entries()) {
      const id = randomUUID();
      const row = byId.get(person.personId)!;
      sealed.push(await sealNoticeText(deps.registry, row as PersonKeyRow, id, messages[i]!.content));
      out.id.push(id);
      out.person.push(person.personId);
      out.message.push(messages[i]!.id);
      out.channel.push(channels[i]!);
    }
    await tx.query(
      `INSERT INTO notices (id, incident_id, person_id, message_id, channel, signed_text_enc, created_at)
       SELECT n.id, $1, n.person_id, n.message_id, n.channel, n.enc, $7
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::bytea[])
         AS n(id, person_id, message_id, channel, enc)`,
      [
        incident.id,
        plainArray(out.id),
        plainArray(out.person),
        plainArray(out.message),
        plainArray(out.channel),
        byteaArray(sealed),
        now,
      ],
    );
  }
  return { last: page[page.length - 1]!.personId, created: missing.length };
}
