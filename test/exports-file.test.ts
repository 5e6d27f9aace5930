/**
 * An approved export's file (issue 14, item 1; T3) through the app on a real database: the requester
 * produces it through the gate (one audit event naming every person and field, with the export id),
 * once; the file is CSV minimised to the fields asked, with canary rows that are in no `persons` row,
 * encrypted with age to the recipient's registered key (opened here with the recipient's identity);
 * each download is audited; it expires; a large export outside working hours is refused; the
 * registry's canary persons are left out of the file.
 */
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCsv } from '../src/exports/file.ts';
import type { Account } from '../src/identity/accounts.ts';
import { parseNir } from '../src/registry/nir.ts';
import { DEFAULT_PERIODS } from '../src/retention/periods.ts';
import { runRetention } from '../src/retention/run.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import { type EnrolledStaff, enrolledStaff, signInAgain } from './helpers/staff.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const requestId = (response: { headers: Record<string, unknown> }): string =>
  String(response.headers['x-request-id']);

type Staff = EnrolledStaff;

describe(`exports: the file (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: Staff;
  let manager: Staff;
  let dpo: Staff;
  let recipient: string;
  let identity: string;
  let inScope: KnownPerson[];
  const FIELDS = ['agencyId', 'nir', 'lastName', 'firstNames', 'birthDate'];

  const staff = (role: Account['role'], organisationId: string): Promise<Staff> =>
    enrolledStaff(w, role, organisationId);
  const relogin = (s: Staff): Promise<void> => signInAgain(w, s);
  /** Requested by the counselor and approved by the manager; returns the id. */
  const approved = async (fields = FIELDS): Promise<string> => {
    const asked = await counselor.client.request('POST', '/api/v1/exports', {
      purpose: 'accompaniment',
      fields,
      filter: { statuses: ['registered', 'deregistered', 'candidate'] },
      recipientOrganisationId: recipient,
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const id = asked.json().export.id as string;
    await relogin(manager);
    const decided = await manager.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    expect(decided.statusCode, decided.body).toBe(200);
    return id;
  };
  const produce = (id: string) =>
    counselor.client.request('POST', `/api/v1/exports/${id}/produce`, { purpose: 'accompaniment' });
  const open = async (file: Buffer): Promise<string[][]> => {
    const decrypter = new Decrypter();
    decrypter.addIdentity(identity);
    return parse(await decrypter.decrypt(new Uint8Array(file), 'text'));
  };

  beforeAll(async () => {
    w = await registryWorld(80, { guard: LENIENT_GUARD, env: { REMPART_EXPORT_LARGE_ROWS: '5' } });
    counselor = await staff('counselor', w.agency);
    manager = await staff('org_manager', w.agency);
    dpo = await staff('dpo', w.national);
    recipient = await w.organisation({ kind: 'training_body' });
    identity = await generateIdentity();
    const registered = await dpo.client.request('POST', '/api/v1/exports/recipients', {
      organisationId: recipient,
      ageRecipient: await identityToRecipient(identity),
    });
    expect(registered.statusCode, registered.body).toBe(200);
    inScope = w.persons.filter((p) => p.agencyOrganisationId === w.agency || p.caseloads.includes(w.agency));
    expect(inScope.length).toBeGreaterThan(5);
    // A registry canary in the agency (src/guard/canaries.ts): in the scope, never in a file.
    const canary = inScope.find((p) => p.agencyOrganisationId === w.agency)!;
    await w.t.driver.transaction((tx) =>
      tx.query('INSERT INTO guard_canaries (person_id) VALUES ($1)', [canary.id]),
    );
    inScope = inScope.filter((p) => p.id !== canary.id);
  }, 180_000);
  afterAll(async () => {
    await w?.close();
  });

  it('without the recipient’s registered key nothing is read (409)', async () => {
    const other = await w.organisation({ kind: 'training_body' });
    const asked = await counselor.client.request('POST', '/api/v1/exports', {
      purpose: 'accompaniment',
      fields: ['lastName'],
      filter: {},
      recipientOrganisationId: other,
    });
    const id = asked.json().export.id;
    await relogin(manager);
    await manager.client.request('POST', `/api/v1/exports/${id}/approve`, {});
    const response = await produce(id);
    expect(response.statusCode).toBe(409);
    const [events] = await w.t.driver.transaction((tx) =>
      tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'person.export'`),
    );
    expect(events?.n).toBe(0);
  });

  it('a pending export cannot be produced: refused, audited, nothing read', async () => {
    const asked = await counselor.client.request('POST', '/api/v1/exports', {
      purpose: 'accompaniment',
      fields: ['lastName'],
      filter: {},
      recipientOrganisationId: recipient,
    });
    const response = await produce(asked.json().export.id);
    expect(response.statusCode).toBe(409);
    const [event] = await w.t.driver.transaction((tx) =>
      tx.query<{ decision: string; reason: string; n: number }>(
        `SELECT decision, reason, (SELECT count(*)::int FROM audit_event_persons l WHERE l.event_id = e.id) AS n
         FROM audit_events e WHERE request_id = $1`,
        [requestId(response)],
      ),
    );
    expect(event).toEqual({ decision: 'deny', reason: 'export_pending', n: 0 });
  });

  it('the requester produces the file through the gate: one audit event names every person and field with the export id; the age file holds the fields asked, the scope’s persons and canaries found in no persons row', async () => {
    const id = await approved();
    const reached = async (): Promise<number> => {
      const [row] = await w.t.driver.transaction((tx) =>
        tx.query<{ n: number | null }>(
          `SELECT (state->'d'->>'exported')::int AS n FROM guard_accounts WHERE account_id = $1`,
          [counselor.account.id],
        ),
      );
      return row?.n ?? 0;
    };
    const before = await reached();
    const response = await produce(id);
    expect(response.statusCode, response.body).toBe(200);
    // The guard scores the file's rows by its export windows (test/exports-guard.test.ts: how).
    expect(await reached()).toBe(before + inScope.length);
    const view = response.json().export;
    expect(view).toMatchObject({ state: 'produced', rowCount: inScope.length });
    expect(Date.parse(view.expiresAt) - Date.parse(view.producedAt)).toBe(7 * DAY);

    const [event] = await w.t.driver.transaction((tx) =>
      tx.query<{
        action: string;
        query: Record<string, unknown>;
        persons: { id: string; fields: string[] }[];
      }>(
        `SELECT e.action, e.query,
           (SELECT json_agg(json_build_object('id', l.person_id, 'fields', l.fields)) FROM audit_event_persons l WHERE l.event_id = e.id) AS persons
         FROM audit_events e WHERE e.request_id = $1 AND e.decision = 'allow'`,
        [requestId(response)],
      ),
    );
    expect(event?.action).toBe('person.export');
    expect(event?.query).toMatchObject({ exportId: id, rows: inScope.length });
    expect(event!.persons.map((p) => p.id).sort()).toEqual(inScope.map((p) => p.id).sort());
    for (const person of event!.persons) expect(person.fields).toEqual(FIELDS);

    const download = await counselor.client.request('GET', `/api/v1/exports/${id}/file`);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('application/octet-stream');
    expect(download.rawPayload.subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    // Nothing of a person in clear in what is stored or sent.
    for (const p of inScope.slice(0, 5))
      expect(download.rawPayload.toString('latin1')).not.toContain(p.identity.nir);
    const [header, ...rows] = await open(download.rawPayload);
    expect(header).toEqual(FIELDS);
    expect(rows.length).toBe(inScope.length + 3);
    const nirs = new Set(inScope.map((p) => p.identity.nir));
    const canaries = rows.filter((r) => !nirs.has(r[1]!));
    expect(canaries.length).toBe(3);
    for (const c of canaries) {
      expect(() => parseNir(c[1]!)).not.toThrow();
      expect(c[0]).toMatch(/^\d{7}[A-Z]$/);
    }
    const [stored] = await w.t.driver.transaction((tx) =>
      tx.query<{ canaries: number; in_persons: number }>(
        `SELECT count(*)::int AS canaries,
           (SELECT count(*)::int FROM persons p JOIN export_canaries c ON c.nir_bi = p.nir_bi WHERE c.export_id = $1) AS in_persons
         FROM export_canaries WHERE export_id = $1`,
        [id],
      ),
    );
    expect(stored).toEqual({ canaries: 3, in_persons: 0 });

    // Each download is an audit event.
    const [downloads] = await w.t.driver.transaction((tx) =>
      tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_events WHERE action = 'export.download' AND query->>'exportId' = $1 AND decision = 'allow'`,
        [id],
      ),
    );
    expect(downloads?.n).toBe(1);

    // Once: a second production is refused (no second read).
    const again = await produce(id);
    expect(again.statusCode).toBe(409);

    // Another account (not the requester, not the DPO) finds no such export.
    const colleague = await staff('counselor', w.agency);
    expect((await colleague.client.request('GET', `/api/v1/exports/${id}/file`)).statusCode).toBe(404);

    // Expiry: after 7 days the file is refused and erased.
    w.clock.advance(7 * DAY + MINUTE);
    await relogin(counselor);
    const late = await counselor.client.request('GET', `/api/v1/exports/${id}/file`);
    expect(late.statusCode).toBe(409);
    const [erased] = await w.t.driver.transaction((tx) =>
      tx.query<{ file: Buffer | null }>('SELECT file FROM export_requests WHERE id = $1', [id]),
    );
    expect(erased?.file).toBeNull();
  });

  it('each export’s rows come in their own keyed order (the watermark)', async () => {
    await relogin(counselor);
    const a = await approved(['agencyId']);
    const b = await approved(['agencyId']);
    expect((await produce(a)).statusCode).toBe(200);
    expect((await produce(b)).statusCode).toBe(200);
    const rowsOf = async (id: string) =>
      (await open((await counselor.client.request('GET', `/api/v1/exports/${id}/file`)).rawPayload))
        .slice(1)
        .map((r) => r[0]);
    const [ra, rb] = [await rowsOf(a), await rowsOf(b)];
    const shared = ra.filter((x) => rb.includes(x));
    expect(shared.length).toBe(inScope.length);
    expect(shared).not.toEqual(rb.filter((x) => ra.includes(x)));
  });

  it('a large export outside the organisation’s working hours is refused and stays approved; in working hours it is made', async () => {
    await relogin(counselor);
    const id = await approved(['lastName']);
    // 21:30 in Paris on a weekday (the clock runs in UTC; March is UTC+1).
    const now = w.clock.now();
    const evening = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 20, 30);
    w.clock.advance(evening + (evening <= now.getTime() ? DAY : 0) - now.getTime());
    await relogin(counselor);
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', weekday: 'short' }).format(
      w.clock.now(),
    );
    if (local === 'Sat' || local === 'Sun') w.clock.advance(2 * DAY);
    await relogin(counselor);
    const refused = await produce(id);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json().reason).toBe('export_off_hours');
    const [event] = await w.t.driver.transaction((tx) =>
      tx.query<{ reason: string }>('SELECT reason FROM audit_events WHERE request_id = $1', [
        requestId(refused),
      ]),
    );
    expect(event?.reason).toBe('export_off_hours');
    // The next morning at 10:00 in Paris.
    w.clock.advance(12 * HOUR);
    await relogin(counselor);
    const made = await produce(id);
    expect(made.statusCode, made.body).toBe(200);
  });

  it('cells that a spreadsheet would run as formulas are made inert', () => {
    const csv = exportCsv(['lastName', 'firstNames'], [['=HYPERLINK("http://x")', '+33 6']]);
    expect(csv).toBe('lastName,firstNames\n"\'=HYPERLINK(""http://x"")",\'+33 6\n');
  });

  // Last: a real retention run archives the population's long-deregistered persons.
  it('the daily retention run erases the files of expired exports (a dry run counts them); the export stays traceable', async () => {
    const id = await approved(['lastName']);
    const made = await produce(id);
    expect(made.statusCode, made.body).toBe(200);
    const fileOf = async () => {
      const [row] = await w.t.driver.transaction((tx) =>
        tx.query<{ file: Buffer | null; canaries: number }>(
          `SELECT file, (SELECT count(*)::int FROM export_canaries c WHERE c.export_id = r.id) AS canaries
           FROM export_requests r WHERE id = $1`,
          [id],
        ),
      );
      return row!;
    };
    const run = (dryRun: boolean) =>
      runRetention(w.t.db, {
        asOf: w.clock.now().toISOString().slice(0, 10),
        periods: DEFAULT_PERIODS,
        dryRun,
        trigger: 'cli',
        at: w.clock.now(),
      });
    // Not yet expired: nothing to erase.
    expect((await run(false))?.exportFilesErased).toBe(0);
    expect((await fileOf()).file).not.toBeNull();
    w.clock.advance(7 * DAY + MINUTE);
    // This export and those of the tests before it, made the same week.
    const due = (await run(true))?.exportFilesErased ?? 0;
    expect(due).toBeGreaterThanOrEqual(1);
    expect((await fileOf()).file).not.toBeNull();
    expect((await run(false))?.exportFilesErased).toBe(due);
    const [left] = await w.t.driver.transaction((tx) =>
      tx.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM export_requests WHERE file IS NOT NULL AND expires_at <= $1',
        [w.clock.now()],
      ),
    );
    expect(left?.n).toBe(0);
    const after = await fileOf();
    expect(after.file).toBeNull();
    // The canaries stay: a leaked copy of the file still names this export.
    expect(after.canaries).toBeGreaterThan(0);
  });
});
