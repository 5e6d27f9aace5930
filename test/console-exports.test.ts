/**
 * Four-eyes exports in the console, in a real Chromium (issue 14, items 1 and 2; T3): the DPO
 * registers a recipient's age key; a counselor requests an export on "Exports" and has no way to
 * approve it; a manager of the counselor's organisation approves it through the step-up dialog; the
 * counselor produces and downloads the file — an age file that the recipient's identity opens to a
 * CSV whose columns are the fields chosen; a security officer traces a partial copy of that CSV on
 * "Tracer un fichier fuité" and is shown the export, its recipient and the incident opened. Every
 * page passes axe-core, no CSP or Trusted Types violation happens, and nothing of a person reaches
 * the address bar, the title or the browser's storage. Screenshots go to docs/screenshots/.
 *
 * The population is small (40 persons): an export of the agency's persons stays far under
 * REMPART_EXPORT_LARGE_ROWS, so it is produced at any hour of the test clock.
 */
import { readFile } from 'node:fs/promises';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../src/identity/accounts.ts';
import { screenshot } from './helpers/browser.ts';
import {
  type ConsoleWorld,
  consoleWorld,
  expectAccessible,
  heading,
  loggedInAs,
  storedText,
} from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { totpAt } from './helpers/staff.ts';

const MINUTE = 60_000;

let world: ConsoleWorld;
let recipient: { id: string; name: string };
let identity: string;

beforeAll(async () => {
  world = await consoleWorld({ persons: 40, guard: LENIENT_GUARD });
  const id = await world.organisation({ kind: 'training_body' });
  const [row] = await world.t.driver.transaction((tx) =>
    tx.query<{ name: string }>('SELECT name FROM organisations WHERE id = $1', [id]),
  );
  recipient = { id, name: row!.name };
  identity = await generateIdentity();
}, 180_000);
afterAll(async () => {
  await world?.close();
});

const loggedIn = (role: Account['role'], organisationId: string) => loggedInAs(world, role, organisationId);

/**
 * Nothing of the file's persons (agency id, last name, first names) in the address bar, the title or
 * the storage, nor on the page (the agency id, and a name as a whole: a bare surname may also be
 * part of an organisation's name).
 */
async function expectNoneOf(page: Page, rows: string[][]): Promise<void> {
  const stored = await storedText(page);
  const main = await page.locator('main').innerText();
  for (const [agencyId, last, first] of rows) {
    for (const value of [agencyId!, last!, first!]) {
      expect(page.url()).not.toContain(value);
      expect(await page.title()).not.toContain(value);
      expect(stored).not.toContain(value);
    }
    expect(main).not.toContain(agencyId!);
    expect(main).not.toContain(`${last} ${first}`);
    expect(main).not.toContain(`${first} ${last}`);
    expect(main).not.toContain(`${last}\t${first}`);
  }
}

