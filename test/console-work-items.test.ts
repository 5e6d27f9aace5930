/**
 * Work items in the console, in a real Chromium (issue 14, item 3): a counselor hands a document of a
 * person to a subcontractor from the person's record; the subcontractor's manager assigns it on
 * "Dossiers confiés"; the operator opens it on "Mes dossiers" — exactly the task's fields,
 * pseudonymised — and marks it done, after which the page shows nothing of the person. The operator
 * has no search screen. Every page passes axe-core, no CSP or Trusted Types violation happens, and
 * nothing of the person reaches the address bar, the title or the browser's storage. Screenshots go
 * to docs/screenshots/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initialsOf } from '../src/access/gate-work-items.ts';
import type { Account } from '../src/identity/accounts.ts';
import { screenshot } from './helpers/browser.ts';
import {
  type ConsoleWorld,
  consoleWorld,
  expectAccessible,
  heading,
  loggedInAs,
  loginWithTotp,
  storedText,
} from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import type { KnownPerson } from './helpers/registry.ts';
import { enrolled } from './helpers/staff.ts';

let world: ConsoleWorld;
let subcontractor: { id: string; name: string };

beforeAll(async () => {
  world = await consoleWorld({ persons: 60, guard: LENIENT_GUARD });
  const [row] = await world.t.driver.transaction((tx) =>
    tx.query<{ id: string; name: string }>(
      `SELECT id, name FROM organisations WHERE kind = 'subcontractor' ORDER BY code LIMIT 1`,
    ),
  );
  subcontractor = row!;
});
afterAll(async () => {
  await world?.close();
});

const loggedIn = (role: Account['role'], organisationId: string) => loggedInAs(world, role, organisationId);

/** Nothing of the person in the address bar, the title or the storage. */
async function expectNothingOf(page: Page, person: KnownPerson): Promise<void> {
  const stored = await storedText(page);
  for (const value of [person.id, person.identity.agencyId, person.identity.nir, person.identity.lastName]) {
    expect(page.url()).not.toContain(value);
    expect(await page.title()).not.toContain(value);
    expect(stored).not.toContain(value);
  }
}

/** `YYYY-MM-DDTHH:mm` in the page's time zone, for a datetime-local field. */
async function localInput(page: Page, at: Date): Promise<string> {
  const offsetMinutes = await page.evaluate((ms) => new Date(ms).getTimezoneOffset(), at.getTime());
  return new Date(at.getTime() - offsetMinutes * 60_000).toISOString().slice(0, 16);
}

