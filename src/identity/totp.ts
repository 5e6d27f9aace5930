/**
 * TOTP (RFC 6238) with the parameters every authenticator app expects: HMAC-SHA-1, 6 digits,
 * 30-second steps, a 160-bit secret (RFC 4226 §4 recommends 160 bits). A code is accepted in its own
 * step and one step either side (RFC 6238 §5.2: clock drift and transmission delay), and never twice:
 * the caller stores the matched step and passes it back, and any code of that step or an older one
 * is refused (RFC 6238 §5.2: "the verifier MUST NOT accept the second attempt of the OTP after the
 * successful validation"), which defeats a phished or shoulder-surfed code replayed later (T1).
 */
import { generateSecret, verify } from 'otplib';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
const SECRET_BYTES = 20;

/** A new random TOTP secret: 160 bits, base32 (32 characters, no padding). */
export function newTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

/**
 * The otpauth:// URI an authenticator app scans (Google Authenticator key URI format): label
 * "issuer:account" and every parameter percent-encoded, algorithm, digits and period spelled out.
 */
export function totpUri(secret: string, account: string, issuer = 'Rempart'): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = [
    ['secret', secret],
    ['issuer', issuer],
    ['algorithm', 'SHA1'],
    ['digits', String(DIGITS)],
    ['period', String(PERIOD_SECONDS)],
  ]
    .map(([key, value]) => `${key}=${encodeURIComponent(value ?? '')}`)
    .join('&');
  return `otpauth://totp/${label}?${query}`;
}

/**
 * Checks a 6-digit code (spaces allowed, as apps display "123 456") at `now`, within ±1 step, and
 * newer than `lastUsedStep`. On success returns the matched step, which the caller stores as the new
 * lastUsedStep (atomically: two requests with the same code must not both succeed).
 */
export async function checkTotp(
  secret: string,
  token: string,
  now: Date,
  lastUsedStep: number | null,
): Promise<{ ok: true; step: number } | { ok: false }> {
  const code = token.replace(/\s+/gu, '');
  if (!/^[0-9]{6}$/u.test(code)) return { ok: false };
  const epoch = Math.floor(now.getTime() / 1000);
  const result = await verify({
    secret,
    token: code,
    epoch,
    algorithm: 'sha1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    // A tolerance of one period either side checks exactly the previous, current and next steps.
    epochTolerance: PERIOD_SECONDS,
  });
  if (!result.valid) return { ok: false };
  const step = Math.floor(epoch / PERIOD_SECONDS) + result.delta;
  if (lastUsedStep !== null && step <= lastUsedStep) return { ok: false };
  return { ok: true, step };
}
