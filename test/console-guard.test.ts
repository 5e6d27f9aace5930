/**
 * The guard as people meet it in the console, at its real thresholds (not LENIENT_GUARD): a new
 * counselor (on probation: volume levels × 0.25) searching too fast is throttled and told which
 * kind of limit and until when; its national reads reach the step-up level, the step-up dialog
 * verifies its TOTP and the same search goes through; touching a canary suspends the account,
 * shown as such. Then a security officer sees the suspension on the live dashboard (charts redrawn
 * without reloading: a colleague's read appears at the next poll), opens the account's alert and
 * timeline, confirms the compromise with a note (its second factor, older than 5 minutes by then,
 * asked again by the step-up dialog), and reads the incident with its scope and a person's access history. Every page passes axe; no
 * CSP or Trusted Types violation. Screenshots: throttle, step-up, dashboard (light and dark),
 * review-queue, timeline, incident.
 *
 * In the same world, incidents and the 72-hour notification (docs/INCIDENTS.md): a security officer
 * declares an incident from a leaked CSV file and sees its timeline and 72-hour clock; the DPO
 * completes the art. 33 draft, downloads its PDF (the text read back from the file) and marks it
 * sent, which stops the clock. Screenshots: incident-timeline, art33-draft.
 */
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionDay } from '../src/retention/job.ts';
import { DEFAULT_PERIODS } from '../src/retention/periods.ts';
import { runRetention } from '../src/retention/run.ts';
import { screenshot } from './helpers/browser.ts';
import {
  type ConsoleWorld,
  consoleWorld,
  enrolTotpInConsole,
  expectAccessible,
  heading,
} from './helpers/console.ts';
import { engine } from './helpers/db.ts';
import { pdfText } from './helpers/pdf-text.ts';
import { enrolled, totpAt } from './helpers/staff.ts';

const MINUTE = 60_000;
const NOTE = 'Lectures nationales puis un dossier protégé : session volée, compte compromis';

let world: ConsoleWorld;

beforeAll(async () => {
  // The built-in thresholds: the guard under test is the real one.
  world = await consoleWorld({ persons: 60 });
});
afterAll(async () => {
  await world?.close();
});

/** Searches by agency id with the form as it is (purpose chosen, national or not); returns the answer's status. */
async function searchAgencyId(page: Page, agencyId: string): Promise<number> {
  await page.getByRole('textbox', { name: 'Identifiant France Travail' }).fill(agencyId);
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/v1/persons/search'));
  await page.getByRole('button', { name: 'Rechercher' }).click();
  return (await answer).status();
}

/** How the console shows an instant (the page's own formatting, in the browser's zone). */
async function shownAt(page: Page, iso: string): Promise<string> {
  return page.evaluate(
    (at) => new Date(at).toLocaleString('fr-FR', { dateStyle: 'medium', timeStyle: 'short' }),
    iso,
  );
}

/**
 * Follows a menu link to a screen. The dashboard redraws every few seconds: a click that lands
 * while it redraws is tried again.
 */
async function openFromMenu(page: Page, link: string, title: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await page.getByRole('link', { name: link }).first().click();
    try {
      await page.getByRole('heading', { level: 1, name: title }).waitFor({ timeout: 5000 });
      return;
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }
}

async function darkMode(page: Page): Promise<void> {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as {
          document: { documentElement: { getAttribute(name: string): string | null } };
        }
      ).document.documentElement.getAttribute('data-fr-theme') === 'dark',
  );
}

