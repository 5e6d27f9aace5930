import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { checkTotp, newTotpSecret, totpUri } from './totp.ts';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890", here in base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
// A fixed instant, 10 s into step 58_000_000 (which starts at 2025-02-19T21:20:00Z).
const STEP = 58_000_000;
const NOW = new Date((STEP * 30 + 10) * 1000);

/** The code an authenticator app shows during `step`. */
async function codeAt(step: number, secret = RFC_SECRET): Promise<string> {
  return generate({ secret, epoch: step * 30 });
}

describe('TOTP secrets and URIs', () => {
  it('makes 160-bit base32 secrets, different each time', () => {
    const secrets = Array.from({ length: 20 }, () => newTotpSecret());
    for (const secret of secrets) expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 32 × 5 bits = 160 bits
    expect(new Set(secrets).size).toBe(20);
  });

  it('builds an otpauth URI an authenticator app can read', () => {
    const uri = totpUri(RFC_SECRET, 'jean.dupont@agence.example');
    expect(uri).toBe(
      `otpauth://totp/Rempart:jean.dupont%40agence.example?secret=${RFC_SECRET}&issuer=Rempart&algorithm=SHA1&digits=6&period=30`,
    );
  });

  it('percent-encodes the account and issuer, so neither can break the URI', () => {
    const uri = new URL(totpUri(RFC_SECRET, 'a:b&secret=AAAA#x y', 'Pôle & Co'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(uri.hash).toBe('');
    expect(uri.searchParams.getAll('secret')).toEqual([RFC_SECRET]);
    expect(uri.searchParams.get('issuer')).toBe('Pôle & Co');
    const [issuer, account, ...rest] = uri.pathname.slice(1).split(':');
    expect(rest).toEqual([]);
    expect(decodeURIComponent(issuer!)).toBe('Pôle & Co');
    expect(decodeURIComponent(account!)).toBe('a:b&secret=AAAA#x y');
  });
});

describe('checkTotp', () => {
  it.each([
    // RFC 6238 Appendix B, SHA-1 rows: the 8-digit values, of which an app shows the last 6.
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
  ])('matches RFC 6238 Appendix B at T=%i (%s)', async (seconds, eightDigits) => {
    expect(await generate({ secret: RFC_SECRET, epoch: seconds, digits: 8 })).toBe(eightDigits);
    const result = await checkTotp(RFC_SECRET, eightDigits.slice(2), new Date(seconds * 1000), null);
    expect(result).toEqual({ ok: true, step: Math.floor(seconds / 30) });
  });

  it('refuses the 6-digit code of the RFC vector at a time two steps later', async () => {
    expect(await checkTotp(RFC_SECRET, '287082', new Date(59_000), null)).toEqual({ ok: true, step: 1 });
    expect(await checkTotp(RFC_SECRET, '287082', new Date(119_000), null)).toEqual({ ok: false });
  });

  it.each([
    ['the current step', 0],
    ['the previous step (slow clock or typing)', -1],
    ['the next step (fast clock)', 1],
  ])('accepts the code of %s and returns its step', async (_why, offset) => {
    const result = await checkTotp(RFC_SECRET, await codeAt(STEP + offset), NOW, null);
    expect(result).toEqual({ ok: true, step: STEP + offset });
  });

  it.each([
    ['two steps ago', -2],
    ['two steps ahead', 2],
    ['ten steps ago', -10],
  ])('refuses the code of %s', async (_why, offset) => {
    expect(await checkTotp(RFC_SECRET, await codeAt(STEP + offset), NOW, null)).toEqual({ ok: false });
  });

  it('accepts ±1 step at both edges of the current step, and no more', async () => {
    const start = new Date(STEP * 30 * 1000);
    const end = new Date((STEP * 30 + 29) * 1000 + 999);
    for (const now of [start, end]) {
      for (const offset of [-1, 0, 1]) {
        expect(await checkTotp(RFC_SECRET, await codeAt(STEP + offset), now, null)).toEqual({
          ok: true,
          step: STEP + offset,
        });
      }
      for (const offset of [-2, 2]) {
        expect(await checkTotp(RFC_SECRET, await codeAt(STEP + offset), now, null)).toEqual({ ok: false });
      }
    }
  });

  it('refuses a replay of a code already used', async () => {
    const code = await codeAt(STEP);
    const first = await checkTotp(RFC_SECRET, code, NOW, null);
    expect(first).toEqual({ ok: true, step: STEP });
    expect(await checkTotp(RFC_SECRET, code, NOW, STEP)).toEqual({ ok: false });
    // Still refused 20 s later, while the same code is still inside the ±1 window.
    expect(await checkTotp(RFC_SECRET, code, new Date(NOW.getTime() + 20_000), STEP)).toEqual({ ok: false });
  });

  it('refuses an older code once a newer one was used, and accepts a newer one', async () => {
    expect(await checkTotp(RFC_SECRET, await codeAt(STEP - 1), NOW, STEP)).toEqual({ ok: false });
    expect(await checkTotp(RFC_SECRET, await codeAt(STEP), NOW, STEP + 1)).toEqual({ ok: false });
    expect(await checkTotp(RFC_SECRET, await codeAt(STEP + 1), NOW, STEP)).toEqual({
      ok: true,
      step: STEP + 1,
    });
  });

  it('accepts a code typed with spaces, as apps display it', async () => {
    const code = await codeAt(STEP);
    expect(await checkTotp(RFC_SECRET, ` ${code.slice(0, 3)} ${code.slice(3)} `, NOW, null)).toEqual({
      ok: true,
      step: STEP,
    });
  });

  it.each([
    ['empty', ''],
    ['5 digits', 'CUT'],
    ['7 digits', 'ADD'],
    ['letters', 'abcdef'],
    ['a sign', '+12345'],
    ['a dash', '123-456'],
    ['full-width digits', '１２３４５６'],
    ['Arabic-Indic digits', '١٢٣٤٥٦'],
  ])('refuses a malformed code (%s)', async (_why, token) => {
    const code = await codeAt(STEP);
    const input = token === 'CUT' ? code.slice(0, 5) : token === 'ADD' ? `${code}0` : token;
    expect(await checkTotp(RFC_SECRET, input, NOW, null)).toEqual({ ok: false });
  });

  it('refuses the right code for another secret', async () => {
    const other = newTotpSecret();
    expect(await checkTotp(RFC_SECRET, await codeAt(STEP, other), NOW, null)).toEqual({ ok: false });
    expect(await checkTotp(other, await codeAt(STEP, other), NOW, null)).toEqual({ ok: true, step: STEP });
  });
});
