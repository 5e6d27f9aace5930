/**
 * The public /verifier page in a real Chromium (T6): without logging in, a person types the code of
 * a message Rempart registered and reads that it is genuine, with its kind and channel; a forged
 * code is answered "does not come from Rempart" with what to do; a pasted signed notice is genuine,
 * with its key, kind and date, and the same notice with one field changed is not. axe on each
 * state, no CSP or Trusted Types violation, and neither code nor notice reaches the address bar.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { noticeKeysOf } from '../src/crypto/notice-signing.ts';
import { newMessageCode, registerMessage } from '../src/notify/codes.ts';
import { renderNoticeText, signedNoticeText } from '../src/notify/notice-text.ts';
import { screenshot } from './helpers/browser.ts';
import { type ConsoleWorld, consoleWorld, expectAccessible, heading } from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';

let world: ConsoleWorld;

beforeAll(async () => {
  world = await consoleWorld({ persons: 40, guard: LENIENT_GUARD });
});
afterAll(async () => {
  await world?.close();
});

describe(`the public message check (${engine})`, () => {
  it('tells a genuine code from a forged one, without logging in', async () => {
    const person = world.persons[0]!;
    const { code } = await world.t.db.tx(systemCtx('test').actor, (tx) =>
      registerMessage(
        tx,
        { kind: 'incident_notice', channel: 'letter', at: world.clock.now(), personId: person.id },
        (c) => `Notification. Code : ${c}`,
      ),
    );
    let forged = newMessageCode();
    while (forged === code) forged = newMessageCode();
    const { page, problems } = await world.page();

    await page.goto('/verifier');
    await heading(page, 'Vérifier un message');
    await expectAccessible(page);

    const field = page.getByLabel('Code de vérification du message');
    await field.fill(forged);
    await page.getByRole('button', { name: 'Vérifier', exact: true }).click();
    await page.getByText('Code inconnu : ce message ne vient pas de Rempart').waitFor();
    await expect(page.getByText(/ne répondez pas/).count()).resolves.toBeGreaterThan(0);
    await expectAccessible(page);

    await field.fill(code.toLowerCase().replace(/-/g, ' '));
    await page.getByRole('button', { name: 'Vérifier', exact: true }).click();
    await page.getByText('Message authentique').waitFor();
    await expect(
      page.getByText(/notification d’une violation de données, par courrier/).count(),
    ).resolves.toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'verify-message');

    expect(page.url()).toBe(`${world.baseUrl}/verifier`);
    expect(problems).toEqual([]);
  });

  it('tells a pasted signed notice from the same notice with one field changed', async () => {
    const input = {
      incidentId: 'INC-CONSOLE-1',
      fields: ['email', 'phone'],
      publicUrl: world.baseUrl,
      detectedAt: world.clock.now(),
    };
    const notice = await world.t.db.tx(systemCtx('test').actor, async (tx) => {
      const { code } = await registerMessage(
        tx,
        { kind: 'incident_notice', channel: 'email', at: world.clock.now() },
        (c) => renderNoticeText({ ...input, code: c }),
      );
      return signedNoticeText(noticeKeysOf(world.keys.keyring), { ...input, code });
    });
    const { page, problems } = await world.page();
    await page.goto('/verifier');
    await page.getByRole('heading', { level: 2, name: 'Vérifier un avis signé' }).waitFor();

    const field = page.getByLabel('Texte de l’avis');
    await field.fill(notice);
    await page.getByRole('button', { name: 'Vérifier l’avis', exact: true }).click();
    await page.getByText('Avis authentique').waitFor();
    await expect(
      page
        .getByText(
          new RegExp(
            `clé ${noticeKeysOf(world.keys.keyring).current}.*notification d’une violation de données`,
          ),
        )
        .count(),
    ).resolves.toBe(1);
    await expectAccessible(page);

    await field.fill(notice.replace('votre numéro de téléphone', 'votre adresse postale'));
    await page.getByRole('button', { name: 'Vérifier l’avis', exact: true }).click();
    await page.getByText('Avis non authentique').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'verify-notice');

    expect(page.url()).toBe(`${world.baseUrl}/verifier`);
    expect(problems).toEqual([]);
  });
});
