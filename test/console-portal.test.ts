/**
 * The browser test of the person's portal: a person logs in to /mon-espace with a code
 * mailed to them, sees a counselor's read of their record in their history with its proof verified
 * on the page (SHA-256 and Ed25519 in the browser), opts in to receipts, receives one after a
 * partner's read, and clicks "I don't recognise this"; the security officer sees the alert in the
 * console's review queue. Their notice of an incident is listed, its signature verified on the page
 * (an altered one is not), and downloads as the exact signed text. Every page passes axe; no CSP or
 * Trusted Types violation. Screenshots: portal-history, portal-notices, portal-receipts.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sequenceBatch, signCheckpointNow } from '../src/audit/sequencer.ts';
import { systemCtx } from '../src/context.ts';
import { ensureNoticeSigningKeys } from '../src/crypto/keyring.ts';
import { noticeVerifierKeys, verifyNotice } from '../src/crypto/notice-signing.ts';
import type { Mail } from '../src/notify/mailer.ts';
import { parseNoticeText } from '../src/notify/notice-parse.ts';
import { createNoticesPage } from '../src/notify/notices-create.ts';
import { processReceipts } from '../src/portal/receipts.ts';
import { screenshot } from './helpers/browser.ts';
import {
  type ConsoleWorld,
  consoleWorld,
  enrolTotpInConsole,
  expectAccessible,
  heading,
} from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { caseloadOf } from './helpers/registry.ts';

let world: ConsoleWorld;
beforeAll(async () => {
  world = await consoleWorld({ persons: 60, guard: LENIENT_GUARD });
}, 120_000);
afterAll(async () => {
  await world?.close();
});

const sequence = async (): Promise<void> => {
  const options = {
    signer: world.keys.checkpointSigner,
    clock: world.clock,
    checkpointEvents: 1000,
    checkpointSeconds: 60,
  };
  while ((await sequenceBatch(world.t.db, options)).sequenced > 0);
  await signCheckpointNow(world.t.db, options);
};
const mails = (): Mail[] => (world.mailer as unknown as { sent: Mail[] }).sent;

describe(`the person's portal in the console (${engine})`, () => {
  it("history verified in the browser, a receipt after a partner's read, reported, seen by the security officer", async () => {
    const me =
      caseloadOf(world, world.partner).find(
        (p) => p.identity.email && p.agencyOrganisationId === world.agency,
      ) ?? caseloadOf(world, world.partner).find((p) => p.identity.email)!;
    const counselor = (await world.staff('counselor', me.agencyOrganisationId)).client;
    const partner = (await world.staff('partner_counselor', world.partner)).client;
    expect(
      (await counselor.request('GET', `/api/v1/persons/${me.id}?purpose=accompaniment`)).statusCode,
    ).toBe(200);
    await sequence();
    // An incident names me, and its notice was sent (as `rempart notify send` creates it), signed
    // under the keyring's notice key that the server publishes.
    const noticeKeys = await ensureNoticeSigningKeys(world.keys.keyring);
    const officerAccount = await world.account({ organisationId: world.national, role: 'security_officer' });
    await world.t.db.tx(systemCtx('test').actor, async (tx) => {
      const [incident] = await tx.query<{ id: string; detected_at: Date }>(
        `INSERT INTO incidents (id, opened_at, opened_by, kind, accounts, window_from, window_to, scope, detected_at)
         VALUES (gen_random_uuid(), $1, $2, 'compromised_account', ARRAY[$2]::uuid[], $1, $1, '{}', $1)
         RETURNING id, detected_at`,
        [world.clock.now(), officerAccount.id],
      );
      await tx.query(
        `INSERT INTO incident_persons (incident_id, person_id, fields, first_at, last_at, events)
         VALUES ($1, $2, '{birthDate,lastName}', $3, $3, 1)`,
        [incident!.id, me.id, world.clock.now()],
      );
      await createNoticesPage(
        tx,
        { registry: world.keys.registry, noticeKeys, publicUrl: world.baseUrl },
        { id: incident!.id, detectedAt: incident!.detected_at },
        null,
        10,
        world.clock.now(),
      );
    });

    const { page, problems } = await world.page();
    await page.goto('/mon-espace');
    await heading(page, 'Mon espace');
    await expectAccessible(page);
    await page.getByLabel('Adresse électronique').fill(me.identity.email!);
    await page.getByRole('button', { name: 'Recevoir un code' }).click();
    await page.getByLabel(/Code reçu par courriel/).waitFor();
    await world.drainMail();
    const mail = mails()
      .filter((m) => m.to === me.identity.email)
      .at(-1)!;
    const code = /: (\d{4}) (\d{4})/.exec(mail.text)!;
    await page.getByLabel(/Code reçu par courriel/).fill(`${code[1]} ${code[2]}`);
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('heading', { level: 2, name: 'Qui a consulté mon dossier' }).waitFor();
    // The counselor's read, in plain words (role, purpose, fields), its proof checked by the page itself.
    const row = page
      .getByRole('row')
      .filter({ hasText: 'conseiller ou conseillère' })
      .filter({ hasText: 'accompagnement' })
      .filter({ hasText: 'date de naissance' })
      .filter({ hasText: 'Vérifié dans votre navigateur' });
    await row.first().waitFor();
    await expectAccessible(page);
    await screenshot(page, 'portal-history');

    // My notice: its signature checked by the page itself, and downloaded as the exact signed text.
    const notice = page.getByRole('row').filter({ hasText: 'Signature vérifiée dans votre navigateur' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('date de naissance, nom d’usage');
    await notice.scrollIntoViewIfNeeded();
    await screenshot(page, 'portal-notices');
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      notice.getByRole('button', { name: 'Télécharger' }).click(),
    ]);
    const text = await readFile((await file.path())!, 'utf8');
    expect(verifyNotice(text, noticeVerifierKeys(noticeKeys)).genuine).toBe(true);
    expect(parseNoticeText(text).fields).toEqual(['birthDate', 'lastName']);
    // A notice altered on the way (one more field) is caught by the page, not believed.
    await page.route('**/api/v1/portal/notices/*', async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(
        '- votre date de naissance',
        '- votre date de naissance\n- votre adresse postale',
      );
      await route.fulfill({ response, body });
    });
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'Signature non valide' }).waitFor();
    await page.unroute('**/api/v1/portal/notices/*');

    await page.getByText('M’avertir par courriel').click();
    await page.getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByText('Votre choix est enregistré.').waitFor();

    world.clock.advance(1000);
    expect((await partner.request('GET', `/api/v1/persons/${me.id}?purpose=accompaniment`)).statusCode).toBe(
      200,
    );
    await sequence();
    expect(await processReceipts(world.t.db, world.keys.registry, world.clock.now(), world.baseUrl)).toBe(1);
    await world.drainMail();
    expect(mails().filter((m) => m.to === me.identity.email && /consulté/.test(m.subject))).toHaveLength(1);

    await page.reload();
    const disown = page.getByRole('button', { name: 'Je ne reconnais pas cet accès' });
    await disown.waitFor();
    await expectAccessible(page);
    await screenshot(page, 'portal-receipts');
    await disown.click();
    await page.getByText('Signalé aux responsables de la sécurité').waitFor();
    expect(problems).toEqual([]);

    const officer = officerAccount;
    // A server that rewrote entries (another purpose, another organisation) is caught by the page,
    // not believed: the leaf is rebuilt from what the page shows.
    await page.route('**/api/v1/portal/history', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      const staffEntries = body.entries.filter((e: { actorKind: string }) => e.actorKind === 'staff');
      for (const [i, entry] of staffEntries.entries()) {
        if (i % 2 === 0) entry.purpose = 'payment';
        else entry.organisationId = world.partner;
      }
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    const counselorRows = page.getByRole('row').filter({ hasText: 'conseiller ou conseillère' });
    await counselorRows.filter({ hasText: 'Vérification échouée' }).first().waitFor();
    expect(await counselorRows.filter({ hasText: 'Vérifié dans votre navigateur' }).count()).toBe(0);
    expect(await counselorRows.filter({ hasText: 'Vérification échouée' }).count()).toBeGreaterThan(1);
    await page.unroute('**/api/v1/portal/history');

    const o = await world.page();
    await enrolTotpInConsole(world, o.page, officer.login);
    await o.page.goto('/securite/revue');
    await heading(o.page, 'File de revue des alertes');
    await o.page.getByRole('cell', { name: 'Signalement d’une personne' }).waitFor();
    await expectAccessible(o.page);
    expect(o.problems).toEqual([]);
  }, 90_000);
});
