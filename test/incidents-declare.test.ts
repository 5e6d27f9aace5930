/**
 * Declaring incidents and notifying the authority (docs/INCIDENTS.md), through the API with real
 * sessions: a security officer declares from accounts and a window (scope from the audit log) and
 * from a leaked file (matched through the blind indexes, the match on the officer's record, bad
 * rows refused by line with nothing written); counts by category of person and minors on the
 * detection date; the timeline and 72-hour clock in every answer; the art. 33 draft with every
 * required item in its JSON and in the text of its real PDF; the DPO's edits with field-named
 * errors; marking it sent once, with the reasons for a delay required past 72 hours.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nirKey } from '../src/registry/nir.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { pdfText } from './helpers/pdf-text.ts';
import type { KnownPerson, RegistryWorld } from './helpers/registry.ts';
import { registryWorld } from './helpers/registry.ts';
import type { StaffClient } from './helpers/staff.ts';

const HOUR = 3_600_000;
const NOTE = 'Comptes signalés par la revue, périmètre à établir';
const DPO = {
  REMPART_CONTROLLER_NAME: 'Opérateur public',
  REMPART_DPO_NAME: 'Dominique Protection',
  REMPART_DPO_EMAIL: 'dpo@exemple.fr',
};

/** Every item art. 33(3) and the CNIL form ask, by its key in the draft. */
const REQUIRED_ITEMS = [
  'controllerName',
  'dpoName',
  'dpoEmail',
  'nature',
  'natureTypes',
  'cause',
  'breachStartedAt',
  'breachEndedAt',
  'detectedAt',
  'personCount',
  'personCategories',
  'minors',
  'recordCount',
  'dataCategories',
  'consequences',
  'measuresTaken',
  'measuresProposed',
  'personsInformed',
  'informChannels',
  'crossBorder',
] as const;

/** Minor on `at`'s day: born after the same day 18 years earlier (string comparison of ISO dates). */
const minorOn = (birthDate: string, at: Date): boolean => {
  const day = at.toISOString().slice(0, 10);
  return birthDate > `${Number(day.slice(0, 4)) - 18}${day.slice(4)}`;
};

