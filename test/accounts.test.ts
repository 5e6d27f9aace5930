/** Account administration: suspension ends sessions at once; nobody acts on their own account or outside their reach. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '../src/identity/accounts.ts';
import { engine } from './helpers/db.ts';
import { enrolled, StaffClient, type StaffWorld, staffWorld } from './helpers/staff.ts';

describe(`account administration on ${engine}`, () => {
  let world: StaffWorld;
  let agent: Account;
  let agentClient: StaffClient;
  let officer: StaffClient;
  let officerAccount: Account;
  let manager: StaffClient;
  let foreignManager: StaffClient;

  beforeAll(async () => {
    world = await staffWorld();
    const partner = await world.organisation({ kind: 'cap_emploi' });
    const other = await world.organisation({ kind: 'mission_locale' });
    const national = await world.organisation({ kind: 'national' });
    agent = await world.account({ organisationId: partner, role: 'partner_counselor' });
    agentClient = (await enrolled(world, agent)).client;
    officerAccount = await world.account({ organisationId: national, role: 'security_officer' });
    officer = (await enrolled(world, officerAccount)).client;
    manager = (await enrolled(world, await world.account({ organisationId: partner, role: 'org_manager' })))
      .client;
    foreignManager = (
      await enrolled(world, await world.account({ organisationId: other, role: 'org_manager' }))
    ).client;
  });
  afterAll(async () => {
    await world.close();
  });

  it('a security officer suspends an account: its sessions end at once and it cannot log in until reinstated', async () => {
    expect((await agentClient.request('GET', '/api/v1/me')).statusCode).toBe(200);
    expect((await officer.request('POST', `/api/v1/accounts/${agent.id}/suspend`)).json()).toEqual({
      status: 'suspended',
    });
    expect((await agentClient.request('GET', '/api/v1/me')).statusCode).toBe(401);
    expect((await new StaffClient(world.app).login(agent.login)).json().code).toBe('login_failed');
    expect((await officer.request('POST', `/api/v1/accounts/${agent.id}/reinstate`)).json()).toEqual({
      status: 'active',
    });
    expect((await new StaffClient(world.app).login(agent.login)).statusCode).toBe(200);
  });

  it('only the right people act, never on themselves, never outside their organisation', async () => {
    const colleague = (
      await enrolled(
        world,
        await world.account({ organisationId: agent.organisationId, role: 'partner_counselor' }),
      )
    ).client;
    for (const [client, url] of [
      [foreignManager, `/api/v1/accounts/${agent.id}/disable`],
      [manager, `/api/v1/accounts/${agent.id}/suspend`],
      [colleague, `/api/v1/accounts/${agent.id}/disable`],
      [officer, `/api/v1/accounts/${officerAccount.id}/suspend`],
    ] as const) {
      const response = await client.request('POST', url);
      expect(response.statusCode, url).toBe(404);
    }
    const listed = (await foreignManager.request('GET', '/api/v1/accounts')).json().accounts as {
      id: string;
    }[];
    expect(listed.map((a) => a.id)).not.toContain(agent.id);
    expect((await colleague.request('GET', '/api/v1/accounts')).json().code).toBe('forbidden');
    expect((await manager.request('POST', `/api/v1/accounts/${agent.id}/disable`)).json()).toEqual({
      status: 'disabled',
    });
    expect((await new StaffClient(world.app).login(agent.login)).json().code).toBe('login_failed');
  });
});
