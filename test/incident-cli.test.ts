/**
 * `rempart incident declare|draft` as an operator runs them: a leaked CSV file declared for a
 * security officer, and its art. 33 draft printed with the 72-hour clock and saved as PDF.
 * The data folder is prepared in-process (persons seeded, the officer's account created), the
 * commands run as the real binary.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAccountCreate } from '../src/cli/account.ts';
import { formatSummary, runList, runShow } from '../src/cli/incident.ts';
import { loadConfig } from '../src/config.ts';
import { openKeys } from '../src/crypto/open.ts';
import { openDb } from '../src/db/open.ts';
import { IDENTITY_FIELDS, type Identity } from '../src/registry/person.ts';
import { openIdentity } from '../src/registry/persons.ts';
import { seedPopulation } from '../src/registry/seed.ts';
import { cliEnv, initDataDir, lastJsonLine, rempart } from './helpers/cli.ts';
import { emptyServerDatabase, engine } from './helpers/db.ts';
import { pdfText } from './helpers/pdf-text.ts';

describe(`rempart incident on ${engine}`, () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof emptyServerDatabase>>;
  let env: NodeJS.ProcessEnv;
  let nirs: string[];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rempart-incident-cli-'));
    server = await emptyServerDatabase();
    env = cliEnv({
      REMPART_DATA: path.join(dir, 'data'),
      DATABASE_URL: server?.url,
      REMPART_DPO_NAME: 'Dominique Protection',
      REMPART_DPO_EMAIL: 'dpo@exemple.fr',
      REMPART_CONTROLLER_NAME: 'Opérateur public',
    });
    await initDataDir(env);
    const config = loadConfig(env);
    const keys = await openKeys(config);
    const db = await openDb(config);
    try {
      await seedPopulation(db, keys.registry, { persons: 12, seed: 5, workers: 0 });
      const ids = await db.tx({ kind: 'system', operation: 'test' }, (tx) =>
        tx.query<{ id: string }>('SELECT id FROM persons ORDER BY id LIMIT 3'),
      );
      nirs = [];
      await db.tx({ kind: 'system', operation: 'test' }, async (tx) => {
        for (const { id } of ids) {
          nirs.push(((await openIdentity(tx, keys.registry, id, IDENTITY_FIELDS)) as Identity).nir);
        }
      });
    } finally {
      await db.close();
    }
    await runAccountCreate(
      config,
      {
        login: 'securite.une',
        organisation: 'FT-DG',
        role: 'security_officer',
        email: 'securite.une@exemple.fr',
        displayName: 'Sécurité Une',
      },
      { REMPART_NEW_PASSWORD: 'a long enough password for the test 42' },
    );
  });
  afterAll(async () => {
    await server?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('declares from a leaked file, prints the draft with the clock, saves it as PDF', async () => {
    const file = path.join(dir, 'leak.csv');
    await writeFile(file, `nir;telephone\n${nirs.map((n) => `${n};0601020304`).join('\n')}\n`);
    const now = Date.now();
    const declared = await rempart(
      [
        'incident',
        'declare',
        '--by',
        'securite.une',
        '--file',
        file,
        '--from',
        new Date(now - 86_400_000).toISOString(),
        '--to',
        new Date(now - 3_600_000).toISOString(),
        '--detected',
        new Date(now - 7_200_000).toISOString(),
        '--note',
        'Fichier trouvé sur un forum',
        '--json',
      ],
      env,
    );
    expect(declared.code, declared.stderr).toBe(0);
    const answer = lastJsonLine(declared.stdout);
    expect(answer).toMatchObject({ kind: 'leaked_file', personCount: 3, fieldCounts: { nir: 3, phone: 3 } });
    expect(declared.stdout).not.toContain(nirs[0]!);

    const pdf = path.join(dir, 'draft.pdf');
    // Without --json: every item, then the timeline with the time left before the 72-hour deadline.
    const draft = await rempart(['incident', 'draft', String(answer.incidentId), '--pdf', pdf], env);
    expect(draft.code, draft.stderr).toBe(0);
    expect(draft.stdout).toContain('dpoName: Dominique Protection');
    expect(draft.stdout).toContain('personCount: 3');
    expect(draft.stdout).toContain('missing: []');
    expect(draft.stdout).toMatch(/72-hour deadline: +\S+ \((69|70) h \d+ min left\)/);
    // list and show, in-process (the same module the commands load): counts, categories, the clock.
    const config = loadConfig(env);
    const listed = await runList(config);
    expect(listed.map((i) => i.id)).toEqual([answer.incidentId]);
    const shown = formatSummary(await runShow(config, String(answer.incidentId)));
    expect(shown).toContain('persons:    3 (registered');
    expect(shown).toMatch(/72-hour deadline: +\S+ \((69|70) h \d+ min left\)/);
    expect(shown).toContain('authority notified: —');
    expect((await stat(pdf)).mode & 0o777).toBe(0o600);
    expect(pdfText(await readFile(pdf))).toContain('Dominique Protection');
  });
});
