import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { breachScope } from '../src/audit/scope.ts';
import { systemCtx } from '../src/context.ts';
import { openIncident } from '../src/incidents/incidents.ts';
import { registerMessage } from '../src/notify/codes.ts';
import { engine } from './helpers/db.ts';
import { type RegistryWorld, registryWorld } from './helpers/registry.ts';

describe(`the notices table (${engine})`, () => {
  let w: RegistryWorld;
  let incident: string;
  beforeAll(async () => {
    w = await registryWorld(60);
    const officer = await w.account({ role: 'security_officer', organisationId: w.national });
    incident = await w.t.db.tx(systemCtx('test').actor, async (tx) =>
      openIncident(tx, {
        openedAt: w.clock.now(),
        openedBy: officer.id,
        kind: 'compromised_account',
        scope: await breachScope(tx, {
          accounts: [officer.id],
          from: new Date(w.clock.now().getTime() - 3_600_000),
          to: w.clock.now(),
        }),
        note: null,
      }),
    );
  });
  afterAll(async () => {
    await w?.close();
  });

  const insert = (personId: string) =>
    w.t.db.tx(systemCtx('test').actor, async (tx) => {
      const message = await registerMessage(
        tx,
        { kind: 'incident_notice', channel: 'email', at: w.clock.now(), personId, incidentId: incident },
        (code) => `Code : ${code}\n`,
      );
      await tx.query(
        `INSERT INTO notices (id, incident_id, person_id, message_id, channel, signed_text_enc, created_at)
         VALUES ($1, $2, $3, $4, 'email', $5, $6)`,
        [randomUUID(), incident, personId, message.id, Buffer.from('x'), w.clock.now()],
      );
    });

  it('holds at most one notice per person and incident, whatever a rerun tries', async () => {
    const person = w.persons[0]?.id as string;
    await insert(person);
    await expect(insert(person)).rejects.toThrow(/unique|duplicate/i);
    const rows = await w.t.db.tx(systemCtx('test').actor, (tx) =>
      tx.query<{ n: number }>('SELECT count(*)::int AS n FROM notices WHERE person_id = $1', [person]),
    );
    expect(rows[0]?.n).toBe(1);
  });
});
