/**
 * A person's notices for the portal (docs/NOTICES.md, "The portal"): every notice is readable in the
 * person's portal whatever channel it went by, as the signed text the person can download and
 * verify. Read in the person's own transaction (the person actor: migration 0022's policy lets it
 * see its own notices only, and 0019's its own record and incident rows): a notice id of another
 * person finds no row, exactly as an unknown id (no hint that it exists), whatever the query says.
 */
import type { Db } from '../db/types.ts';
import type { RegistryKeys } from '../registry/persons.ts';
import { openNoticeText, type PersonKeyRow } from './notice-crypto.ts';
import type { NoticeChannel } from './notices-create.ts';

/** One notice as its person sees it. */
export interface PersonNotice {
  id: string;
  incidentId: string;
  channel: NoticeChannel;
  state: 'pending' | 'claimed' | 'sent' | 'failed';
  createdAt: string;
  sentAt: string | null;
  /** The fields it names (the person's incident_persons row: exactly what was exposed of them). */
  fields: string[];
  /** The signed notice (c2sp.org signed note), exactly as sent. */
  signedText: string;
}

interface Row {
  id: string;
  incident_id: string;
  channel: NoticeChannel;
  state: PersonNotice['state'];
  created_at: Date;
  sent_at: Date | null;
  signed_text_enc: Uint8Array;
  fields: string[];
  kek_id: string;
  wrapped_key: Uint8Array;
}

const SELECT = `SELECT n.id, n.incident_id, n.channel, n.state, n.created_at, n.sent_at, n.signed_text_enc,
    ip.fields, p.kek_id, p.wrapped_key
  FROM notices n JOIN persons p ON p.id = n.person_id
  JOIN incident_persons ip ON ip.incident_id = n.incident_id AND ip.person_id = n.person_id`;

async function toNotice(keys: RegistryKeys, personId: string, row: Row): Promise<PersonNotice> {
  const person: PersonKeyRow = { id: personId, kek_id: row.kek_id, wrapped_key: row.wrapped_key };
  return {
    id: row.id,
    incidentId: row.incident_id,
    channel: row.channel,
    state: row.state,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
    fields: row.fields,
    signedText: await openNoticeText(keys, person, row.id, row.signed_text_enc),
  };
}

/** The person's notices, newest first, with their signed texts. */
export async function noticesForPerson(
  db: Db,
  keys: RegistryKeys,
  personId: string,
): Promise<PersonNotice[]> {
  const rows = await db.tx({ kind: 'person', personId }, (tx) =>
    tx.query<Row>(`${SELECT} WHERE n.person_id = $1 ORDER BY n.created_at DESC, n.id`, [personId]),
  );
  return Promise.all(rows.map((row) => toNotice(keys, personId, row)));
}

/** One notice of the person, or null when there is none with that id for this person. */
export async function noticeForPerson(
  db: Db,
  keys: RegistryKeys,
  personId: string,
  noticeId: string,
): Promise<PersonNotice | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(noticeId)) return null;
  const [row] = await db.tx({ kind: 'person', personId }, (tx) =>
    tx.query<Row>(`${SELECT} WHERE n.person_id = $1 AND n.id = $2`, [personId, noticeId]),
  );
  return row ? toNotice(keys, personId, row) : null;
}
