/**
 * The public check of signed notices (T6): GET /api/v1/notices/keys publishes the notice verifier
 * keys (never a private key); POST /api/v1/notices/verify says a real notice is genuine, by which
 * key, with the kind and date of its registered code, and nothing personal; one changed field fails;
 * after a rotation both keys are published and an older notice still verifies; the check is
 * throttled per address on its own allowance; a body too long is refused naming the field.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { rotateNoticeSigningKey } from '../src/crypto/keyring.ts';
import { noticeKeysOf } from '../src/crypto/notice-signing.ts';
import { registerMessage } from '../src/notify/codes.ts';
import { renderNoticeText, signedNoticeText } from '../src/notify/notice-text.ts';
import { VERIFY_PER_ADDRESS } from '../src/notify/verify-message.ts';
import { NOTICE_MAX_CHARS } from '../src/notify/verify-notice.ts';
import { engine } from './helpers/db.ts';
import { type StaffWorld, staffWorld } from './helpers/staff.ts';

describe(`notice verification (${engine})`, () => {
  let world: StaffWorld;
  let notice: string;
  let firstKey: string;
  const incidentId = randomUUID();
  const sentAt = new Date('2026-03-02T10:15:00.000Z');
  const post = (payload: unknown, remoteAddress = '203.0.113.20') =>
    world.app.inject({
      method: 'POST',
      url: '/api/v1/notices/verify',
      payload: payload as Record<string, unknown>,
      remoteAddress,
    });
  /** The API takes a notice as its lines (no field holds a line break). */
  const verify = ({ notice: text }: { notice: string }, remoteAddress?: string) =>
    post({ lines: text.split(/\r?\n/) }, remoteAddress);
  const keys = async () => (await world.app.inject({ method: 'GET', url: '/api/v1/notices/keys' })).json();

  beforeAll(async () => {
    world = await staffWorld();
    const signing = noticeKeysOf(world.keys.keyring);
    firstKey = signing.current;
    notice = await world.t.db.tx(systemCtx('test').actor, async (tx) => {
      const registered = await registerMessage(
        tx,
        { kind: 'incident_notice', channel: 'email', at: sentAt },
        (code) =>
          renderNoticeText({
            incidentId,
            fields: ['email', 'lastName'],
            code,
            publicUrl: 'https://rempart.example',
            detectedAt: sentAt,
          }),
      );
      return signedNoticeText(signing, {
        incidentId,
        fields: ['email', 'lastName'],
        code: registered.code,
        publicUrl: 'https://rempart.example',
        detectedAt: sentAt,
      });
    });
  });
  afterAll(() => world?.close());

  it('publishes the verifier keys by name, the current one marked, no private key', async () => {
    const published = await keys();
    expect(published.keys).toHaveLength(1);
    expect(published.keys[0]).toMatchObject({ name: firstKey, current: true });
    expect(published.keys[0].key).toMatch(new RegExp(`^${firstKey}\\+[0-9a-f]{8}\\+[A-Za-z0-9+/=]+$`));
    expect(JSON.stringify(published)).not.toContain(world.keys.keyring.noticeSigning!.keys[firstKey]!.pkcs8);
  });

  it('a real notice is genuine, with its key, kind and date, and nothing personal; CRLF and trailing blank lines do not matter', async () => {
    const answer = await verify({ notice });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({
      genuine: true,
      signedBy: firstKey,
      sentAt: sentAt.toISOString(),
      kind: 'incident_notice',
    });
    expect(answer.body).not.toContain(incidentId);
    const pasted = `${notice.replace(/\n/g, '\r\n')}\r\n\r\n`;
    expect((await verify({ notice: pasted })).json()).toMatchObject({ genuine: true, signedBy: firstKey });
  });

  it('the same notice with one field changed, or with its signature from an unknown key, is not genuine', async () => {
    const changed = notice.replace('votre adresse électronique', 'votre numéro de téléphone');
    expect(changed).not.toBe(notice);
    expect((await verify({ notice: changed }, '203.0.113.21')).json()).toEqual({
      genuine: false,
      signedBy: null,
    });
    const [body] = notice.split('\n— ');
    const forged = `${body}\n— rempart/notices/00000000 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n`;
    expect((await verify({ notice: forged }, '203.0.113.21')).json()).toEqual({
      genuine: false,
      signedBy: null,
    });
  });

  it('after a rotation both keys are published, the new one current; the older notice still verifies', async () => {
    const rotated = await rotateNoticeSigningKey(world.keys.keyring);
    expect(rotated.current).not.toBe(firstKey);
    const published = await keys();
    expect(published.keys.map((k: { name: string; current: boolean }) => [k.name, k.current])).toEqual([
      [rotated.current, true],
      [firstKey, false],
    ]);
    expect((await verify({ notice }, '203.0.113.22')).json()).toMatchObject({
      genuine: true,
      signedBy: firstKey,
    });
    const fresh = signedNoticeText(rotated, {
      incidentId,
      fields: ['nir'],
      code: 'AAAA-BBBB-CCCC',
      publicUrl: 'https://rempart.example',
      detectedAt: sentAt,
    });
    // Signed by the new key; its code is not registered: genuine, without kind or date.
    expect((await verify({ notice: fresh }, '203.0.113.22')).json()).toEqual({
      genuine: true,
      signedBy: rotated.current,
    });
  });

  it('throttles checks per address on their own allowance (the message check still answers)', async () => {
    const address = '203.0.113.29';
    for (let i = 0; i < VERIFY_PER_ADDRESS; i++)
      expect((await verify({ notice }, address)).statusCode).toBe(200);
    const refused = await verify({ notice }, address);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const code = await world.app.inject({
      method: 'POST',
      url: '/api/v1/messages/verify',
      payload: { code: 'AAAA-BBBB-CCCC' },
      remoteAddress: address,
    });
    expect(code.statusCode).toBe(200);
    world.clock.advance(61_000);
    expect((await verify({ notice }, address)).statusCode).toBe(200);
  });

  it('refuses a notice too long or a body of the wrong shape with a 400 naming the field', async () => {
    const long = Array.from({ length: 20 }, () => 'x'.repeat(NOTICE_MAX_CHARS / 16));
    for (const payload of [{}, { lines: long }, { lines: [3] }, { lines: ['a\tb'] }, { notice: 'x' }]) {
      const answer = await post(payload, '203.0.113.23');
      expect(answer.statusCode, JSON.stringify(payload).slice(0, 40)).toBe(400);
      expect(answer.json().field).toMatch(/^(body|lines)/);
    }
  });
});
