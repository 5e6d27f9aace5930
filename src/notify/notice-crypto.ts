/**
 * A notice's signed text, encrypted under its person's data key (migration 0018): it names the
 * fields exposed, so it is personal data, and it cannot be regenerated (its code is random and only
 * the code's hash is kept). The AAD binds the ciphertext to the person and to the notice id, so a
 * notice copied to another row or person does not decrypt (docs/DESIGN.md section 13).
 */
import { openFields, sealFields } from '../crypto/envelope.ts';
import { asBuffer } from '../registry/columns.ts';
import { IDENTITY_FIELDS, type Identity, type IdentityField } from '../registry/person.ts';
import { FIELD_CODE, type RegistryKeys } from '../registry/persons.ts';

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

/** Every identity field by its code: a record's field list is authenticated through any of them. */
const ALL_FIELDS: ReadonlyMap<number, string> = new Map(IDENTITY_FIELDS.map((f) => [FIELD_CODE[f], f]));

/**
 * Unwraps the person's data key once for a notice's several uses (the job decrypts the contact
 * fields and the text, or seals the text, per notice: one unwrap instead of two at 100,000 notices).
 * `fields` decrypts identity fields (JSON ones parsed); `openText`/`sealText` the notice's text.
 */
export async function withPersonKey<T>(
  keys: RegistryKeys,
  person: PersonKeyRow & { sealed: Uint8Array },
  use: (key: {
    fields(names: readonly IdentityField[]): Partial<Identity>;
    openText(noticeId: string, sealed: Uint8Array): string;
    sealText(noticeId: string, text: string): Buffer;
  }) => T,
): Promise<T> {
  const key = await dataKey(keys, person);
  try {
    return use({
      fields(names) {
        const opened = openFields(
          key,
          person.id,
          person.sealed,
          new Map(names.map((f) => [FIELD_CODE[f], f])),
          ALL_FIELDS,
        );
        const out: Record<string, unknown> = {};
        for (const f of names) {
          const text = opened.get(FIELD_CODE[f]) ?? null;
          out[f] = text === null ? null : f === 'address' || f === 'birthPlace' ? JSON.parse(text) : text;
        }
        return out as Partial<Identity>;
      },
      openText: (noticeId, sealed) =>
        openFields(key, person.id, sealed, new Map([[CODE, name(noticeId)]])).get(CODE) ?? '',
      sealText: (noticeId, text) =>
        sealFields(key, person.id, [{ code: CODE, name: name(noticeId), value: text }]),
    });
  } finally {
    key.fill(0);
  }
}