describe(`exports in the console (${engine})`, () => {
  it('a counselor requests, a manager approves through the step-up, the counselor downloads, an officer traces a copy', async () => {
    // The DPO registers the recipient's age key.
    const dpo = await loggedIn('dpo', world.national);
    let page = dpo.page;
    await page.getByRole('link', { name: 'Exports' }).first().click();
    await heading(page, 'Exports');
    await page.getByRole('heading', { name: 'Clé de chiffrement d’un destinataire' }).waitFor();
    await page.getByLabel('Organisation', { exact: true }).selectOption({ label: recipient.name });
    await page.getByLabel(/^Clé publique age/).fill(await identityToRecipient(identity));
    await page.getByRole('button', { name: 'Enregistrer la clé' }).click();
    await page.getByText(`Clé de ${recipient.name} enregistrée.`).waitFor();
    await expectAccessible(page);
    await screenshot(page, 'export-recipient-key');
    expect(dpo.problems).toEqual([]);
    await dpo.context.close();

    // The counselor asks for an export of four fields of its agency's persons.
    const counselor = await loggedIn('counselor', world.agency);
    page = counselor.page;
    await page.getByRole('link', { name: 'Exports' }).first().click();
    await heading(page, 'Exports');
    await page.getByLabel(/^Motif/).selectOption({ label: 'Accompagnement' });
    for (const field of ['Identifiant France Travail', 'Nom', 'Prénoms', 'Date de naissance'])
      await page.getByLabel(field, { exact: true }).check({ force: true });
    await page.getByLabel('inscrit', { exact: true }).check({ force: true });
    await page.getByLabel(/^Organisation destinataire/).selectOption({ label: recipient.name });
    await page.getByRole('button', { name: 'Demander l’export' }).click();
    await page.getByText(/^Export demandé\./).waitFor();
    const mine = page.getByRole('table', { name: 'Mes exports' });
    await mine
      .getByRole('row')
      .filter({ hasText: recipient.name })
      .getByText('En attente de décision')
      .waitFor();
    // The requester has no way to decide its own export: no such button on its screen.
    await expect(page.getByRole('button', { name: /^Approuver/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('heading', { name: 'À décider' }).count()).resolves.toBe(0);
    await expectAccessible(page);
    await screenshot(page, 'export-request');
    const [asked] = await world.t.driver.transaction((tx) =>
      tx.query<{ id: string }>('SELECT id FROM export_requests WHERE requested_by = $1', [
        counselor.account.id,
      ]),
    );
    const exportId = asked!.id;

    // A manager of the counselor's organisation approves it; the second factor is asked again.
    const manager = await loggedIn('org_manager', world.agency);
    const m = manager.page;
    await m.getByRole('link', { name: 'Exports' }).first().click();
    await heading(m, 'Exports');
    const card = m.getByRole('region', { name: /^Export du .* demandé par / });
    await card.getByText(counselor.account.login).first().waitFor();
    const shown = await card.innerText();
    for (const text of [
      'Accompagnement',
      'Identifiant France Travail, Nom, Prénoms, Date de naissance',
      recipient.name,
    ])
      expect(shown).toContain(text);
    expect(shown).toContain('situations : inscrit');
    await expectAccessible(m);
    await screenshot(m, 'export-decide');
    // Past STEP_UP_MINUTES since the login: the decision needs the second factor again.
    world.clock.advance(6 * MINUTE);
    await card.getByLabel(/^Note/).fill('Convention de formation signée');
    await card.getByRole('button', { name: /^Approuver l’export/ }).click();
    const stepUp = m.getByRole('dialog', { name: 'Confirmez votre identité' });
    await stepUp.getByLabel(/Code de l’application/).fill(await totpAt(manager.secret, world.clock.now()));
    await stepUp.getByRole('button', { name: 'Vérifier' }).click();
    await m.getByText('Export approuvé. Le demandeur peut produire le fichier.').waitFor();
    await stepUp.waitFor({ state: 'hidden' });
    await m
      .getByRole('table', { name: 'Exports du périmètre' })
      .getByRole('row')
      .filter({ hasText: recipient.name })
      .getByText('Approuvé')
      .waitFor();
    await expectAccessible(m);
    expect(manager.problems).toEqual([]);
    await manager.context.close();

    // The counselor produces the file, then downloads it.
    await page.reload();
    await heading(page, 'Exports');
    await page.getByRole('button', { name: /^Produire le fichier/ }).click();
    await page.getByText(/^Fichier produit : \d+ lignes/).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: /^Télécharger le fichier/ }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`export-${exportId}.csv.age`);
    expect(download.url()).toMatch(/^blob:/);
    const bytes = await readFile((await download.path())!);
    expect(bytes.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    const decrypter = new Decrypter();
    decrypter.addIdentity(identity);
    const csv = await decrypter.decrypt(new Uint8Array(bytes), 'text');
    const rows: string[][] = parse(csv);
    expect(rows[0]).toEqual(['agencyId', 'lastName', 'firstNames', 'birthDate']);
    expect(rows.length).toBeGreaterThan(4);
    await page.getByText(`Fichier téléchargé (export-${exportId}.csv.age)`, { exact: false }).waitFor();
    await mine.getByRole('row').filter({ hasText: recipient.name }).getByText('Produit').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'export-download');
    const cells = rows.slice(1).map((r) => [r[0]!, r[1]!, r[2]!]);
    await expectNoneOf(page, cells);
    // In English too.
    await page.getByRole('button', { name: 'English' }).filter({ visible: true }).click();
    await page.getByRole('heading', { name: 'My exports' }).waitFor();
    await page.getByRole('heading', { name: 'Request an export' }).waitFor();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Français' }).filter({ visible: true }).click();
    expect(counselor.problems).toEqual([]);
    await counselor.context.close();

    // A security officer traces a partial copy of the CSV (header and all rows but the last two).
    const lines = csv.split(/\r?\n/).filter((l) => l !== '');
    const copy = `${lines.slice(0, lines.length - 2).join('\n')}\n`;
    const officer = await loggedIn('security_officer', world.national);
    const o = officer.page;
    await o.getByRole('link', { name: 'Fichier fuité' }).first().click();
    await heading(o, 'Tracer un fichier fuité');
    await expectAccessible(o);
    await o
      .getByLabel(/^Fichier CSV/)
      .setInputFiles({ name: 'trouve.csv', mimeType: 'text/csv', buffer: Buffer.from(copy) });
    await o.getByRole('button', { name: 'Tracer le fichier' }).click();
    await o.getByText(`Le fichier vient de l’export ${exportId}.`).waitFor();
    const result = await o.locator('main').innerText();
    expect(result).toContain(recipient.name);
    expect(result).toMatch(/Fondement : (des lignes témoins|les personnes reconnues)/);
    await o
      .getByRole('table', { name: 'Exports candidats' })
      .getByRole('row')
      .filter({ hasText: exportId })
      .waitFor();
    await expectAccessible(o);
    await screenshot(o, 'export-trace');
    await expectNoneOf(o, cells);
    await o.getByRole('link', { name: 'Voir l’incident ouvert' }).click();
    await heading(o, 'Incident');
    expect(new URL(o.url()).pathname).toMatch(/^\/securite\/incidents\/[0-9a-f-]{36}$/);
    await expectAccessible(o);
    await expectNoneOf(o, cells);
    const [incident] = await world.t.driver.transaction((tx) =>
      tx.query<{ kind: string }>('SELECT kind FROM incidents'),
    );
    expect(incident?.kind).toBe('leaked_file');
    expect(officer.problems).toEqual([]);
    await officer.context.close();
  });
});
