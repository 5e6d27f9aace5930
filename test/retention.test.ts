/**
 * Retention through time (issue 14, DESIGN.md section 8): a population aged with the injectable
 * clock. A deregistered person is found by search until the archive period ends; then search and
 * partner access stop finding them, and only the archivist reaches them, for pension proofs. Twenty
 * years after deregistration the person is crypto-shredded: nothing of them can be decrypted by
 * anyone, keyring included, and no table holds their identifiers; the audit log keeps its events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../src/context.ts';
import { IDENTITY_FIELDS } from '../src/registry/person.ts';
import { identityIndexes, openIdentity } from '../src/registry/persons.ts';
import { dailyRunDue, retentionDay } from '../src/retention/job.ts';
import { DEFAULT_PERIODS } from '../src/retention/periods.ts';
import { type RetentionReport, runRetention } from '../src/retention/run.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import type { StaffClient } from './helpers/staff.ts';

const JUSTIFICATION = 'Demande de relevé de périodes pour la retraite, reçue par courrier';

describe(`retention aged with the clock (${engine})`, () => {
  let w: RegistryWorld;
  /** Deregistered on 2025-12-15, in the agency, accompanied by the partner until then. */
  let former: KnownPerson;
  /** Deregistered in 2005: past 20 years at the first run. */
  let ancient: KnownPerson;
  let candidate: KnownPerson;
  let registered: KnownPerson;
  const runs: RetentionReport[] = [];

  const run = async (dryRun = false): Promise<RetentionReport> => {
    const report = await runRetention(w.t.db, {
      asOf: retentionDay(w.clock.now()),
      periods: DEFAULT_PERIODS,
      dryRun,
      trigger: 'cli',
      at: w.clock.now(),
      slice: 37, // several slices, boundaries crossed
    });
    if (!report) throw new Error('no report');
    runs.push(report);
    return report;
  };
  const setTo = (iso: string): void => w.clock.advance(Date.parse(iso) - w.clock.now().getTime());
  const statusOf = async (id: string): Promise<string> => {
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<{ status: string }>('SELECT status FROM persons WHERE id = $1', [id]),
    );
    return row!.status;
  };
  const searchNir = (client: StaffClient, purpose: string, nir: string, national = false) =>
    client.request('POST', '/api/v1/persons/search', {
      purpose,
      by: 'nir',
      nir,
      ...(national ? { national: true, justification: JUSTIFICATION } : {}),
    });
  const ids = (response: { json(): { results?: { id: string }[] } }): string[] =>
    (response.json().results ?? []).map((r) => r.id);
  /** Rewrites a person's registration history to one period. */
  const deregisteredOn = async (person: KnownPerson, started: string, ended: string): Promise<void> => {
    await w.t.driver.transaction(async (tx) => {
      await tx.query('DELETE FROM registration_periods WHERE person_id = $1', [person.id]);
      await tx.query(
        'INSERT INTO registration_periods (person_id, started_on, ended_on) VALUES ($1, $2, $3)',
        [person.id, started, ended],
      );
      await tx.query(`UPDATE persons SET status = 'deregistered' WHERE id = $1`, [person.id]);
    });
  };

  beforeAll(async () => {
    w = await registryWorld(120, { guard: LENIENT_GUARD });
    const statuses = new Map(
      (
        await w.t.driver.transaction((tx) =>
          tx.query<{ id: string; status: string }>('SELECT id, status FROM persons'),
        )
      ).map((r) => [r.id, r.status]),
    );
    const inAgency = w.persons.filter(
      (p) => p.agencyOrganisationId === w.agency && p.identity.email !== null && p.identity.phone !== null,
    );
    registered = inAgency.find((p) => statuses.get(p.id) === 'registered')!;
    former = inAgency.find((p) => p.id !== registered.id && statuses.get(p.id) !== 'candidate')!;
    ancient = w.persons.find(
      (p) => p.id !== former.id && p.id !== registered.id && statuses.get(p.id) !== 'candidate',
    )!;
    candidate = w.persons.find((p) => statuses.get(p.id) === 'candidate')!;
    await deregisteredOn(former, '2019-04-01', '2025-12-15');
    await deregisteredOn(ancient, '1999-09-01', '2005-06-30');
    await w.t.driver.transaction(async (tx) => {
      await tx.query('DELETE FROM caseloads WHERE person_id = $1', [former.id]);
      await tx.query('INSERT INTO caseloads (person_id, organisation_id, since) VALUES ($1, $2, $3)', [
        former.id,
        w.partner,
        '2025-06-01',
      ]);
    });
  }, 180_000);
  afterAll(async () => {
    await w?.close();
  });

  it('a dry run counts and changes nothing; the first run destroys what is past 20 years and leaves the rest', async () => {
    const dry = await run(true);
    expect(dry.actions.destroy).toBeGreaterThanOrEqual(1);
    expect(await statusOf(ancient.id)).toBe('deregistered');
    expect(await statusOf(former.id)).toBe('deregistered');
    const first = await run();
    expect(first.actions).toEqual(dry.actions);
    expect(first.scanned).toBe(120);
    expect(await statusOf(ancient.id)).toBe('destroyed');
    expect(await statusOf(former.id)).toBe('deregistered');
    expect(await statusOf(candidate.id)).toBe('candidate');
    // a second run the same day finds nothing left to do
    expect((await run()).actions).toEqual({ archive: 0, destroy: 0, expire_candidate: 0 });
  });

  it('until the archive period ends, the counselor and the partner still find the former job seeker', async () => {
    setTo('2026-12-14T09:00:00Z'); // 12 months after 2025-12-15 is the 15th: one day short
    await run();
    expect(await statusOf(former.id)).toBe('deregistered');
    const counselor = (await w.staff('counselor', w.agency)).client;
    expect(ids(await searchNir(counselor, 'accompaniment', former.identity.nir))).toEqual([former.id]);
    const partner = (await w.staff('partner_counselor', w.partner)).client;
    const found = await partner.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'agencyId',
      agencyId: former.identity.agencyId,
    });
    expect(ids(found)).toEqual([former.id]);
  });

  it('past the period, search and partner access stop finding them: the indexes moved to the archive', async () => {
    setTo('2026-12-16T09:00:00Z');
    const report = await run();
    expect(report.actions.archive).toBeGreaterThanOrEqual(1);
    expect(await statusOf(former.id)).toBe('archived');
    const counselor = (await w.staff('counselor', w.agency)).client;
    expect(ids(await searchNir(counselor, 'accompaniment', former.identity.nir))).toEqual([]);
    expect(ids(await searchNir(counselor, 'pension_proof', former.identity.nir))).toEqual([]);
    expect(ids(await searchNir(counselor, 'pension_proof', former.identity.nir, true))).toEqual([]);
    expect(
      (await counselor.request('GET', `/api/v1/persons/${former.id}?purpose=accompaniment`)).statusCode,
    ).toBe(404);
    const national = await counselor.request('POST', `/api/v1/persons/${former.id}/national-view`, {
      purpose: 'pension_proof',
      justification: JUSTIFICATION,
    });
    expect(national.statusCode).toBe(404);
    const partner = (await w.staff('partner_counselor', w.partner)).client;
    const byAgencyId = await partner.request('POST', '/api/v1/persons/search', {
      purpose: 'accompaniment',
      by: 'agencyId',
      agencyId: former.identity.agencyId,
    });
    expect(ids(byAgencyId)).toEqual([]);
    const rows = await w.t.driver.transaction(async (tx) => ({
      person: (
        await tx.query<{ nir_bi: Buffer | null; archived_on: string }>(
          'SELECT nir_bi, archived_on::text AS archived_on FROM persons WHERE id = $1',
          [former.id],
        )
      )[0],
      archive: await tx.query('SELECT 1 FROM person_archive WHERE person_id = $1', [former.id]),
      caseload: await tx.query<{ until: string }>(
        'SELECT until::text AS until FROM caseloads WHERE person_id = $1',
        [former.id],
      ),
    }));
    expect(rows.person).toEqual({ nir_bi: null, archived_on: '2026-12-16' });
    expect(rows.archive).toHaveLength(1);
    expect(rows.caseload).toEqual([{ until: '2026-12-15' }]);
  });

  it('the archivist finds them for a pension proof, audited; nothing else, and no one else', async () => {
    const archivist = (await w.staff('archivist', w.national)).client;
    const found = await searchNir(archivist, 'pension_proof', former.identity.nir);
    expect(found.statusCode).toBe(200);
    expect(ids(found)).toEqual([former.id]);
    const view = await archivist.request('GET', `/api/v1/persons/${former.id}?purpose=pension_proof`);
    expect(view.statusCode).toBe(200);
    expect(view.json().person).toMatchObject({
      id: former.id,
      status: 'archived',
      nir: former.identity.nir,
      registrationPeriods: [{ startedOn: '2019-04-01', endedOn: '2025-12-15' }],
    });
    expect(view.json().person.email).toBeUndefined();
    const [event] = await w.t.driver.transaction((tx) =>
      tx.query<{ fields: string[] }>(
        `SELECT l.fields FROM audit_events e JOIN audit_event_persons l ON l.event_id = e.id
         WHERE e.request_id = $1`,
        [String(view.headers['x-request-id'])],
      ),
    );
    expect(event?.fields).toContain('registrationPeriods');
    // the archive holds archived persons only: a registered person is not there
    expect(ids(await searchNir(archivist, 'pension_proof', registered.identity.nir))).toEqual([]);
    const other = await searchNir(archivist, 'accompaniment', former.identity.nir);
    expect(other.statusCode).toBe(403);
    const wide = await searchNir(archivist, 'pension_proof', former.identity.nir, true);
    expect(wide.statusCode).toBe(403);
    expect(wide.json().field).toBe('national');
  });

  it('row-level security opens archived rows to the archivist inside an archive read only', async () => {
    const account = await w.account({ role: 'counselor', organisationId: w.agency });
    const archivist = await w.account({ role: 'archivist', organisationId: w.national });
    const visible = (role: string, accountId: string, organisationId: string, scope: string) =>
      w.t.db.tx({ kind: 'staff', accountId, organisationId, role }, async (tx) => {
        await tx.query(`SELECT set_config('rempart.scope', $1, true)`, [scope]);
        const persons = await tx.query('SELECT id FROM persons WHERE id = $1', [former.id]);
        const archive = await tx.query('SELECT person_id FROM person_archive WHERE person_id = $1', [
          former.id,
        ]);
        return [persons.length, archive.length];
      });
    expect(await visible('counselor', account.id, w.agency, 'national')).toEqual([0, 0]);
    expect(await visible('counselor', account.id, w.agency, 'archive')).toEqual([0, 0]);
    expect(await visible('archivist', archivist.id, w.national, '')).toEqual([0, 0]);
    expect(await visible('archivist', archivist.id, w.national, 'national')).toEqual([0, 0]);
    expect(await visible('archivist', archivist.id, w.national, 'archive')).toEqual([1, 1]);
  });

  it('twenty years after deregistration, nothing of the person can be decrypted by anyone, keyring included', async () => {
    // the archivist's reads above are on the record, about this person
    const before = await w.t.driver.transaction((tx) =>
      tx.query('SELECT event_id FROM audit_event_persons WHERE person_id = $1', [former.id]),
    );
    expect(before.length).toBeGreaterThan(0);
    setTo('2045-12-14T09:00:00Z');
    expect(await statusOf(former.id)).toBe('archived');
    const notYet = await run();
    expect(await statusOf(former.id)).toBe('archived');
    expect(notYet.actions.expire_candidate).toBeGreaterThanOrEqual(1); // candidates long inactive
    expect(await statusOf(candidate.id)).toBe('destroyed');
    setTo('2045-12-16T09:00:00Z');
    const report = await run();
    expect(report.actions.destroy).toBeGreaterThanOrEqual(1);
    expect(await statusOf(former.id)).toBe('destroyed');

    const archivist = (await w.staff('archivist', w.national)).client;
    expect(ids(await searchNir(archivist, 'pension_proof', former.identity.nir))).toEqual([]);
    // the keyring cannot open it: the wrapped data key is gone
    await expect(
      w.t.db.tx(systemCtx('test').actor, (tx) =>
        openIdentity(tx, w.keys.registry, former.id, IDENTITY_FIELDS),
      ),
    ).rejects.toThrow();
    const [row] = await w.t.driver.transaction((tx) =>
      tx.query<Record<string, unknown>>(
        `SELECT status, destroyed_on::text AS destroyed_on, kek_id, wrapped_key, sealed, bi_key_id, agency_id_bi,
           nir_bi, name_birth_bi, birth_name_birth_bi, email_bi FROM persons WHERE id = $1`,
        [former.id],
      ),
    );
    expect(row).toEqual({
      status: 'destroyed',
      destroyed_on: '2045-12-16',
      kek_id: null,
      wrapped_key: null,
      sealed: null,
      bi_key_id: null,
      agency_id_bi: null,
      nir_bi: null,
      name_birth_bi: null,
      birth_name_birth_bi: null,
      email_bi: null,
    });
    // no table holds their identifiers in the clear or their blind indexes
    const tables = await w.t.driver.transaction((tx) =>
      tx.query<{ name: string }>(
        `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
      ),
    );
    let dump = '';
    for (const { name } of tables) {
      const rows = await w.t.driver.transaction((tx) =>
        tx.query<{ t: string }>(`SELECT coalesce(string_agg(x::text, E'\\n'), '') AS t FROM "${name}" x`),
      );
      dump += rows[0]!.t;
    }
    expect(dump.length).toBeGreaterThan(10_000);
    const { identity } = former;
    for (const secret of [identity.nir, identity.agencyId, identity.email!, identity.phone!]) {
      expect(dump.includes(secret), 'an identifier of the destroyed person').toBe(false);
    }
    for (const keys of w.keys.registry.allBlindIndexes) {
      const indexes = identityIndexes(keys, identity);
      for (const hash of [indexes.agencyId, indexes.nir, indexes.nameBirth, indexes.email]) {
        if (hash)
          expect(dump.includes(hash.toString('hex')), 'a blind index of the destroyed person').toBe(false);
      }
    }
    // ... while a live person's blind index is there, so the search above would have seen one
    const live = identityIndexes(w.keys.registry.blindIndex, registered.identity);
    expect(dump.includes(live.nir.toString('hex'))).toBe(true);
    // the audit log keeps its events, pointing at a tombstone
    const after = await w.t.driver.transaction((tx) =>
      tx.query('SELECT event_id FROM audit_event_persons WHERE person_id = $1', [former.id]),
    );
    expect(after).toEqual(before);
    const left = await w.t.driver.transaction((tx) =>
      tx.query<{ n: number }>(
        `SELECT (SELECT count(*) FROM registration_periods WHERE person_id = $1)
              + (SELECT count(*) FROM caseloads WHERE person_id = $1)
              + (SELECT count(*) FROM person_archive WHERE person_id = $1) AS n`,
        [former.id],
      ),
    );
    expect(Number(left[0]!.n)).toBe(0);
  });

  it('the server runs it once a day, past its time: not before, not twice, not when off', async () => {
    const config = { periods: DEFAULT_PERIODS, dailyAt: { hour: 2, minute: 30 } };
    setTo('2045-12-17T01:00:00Z'); // 02:00 in Paris
    expect(await dailyRunDue(w.t.db, config, w.clock.now())).toBeNull();
    setTo('2045-12-17T01:45:00Z'); // 02:45 in Paris
    expect(await dailyRunDue(w.t.db, config, w.clock.now())).toBe('2045-12-17');
    expect(await dailyRunDue(w.t.db, { ...config, dailyAt: null }, w.clock.now())).toBeNull();
    const server = (asOf: string) =>
      runRetention(w.t.db, {
        asOf,
        periods: DEFAULT_PERIODS,
        dryRun: false,
        trigger: 'server',
        at: w.clock.now(),
      });
    const first = await server('2045-12-17');
    expect(first).not.toBeNull();
    runs.push(first!);
    expect(await dailyRunDue(w.t.db, config, w.clock.now())).toBeNull();
    // a second server process looking at the same moment: the database lets one run per day
    expect(await server('2045-12-17')).toBeNull();
  });

  it("the DPO's report: counts of what is held and due, the last runs; no other role, no person", async () => {
    const dpo = (await w.staff('dpo', w.national)).client;
    const response = await dpo.request('GET', '/api/v1/retention/report');
    expect(response.statusCode).toBe(200);
    const report = response.json();
    expect(report.asOf).toBe(retentionDay(w.clock.now()));
    expect(report.legal).toEqual({ destroyYearsMax: 20, source: 'Code du travail, article R.5312-44' });
    const [held] = await w.t.driver.transaction((tx) =>
      tx.query<{ destroyed: number; archived: number }>(
        `SELECT count(*) FILTER (WHERE status = 'destroyed')::int AS destroyed,
                count(*) FILTER (WHERE status = 'archived')::int AS archived FROM persons`,
      ),
    );
    expect(report.persons).toMatchObject(held!);
    expect(report.dueNow).toEqual({ archive: 0, destroy: 0, expire_candidate: 0 });
    expect(report.runs[0]).toMatchObject({ trigger: 'server', asOf: '2045-12-17', dryRun: false });
    expect(JSON.stringify(report)).not.toContain(former.id);
    for (const role of ['counselor', 'security_officer'] as const) {
      const other = (await w.staff(role, role === 'counselor' ? w.agency : w.national)).client;
      expect((await other.request('GET', '/api/v1/retention/report')).statusCode).toBe(403);
    }
  });

  it('each run is on the record: a row with its counts and an audit event of the system actor', async () => {
    const recorded = await w.t.driver.transaction((tx) =>
      tx.query<{ dry_run: boolean; actions: Record<string, number> }>(
        'SELECT dry_run, actions FROM retention_runs ORDER BY started_at, dry_run DESC',
      ),
    );
    expect(recorded).toHaveLength(runs.length);
    const events = await w.t.driver.transaction((tx) =>
      tx.query<{ action: string; actor_kind: string }>(
        `SELECT action, actor_kind FROM audit_events WHERE action LIKE 'retention.%'`,
      ),
    );
    expect(events).toHaveLength(runs.length);
    expect(events.filter((e) => e.action === 'retention.dry_run')).toHaveLength(1);
    expect(new Set(events.map((e) => e.actor_kind))).toEqual(new Set(['system']));
  });
});
