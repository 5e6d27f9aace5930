/**
 * A notice's signed text, encrypted under its person's data key (migration 0018): it names the
 * fields exposed, so it is personal data, and it cannot be regenerated (its code is random and only
 * the code's hash is kept). The AAD binds the ciphertext to the person and to the notice id, so a
 * notice copied to another row or person does not decrypt (docs/DESIGN.md section 13).
 */
import { openFields, sealFields } from '../crypto/envelope.ts';
import { asBuffer } from '../registry/columns.ts';
import type { RegistryKeys } from '../registry/persons.ts';

/** A person's wrapped data key, as read from `persons`. */
export interface PersonKeyRow {
  id: string;
  kek_id: string;
  wrapped_key: Uint8Array;
}

const CODE = 1;
const name = (noticeId: string): string => `notice/${noticeId}`;

async function dataKey(keys: RegistryKeys, row: PersonKeyRow): Promise<Buffer> {
  return keys.kms.unwrapKey(row.id, { kekId: row.kek_id, wrapped: asBuffer(row.wrapped_key) });
}

/** Encrypts a notice's signed text for `notices.signed_text_enc`. */
export async function sealNoticeText(
  keys: RegistryKeys,
  person: PersonKeyRow,
  noticeId: string,
  text: string,
): Promise<Buffer> {
  const key = await dataKey(keys, person);
  try {
    return sealFields(key, person.id, [{ code: CODE, name: name(noticeId), value: text }]);
  } finally {
    key.fill(0);
  }
}

/** Decrypts a notice's signed text (decryption_failed if altered, moved or under another key). */
export async function openNoticeText(
  keys: RegistryKeys,
  person: PersonKeyRow,
  noticeId: string,
  sealed: Uint8Array,
): Promise<string> {
  const key = await dataKey(keys, person);
  try {
    const opened = openFields(key, person.id, sealed, new Map([[CODE, name(noticeId)]]));
    return opened.get(CODE) ?? '';
  } finally {
    key.fill(0);
  }
}