describe(`declaring incidents and the art. 33 draft (${engine})`, () => {
  let w: RegistryWorld;
  let officer: StaffClient;
  let dpo: StaffClient;
  let read: KnownPerson[];
  let readerId: string;
  let statusOf: Map<string, string>;
  const count = async (): Promise<number> =>
    (
      await w.t.driver.transaction((tx) =>
        tx.query<{ n: number }>('SELECT count(*)::int AS n FROM incidents'),
      )
    )[0]!.n;

  beforeAll(async () => {
    w = await registryWorld(120, { guard: LENIENT_GUARD, env: DPO });
    officer = (await w.staff('security_officer', w.national)).client;
    dpo = (await w.staff('dpo', w.national)).client;
    const rows = await w.t.driver.transaction((tx) =>
      tx.query<{ id: string; status: string }>('SELECT id, status FROM persons'),
    );
    statusOf = new Map(rows.map((r) => [r.id, r.status]));
    // A counselor reads four persons of the agency, a minor among them if the agency has one.
    const reader = await w.staff('counselor', w.agency);
    readerId = reader.account.id;
    const agency = w.persons.filter((p) => p.agencyOrganisationId === w.agency);
    const minor = agency.find((p) => minorOn(p.identity.birthDate, w.clock.now()));
    // The seed (ages 16 to 67) gives this agency one: the count of minors is then not trivially 0.
    expect(minor).toBeDefined();
    read = [minor!, ...agency.filter((p) => p !== minor)].slice(0, 4);
    for (const person of read) {
      const viewed = await reader.client.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
      expect(viewed.statusCode, viewed.body).toBe(200);
    }
  });
  afterAll(async () => {
    await w?.close();
  });

  const window = () => ({
    from: new Date(w.clock.now().getTime() - HOUR).toISOString(),
    to: new Date(w.clock.now().getTime() + 1000).toISOString(),
  });

  it('from accounts and a window: the audit log scope, counts by category and minors, the 72-hour clock', async () => {
    const detectedAt = new Date(w.clock.now().getTime() - 2 * HOUR);
    const declared = await officer.request('POST', '/api/v1/incidents', {
      accounts: [readerId],
      ...window(),
      detectedAt: detectedAt.toISOString(),
      note: NOTE,
    });
    expect(declared.statusCode, declared.body).toBe(201);
    const { incidentId, personCount, kind } = declared.json();
    expect({ personCount, kind }).toEqual({ personCount: read.length, kind: 'accounts_window' });

    for (const client of [officer, dpo]) {
      const { incidents } = (await client.request('GET', '/api/v1/incidents')).json();
      const listed = incidents.find((i: { id: string }) => i.id === incidentId);
      const byStatus = { registered: 0, deregistered: 0, candidate: 0, archived: 0 } as Record<
        string,
        number
      >;
      for (const p of read) byStatus[statusOf.get(p.id)!]!++;
      expect(listed.categories).toEqual({
        byStatus,
        minors: read.filter((p) => minorOn(p.identity.birthDate, detectedAt)).length,
      });
      expect(listed.records).toBe(
        Object.values(listed.fieldCounts as Record<string, number>).reduce((a, b) => a + b),
      );
      expect(listed.timeline).toEqual({
        detectedAt: detectedAt.toISOString(),
        declaredAt: w.clock.now().toISOString(),
        authorityNotifiedAt: null,
        peopleNotifiedAt: null,
        clock: {
          detectedAt: detectedAt.toISOString(),
          deadline: new Date(detectedAt.getTime() + 72 * HOUR).toISOString(),
          msLeft: 70 * HOUR,
          status: 'running',
        },
      });
      for (const p of read) expect(JSON.stringify(incidents)).not.toContain(p.id);
    }
    const one = (await officer.request('GET', `/api/v1/incidents/${incidentId}`)).json();
    expect(one.timeline.clock.msLeft).toBe(70 * HOUR);
    expect(one.scope.categories.minors).toBeTypeOf('number');
  });

  it('refused for other roles, a detection in the future, a bad window; nothing written', async () => {
    const before = await count();
    const body = { accounts: [readerId], ...window(), note: NOTE };
    expect((await dpo.request('POST', '/api/v1/incidents', body)).statusCode).toBe(403);
    const future = await officer.request('POST', '/api/v1/incidents', {
      ...body,
      detectedAt: new Date(w.clock.now().getTime() + HOUR).toISOString(),
    });
    expect([future.statusCode, future.json().field]).toEqual([400, 'detectedAt']);
    const backwards = await officer.request('POST', '/api/v1/incidents', {
      ...body,
      from: body.to,
      to: body.from,
    });
    expect([backwards.statusCode, backwards.json().field]).toEqual([400, 'from']);
    expect(await count()).toBe(before);
  });

  it('from a leaked file: matched by NIR, fields = the filled identity columns, the match on the officer’s record', async () => {
    const [a, b, c] = w.persons.slice(10, 13) as [KnownPerson, KnownPerson, KnownPerson];
    const unknownNir = `1800175101999${nirKey('1800175101999')}`; // a valid NIR, no one on file
    const csv = [
      'NIR;Courriel;Nom;colonne libre',
      `${a.identity.nir};x@exemple.fr;${a.identity.lastName};1`,
      `${b.identity.nir};;${b.identity.lastName};2`,
      `${unknownNir};;;3`,
      `${c.identity.nir};;;4`,
    ];
    const declared = await officer.request('POST', '/api/v1/incidents/leaked-file', {
      lines: csv,
      ...window(),
      note: NOTE,
    });
    expect(declared.statusCode, declared.body).toBe(201);
    const answer = declared.json();
    expect(answer).toMatchObject({
      kind: 'leaked_file',
      personCount: 3,
      rows: 4,
      matchedRows: 3,
      unmatchedLines: [4],
      ambiguousLines: [],
      columns: ['nir', 'lastName', 'email'],
      ignoredColumns: 1,
    });
    const incident = (await officer.request('GET', `/api/v1/incidents/${answer.incidentId}`)).json();
    const fields = Object.fromEntries(
      incident.scope.persons.map((p: { personId: string; fields: string[] }) => [p.personId, p.fields]),
    );
    expect(fields).toEqual({
      [a.id]: ['email', 'lastName', 'nir'],
      [b.id]: ['lastName', 'nir'],
      [c.id]: ['nir'],
    });
    const links = await w.t.driver.transaction((tx) =>
      tx.query<{ person_id: string; account_id: string; fields: string[] }>(
        `SELECT l.person_id, l.account_id, l.fields FROM audit_events e JOIN audit_event_persons l ON l.event_id = e.id
         WHERE e.action = 'incident.match' ORDER BY l.person_id`,
      ),
    );
    const officerId = links[0]?.account_id;
    expect(links).toEqual(
      [a, b, c]
        .map((p) => p.id)
        .sort()
        .map((id) => ({ person_id: id, account_id: officerId, fields: ['incident'] })),
    );
  });

  it('from a leaked file by name and birth date; bad rows refused by line, no value quoted, nothing written', async () => {
    const p = w.persons[20]!;
    const byName = [
      'lastName;firstNames;birthDate', // first names may hold commas
      `${p.identity.lastName};${p.identity.firstNames};${p.identity.birthDate}`,
    ];
    const ok = await officer.request('POST', '/api/v1/incidents/leaked-file', {
      lines: byName,
      ...window(),
      note: NOTE,
    });
    expect([ok.statusCode, ok.json().personCount], ok.body).toEqual([201, 1]);
    const before = await count();
    const bad = ['nir,email', `${w.persons[0]!.identity.nir},a@b.fr`, '123456789012345,', ',c@d.fr'];
    const refused = await officer.request('POST', '/api/v1/incidents/leaked-file', {
      lines: bad,
      ...window(),
      note: NOTE,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().issues.map((i: { line: number; field: string }) => [i.line, i.field])).toEqual([
      [3, 'nir'],
      [4, 'nir'],
    ]);
    expect(refused.body).not.toContain('123456789012345');
    const noKey = await officer.request('POST', '/api/v1/incidents/leaked-file', {
      lines: ['email', 'a@b.fr'],
      ...window(),
      note: NOTE,
    });
    expect([noKey.statusCode, noKey.json().field]).toEqual([400, 'csv']);
    expect(await count()).toBe(before);
  });

  it('the art. 33 draft: every required item in the JSON and in the real PDF; DPO edits; sent once', async () => {
    const { incidents } = (await dpo.request('GET', '/api/v1/incidents')).json();
    const id = incidents.find((i: { kind: string }) => i.kind === 'accounts_window').id;
    const draft = (await officer.request('GET', `/api/v1/incidents/${id}/draft`)).json();
    for (const item of REQUIRED_ITEMS) expect(draft[item], item).not.toBeNull();
    expect(draft).toMatchObject({
      ...{
        controllerName: DPO.REMPART_CONTROLLER_NAME,
        dpoName: DPO.REMPART_DPO_NAME,
        dpoEmail: DPO.REMPART_DPO_EMAIL,
      },
      personCount: read.length,
      missing: [],
    });
    expect(draft.timeline.clock.status).toBe('running');

    expect(
      (await officer.request('PATCH', `/api/v1/incidents/${id}/draft`, { crossBorder: true })).statusCode,
    ).toBe(403);
    const badEmail = await dpo.request('PATCH', `/api/v1/incidents/${id}/draft`, {
      dpoEmail: 'pas une adresse',
    });
    expect([badEmail.statusCode, badEmail.json().field]).toEqual([400, 'dpoEmail']);
    const badChannel = await dpo.request('PATCH', `/api/v1/incidents/${id}/draft`, {
      informChannels: ['pigeon'],
    });
    expect([badChannel.statusCode, badChannel.json().field]).toEqual([400, 'informChannels.0']);
    const edited = await dpo.request('PATCH', `/api/v1/incidents/${id}/draft`, {
      measuresTaken: 'Comptes suspendus, mots de passe changés, sessions révoquées.',
      crossBorder: true,
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json().missing).toEqual(['crossBorderCountries']);
    const refused = await dpo.request('POST', `/api/v1/incidents/${id}/draft/sent`);
    expect([refused.statusCode, refused.json().field]).toEqual([400, 'crossBorderCountries']);
    await dpo.request('PATCH', `/api/v1/incidents/${id}/draft`, { crossBorder: false });

    const pdf = await officer.request('GET', `/api/v1/incidents/${id}/draft/pdf`);
    expect([pdf.statusCode, pdf.headers['content-type']]).toEqual([200, 'application/pdf']);
    const text = pdfText(pdf.rawPayload);
    const stored = (await dpo.request('GET', `/api/v1/incidents/${id}/draft`)).json();
    const day = (iso: string) => iso.replace('T', ' ').slice(0, 16);
    for (const value of [
      stored.controllerName,
      stored.dpoName,
      stored.dpoEmail,
      stored.nature,
      stored.cause,
      stored.consequences,
      'Comptes suspendus, mots de passe changés, sessions révoquées.',
      stored.measuresProposed,
      day(stored.breachStartedAt),
      day(stored.breachEndedAt),
      day(stored.detectedAt),
      day(stored.timeline.clock.deadline),
      `Nombre de personnes concernées ${stored.personCount}`,
      `Nombre d'enregistrements ${stored.recordCount}`,
      `Mineurs à la date de détection ${stored.minors}`,
      `inscrits : ${stored.personCategories.registered}`,
      ...Object.entries(stored.dataCategories).map(([f, n]) => `${f} : ${n}`),
      'perte de confidentialité',
      'courriel, courrier postal, portail personnel',
      'Violation transfrontalière non',
      'Information des personnes prévu',
      'Motifs du retard',
    ])
      expect(text, value).toContain(value);

    const sent = await dpo.request('POST', `/api/v1/incidents/${id}/draft/sent`);
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json()).toMatchObject({ status: 'sent', sentAt: w.clock.now().toISOString() });
    expect(sent.json().timeline).toMatchObject({
      authorityNotifiedAt: w.clock.now().toISOString(),
      clock: { status: 'notified_in_time', msLeft: null },
    });
    expect((await dpo.request('POST', `/api/v1/incidents/${id}/draft/sent`)).statusCode).toBe(409);
    expect((await dpo.request('PATCH', `/api/v1/incidents/${id}/draft`, { cause: 'autre' })).statusCode).toBe(
      409,
    );
    expect(pdfText((await dpo.request('GET', `/api/v1/incidents/${id}/draft/pdf`)).rawPayload)).toContain(
      'envoyée le',
    );
  });

  it('past 72 hours: overdue, and sending needs the reasons for the delay', async () => {
    const detectedAt = new Date(w.clock.now().getTime() - 73 * HOUR);
    const declared = await officer.request('POST', '/api/v1/incidents', {
      accounts: [readerId],
      from: new Date(detectedAt.getTime() - HOUR).toISOString(),
      to: window().to,
      detectedAt: detectedAt.toISOString(),
      note: NOTE,
    });
    const id = declared.json().incidentId;
    const draft = (await dpo.request('GET', `/api/v1/incidents/${id}/draft`)).json();
    expect(draft.timeline.clock).toMatchObject({ status: 'overdue', msLeft: -HOUR });
    expect(draft.missing).toEqual(['delayReasons']);
    const refused = await dpo.request('POST', `/api/v1/incidents/${id}/draft/sent`);
    expect([refused.statusCode, refused.json().field]).toEqual([400, 'delayReasons']);
    await dpo.request('PATCH', `/api/v1/incidents/${id}/draft`, {
      delayReasons: 'Périmètre établi après analyse du journal.',
    });
    const sent = await dpo.request('POST', `/api/v1/incidents/${id}/draft/sent`);
    expect([sent.statusCode, sent.json().timeline.clock.status]).toEqual([200, 'notified_late']);
  });
});
