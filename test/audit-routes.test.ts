/**
 * The audit log through the API: a person's access history (DPO, security officers), and the proofs
 * (checkpoint, consistency, inclusion) checked with the RFC 6962 verifiers, for whoever may read the
 * event and nobody else.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openNote } from '../src/audit/checkpoint.ts';
import { verifyConsistency, verifyInclusion } from '../src/audit/merkle.ts';
import { sequenceBatch, signCheckpointNow } from '../src/audit/sequencer.ts';
import { engine } from './helpers/db.ts';
import { LENIENT_GUARD } from './helpers/guard.ts';
import { type RegistryWorld, registryWorld } from './helpers/registry.ts';
import type { StaffClient } from './helpers/staff.ts';

const JUSTIFICATION = 'Demande d’accès reçue par courrier recommandé le 20 novembre';

describe(`audit routes (${engine})`, () => {
  let w: RegistryWorld;
  let counselor: StaffClient;
  let counselorId: string;
  let dpo: StaffClient;
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

  beforeAll(async () => {
    w = await registryWorld(60, { guard: LENIENT_GUARD });
    const c = await w.staff('counselor', w.agency);
    counselor = c.client;
    counselorId = c.account.id;
    dpo = (await w.staff('dpo', w.national)).client;
  }, 120_000);
  afterAll(async () => {
    await w.close();
  });

  it('the DPO reads who accessed a person: organisation, role, purpose, fields; the reading itself is on record', async () => {
    const person = w.persons.find((p) => p.agencyOrganisationId === w.agency)!;
    const view = await counselor.request('GET', `/api/v1/persons/${person.id}?purpose=payment`);
    expect(view.statusCode).toBe(200);
    const response = await dpo.request('POST', `/api/v1/persons/${person.id}/access-history`, {
      purpose: 'data_subject_request',
      justification: JUSTIFICATION,
    });
    expect(response.statusCode).toBe(200);
    const { id, accessHistory } = response.json();
    expect(id).toBe(person.id);
    expect(accessHistory[0]).toMatchObject({
      action: 'person.access_history',
      role: 'dpo',
      fields: ['accessHistory'],
    });
    const read = accessHistory.find((e: { action: string }) => e.action === 'person.view');
    expect(read).toMatchObject({
      accountId: counselorId,
      organisationId: w.agency,
      role: 'counselor',
      purpose: 'payment',
    });
    expect(read.fields).toEqual([...view.json().fields].sort());
    expect(read.organisationName).toEqual(expect.any(String));
  });

  it('counselors and partners cannot read an access history', async () => {
    const person = w.persons.find((p) => p.agencyOrganisationId === w.agency)!;
    const response = await counselor.request('POST', `/api/v1/persons/${person.id}/access-history`, {
      purpose: 'accompaniment',
      justification: JUSTIFICATION,
    });
    expect(response.statusCode).toBe(403);
  });

  it('serves the signed checkpoint, and inclusion and consistency proofs that verify against it', async () => {
    const person = w.persons.find((p) => p.agencyOrganisationId === w.agency)!;
    await sequence();
    const first = (await counselor.request('GET', '/api/v1/audit/checkpoint')).json();
    const view = await counselor.request('GET', `/api/v1/persons/${person.id}?purpose=accompaniment`);
    await sequence();
    const checkpoint = await counselor.request('GET', '/api/v1/audit/checkpoint');
    expect(checkpoint.statusCode).toBe(200);
    const latest = checkpoint.json();
    expect(latest.treeSize).toBeGreaterThan(first.treeSize);
    expect(openNote(latest.note, [w.keys.checkpointSigner.verifierKey]).verifiedBy).toHaveLength(1);

    const consistency = (
      await counselor.request('GET', `/api/v1/audit/consistency?from=${first.treeSize}&to=${latest.treeSize}`)
    ).json();
    const hex = (h: string): Buffer => Buffer.from(h, 'hex');
    expect(
      verifyConsistency(
        first.treeSize,
        latest.treeSize,
        hex(first.rootHash),
        hex(latest.rootHash),
        consistency.proof.map(hex),
      ),
    ).toBe(true);

    // The counselor's own read: its event id, through the RLS of its own events.
    const [event] = await w.t.driver.transaction((tx) =>
      tx.query<{ id: string }>('SELECT id::text AS id FROM audit_events WHERE request_id = $1', [
        String(view.headers['x-request-id']),
      ]),
    );
    const inclusion = await counselor.request('GET', `/api/v1/audit/events/${event!.id}/inclusion`);
    expect(inclusion.statusCode).toBe(200);
    const proof = inclusion.json();
    expect(proof.treeSize).toBe(latest.treeSize);
    expect(
      verifyInclusion(
        hex(proof.leafHash),
        proof.leafIndex,
        proof.treeSize,
        proof.proof.map(hex),
        hex(latest.rootHash),
      ),
    ).toBe(true);
    // Another agent's event is not theirs to prove: 404, as for an unknown event.
    const partner = (await w.staff('partner_counselor', w.partner)).client;
    expect((await partner.request('GET', `/api/v1/audit/events/${event!.id}/inclusion`)).statusCode).toBe(
      404,
    );
    expect((await dpo.request('GET', `/api/v1/audit/events/${event!.id}/inclusion`)).statusCode).toBe(200);
  });
});
