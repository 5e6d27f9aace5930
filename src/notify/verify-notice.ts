/**
 * The public check of a signed notice (GDPR art. 34 notices; docs/DESIGN.md section 2, T6): anyone
 * holding a notice (a mail, a letter scanned, a portal download) learns whether Rempart signed it,
 * unaltered, under which published key, and, from the verification code it carries, its kind and
 * date; never whom it went to or the incident. The verifier keys are the keyring's notice keys,
 * current and retired (a rotation keeps older notices verifiable), re-read when the keyring changes
 * so that a rotation by `rempart keys rotate-notices` is published without a restart.
 */
import { stat } from 'node:fs/promises';
import { signerFromPkcs8 } from '../audit/checkpoint.ts';
import { systemCtx } from '../context.ts';
import type { NoticeSigningKeys } from '../crypto/keyring.ts';
import { loadKeyring } from '../crypto/keyring.ts';
import { verifyNotice } from '../crypto/notice-signing.ts';
import type { Db } from '../db/types.ts';
import { ValidationError } from '../errors.ts';
import { findMessage } from './codes.ts';
import { countPublicCheck, VERIFY_LIMITS, type VerifyLimits } from './verify-message.ts';

/** The largest notice accepted for checking, in characters (a notice is about 2,500). */
export const NOTICE_MAX_CHARS = 16_384;
/** The most lines a notice checked may have (a notice has about 40). */
export const NOTICE_LINES = 400;

/**
 * A notice's text from its lines, as the API takes it (no API field holds a line break:
 * src/control-characters.ts); more than NOTICE_MAX_CHARS in all is refused naming `lines`.
 */
export function noticeFromLines(lines: readonly string[]): string {
  const text = `${lines.join('\n')}\n`;
  if (text.length > NOTICE_MAX_CHARS)
    throw new ValidationError([
      { field: 'lines', message: `must hold at most ${NOTICE_MAX_CHARS} characters in all` },
    ]);
  return text;
}

/** A published notice key: its signed-note name, verifier key, whether it signs new notices, since when. */
export interface PublishedNoticeKey {
  name: string;
  /** `name+keyid+base64` (c2sp.org/signed-note verifier key). */
  key: string;
  current: boolean;
  createdAt: string;
}

/** The notice keys as published (GET /api/v1/notices/keys): current first, then retired, newest first. */
export function publishedNoticeKeys(keys: NoticeSigningKeys | undefined): PublishedNoticeKey[] {
  if (!keys) return [];
  return Object.entries(keys.keys)
    .map(([name, key]) => ({
      name,
      key: signerFromPkcs8(name, key.pkcs8).verifierKey,
      current: name === keys.current,
      createdAt: key.createdAt,
    }))
    .sort((a, b) => Number(b.current) - Number(a.current) || b.createdAt.localeCompare(a.createdAt));
}

/** Where the server reads its notice keys from: called at each check (cheap when nothing changed). */
export type NoticeKeySource = () => Promise<PublishedNoticeKey[]>;

/**
 * The notice keys of the keyring file at `keyringPath`, re-read when the file changes (size or
 * modification time): a rotation by another process is picked up at the next check.
 */
export function keyringNoticeKeys(keyringPath: string): NoticeKeySource {
  let seen = '';
  let cached: PublishedNoticeKey[] = [];
  return async () => {
    const info = await stat(keyringPath);
    const mark = `${info.size}:${info.mtimeMs}`;
    if (mark !== seen) {
      cached = publishedNoticeKeys((await loadKeyring(keyringPath)).noticeSigning);
      seen = mark;
    }
    return cached;
  };
}

/** The answer to a notice check: nothing personal (no recipient, no incident, no text). */
export type NoticeVerification =
  | { genuine: true; signedBy: string; sentAt?: Date; kind?: string }
  | { genuine: false; signedBy: null };

/** The verification code a notice carries (notice-text.ts: "Code de vérification : XXXX-XXXX-XXXX"). */
export function codeOfNotice(body: string): string | undefined {
  return /^Code de vérification : ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})$/m.exec(body)?.[1];
}

const actor = systemCtx('notice-verify').actor;

/**
 * A notice as pasted or saved, in the signed-note form: CRLF read as LF (mail clients), and the end
 * trimmed to exactly one newline (a text area or an editor adds or drops one). Nothing else changes:
 * any other altered byte fails the signature.
 */
export function normalizeNoticeText(text: string): string {
  return `${text.replace(/\r\n/g, '\n').replace(/\s+$/, '')}\n`;
}

/**
 * Checks a signed notice for anyone: throttled like the message check (its own counters), then the
 * signature against the published keys; a genuine notice's code gives its kind and date when the
 * code is registered. The text is normalized first (normalizeNoticeText).
 */
export async function checkNotice(
  db: Db,
  request: { notice: string; sourceAddress: string; now: Date },
  keys: PublishedNoticeKey[],
  limits: VerifyLimits = VERIFY_LIMITS,
): Promise<NoticeVerification> {
  await countPublicCheck(db, 'notice-verify', request.sourceAddress, request.now, limits);
  const checked = verifyNotice(
    normalizeNoticeText(request.notice),
    keys.map((k) => k.key),
  );
  if (!checked.genuine) return { genuine: false, signedBy: null };
  const code = codeOfNotice(checked.body);
  const found = code ? await db.tx(actor, (tx) => findMessage(tx, code)) : null;
  return {
    genuine: true,
    signedBy: checked.signedBy,
    ...(found ? { sentAt: found.sentAt, kind: found.kind } : {}),
  };
}
