/**
 * The console in a real Chromium, as counselors and partners use it: first login with an
 * authenticator app enrolled from the QR screen, then a login with password and TOTP; a passkey
 * enrolled and then used alone (Chromium's virtual authenticator); a search with a purpose and the
 * record with exactly the fields the policy returned; a partner's search outside its caseload that
 * finds nothing. Every page visited passes axe-core (no serious or critical violation), no
 * Content-Security-Policy or Trusted Types violation happens, and no identifier reaches the address
 * bar, the title or the browser's storage. Screenshots go to docs/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { openIdentity } from '../src/registry/persons.ts';
import { screenshot } from './helpers/browser.ts';
import {
  type ConsoleWorld,
  consoleWorld,
  enrolTotpInConsole,
  expectAccessible,
  heading,
  loginWithTotp,
  passwordStep,
  storedText,
  virtualPasskey,
} from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { caseloadOf } from './helpers/registry.ts';

let world: ConsoleWorld;

beforeAll(async () => {
  world = await consoleWorld({ persons: 60, guard: LENIENT_GUARD });
});
afterAll(async () => {
  await world?.close();
});

describe(`the console for counselors and partners (${engine})`, () => {
  it('a counselor enrols an app at first login, logs in with TOTP, searches with a purpose and opens a record', async () => {
    const account = await world.account({ role: 'counselor', organisationId: world.agency });
    const person = world.persons.find((p) => p.agencyOrganisationId === world.agency)!;
    const { page, problems, context } = await world.page();

    // English on request, through the header's language switch; French again after.
    await page.goto('/connexion');
    await heading(page, 'Connexion des agents');
    await page.getByRole('button', { name: 'English' }).filter({ visible: true }).click();
    await heading(page, 'Staff login');
    await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Français' }).filter({ visible: true }).click();
    await heading(page, 'Connexion des agents');

    await passwordStep(page, 'nobody.here', 'wrong password here');
    await page.getByText('Identifiant ou mot de passe incorrect').waitFor();
    await expectAccessible(page);
    await screenshot(page, 'login');

    const { secret, recoveryCodes } = await enrolTotpInConsole(world, page, account.login);
    expect(recoveryCodes).toHaveLength(10);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await heading(page, /^Bienvenue/);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await heading(page, 'Connexion des agents');

    await loginWithTotp(world, page, account.login, secret);
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Rechercher une personne' }).first().click();
    await heading(page, 'Rechercher une personne');
    await page.getByLabel('Motif de la consultation').selectOption({ label: 'Accompagnement' });
    await page.getByRole('textbox', { name: 'Identifiant France Travail' }).fill(person.identity.agencyId);
    await page.getByRole('button', { name: 'Rechercher' }).click();
    const row = page.getByRole('row').filter({ hasText: person.identity.agencyId });
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain(person.identity.lastName);
    await expectAccessible(page);
    await screenshot(page, 'search');
    // The display follows the system's scheme (DSFR "système"): the same screen in dark mode.
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as {
            document: { documentElement: { getAttribute(name: string): string | null } };
          }
        ).document.documentElement.getAttribute('data-fr-theme') === 'dark',
    );
    await expectAccessible(page);
    await screenshot(page, 'search-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    await row.getByRole('button', { name: 'Ouvrir le dossier' }).click();
    await heading(page, 'Dossier');
    const record = page.getByRole('table', { name: 'Dossier' });
    await expect(record.innerText()).resolves.toContain(person.identity.nir);
    await expectAccessible(page);
    await screenshot(page, 'record');
    // A counselor changes the phone number: saved through the gate (normalised to E.164), read back from the registry.
    await page.getByLabel('Téléphone').fill('0611223344');
    await page.getByRole('button', { name: 'Enregistrer les coordonnées' }).click();
    await page.getByText(/Coordonnées enregistrées : .*phone/).waitFor();
    await expect(
      world.t.db.tx(
        systemCtx('test').actor,
        async (tx) => (await openIdentity(tx, world.keys.registry, person.id, ['phone']))?.phone,
      ),
    ).resolves.toBe('+33611223344');

    // Nothing of the person in the address bar, the title, the history or the browser's storage.
    const stored = await storedText(page);
    for (const value of [
      person.id,
      person.identity.agencyId,
      person.identity.nir,
      person.identity.lastName,
    ]) {
      expect(page.url()).not.toContain(value);
      expect(await page.title()).not.toContain(value);
      expect(stored).not.toContain(value);
    }
    // The record screen holds the person in memory only: a reload shows none.
    await page.reload();
    await page.getByText('Aucun dossier ouvert').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });

  it('a counselor enrols a passkey, then logs in with the passkey alone (virtual authenticator)', async () => {
    const account = await world.account({ role: 'counselor', organisationId: world.agency });
    const { page, problems, context } = await world.page();
    await virtualPasskey(page);
    await passwordStep(page, account.login);
    await heading(page, /Choisir votre second facteur/);
    await page.getByLabel('Nom de la clé (facultatif)').fill('Poste agence');
    await page.getByRole('button', { name: 'Enregistrer une clé d’accès' }).click();
    await heading(page, 'Vos codes de secours');
    await page.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await heading(page, /^Bienvenue/);
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await heading(page, 'Connexion des agents');

    await page.getByRole('button', { name: 'Se connecter avec une clé d’accès' }).click();
    await heading(page, /^Bienvenue/);
    await expect(page.getByRole('heading', { level: 1 }).innerText()).resolves.toContain(account.displayName);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a partner searching a person outside its caseload finds nothing on screen', async () => {
    const account = await world.account({ role: 'partner_counselor', organisationId: world.partner });
    const outside = world.persons.find((p) => !caseloadOf(world, world.partner).includes(p))!;
    const inside = caseloadOf(world, world.partner)[0]!;
    const { page, problems, context } = await world.page();
    const { secret } = await enrolTotpInConsole(world, page, account.login);
    await page.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await loginWithTotp(world, page, account.login, secret);
    await page.goto('/recherche');
    await heading(page, 'Rechercher une personne');
    await page.getByRole('textbox', { name: 'Identifiant France Travail' }).fill(outside.identity.agencyId);
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByText('Aucune personne trouvée dans votre périmètre.').waitFor();
    await expect(page.locator('main').innerText()).resolves.not.toContain(outside.identity.lastName);
    await expectAccessible(page);

    await page.getByRole('textbox', { name: 'Identifiant France Travail' }).fill(inside.identity.agencyId);
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.getByRole('row').filter({ hasText: inside.identity.agencyId }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