describe(`work items in the console (${engine})`, () => {
  it('a counselor hands a document over, the manager assigns it, the operator opens it (task fields only) and marks it done', async () => {
    const person = world.persons.find((p) => p.agencyOrganisationId === world.agency)!;

    // The counselor, from the person's record read for payment.
    const counselor = await loggedIn('counselor', world.agency);
    let page = counselor.page;
    await page.getByRole('link', { name: 'Rechercher une personne' }).first().click();
    await heading(page, 'Rechercher une personne');
    await page.getByLabel('Motif de la consultation').selectOption({ label: 'Indemnisation' });
    await page.getByRole('textbox', { name: 'Identifiant France Travail' }).fill(person.identity.agencyId);
    await page.getByRole('button', { name: 'Rechercher' }).click();
    const row = page.getByRole('row').filter({ hasText: person.identity.agencyId });
    await row.getByRole('button', { name: 'Ouvrir le dossier' }).click();
    await heading(page, 'Dossier');
    await page.getByRole('heading', { name: 'Confier un document à un prestataire' }).waitFor();
    await page
      .getByLabel('Tâche', { exact: true })
      .selectOption({ label: 'Saisie d’une attestation employeur' });
    await page.getByText('Le prestataire verra : Initiales, Année de naissance.').waitFor();
    await page.getByLabel('Prestataire', { exact: true }).selectOption({ label: subcontractor.name });
    const deadline = new Date(world.clock.now().getTime() + 2 * 86_400_000);
    await page.getByLabel(/^Échéance/).fill(await localInput(page, deadline));
    await page.getByRole('button', { name: 'Confier le document' }).click();
    const confirmation = page.getByText(/^Dossier DOS-[0-9A-Z]{4}-[0-9A-Z]{4} confié/);
    await confirmation.waitFor();
    const reference = /DOS-[0-9A-Z]{4}-[0-9A-Z]{4}/.exec(await confirmation.innerText())![0];
    await expectAccessible(page);
    await screenshot(page, 'work-item-handover');
    // Its organisation's list shows the item, open, without the person.
    await page.getByRole('link', { name: 'Dossiers confiés' }).first().click();
    await heading(page, 'Dossiers confiés');
    await page.getByRole('row').filter({ hasText: reference }).getByText('À attribuer').waitFor();
    await expect(page.locator('main').innerText()).resolves.not.toContain(person.identity.lastName);
    await expectAccessible(page);
    expect(counselor.problems).toEqual([]);
    await counselor.context.close();

    // The subcontractor's manager assigns it to an operator.
    const operatorAccount = await world.account({
      role: 'subcontractor_operator',
      organisationId: subcontractor.id,
    });
    const { secret: operatorSecret } = await enrolled(world, operatorAccount);
    const manager = await loggedIn('org_manager', subcontractor.id);
    page = manager.page;
    await page.getByRole('link', { name: 'Dossiers confiés' }).first().click();
    await heading(page, 'Dossiers confiés');
    await page
      .getByLabel('Dossier', { exact: true })
      .selectOption({ label: `${reference} — Saisie d’une attestation employeur` });
    await page.getByLabel('Opérateur', { exact: true }).selectOption({ label: operatorAccount.displayName });
    await page.getByRole('button', { name: 'Attribuer' }).click();
    await page.getByText(`Dossier ${reference} attribué à ${operatorAccount.displayName}.`).waitFor();
    await page.getByRole('row').filter({ hasText: reference }).getByText('Attribué').waitFor();
    await expect(page.locator('main').innerText()).resolves.not.toContain(person.identity.lastName);
    await expectAccessible(page);
    await screenshot(page, 'work-items-manager');
    expect(manager.problems).toEqual([]);
    await manager.context.close();

    // The operator: its list, the item opened with the task's fields only, then done.
    const operator = await world.page();
    page = operator.page;
    await loginWithTotp(world, page, operatorAccount.login, operatorSecret);
    // No search for an operator: not in its navigation, and the screen is refused.
    await expect(page.getByRole('link', { name: 'Rechercher une personne' }).count()).resolves.toBe(0);
    await page.getByRole('link', { name: 'Mes dossiers' }).first().click();
    await heading(page, 'Mes dossiers');
    await expect(page.locator('main').innerText()).resolves.not.toContain(person.identity.lastName);
    await expectAccessible(page);
    await page.getByRole('button', { name: `Ouvrir le dossier ${reference}` }).click();
    const item = page.getByRole('table', { name: `Dossier ${reference}` });
    await item.waitFor();
    const shown = await item.innerText();
    expect(shown).toContain('Initiales');
    expect(shown).toContain(initialsOf(person.identity.firstNames, person.identity.lastName));
    expect(shown).toContain('Année de naissance');
    expect(shown).toContain(person.identity.birthDate.slice(0, 4));
    const main = await page.locator('main').innerText();
    for (const value of [
      person.identity.lastName,
      person.identity.agencyId,
      person.identity.nir,
      person.identity.birthDate,
    ]) {
      expect(main).not.toContain(value);
    }
    await expectAccessible(page);
    await screenshot(page, 'work-item-open');
    await expectNothingOf(page, person);
    await page.getByRole('button', { name: 'Marquer comme traité' }).click();
    await page.getByText(`Dossier ${reference} marqué traité. Il ne montre plus rien.`).waitFor();
    await expect(page.getByRole('table', { name: `Dossier ${reference}` }).count()).resolves.toBe(0);
    await page
      .getByRole('row')
      .filter({ hasText: reference })
      .getByText(/Traité/)
      .waitFor();
    await expect(page.getByRole('button', { name: `Ouvrir le dossier ${reference}` }).count()).resolves.toBe(
      0,
    );
    await expectAccessible(page);
    await expectNothingOf(page, person);
    await page.goto('/recherche');
    await page.getByText('Accès réservé').waitFor();
    expect(operator.problems).toEqual([]);
    await operator.context.close();
  });

  it('in English too', async () => {
    const operator = await loggedIn('subcontractor_operator', subcontractor.id);
    const { page } = operator;
    await page.getByRole('button', { name: 'English' }).filter({ visible: true }).click();
    await page.getByRole('link', { name: 'My work items' }).first().click();
    await heading(page, 'My work items');
    await page.getByText('No work item.').waitFor();
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Français' }).filter({ visible: true }).click();
    expect(operator.problems).toEqual([]);
    await operator.context.close();
  });
});
