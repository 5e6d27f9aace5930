/**
 * T6's material (drill/scenarios/t6.ts): the real messages and notices a phisher can get hold of, as
 * they arrive in the drill's mailbox, and the forgeries made from them. Codes and notices are read
 * from the delivered texts only (src/notify/codes.ts codeFooter, src/notify/notice-text.ts).
 */
import { randomInt } from 'node:crypto';
import type { Delivered } from '../mailbox.ts';

/** The footer of every staff message: "Code de vérification de ce message : XXXX-XXXX-XXXX". */
const STAFF_CODE = /Code de vérification de ce message : ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\n/;

/** The code a delivered staff message carries, if any. */
export function codeOfMessage(message: Delivered): string | undefined {
  return STAFF_CODE.exec(message.text)?.[1];
}

/** Crockford base 32, as the codes are written. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A code in the right format that Rempart never issued (60 random bits: a guess). */
export function forgedCode(): string {
  const chars = Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/** A signature line of a notice key (c2sp.org/signed-note: "— <name> <base64>"). */
const NOTICE_SIGNATURE = /^— rempart\/notices\/[0-9a-f]{8} [A-Za-z0-9+/=]+$/;

/**
 * The signed notice a delivered text holds, if any: from its first line ("Rempart - …", else the
 * text's start) to its last notice signature line, newline-terminated.
 */
export function noticeIn(text: string): string | undefined {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let last = -1;
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    if (NOTICE_SIGNATURE.test(lines[i]!)) {
      last = i;
      break;
    }
  }
  if (last < 0) return undefined;
  const first = Math.max(
    0,
    lines.findIndex((line) => line.startsWith('Rempart - ')),
  );
  return `${lines.slice(first, last + 1).join('\n')}\n`;
}

/** The French names of two fields (src/notify/notice-text.ts FIELD_NAMES_FR): one is swapped for the other. */
const SWAPS: [string, string][] = [
  ['votre adresse électronique', 'votre numéro de sécurité sociale (NIR)'],
  ['votre numéro de sécurité sociale (NIR)', 'votre adresse électronique'],
];

/**
 * The notice with one field changed, signature kept: an exposed field swapped for another (what a
 * forger would do to frighten), else one character of its incident line changed.
 */
export function withOneFieldChanged(notice: string): string {
  for (const [from, to] of SWAPS)
    if (notice.includes(`- ${from}\n`)) return notice.replace(`- ${from}\n`, `- ${to}\n`);
  return notice.replace(
    /^(Incident : .*)(.)$/m,
    (_all, head: string, tail: string) => `${head}${tail === '0' ? '1' : '0'}`,
  );
}

/** The lines POST /api/v1/notices/verify takes (no API field holds a line break). */
export function linesOf(notice: string): string[] {
  return notice.replace(/\n$/, '').split('\n');
}