describe(`the guard in the console (${engine})`, () => {
  it('a counselor is throttled, stepped up, then suspended; the security officer sees it, reads the timeline, confirms the compromise and reads the incident', async () => {
    const owner = <R>(sql: string, params: unknown[] = []): Promise<R[]> =>
      world.t.driver.transaction((tx) => tx.query<R>(sql, params));
    const account = await world.account({ role: 'counselor', organisationId: world.agency });
    const mine = world.persons.filter((p) => p.agencyOrganisationId === world.agency);
    const elsewhere = world.persons.filter((p) => p.agencyOrganisationId !== world.agency);
    expect(mine.length).toBeGreaterThan(2);
    expect(elsewhere.length).toBeGreaterThan(2);

    // --- The counselor: a new account, on probation (its first second factor just now).
    const agent = await world.page();
    const page = agent.page;
    const { secret } = await enrolTotpInConsole(world, page, account.login);
    await page.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await heading(page, /^Bienvenue/);
    await page.goto('/recherche');
    await heading(page, 'Rechercher une personne');
    await page.getByLabel('Motif de la consultation').selectOption({ label: 'Accompagnement' });

    // Throttle: searches this minute (20 × 0.25 = 5 on probation): the fifth search is refused.
    const first = mine[0]!;
    for (let i = 0; i < 4; i++) expect(await searchAgencyId(page, first.identity.agencyId)).toBe(200);
    await page.getByRole('row').filter({ hasText: first.identity.agencyId }).waitFor();
    expect(await searchAgencyId(page, first.identity.agencyId)).toBe(429);
    const throttled = page.getByRole('alert').filter({ hasText: 'Activité limitée' });
    await throttled.waitFor();
    const minuteEnd = new Date(Math.ceil((world.clock.now().getTime() + 1) / MINUTE) * MINUTE);
    const text = await throttled.innerText();
    expect(text).toContain('recherches cette minute'); // which kind of limit, in French
    expect(text).toContain(await shownAt(page, minuteEnd.toISOString())); // when it ends
    await expectAccessible(page);
    await screenshot(page, 'throttle');
    await throttled.getByRole('button', { name: /Masquer|Fermer/ }).click();

    // Step-up: persons read through national searches (10 × 0.25 → 3): the third asks for a TOTP.
    await page.getByLabel(/Lecture nationale/).check({ force: true });
    await page
      .getByRole('textbox', { name: /^Justification/ })
      .fill('Personne venue à l’accueil, inscrite dans une autre agence');
    for (const [i, person] of elsewhere.slice(0, 3).entries()) {
      world.clock.advance(MINUTE + 1000); // past the throttle, one search a minute
      const answer = await searchAgencyId(page, person.identity.agencyId);
      expect(answer).toBe(i < 2 ? 200 : 403);
      if (i < 2) await page.getByRole('row').filter({ hasText: person.identity.agencyId }).waitFor();
    }
    const dialog = page.getByRole('dialog', { name: 'Confirmez votre identité' });
    await dialog.waitFor();
    await expect(dialog.innerText()).resolves.toContain(
      'personnes consultées par recherche nationale aujourd’hui',
    );
    // The dialog fades in: axe measures contrast once it is fully shown.
    await expect
      .poll(() =>
        dialog.evaluate(
          (el) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { opacity: string } }).getComputedStyle(
              el,
            ).opacity,
        ),
      )
      .toBe('1');
    await expectAccessible(page);
    await screenshot(page, 'step-up');
    world.clock.advance(30_000); // a code is accepted once: the next one
    await dialog.getByLabel(/Code de l’application/).fill(await totpAt(secret, world.clock.now()));
    await dialog.getByRole('button', { name: 'Vérifier' }).click();
    // Verified: the same search is sent again and goes through.
    await page.getByRole('row').filter({ hasText: elsewhere[2]!.identity.agencyId }).waitFor();
    await dialog.waitFor({ state: 'hidden' });

    // Suspension: a canary of its own agency (planted by the operator) answers nothing and suspends.
    const canary = mine[1]!;
    await owner('INSERT INTO guard_canaries (person_id) VALUES ($1)', [canary.id]);
    await page.getByLabel(/Lecture nationale/).uncheck({ force: true });
    world.clock.advance(MINUTE);
    expect(await searchAgencyId(page, canary.identity.agencyId)).toBe(403);
    await page.getByRole('alert').filter({ hasText: 'Compte suspendu' }).waitFor();
    await expect(page.locator('main').innerText()).resolves.not.toContain(canary.identity.lastName);
    const [status] = await owner<{ status: string }>('SELECT status FROM accounts WHERE id = $1', [
      account.id,
    ]);
    expect(status!.status).toBe('suspended');
    await expectAccessible(page);
    expect(agent.problems).toEqual([]);
    await agent.context.close();

    // --- The security officer.
    const officerAccount = await world.account({ role: 'security_officer', organisationId: world.national });
    const officer = await world.page();
    const o = officer.page;
    const { secret: officerSecret } = await enrolTotpInConsole(world, o, officerAccount.login);
    await o.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await heading(o, /^Bienvenue/);
    await o.getByRole('link', { name: 'Sécurité' }).first().click();
    await heading(o, 'Tableau de bord de sécurité');
    const suspendedRow = o
      .getByRole('table', { name: 'Comptes suspendus, les plus récents d’abord' })
      .getByRole('row')
      .filter({ hasText: account.login });
    await suspendedRow.waitFor();
    await expect(o.getByTestId('suspended-accounts').innerText()).resolves.toBe('1');
    await expect(o.getByTestId('open-alerts').innerText()).resolves.toBe('3'); // throttle, step-up, suspension
    // The counselor's reads are on the chart's table; the chart itself is drawn on a canvas.
    const reads = o
      .getByRole('table', { name: /Lectures sur la période/ })
      .getByRole('row')
      .filter({
        hasText: 'conseiller ou conseillère',
      });
    await reads.waitFor();
    await o
      .getByRole('img', { name: /Lectures par minute/ })
      .locator('canvas')
      .first()
      .waitFor();
    // Refreshed without reloading: another counselor of the agency reads a record meanwhile, and the
    // next poll shows it.
    const readsCell = reads.getByRole('cell').nth(2);
    const before = Number(await readsCell.innerText());
    const colleague = await world.account({ role: 'counselor', organisationId: world.agency });
    const { client } = await enrolled(world, colleague);
    const read = await client.request('GET', `/api/v1/persons/${mine[2]!.id}?purpose=accompaniment`);
    expect(read.statusCode, read.body).toBe(200);
    const url = o.url();
    await expect.poll(() => readsCell.innerText(), { timeout: 15_000 }).toBe(String(before + 1));
    expect(o.url()).toBe(url);
    await expectAccessible(o);
    await screenshot(o, 'dashboard');
    await darkMode(o);
    await expectAccessible(o);
    await screenshot(o, 'dashboard-dark');
    await o.emulateMedia({ colorScheme: 'light' });

    // The review queue, then the suspension's evidence and the account's timeline.
    await openFromMenu(o, 'File de revue', 'File de revue des alertes');
    const queue = o.getByRole('table', { name: 'Alertes ouvertes, les plus récentes d’abord' });
    await queue.getByRole('row').filter({ hasText: 'Suspension' }).waitFor();
    await expect(queue.getByRole('row').filter({ hasText: account.login }).count()).resolves.toBe(3);
    await expectAccessible(o);
    await screenshot(o, 'review-queue');
    await queue
      .getByRole('row')
      .filter({ hasText: 'Suspension' })
      .getByRole('button', { name: 'Examiner' })
      .click();
    await heading(o, `Alerte sur le compte ${account.login}`);
    await o.getByRole('table', { name: 'Signaux qui ont déclenché l’alerte' }).getByText('canary').waitFor();
    await o
      .getByRole('img', { name: /Requêtes du compte par minute/ })
      .locator('canvas')
      .first()
      .waitFor();
    const events = o.getByRole('table', { name: /Derniers événements du compte/ });
    await events.getByRole('row').filter({ hasText: 'person.search' }).first().waitFor();
    // The organisation's picture: its day among its last 28, the day by hour; the account's usual day.
    await o.getByRole('heading', { name: /^L’organisation / }).waitFor();
    const orgDays = o.getByRole('table', { name: 'Ses journées sur les 28 derniers jours' });
    await orgDays.getByRole('row').nth(1).waitFor();
    await expect(orgDays.getByRole('row').count()).resolves.toBeGreaterThanOrEqual(2);
    await o
      .getByRole('table', { name: /heure par heure, cumulé/ })
      .getByRole('row')
      .nth(1)
      .waitFor();
    // The share of its caseload the organisation read each week, as counted that day.
    const coverage = o.getByRole('table', { name: /^Part de son portefeuille consultée par semaine/ });
    await coverage.getByRole('row').filter({ hasText: 'les 6 jours précédents' }).waitFor();
    await expect(coverage.getByRole('row').count()).resolves.toBe(5);
    await o.getByRole('heading', { name: 'Journée habituelle du compte' }).waitFor();
    // The evidence names no person.
    for (const person of [first, canary, ...elsewhere.slice(0, 3)]) {
      await expect(o.locator('main').innerText()).resolves.not.toContain(person.identity.lastName);
    }
    await expectAccessible(o);
    await screenshot(o, 'timeline');

    // Confirming the compromise opens the incident with its scope.
    // Deciding needs a second factor of the last 5 minutes (STEP_UP_MINUTES): past them, the
    // step-up dialog asks for one and the decision is sent again.
    world.clock.advance(6 * MINUTE);
    await o.getByLabel(/^Note/).fill(NOTE);
    await o.getByRole('button', { name: 'Confirmer la compromission' }).click();
    const stepUp = o.getByRole('dialog', { name: 'Confirmez votre identité' });
    await stepUp.getByLabel(/Code de l’application/).fill(await totpAt(officerSecret, world.clock.now()));
    await stepUp.getByRole('button', { name: 'Vérifier' }).click();
    await heading(o, 'Incident');
    // What the counselor received: the first person (its searches) and the three national reads.
    await o.getByText(/4 personnes concernées/).waitFor();
    const scope = o.getByRole('table', { name: 'Étendue : personnes concernées par champ' });
    await scope.getByRole('row').filter({ hasText: 'lastName' }).filter({ hasText: '4' }).waitFor();
    await o
      .getByLabel('Justification de la consultation des historiques')
      .fill('Incident : qui d’autre a lu ces dossiers');
    await o
      .getByRole('table', { name: /Personnes concernées/ })
      .getByRole('row')
      .nth(1)
      .getByRole('button', { name: 'Historique des accès' })
      .click();
    const history = o.getByRole('table', { name: 'Qui a consulté le dossier de la personne 1' });
    await history.getByRole('row').filter({ hasText: 'accompaniment' }).first().waitFor();
    const [incident] = await owner<{ accounts: string[]; person_count: number }>(
      `SELECT accounts, (scope->>'personCount')::int AS person_count FROM incidents`,
    );
    expect(incident).toEqual({ accounts: [account.id], person_count: 4 });
    await expectAccessible(o);
    await screenshot(o, 'incident');
    expect(officer.problems).toEqual([]);
    await officer.context.close();
  });

  it('a security officer declares a leaked file and sees the 72-hour clock; the DPO completes the art. 33 draft, downloads its PDF and marks it sent', async () => {
    const HOUR = 3_600_000;
    /** An instant as a `datetime-local` field takes it, in the browser's zone. */
    const local = (page: Page, at: Date): Promise<string> =>
      page.evaluate((ms) => {
        const d = new Date(ms);
        const p = (n: number) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
      }, at.getTime());
    const now = world.clock.now();
    const leaked = world.persons.slice(5, 8);

    // --- The security officer declares from the file.
    const officerAccount = await world.account({ role: 'security_officer', organisationId: world.national });
    const officer = await world.page();
    const o = officer.page;
    await enrolTotpInConsole(world, o, officerAccount.login);
    await o.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await heading(o, /^Bienvenue/);
    await o.getByRole('link', { name: 'Incidents' }).first().click();
    await heading(o, 'Incidents');
    await o.getByLabel(/Fichier CSV/).setInputFiles({
      name: 'fuite.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`nir;email\n${leaked.map((p) => `${p.identity.nir};x@exemple.fr`).join('\n')}\n`),
    });
    await o.getByLabel('Début de la violation').fill(await local(o, new Date(now.getTime() - 48 * HOUR)));
    await o.getByLabel('Fin de la violation').fill(await local(o, new Date(now.getTime() - 24 * HOUR)));
    // Minutes only in the field: detected 5 hours ago, to the minute.
    const detected = new Date(Math.floor((now.getTime() - 5 * HOUR) / 60_000) * 60_000);
    await o.getByLabel(/^Détectée le/).fill(await local(o, detected));
    await o.getByLabel(/^Motif/).fill('Fichier de trois lignes publié sur un forum');
    await expectAccessible(o);
    await o.getByRole('button', { name: 'Déclarer' }).click();
    await heading(o, /^Incident du/);
    const clock = o.getByRole('alert').filter({ hasText: 'Délai de 72 heures' });
    await expect(clock.innerText()).resolves.toMatch(/il reste 6[67] h \d+ min/);
    const timeline = o.getByRole('table', { name: 'Chronologie' });
    await timeline
      .getByRole('row')
      .filter({ hasText: 'Notification à la CNIL' })
      .filter({ hasText: 'pas encore' })
      .waitFor();
    await o
      .getByRole('table', { name: /Données exposées/ })
      .getByRole('row')
      .filter({ hasText: 'email' })
      .filter({ hasText: '3' })
      .waitFor();
    await expect(o.getByLabel('Mesures prises').isDisabled()).resolves.toBe(true); // the DPO's to edit
    for (const person of leaked)
      await expect(o.locator('main').innerText()).resolves.not.toContain(person.identity.nir);
    await expectAccessible(o);
    await screenshot(o, 'incident-timeline');
    expect(officer.problems).toEqual([]);
    await officer.context.close();

    // --- The DPO completes the draft, downloads it, marks it sent.
    const dpoAccount = await world.account({ role: 'dpo', organisationId: world.national });
    const dpo = await world.page();
    const d = dpo.page;
    await enrolTotpInConsole(world, d, dpoAccount.login);
    await d.getByRole('button', { name: 'J’ai noté mes codes' }).click();
    await heading(d, /^Bienvenue/);
    await d.getByRole('link', { name: 'Incidents' }).first().click();
    const list = d.getByRole('table', { name: 'Incidents, les plus récents d’abord' });
    await list
      .getByRole('row')
      .filter({ hasText: 'Fichier divulgué' })
      .getByRole('button', { name: 'Ouvrir' })
      .click();
    await heading(d, /^Incident du/);
    const measures = 'Mots de passe des comptes exposés changés, fichier signalé à la plateforme.';
    await d.getByLabel('Mesures prises').fill(measures);
    await d.getByLabel('Nom du ou de la DPO').fill('Dominique Protection');
    await d.getByLabel('Courriel du ou de la DPO').fill('dpo@exemple.fr');
    await d.getByLabel('Responsable du traitement').fill('Opérateur public');
    await d.getByRole('button', { name: 'Enregistrer le brouillon' }).click();
    await d.getByText('Brouillon enregistré.').waitFor();
    await expectAccessible(d);
    await screenshot(d, 'art33-draft');
    const download = d.waitForEvent('download');
    await d.getByRole('link', { name: 'Télécharger le PDF' }).click();
    const text = pdfText(await readFile((await (await download).path())!));
    for (const value of [
      measures,
      'Dominique Protection',
      'dpo@exemple.fr',
      'Nombre de personnes concernées 3',
    ])
      expect(text).toContain(value);
    await d.getByRole('button', { name: 'Marquer comme envoyée à la CNIL' }).click();
    await d.getByText('Notification marquée envoyée.').waitFor();
    await d.getByText(/CNIL notifiée dans les 72 heures/).waitFor();
    await expect(
      d
        .getByRole('table', { name: 'Chronologie' })
        .getByRole('row')
        .filter({ hasText: 'Notification à la CNIL' })
        .innerText(),
    ).resolves.not.toContain('pas encore');
    await expectAccessible(d);

    // --- The DPO's retention report, after a run (docs/RETENTION.md): counts only, no person.
    const report = await runRetention(world.t.db, {
      asOf: retentionDay(world.clock.now()),
      periods: DEFAULT_PERIODS,
      dryRun: false,
      trigger: 'cli',
      at: world.clock.now(),
    });
    expect(report!.actions.destroy + report!.actions.archive).toBeGreaterThan(0);
    await d.getByRole('link', { name: 'Conservation' }).first().click();
    await heading(d, 'Conservation des données');
    const byStatus = d.getByRole('table', { name: 'Personnes par statut' });
    await expect(byStatus.getByRole('row').filter({ hasText: 'détruites' }).innerText()).resolves.toContain(
      String(report!.actions.destroy),
    );
    await d.getByText('La conservation est à jour : rien n’est en retard.').waitFor();
    const runs = d.getByRole('table', { name: 'Dernières exécutions' });
    await expect(runs.getByRole('row').nth(1).innerText()).resolves.toContain(
      `archivage ${report!.actions.archive}`,
    );
    await expectAccessible(d);
    await screenshot(d, 'retention');
    expect(dpo.problems).toEqual([]);
    await dpo.context.close();
  });
});
