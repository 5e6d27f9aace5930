/**
 * Staff passwords (docs/DESIGN.md section 5): length over composition rules, a local list of common and
 * breached passwords, argon2id storage, and a verification that takes the same time whether or not
 * the account exists. Rules follow NIST SP 800-63B-4 §3.1.1.2 (at least 8 characters for a password
 * used with a second factor, which is mandatory here, 15 alone: we ask 12; at least 64 allowed; no
 * composition rules; a blocklist of common, expected or compromised values and context-specific
 * words; each code point counts as one character).
 * Nothing in this file logs, and no error message contains the password.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { ValidationError } from '../errors.ts';

/** Minimum length, in Unicode code points after NFC normalisation. */
export const PASSWORD_MIN_LENGTH = 12;
/** Maximum length, in code points: long passphrases are welcome, megabyte bodies are not. */
export const PASSWORD_MAX_LENGTH = 256;

/**
 * OWASP Password Storage Cheat Sheet's minimum configuration for argon2id: 19 MiB of memory,
 * 2 iterations, 1 degree of parallelism. Raising them later is safe: verify reads the parameters
 * from each stored PHC string.
 */
const ARGON2_OPTIONS = {
  // `Algorithm` is a const enum, which isolatedModules cannot inline: 2 is Argon2id in @node-rs/argon2.
  algorithm: 2 as Algorithm,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** Characters that may surround a listed password without making it any less guessable. */
const AFFIX = /^[0-9!]$/u;
/** Separators ignored when comparing with the list ('pole-emploi 2024' is 'poleemploi2024'). */
const SEPARATORS = /[\s._-]+/gu;
/** Context words shorter than this are too common to refuse (NIST: context-specific words). */
const CONTEXT_MIN_LENGTH = 4;

let commonPasswords: Set<string> | undefined;

/** The shipped list, read once on first use (lines starting with '#' are its licence header). */
function commonList(): Set<string> {
  if (commonPasswords === undefined) {
    const text = readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8');
    commonPasswords = new Set(text.split('\n').filter((line) => line !== '' && !line.startsWith('#')));
  }
  return commonPasswords;
}

/** Case- and accent-insensitive form used for every comparison (the list is stored folded). */
function fold(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

function refuse(message: string): never {
  throw new ValidationError([{ field: 'password', message }]);
}

/**
 * True when `candidate` (folded) is a listed password, or a listed one with only digits or '!'
 * before or after it ('password1234!', '2024!motdepasse'): attackers' rules add those first.
 */
function isListed(candidate: string, list: Set<string>): boolean {
  if (list.has(candidate)) return true;
  const chars = [...candidate];
  let head = 0;
  while (head < chars.length && AFFIX.test(chars[head]!)) head += 1;
  if (head === chars.length) return false; // only digits and '!': matched whole or not at all
  let tail = chars.length;
  while (AFFIX.test(chars[tail - 1]!)) tail -= 1;
  // Try every split of the affixes, since listed entries may themselves end in digits ('qwerty123').
  for (let start = 0; start <= head; start += 1) {
    for (let end = tail; end <= chars.length; end += 1) {
      if (start === 0 && end === chars.length) continue;
      if (list.has(chars.slice(start, end).join(''))) return true;
    }
  }
  return false;
}

/** The words of the user's context that a password must not contain (NIST SP 800-63B-4 §3.1.1.2). */
function contextRules(context: { login?: string; email?: string; displayName?: string }): {
  words: string[];
  message: string;
}[] {
  const at = context.email?.lastIndexOf('@') ?? -1;
  const local = at === -1 ? context.email : context.email?.slice(0, at);
  const keep = (words: (string | undefined)[]): string[] =>
    words.flatMap((word) => {
      const folded = fold(word ?? '');
      // Each word is compared with and without its separators ('jean.dupont', 'jeandupont').
      return [folded, folded.replace(SEPARATORS, '')].filter((w) => [...w].length >= CONTEXT_MIN_LENGTH);
    });
  return [
    { words: keep([context.login]), message: 'must not contain the login' },
    { words: keep([local]), message: 'must not contain the email address' },
    {
      words: keep((context.displayName ?? '').split(/[^\p{L}\p{N}]+/u)),
      message: 'must not contain the name',
    },
  ];
}

/**
 * Refuses a password that breaks the policy, with a ValidationError on field `password` naming the
 * rule (never the password): length, common or breached list, user's login, email or name, and one
 * character or a short pattern repeated. No composition rules (NIST SP 800-63B-4 §3.1.1.2).
 */
export function checkPasswordPolicy(
  password: string,
  context: { login?: string; email?: string; displayName?: string },
): void {
  const normalised = password.normalize('NFC');
  const length = [...normalised].length;
  if (length < PASSWORD_MIN_LENGTH) refuse(`must be at least ${PASSWORD_MIN_LENGTH} characters long`);
  if (length > PASSWORD_MAX_LENGTH) refuse(`must be at most ${PASSWORD_MAX_LENGTH} characters long`);

  if (/^(.{1,3})\1+$/su.test(normalised)) refuse('must not be one character or a short pattern repeated');

  const folded = fold(normalised);
  const compact = folded.replace(SEPARATORS, '');
  const list = commonList();
  if (isListed(folded, list) || isListed(compact, list)) refuse('is a common or breached password');

  for (const { words, message } of contextRules(context)) {
    if (words.some((word) => folded.includes(word) || compact.includes(word))) refuse(message);
  }
}

/**
 * argon2id hash of the password (NFC-normalised, so the same password typed on macOS, which sends
 * NFD, and on Windows verifies), as a PHC string carrying its own salt and parameters.
 */
export async function hashPassword(password: string): Promise<string> {
  return hash(password.normalize('NFC'), ARGON2_OPTIONS);
}

/**
 * Hash of a random, discarded password, computed once at module load with the current parameters:
 * an unknown login is verified against it, so it costs what a known login costs (no account
 * enumeration through timing, docs/DESIGN.md section 5).
 */
const DUMMY_HASH: Promise<string> = hashPassword(randomBytes(32).toString('base64url'));
// Observed here so that a failure is not an unhandled rejection; verifyPassword still awaits it.
void DUMMY_HASH.catch(() => undefined);

/**
 * Constant-time verification of `password` against a stored argon2id hash. With `stored` null (no
 * such account) or an over-long password, runs one verification against the dummy hash anyway and
 * returns false, so the response time does not tell which accounts exist.
 */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  const normalised = password.normalize('NFC');
  const codePoints = [...normalised];
  const tooLong = codePoints.length > PASSWORD_MAX_LENGTH;
  if (stored === null || tooLong) {
    await verify(await DUMMY_HASH, tooLong ? codePoints.slice(0, PASSWORD_MAX_LENGTH).join('') : normalised);
    return false;
  }
  return verify(stored, normalised);
}
