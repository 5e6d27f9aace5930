/** Small tools the scenarios share: guesses an attacker would type, and one-line summaries of answers. */
import { randomInt } from 'node:crypto';
import type { Exchange } from './client.ts';

/** Crockford's base32, the alphabet of Rempart's recovery and one-time codes (docs/API.md). */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A well-formed guess of a recovery or one-time code: XXXX-XXXX-XXXX-XXXX. */
export function codeGuess(): string {
  let code = '';
  for (let i = 0; i < 16; i += 1) {
    if (i > 0 && i % 4 === 0) code += '-';
    code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  }
  return code;
}

/** A six-digit TOTP guess that is none of `exclude`. */
export function totpGuess(exclude: ReadonlySet<string>): string {
  for (;;) {
    const guess = String(randomInt(1_000_000)).padStart(6, '0');
    if (!exclude.has(guess)) return guess;
  }
}

/** `403 second_factor_required ×12, 401 unauthenticated ×3`: the answers, grouped, most frequent first. */
export function statusSummary(calls: readonly Exchange[]): string {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const key = call.code ? `${call.status} ${call.code}` : String(call.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([key, n]) => `${key} ×${n}`)
    .join(', ');
}

/** True for a 2xx answer. */
export function succeeded(call: Exchange): boolean {
  return call.status >= 200 && call.status < 300;
}

/** `POST /api/v1/x` for an exchange. */
export function describeCall(call: Exchange): string {
  return `${call.method} ${call.route} → ${call.status}`;
}
