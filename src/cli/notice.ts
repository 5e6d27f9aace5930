/**
 * `rempart notice verify|sign` and `rempart keys rotate-notices` (docs/NOTICES.md, "Checking a
 * notice"; T6). Verification works offline: from the keyring's notice keys (current and retired), or
 * from a file of verifier keys as GET /api/v1/notices/keys serves them, so that anyone given that
 * file can check a notice without reaching Rempart.
 */
import { readFile } from 'node:fs/promises';
import type { Config } from '../config.ts';
import { systemCtx } from '../context.ts';
import { loadKeyring, rotateNoticeSigningKey } from '../crypto/keyring.ts';
import { noticeKeysOf, signNotice, verifyNotice } from '../crypto/notice-signing.ts';
import { openDb } from '../db/open.ts';
import { AppError, ValidationError } from '../errors.ts';
import { type MessageChannel, registerMessage } from '../notify/codes.ts';
import {
  codeOfNotice,
  NOTICE_MAX_CHARS,
  normalizeNoticeText,
  publishedNoticeKeys,
} from '../notify/verify-notice.ts';

/** What `rempart notice verify` prints: never the notice's content beyond its key and code. */
export interface NoticeVerifySummary {
  genuine: boolean;
  signedBy: string | null;
  /** The notice's verification code, to check its kind and date on the public page. */
  code: string | null;
  /** Why it is not genuine (altered text, unknown key, not a signed notice). */
  reason?: string;
  /** Where the verifier keys came from. */
  keys: 'keyring' | 'file';
}

async function readText(file: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new AppError(
      'validation_failed',
      `${what}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { field: what },
    );
  }
  if (text.length > NOTICE_MAX_CHARS * 4)
    throw new AppError('validation_failed', `${what}: ${file} is too large to be a notice`, { field: what });
  return text;
}

/**
 * The verifier keys of a keys file: the JSON of GET /api/v1/notices/keys (`{keys: [{key}]}`), or one
 * verifier key a line (`name+keyid+base64`).
 */
export function keysFromFile(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new AppError('validation_failed', 'keys: the file is not valid JSON', { field: 'keys' });
    }
    const list = (parsed as { keys?: unknown }).keys;
    if (!Array.isArray(list) || list.some((k) => typeof (k as { key?: unknown })?.key !== 'string'))
      throw new AppError('validation_failed', 'keys: expected {"keys": [{"key": "name+id+base64"}, …]}', {
        field: 'keys',
      });
    return list.map((k) => (k as { key: string }).key);
  }
  return trimmed.split(/\r?\n/).filter((line) => line.trim() !== '');
}

/** Checks a notice file against the keyring's notice keys, or those of `keysFile`. */
export async function runNoticeVerify(
  config: Pick<Config, 'keyringPath'>,
  file: string,
  options: { keys?: string },
): Promise<NoticeVerifySummary> {
  const notice = normalizeNoticeText(await readText(file, 'file'));
  const keys = options.keys
    ? keysFromFile(await readText(options.keys, 'keys'))
    : publishedNoticeKeys((await loadKeyring(config.keyringPath)).noticeSigning).map((k) => k.key);
  const source = options.keys ? 'file' : 'keyring';
  // A key malformed in the file is the file's fault, not the notice's: say so.
  const checked = (() => {
    try {
      return verifyNotice(notice, keys);
    } catch (error) {
      throw new AppError('validation_failed', `keys: ${(error as Error).message}`, { field: 'keys' });
    }
  })();
  if (!checked.genuine)
    return { genuine: false, signedBy: null, code: null, reason: checked.reason, keys: source };
  return {
    genuine: true,
    signedBy: checked.signedBy,
    code: codeOfNotice(checked.body) ?? null,
    keys: source,
  };
}

/** The channels a hand-signed notice may be registered as going by. */
const SIGN_CHANNELS: readonly MessageChannel[] = ['email', 'sms', 'letter', 'portal'];

/** What `rempart notice sign` prints. */
export interface NoticeSignSummary {
  /** The signed notice (c2sp.org/signed-note). */
  notice: string;
  signedBy: string;
  /** The code registered for it, when the text held `{code}`. */
  code: string | null;
}

/**
 * Signs a text with the keyring's current notice key (a notice written by hand, a letter issued
 * again). When the text holds `{code}`, a message of `kind` and `channel` is registered first and
 * its code written there, so the public checks give the notice's kind and date.
 */
export async function runNoticeSign(
  config: Config,
  file: string,
  options: { kind: string; channel: string },
): Promise<NoticeSignSummary> {
  if (!SIGN_CHANNELS.includes(options.channel as MessageChannel))
    throw new ValidationError([{ field: 'channel', message: `must be one of ${SIGN_CHANNELS.join(', ')}` }]);
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(options.kind))
    throw new ValidationError([
      { field: 'kind', message: 'must be lower-case letters, digits and _ (at most 40)' },
    ]);
  const keyring = await loadKeyring(config.keyringPath);
  const keys = noticeKeysOf(keyring);
  const text = normalizeNoticeText(await readText(file, 'file'));
  if (!text.includes('{code}')) return { notice: signNotice(keys, text), signedBy: keys.current, code: null };
  const db = await openDb(config);
  try {
    const registered = await db.tx(systemCtx('notice-sign').actor, (tx) =>
      registerMessage(
        tx,
        { kind: options.kind, channel: options.channel as MessageChannel, at: new Date() },
        (code) => text.replaceAll('{code}', code),
      ),
    );
    return { notice: signNotice(keys, registered.content), signedBy: keys.current, code: registered.code };
  } finally {
    await db.close();
  }
}

/** `rempart keys rotate-notices`: a new current notice key; the older ones stay to verify older notices. */
export async function runRotateNotices(
  config: Pick<Config, 'keyringPath'>,
): Promise<{ current: string; keys: { name: string; current: boolean; createdAt: string }[] }> {
  const keyring = await loadKeyring(config.keyringPath);
  const rotated = await rotateNoticeSigningKey(keyring);
  return {
    current: rotated.current,
    keys: publishedNoticeKeys(rotated).map(({ name, current, createdAt }) => ({ name, current, createdAt })),
  };
}
