/**
 * Signed notices (docs/DESIGN.md section 9, T6): every notice Rempart sends to a person is a
 * signed note (c2sp.org/signed-note, the format of the audit log's checkpoints) under the keyring's
 * current notice key, so the person can keep it as evidence and anyone holding the published
 * verifier keys can check that it is genuine and unaltered, offline.
 */
import { type NoteSigner, openNote, signerFromPkcs8, signNote } from '../audit/checkpoint.ts';
import { AppError } from '../errors.ts';
import type { Keyring, NoticeSigningKeys } from './keyring.ts';

/** The signer of new notices: the keyring's current notice key. */
export function noticeSigner(keys: NoticeSigningKeys): NoteSigner {
  const current = keys.keys[keys.current];
  if (!current) throw new AppError('keyring_invalid', "the keyring's current notice signing key is missing");
  return signerFromPkcs8(keys.current, current.pkcs8);
}

/** The verifier keys (`name+keyid+base64`) of every notice key, current and retired: what is published. */
export function noticeVerifierKeys(keys: NoticeSigningKeys): string[] {
  return Object.entries(keys.keys).map(([name, key]) => signerFromPkcs8(name, key.pkcs8).verifierKey);
}

/** Signs a notice's text (UTF-8, ending with a newline, no control character but newlines). */
export function signNotice(keys: NoticeSigningKeys, body: string): string {
  return signNote(body, [noticeSigner(keys)]);
}

/** The result of checking a signed notice. */
export type NoticeCheck =
  | { genuine: true; body: string; signedBy: string }
  | { genuine: false; reason: string };

/**
 * Checks a signed notice against verifier keys: genuine when a known key's signature verifies over
 * the exact text; any altered byte, unknown key or malformed note is `genuine: false` with the reason.
 */
export function verifyNotice(note: string, verifierKeys: string[]): NoticeCheck {
  try {
    const { body, verifiedBy } = openNote(note, verifierKeys);
    return { genuine: true, body, signedBy: verifiedBy[0] as string };
  } catch (error) {
    return { genuine: false, reason: error instanceof Error ? error.message : 'not a signed notice' };
  }
}

/** The notice keys of a loaded keyring, or an error saying how to add them. */
export function noticeKeysOf(keyring: Keyring): NoticeSigningKeys {
  if (!keyring.noticeSigning)
    throw new AppError(
      'keyring_invalid',
      'the keyring has no notice signing key yet (ensureNoticeSigningKeys adds it)',
    );
  return keyring.noticeSigning;
}
