/**
 * The public /verifier page in a real Chromium (T6): without logging in, a person types the code of
 * a message Rempart registered and reads that it is genuine, with its kind and channel; a forged
 * code is answered "does not come from Rempart" with what to do. axe on each state, no CSP or
 * Trusted Types violation, and the code never reaches the address bar.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { newMessageCode, registerMessage } from '../src/notify/codes.ts';
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
});
