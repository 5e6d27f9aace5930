import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { AppError, ValidationError } from '../errors.ts';
import {
  checkPasswordPolicy,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  verifyPassword,
} from './passwords.ts';

const context = { login: 'jdupont', email: 'jean.dupont@agence.example', displayName: 'Jean Dupont' };

function refusal(
  password: string,
  ctx: Parameters<typeof checkPasswordPolicy>[1] = context,
): ValidationError {
  try {
    checkPasswordPolicy(password, ctx);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('the password was accepted');
}

describe('checkPasswordPolicy', () => {
  it('requires 12 code points and allows 256', () => {
    expect(PASSWORD_MIN_LENGTH).toBe(12);
    expect(PASSWORD_MAX_LENGTH).toBe(256);
  });

  it.each([
    ['12 characters, nothing else required', 'vwkq mbzr tx'],
    ['12 code points, several of them multibyte', 'éàçùœ€ñøå🦊ßx'],
    ['a passphrase', 'cheval correct agrafe batterie'],
    ['only lowercase letters: no composition rules', 'quzwjvkpmfyt'],
    ['256 code points', 'kx7'.repeat(85) + 'q'],
    ['a listed password inside a longer one', 'my passwordisnotthis vwkq'],
  ])('accepts %s', (_why, password) => {
    expect(() => checkPasswordPolicy(password, context)).not.toThrow();
  });

  it('counts code points after NFC, not UTF-16 units or bytes', () => {
    // 11 code points but 12 UTF-16 units (the fox is a surrogate pair) and far more bytes.
    const eleven = 'éàçùœ€ñø🦊ßx';
    expect([...eleven].length).toBe(11);
    expect(eleven.length).toBe(12);
    expect(refusal(eleven).message).toMatch(/at least 12 characters/);
    // 12 code points once composed, 13 decomposed (e + combining acute): NFC counts 12.
    const decomposed = 'e\u0301vwkqmbzrtxj';
    expect(decomposed.length).toBe(13);
    expect(() => checkPasswordPolicy(decomposed.slice(0, 12), context)).toThrow(/at least 12/);
    expect(() => checkPasswordPolicy(decomposed, context)).not.toThrow();
  });

  it.each([
    ['11 characters', 'vwkqmbzrtxj', /at least 12 characters/],
    ['257 characters', 'kx7'.repeat(85) + 'qz', /at most 256 characters/],
    ['listed (zxcvbn list)', 'q1w2e3r4t5y6', /common or breached/],
    ['listed, other case', 'QwertyUIOP123', /common or breached/],
    ['listed + digits', 'password1234', /common or breached/],
    ['listed + digits and !', 'password1234!', /common or breached/],
    ['digits + listed', '2024motdepasse', /common or breached/],
    ['listed ending in digits + more digits', 'a1s2d3f4g567890', /common or breached/],
    ['French keyboard pattern', 'azertyuiop123', /common or breached/],
    ['the service name with a year', 'PoleEmploi2024!', /common or breached/],
    ['the service name with spaces and accents', 'Pôle Emploi 2025', /common or breached/],
    ['the new service name', 'France-Travail2026', /common or breached/],
    ['a listed password once its spaces are removed', 'Mot de passe 2024!', /common or breached/],
    ['a listed long number', '123456789012', /common or breached/],
    ['containing the login', 'xxjdupont-vwkq', /must not contain the login/],
    ['containing the login, other case', 'JDUPONTvwkqmbz', /must not contain the login/],
    ['containing the email local part', 'vwkq-jean.dupont-z', /must not contain the email address/],
    ['containing the email local part without its dot', 'vwkqjeandupontz', /must not contain/],
    ['containing the name', 'vwkq DUPONT mbzr', /must not contain the name/],
    ['a single repeated character', 'aaaaaaaaaaaa', /repeated/],
    ['a repeated multibyte character', '🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊🦊', /repeated/],
    ['a short pattern repeated', 'xq7xq7xq7xq7', /repeated/],
  ])('refuses %s, naming the rule and never the password', (_why, password, rule) => {
    const error = refusal(password);
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('validation_failed');
    expect(error.status).toBe(400);
    expect(error.field).toBe('password');
    expect(error.message).toMatch(rule);
    const everything = JSON.stringify({ message: error.message, issues: error.issues });
    expect(everything).not.toContain(password);
    expect(everything.toLowerCase()).not.toContain(password.toLowerCase());
    // Nor the personal data it was compared with (CONVENTIONS.md, "Errors").
    for (const value of Object.values(context)) expect(everything).not.toContain(value);
  });

  it('checks the login and email only when they are given', () => {
    expect(() => checkPasswordPolicy('xxjdupont-vwkq', {})).not.toThrow();
    expect(() => checkPasswordPolicy('vwkq-jean.dupont-z', { login: 'other' })).not.toThrow();
  });

  it('ignores context words under 4 characters, which would refuse too much', () => {
    expect(() =>
      checkPasswordPolicy('jdu vwkq mbzr tx', { login: 'jdu', email: 'jdu@x.example' }),
    ).not.toThrow();
    expect(() => checkPasswordPolicy('jdup vwkq mbzr tx', { login: 'jdup' })).toThrow(/login/);
  });

  it('counts the test table above as 12 code points where it says so', () => {
    expect([...'éàçùœ€ñøå🦊ßx'].length).toBe(12);
    expect([...('kx7'.repeat(85) + 'q')].length).toBe(256);
  });

  it('ships a list that is sorted, deduplicated, folded and under 1 MB', () => {
    const url = new URL('./common-passwords.txt', import.meta.url);
    const text = readFileSync(url, 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThan(1_000_000);
    const entries = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(entries.length).toBeGreaterThan(10_000);
    expect(new Set(entries).size).toBe(entries.length);
    expect(entries.every((entry, i) => i === 0 || entries[i - 1]! < entry)).toBe(true);
    expect(entries.every((entry) => entry === entry.toLowerCase())).toBe(true);
    expect(text).toContain('MIT'); // the licence notice of the zxcvbn-ts list travels with it
    // Every listed password of 12+ characters is refused, whatever the case.
    for (const entry of entries.filter((e) => [...e].length >= 12).slice(0, 500)) {
      expect(() => checkPasswordPolicy(entry.toUpperCase(), {})).toThrow(/common or breached|repeated/);
    }
  });
});

describe('hashPassword and verifyPassword', () => {
  it('hashes with argon2id at OWASP minimum parameters and a fresh salt each time', async () => {
    const one = await hashPassword('vwkq mbzr tx pl');
    const two = await hashPassword('vwkq mbzr tx pl');
    expect(one).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(one).not.toBe(two);
    expect(one.split('$')[4]).not.toBe(two.split('$')[4]);
    expect(one).not.toContain('vwkq');
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('vwkq mbzr tx pl');
    expect(await verifyPassword(stored, 'vwkq mbzr tx pl')).toBe(true);
    expect(await verifyPassword(stored, 'vwkq mbzr tx pL')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
  });

  it('verifies a password typed in another Unicode normalisation form', async () => {
    const composed = 'café crème brûlée'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect(await verifyPassword(await hashPassword(composed), decomposed)).toBe(true);
    expect(await verifyPassword(await hashPassword(decomposed), composed)).toBe(true);
  });

  it('refuses an over-long password without failing', async () => {
    const stored = await hashPassword('vwkq mbzr tx pl');
    expect(await verifyPassword(stored, 'x'.repeat(100_000))).toBe(false);
  });

  it('returns false for an unknown account, after as long as a real verification', async () => {
    const stored = await hashPassword('vwkq mbzr tx pl');
    const time = async (hash: string | null): Promise<number> => {
      const start = performance.now();
      const ok = await verifyPassword(hash, 'wrong password guess');
      const elapsed = performance.now() - start;
      expect(ok).toBe(false);
      return elapsed;
    };
    await time(null); // warm-up: the dummy hash is ready, the thread pool started
    await time(stored);
    const unknown: number[] = [];
    const known: number[] = [];
    // Interleaved, alternating which goes first, so load from other test workers hits both alike.
    for (let i = 0; i < 7; i += 1) {
      if (i % 2 === 0) {
        unknown.push(await time(null));
        known.push(await time(stored));
      } else {
        known.push(await time(stored));
        unknown.push(await time(null));
      }
    }
    // The fastest of each: the work itself, with the least of other processes' load on top (a
    // median moved with the load of a busy machine; the figures under load are `rempart bench
    // login-timing`'s). A dummy that skipped argon2 would be 100 times faster, not twice.
    const ratio = Math.min(...unknown) / Math.min(...known);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
