/**
 * The person's portal (docs/PORTAL.md), through its HTTP API on a real database: the email code
 * login without enumeration, the person actor's row-level security, the history's proofs checked
 * independently (leaf hash, RFC 6962 inclusion, the checkpoint's Ed25519 signature), the access
 * receipts and "I don't recognise this", and the attacks of the issue: ids swapped, codes replayed,
 * sessions mixed, staff and person cookies crossed.
 */

import { createHash, randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../src/audit/append.ts';
import { openNote, parseCheckpoint } from '../src/audit/checkpoint.ts';
import { canonicalV2Text } from '../src/audit/leaf.ts';
import { leafHash, verifyInclusion } from '../src/audit/merkle.ts';
import { sequenceBatch, signCheckpointNow } from '../src/audit/sequencer.ts';
import { systemCtx } from '../src/context.ts';
import { withNewNoticeKey } from '../src/crypto/keyring.ts';
import { noticeVerifierKeys, verifyNotice } from '../src/crypto/notice-signing.ts';
import type { Account } from '../src/identity/accounts.ts';
import { SESSION_COOKIE } from '../src/identity/sessions.ts';
import type { Mail } from '../src/notify/mailer.ts';
import { parseNoticeText } from '../src/notify/notice-parse.ts';
import { createNoticesPage } from '../src/notify/notices-create.ts';
import { processReceipts } from '../src/portal/receipts.ts';
import { PERSON_SESSION_COOKIE } from '../src/portal/sessions.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { caseloadOf, type KnownPerson, type RegistryWorld, registryWorld } from './helpers/registry.ts';
import type { StaffClient } from './helpers/staff.ts';

/** A browser of the portal: keeps its cookie and CSRF token. */
class PersonClient {
  cookie: string | undefined;
  csrf: string | undefined;
  readonly w: RegistryWorld;
  constructor(w: RegistryWorld) {
    this.w = w;
  }
  async request(method: 'GET' | 'POST', url: string, body?: unknown, csrf?: string | null) {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = `${PERSON_SESSION_COOKIE}=${this.cookie}`;
    const token = csrf === undefined ? this.csrf : csrf;
    if (method !== 'GET' && token) headers['x-csrf-token'] = token;
    const response = await this.w.app.inject({
      method,
      url,
      headers,
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    const set = response.cookies.find((c) => c.name === PERSON_SESSION_COOKIE);
    if (set) this.cookie = set.value === '' ? undefined : set.value;
    if (response.headers['content-type']?.toString().includes('json')) {
      const json = response.json();
      if (typeof json.csrfToken === 'string') this.csrf = json.csrfToken;
    }
    return response;
  }
}

describe(`the person's portal (${engine})`, () => {
  let w: RegistryWorld;
  let me: KnownPerson;
  let other: KnownPerson;
  let agencyCounselor: StaffClient;
  let agencyAccount: Account;
  let partnerCounselor: StaffClient;
  let officer: StaffClient;
  const sent = (): Mail[] => (w.mailer as unknown as { sent: Mail[] }).sent;
  const sequence = async (): Promise<void> => {
    const options = {
      signer: w.keys.checkpointSigner,
      clock: w.clock,
      checkpointEvents: 1000,
      checkpointSeconds: 60,
    };
    while ((await sequenceBatch(w.t.db, options)).sequenced > 0);
    await signCheckpointNow(w.t.db, options);
  };
  const codeFor = async (email: string): Promise<string> => {
    await w.drainMail();
    const mail = sent()
      .filter((m) => m.to === email && /connexion/.test(m.subject))
      .at(-1);
    const code = /connexion à votre espace Rempart : (\d{4}) (\d{4})/.exec(mail?.text ?? '');
    if (!code) throw new Error('no login code mailed');
    return `${code[1]}${code[2]}`;
  };
  const login = async (person: KnownPerson): Promise<PersonClient> => {
    const client = new PersonClient(w);
    const started = await client.request('POST', '/api/v1/portal/login/start', {
      email: person.identity.email,
    });
    const code = await codeFor(person.identity.email!);
    const verified = await client.request('POST', '/api/v1/portal/login/verify', {
      challenge: started.json().challenge,
      code,
    });
    if (verified.statusCode !== 200) throw new Error(`login failed: ${verified.body}`);
    return client;
  };

  beforeAll(async () => {
    w = await registryWorld(60, { guard: LENIENT_GUARD });
    const inPartner = caseloadOf(w, w.partner).filter(
      (p) => p.identity.email && p.agencyOrganisationId === w.agency,
    );
    const candidates =
      inPartner.length > 0 ? inPartner : caseloadOf(w, w.partner).filter((p) => p.identity.email);
    me = candidates[0]!;
    other = w.persons.find((p) => p.id !== me.id && p.identity.email)!;
    ({ client: agencyCounselor, account: agencyAccount } = await w.staff(
      'counselor',
      me.agencyOrganisationId,
    ));
    partnerCounselor = (await w.staff('partner_counselor', w.partner)).client;
    officer = (await w.staff('security_officer', w.national)).client;
  }, 120_000);
  afterAll(async () => w?.close());

  it('logs in with a code mailed to the address on file, once; the code does not replay', async () => {
    const client = new PersonClient(w);
    const started = await client.request('POST', '/api/v1/portal/login/start', {
      email: me.identity.email!.toUpperCase(),
    });
    expect(started.statusCode).toBe(202);
    const code = await codeFor(me.identity.email!);
    const mail = sent()
      .filter((m) => m.to === me.identity.email)
      .at(-1)!;
    expect(mail.text).toMatch(/[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}/); // its verification code (T6)
    const body = { challenge: started.json().challenge, code };
    const ok = await client.request('POST', '/api/v1/portal/login/verify', body);
    expect(ok.statusCode).toBe(200);
    const session = await client.request('GET', '/api/v1/portal/me');
    expect(session.json()).toMatchObject({ personId: me.id, method: 'email_code' });
    // The same code again, from another browser: refused.
    const replay = await new PersonClient(w).request('POST', '/api/v1/portal/login/verify', body);
    expect(replay.statusCode).toBe(401);
    expect(replay.cookies.find((c) => c.name === PERSON_SESSION_COOKIE)).toBeUndefined();
  });

  it('answers alike, in shape and time, for an address on file and one that is not', async () => {
    const client = new PersonClient(w);
    const time = async (email: string): Promise<{ ms: number; r: LightMyRequestResponse }> => {
      const t0 = performance.now();
      const r = await client.request('POST', '/api/v1/portal/login/start', { email });
      return { ms: performance.now() - t0, r };
    };
    const known = await time(other.identity.email!);
    const unknown = await time('personne.inconnue@example.org');
    expect(unknown.r.statusCode).toBe(known.r.statusCode);
    expect(Object.keys(unknown.r.json()).sort()).toEqual(Object.keys(known.r.json()).sort());
    expect(unknown.r.json().challenge).toHaveLength(known.r.json().challenge.length);
    // Both wait for the same floor, whatever work the known address took.
    expect(known.ms).toBeGreaterThanOrEqual(395);
    expect(unknown.ms).toBeGreaterThanOrEqual(395);
    // The unknown address's challenge opens nothing, whatever the code.
    const tried = await client.request('POST', '/api/v1/portal/login/verify', {
      challenge: unknown.r.json().challenge,
      code: '12345678',
    });
    expect(tried.statusCode).toBe(401);
    expect(tried.json().code).toBe('login_failed');
  });

  it('throttles code requests per address typed, known or not, and kills a challenge after five wrong codes', async () => {
    const client = new PersonClient(w);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await client.request('POST', '/api/v1/portal/login/start', { email: 'absent@example.org' }))
          .statusCode,
      );
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    const started = await client.request('POST', '/api/v1/portal/login/start', {
      email: other.identity.email,
    });
    const code = await codeFor(other.identity.email!);
    const wrong = code === '00000000' ? '00000001' : '00000000';
    for (let i = 0; i < 5; i++) {
      await client.request('POST', '/api/v1/portal/login/verify', {
        challenge: started.json().challenge,
        code: wrong,
      });
    }
    const right = await client.request('POST', '/api/v1/portal/login/verify', {
      challenge: started.json().challenge,
      code,
    });
    expect(right.statusCode).toBe(401);
  });

  it('shows my data only, decrypted, and records it as my own access (GDPR art. 15)', async () => {
    const client = await login(me);
    const data = await client.request('GET', '/api/v1/portal/data');
    expect(data.statusCode).toBe(200);
    expect(data.json().id).toBe(me.id);
    expect(data.json().identity.nir).toBe(me.identity.nir);
    const [event] = await w.t.driver.transaction((tx) =>
      tx.query<{ actor_kind: string; account_id: string | null; person_id: string }>(
        `SELECT e.actor_kind, e.account_id, l.person_id FROM audit_events e JOIN audit_event_persons l ON l.event_id = e.id
         WHERE e.action = 'portal.my_data' ORDER BY e.id DESC LIMIT 1`,
      ),
    );
    expect(event).toEqual({ actor_kind: 'person', account_id: null, person_id: me.id });
  });

  it('refuses crossed cookies and mixed sessions: staff on portal routes, persons on staff routes', async () => {
    const mine = await login(me);
    const theirs = await login(other);
    // A staff session cookie on a portal route: not logged in.
    const staffOnPortal = await w.app.inject({
      method: 'GET',
      url: '/api/v1/portal/data',
      headers: { cookie: `${SESSION_COOKIE}=${agencyCounselor.cookie}` },
    });
    expect(staffOnPortal.statusCode).toBe(401);
    // A staff cookie's value under the portal's name: no such person session.
    const renamed = await w.app.inject({
      method: 'GET',
      url: '/api/v1/portal/data',
      headers: { cookie: `${PERSON_SESSION_COOKIE}=${agencyCounselor.cookie}` },
    });
    expect(renamed.statusCode).toBe(401);
    // A person's cookie on staff routes, under either name: not logged in.
    for (const name of [SESSION_COOKIE, PERSON_SESSION_COOKIE]) {
      for (const url of ['/api/v1/me', `/api/v1/persons/${me.id}?purpose=accompaniment`]) {
        const r = await w.app.inject({ method: 'GET', url, headers: { cookie: `${name}=${mine.cookie}` } });
        expect(r.statusCode).toBe(401);
      }
    }
    // My cookie with the other person's CSRF token: refused, nothing changed.
    const mixed = await mine.request(
      'POST',
      '/api/v1/portal/receipts/settings',
      { channel: 'portal' },
      theirs.csrf,
    );
    expect(mixed.statusCode).toBe(403);
    const none = await mine.request('POST', '/api/v1/portal/receipts/settings', { channel: 'portal' }, null);
    expect(none.statusCode).toBe(403);
    expect((await mine.request('GET', '/api/v1/portal/receipts/settings')).json().channel).toBeNull();
    // Each sees their own record, never the other's.
    expect((await theirs.request('GET', '/api/v1/portal/data')).json().id).toBe(other.id);
    // Logged out: the cookie opens nothing more.
    expect((await theirs.request('POST', '/api/v1/portal/logout')).statusCode).toBe(204);
    const after = await w.app.inject({
      method: 'GET',
      url: '/api/v1/portal/me',
      headers: { cookie: `${PERSON_SESSION_COOKIE}=${theirs.cookie ?? ''}` },
    });
    expect(after.statusCode).toBe(401);
  });

  it('the person transaction reaches its own rows only (row-level security)', async () => {
    const rows = await w.t.db.tx({ kind: 'person', personId: me.id }, async (tx) => ({
      persons: await tx.query<{ id: string }>('SELECT id FROM persons'),
      links: await tx.query<{ person_id: string }>('SELECT DISTINCT person_id FROM audit_event_persons'),
      sessions: await tx.query('SELECT 1 FROM person_sessions'),
      // Event salts open every commitment of an event's leaf: the system actor's only (migration 0021).
      salts: await tx.query('SELECT 1 FROM audit_event_salts'),
    }));
    expect(rows.salts).toEqual([]);
    expect(rows.persons.map((p) => p.id)).toEqual([me.id]);
    expect(rows.links.every((l) => l.person_id === me.id)).toBe(true);
    expect(rows.sessions).toEqual([]);
    // It cannot write an audit event in someone else's name.
    await expect(
      w.t.db.tx({ kind: 'person', personId: me.id }, (tx) =>
        tx.query(
          `INSERT INTO audit_event_persons (event_id, person_id, fields, occurred_at) VALUES (1, $1, '{x}', now())`,
          [other.id],
        ),
      ),
    ).rejects.toThrow();
  });

  it("shows a counselor's read in my history with a proof anyone can check against the signed checkpoint", async () => {
    const read = await agencyCounselor.request('GET', `/api/v1/persons/${me.id}?purpose=accompaniment`);
    expect(read.statusCode).toBe(200);
    // A search that returned two persons, with everything a staff event records.
    const actor = {
      kind: 'staff',
      accountId: agencyAccount.id,
      organisationId: agencyAccount.organisationId,
      role: agencyAccount.role,
    } as const;
    w.clock.advance(1000);
    await w.t.db.tx(actor, (tx) =>
      appendAudit(
        tx,
        {
          actor,
          sessionRef: 'feedfacecafebeef',
          requestId: 'req-two-persons',
          sourceAddress: '198.51.100.23',
          at: w.clock.now(),
        },
        {
          action: 'person.search',
          purpose: 'accompaniment',
          query: { by: 'nameBirth', cap: 20 },
          justification: 'Rendez-vous du mardi',
          decision: 'allow',
          resultCount: 2,
          persons: [
            { personId: me.id, fields: ['nir', 'lastName'] },
            { personId: other.id, fields: ['lastName', 'email'] },
          ],
        },
      ),
    );
    await sequence();
    const answer = async (person: KnownPerson) => {
      const response = await (await login(person)).request('GET', '/api/v1/portal/history');
      const history = response.json();
      const search = history.entries.find((e: { action: string }) => e.action === 'person.search');
      return { body: response.body, history, search };
    };
    const mine = await answer(me);
    // Nothing of the staff member's session, address, request or justification, nor of the other person.
    for (const secret of [
      agencyAccount.id,
      'feedfacecafebeef',
      'req-two-persons',
      '198.51.100.23',
      '127.0.0.1',
      'Rendez-vous',
      'nameBirth',
      other.id,
    ])
      expect(mine.body).not.toContain(secret);
    expect(JSON.stringify(mine.search)).not.toContain('email'); // the other person's field
    expect(mine.search).toMatchObject({
      leafFormat: 'rempart/audit-event/v2',
      organisationId: agencyAccount.organisationId,
      role: 'counselor',
      purpose: 'accompaniment',
      decision: 'allow',
      fields: ['lastName', 'nir'],
      staffName: null, // names hidden by default
    });
    expect(mine.search.commitments).toHaveLength(2); // how many persons, not who
    const view = mine.history.entries.find((e: { action: string }) => e.action === 'person.view');
    // Independent checks (server code, not the page's): the person's commitment, the leaf rebuilt
    // from the entry, the path to the root, the root's signature; a changed entry fails the proof.
    const opened = openNote(mine.history.checkpoint.note, [mine.history.checkpoint.verifierKey]);
    const checkpoint = parseCheckpoint(opened.body);
    const check = (entry: typeof view, personId: string): boolean => {
      const commitment = createHash('sha256')
        .update(Buffer.from(entry.personSalt, 'hex'))
        .update(JSON.stringify([personId, entry.fields]))
        .digest('hex');
      if (!entry.commitments.includes(commitment)) return false;
      const text = canonicalV2Text(
        { ...entry, occurredAt: entry.at },
        entry.privateDigest,
        entry.commitments,
      );
      const hashes = entry.proof.hashes.map((h: string) => Buffer.from(h, 'hex'));
      return verifyInclusion(
        leafHash(Buffer.from(text)),
        entry.proof.leafIndex,
        checkpoint.size,
        hashes,
        checkpoint.rootHash,
      );
    };
    for (const entry of [view, mine.search]) {
      expect(entry.proof.treeSize).toBe(checkpoint.size);
      expect(check(entry, me.id)).toBe(true);
      expect(check({ ...entry, purpose: 'payment' }, me.id)).toBe(false);
      expect(check({ ...entry, organisationId: w.partner }, me.id)).toBe(false);
    }
    // The other person sees the same event with their own opening only.
    const theirs = await answer(other);
    expect(theirs.body).not.toContain(me.id);
    expect(theirs.search.fields).toEqual(['email', 'lastName']);
    expect(theirs.search.personSalt).not.toBe(mine.search.personSalt);
    expect(theirs.search.commitments).toEqual(mine.search.commitments);
    expect(check(theirs.search, other.id)).toBe(true);
    expect(check(mine.search, other.id)).toBe(false);
  });

  it("sends a receipt for a partner's read (not my agency's), and \"I don't recognise this\" alerts the security officers", async () => {
    const client = await login(me);
    const set = await client.request('POST', '/api/v1/portal/receipts/settings', { channel: 'email' });
    expect(set.json()).toEqual({ channel: 'email' });
    w.clock.advance(1000);
    expect(
      (await agencyCounselor.request('GET', `/api/v1/persons/${me.id}?purpose=accompaniment`)).statusCode,
    ).toBe(200);
    expect(
      (await partnerCounselor.request('GET', `/api/v1/persons/${me.id}?purpose=accompaniment`)).statusCode,
    ).toBe(200);
    await sequence();
    const written = await processReceipts(w.t.db, w.keys.registry, w.clock.now(), 'http://localhost');
    expect(written).toBe(1);
    // A rerun writes nothing twice.
    expect(await processReceipts(w.t.db, w.keys.registry, w.clock.now(), 'http://localhost')).toBe(0);
    await w.drainMail();
    const mail = sent().filter((m) => m.to === me.identity.email && /consulté/.test(m.subject));
    expect(mail).toHaveLength(1);
    expect(mail[0]!.text).not.toContain(me.identity.nir);
    const receipts = (await client.request('GET', '/api/v1/portal/receipts')).json().receipts;
    expect(receipts).toHaveLength(1);
    expect(receipts[0].role).toBe('partner_counselor');
    // Another person cannot report my receipt (nor learn it exists).
    const intruder = await login(other);
    const swapped = await intruder.request('POST', `/api/v1/portal/receipts/${receipts[0].id}/disown`);
    expect(swapped.statusCode).toBe(404);
    const reported = await client.request('POST', `/api/v1/portal/receipts/${receipts[0].id}/disown`);
    expect(reported.statusCode).toBe(200);
    const alerts = (await officer.request('GET', '/api/v1/guard/alerts')).json().alerts;
    const alert = alerts.find((a: { response: string }) => a.response === 'person_report');
    expect(alert).toBeDefined();
    expect(alert.role).toBe('partner_counselor');
    const again = await client.request('POST', `/api/v1/portal/receipts/${receipts[0].id}/disown`);
    expect(again.statusCode).toBe(200);
    const count = (await officer.request('GET', '/api/v1/guard/alerts'))
      .json()
      .alerts.filter((a: { response: string }) => a.response === 'person_report');
    expect(count).toHaveLength(1);
  });

  it('keeps the session of a person whose record is archived meanwhile: the right of access outlives the registration', async () => {
    w.clock.advance(16 * 60_000); // past the login throttle's window: \`other\` logged in above
    const client = await login(other);
    // Archived as retention does it (src/retention/run.ts): the search indexes leave the record.
    const [before] = await w.t.driver.transaction((tx) =>
      tx.query<{ status: string; a: Buffer; n: Buffer; nb: Buffer; bnb: Buffer | null }>(
        `SELECT status, agency_id_bi AS a, nir_bi AS n, name_birth_bi AS nb, birth_name_birth_bi AS bnb
         FROM persons WHERE id = $1`,
        [other.id],
      ),
    );
    const archive = (status: string) =>
      w.t.driver.transaction((tx) =>
        status === 'archived'
          ? tx.query(
              `UPDATE persons SET status = 'archived', agency_id_bi = NULL, nir_bi = NULL, name_birth_bi = NULL,
                 birth_name_birth_bi = NULL WHERE id = $1`,
              [other.id],
            )
          : tx.query(
              `UPDATE persons SET status = $2, agency_id_bi = $3, nir_bi = $4, name_birth_bi = $5,
                 birth_name_birth_bi = $6 WHERE id = $1`,
              [other.id, status, before!.a, before!.n, before!.nb, before!.bnb],
            ),
      );
    await archive('archived');
    try {
      expect((await client.request('GET', '/api/v1/portal/me')).statusCode).toBe(200);
      const data = await client.request('GET', '/api/v1/portal/data');
      expect(data.statusCode).toBe(200);
      expect(data.json().id).toBe(other.id);
    } finally {
      await archive(before!.status);
    }
  });

  it('shows the incidents that concern me with exactly my fields, and my notices to download and verify; none to others', async () => {
    w.clock.advance(16 * 60_000); // past the login throttle's window: these persons logged in often
    const system = systemCtx('test').actor;
    const account = (await w.staff('security_officer', w.national)).account;
    await w.t.db.tx(system, async (tx) => {
      const [incident] = await tx.query<{ id: string }>(
        `INSERT INTO incidents (id, opened_at, opened_by, kind, accounts, window_from, window_to, scope, detected_at)
         VALUES (gen_random_uuid(), $1, $2, 'compromised_account', ARRAY[$2]::uuid[], $1, $1, '{}', $1) RETURNING id`,
        [w.clock.now(), account.id],
      );
      await tx.query(
        `INSERT INTO incident_persons (incident_id, person_id, fields, first_at, last_at, events)
         VALUES ($1, $2, '{email,lastName}', $3, $3, 1)`,
        [incident!.id, me.id, w.clock.now()],
      );
    });
    const mine = (await (await login(me)).request('GET', '/api/v1/portal/incidents')).json().incidents;
    expect(mine).toHaveLength(1);
    expect(mine[0].fields).toEqual(['email', 'lastName']);
    const theirs = (await (await login(other)).request('GET', '/api/v1/portal/incidents')).json().incidents;
    expect(theirs).toEqual([]);

    // My notice of that incident (the sending job's creation, as `rempart notify send` does it).
    const noticeKeys = withNewNoticeKey(undefined);
    await w.t.db.tx(system, (tx) =>
      createNoticesPage(
        tx,
        { registry: w.keys.registry, noticeKeys, publicUrl: 'http://localhost' },
        { id: mine[0].id, detectedAt: w.clock.now() },
        null,
        10,
        w.clock.now(),
      ),
    );
    const client = await login(me);
    const listed = (await client.request('GET', '/api/v1/portal/notices')).json().notices;
    expect(listed).toEqual([
      expect.objectContaining({ incidentId: mine[0].id, channel: 'email', fields: ['email', 'lastName'] }),
    ]);
    const download = await client.request('GET', `/api/v1/portal/notices/${listed[0].id}`);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(download.headers['content-disposition']).toBe(`attachment; filename="avis-${listed[0].id}.txt"`);
    expect(verifyNotice(download.body, noticeVerifierKeys(noticeKeys)).genuine).toBe(true);
    expect(parseNoticeText(download.body).fields).toEqual(['email', 'lastName']);
    // Another person: no notice listed, and my notice's id answers exactly as an unknown id.
    const intruder = await login(other);
    expect((await intruder.request('GET', '/api/v1/portal/notices')).json().notices).toEqual([]);
    const swapped = await intruder.request('GET', `/api/v1/portal/notices/${listed[0].id}`);
    const unknown = await intruder.request('GET', `/api/v1/portal/notices/${randomUUID()}`);
    expect(swapped.statusCode).toBe(404);
    const problem = (r: LightMyRequestResponse) => ({ ...r.json(), requestId: undefined });
    expect(problem(swapped)).toEqual(problem(unknown));
    // A staff session opens neither route; no session neither.
    for (const url of ['/api/v1/portal/notices', `/api/v1/portal/notices/${listed[0].id}`]) {
      for (const cookie of [
        `${SESSION_COOKIE}=${agencyCounselor.cookie}`,
        `${PERSON_SESSION_COOKIE}=${agencyCounselor.cookie}`,
        '',
      ]) {
        const r = await w.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
        expect(r.statusCode).toBe(401);
      }
    }
  });
});

describe(`the email index of records written before the portal (${engine})`, () => {
  it('is filled by indexEmails, after which the address logs in', async () => {
    const w = await registryWorld(40, { guard: LENIENT_GUARD });
    try {
      const person = w.persons.find((p) => p.identity.email)!;
      await w.t.driver.transaction((tx) => tx.query('UPDATE persons SET email_bi = NULL'));
      const { indexEmails } = await import('../src/portal/index-emails.ts');
      const indexed = await indexEmails(w.t.db, w.keys.registry);
      expect(indexed).toBe(w.persons.filter((p) => p.identity.email).length);
      expect(await indexEmails(w.t.db, w.keys.registry)).toBe(0);
      const client = new PersonClient(w);
      const started = await client.request('POST', '/api/v1/portal/login/start', {
        email: person.identity.email,
      });
      expect(started.statusCode).toBe(202);
      await w.drainMail();
      const sentTo = (w.mailer as unknown as { sent: Mail[] }).sent.filter(
        (m) => m.to === person.identity.email,
      );
      expect(sentTo).toHaveLength(1);
    } finally {
      await w.close();
    }
  }, 60_000);
});
